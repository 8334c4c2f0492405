package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
)

// CreateSession implements authn.SessionStore.
func (s *Store) CreateSession(ctx context.Context, b authn.BrowserSession) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO browser_sessions (id, person_id, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.ID, b.PersonID, ms(b.AuthTime), jsonList(b.AMR), ms(b.CreatedAt), ms(b.ExpiresAt),
			b.ACR, b.Upstream, b.UpstreamIDToken)
		if err != nil {
			return fmt.Errorf("create session: %w", mapErr(err, "session"))
		}
		return nil
	})
}

// Session implements authn.SessionStore.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (authn.BrowserSession, error) {
	b := authn.BrowserSession{ID: id}
	var authTime, created, expires int64
	var amr string
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT person_id, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token
		FROM browser_sessions WHERE id = ? AND expires_at > ?`, id, ms(now)).Scan(&b.PersonID, &authTime, &amr, &created, &expires,
		&b.ACR, &b.Upstream, &b.UpstreamIDToken)
	if err != nil {
		return b, fmt.Errorf("session: %w", mapErr(err, "session"))
	}
	if err := json.Unmarshal([]byte(amr), &b.AMR); err != nil {
		return b, fmt.Errorf("session: stored amr %q: %w", amr, err)
	}
	b.AuthTime, b.CreatedAt, b.ExpiresAt = fromMS(authTime), fromMS(created), fromMS(expires)
	return b, nil
}

// DeleteSession implements authn.SessionStore; deleting an unknown session
// is not an error, as signing out twice is not one.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM browser_sessions WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete session: %w", mapErr(err, "session"))
		}
		return nil
	})
}

// RenewSession implements authn.SessionStore. A retry of a renewal that
// was written finds the new session there and succeeds.
func (s *Store) RenewSession(ctx context.Context, oldID string, b authn.BrowserSession) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM browser_sessions WHERE id = ?`, oldID)
		if err != nil {
			return fmt.Errorf("renew session: %w", mapErr(err, "session"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			err := q.QueryRowContext(ctx, `SELECT 1 FROM browser_sessions WHERE id = ? AND person_id = ?`, b.ID, b.PersonID).Scan(&one)
			if err != nil {
				return fmt.Errorf("renew session: %w", mapErr(err, "session"))
			}
			return nil // renewed already, by this request's first try
		}
		_, err = q.ExecContext(ctx, `INSERT INTO browser_sessions (id, person_id, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.ID, b.PersonID, ms(b.AuthTime), jsonList(b.AMR), ms(b.CreatedAt), ms(b.ExpiresAt),
			b.ACR, b.Upstream, b.UpstreamIDToken)
		if err != nil {
			return fmt.Errorf("renew session: %w", mapErr(err, "session"))
		}
		return nil
	})
}
