package storagetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// ServiceStore is what the representation service runs on, with the
// second factors aidants turn on before they are habilitated.
type ServiceStore interface {
	mandates.Store
	authn.TOTPStore
	mandates.FirstActStore
}

// RunService runs the representation service's operations on a real
// store: each way a representation comes to exist, its bad inputs, the
// rule that a failed change leaves nothing behind, and that every change
// is in the history and emitted as an event in the same transaction.
func RunService(t *testing.T, newStore func(t *testing.T) ServiceStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, w *world)
	}{
		{"an operator registers a measure with co-representatives, each with their role", testRegisterMeasure},
		{"a measure's bad input is refused and nothing is written", testRegisterMeasureBadInput},
		{"the co-representatives of a measure are those of its decision, not of a like reference", testCoRepresentatives},
		{"the same decision registered twice is refused", testRegisterMeasureTwice},
		{"only an operator registers a measure", testRegisterMeasureNotOperator},
		{"a mandat de protection future starts pending until an operator activates it", testMandatProtectionFuture},
		{"two operators editing one measure: the second gets a conflict and the first change stays", testEditConflict},
		{"a corrected decision keeps one key; a corrected representative ends the wrong one and the decision names nobody twice", testCorrectMeasure},
		{"an aidant mandate by the person's own login", testMandateByLogin},
		{"an aidant mandate by an in-person attestation", testMandateByAttestation},
		{"an aidant mandate by a code: right code activates, replay is refused", testMandateByCode},
		{"an aidant mandate by a code: wrong codes cancel the request", testMandateCodeGuessed},
		{"an aidant needs the second factor and an active habilitation", testAidantRules},
		{"an aidant without a second factor is not habilitated", testHabilitateNeedsSecondFactor},
		{"a withdrawn aidant can no longer act; the mandate stays with the organisation", testWithdrawnAidant},
		{"the areas a representative may consult: all for a tutor, the mandate's for an aidant, none for a stranger", testAreasAllowed},
		{"a proxy is active once accepted, and the person withdraws it at once", testProxy},
		{"the person withdraws one area, then the last one", testWithdrawArea},
		{"a court measure cannot be withdrawn by the person", testMeasureNotWithdrawable},
		{"an expired mandate answers no the moment it ends", testExpiry},
		{"an expiry is recorded once, by nobody, for representations in force only", testRecordExpiries},
		{"an instance that loses the race to record an expiry skips it without failing", testRecordExpiriesLostRace},
		{"instances recording expiries at once record each one once", testRecordExpiriesConcurrently},
		{"a measure whose end an operator moves expires again at its new end", testExpiryAtNewEnd},
		{"the store lists expiries due soonest first and records each once, on its version", testExpiryStore},
		{"a representation in force is announced once per end date as its end nears", testRecordEndingsSoon},
		{"the store lists endings due soonest first and marks each end once", testEndingStore},
		{"instances announcing endings at once announce each end once", testRecordEndingsConcurrently},
		{"a first act at a site is recorded once per person, actor and site, even at once", testFirstActs},
		{"an event that cannot be recorded undoes its change", testEventFailureRollsBack},
		{"others cannot see a representation", testVisibility},
		{"under tutelle, the tutor gives the mandate; the person's word is refused and journaled", testTutorGivesTheMandate},
		{"under tutelle, the tutor refuses the mandate", testTutorRefusesTheMandate},
		{"under curatelle renforcée, the person consents, the curator agrees, and acts still need the curator", testCuratorAgrees},
		{"under curatelle simple, the person gives the mandate alone", testCuratorIsTold},
		{"a proxy under curatelle renforcée waits for the curator, then the holder", testProxyUnderMeasures},
		{"under tutelle, the tutor gives a proxy for the person", testTutorGivesAProxy},
		{"a second mandate with the same organisation is refused, even at once; the first is changed", testNoDuplicateMandate},
		{"asking again for a pending agreement returns it, even at once", testNoDuplicateAgreement},
		{"a widened request needs a new answer; a paused mandate stays paused; the tutor narrows it; it ends with the tutelle", testGivingLoopholes},
		{"a co-tutor gives a mandate only in the areas of their record", testCoRepresentativeAnswersInTheirAreas},
		{"the tutor stops the mandate she gave", testTutorWithdrawsWhatSheGave},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newWorld(t, newStore(t))) })
	}
}

// world is a store with the people of a small town, a clock the test
// moves, a recorder of events and a phone that keeps the last code.
type world struct {
	st                                                    ServiceStore
	svc                                                   *mandates.Service
	now                                                   time.Time
	events                                                *recorder
	texts                                                 *phone
	operator, admin, aidant, jeanne, marie, fatima, karim string
	org                                                   string
}

type recorder struct {
	mu     sync.Mutex
	events []mandates.Event
	fail   bool
}

func (r *recorder) Emit(_ context.Context, e mandates.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("journal unavailable")
	}
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) types() []mandates.EventType {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []mandates.EventType
	for _, e := range r.events {
		out = append(out, e.Type)
	}
	return out
}

type phone struct {
	mu   sync.Mutex
	last map[string]string
}

func (p *phone) SendConsentCode(_ context.Context, to mandates.Person, code string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[to.ID] = code
	return nil
}

func newWorld(t *testing.T, st ServiceStore) *world {
	t.Helper()
	rec := &recorder{}
	return buildWorld(t, st, rec, rec)
}

// buildWorld makes the world with the service's events going to sink;
// rec is what the tests read them from.
func buildWorld(t *testing.T, st ServiceStore, sink mandates.EventSink, rec *recorder) *world {
	t.Helper()
	w := &world{st: st, now: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), events: rec, texts: &phone{last: map[string]string{}}}
	w.svc = mandates.NewService(st, sink, mandates.ServiceConfig{Now: func() time.Time { return w.now }, Codes: w.texts})
	add := func(given, email, phone string) string {
		p := newPerson(email)
		p.GivenNames, p.Phone = given, phone
		if err := st.CreatePerson(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	w.operator = add("Olivier", "olivier@example.fr", "")
	w.admin = add("Nadia", "nadia@example.fr", "")
	w.aidant = add("Sophie", "sophie@example.fr", "")
	w.jeanne = add("Jeanne", "jeanne@example.fr", "06 00 00 00 01")
	w.marie = add("Marie", "marie@example.fr", "")
	w.fatima = add("Fatima", "fatima@example.fr", "")
	w.karim = add("Karim", "karim@example.fr", "")
	ctx := t.Context()
	if err := st.GrantRole(ctx, w.operator, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	o, err := w.svc.CreateOrganisation(ctx, w.op(), mandates.Organisation{Name: "France Services Lyon 8e", Kind: mandates.OrgFranceServices,
		Areas: []mandates.Area{"social", "papiers", "logement"}, Address: orgAddress}, w.admin)
	if err != nil {
		t.Fatal(err)
	}
	w.org = o.ID
	enrolSecondFactor(t, st, w.aidant, w.now)
	if _, err := w.svc.Habilitate(ctx, mandates.Actor{PersonID: w.admin}, o.ID, w.aidant, mandates.MemberAidant); err != nil {
		t.Fatal(err)
	}
	return w
}

// enrolSecondFactor turns the person's second factor on, as authn.TOTP does
// once their first code is right: an aidant is habilitated only with one.
func enrolSecondFactor(t *testing.T, st authn.TOTPStore, personID string, at time.Time) {
	t.Helper()
	secret := []byte("sealed secret " + personID)
	if err := st.StartTOTP(t.Context(), authn.TOTPEnrolment{PersonID: personID, Secret: secret, CreatedAt: at}); err != nil {
		t.Fatalf("StartTOTP: %v", err)
	}
	if err := st.ConfirmTOTP(t.Context(), personID, secret, 1, at, nil); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
}

func (w *world) op() mandates.Actor { return mandates.Actor{PersonID: w.operator} }
func (w *world) sophie() mandates.Actor {
	return mandates.Actor{PersonID: w.aidant, SecondFactor: true}
}

func (w *world) tutelle(t *testing.T, ref string) mandates.MeasureInput {
	return mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: w.jeanne,
		Representatives: []mandates.RepresentativeInput{{PersonID: w.marie, Role: mandates.RoleTuteur}},
		ValidFrom:       w.now.AddDate(0, -1, 0), ValidUntil: w.now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: w.now.AddDate(0, -1, -10), Reference: ref}}
}

func (w *world) decide(t *testing.T, actor, person string, a mandates.Action, area mandates.Area) mandates.Answer {
	t.Helper()
	ans, err := w.svc.Decide(t.Context(), mandates.Question{ActorID: actor, PersonID: person, Action: a, Area: area, At: w.now})
	if err != nil {
		t.Fatal(err)
	}
	return ans
}

func (w *world) count(t *testing.T, person string) int {
	t.Helper()
	reps, err := w.st.RepresentationsOf(t.Context(), person)
	if err != nil {
		t.Fatal(err)
	}
	return len(reps)
}

func testRegisterMeasure(t *testing.T, w *world) {
	in := w.tutelle(t, "RG 26/00001")
	in.Representatives = append(in.Representatives, mandates.RepresentativeInput{PersonID: w.karim, Role: mandates.RoleSubrogeTuteur})
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 || reps[0].Role != mandates.RoleTuteur || reps[1].Role != mandates.RoleSubrogeTuteur {
		t.Fatalf("registered %+v", reps)
	}
	got, err := w.st.Representation(t.Context(), reps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Source.Decision; d == nil || d.RegisteredBy != w.operator || d.Reference != "RG 26/00001" {
		t.Errorf("decision source %+v", got.Source.Decision)
	}
	if len(got.History) != 1 || got.History[0].Type != mandates.EventCreated || got.History[0].ActorID != w.operator {
		t.Errorf("history %+v", got.History)
	}
	if a := w.decide(t, w.marie, w.jeanne, mandates.Dispose, "argent"); a.Decision != mandates.Allowed {
		t.Errorf("the tutor disposing: %s", a.Decision)
	}
	if a := w.decide(t, w.karim, w.jeanne, mandates.Manage, "argent"); a.Decision != mandates.No {
		t.Errorf("the subrogé tuteur managing: %s, want no", a.Decision)
	}
	if a := w.decide(t, w.jeanne, w.jeanne, mandates.Manage, "argent"); a.Decision != mandates.No {
		t.Errorf("Jeanne managing alone under tutelle: %s, want no", a.Decision)
	}
	created := 0
	for _, e := range w.events.events {
		if e.Type == mandates.EventCreated && e.PersonID == w.jeanne && e.ActorID == w.operator {
			created++
		}
	}
	if created != 2 {
		t.Errorf("%d creation events for Jeanne, want 2", created)
	}
}

func testCoRepresentatives(t *testing.T, w *world) {
	in := w.tutelle(t, "RG 26/00031")
	in.Representatives = append(in.Representatives, mandates.RepresentativeInput{PersonID: w.karim, Role: mandates.RoleSubrogeTuteur})
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), in)
	if err != nil {
		t.Fatal(err)
	}
	// Another decision of the same court, whose number holds this one's.
	like := w.tutelle(t, "RG 26/00031-2")
	like.PersonID = w.karim
	if _, err := w.svc.RegisterMeasure(t.Context(), w.op(), like); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{reps[1].ID, reps[0].ID} {
		views, err := w.svc.CoRepresentatives(t.Context(), w.op(), reps[i])
		if err != nil || len(views) != 1 || views[0].ID != want {
			t.Errorf("co-representatives of %s: %d views, %v; want only %s", reps[i].Role, len(views), err, want)
		}
	}
	if _, err := w.svc.CoRepresentatives(t.Context(), mandates.Actor{PersonID: w.marie}, reps[0]); !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("the tutor asking: %v, want ErrNotPermitted", err)
	}
}

func testRegisterMeasureBadInput(t *testing.T, w *world) {
	tests := []struct {
		name   string
		change func(*mandates.MeasureInput)
		field  string
	}{
		{"an end before the start", func(m *mandates.MeasureInput) { m.ValidUntil = m.ValidFrom.Add(-time.Hour) }, "valid_until"},
		{"no end", func(m *mandates.MeasureInput) { m.ValidUntil = time.Time{} }, "valid_until"},
		{"longer than the law allows", func(m *mandates.MeasureInput) { m.ValidUntil = m.ValidFrom.AddDate(11, 0, 0) }, "valid_until"},
		{"no start", func(m *mandates.MeasureInput) { m.ValidFrom = time.Time{} }, "valid_from"},
		{"an unknown kind", func(m *mandates.MeasureInput) { m.Kind = "tutelle_renforcee" }, "kind"},
		{"an aidant mandate is not a measure", func(m *mandates.MeasureInput) { m.Kind = mandates.AidantMandate }, "kind"},
		{"an unknown area", func(m *mandates.MeasureInput) { m.Areas = []mandates.Area{"impots"} }, "procedure_areas"},
		{"a role of another kind", func(m *mandates.MeasureInput) { m.Representatives[0].Role = mandates.RoleCurateur }, "role"},
		{"the representative is the person", func(m *mandates.MeasureInput) { m.Representatives[0].PersonID = m.PersonID }, "representative"},
		{"an unknown representative", func(m *mandates.MeasureInput) { m.Representatives[0].PersonID = mandates.NewID(time.Now()) }, "representative"},
		{"an unknown person", func(m *mandates.MeasureInput) { m.PersonID = mandates.NewID(time.Now()) }, "person"},
		{"no reference", func(m *mandates.MeasureInput) { m.Decision.Reference = " " }, "decision_reference"},
		{"a sauvegarde without listed acts", func(m *mandates.MeasureInput) {
			m.Kind = mandates.SauvegardeJustice
			m.Representatives[0].Role = mandates.RoleMandataireSpecial
			m.ValidUntil = m.ValidFrom.AddDate(1, 0, 0)
		}, "adjustments"},
		{"the second representative is invalid: the first is not written either", func(m *mandates.MeasureInput) {
			m.Representatives = append(m.Representatives, mandates.RepresentativeInput{PersonID: w.karim, Role: "juge"})
		}, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := w.tutelle(t, "RG 26/00002")
			tt.change(&in)
			_, err := w.svc.RegisterMeasure(t.Context(), w.op(), in)
			var inv *mandates.InvalidError
			if !errors.Is(err, mandates.ErrInvalid) || !errors.As(err, &inv) || inv.Field != tt.field {
				t.Errorf("err = %v, want ErrInvalid naming %s", err, tt.field)
			}
			if n := w.count(t, w.jeanne); n != 0 {
				t.Errorf("%d representations written", n)
			}
		})
	}
}

func testRegisterMeasureTwice(t *testing.T, w *world) {
	if _, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00003")); err != nil {
		t.Fatal(err)
	}
	again := w.tutelle(t, "rg  26/00003") // the same reference, typed differently
	again.Representatives[0].PersonID = w.karim
	_, err := w.svc.RegisterMeasure(t.Context(), w.op(), again)
	if !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("err = %v, want ErrAlreadyExists", err)
	}
	if n := w.count(t, w.jeanne); n != 1 {
		t.Errorf("%d representations, want 1", n)
	}
}

func testRegisterMeasureNotOperator(t *testing.T, w *world) {
	_, err := w.svc.RegisterMeasure(t.Context(), mandates.Actor{PersonID: w.marie}, w.tutelle(t, "RG 26/00004"))
	if !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("err = %v, want ErrNotPermitted", err)
	}
	if n := w.count(t, w.jeanne); n != 0 {
		t.Errorf("%d representations written", n)
	}
}

func testMandatProtectionFuture(t *testing.T, w *world) {
	in := w.tutelle(t, "Mandat 2019-77")
	in.Kind, in.ValidUntil = mandates.MandatProtectionFuture, time.Time{}
	in.Representatives[0].Role = mandates.RoleMandataire
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), in)
	if err != nil {
		t.Fatal(err)
	}
	if reps[0].Status != mandates.StatusPending {
		t.Fatalf("status %s, want pending", reps[0].Status)
	}
	if a := w.decide(t, w.marie, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.No {
		t.Errorf("before activation: %s", a.Decision)
	}
	r, err := w.svc.ActivateMeasure(t.Context(), w.op(), reps[0].ID, reps[0].Version)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != mandates.StatusActive || r.History[len(r.History)-1].Type != mandates.EventActivated {
		t.Errorf("after activation: %s, history %+v", r.Status, r.History)
	}
	if a := w.decide(t, w.marie, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.Allowed {
		t.Errorf("after activation: %s", a.Decision)
	}
	if _, err := w.svc.ActivateMeasure(t.Context(), w.op(), reps[0].ID, 0); !errors.Is(err, mandates.ErrInactive) {
		t.Errorf("activated twice: %v", err)
	}
}

func testCorrectMeasure(t *testing.T, w *world) {
	ctx := t.Context()
	in := w.tutelle(t, "RG 26/00050")
	in.Representatives = append(in.Representatives, mandates.RepresentativeInput{OrganisationID: w.org, Role: mandates.RoleTuteurBiens, Areas: []mandates.Area{"argent"}})
	reps, err := w.svc.RegisterMeasure(ctx, w.op(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.RegisterMeasure(ctx, w.op(), w.tutelle(t, "RG 26/00051")); err != nil {
		t.Fatal(err)
	}
	c := mandates.CorrectionOf(&reps[0])
	c.Decision.Reference, c.Reason = "RG 26/00051", "numéro mal recopié"
	var unique *mandates.UniqueError
	if _, err := w.svc.CorrectMeasure(ctx, w.op(), reps[0].ID, reps[0].Version, c); !errors.As(err, &unique) || unique.Field != "decision" {
		t.Fatalf("correcting to another decision's number: %v, want its UniqueError", err)
	}
	c.Decision.Reference, c.Representative.PersonID = "RG 26/00052", w.karim
	fixed, err := w.svc.CorrectMeasure(ctx, w.op(), reps[0].ID, reps[0].Version, c)
	if err != nil {
		t.Fatal(err)
	}
	old, err := w.st.Representation(ctx, reps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if old.Status != mandates.StatusRevoked || old.History[len(old.History)-1].Detail["replaced_by"] != fixed.ID {
		t.Errorf("Marie's representation: %s %+v, want ended by the correction", old.Status, old.History[len(old.History)-1])
	}
	key := fixed.Source.Decision.Key()
	named, err := w.st.RepresentationsByDecision(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(named) != 2 || fixed.Representative.PersonID != w.karim || fixed.History[0].Detail["replaces"] != reps[0].ID {
		t.Errorf("the corrected decision names %d representations (want Karim's and the organisation's); Karim's: %+v", len(named), fixed)
	}
	if got, _ := w.st.Representation(ctx, reps[1].ID); got.Source.Decision.Reference != "RG 26/00052" || got.Version != reps[1].Version+1 {
		t.Errorf("the co-representative's decision: %+v v%d, want the corrected number", got.Source.Decision, got.Version)
	}
	back := mandates.CorrectionOf(&fixed)
	back.Decision.Reference, back.Representative.PersonID, back.Reason = "RG 26/00050", w.marie, "retour"
	if _, err := w.svc.CorrectMeasure(ctx, w.op(), fixed.ID, fixed.Version, back); !errors.As(err, &unique) {
		t.Errorf("the old number, still Marie's ended representation's: %v, want a UniqueError", err)
	}
	// The store's unique index holds even when the service's check is
	// passed by: the organisation's record moved onto Karim's key.
	if _, err := w.st.UpdateRepresentation(ctx, reps[1].ID, func(r *mandates.Representation) (mandates.Change, error) {
		r.Representative = mandates.Representative{PersonID: w.karim}
		return mandates.Change{Type: mandates.EventUpdated}, nil
	}); !errors.As(err, &unique) {
		t.Errorf("two representations of one decision for one representative: %v, want a UniqueError", err)
	}
}

func testEditConflict(t *testing.T, w *world) {
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00005"))
	if err != nil {
		t.Fatal(err)
	}
	r := reps[0]
	first := mandates.CorrectionOf(&r)
	first.ValidUntil, first.Reason = r.ValidUntil.AddDate(0, 6, 0), "jugement de prolongation"
	if _, err := w.svc.CorrectMeasure(t.Context(), w.op(), r.ID, r.Version, first); err != nil {
		t.Fatal(err)
	}
	second := mandates.CorrectionOf(&r)
	second.Areas, second.Reason = []mandates.Area{"argent"}, "domaine limité"
	if _, err := w.svc.CorrectMeasure(t.Context(), w.op(), r.ID, r.Version, second); !errors.Is(err, mandates.ErrConflict) {
		t.Fatalf("second edit with the old version: %v, want ErrConflict", err)
	}
	got, _ := w.st.Representation(t.Context(), r.ID)
	if !got.ValidUntil.Equal(first.ValidUntil) || len(got.Areas) != 0 || got.Version != r.Version+1 || len(got.History) != 2 {
		t.Errorf("after the conflict: until %v areas %v version %d history %d", got.ValidUntil, got.Areas, got.Version, len(got.History))
	}
}

func (w *world) start(t *testing.T) mandates.Representation {
	t.Helper()
	r, err := w.svc.StartMandate(t.Context(), w.sophie(), mandates.MandateInput{OrganisationID: w.org, PersonID: w.jeanne,
		Areas: []mandates.Area{"social", "papiers"}, Duration: mandates.TwelveMonth})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != mandates.StatusPendingConsent {
		t.Fatalf("status %s", r.Status)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.No {
		t.Errorf("before consent: %s", a.Decision)
	}
	return r
}

func testMandateByLogin(t *testing.T, w *world) {
	r := w.start(t)
	if _, err := w.svc.ConfirmByLogin(t.Context(), w.sophie(), r.ID, w.karim); !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("confirmed by someone else's login: %v", err)
	}
	w.now = w.now.Add(5 * time.Minute)
	got, err := w.svc.ConfirmByLogin(t.Context(), w.sophie(), r.ID, w.jeanne)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Source.Consent
	if c == nil || c.Method != mandates.ConsentInPersonLogin || c.WitnessID != w.aidant || !got.ValidFrom.Equal(w.now) ||
		!got.ValidUntil.Equal(w.now.AddDate(1, 0, 0)) {
		t.Errorf("consent %+v from %v until %v", c, got.ValidFrom, got.ValidUntil)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.Allowed {
		t.Errorf("after consent, managing benefits: %s", a.Decision)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "argent"); a.Decision != mandates.No {
		t.Errorf("after consent, money (not in the mandate): %s", a.Decision)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Dispose, "social"); a.Decision != mandates.No {
		t.Errorf("after consent, disposing: %s", a.Decision)
	}
	if _, err := w.svc.ConfirmByLogin(t.Context(), w.sophie(), r.ID, w.jeanne); !errors.Is(err, mandates.ErrInactive) {
		t.Errorf("confirmed twice: %v", err)
	}
}

func testMandateByAttestation(t *testing.T, w *world) {
	r := w.start(t)
	text := []byte("attestation text")
	got, err := w.svc.RecordInPersonConsent(t.Context(), w.sophie(), r.ID, text)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Source.Consent; c == nil || c.Method != mandates.ConsentInPersonAttestation || len(c.AttestationHash) != 64 {
		t.Errorf("consent %+v", c)
	}
}

func testMandateByCode(t *testing.T, w *world) {
	r := w.start(t)
	if err := w.svc.SendConsentCode(t.Context(), w.sophie(), r.ID); err != nil {
		t.Fatal(err)
	}
	code := w.texts.last[w.jeanne]
	if len(code) != 6 {
		t.Fatalf("code %q", code)
	}
	got, err := w.svc.CheckConsentCode(t.Context(), w.sophie(), r.ID, code[:3]+" "+code[3:])
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != mandates.StatusActive || got.Source.Consent.Method != mandates.ConsentRemoteCode {
		t.Errorf("after the code: %s %+v", got.Status, got.Source.Consent)
	}
	if _, err := w.svc.CheckConsentCode(t.Context(), w.sophie(), r.ID, code); !errors.Is(err, mandates.ErrCodeExpired) {
		t.Errorf("replayed code: %v, want ErrCodeExpired", err)
	}
	types := w.events.types()
	want := []mandates.EventType{mandates.EventConsentCodeSent, mandates.EventConsentGiven}
	if len(types) < 2 || types[len(types)-2] != want[0] || types[len(types)-1] != want[1] {
		t.Errorf("events %v, want to end with %v", types, want)
	}
}

func testMandateCodeGuessed(t *testing.T, w *world) {
	r := w.start(t)
	if err := w.svc.SendConsentCode(t.Context(), w.sophie(), r.ID); err != nil {
		t.Fatal(err)
	}
	code := w.texts.last[w.jeanne]
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 2; i++ {
		_, err := w.svc.CheckConsentCode(t.Context(), w.sophie(), r.ID, wrong)
		var left mandates.CodeAttemptsLeft
		if !errors.Is(err, mandates.ErrCodeWrong) || !errors.As(err, &left) || int(left) != 3-i {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if _, err := w.svc.CheckConsentCode(t.Context(), w.sophie(), r.ID, wrong); !errors.Is(err, mandates.ErrTooManyCodes) {
		t.Fatalf("third wrong code: %v, want ErrTooManyCodes", err)
	}
	got, _ := w.st.Representation(t.Context(), r.ID)
	if got.Status != mandates.StatusRevoked {
		t.Errorf("after three wrong codes: %s, want revoked", got.Status)
	}
	if _, err := w.svc.CheckConsentCode(t.Context(), w.sophie(), r.ID, code); err == nil {
		t.Error("the right code still works on a cancelled request")
	}
}

func testAidantRules(t *testing.T, w *world) {
	in := mandates.MandateInput{OrganisationID: w.org, PersonID: w.jeanne, Areas: []mandates.Area{"social"}, Duration: mandates.OneMonth}
	if _, err := w.svc.StartMandate(t.Context(), mandates.Actor{PersonID: w.aidant}, in); !errors.Is(err, mandates.ErrSecondFactor) {
		t.Errorf("without the second factor: %v", err)
	}
	if _, err := w.svc.StartMandate(t.Context(), mandates.Actor{PersonID: w.marie, SecondFactor: true}, in); !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("not a member: %v", err)
	}
	bad := in
	bad.Areas = []mandates.Area{"justice"}
	if _, err := w.svc.StartMandate(t.Context(), w.sophie(), bad); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("an area the organisation does not cover: %v", err)
	}
	bad = in
	bad.Duration = "3m"
	if _, err := w.svc.StartMandate(t.Context(), w.sophie(), bad); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a duration aidants do not use: %v", err)
	}
	bad = in
	bad.PersonID = w.aidant
	if _, err := w.svc.StartMandate(t.Context(), w.sophie(), bad); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a mandate for oneself: %v", err)
	}
	if n := w.count(t, w.jeanne); n != 0 {
		t.Errorf("%d representations written", n)
	}
}

func testHabilitateNeedsSecondFactor(t *testing.T, w *world) {
	ctx, admin := t.Context(), mandates.Actor{PersonID: w.admin}
	_, err := w.svc.Habilitate(ctx, admin, w.org, w.karim, mandates.MemberAidant)
	if !errors.Is(err, mandates.ErrNoSecondFactor) {
		t.Fatalf("habilitating an aidant without a second factor: %v, want ErrNoSecondFactor", err)
	}
	if _, err := w.st.Membership(ctx, w.org, w.karim); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("a refused habilitation was written: %v", err)
	}
	// A started but unconfirmed second factor is not one yet.
	if err := w.st.StartTOTP(ctx, authn.TOTPEnrolment{PersonID: w.karim, Secret: []byte("s"), CreatedAt: w.now}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Habilitate(ctx, admin, w.org, w.karim, mandates.MemberAidant); !errors.Is(err, mandates.ErrNoSecondFactor) {
		t.Errorf("with a second factor begun, not confirmed: %v, want ErrNoSecondFactor", err)
	}
	enrolSecondFactor(t, w.st, w.karim, w.now)
	if _, err := w.svc.Habilitate(ctx, admin, w.org, w.karim, mandates.MemberAidant); err != nil {
		t.Errorf("once the second factor is on: %v", err)
	}
}

func testWithdrawnAidant(t *testing.T, w *world) {
	r := w.start(t)
	if _, err := w.svc.ConfirmByLogin(t.Context(), w.sophie(), r.ID, w.jeanne); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.WithdrawMember(t.Context(), mandates.Actor{PersonID: w.admin}, w.org, w.aidant); err != nil {
		t.Fatal(err)
	}
	a := w.decide(t, w.aidant, w.jeanne, mandates.Consult, "social")
	if a.Decision != mandates.No || !strings.Contains(locales.Reason(a.Reason).FR, "habilitation") {
		t.Errorf("a withdrawn aidant: %s (%s)", a.Decision, locales.Reason(a.Reason).FR)
	}
	if _, err := w.svc.StartMandate(t.Context(), w.sophie(), mandates.MandateInput{OrganisationID: w.org, PersonID: w.marie,
		Areas: []mandates.Area{"social"}, Duration: mandates.OneDay}); !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("a withdrawn aidant starts a mandate: %v", err)
	}
	got, _ := w.st.Representation(t.Context(), r.ID)
	if !got.ActiveAt(w.now) || got.Representative.OrganisationID != w.org {
		t.Errorf("the mandate did not stay with the organisation: %s", got.Status)
	}
	if _, err := w.svc.Habilitate(t.Context(), mandates.Actor{PersonID: w.admin}, w.org, w.aidant, mandates.MemberAidant); err != nil {
		t.Fatal(err)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Consult, "social"); a.Decision != mandates.Allowed {
		t.Errorf("habilitated again: %s", a.Decision)
	}
	if err := w.svc.WithdrawMember(t.Context(), mandates.Actor{PersonID: w.aidant}, w.org, w.admin); !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("an aidant withdraws the admin: %v", err)
	}
}

func testProxy(t *testing.T, w *world) {
	fatima := mandates.Actor{PersonID: w.fatima}
	in := mandates.ProxyInput{HolderID: w.karim, Areas: []mandates.Area{"social", "logement"}, Granted: []mandates.Action{mandates.Consult},
		Duration: mandates.SixMonths}
	r, err := w.svc.GiveProxy(t.Context(), fatima, in)
	if err != nil {
		t.Fatal(err)
	}
	if a := w.decide(t, w.karim, w.fatima, mandates.Consult, "social"); a.Decision != mandates.No {
		t.Errorf("before acceptance: %s", a.Decision)
	}
	if _, err := w.svc.AnswerProxy(t.Context(), mandates.Actor{PersonID: w.marie}, r.ID, true); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("accepted by someone else: %v", err)
	}
	if _, err := w.svc.AnswerProxy(t.Context(), mandates.Actor{PersonID: w.karim}, r.ID, true); err != nil {
		t.Fatal(err)
	}
	if a := w.decide(t, w.karim, w.fatima, mandates.Consult, "social"); a.Decision != mandates.Allowed {
		t.Errorf("after acceptance, consult: %s", a.Decision)
	}
	if a := w.decide(t, w.karim, w.fatima, mandates.Manage, "social"); a.Decision != mandates.No {
		t.Errorf("after acceptance, manage (not granted): %s", a.Decision)
	}
	if _, err := w.svc.Withdraw(t.Context(), fatima, r.ID); err != nil {
		t.Fatal(err)
	}
	a := w.decide(t, w.karim, w.fatima, mandates.Consult, "social")
	if a.Decision != mandates.No {
		t.Errorf("withdrawn: %s", a.Decision)
	}
	self := in
	self.HolderID = w.fatima
	if _, err := w.svc.GiveProxy(t.Context(), fatima, self); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a proxy to oneself: %v", err)
	}
	if _, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00006")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.GiveProxy(t.Context(), mandates.Actor{PersonID: w.jeanne}, in); !errors.Is(err, mandates.ErrRepresentativeGives) {
		t.Errorf("a person under tutelle gives a proxy: %v, want ErrRepresentativeGives", err)
	}
}

func testWithdrawArea(t *testing.T, w *world) {
	r := w.start(t)
	if _, err := w.svc.RecordInPersonConsent(t.Context(), w.sophie(), r.ID, []byte("x")); err != nil {
		t.Fatal(err)
	}
	jeanne := mandates.Actor{PersonID: w.jeanne}
	got, err := w.svc.WithdrawArea(t.Context(), jeanne, r.ID, "social")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != mandates.StatusActive || len(got.Areas) != 1 || got.Areas[0] != "papiers" {
		t.Errorf("after withdrawing social: %s %v", got.Status, got.Areas)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.No {
		t.Errorf("social after its withdrawal: %s", a.Decision)
	}
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "papiers"); a.Decision != mandates.Allowed {
		t.Errorf("papers, still given: %s", a.Decision)
	}
	if got, err = w.svc.WithdrawArea(t.Context(), jeanne, r.ID, "papiers"); err != nil || got.Status != mandates.StatusRevoked {
		t.Errorf("the last area withdrawn: %v %s", err, got.Status)
	}
}

func testMeasureNotWithdrawable(t *testing.T, w *world) {
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00007"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Withdraw(t.Context(), mandates.Actor{PersonID: w.jeanne}, reps[0].ID); !errors.Is(err, mandates.ErrNotPermitted) {
		t.Errorf("withdrawn by the person: %v", err)
	}
	if _, err := w.svc.Withdraw(t.Context(), mandates.Actor{PersonID: w.karim}, reps[0].ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("withdrawn by a stranger: %v, want ErrNotFound", err)
	}
	got, _ := w.st.Representation(t.Context(), reps[0].ID)
	if got.Status != mandates.StatusActive || len(got.History) != 1 {
		t.Errorf("changed: %s, %d history entries", got.Status, len(got.History))
	}
}

func testExpiry(t *testing.T, w *world) {
	r := w.start(t)
	got, err := w.svc.RecordInPersonConsent(t.Context(), w.sophie(), r.ID, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	w.now = got.ValidUntil.Add(-time.Millisecond)
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.Allowed {
		t.Errorf("just before the end: %s", a.Decision)
	}
	w.now = got.ValidUntil
	if a := w.decide(t, w.aidant, w.jeanne, mandates.Manage, "social"); a.Decision != mandates.No {
		t.Errorf("at the end: %s", a.Decision)
	}
	if _, err := w.svc.Withdraw(t.Context(), mandates.Actor{PersonID: w.jeanne}, r.ID); !errors.Is(err, mandates.ErrInactive) {
		t.Errorf("withdrawing an expired mandate: %v", err)
	}
}

func testEventFailureRollsBack(t *testing.T, w *world) {
	w.events.fail = true
	if _, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00008")); err == nil {
		t.Fatal("registered although its event could not be recorded")
	}
	if n := w.count(t, w.jeanne); n != 0 {
		t.Errorf("%d representations written without their event", n)
	}
	w.events.fail = false
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00008"))
	if err != nil {
		t.Fatal(err)
	}
	w.events.fail = true
	if _, err := w.svc.Suspend(t.Context(), w.op(), reps[0].ID, 0, "vérification"); err == nil {
		t.Fatal("suspended although its event could not be recorded")
	}
	got, _ := w.st.Representation(t.Context(), reps[0].ID)
	if got.Status != mandates.StatusActive || len(got.History) != 1 {
		t.Errorf("half-written: %s with %d history entries", got.Status, len(got.History))
	}
}

func testVisibility(t *testing.T, w *world) {
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), w.tutelle(t, "RG 26/00009"))
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{w.jeanne, w.marie, w.operator} {
		if _, err := w.svc.Representation(t.Context(), who, reps[0].ID); err != nil {
			t.Errorf("%s cannot see it: %v", who, err)
		}
	}
	if _, err := w.svc.Representation(t.Context(), w.karim, reps[0].ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("a stranger: %v, want ErrNotFound", err)
	}
}
