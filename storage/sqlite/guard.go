package sqlite

import (
	"context"
	"fmt"
)

// LockPerson implements mandates.GuardStore. SQLite's write transactions
// are serial already (one writer, BEGIN IMMEDIATE), so holding the person
// is reading it in the write transaction: it still says ErrNotFound for an
// unknown person.
func (s *Store) LockPerson(ctx context.Context, personID string) error {
	return s.write(ctx, func(q querier) error {
		var one int
		if err := q.QueryRowContext(ctx, `SELECT 1 FROM persons WHERE id = ?`, personID).Scan(&one); err != nil {
			return fmt.Errorf("lock person %s: %w", personID, mapErr(err, "person"))
		}
		return nil
	})
}

// SecondFactorEnrolled implements mandates.GuardStore: a confirmed second
// factor (a first code given).
func (s *Store) SecondFactorEnrolled(ctx context.Context, personID string) (bool, error) {
	var n int
	err := s.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FROM totp_secrets WHERE person_id = ? AND confirmed_at IS NOT NULL`,
		personID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("second factor of %s: %w", personID, mapErr(err, "totp"))
	}
	return n > 0, nil
}
