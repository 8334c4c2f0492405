package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

var (
	_ authn.ConsentStore = (*Store)(nil)
	_ authn.AttemptStore = (*Store)(nil)
)

// Consent implements authn.ConsentStore.
func (s *Store) Consent(ctx context.Context, personID, clientID string) (authn.Consent, error) {
	c := authn.Consent{PersonID: personID, ClientID: clientID}
	var scopes string
	var granted int64
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT scopes, granted_at FROM consents WHERE person_id = ? AND client_id = ?`,
		personID, clientID).Scan(&scopes, &granted)
	if err != nil {
		return c, fmt.Errorf("consent: %w", mapErr(err, "consent"))
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return c, fmt.Errorf("consent: stored scopes %q: %w", scopes, err)
	}
	c.GrantedAt = fromMS(granted)
	return c, nil
}

// SaveConsent implements authn.ConsentStore.
func (s *Store) SaveConsent(ctx context.Context, c authn.Consent) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO consents (person_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (person_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
			c.PersonID, c.ClientID, jsonList(c.Scopes), ms(c.GrantedAt))
		if err != nil {
			return fmt.Errorf("save consent: %w", mapErr(err, "consent"))
		}
		return nil
	})
}

// DeleteConsent implements authn.ConsentStore.
func (s *Store) DeleteConsent(ctx context.Context, personID, clientID string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM consents WHERE person_id = ? AND client_id = ?`, personID, clientID)
		if err != nil {
			return fmt.Errorf("delete consent: %w", mapErr(err, "consent"))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete consent: %w", mandates.ErrNotFound)
		}
		return nil
	})
}

// ReserveAttempt implements authn.AttemptStore. Each key is one upsert
// whose WHERE refuses to go past the limit, so concurrent reservations
// never count more than Max; all keys are counted in one transaction, and
// those already counted are taken back when a later key is at its limit.
func (s *Store) ReserveAttempt(ctx context.Context, window time.Time, limits ...authn.AttemptLimit) (bool, error) {
	ok := true
	err := s.write(ctx, func(q querier) error {
		var counted []string
		for _, l := range authn.SortedLimits(limits) {
			var n int
			err := q.QueryRowContext(ctx, `INSERT INTO login_attempts (key, window_start, failures) VALUES (?, ?, 1)
				ON CONFLICT (key, window_start) DO UPDATE SET failures = failures + 1 WHERE failures < ? RETURNING failures`,
				l.Key, ms(window), l.Max).Scan(&n)
			if errors.Is(err, sql.ErrNoRows) {
				ok = false
				break
			}
			if err != nil {
				return fmt.Errorf("reserve a login attempt: %w", mapErr(err, "attempt"))
			}
			counted = append(counted, l.Key)
		}
		if ok {
			return nil
		}
		for _, key := range counted {
			if err := releaseAttempt(ctx, q, key, window); err != nil {
				return err
			}
		}
		return nil
	})
	return ok && err == nil, err
}

// ReleaseAttempt implements authn.AttemptStore.
func (s *Store) ReleaseAttempt(ctx context.Context, key string, window time.Time) error {
	return s.write(ctx, func(q querier) error { return releaseAttempt(ctx, q, key, window) })
}

func releaseAttempt(ctx context.Context, q querier, key string, window time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE login_attempts SET failures = failures - 1 WHERE key = ? AND window_start = ? AND failures > 0`,
		key, ms(window))
	if err != nil {
		return fmt.Errorf("release a login attempt: %w", mapErr(err, "attempt"))
	}
	return nil
}

// Failures implements authn.AttemptStore.
func (s *Store) Failures(ctx context.Context, key string, window time.Time) (int, error) {
	var n int
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT failures FROM login_attempts WHERE key = ? AND window_start = ?`, key, ms(window)).Scan(&n)
	if err := mapErr(err, "attempt"); err != nil && !errors.Is(err, mandates.ErrNotFound) {
		return 0, fmt.Errorf("read failed logins: %w", err)
	}
	return n, nil
}

// ClearFailures implements authn.AttemptStore.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `DELETE FROM login_attempts WHERE key = ?`, key); err != nil {
			return fmt.Errorf("clear failed logins: %w", mapErr(err, "attempt"))
		}
		return nil
	})
}
