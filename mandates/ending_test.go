package mandates

import (
	"errors"
	"testing"
	"time"
)

// endingEvents are the EventEndingSoon events the world's store kept.
func endingEvents(st *memStore) []Event {
	var out []Event
	for _, e := range st.events {
		if e.Type == EventEndingSoon {
			out = append(out, e)
		}
	}
	return out
}

// TestRecordEndingsSoon: a tutelle set for a year is announced once when
// its end is 30 days away, by nobody, with its end's date; again once when
// an operator moves its end to another near date; a representation set
// for 60 days or less, a representation ended, and one whose end is further away are never.
func TestRecordEndingsSoon(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	tutor := w.person("Marie", "Martin")
	m := w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	end := m.ValidUntil
	// A measure set for 45 days: its registration gave its end.
	in := w.measureInput(Tutelle, w.person("Ahmed", "Benali"), tutor, RoleTuteur)
	in.ValidFrom, in.ValidUntil = w.clock, w.clock.AddDate(0, 0, 45)
	if _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); err != nil {
		t.Fatal(err)
	}
	run := func(want int) {
		t.Helper()
		if n, err := w.svc.RecordEndingsSoon(w.ctx, 0); n != want || err != nil {
			t.Fatalf("at %s: recorded %d, %v; want %d", w.clock, n, err, want)
		}
	}

	run(0) // a year away
	w.advance(20 * 24 * time.Hour)
	run(0) // the 45-day measure ends in 25 days, but is short
	w.clock = end.Add(-EndingSoonWithin - time.Minute)
	run(0) // just over 30 days
	w.clock = end.Add(-EndingSoonWithin)
	run(1)
	run(0)
	got := endingEvents(w.st)
	if len(got) != 1 || got[0].ActorID != "" || got[0].PersonID != w.jane || got[0].RepresentationID != m.ID ||
		got[0].Detail["ends_on"] != EndsOn(end) || !got[0].At.Equal(w.clock) {
		t.Fatalf("events %+v", got)
	}
	if stored := w.stored(m.ID); stored.Version != m.Version || len(stored.History) != len(m.History) {
		t.Errorf("the announcement changed the measure: version %d, %d changes", stored.Version, len(stored.History))
	}

	// An operator moves the end ten days earlier: announced again, once.
	c := CorrectionOf(&m)
	c.ValidUntil, c.Reason = end.AddDate(0, 0, -10), "erreur de saisie"
	if _, err := w.svc.CorrectMeasure(w.ctx, w.op, m.ID, 0, c); err != nil {
		t.Fatal(err)
	}
	run(1)
	run(0)
	if got := endingEvents(w.st); len(got) != 2 || got[1].Detail["ends_on"] != EndsOn(end.AddDate(0, 0, -10)) {
		t.Fatalf("events after the correction %+v", got)
	}
}

// TestRecordEndingsSoonInForceOnly: a suspended measure is announced, an
// ended one is not; a failed journal leaves the announcement to the next
// run; a listed representation another instance announced is skipped.
func TestRecordEndingsSoonInForceOnly(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	tutor := w.person("Marie", "Martin")
	paused := w.measure(CuratelleSimple, w.jane, tutor, RoleCurateur)
	if _, err := w.svc.Suspend(w.ctx, w.op, paused.ID, 0, "décision en appel"); err != nil {
		t.Fatal(err)
	}
	ended := w.measure(Tutelle, w.person("Ahmed", "Benali"), tutor, RoleTuteur)
	if _, err := w.svc.End(w.ctx, w.op, ended.ID, 0, "mainlevée"); err != nil {
		t.Fatal(err)
	}
	w.clock = paused.ValidUntil.Add(-time.Hour)

	failure := errors.New("journal down")
	w.st.failOn("Emit", failure)
	if n, err := w.svc.RecordEndingsSoon(w.ctx, 0); n != 0 || !errors.Is(err, failure) {
		t.Fatalf("with the journal down: %d, %v", n, err)
	}
	w.st.failOn("Emit", nil)
	if n, err := w.svc.RecordEndingsSoon(w.ctx, 0); n != 1 || err != nil {
		t.Fatalf("next run: %d, %v", n, err)
	}
	if got := endingEvents(w.st); len(got) != 1 || got[0].RepresentationID != paused.ID {
		t.Fatalf("events %+v, want the paused curatelle's alone", got)
	}

	// Listed before another instance marked it: skipped, not counted.
	r := w.stored(paused.ID)
	if ok, err := w.svc.recordEnding(w.ctx, r, w.clock); ok || err != nil {
		t.Errorf("a second announcement: %v, %v", ok, err)
	}
	if err := w.st.MarkEndingAnnounced(w.ctx, NewID(w.clock), r.ValidUntil); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown id: %v", err)
	}
}
