package mandates

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultExpiryBatch is how many expiries RecordExpiries records when
// asked for no particular number.
const DefaultExpiryBatch = 500

// RecordExpiries records in the history and the journal, once each, the
// expiries of representations in force (active or suspended as stored)
// whose end date has passed at now: at most limit of them, soonest end
// first. Each is recorded in its own transaction with its event, by
// nobody (ActorID ""): the clock did it. Pending requests whose term
// passed (a mandate never consented to, a proxy never accepted) were never
// in force and are not recorded.
//
// Instances may run it at once: a representation another instance
// recorded meanwhile, or that someone changed since it was listed, is
// skipped and not counted (a change leaves it to the next run). It
// returns how many it recorded; when some fail otherwise, it goes on
// with the others and reports the first failure with the count.
//
// Readers never wait for it: EffectiveStatus turns the representation to
// expired the moment its end passes.
func (s *Service) RecordExpiries(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = DefaultExpiryBatch
	}
	now := s.now()
	due, err := s.store.ExpiriesDue(ctx, now, limit)
	if err != nil {
		return 0, fmt.Errorf("record expiries: %w", err)
	}
	return recordEach(ctx, "record expiries", due, func(r Representation) (bool, error) { return s.recordExpiry(ctx, r, now) })
}

// recordEach records each of due with record, each in its own
// transaction, and counts those recorded (record says false for one
// another writer got first). It goes on after a failure and reports the
// first with the count; it stops when ctx ends. what names the job in
// its errors.
func recordEach(ctx context.Context, what string, due []Representation, record func(Representation) (bool, error)) (int, error) {
	var recorded, failed int
	var first error
	for _, r := range due {
		if err := ctx.Err(); err != nil {
			return recorded, fmt.Errorf("%s: %w", what, err)
		}
		ok, err := record(r)
		switch {
		case err != nil:
			failed++
			if first == nil {
				first = err
			}
		case ok:
			recorded++
		}
	}
	if first != nil {
		return recorded, fmt.Errorf("%s: %d of %d failed: %w", what, failed, len(due), first)
	}
	return recorded, nil
}

// recordExpiry records one expiry with its event, in one transaction, and
// says whether it did: false when another writer got there first.
func (s *Service) recordExpiry(ctx context.Context, r Representation, now time.Time) (bool, error) {
	// The store chose it; the rule is checked here all the same, so a
	// store that lists too much records nothing wrong.
	if (r.Status != StatusActive && r.Status != StatusSuspended) || r.EffectiveStatus(now) != StatusExpired {
		return false, nil
	}
	c := Change{At: now, Type: EventExpired, Detail: detail("valid_until", r.ValidUntil.UTC().Format(time.RFC3339Nano))}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		stored, err := s.store.RecordExpiry(ctx, r.ID, r.Version, c)
		if err != nil {
			return err
		}
		last := c
		if n := len(stored.History); n > 0 {
			last = stored.History[n-1]
		}
		return s.emit(ctx, eventOf(&stored, last))
	})
	switch {
	case errors.Is(err, ErrConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("representation %s: %w", r.ID, err)
	}
	return true, nil
}
