package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/mandates"
)

var (
	_ mandates.EndingStore   = (*Store)(nil)
	_ mandates.FirstActStore = (*Store)(nil)
)

// EndingsDue implements mandates.EndingStore. It reads the index of the
// expiries due (expiryDue, word for word): a representation whose end is
// still to come has no expiry recorded.
func (s *Store) EndingsDue(ctx context.Context, now time.Time, within time.Duration, limit int) ([]mandates.Representation, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.listRepresentations(ctx, "endings due", `SELECT `+representationColumns+` FROM representations r
		WHERE `+expiryDue+` AND r.valid_until > ? AND r.valid_until <= ? AND r.valid_until - r.valid_from > ?
		AND r.ending_announced_until IS NOT r.valid_until
		ORDER BY r.valid_until, r.id LIMIT ?`, ms(now), ms(now.Add(within)), 2*within.Milliseconds(), limit)
}

// MarkEndingAnnounced implements mandates.EndingStore: the conditional
// update keeps two instances from both announcing one end.
func (s *Store) MarkEndingAnnounced(ctx context.Context, id string, validUntil time.Time) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE representations SET ending_announced_until = valid_until
			WHERE id = ? AND valid_until = ? AND status IN ('active', 'suspended')
			AND ending_announced_until IS NOT valid_until`, id, ms(validUntil))
		if err != nil {
			return fmt.Errorf("mark ending of representation %s: %w", id, mapErr(err, "representation"))
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var found bool
		if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM representations WHERE id = ?)`, id).Scan(&found); err != nil {
			return fmt.Errorf("mark ending of representation %s: %w", id, mapErr(err, "representation"))
		}
		if !found {
			return fmt.Errorf("mark ending of representation %s: %w", id, mandates.ErrNotFound)
		}
		return fmt.Errorf("mark ending of representation %s: %w: announced, ended or moved", id, mandates.ErrConflict)
	})
}

// RecordFirstAct implements mandates.FirstActStore. SQLite has one
// writer: the second transaction finds the row and inserts nothing.
func (s *Store) RecordFirstAct(ctx context.Context, a mandates.FirstAct) (bool, error) {
	var first bool
	err := s.write(ctx, func(q querier) error {
		var person string
		err := q.QueryRowContext(ctx, `INSERT INTO site_first_acts (person_id, actor_id, client_id, representation_id, first_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (person_id, actor_id, client_id) DO NOTHING RETURNING person_id`,
			a.PersonID, a.ActorID, a.ClientID, a.RepresentationID, ms(a.At)).Scan(&person)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return fmt.Errorf("record first act: %w", mapErr(err, "first act"))
		}
		first = true
		return nil
	})
	return first, err
}
