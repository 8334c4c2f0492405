package storagetest

import (
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
	if _, err = w.svc.EditMeasure(t.Context(), w.op(), r.ID, r.Version,
		mandates.MeasureEdit{ValidUntil: r.ValidUntil.AddDate(1, 0, 0), Areas: r.Areas, Adjustments: r.Adjustments}); err != nil {
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
