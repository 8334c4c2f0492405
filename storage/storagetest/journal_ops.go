package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

// The journal suite's operations for the changes the other operations
// leave out: a measure paused, resumed and corrected, an organisation
// naming its delegates, a proxy declined.

func testMeasureLifecycle(t *testing.T, w *world) {
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00042"))
	if err != nil {
		t.Fatal(err)
	}
	r := reps[0]
	if r, err = w.svc.Suspend(t.Context(), w.op(), r.ID, r.Version, "appel en cours"); err != nil {
		t.Fatal(err)
	}
	if r, err = w.svc.Resume(t.Context(), w.op(), r.ID, r.Version); err != nil {
		t.Fatal(err)
	}
	c := mandates.CorrectionOf(&r)
	c.ValidUntil, c.Reason = r.ValidUntil.AddDate(1, 0, 0), "jugement de prolongation"
	if _, err = w.svc.CorrectMeasure(t.Context(), w.op(), r.ID, r.Version, c); err != nil {
		t.Fatal(err)
	}
}

func testDelegatesAndDeclinedProxy(t *testing.T, w *world) {
	r := w.start(t)
	r, err := w.svc.ConfirmByLogin(t.Context(), w.sophie(), r.ID, w.jeanne)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SetDelegates(t.Context(), mandates.Actor{PersonID: w.admin}, r.ID, r.Version, []string{w.aidant}); err != nil {
		t.Fatal(err)
	}
	p, err := w.svc.GiveProxy(t.Context(), mandates.Actor{PersonID: w.fatima}, mandates.ProxyInput{HolderID: w.karim,
		Areas: []mandates.Area{"social"}, Granted: []mandates.Action{mandates.Consult}, Duration: mandates.OneMonth})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AnswerProxy(t.Context(), mandates.Actor{PersonID: w.karim}, p.ID, false); err != nil {
		t.Fatal(err)
	}
}

func testAreasAllowed(t *testing.T, w *world) {
	if _, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00043")); err != nil {
		t.Fatal(err)
	}
	r := w.start(t)
	// Under tutelle, the tutor gives the mandate for Jeanne.
	if _, err := w.svc.AnswerForPerson(t.Context(), mandates.Actor{PersonID: w.marie}, r.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	areas := func(a mandates.Actor) ([]mandates.Area, error) {
		t.Helper()
		return w.svc.AreasAllowed(t.Context(), a, mandates.Question{PersonID: w.jeanne, Action: mandates.Consult, At: w.now})
	}
	consult := func(actor string) []mandates.Area {
		t.Helper()
		got, err := areas(mandates.Actor{PersonID: actor, SecondFactor: true})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := consult(w.marie); len(got) != len(mandates.Areas) {
		t.Errorf("the tutor consults %v, want every area", got)
	}
	if got, err := areas(mandates.Actor{PersonID: w.marie}); err != nil || len(got) != len(mandates.Areas) {
		t.Errorf("the tutor without a second factor consults %v, %v: her own measure needs none", got, err)
	}
	if got := consult(w.aidant); len(got) != 2 || !slices.Contains(got, "social") || !slices.Contains(got, "papiers") {
		t.Errorf("the aidant consults %v, want social and papiers", got)
	}
	for _, a := range consult(w.aidant) {
		if want := w.decide(t, w.aidant, w.jeanne, mandates.Consult, a); want.Decision != mandates.Allowed {
			t.Errorf("AreasAllowed lists %s, Decide answers %s", a, want.Decision)
		}
	}
	// The organisation's mandate is used only from a session with the
	// second factor: enrolled is not enough (Sophie), nor is a session
	// that says so for someone who never enrolled (Nadia, the admin).
	for name, a := range map[string]mandates.Actor{"the aidant logged in with her password only": {PersonID: w.aidant},
		"the admin, never enrolled": {PersonID: w.admin, SecondFactor: true}, "the admin with her password": {PersonID: w.admin}} {
		if got, err := areas(a); !errors.Is(err, mandates.ErrSecondFactor) || len(got) != 0 {
			t.Errorf("%s consults %v, %v; want ErrSecondFactor", name, got, err)
		}
	}
	if got := consult(w.karim); len(got) != 0 {
		t.Errorf("a stranger consults %v", got)
	}
	if got, err := areas(mandates.Actor{PersonID: w.karim}); err != nil || len(got) != 0 {
		t.Errorf("a stranger with a password only consults %v, %v; want nothing, and no word of a second factor", got, err)
	}
}
