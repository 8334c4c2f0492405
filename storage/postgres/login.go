package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	if !mandates.IsID(personID) {
		return c, fmt.Errorf("consent: %w", mandates.ErrNotFound)
	}
	err := s.q(ctx).QueryRow(ctx, `SELECT scopes, granted_at FROM consents WHERE person_id = $1 AND client_id = $2`,
		personID, clientID).Scan(&c.Scopes, &c.GrantedAt)
	if err != nil {
		return c, fmt.Errorf("consent: %w", mapErr(err, "consent"))
	}
	c.GrantedAt = c.GrantedAt.UTC()
	return c, nil
}

// SaveConsent implements authn.ConsentStore.
func (s *Store) SaveConsent(ctx context.Context, c authn.Consent) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.Exec(ctx, `INSERT INTO consents (person_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (person_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
			c.PersonID, c.ClientID, list(c.Scopes), c.GrantedAt.UTC())
		if err != nil {
			return fmt.Errorf("save consent: %w", mapErr(err, "consent"))
		}
		return nil
	})
}

// DeleteConsent implements authn.ConsentStore.
func (s *Store) DeleteConsent(ctx context.Context, personID, clientID string) error {
	if !mandates.IsID(personID) {
		return fmt.Errorf("delete consent: %w", mandates.ErrNotFound)
	}
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM consents WHERE person_id = $1 AND client_id = $2`, personID, clientID)
		if err != nil {
			return fmt.Errorf("delete consent: %w", mapErr(err, "consent"))
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("delete consent: %w", mandates.ErrNotFound)
		}
		return nil
	})
}

// ReserveAttempt implements authn.AttemptStore. Each key is one upsert
// whose WHERE refuses to go past the limit: ON CONFLICT DO UPDATE locks the
// row and evaluates the WHERE on its latest version, so concurrent
// reservations never count more than Max. All keys are counted in one
// transaction, in key order so two reservations never wait on each other
// crosswise, and those already counted are taken back when a later key is
// at its limit.
func (s *Store) ReserveAttempt(ctx context.Context, window time.Time, limits ...authn.AttemptLimit) (bool, error) {
	ok := true
	err := s.write(ctx, func(q querier) error {
		ok = true // the transaction may run again
		var counted []string
		for _, l := range authn.SortedLimits(limits) {
			var n int
			err := q.QueryRow(ctx, `INSERT INTO login_attempts (key, window_start, failures) VALUES ($1, $2, 1)
				ON CONFLICT (key, window_start) DO UPDATE SET failures = login_attempts.failures + 1
				WHERE login_attempts.failures < $3 RETURNING failures`,
				l.Key, window.UTC(), l.Max).Scan(&n)
			if errors.Is(err, pgx.ErrNoRows) {
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
	_, err := q.Exec(ctx, `UPDATE login_attempts SET failures = failures - 1 WHERE key = $1 AND window_start = $2 AND failures > 0`,
		key, window.UTC())
	if err != nil {
		return fmt.Errorf("release a login attempt: %w", mapErr(err, "attempt"))
	}
	return nil
}

// Failures implements authn.AttemptStore.
func (s *Store) Failures(ctx context.Context, key string, window time.Time) (int, error) {
	var n int
	err := mapErr(s.q(ctx).QueryRow(ctx, `SELECT failures FROM login_attempts WHERE key = $1 AND window_start = $2`,
		key, window.UTC()).Scan(&n), "attempt")
	if err != nil && !errors.Is(err, mandates.ErrNotFound) {
		return 0, fmt.Errorf("read failed logins: %w", err)
	}
	return n, nil
}

// ClearFailures implements authn.AttemptStore.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	return s.write(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM login_attempts WHERE key = $1`, key); err != nil {
			return fmt.Errorf("clear failed logins: %w", mapErr(err, "attempt"))
		}
		return nil
	})
}
