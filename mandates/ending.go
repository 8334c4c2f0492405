package mandates

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// EndingSoonWithin is how near the end of a representation in force must
// be for the person and the representative to be told it is coming
// (EventEndingSoon): 30 days.
const EndingSoonWithin = 30 * 24 * time.Hour

// EndingStore finds the representations in force whose end is near and
// records, once per end date, that it was announced. Like the record of
// an expiry, the mark is beside the representation: it changes neither
// its status, its version nor its history.
type EndingStore interface {
	// EndingsDue lists, at most limit, soonest end first, without
	// history, the representations in force as stored (active or
	// suspended) whose ValidUntil is after now and at most within after
	// it, that were set for longer than twice within (ValidUntil -
	// ValidFrom > 2 × within), and whose end is not the one last
	// announced.
	EndingsDue(ctx context.Context, now time.Time, within time.Duration, limit int) ([]Representation, error)
	// MarkEndingAnnounced, in the transaction in ctx or in its own,
	// records that the end validUntil of representation id was announced,
	// provided the representation is still in force as stored, still ends
	// at validUntil, and that end was not announced yet. Otherwise it
	// changes nothing and fails with ErrConflict (ErrNotFound for an
	// unknown id).
	MarkEndingAnnounced(ctx context.Context, id string, validUntil time.Time) error
}

// RecordEndingsSoon records in the journal, once per end date, that a
// representation in force (active or suspended as stored) ends within
// EndingSoonWithin of now: at most limit of them, soonest end first. Each
// is recorded in its own transaction with its event, by nobody (ActorID
// ""), so the notices the event causes are written with it.
//
// A representation set for twice EndingSoonWithin or less (a mandate or
// a proxy of a day or a month) is never announced: the notice of its
// creation, at most a month earlier, gave its end. An
// end moved to another date that is near is announced again, once; moved
// back to a date already announced, it is announced again too, since it
// is not the last one announced.
//
// Instances may run it at once: a representation another instance
// announced meanwhile, or whose end or status changed since it was
// listed, is skipped and not counted. It returns how many it recorded;
// when some fail otherwise, it goes on with the others and reports the
// first failure with the count.
func (s *Service) RecordEndingsSoon(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = DefaultExpiryBatch
	}
	now := s.now()
	due, err := s.store.EndingsDue(ctx, now, EndingSoonWithin, limit)
	if err != nil {
		return 0, fmt.Errorf("record endings soon: %w", err)
	}
	return recordEach(ctx, "record endings soon", due, func(r Representation) (bool, error) { return s.recordEnding(ctx, r, now) })
}

// EndingSoon says whether r is one RecordEndingsSoon announces at now: in
// force, ending within EndingSoonWithin, and set for longer than twice
// that.
func EndingSoon(r *Representation, now time.Time) bool {
	if r.Status != StatusActive && r.Status != StatusSuspended || r.ValidUntil.IsZero() {
		return false
	}
	if st := r.EffectiveStatus(now); st != StatusActive && st != StatusSuspended {
		return false
	}
	return r.ValidUntil.Sub(now) <= EndingSoonWithin && r.ValidUntil.Sub(r.ValidFrom) > 2*EndingSoonWithin
}

// EndsOn is the date an end falls on in France, as EventEndingSoon's
// ends_on gives it (YYYY-MM-DD).
func EndsOn(t time.Time) string { return t.In(france).Format(time.DateOnly) }

// france is the time zone of the dates people read; UTC when the system
// has no zone database.
var france = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Paris"); err == nil {
		return l
	}
	return time.UTC
}()

// recordEnding records one announcement with its event, in one
// transaction, and says whether it did: false when another writer got
// there first or the representation changed.
func (s *Service) recordEnding(ctx context.Context, r Representation, now time.Time) (bool, error) {
	// The store chose it; the rule is checked here all the same.
	if !EndingSoon(&r, now) {
		return false, nil
	}
	e := Event{Type: EventEndingSoon, At: now, PersonID: r.PersonID, RepresentationID: r.ID, Areas: r.Areas,
		Detail: detail("ends_on", EndsOn(r.ValidUntil))}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.MarkEndingAnnounced(ctx, r.ID, r.ValidUntil); err != nil {
			return err
		}
		return s.emit(ctx, e)
	})
	switch {
	case errors.Is(err, ErrConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("representation %s: %w", r.ID, err)
	}
	return true, nil
}
