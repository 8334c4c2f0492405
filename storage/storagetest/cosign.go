package storagetest

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// SubjectStore is what RunSubjectStore needs.
type SubjectStore interface {
	oauth.SubjectStore
	mandates.PersonStore
}

// RunSubjectStore runs the pairwise subject store's suite. newStore returns
// a fresh, empty, migrated store.
func RunSubjectStore(t *testing.T, newStore func(t *testing.T) SubjectStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s SubjectStore)
	}{
		{"a subject is found in its sector, and in no other", testSubjectRoundTrip},
		{"saving a subject twice, even at once, is not an error", testSubjectTwice},
		{"a subject of an unknown person, or without a sector, is refused", testSubjectRefused},
		{"an evaluation's two subjects are found together, each in its sector only", testSubjectPersons},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testSubjectRoundTrip(t *testing.T, s SubjectStore) {
	ctx := t.Context()
	p := newPerson("jeanne@example.fr")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSubject(ctx, "caf.example.fr", "sub-caf", p.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.SubjectPerson(ctx, "caf.example.fr", "sub-caf")
	if err != nil || got != p.ID {
		t.Fatalf("SubjectPerson = %q, %v; want %s", got, err, p.ID)
	}
	for _, tc := range []struct{ sector, sub string }{{"impots.example.fr", "sub-caf"}, {"caf.example.fr", "sub-other"}, {"", ""}} {
		if _, err := s.SubjectPerson(ctx, tc.sector, tc.sub); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("SubjectPerson(%q, %q) = %v, want ErrNotFound", tc.sector, tc.sub, err)
		}
	}
}

func testSubjectTwice(t *testing.T, s SubjectStore) {
	ctx := t.Context()
	p := newPerson("jeanne@example.fr")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- s.SaveSubject(ctx, "caf.example.fr", "sub-caf", p.ID) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent save: %v", err)
		}
	}
	if got, err := s.SubjectPerson(ctx, "caf.example.fr", "sub-caf"); err != nil || got != p.ID {
		t.Fatalf("SubjectPerson = %q, %v", got, err)
	}
}

func testSubjectRefused(t *testing.T, s SubjectStore) {
	ctx := t.Context()
	if err := s.SaveSubject(ctx, "caf.example.fr", "sub", mandates.NewID(time.Now())); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("unknown person: %v, want ErrInvalid", err)
	}
	p := newPerson("jeanne@example.fr")
	if err := s.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSubject(ctx, "", "sub", p.ID); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("no sector: %v, want ErrInvalid", err)
	}
	if _, err := s.SubjectPerson(ctx, "caf.example.fr", "sub"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("a refused subject was written: %v", err)
	}
}

func testSubjectPersons(t *testing.T, s SubjectStore) {
	ctx := t.Context()
	jeanne, paul := newPerson("jeanne@example.fr"), newPerson("paul@example.fr")
	for _, p := range []mandates.Person{jeanne, paul} {
		if err := s.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, sv := range []struct{ sector, sub, person string }{
		{"caf.example.fr", "sub-jeanne", jeanne.ID}, {"caf.example.fr", "sub-paul", paul.ID}, {"impots.example.fr", "sub-other", paul.ID},
	} {
		if err := s.SaveSubject(ctx, sv.sector, sv.sub, sv.person); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name           string
		sector         string
		subject, other string
		want           map[string]string
	}{
		{"both known", "caf.example.fr", "sub-paul", "sub-jeanne", map[string]string{"sub-paul": paul.ID, "sub-jeanne": jeanne.ID}},
		{"one and the same", "caf.example.fr", "sub-paul", "sub-paul", map[string]string{"sub-paul": paul.ID}},
		{"one unknown", "caf.example.fr", "sub-paul", "sub-nobody", map[string]string{"sub-paul": paul.ID}},
		{"one of another sector", "caf.example.fr", "sub-other", "sub-jeanne", map[string]string{"sub-jeanne": jeanne.ID}},
		{"none", "impots.example.fr", "sub-paul", "sub-jeanne", map[string]string{}},
	}
	for _, tt := range tests {
		got, err := s.SubjectPersons(ctx, tt.sector, tt.subject, tt.other)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("%s: SubjectPersons = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// CosignatureStore is what RunCosignatures needs.
type CosignatureStore interface {
	ServiceStore
	mandates.CosignatureStore
}

// RunCosignatures runs co-signatures through the service on a real store:
// who may agree, once, in time, for exactly the act asked about, each
// step journaled, and one use under concurrent evaluations.
func RunCosignatures(t *testing.T, newStore func(t *testing.T) CosignatureStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, w *world, st CosignatureStore)
	}{
		{"a request is stored, read back, listed for the party who agrees and updated", testCosignStore},
		{"the curator agrees to the person's act: it is allowed once, then no more", testCosignPersonActs},
		{"the person agrees to the curator's act; the wrong party, the actor and a second answer are refused", testCosignRepresentativeActs},
		{"a refused request, or one for another act or site, leaves the answer at cosign", testCosignRefusedOrOther},
		{"an approval expires after its short validity, a request after a week", testCosignExpiry},
		{"an act that needs no co-signature cannot have one", testCosignNotNeeded},
		{"an organisation's named delegate agrees; another member cannot", testCosignOrganisation},
		{"concurrent evaluations of one approval: exactly one is allowed", testCosignConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			tt.fn(t, newWorld(t, st), st)
		})
	}
}

// curatelle registers a curatelle renforcée of Jeanne with Marie as
// curator.
func (w *world) curatelle(t *testing.T) mandates.Representation {
	t.Helper()
	reps, err := w.svc.RegisterMeasure(t.Context(), w.op(), mandates.MeasureInput{Kind: mandates.CuratelleRenforcee, PersonID: w.jeanne,
		Representatives: []mandates.RepresentativeInput{{PersonID: w.marie, Role: mandates.RoleCurateur}},
		ValidFrom:       w.now.AddDate(0, -1, 0), ValidUntil: w.now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: w.now.AddDate(0, -1, -10), Reference: "RG 26/00777"}})
	if err != nil {
		t.Fatal(err)
	}
	return reps[0]
}

func (w *world) request(t *testing.T, actor, person string, a mandates.Action) mandates.Cosignature {
	t.Helper()
	c, err := w.svc.RequestCosignature(t.Context(), mandates.CosignatureRequest{ClientID: "caf", PersonID: person, ActorID: actor,
		Action: a, Area: "argent", Description: "Vendre la voiture pour 3 000 euros"})
	if err != nil {
		t.Fatalf("request co-signature: %v", err)
	}
	return c
}

func (w *world) evaluate(t *testing.T, actor, person string, a mandates.Action, client, id string) mandates.Answer {
	t.Helper()
	ans, err := w.svc.Evaluate(t.Context(), mandates.Question{ActorID: actor, PersonID: person, Action: a, Area: "argent", At: w.now}, client, id)
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return ans
}

func testCosignStore(t *testing.T, w *world, st CosignatureStore) {
	ctx := t.Context()
	r := w.curatelle(t)
	c := mandates.Cosignature{ID: mandates.NewID(w.now), ClientID: "caf", PersonID: w.jeanne, ActorID: w.jeanne, Action: mandates.Dispose,
		Area: "argent", Description: "Vendre la voiture", RepresentationID: r.ID, Party: mandates.PartyRepresentative,
		Status: mandates.CosignPending, CreatedAt: w.now, ExpiresAt: w.now.Add(time.Hour)}
	if err := st.CreateCosignature(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCosignature(ctx, c); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("taken id: %v, want ErrAlreadyExists", err)
	}
	bad := c
	bad.ID, bad.Description = mandates.NewID(w.now), " "
	if err := st.CreateCosignature(ctx, bad); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("empty description: %v, want ErrInvalid", err)
	}
	got, err := st.Cosignature(ctx, c.ID)
	c.Version = 1
	if err != nil || show(got) != show(c) {
		t.Fatalf("read back:\n got %s, %v\nwant %s", show(got), err, show(c))
	}
	for _, id := range []string{mandates.NewID(w.now), "not-an-id"} {
		if _, err := st.Cosignature(ctx, id); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("Cosignature(%q) = %v, want ErrNotFound", id, err)
		}
	}
	list, err := st.CosignaturesAwaiting(ctx, w.marie, []string{r.ID})
	if err != nil || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("awaiting the curator: %v, %v", list, err)
	}
	if list, _ := st.CosignaturesAwaiting(ctx, w.jeanne, nil); len(list) != 0 {
		t.Errorf("the person is listed for a request her curator answers: %v", list)
	}
	if _, err := st.UpdateCosignature(ctx, c.ID, func(c *mandates.Cosignature) error { return errors.New("no") }); err == nil {
		t.Error("a failing update succeeded")
	}
	if _, err := st.UpdateCosignature(ctx, c.ID, func(c *mandates.Cosignature) error { c.PersonID = w.karim; return nil }); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("changing the person: %v, want ErrInvalid", err)
	}
	up, err := st.UpdateCosignature(ctx, c.ID, func(c *mandates.Cosignature) error {
		c.Status, c.DecidedBy, c.DecidedAt = mandates.CosignApproved, w.marie, w.now
		return nil
	})
	if err != nil || up.Version != 2 || up.Status != mandates.CosignApproved {
		t.Fatalf("update: %+v, %v", up, err)
	}
	if got, _ := st.Cosignature(ctx, c.ID); show(got) != show(up) {
		t.Errorf("after update:\n got %s\nwant %s", show(got), show(up))
	}
	if list, _ := st.CosignaturesAwaiting(ctx, w.marie, []string{r.ID}); len(list) != 0 {
		t.Errorf("an approved request is still awaiting: %v", list)
	}
	reported := w.now.Add(3 * time.Minute)
	up, err = st.UpdateCosignature(ctx, c.ID, func(c *mandates.Cosignature) error {
		c.Status, c.UsedAt, c.ActReportedAt = mandates.CosignUsed, w.now, reported
		return nil
	})
	if err != nil || !up.ActReportedAt.Equal(reported) {
		t.Fatalf("marking the act it backed: %+v, %v", up, err)
	}
	if got, _ := st.Cosignature(ctx, c.ID); !got.ActReportedAt.Equal(reported) || show(got) != show(up) {
		t.Errorf("after the act:\n got %s\nwant %s", show(got), show(up))
	}
}

func testCosignPersonActs(t *testing.T, w *world, _ CosignatureStore) {
	ctx := t.Context()
	r := w.curatelle(t)
	if a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Dispose, "caf", ""); a.Decision != mandates.Cosign {
		t.Fatalf("the person disposing under curatelle renforcée: %s, want cosign", a.Decision)
	}
	c := w.request(t, w.jeanne, w.jeanne, mandates.Dispose)
	if c.Party != mandates.PartyRepresentative || c.RepresentationID != r.ID || c.Status != mandates.CosignPending {
		t.Fatalf("request: %+v", c)
	}
	list, err := w.svc.CosignaturesAwaiting(ctx, mandates.Actor{PersonID: w.marie, SecondFactor: true})
	if err != nil || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("awaiting Marie: %v, %v", list, err)
	}
	if list, _ := w.svc.CosignaturesAwaiting(ctx, mandates.Actor{PersonID: w.jeanne, SecondFactor: true}); len(list) != 0 {
		t.Errorf("the actor is asked to agree to her own act: %v", list)
	}
	if a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Dispose, "caf", c.ID); a.Decision != mandates.Cosign {
		t.Errorf("before approval: %s, want cosign", a.Decision)
	}
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Dispose, "caf", c.ID); a.Decision != mandates.Allowed || a.Representation == nil {
		t.Fatalf("after approval: %+v, want allowed", a)
	}
	a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Dispose, "caf", c.ID)
	if a.Decision != mandates.Cosign || locales.Reason(a.Reason).EN == "" {
		t.Errorf("second use: %+v, want cosign with a reason", a)
	}
	// Each evaluation is journaled too, with the answer it got: cosign
	// before the approval, allowed once, cosign again.
	want := []mandates.EventType{mandates.EventCosignRequested, mandates.EventAccessEvaluated, mandates.EventCosignApproved,
		mandates.EventCosignUsed, mandates.EventAccessEvaluated, mandates.EventAccessEvaluated}
	wantDecisions := []string{"cosign", "allowed", "cosign"}
	var got []mandates.EventType
	var decisions []string
	for _, e := range w.events.events {
		if e.Detail["cosignature_id"] == c.ID {
			got = append(got, e.Type)
			if e.Type == mandates.EventAccessEvaluated {
				decisions = append(decisions, e.Detail["decision"])
			}
			if e.PersonID != w.jeanne || e.RepresentationID != r.ID {
				t.Errorf("event %s is not in Jeanne's journal under the measure: %+v", e.Type, e)
			}
		}
	}
	if show(got) != show(want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if !slices.Equal(decisions, wantDecisions) {
		t.Errorf("evaluations answered %v, want %v", decisions, wantDecisions)
	}
}

func testCosignRepresentativeActs(t *testing.T, w *world, _ CosignatureStore) {
	ctx := t.Context()
	w.curatelle(t)
	c := w.request(t, w.marie, w.jeanne, mandates.Dispose)
	if c.Party != mandates.PartyPerson {
		t.Fatalf("a curator's act: the person agrees, got party %s", c.Party)
	}
	for _, who := range []string{w.karim, w.marie} {
		if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: who}, c.ID, true); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("answer by %s: %v, want ErrNotFound", who, err)
		}
		if _, err := w.svc.CosignatureToAgree(ctx, mandates.Actor{PersonID: who, SecondFactor: true}, c.ID); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("%s sees the request: %v", who, err)
		}
	}
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.jeanne}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, approve := range []bool{true, false} {
		if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.jeanne}, c.ID, approve); !errors.Is(err, mandates.ErrCosignDecided) {
			t.Errorf("answered again (%v): %v, want ErrCosignDecided", approve, err)
		}
	}
	if a := w.evaluate(t, w.marie, w.jeanne, mandates.Dispose, "caf", c.ID); a.Decision != mandates.Allowed {
		t.Errorf("after the person's agreement: %s", a.Decision)
	}
}

func testCosignRefusedOrOther(t *testing.T, w *world, _ CosignatureStore) {
	ctx := t.Context()
	w.curatelle(t)
	refused := w.request(t, w.jeanne, w.jeanne, mandates.Dispose)
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie}, refused.ID, false); err != nil {
		t.Fatal(err)
	}
	if a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Dispose, "caf", refused.ID); a.Decision != mandates.Cosign {
		t.Errorf("refused: %s", a.Decision)
	}
	ok := w.request(t, w.jeanne, w.jeanne, mandates.Dispose)
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie}, ok.ID, true); err != nil {
		t.Fatal(err)
	}
	// Manage also needs the curator under curatelle renforcée: another act.
	if a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Manage, "caf", ok.ID); a.Decision != mandates.Cosign {
		t.Errorf("another action: %s", a.Decision)
	}
	// Another site learns nothing of it: answered as an id no longer
	// stored is (mandates.Service.Evaluate).
	if a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Dispose, "impots", ok.ID); a.Decision != mandates.Cosign || a.Reason.Code != mandates.ReasonCosignExpired {
		t.Errorf("another site's co-signature: %s (%s), want cosign, %s", a.Decision, a.Reason.Code, mandates.ReasonCosignExpired)
	}
	if a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Dispose, "caf", ok.ID); a.Decision != mandates.Allowed {
		t.Errorf("the right act, after the wrong ones: %s (they must not use it up)", a.Decision)
	}
}

func testCosignExpiry(t *testing.T, w *world, _ CosignatureStore) {
	ctx := t.Context()
	w.curatelle(t)
	c := w.request(t, w.jeanne, w.jeanne, mandates.Dispose)
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(mandates.CosignatureTTL)
	if a := w.evaluate(t, w.jeanne, w.jeanne, mandates.Dispose, "caf", c.ID); a.Decision != mandates.Cosign {
		t.Errorf("after %s: %s, want cosign", mandates.CosignatureTTL, a.Decision)
	}
	late := w.request(t, w.jeanne, w.jeanne, mandates.Dispose)
	w.now = w.now.Add(mandates.CosignaturePendingTTL)
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie}, late.ID, true); !errors.Is(err, mandates.ErrCosignDecided) {
		t.Errorf("approving after a week: %v, want ErrCosignDecided", err)
	}
	if list, _ := w.svc.CosignaturesAwaiting(ctx, mandates.Actor{PersonID: w.marie, SecondFactor: true}); len(list) != 0 {
		t.Errorf("expired requests still listed: %v", list)
	}
}

func testCosignNotNeeded(t *testing.T, w *world, st CosignatureStore) {
	ctx := t.Context()
	w.curatelle(t)
	for _, tc := range []struct {
		actor  string
		action mandates.Action
	}{{w.marie, mandates.Manage}, {w.jeanne, mandates.Consult}, {w.karim, mandates.Dispose}} {
		_, err := w.svc.RequestCosignature(ctx, mandates.CosignatureRequest{ClientID: "caf", PersonID: w.jeanne, ActorID: tc.actor,
			Action: tc.action, Area: "argent", Description: "Un acte"})
		if !errors.Is(err, mandates.ErrNoCosignNeeded) {
			t.Errorf("%s %s: %v, want ErrNoCosignNeeded", tc.actor, tc.action, err)
		}
	}
	if _, err := w.svc.RequestCosignature(ctx, mandates.CosignatureRequest{ClientID: "caf", PersonID: w.jeanne, ActorID: w.jeanne,
		Action: mandates.Dispose, Area: "argent", Description: ""}); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("no description: %v, want ErrInvalid", err)
	}
	if list, _ := st.CosignaturesAwaiting(ctx, w.marie, nil); len(list) != 0 {
		t.Errorf("a refused request was written: %v", list)
	}
}

func testCosignOrganisation(t *testing.T, w *world, _ CosignatureStore) {
	ctx := t.Context()
	o, err := w.svc.CreateOrganisation(ctx, w.op(), mandates.Organisation{Name: "Service mandataire du Rhône", Kind: mandates.OrgMJPMService, Address: orgAddress}, w.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{w.marie, w.karim} {
		enrolSecondFactor(t, w.st, p, w.now)
		if _, err := w.svc.Habilitate(ctx, mandates.Actor{PersonID: w.admin}, o.ID, p, mandates.MemberAidant); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.svc.RegisterMeasure(ctx, w.op(), mandates.MeasureInput{Kind: mandates.CuratelleRenforcee, PersonID: w.jeanne,
		Representatives: []mandates.RepresentativeInput{{OrganisationID: o.ID, Delegates: []string{w.marie}, Role: mandates.RoleCurateur}},
		ValidFrom:       w.now.AddDate(0, -1, 0), ValidUntil: w.now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: w.now.AddDate(0, -1, -10), Reference: "RG 26/00888"}}); err != nil {
		t.Fatal(err)
	}
	c := w.request(t, w.jeanne, w.jeanne, mandates.Dispose)
	if list, _ := w.svc.CosignaturesAwaiting(ctx, mandates.Actor{PersonID: w.karim, SecondFactor: true}); len(list) != 0 {
		t.Errorf("a member who is not the named delegate is asked: %v", list)
	}
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.karim}, c.ID, true); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("answer by another member: %v, want ErrNotFound", err)
	}
	if list, err := w.svc.CosignaturesAwaiting(ctx, mandates.Actor{PersonID: w.marie, SecondFactor: true}); err != nil || len(list) != 1 {
		t.Fatalf("awaiting the delegate: %v, %v", list, err)
	}
	// Without the code, the organisation's requests are neither listed
	// nor shown to her.
	if list, err := w.svc.CosignaturesAwaiting(ctx, mandates.Actor{PersonID: w.marie}); err != nil || len(list) != 0 {
		t.Errorf("awaiting the delegate logged in with a password only: %v, %v; want none", list, err)
	}
	if _, err := w.svc.CosignatureToAgree(ctx, mandates.Actor{PersonID: w.marie}, c.ID); !errors.Is(err, mandates.ErrSecondFactor) {
		t.Errorf("the request shown to the delegate with a password only: %v, want ErrSecondFactor", err)
	}
	// The delegate agrees for the organisation: with her second factor.
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie}, c.ID, true); !errors.Is(err, mandates.ErrSecondFactor) {
		t.Errorf("answer by the delegate with a password only: %v, want ErrSecondFactor", err)
	}
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie, SecondFactor: true}, c.ID, true); err != nil {
		t.Fatal(err)
	}
}

func testCosignConcurrent(t *testing.T, w *world, _ CosignatureStore) {
	ctx := t.Context()
	w.curatelle(t)
	c := w.request(t, w.jeanne, w.jeanne, mandates.Dispose)
	if _, err := w.svc.AnswerCosignature(ctx, mandates.Actor{PersonID: w.marie}, c.ID, true); err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	answers := make(chan mandates.Decision, n)
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			a, err := w.svc.Evaluate(ctx, mandates.Question{ActorID: w.jeanne, PersonID: w.jeanne, Action: mandates.Dispose, Area: "argent", At: w.now}, "caf", c.ID)
			if err != nil {
				errs <- err
				return
			}
			answers <- a.Decision
		})
	}
	wg.Wait()
	close(answers)
	close(errs)
	for err := range errs {
		t.Errorf("concurrent evaluation failed: %v", err)
	}
	allowed := 0
	for d := range answers {
		if d == mandates.Allowed {
			allowed++
		}
	}
	if allowed != 1 {
		t.Errorf("%d of %d concurrent evaluations allowed, want exactly 1", allowed, n)
	}
}
