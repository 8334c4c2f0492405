package storagetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// mandateRequest is an aidant mandate waiting for consent, for a new person
// each time (one mandate between a person and an organisation at once).
func (w *world) mandateRequest(t *testing.T) mandates.Representation {
	t.Helper()
	p := newPerson("usager-" + mandates.NewID(w.now) + "@example.fr")
	if err := w.st.CreatePerson(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	r, err := w.svc.StartMandate(t.Context(), w.sophie(), mandates.MandateInput{OrganisationID: w.org, PersonID: p.ID,
		Areas: []mandates.Area{"social", "papiers"}, Duration: mandates.TwelveMonth})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// consented is an aidant mandate, for a new person, in force from now for a
// year.
func (w *world) consented(t *testing.T) mandates.Representation {
	t.Helper()
	r, err := w.svc.RecordInPersonConsent(t.Context(), w.sophie(), w.mandateRequest(t).ID, []byte("attestation"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// expiredEvents are the expiry events recorded so far.
func (w *world) expiredEvents() []mandates.Event {
	w.events.mu.Lock()
	defer w.events.mu.Unlock()
	var out []mandates.Event
	for _, e := range w.events.events {
		if e.Type == mandates.EventExpired {
			out = append(out, e)
		}
	}
	return out
}

func (w *world) recordExpiries(t *testing.T, want int) {
	t.Helper()
	n, err := w.svc.RecordExpiries(t.Context(), 0)
	if err != nil || n != want {
		t.Fatalf("at %s: recorded %d expiries, %v; want %d", w.now.Format(time.RFC3339Nano), n, err, want)
	}
}

// expiriesIn counts the expiry entries in a representation's history.
func (w *world) expiriesIn(t *testing.T, id string) []mandates.Change {
	t.Helper()
	r, err := w.st.Representation(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []mandates.Change
	for _, c := range r.History {
		if c.Type == mandates.EventExpired {
			out = append(out, c)
		}
	}
	return out
}

// validUntilOf reads an expiry's detail.
func validUntilOf(t *testing.T, detail map[string]string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, detail["valid_until"])
	if err != nil {
		t.Errorf("detail %v: valid_until is not RFC 3339: %v", detail, err)
	}
	return v
}

// testRecordExpiries: an aidant mandate and a paused measure whose end
// passed are recorded once each, by nobody; a withdrawn mandate, a request
// never consented to and a measure still running are not.
func testRecordExpiries(t *testing.T, w *world) {
	ctx := t.Context()
	mandate := w.consented(t)
	withdrawn := w.consented(t)
	if _, err := w.svc.Withdraw(ctx, mandates.Actor{PersonID: withdrawn.PersonID}, withdrawn.ID); err != nil {
		t.Fatal(err)
	}
	w.mandateRequest(t) // never consented to: its term lapses with the others
	tutelle, err := w.svc.RegisterMeasure(ctx, w.op(), w.tutelle(t, "RG 26/00101"))
	if err != nil {
		t.Fatal(err)
	}
	in := mandates.MeasureInput{Kind: mandates.CuratelleSimple, PersonID: w.fatima,
		Representatives: []mandates.RepresentativeInput{{PersonID: w.karim, Role: mandates.RoleCurateur}},
		ValidFrom:       w.now.AddDate(0, -6, 0), ValidUntil: mandate.ValidUntil.Add(-time.Hour),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: w.now.AddDate(0, -6, -10), Reference: "RG 26/00102"}}
	curatelle, err := w.svc.RegisterMeasure(ctx, w.op(), in)
	if err != nil {
		t.Fatal(err)
	}
	paused, err := w.svc.Suspend(ctx, w.op(), curatelle[0].ID, 0, "vérification")
	if err != nil {
		t.Fatal(err)
	}

	w.now = paused.ValidUntil.Add(-time.Millisecond)
	w.recordExpiries(t, 0)
	w.now = mandate.ValidUntil
	w.recordExpiries(t, 2)
	w.recordExpiries(t, 0)
	w.now = w.now.AddDate(0, 1, 0)
	w.recordExpiries(t, 0)

	got := w.expiredEvents()
	if len(got) != 2 {
		t.Fatalf("expiry events %+v, want the paused curatelle's and the mandate's", got)
	}
	for i, want := range []mandates.Representation{paused, mandate} {
		e := got[i]
		if e.RepresentationID != want.ID || e.PersonID != want.PersonID || e.ActorID != "" || e.OrganisationID != "" ||
			!slices.Equal(e.Areas, want.Areas) || !validUntilOf(t, e.Detail).Equal(want.ValidUntil) {
			t.Errorf("event %d: %+v, want one for %s ending %s", i, e, want.ID, want.ValidUntil)
		}
	}
	stored, err := w.st.Representation(ctx, mandate.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := stored.History[len(stored.History)-1]
	if stored.Status != mandates.StatusActive || stored.EffectiveStatus(w.now) != mandates.StatusExpired ||
		stored.Version != mandate.Version+1 || last.Type != mandates.EventExpired || last.ActorID != "" ||
		last.Seq != stored.Version || last.From != mandates.StatusActive || last.To != mandates.StatusActive {
		t.Errorf("stored %s (reads %s), version %d, last history entry %+v", stored.Status, stored.EffectiveStatus(w.now),
			stored.Version, last)
	}
	for _, id := range []string{withdrawn.ID, tutelle[0].ID} {
		if c := w.expiriesIn(t, id); len(c) != 0 {
			t.Errorf("representation %s: expiries %+v, want none", id, c)
		}
	}
	if c := w.expiriesIn(t, paused.ID); len(c) != 1 || c[0].From != mandates.StatusSuspended {
		t.Errorf("the paused curatelle's expiries: %+v", c)
	}

	// The tutelle ends years later, and is recorded then.
	w.now = tutelle[0].ValidUntil
	w.recordExpiries(t, 1)
}

// raceStore is a store where another instance records every expiry due
// between the moment the caller lists them and the moment it records
// them.
type raceStore struct {
	mandates.Store
	other *mandates.Service
}

func (s raceStore) ExpiriesDue(ctx context.Context, now time.Time, limit int) ([]mandates.Representation, error) {
	due, err := s.Store.ExpiriesDue(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	if _, err := s.other.RecordExpiries(ctx, limit); err != nil {
		return nil, err
	}
	return due, nil
}

func testRecordExpiriesLostRace(t *testing.T, w *world) {
	a, b := w.consented(t), w.consented(t)
	w.now = b.ValidUntil
	late := mandates.NewService(raceStore{w.st, w.svc}, w.events, mandates.ServiceConfig{Now: func() time.Time { return w.now }})
	n, err := late.RecordExpiries(t.Context(), 10)
	if err != nil || n != 0 {
		t.Errorf("the instance that lost the race: %d recorded, %v; want 0 and no error", n, err)
	}
	for _, r := range []mandates.Representation{a, b} {
		if c := w.expiriesIn(t, r.ID); len(c) != 1 {
			t.Errorf("representation %s: %d expiries recorded, want 1", r.ID, len(c))
		}
	}
	if e := w.expiredEvents(); len(e) != 2 {
		t.Errorf("%d expiry events, want 2", len(e))
	}
}

func testRecordExpiriesConcurrently(t *testing.T, w *world) {
	const mandatesN, instances = 5, 4
	var reps []mandates.Representation
	for range mandatesN {
		reps = append(reps, w.consented(t))
	}
	w.now = reps[len(reps)-1].ValidUntil
	var wg sync.WaitGroup
	start := make(chan struct{})
	counts := make([]int, instances)
	errs := make([]error, instances)
	for i := range instances {
		svc := mandates.NewService(w.st, w.events, mandates.ServiceConfig{Now: func() time.Time { return w.now }})
		wg.Go(func() {
			<-start
			counts[i], errs[i] = svc.RecordExpiries(t.Context(), 0)
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
		t.Errorf("instances recorded %v: %d in all, want %d", counts, total, mandatesN)
	}
	for _, r := range reps {
		if c := w.expiriesIn(t, r.ID); len(c) != 1 {
			t.Errorf("representation %s: %d expiries recorded, want 1", r.ID, len(c))
		}
	}
	if e := w.expiredEvents(); len(e) != mandatesN {
		t.Errorf("%d expiry events, want %d", len(e), mandatesN)
	}
}

// testExpiryAtNewEnd: an operator who moves a measure's end after its
// expiry was recorded makes a new expiry, recorded at the new end; other
// corrections do not.
func testExpiryAtNewEnd(t *testing.T, w *world) {
	ctx := t.Context()
	in := w.tutelle(t, "RG 26/00103")
	in.ValidUntil = w.now.AddDate(0, 1, 0)
	reps, err := w.svc.RegisterMeasure(ctx, w.op(), in)
	if err != nil {
		t.Fatal(err)
	}
	first := reps[0].ValidUntil
	w.now = first
	w.recordExpiries(t, 1)
	second := first.AddDate(0, 6, 0)
	moved := mandates.CorrectionOf(&reps[0])
	moved.ValidUntil, moved.Reason = second, "jugement de prolongation"
	if _, err := w.svc.CorrectMeasure(ctx, w.op(), reps[0].ID, 0, moved); err != nil {
		t.Fatal(err)
	}
	w.recordExpiries(t, 0)
	w.now = second
	w.recordExpiries(t, 1)
	moved.Areas, moved.Reason = []mandates.Area{"social"}, "domaine limité par le juge"
	if _, err := w.svc.CorrectMeasure(ctx, w.op(), reps[0].ID, 0, moved); err != nil {
		t.Fatal(err)
	}
	w.recordExpiries(t, 0)
	c := w.expiriesIn(t, reps[0].ID)
	if len(c) != 2 || !validUntilOf(t, c[0].Detail).Equal(first) || !validUntilOf(t, c[1].Detail).Equal(second) {
		t.Errorf("expiries %+v, want one at %s and one at %s", c, first, second)
	}
}

// testExpiryStore checks the store's side alone: what is due, in which
// order, and the conditional write.
func testExpiryStore(t *testing.T, w *world) {
	ctx := t.Context()
	early := w.consented(t)
	w.now = w.now.Add(time.Minute)
	late := w.consented(t)
	due := func(at time.Time, limit int) []string {
		t.Helper()
		reps, err := w.st.ExpiriesDue(ctx, at, limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range reps {
			if len(r.History) != 0 {
				t.Errorf("ExpiriesDue returned %s with its history", r.ID)
			}
			ids = append(ids, r.ID)
		}
		return ids
	}
	if got := due(early.ValidUntil.Add(-time.Millisecond), 10); len(got) != 0 {
		t.Errorf("due a millisecond before the first end: %v", got)
	}
	if got := due(early.ValidUntil, 10); !slices.Equal(got, []string{early.ID}) {
		t.Errorf("due at the first end: %v, want %s", got, early.ID)
	}
	if got := due(late.ValidUntil, 10); !slices.Equal(got, []string{early.ID, late.ID}) {
		t.Errorf("due at the second end: %v, want the soonest end first", got)
	}
	if got := due(late.ValidUntil, 1); !slices.Equal(got, []string{early.ID}) {
		t.Errorf("due, one at most: %v", got)
	}
	if got := due(late.ValidUntil, 0); len(got) != 0 {
		t.Errorf("due, none asked for: %v", got)
	}

	at := late.ValidUntil.Add(time.Second)
	c := mandates.Change{At: at, Type: mandates.EventExpired, Detail: map[string]string{"valid_until": "x"}}
	if _, err := w.st.RecordExpiry(ctx, early.ID, early.Version-1, c); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("recorded with a stale version: %v", err)
	}
	if _, err := w.st.RecordExpiry(ctx, mandates.NewID(w.now), 1, c); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("recorded an unknown representation: %v", err)
	}
	if r, _ := w.st.Representation(ctx, early.ID); r.Version != early.Version || len(r.History) != len(early.History) {
		t.Errorf("a refused record changed version %d to %d, history %d to %d", early.Version, r.Version,
			len(early.History), len(r.History))
	}
	r, err := w.st.RecordExpiry(ctx, early.ID, early.Version, c)
	if err != nil {
		t.Fatal(err)
	}
	last := r.History[len(r.History)-1]
	if r.Version != early.Version+1 || r.Status != mandates.StatusActive || last.Seq != r.Version || last.Type != mandates.EventExpired ||
		!last.At.Equal(at) || last.From != mandates.StatusActive || last.To != mandates.StatusActive || last.Detail["valid_until"] != "x" {
		t.Errorf("recorded: version %d, status %s, last history entry %+v", r.Version, r.Status, last)
	}
	if _, err := w.st.RecordExpiry(ctx, early.ID, r.Version, c); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("recorded twice: %v", err)
	}
	if got := due(at, 10); !slices.Equal(got, []string{late.ID}) {
		t.Errorf("due after recording the first: %v", got)
	}
}

// testJournalExpiry: the expiry lands once in the person's chain, as the
// last entry of the mandate's story, with its representation, areas and
// end date, though two instances record at once; the chain verifies.
func testJournalExpiry(t *testing.T, s JournalStore, _ SQL) {
	rec := &recorder{}
	sink := teeSink{journal.New(s, journal.Options{}), rec}
	w := newWorldWith(t, s, sink)
	m := w.consented(t)
	w.now = m.ValidUntil.Add(time.Minute)
	other := mandates.NewService(s, sink, mandates.ServiceConfig{Now: func() time.Time { return w.now }})
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i, svc := range []*mandates.Service{w.svc, other} {
		wg.Go(func() { counts[i], errs[i] = svc.RecordExpiries(t.Context(), 0) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || counts[0]+counts[1] != 1 {
		t.Fatalf("two instances recorded %v, %v", counts, errs)
	}
	chain := chainOf(t, s, m.PersonID)
	var expired []journal.Stored
	for _, e := range chain {
		if e.Type == mandates.EventExpired {
			expired = append(expired, e)
		}
	}
	if len(expired) != 1 {
		t.Fatalf("%d expiry entries in Jeanne's chain, want 1", len(expired))
	}
	e := expired[0]
	if e.Seq != chain[len(chain)-1].Seq || e.PersonID != m.PersonID || e.RepresentationID != m.ID || e.ActorID != "" ||
		e.OrganisationID != "" || e.ClientID != "" || !slices.Equal(e.Areas, m.Areas) || !e.At.Equal(w.now) {
		t.Errorf("entry %+v, want the last of the chain, for %s over %v at %s", e.Entry, m.ID, m.Areas, w.now)
	}
	if e.Detail == nil || len(e.Detail.Fields) != 1 || !validUntilOf(t, e.Detail.Fields).Equal(m.ValidUntil) {
		t.Errorf("detail %+v, want valid_until %s", e.Detail, m.ValidUntil)
	}
	keys, v := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := journal.Verify(t.Context(), s, v, ""); err != nil || !rep.OK() {
		t.Errorf("verify: %v, %v", rep.Failure, err)
	}
}
