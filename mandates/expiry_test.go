package mandates

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

// expiryStore is the part of a store RecordExpiries uses, in memory: a
// transaction is undone when its fn fails. Every other method of Store is
// nil and panics if called.
type expiryStore struct {
	Store
	reps     map[string]Representation
	recorded map[string]bool
	listed   []Representation // what ExpiriesDue returns, when not nil
	limit    int              // the limit ExpiriesDue was last asked for
	fail     map[string]error // RecordExpiry fails for these ids
	calls    int              // RecordExpiry calls
}

func (f *expiryStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	reps, recorded := maps.Clone(f.reps), maps.Clone(f.recorded)
	if err := fn(ctx); err != nil {
		f.reps, f.recorded = reps, recorded
		return err
	}
	return nil
}

func (f *expiryStore) ExpiriesDue(_ context.Context, now time.Time, limit int) ([]Representation, error) {
	f.limit = limit
	if f.listed != nil {
		return f.listed, nil
	}
	var out []Representation
	for _, r := range f.reps {
		if (r.Status == StatusActive || r.Status == StatusSuspended) && !r.ValidUntil.After(now) && !f.recorded[r.ID] {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Representation) int { return a.ValidUntil.Compare(b.ValidUntil) })
	return out[:min(limit, len(out))], nil
}

func (f *expiryStore) RecordExpiry(_ context.Context, id string, version int64, c Change) (Representation, error) {
	f.calls++
	if err := f.fail[id]; err != nil {
		return Representation{}, err
	}
	r, ok := f.reps[id]
	switch {
	case !ok:
		return r, ErrNotFound
	case r.Version != version || f.recorded[id]:
		return r, ErrConflict
	}
	c.Seq, c.From, c.To = int64(len(r.History))+1, r.Status, r.Status
	r.History = append(slices.Clone(r.History), c)
	r.Version++
	f.reps[id], f.recorded[id] = r, true
	return r, nil
}

type expirySink struct {
	events []Event
	fail   error
}

func (s *expirySink) Emit(_ context.Context, e Event) error {
	if s.fail != nil {
		return s.fail
	}
	s.events = append(s.events, e)
	return nil
}

var expiryNow = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// expiring is an aidant mandate with status and end date until.
func expiring(status Status, until time.Time) Representation {
	id := NewID(until)
	return Representation{ID: id, Kind: AidantMandate, PersonID: NewID(until), Representative: Representative{OrganisationID: NewID(until)},
		Role: RoleAidant, Areas: []Area{"papiers", "social"}, ValidFrom: until.AddDate(-1, 0, 0), ValidUntil: until, Status: status,
		History: []Change{{Seq: 1, Type: EventCreated, To: status}}, Version: 1}
}

func newExpiryService(reps ...Representation) (*Service, *expiryStore, *expirySink) {
	st := &expiryStore{reps: map[string]Representation{}, recorded: map[string]bool{}, fail: map[string]error{}}
	for _, r := range reps {
		st.reps[r.ID] = r
	}
	sink := &expirySink{}
	return NewService(st, sink, ServiceConfig{Now: func() time.Time { return expiryNow }}), st, sink
}

func TestRecordExpiries(t *testing.T) {
	active := expiring(StatusActive, expiryNow.Add(-time.Hour+time.Millisecond))
	suspended := expiring(StatusSuspended, expiryNow)
	svc, st, sink := newExpiryService(active, suspended, expiring(StatusActive, expiryNow.Add(time.Millisecond)),
		expiring(StatusRevoked, expiryNow.Add(-time.Hour)))
	n, err := svc.RecordExpiries(t.Context(), 10)
	if err != nil || n != 2 {
		t.Fatalf("recorded %d, %v; want the active and the suspended ones", n, err)
	}
	if len(sink.events) != 2 {
		t.Fatalf("events %+v", sink.events)
	}
	for i, want := range []Representation{active, suspended} {
		e := sink.events[i]
		if e.Type != EventExpired || e.ActorID != "" || e.OrganisationID != "" || e.PersonID != want.PersonID ||
			e.RepresentationID != want.ID || !slices.Equal(e.Areas, want.Areas) || !e.At.Equal(expiryNow) {
			t.Errorf("event %d: %+v", i, e)
		}
		until, err := time.Parse(time.RFC3339, e.Detail["valid_until"])
		if err != nil || !until.Equal(want.ValidUntil) || len(e.Detail) != 1 {
			t.Errorf("event %d detail %v: want valid_until %s", i, e.Detail, want.ValidUntil.Format(time.RFC3339Nano))
		}
		got := st.reps[want.ID]
		last := got.History[len(got.History)-1]
		if got.Status != want.Status || last.Type != EventExpired || last.ActorID != "" || last.Seq != 2 {
			t.Errorf("stored %s with history %+v", got.Status, got.History)
		}
	}
	if n, err := svc.RecordExpiries(t.Context(), 10); err != nil || n != 0 || len(sink.events) != 2 {
		t.Errorf("second run recorded %d, %v (%d events)", n, err, len(sink.events))
	}
}

func TestRecordExpiriesSkipsAndFailures(t *testing.T) {
	boom := errors.New("disk full")
	tests := []struct {
		name     string
		set      func(st *expiryStore, sink *expirySink, a, b Representation)
		recorded int
		err      error
		events   int
	}{
		{"a representation recorded meanwhile by another instance is skipped, silently",
			func(st *expiryStore, _ *expirySink, a, b Representation) {
				st.listed = []Representation{a, b}
				st.recorded[a.ID] = true
			}, 1, nil, 1},
		{"a representation changed since it was listed is left to the next run",
			func(st *expiryStore, _ *expirySink, a, b Representation) {
				st.listed = []Representation{a, b}
				a.Version++
				st.reps[a.ID] = a
			}, 1, nil, 1},
		{"one that fails does not stop the others, and the failure is reported",
			func(st *expiryStore, _ *expirySink, a, _ Representation) { st.fail[a.ID] = boom }, 1, boom, 1},
		{"an event that cannot be recorded leaves the expiry unrecorded",
			func(_ *expiryStore, sink *expirySink, _, _ Representation) { sink.fail = boom }, 0, boom, 0},
		{"a store that lists what is not due records nothing",
			func(st *expiryStore, _ *expirySink, _, _ Representation) {
				st.listed = []Representation{expiring(StatusActive, expiryNow.Add(time.Second)),
					expiring(StatusPendingConsent, expiryNow.Add(-time.Hour)), expiring(StatusRevoked, expiryNow.Add(-time.Hour))}
			}, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := expiring(StatusActive, expiryNow.Add(-2*time.Hour)), expiring(StatusActive, expiryNow.Add(-time.Hour))
			svc, st, sink := newExpiryService(a, b)
			tt.set(st, sink, a, b)
			n, err := svc.RecordExpiries(t.Context(), 10)
			if n != tt.recorded || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("recorded %d, %v; want %d, %v", n, err, tt.recorded, tt.err)
			}
			if len(sink.events) != tt.events {
				t.Errorf("%d events, want %d", len(sink.events), tt.events)
			}
			var marked int
			for _, r := range []Representation{a, b} {
				if st.recorded[r.ID] && st.reps[r.ID].History[len(st.reps[r.ID].History)-1].Type == EventExpired {
					marked++
				}
			}
			if sink.fail != nil && marked != 0 {
				t.Errorf("%d expiries marked although their events failed", marked)
			}
		})
	}
}

func TestRecordExpiriesLimit(t *testing.T) {
	svc, st, _ := newExpiryService(expiring(StatusActive, expiryNow.Add(-3*time.Hour)), expiring(StatusActive, expiryNow.Add(-2*time.Hour)),
		expiring(StatusActive, expiryNow.Add(-time.Hour)))
	if n, err := svc.RecordExpiries(t.Context(), 2); err != nil || n != 2 || st.limit != 2 {
		t.Errorf("limit 2: recorded %d, %v, asked the store for %d", n, err, st.limit)
	}
	if n, err := svc.RecordExpiries(t.Context(), 0); err != nil || n != 1 || st.limit != DefaultExpiryBatch {
		t.Errorf("no limit: recorded %d, %v, asked the store for %d", n, err, st.limit)
	}
}
