package postgres

import (
	"context"
	"fmt"

	"github.com/relais-fr/relais/mandates"
)

// LockPerson implements mandates.GuardStore: the person's row is held (FOR
// UPDATE) until the transaction in ctx ends, so two requests that check
// then create something for one person (a mandate, an agreement asked)
// run one after the other. A row lock, not an advisory lock (DESIGN.md §6).
func (s *Store) LockPerson(ctx context.Context, personID string) error {
	if !mandates.IsID(personID) {
		return fmt.Errorf("lock person %q: %w", personID, mandates.ErrNotFound)
	}
	return s.write(ctx, func(q querier) error {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM persons WHERE id = $1 FOR UPDATE`, personID).Scan(&one); err != nil {
			return fmt.Errorf("lock person %s: %w", personID, mapErr(err, "person"))
		}
		return nil
	})
}

// SecondFactorEnrolled implements mandates.GuardStore: a confirmed second
// factor (a first code given).
func (s *Store) SecondFactorEnrolled(ctx context.Context, personID string) (bool, error) {
	if !mandates.IsID(personID) {
		return false, nil
	}
	var ok bool
	err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM totp_secrets WHERE person_id = $1 AND confirmed_at IS NOT NULL)`,
		personID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("second factor of %s: %w", personID, mapErr(err, "totp"))
	}
	return ok, nil
}
