package storagetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// The rules of who gives a mandate or a proxy for a person under a measure,
// run through the service on a real store (issue 12).

// under registers a measure of kind over Jeanne with Marie in role.
func (w *world) under(t *testing.T, kind mandates.Kind, role mandates.Role, ref string) mandates.Representation {
	t.Helper()
	in := w.tutelle(t, ref)
	in.Kind, in.Representatives = kind, []mandates.RepresentativeInput{{PersonID: w.marie, Role: role}}
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), in)
	if err != nil {
		t.Fatal(err)
	}
	return reps[0]
}

// eventsOf are the recorded events of one type.
func (w *world) eventsOf(typ mandates.EventType) []mandates.Event {
	w.events.mu.Lock()
	defer w.events.mu.Unlock()
	var out []mandates.Event
	for _, e := range w.events.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func testTutorGivesTheMandate(t *testing.T, w *world) {
	ctx := t.Context()
	tutelle := w.under(t, mandates.Tutelle, mandates.RoleTuteur, "RG 26/01201")
	r := w.start(t)
	if r.Waits() != mandates.WaitingRepresentative || r.Source.Measure == nil || r.Source.Measure.MeasureID != tutelle.ID ||
		r.Source.Measure.RequestedBy != w.aidant {
		t.Fatalf("the request waits for %q under %+v, want the tutor", r.Waits(), r.Source.Measure)
	}
	// The person's own word is not enough, whichever way it is given.
	if _, err := w.svc.ConfirmByLogin(ctx, w.sophie(), r.ID, w.jeanne); !errors.Is(err, mandates.ErrRepresentativeGives) {
		t.Errorf("consent by Jeanne's login: %v, want ErrRepresentativeGives", err)
	}
	if _, err := w.svc.RecordInPersonConsent(ctx, w.sophie(), r.ID, []byte("attestation")); !errors.Is(err, mandates.ErrRepresentativeGives) {
		t.Errorf("consent by attestation: %v, want ErrRepresentativeGives", err)
	}
	if err := w.svc.SendConsentCode(ctx, w.sophie(), r.ID); !errors.Is(err, mandates.ErrRepresentativeGives) {
		t.Errorf("a consent code: %v, want ErrRepresentativeGives", err)
	}
	if got := w.eventsOf(mandates.EventRefused); len(got) != 3 || got[0].PersonID != w.jeanne || got[0].Detail["reason"] != "representative_gives" {
		t.Errorf("refusals journaled: %+v, want 3 in Jeanne's journal", got)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.No {
		t.Errorf("before the tutor answers: %s", a.Decision)
	}
	// Nobody but the tutor answers, and they learn nothing of it.
	for _, stranger := range []string{w.karim, w.jeanne, w.aidant} {
		if _, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: stranger, SecondFactor: true}, r.ID, 0, true); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("answered by %s: %v, want ErrNotFound", stranger, err)
		}
	}
	waiting, err := w.svc.RequestsAwaiting(ctx, mandates.Actor{PersonID: w.marie})
	if err != nil || len(waiting) != 1 || waiting[0].ID != r.ID {
		t.Fatalf("requests waiting for Marie: %v, %v", waiting, err)
	}
	if other, _ := w.svc.RequestsAwaiting(ctx, mandates.Actor{PersonID: w.karim}); len(other) != 0 {
		t.Errorf("requests waiting for a stranger: %v", other)
	}
	got, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.marie}, r.ID, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Source.Consent
	if got.Status != mandates.StatusActive || c == nil || c.Method != mandates.ConsentByRepresentative || c.GivenBy != w.marie || c.WitnessID != w.aidant {
		t.Fatalf("after the tutor gave it: %s, consent %+v", got.Status, c)
	}
	e := w.eventsOf(mandates.EventConsentGiven)
	if len(e) != 1 || e[0].ActorID != w.marie || e[0].Detail["method"] != "by_representative" || e[0].Detail["role"] != "tuteur" {
		t.Errorf("the consent's entry: %+v, want Marie giving it as tutor", e)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.Allowed {
		t.Errorf("the aidant, within the tutor's powers: %s (%s)", a.Decision, locales.Reason(a.Reason).FR)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "argent"); a.Decision != mandates.No {
		t.Errorf("the aidant, outside the mandate's areas: %s", a.Decision)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Dispose, "social"); a.Decision != mandates.No {
		t.Errorf("the aidant disposing: %s", a.Decision)
	}
	if _, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.marie}, r.ID, 0, false); !errors.Is(err, mandates.ErrInactive) {
		t.Errorf("a second answer: %v, want ErrInactive", err)
	}
}

func testTutorRefusesTheMandate(t *testing.T, w *world) {
	w.under(t, mandates.Tutelle, mandates.RoleTuteur, "RG 26/01202")
	r := w.start(t)
	got, err := w.svc.AnswerForPerson(t.Context(), mandates.Actor{PersonID: w.marie}, r.ID, 0, false)
	if err != nil || got.Status != mandates.StatusRevoked {
		t.Fatalf("refused: %s, %v", got.Status, err)
	}
	if e := w.eventsOf(mandates.EventDeclined); len(e) != 1 || e[0].ActorID != w.marie || e[0].Detail["by"] != "representative" {
		t.Errorf("the refusal's entry: %+v", e)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Consult, "social"); a.Decision != mandates.No {
		t.Errorf("after the tutor refused: %s", a.Decision)
	}
	// Refusing while the aidant retries: one state, the refusal.
	if _, err := w.svc.RecordInPersonConsent(t.Context(), w.sophie(), r.ID, []byte("x")); err == nil {
		t.Error("a consent after the tutor refused was recorded")
	}
}

func testCuratorAgrees(t *testing.T, w *world) {
	ctx := t.Context()
	curatelle := w.under(t, mandates.CuratelleRenforcee, mandates.RoleCurateur, "RG 26/01203")
	r := w.start(t)
	if r.Waits() != mandates.WaitingPerson {
		t.Fatalf("first waits for %q, want the person", r.Waits())
	}
	got, err := w.svc.CheckConsentCode(ctx, w.sophie(), r.ID, w.code(t, r.ID))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != mandates.StatusPendingConsent || got.Waits() != mandates.WaitingRepresentative {
		t.Fatalf("after Jeanne's consent: %s waiting for %q, want the curator", got.Status, got.Waits())
	}
	e := w.eventsOf(mandates.EventConsentGiven)
	if len(e) != 1 || e[0].ActorID != w.jeanne || e[0].Detail["method"] != "remote_code" || e[0].Detail["phone_end"] != "01" ||
		e[0].Detail["witness"] != w.aidant || e[0].Detail["rule"] != "person_with_agreement" {
		t.Errorf("the consent's entry: %+v, want Jeanne's, by a code to a phone ending in 01", e)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Consult, "social"); a.Decision != mandates.No {
		t.Errorf("before the curator agrees: %s", a.Decision)
	}
	got, err = w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.marie}, r.ID, 0, true)
	if err != nil || got.Status != mandates.StatusActive || got.Source.Measure.AnsweredBy != w.marie {
		t.Fatalf("after the curator agreed: %s %+v, %v", got.Status, got.Source.Measure, err)
	}
	if e := w.eventsOf(mandates.EventAgreed); len(e) != 1 || e[0].ActorID != w.marie || e[0].Detail["role"] != "curateur" {
		t.Errorf("the agreement's entry: %+v", e)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Consult, "social"); a.Decision != mandates.Allowed {
		t.Errorf("consulting: %s", a.Decision)
	}
	// Managing needs the curator's agreement, for the person as for the aidant.
	a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social")
	if a.Decision != mandates.Cosign || a.Agreement == nil || a.Agreement.ID != curatelle.ID {
		t.Fatalf("managing: %s (%s), want cosign with the curator", a.Decision, locales.Reason(a.Reason).FR)
	}
	c, err := w.svc.RequestCosignature(ctx, mandates.CosignatureRequest{ClientID: "caf", PersonID: w.jeanne, ActorID: w.aidant,
		Action: mandates.Manage, Area: "social", Description: "Déclarer un changement de situation"})
	if err != nil || c.Party != mandates.PartyRepresentative || c.RepresentationID != curatelle.ID {
		t.Fatalf("the agreement asked: %+v, %v; want the curator's", c, err)
	}
	if list, err := w.svc.CosignaturesAwaiting(ctx, mandates.Actor{PersonID: w.marie, SecondFactor: true}); err != nil || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("awaiting the curator: %v, %v", list, err)
	}
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	ans, err := w.svc.Evaluate(ctx, mandates.Question{ActorID: w.aidant, PersonID: w.jeanne, Action: mandates.Manage, Area: "social", At: w.now}, "caf", c.ID)
	if err != nil || ans.Decision != mandates.Allowed {
		t.Errorf("with the curator's agreement: %s, %v", ans.Decision, err)
	}
}

// code sends a consent code for the request and returns it.
func (w *world) code(t *testing.T, id string) string {
	t.Helper()
	if err := w.svc.SendConsentCode(t.Context(), w.sophie(), id); err != nil {
		t.Fatal(err)
	}
	w.texts.mu.Lock()
	defer w.texts.mu.Unlock()
	return w.texts.last[w.jeanne]
}

func testCuratorIsTold(t *testing.T, w *world) {
	w.under(t, mandates.CuratelleSimple, mandates.RoleCurateur, "RG 26/01204")
	r := w.start(t)
	got, err := w.svc.ConfirmByLogin(t.Context(), w.sophie(), r.ID, w.jeanne)
	if err != nil || got.Status != mandates.StatusActive {
		t.Fatalf("under curatelle simple, the person's consent: %s, %v", got.Status, err)
	}
	e := w.eventsOf(mandates.EventConsentGiven)
	if len(e) != 1 || e[0].ActorID != w.jeanne || e[0].Detail["method"] != "in_person_login" || e[0].Detail["rule"] != "person_told" {
		t.Errorf("the consent's entry: %+v", e)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.Allowed {
		t.Errorf("managing: %s", a.Decision)
	}
}

func testProxyUnderMeasures(t *testing.T, w *world) {
	ctx := t.Context()
	in := mandates.ProxyInput{HolderID: w.karim, Areas: []mandates.Area{"social"}, Granted: []mandates.Action{mandates.Consult, mandates.Manage},
		Duration: mandates.OneMonth}
	w.under(t, mandates.CuratelleRenforcee, mandates.RoleCurateur, "RG 26/01205")
	p, err := w.svc.GiveProxy(ctx, mandates.Actor{PersonID: w.jeanne}, in)
	if err != nil || p.Waits() != mandates.WaitingRepresentative {
		t.Fatalf("a proxy under curatelle renforcée: %q, %v; want waiting for the curator", p.Waits(), err)
	}
	if _, err := w.svc.AnswerProxy(ctx, mandates.Actor{PersonID: w.karim}, p.ID, true); !errors.Is(err, mandates.ErrInactive) {
		t.Errorf("accepted before the curator agreed: %v, want ErrInactive", err)
	}
	if _, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.marie}, p.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	got, err := w.svc.AnswerProxy(ctx, mandates.Actor{PersonID: w.karim}, p.ID, true)
	if err != nil || got.Status != mandates.StatusActive {
		t.Fatalf("accepted after the curator agreed: %s, %v", got.Status, err)
	}
	if a := w.decide(t, w.karim, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.Cosign {
		t.Errorf("the holder managing: %s, want cosign (the curator's agreement)", a.Decision)
	}
	if _, err := w.svc.GiveProxy(ctx, mandates.Actor{PersonID: w.jeanne}, in); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("the same proxy again: %v, want ErrAlreadyExists", err)
	}
}

func testTutorGivesAProxy(t *testing.T, w *world) {
	ctx := t.Context()
	w.under(t, mandates.Tutelle, mandates.RoleTuteur, "RG 26/01206")
	in := mandates.ProxyInput{HolderID: w.karim, Areas: []mandates.Area{"social"}, Granted: []mandates.Action{mandates.Consult},
		Duration: mandates.OneMonth, ForPersonID: w.jeanne}
	if _, err := w.svc.GiveProxy(ctx, mandates.Actor{PersonID: w.fatima}, in); !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("a stranger gives a proxy for Jeanne: %v, want ErrNotPermitted", err)
	}
	p, err := w.svc.GiveProxy(ctx, mandates.Actor{PersonID: w.marie}, in)
	if err != nil || p.PersonID != w.jeanne || p.Source.Consent.Method != mandates.ConsentByRepresentative || p.Waits() != mandates.WaitingHolder {
		t.Fatalf("the tutor gives a proxy: %+v, %v", p, err)
	}
	if _, err := w.svc.AnswerProxy(ctx, mandates.Actor{PersonID: w.karim}, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if a := w.decide(t, w.karim, w.jeanne, mandates.Consult, "social"); a.Decision != mandates.Allowed {
		t.Errorf("the holder consulting: %s (%s)", a.Decision, locales.Reason(a.Reason).FR)
	}
	self := in
	self.ForPersonID, self.HolderID = "", w.fatima
	if _, err := w.svc.GiveProxy(ctx, mandates.Actor{PersonID: w.jeanne}, self); !errors.Is(err, mandates.ErrRepresentativeGives) {
		t.Errorf("Jeanne gives a proxy herself: %v, want ErrRepresentativeGives", err)
	}
}

func testNoDuplicateMandate(t *testing.T, w *world) {
	ctx := t.Context()
	r := w.start(t)
	before := w.count(t, w.jeanne)
	in := mandates.MandateInput{OrganisationID: w.org, PersonID: w.jeanne, Areas: []mandates.Area{"logement"}, Duration: mandates.OneMonth}
	_, err := w.svc.StartMandate(ctx, w.sophie(), in)
	var open *mandates.OpenError
	if !errors.As(err, &open) || open.ID != r.ID || !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Fatalf("a second mandate with the same organisation: %v, want an OpenError naming %s", err, r.ID)
	}
	if e := w.eventsOf(mandates.EventRefused); len(e) != 1 || e[0].Detail["reason"] != "duplicate" || e[0].RepresentationID != r.ID {
		t.Errorf("the refusal's entry: %+v", e)
	}
	got, err := w.svc.ChangeMandate(ctx, w.sophie(), r.ID, []mandates.Area{"logement", "social"}, mandates.OneMonth)
	if err != nil || got.ID != r.ID || !slices.Equal(got.Areas, mandates.SortAreas([]mandates.Area{"logement", "social"})) || got.Waits() != mandates.WaitingPerson {
		t.Fatalf("the mandate changed: %+v, %v", got, err)
	}
	if n := w.count(t, w.jeanne); n != before {
		t.Errorf("%d representations, want %d", n, before)
	}
	// Concurrent asks: one mandate, whatever the order.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = w.svc.StartMandate(ctx, w.sophie(), mandates.MandateInput{OrganisationID: w.org, PersonID: w.fatima,
				Areas: []mandates.Area{"social"}, Duration: mandates.OneMonth})
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, mandates.ErrAlreadyExists) && !errors.Is(err, mandates.ErrConflict) && !errors.Is(err, mandates.ErrUnavailable):
			t.Errorf("a concurrent ask: %v", err)
		}
	}
	if n := w.count(t, w.fatima); created != 1 || n != 1 {
		t.Errorf("concurrent asks: %d created, %d stored; want 1", created, n)
	}
}

func testNoDuplicateAgreement(t *testing.T, w *world) {
	ctx := t.Context()
	w.curatelle(t)
	first := w.request(t, w.jeanne, w.jeanne, mandates.Dispose)
	if again := w.request(t, w.jeanne, w.jeanne, mandates.Dispose); again.ID != first.ID {
		t.Errorf("asked again: %s, want the pending %s", again.ID, first.ID)
	}
	ids := make([]string, 6)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			c, err := w.svc.RequestCosignature(ctx, mandates.CosignatureRequest{ClientID: "caf", PersonID: w.jeanne, ActorID: w.jeanne,
				Action: mandates.Dispose, Area: "argent", Description: "Vendre le bateau"})
			if err != nil && !errors.Is(err, mandates.ErrConflict) && !errors.Is(err, mandates.ErrUnavailable) {
				t.Errorf("a concurrent ask: %v", err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	list, err := w.svc.CosignaturesAwaiting(ctx, mandates.Actor{PersonID: w.marie, SecondFactor: true})
	if err != nil || len(list) != 2 {
		t.Fatalf("awaiting the curator: %d requests, %v; want 2 (one per act)", len(list), err)
	}
	for _, id := range ids {
		if id != "" && !slices.ContainsFunc(list, func(c mandates.Cosignature) bool { return c.ID == id }) {
			t.Errorf("a concurrent ask returned %s, not a pending request", id)
		}
	}
	if e := w.eventsOf(mandates.EventCosignRequested); len(e) != 2 {
		t.Errorf("%d requests journaled, want 2", len(e))
	}
}

func testGivingLoopholes(t *testing.T, w *world) {
	ctx := t.Context()
	tutelle := w.under(t, mandates.Tutelle, mandates.RoleTuteur, "RG 26/01207")
	r := w.start(t)

	// The aidant widens the request after the tutor read it: the tutor's
	// answer to what she read fails, and the code sent before is void.
	read := r.Version
	if _, err := w.svc.ChangeMandate(ctx, w.sophie(), r.ID, []mandates.Area{"social", "papiers", "logement"}, mandates.TwelveMonth); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.marie}, r.ID, read, true); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("an answer to the request as it was: %v, want ErrConflict", err)
	}
	got, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.marie}, r.ID, 0, true)
	if err != nil || got.Status != mandates.StatusActive {
		t.Fatalf("the tutor gives it: %s, %v", got.Status, err)
	}

	// Only an operator resumes what an operator paused: the aidant cannot
	// revive a paused mandate by changing it.
	if _, err := w.svc.Suspend(ctx, w.op(), r.ID, 0, "vérification"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ChangeMandate(ctx, w.sophie(), r.ID, []mandates.Area{"social"}, mandates.OneMonth); !errors.Is(err, mandates.ErrInactive) {
		t.Errorf("changing a paused mandate: %v, want ErrInactive", err)
	}
	if got, _ := w.st.Representation(ctx, r.ID); got.Status != mandates.StatusSuspended {
		t.Errorf("after the aidant's try: %s, want still paused", got.Status)
	}
	if _, err := w.svc.Resume(ctx, w.op(), r.ID, 0); err != nil {
		t.Fatal(err)
	}

	// The tutor stops what she gave; a stranger cannot.
	if _, err := w.svc.WithdrawArea(ctx, mandates.Actor{PersonID: w.karim}, r.ID, "logement"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("a stranger narrows it: %v, want ErrNotFound", err)
	}
	if got, err := w.svc.WithdrawArea(ctx, mandates.Actor{PersonID: w.marie}, r.ID, "logement"); err != nil || slices.Contains(got.Areas, "logement") {
		t.Errorf("the tutor narrows it: %v %v", got.Areas, err)
	}

	// It ends with the tutelle: the person decides again for themselves.
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.Allowed {
		t.Fatalf("under the tutelle: %s (%s)", a.Decision, locales.Reason(a.Reason).FR)
	}
	if _, err := w.svc.End(ctx, w.op(), tutelle.ID, 0, "mainlevée"); err != nil {
		t.Fatal(err)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.No || !strings.Contains(locales.Reason(a.Reason).FR, "ne s’applique plus") {
		t.Errorf("after the tutelle ended: %s (%s), want no", a.Decision, locales.Reason(a.Reason).FR)
	}
	if _, err := w.svc.Usable(ctx, w.sophie(), r.ID, w.now); !errors.Is(err, mandates.ErrInactive) {
		t.Errorf("its tokens after the tutelle ended: %v, want ErrInactive", err)
	}
}

func testCoRepresentativeAnswersInTheirAreas(t *testing.T, w *world) {
	ctx := t.Context()
	in := w.tutelle(t, "RG 26/01208")
	in.Representatives = []mandates.RepresentativeInput{{PersonID: w.marie, Role: mandates.RoleTuteurPersonne, Areas: []mandates.Area{"social"}},
		{PersonID: w.karim, Role: mandates.RoleTuteurBiens, Areas: []mandates.Area{"logement"}}}
	if _, err := w.svc.RegisterMeasure(ctx, w.op(), in); err != nil {
		t.Fatal(err)
	}
	r, err := w.svc.StartMandate(ctx, w.sophie(), mandates.MandateInput{OrganisationID: w.org, PersonID: w.jeanne,
		Areas: []mandates.Area{"logement"}, Duration: mandates.OneMonth})
	if err != nil {
		t.Fatal(err)
	}
	// Marie's record covers social only: the housing mandate is not hers to give.
	if _, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.marie}, r.ID, 0, true); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("given by the co-tutor of another area: %v, want ErrNotFound", err)
	}
	if list, _ := w.svc.RequestsAwaiting(ctx, mandates.Actor{PersonID: w.marie}); len(list) != 0 {
		t.Errorf("listed for the co-tutor of another area: %v", list)
	}
	if list, _ := w.svc.RequestsAwaiting(ctx, mandates.Actor{PersonID: w.karim}); len(list) != 1 {
		t.Errorf("requests waiting for the tutor of property: %d, want 1", len(list))
	}
	if _, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.karim}, r.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "logement"); a.Decision != mandates.Allowed {
		t.Errorf("the aidant in housing: %s (%s)", a.Decision, locales.Reason(a.Reason).FR)
	}
}

func testTutorWithdrawsWhatSheGave(t *testing.T, w *world) {
	ctx := t.Context()
	w.under(t, mandates.Tutelle, mandates.RoleTuteur, "RG 26/01209")
	r := w.start(t)
	if _, err := w.svc.AnswerForPerson(ctx, mandates.Actor{PersonID: w.marie}, r.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	given, err := w.svc.GivenFor(ctx, mandates.Actor{PersonID: w.marie}, w.jeanne)
	if err != nil || len(given) != 1 || given[0].ID != r.ID {
		t.Fatalf("what the tutor gave for Jeanne: %v, %v", given, err)
	}
	if other, _ := w.svc.GivenFor(ctx, mandates.Actor{PersonID: w.karim}, w.jeanne); len(other) != 0 {
		t.Errorf("listed for a stranger: %v", other)
	}
	got, err := w.svc.Withdraw(ctx, mandates.Actor{PersonID: w.marie}, r.ID)
	if err != nil || got.Status != mandates.StatusRevoked {
		t.Fatalf("the tutor stops it: %s, %v", got.Status, err)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Consult, "social"); a.Decision != mandates.No {
		t.Errorf("after the tutor stopped it: %s", a.Decision)
	}
	if given, _ := w.svc.GivenFor(ctx, mandates.Actor{PersonID: w.marie}, w.jeanne); len(given) != 0 {
		t.Errorf("still listed once stopped: %v", given)
	}
}
