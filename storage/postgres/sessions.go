package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
)

// CreateSession implements authn.SessionStore.
func (s *Store) CreateSession(ctx context.Context, b authn.BrowserSession) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO browser_sessions (id, person_id, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, b.ID, b.PersonID, b.AuthTime.UTC(), list(b.AMR), b.CreatedAt.UTC(), b.ExpiresAt.UTC(),
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
	err := s.q(ctx).QueryRow(ctx, `SELECT person_id::text, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token
		FROM browser_sessions WHERE id = $1 AND expires_at > $2`, id, now.UTC()).Scan(&b.PersonID, &b.AuthTime, &b.AMR, &b.CreatedAt, &b.ExpiresAt,
		&b.ACR, &b.Upstream, &b.UpstreamIDToken)
	if err != nil {
		return b, fmt.Errorf("session: %w", mapErr(err, "session"))
	}
	b.AuthTime, b.CreatedAt, b.ExpiresAt = b.AuthTime.UTC(), b.CreatedAt.UTC(), b.ExpiresAt.UTC()
	return b, nil
}

// DeleteSession implements authn.SessionStore; deleting an unknown session
// is not an error, as signing out twice is not one.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM browser_sessions WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete session: %w", mapErr(err, "session"))
		}
		return nil
	})
}

// RenewSession implements authn.SessionStore. A retry of a renewal whose
// COMMIT was reported failed but happened finds the new session there and
// succeeds (DESIGN.md §6: writes are safe to retry).
func (s *Store) RenewSession(ctx context.Context, oldID string, b authn.BrowserSession) error {
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM browser_sessions WHERE id = $1`, oldID)
		if err != nil {
			return fmt.Errorf("renew session: %w", mapErr(err, "session"))
		}
		if tag.RowsAffected() == 0 {
			var one int
			err := q.QueryRow(ctx, `SELECT 1 FROM browser_sessions WHERE id = $1 AND person_id = $2`, b.ID, b.PersonID).Scan(&one)
			if err != nil {
				return fmt.Errorf("renew session: %w", mapErr(err, "session"))
			}
			return nil // renewed already, by this request's first try
		}
		_, err = q.Exec(ctx, `INSERT INTO browser_sessions (id, person_id, auth_time, amr, created_at, expires_at, acr, upstream, upstream_id_token)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, b.ID, b.PersonID, b.AuthTime.UTC(), list(b.AMR), b.CreatedAt.UTC(), b.ExpiresAt.UTC(),
			b.ACR, b.Upstream, b.UpstreamIDToken)
		if err != nil {
			return fmt.Errorf("renew session: %w", mapErr(err, "session"))
		}
		return nil
	})
}
