package sqlite

import (
	"context"
	"fmt"
)

// DeletePersonSessions ends every browser session of the person but keep
// (the browser that changed the password; "" for none) and says how many
// it ended: a new password logs out whoever else was in the account.
func (s *Store) DeletePersonSessions(ctx context.Context, personID, keep string) (int64, error) {
	var n int64
	err := s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `DELETE FROM browser_sessions WHERE person_id = ? AND id <> ?`, personID, keep)
		if err != nil {
			return fmt.Errorf("end the sessions of %s: %w", personID, mapErr(err, "session"))
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
