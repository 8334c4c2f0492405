package mandates

import (
	"context"
	"fmt"
)

// NoticesAccess says whether a may see the notices Relais wrote about the
// person personID (to the person and to their representatives: dates,
// kinds, channels, statuses) and send one again: nil, ErrNotPermitted, or
// ErrNotFound for an unknown person.
//
// Operators only. A representative is not let in, although they act for
// the person: the list names every recipient and channel (the other
// representatives, an email address the person chose), and a
// representative already receives their own notices. The person reads
// what happened in their journal. An operator answers a call about a
// letter that did not arrive, so the operator sees and resends.
func (s *Service) NoticesAccess(ctx context.Context, a Actor, personID string) error {
	if err := s.requireOperator(ctx, a); err != nil {
		return err
	}
	if !IsID(personID) {
		return fmt.Errorf("notices of %q: %w", personID, ErrNotFound)
	}
	if _, err := s.store.Person(ctx, personID); err != nil {
		return fmt.Errorf("notices of %s: %w", personID, err)
	}
	return nil
}
