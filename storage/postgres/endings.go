package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	return s.representations(ctx, "endings due", `representations r WHERE `+expiryDue+`
		AND r.valid_until > $1 AND r.valid_until <= $2 AND r.valid_until - r.valid_from > $3::interval
		AND r.ending_announced_until IS DISTINCT FROM r.valid_until
		ORDER BY r.valid_until, r.id LIMIT $4`, now.UTC(), now.Add(within).UTC(), 2*within, limit)
}

// MarkEndingAnnounced implements mandates.EndingStore: the conditional
// update keeps two instances from both announcing one end; the second
// waits for the first's row lock, then finds the mark set.
func (s *Store) MarkEndingAnnounced(ctx context.Context, id string, validUntil time.Time) error {
	if !mandates.IsID(id) {
		return fmt.Errorf("mark ending of representation %q: %w", id, mandates.ErrNotFound)
	}
	return s.write(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `UPDATE representations SET ending_announced_until = valid_until
			WHERE id = $1 AND valid_until = $2 AND status IN ('active', 'suspended')
			AND ending_announced_until IS DISTINCT FROM valid_until`, id, validUntil.UTC())
		if err != nil {
			return fmt.Errorf("mark ending of representation %s: %w", id, mapErr(err, "representation"))
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var found bool
		if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM representations WHERE id = $1)`, id).Scan(&found); err != nil {
			return fmt.Errorf("mark ending of representation %s: %w", id, mapErr(err, "representation"))
		}
		if !found {
			return fmt.Errorf("mark ending of representation %s: %w", id, mandates.ErrNotFound)
		}
		return fmt.Errorf("mark ending of representation %s: %w: announced, ended or moved", id, mandates.ErrConflict)
	})
}

// RecordFirstAct implements mandates.FirstActStore. Of two transactions
// inserting the same key, the second waits for the first and, once it
// commits, inserts nothing.
func (s *Store) RecordFirstAct(ctx context.Context, a mandates.FirstAct) (bool, error) {
	if !mandates.IsID(a.PersonID) || !mandates.IsID(a.ActorID) {
		return false, fmt.Errorf("record first act: %w: person or actor is not an id", mandates.ErrInvalid)
	}
	var first bool
	err := s.write(ctx, func(q querier) error {
		var person string
		err := q.QueryRow(ctx, `INSERT INTO site_first_acts (person_id, actor_id, client_id, representation_id, first_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id, actor_id, client_id) DO NOTHING RETURNING person_id::text`,
			a.PersonID, a.ActorID, a.ClientID, a.RepresentationID, a.At.UTC()).Scan(&person)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return fmt.Errorf("record first act: %w", mapErr(err, "first act"))
		}
		first = true
		return nil
	})
	return first, err
}
