package mandates

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// EndingStore, as the stores do it: the end last announced beside each
// representation.

func (m *memStore) EndingsDue(_ context.Context, now time.Time, within time.Duration, limit int) ([]Representation, error) {
	if err := m.failed("EndingsDue"); err != nil {
		return nil, err
	}
	out := m.where(func(r *Representation) bool {
		return (r.Status == StatusActive || r.Status == StatusSuspended) && !r.ValidUntil.IsZero() &&
			r.ValidUntil.After(now) && !r.ValidUntil.After(now.Add(within)) && r.ValidUntil.Sub(r.ValidFrom) > 2*within &&
			!m.announced[r.ID].Equal(r.ValidUntil)
	})
	slices.SortFunc(out, func(a, b Representation) int { return a.ValidUntil.Compare(b.ValidUntil) })
	return out[:min(limit, len(out))], nil
}

func (m *memStore) MarkEndingAnnounced(_ context.Context, id string, validUntil time.Time) error {
	if err := m.failed("MarkEndingAnnounced"); err != nil {
		return err
	}
	r, ok := m.reps[id]
	switch {
	case !ok:
		return fmt.Errorf("mark ending %s: %w", id, ErrNotFound)
	case r.Status != StatusActive && r.Status != StatusSuspended, !r.ValidUntil.Equal(validUntil), m.announced[id].Equal(validUntil):
		return fmt.Errorf("mark ending %s: %w", id, ErrConflict)
	}
	m.announced[id] = validUntil
	return nil
}
