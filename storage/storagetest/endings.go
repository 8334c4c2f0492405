package storagetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// endingEvents are the representation.ending_soon events recorded so far.
func (w *world) endingEvents() []mandates.Event {
	w.events.mu.Lock()
	defer w.events.mu.Unlock()
	var out []mandates.Event
	for _, e := range w.events.events {
		if e.Type == mandates.EventEndingSoon {
			out = append(out, e)
		}
	}
	return out
}

func (w *world) recordEndings(t *testing.T, want int) {
	t.Helper()
	n, err := w.svc.RecordEndingsSoon(t.Context(), 0)
	if err != nil || n != want {
		t.Fatalf("at %s: announced %d endings, %v; want %d", w.now.Format(time.RFC3339Nano), n, err, want)
	}
}

// testRecordEndingsSoon: a mandate for a year is announced once, by
// nobody, 30 days before its end; a withdrawn one and a month's mandate
// never; a tutelle whose end an operator moves near is announced, and
// again once when the end moves to another near date. The announcement
// changes neither the version nor the history.
func testRecordEndingsSoon(t *testing.T, w *world) {
	ctx := t.Context()
	mandate := w.consented(t)
	withdrawn := w.consented(t)
	if _, err := w.svc.Withdraw(ctx, mandates.Actor{PersonID: withdrawn.PersonID}, withdrawn.ID); err != nil {
		t.Fatal(err)
	}
	reps, err := w.svc.RegisterMeasure(ctx, w.op(), w.tutelle(t, "RG 26/00201"))
	if err != nil {
		t.Fatal(err)
	}
	tutelle := reps[0]

	w.now = mandate.ValidUntil.Add(-mandates.EndingSoonWithin - time.Millisecond)
	w.recordEndings(t, 0)
	w.now = mandate.ValidUntil.Add(-mandates.EndingSoonWithin)
	w.recordEndings(t, 1)
	w.recordEndings(t, 0)
	got := w.endingEvents()
	if len(got) != 1 || got[0].RepresentationID != mandate.ID || got[0].PersonID != mandate.PersonID || got[0].ActorID != "" ||
		got[0].Detail["ends_on"] != mandates.EndsOn(mandate.ValidUntil) {
		t.Fatalf("ending events %+v, want the mandate's alone", got)
	}
	stored, err := w.st.Representation(ctx, mandate.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Version != mandate.Version || len(stored.History) != len(mandate.History) {
		t.Errorf("announced mandate: version %d with %d changes, want %d with %d", stored.Version, len(stored.History), mandate.Version, len(mandate.History))
	}

	// A mandate for a month: its creation gave its end.
	short, err := w.svc.StartMandate(ctx, w.sophie(), mandates.MandateInput{OrganisationID: w.org, PersonID: w.fatima,
		Areas: []mandates.Area{"social"}, Duration: mandates.OneMonth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.RecordInPersonConsent(ctx, w.sophie(), short.ID, []byte("attestation")); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(2 * 24 * time.Hour)
	w.recordEndings(t, 0)

	for i, end := range []time.Time{w.now.AddDate(0, 0, 20), w.now.AddDate(0, 0, 10)} {
		moved := mandates.CorrectionOf(&tutelle)
		moved.ValidUntil, moved.Reason = end, "jugement de mainlevée à venir"
		if tutelle, err = w.svc.CorrectMeasure(ctx, w.op(), tutelle.ID, 0, moved); err != nil {
			t.Fatal(err)
		}
		w.recordEndings(t, 1)
		w.recordEndings(t, 0)
		got := w.endingEvents()
		if e := got[len(got)-1]; len(got) != 2+i || e.RepresentationID != tutelle.ID || e.Detail["ends_on"] != mandates.EndsOn(end) {
			t.Fatalf("after the end moved to %s: ending events %+v", end, got)
		}
	}
}

// testEndingStore checks the store's side alone: what is due, and the
// conditional mark.
func testEndingStore(t *testing.T, w *world) {
	ctx := t.Context()
	early := w.consented(t)
	w.now = w.now.Add(time.Minute)
	late := w.consented(t)
	due := func(at time.Time, limit int) []string {
		t.Helper()
		reps, err := w.st.EndingsDue(ctx, at, mandates.EndingSoonWithin, limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range reps {
			ids = append(ids, r.ID)
		}
		return ids
	}
	near := late.ValidUntil.Add(-time.Hour)
	if got := due(near, 10); !slices.Equal(got, []string{early.ID, late.ID}) {
		t.Errorf("due an hour before the second end: %v, want both, soonest first", got)
	}
	if got := due(near, 1); !slices.Equal(got, []string{early.ID}) {
		t.Errorf("due, limit 1: %v", got)
	}
	if got := due(early.ValidUntil, 10); !slices.Equal(got, []string{late.ID}) {
		t.Errorf("due at the first end: %v, want the second alone (the first has ended)", got)
	}
	if err := w.st.MarkEndingAnnounced(ctx, early.ID, early.ValidUntil.Add(time.Millisecond)); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("marking another end: %v, want ErrConflict", err)
	}
	if err := w.st.MarkEndingAnnounced(ctx, early.ID, early.ValidUntil); err != nil {
		t.Fatal(err)
	}
	if err := w.st.MarkEndingAnnounced(ctx, early.ID, early.ValidUntil); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("marking it twice: %v, want ErrConflict", err)
	}
	if err := w.st.MarkEndingAnnounced(ctx, mandates.NewID(w.now), early.ValidUntil); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("an unknown id: %v, want ErrNotFound", err)
	}
	if got := due(near, 10); !slices.Equal(got, []string{late.ID}) {
		t.Errorf("due once the first is marked: %v", got)
	}
	// A mark in a transaction that fails is undone.
	failure := errors.New("later step failed")
	err := w.st.InTx(ctx, func(ctx context.Context) error {
		if err := w.st.MarkEndingAnnounced(ctx, late.ID, late.ValidUntil); err != nil {
			return err
		}
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatal(err)
	}
	if got := due(near, 10); !slices.Equal(got, []string{late.ID}) {
		t.Errorf("due after a rolled-back mark: %v, want the second still", got)
	}
}

// testRecordEndingsConcurrently: instances announcing at once announce
// each end once.
func testRecordEndingsConcurrently(t *testing.T, w *world) {
	const mandatesN, instances = 5, 4
	var reps []mandates.Representation
	for range mandatesN {
		reps = append(reps, w.consented(t))
	}
	w.now = reps[0].ValidUntil.Add(-time.Hour)
	var wg sync.WaitGroup
	start := make(chan struct{})
	counts := make([]int, instances)
	errs := make([]error, instances)
	for i := range instances {
		svc := mandates.NewService(w.st, w.events, mandates.ServiceConfig{Now: func() time.Time { return w.now }})
		wg.Go(func() {
			<-start
			counts[i], errs[i] = svc.RecordEndingsSoon(t.Context(), 0)
		})
	}
	close(start)
	wg.Wait()
	total := 0
	for i := range instances {
		if errs[i] != nil {
			t.Errorf("instance %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	if total != mandatesN {
		t.Errorf("instances announced %v: %d in all, want %d", counts, total, mandatesN)
	}
	seen := map[string]int{}
	for _, e := range w.endingEvents() {
		seen[e.RepresentationID]++
	}
	for _, r := range reps {
		if seen[r.ID] != 1 {
			t.Errorf("representation %s announced %d times, want once", r.ID, seen[r.ID])
		}
	}
}

// testFirstActs: a first act is recorded once per person, actor and site;
// another site or another actor is a first act again; a record in a
// transaction that fails is undone; of transactions recording the same
// first act at once, one records.
func testFirstActs(t *testing.T, w *world) {
	ctx := t.Context()
	act := mandates.FirstAct{PersonID: w.jeanne, ActorID: w.marie, ClientID: "caf", RepresentationID: mandates.NewID(w.now), At: w.now}
	record := func(a mandates.FirstAct, want bool) {
		t.Helper()
		if got, err := w.st.RecordFirstAct(ctx, a); got != want || err != nil {
			t.Errorf("RecordFirstAct(%s, %s, %s) = %v, %v; want %v", a.PersonID, a.ActorID, a.ClientID, got, err, want)
		}
	}
	failure := errors.New("the token could not be written")
	err := w.st.InTx(ctx, func(ctx context.Context) error {
		if first, err := w.st.RecordFirstAct(ctx, act); err != nil || !first {
			t.Errorf("in a transaction: %v, %v", first, err)
		}
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatal(err)
	}
	record(act, true)
	record(act, false)
	later := act
	later.At, later.RepresentationID = w.now.Add(time.Hour), mandates.NewID(w.now)
	record(later, false)
	other := act
	other.ClientID = "impots"
	record(other, true)
	other.ActorID = w.karim
	record(other, true)

	// At once, each in its own transaction.
	const racers = 6
	race := act
	race.ClientID = "ameli"
	var wg sync.WaitGroup
	start := make(chan struct{})
	firsts := make([]bool, racers)
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			<-start
			errs[i] = w.st.InTx(ctx, func(ctx context.Context) error {
				var err error
				firsts[i], err = w.st.RecordFirstAct(ctx, race)
				return err
			})
		})
	}
	close(start)
	wg.Wait()
	n := 0
	for i := range racers {
		if errs[i] != nil {
			t.Errorf("racer %d: %v", i, errs[i])
		}
		if firsts[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d racers recorded the first act, want 1", n)
	}
}
