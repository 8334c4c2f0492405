package accounts_test

import (
	"errors"
	"testing"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

func (w *world) enrol(personID string) {
	w.t.Helper()
	secret := []byte("sealed secret of " + personID)
	if err := w.st.StartTOTP(w.ctx, authn.TOTPEnrolment{PersonID: personID, Secret: secret, CreatedAt: w.clock}); err != nil {
		w.t.Fatal(err)
	}
	if err := w.st.ConfirmTOTP(w.ctx, personID, secret, 1, w.clock, [][]byte{[]byte("one recovery code hash")}); err != nil {
		w.t.Fatal(err)
	}
}

func TestAnOperatorRemovesALostSecondFactor(t *testing.T) {
	w := newWorld(t)
	sink := &notices.Notifier{Sink: w.events, Store: w.st, Reader: w.st}
	service := mandates.NewService(w.st, sink, mandates.ServiceConfig{})
	reset := accounts.NewSecondFactorReset(service, w.st, w.st, sink, nil)
	op := w.person("odile@example.fr")
	if err := w.st.GrantRole(w.ctx, op.ID, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	w.enrol(w.jeanne.ID)
	checked := mandates.IdentityCheck{Checked: true, Document: mandates.DocumentPassport}
	enrolled := func() bool {
		on, err := w.st.SecondFactorEnrolled(w.ctx, w.jeanne.ID)
		if err != nil {
			t.Fatal(err)
		}
		return on
	}

	// Refused: nothing removed, nothing journaled.
	for name, tt := range map[string]struct {
		a     mandates.Actor
		check mandates.IdentityCheck
		want  error
	}{
		"the operator without their second factor": {mandates.Actor{PersonID: op.ID}, checked, mandates.ErrSecondFactor},
		"someone who is not an operator":           {mandates.Actor{PersonID: w.jeanne.ID, SecondFactor: true}, checked, mandates.ErrNotPermitted},
		"no identity document checked":             {mandates.Actor{PersonID: op.ID, SecondFactor: true}, mandates.IdentityCheck{Document: mandates.DocumentIDCard}, mandates.ErrInvalid},
	} {
		if err := reset.Reset(w.ctx, tt.a, w.jeanne.ID, tt.check); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", name, err, tt.want)
		}
	}
	if !enrolled() || len(w.events.of(mandates.EventSecondFactorReset)) != 0 {
		t.Fatal("a refused reset removed or journaled something")
	}

	if err := reset.Reset(w.ctx, mandates.Actor{PersonID: op.ID, SecondFactor: true}, w.jeanne.ID, checked); err != nil {
		t.Fatal(err)
	}
	if enrolled() {
		t.Error("the second factor is still there")
	}
	if left, err := w.st.RecoveryCodesLeft(w.ctx, w.jeanne.ID); err != nil || left != 0 {
		t.Errorf("recovery codes left: %d, %v; want none", left, err)
	}
	evs := w.events.of(mandates.EventSecondFactorReset)
	if len(evs) != 1 || evs[0].ActorID != op.ID || evs[0].PersonID != w.jeanne.ID || evs[0].Detail["document"] != "passport" {
		t.Errorf("journaled %+v; want one reset by the operator in Jeanne's chain, naming the document", evs)
	}
	var letter bool
	for _, n := range w.notices(w.jeanne.ID) {
		letter = letter || n.Kind == mandates.EventSecondFactorReset && n.Channel == notices.Paper && n.RecipientID == w.jeanne.ID
	}
	if !letter {
		t.Error("no letter tells Jeanne her second factor was removed")
	}
	if len(w.notices(op.ID)) != 0 {
		t.Error("the operator was written to")
	}
	// Nothing left to remove.
	if err := reset.Reset(w.ctx, mandates.Actor{PersonID: op.ID, SecondFactor: true}, w.jeanne.ID, checked); !errors.Is(err, mandates.ErrNoSecondFactor) {
		t.Errorf("again: %v, want ErrNoSecondFactor", err)
	}
}
