package mandates

import (
	"errors"
	"testing"
	"time"
)

// cosignWorld is a person under curatelle simple and their curator: the
// person disposing needs the curator's agreement, and the curator
// disposing needs the person's.
type cosignWorld struct {
	*memWorld
	curator Actor
	measure Representation
}

func newCosignWorld(t *testing.T) *cosignWorld {
	w := newMemWorld(t, ServiceConfig{})
	curator := Actor{PersonID: w.person("Lucie", "Moreau")}
	return &cosignWorld{memWorld: w, curator: curator, measure: w.measure(CuratelleSimple, w.jane, curator.PersonID, RoleCurateur)}
}

func (w *cosignWorld) request(actorID string) Cosignature {
	w.t.Helper()
	c, err := w.svc.RequestCosignature(w.ctx, CosignatureRequest{ClientID: "caf", PersonID: w.jane, ActorID: actorID, Action: Dispose, Area: "argent",
		Description: "Vendre la voiture"})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func TestWhoMustAgreeToAnAct(t *testing.T) {
	tests := []struct {
		name       string
		personActs bool
		party      Party
	}{
		{"the person disposing: the curator agrees", true, PartyRepresentative},
		{"the curator disposing: the person agrees", false, PartyPerson},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newCosignWorld(t)
			actor, agree := w.jane, w.curator.PersonID
			if !tt.personActs {
				actor, agree = agree, actor
			}
			c := w.request(actor)
			if c.Party != tt.party || c.RepresentationID != w.measure.ID || c.Status != CosignPending || !c.ExpiresAt.Equal(c.CreatedAt.Add(CosignaturePendingTTL)) {
				t.Fatalf("request %+v, want the %s's agreement under the measure, pending for a week", c, tt.party)
			}
			if e := w.st.events[len(w.st.events)-1]; e.Type != EventCosignRequested || e.Detail["cosignature_id"] != c.ID {
				t.Errorf("event %+v, want the request", e)
			}
			if again := w.request(actor); again.ID != c.ID {
				t.Errorf("asking again opened %s, want the request waiting, %s", again.ID, c.ID)
			}
			list, err := w.svc.CosignaturesAwaiting(w.ctx, Actor{PersonID: agree})
			if err != nil || len(list) != 1 || list[0].ID != c.ID {
				t.Errorf("CosignaturesAwaiting(agreeing party) = %d, %v; want the request", len(list), err)
			}
			if list, _ := w.svc.CosignaturesAwaiting(w.ctx, Actor{PersonID: actor}); len(list) != 0 {
				t.Errorf("the actor is asked to agree to their own act: %d", len(list))
			}
			if got, err := w.svc.CosignatureToAgree(w.ctx, Actor{PersonID: agree}, c.ID); err != nil || got.ID != c.ID {
				t.Errorf("CosignatureToAgree(agreeing party) = %v", err)
			}
			if _, err := w.svc.CosignatureToAgree(w.ctx, Actor{PersonID: actor}, c.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("CosignatureToAgree(actor) = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestACosignatureIsNotOpenedForActsThatNeedNone(t *testing.T) {
	w := newCosignWorld(t)
	tests := []struct {
		name string
		in   CosignatureRequest
		want error
	}{
		{"an act the person does alone", CosignatureRequest{ClientID: "caf", PersonID: w.jane, ActorID: w.jane, Action: Manage, Area: "argent",
			Description: "Déclarer un changement"}, ErrNoCosignNeeded},
		{"an act nobody may do for the person", CosignatureRequest{ClientID: "caf", PersonID: w.jane, ActorID: w.person("Eve", "Autre"), Action: Dispose,
			Area: "argent", Description: "Vendre"}, ErrNoCosignNeeded},
		{"an act without a description", CosignatureRequest{ClientID: "caf", PersonID: w.jane, ActorID: w.jane, Action: Dispose, Area: "argent",
			Description: "  "}, ErrInvalid},
		{"an act of no site", CosignatureRequest{PersonID: w.jane, ActorID: w.jane, Action: Dispose, Area: "argent", Description: "Vendre"}, ErrInvalid},
		{"a malformed question", CosignatureRequest{ClientID: "caf", PersonID: w.jane, ActorID: w.jane, Action: Dispose, Area: "lune",
			Description: "Vendre"}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.svc.RequestCosignature(w.ctx, tt.in); !errors.Is(err, tt.want) {
				t.Errorf("RequestCosignature = %v, want %v", err, tt.want)
			}
			if len(w.st.cosigns) != 0 {
				t.Error("a request was stored")
			}
		})
	}
}

func TestAnsweringACosignature(t *testing.T) {
	tests := []struct {
		name    string
		before  func(w *cosignWorld, c Cosignature)
		a       func(w *cosignWorld) Actor
		approve bool
		want    error
		status  CosignatureStatus
	}{
		{"the curator approves", nil, func(w *cosignWorld) Actor { return w.curator }, true, nil, CosignApproved},
		{"the curator refuses", nil, func(w *cosignWorld) Actor { return w.curator }, false, nil, CosignRefused},
		{"the person cannot agree in the curator's place", nil, func(w *cosignWorld) Actor { return Actor{PersonID: w.jane} }, true, ErrNotFound, CosignPending},
		{"a stranger learns nothing", nil, func(w *cosignWorld) Actor { return Actor{PersonID: w.op.PersonID} }, true, ErrNotFound, CosignPending},
		{"an answered request is not answered again", func(w *cosignWorld, c Cosignature) {
			if _, err := w.svc.AnswerCosignature(w.ctx, w.curator, c.ID, false); err != nil {
				w.t.Fatal(err)
			}
		}, func(w *cosignWorld) Actor { return w.curator }, true, ErrCosignDecided, CosignRefused},
		{"a request a week old has expired", func(w *cosignWorld, _ Cosignature) { w.advance(CosignaturePendingTTL) },
			func(w *cosignWorld) Actor { return w.curator }, true, ErrCosignDecided, CosignPending},
		{"once the measure ends, nobody agrees under it", func(w *cosignWorld, _ Cosignature) {
			if _, err := w.svc.End(w.ctx, w.op, w.measure.ID, 0, ""); err != nil {
				w.t.Fatal(err)
			}
		}, func(w *cosignWorld) Actor { return w.curator }, true, ErrNotFound, CosignPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newCosignWorld(t)
			c := w.request(w.jane)
			if tt.before != nil {
				tt.before(w, c)
			}
			got, err := w.svc.AnswerCosignature(w.ctx, tt.a(w), c.ID, tt.approve)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("AnswerCosignature = %v, want %v", err, tt.want)
			}
			if stored := w.st.cosigns[c.ID]; stored.Status != tt.status {
				t.Errorf("stored status %s, want %s", stored.Status, tt.status)
			}
			if tt.want == nil && (got.DecidedBy != w.curator.PersonID || (tt.approve && !got.ExpiresAt.Equal(got.DecidedAt.Add(CosignatureTTL)))) {
				t.Errorf("answer %+v, want decided by the curator, usable for %v", got, CosignatureTTL)
			}
		})
	}
	t.Run("an id that is not an id is not found", func(t *testing.T) {
		w := newCosignWorld(t)
		if _, err := w.svc.AnswerCosignature(w.ctx, w.curator, "x", true); !errors.Is(err, ErrNotFound) {
			t.Errorf("AnswerCosignature = %v, want ErrNotFound", err)
		}
		if _, err := w.svc.CosignatureToAgree(w.ctx, w.curator, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("CosignatureToAgree = %v, want ErrNotFound", err)
		}
	})
}

func TestAnApprovalMakesTheActAllowedOnce(t *testing.T) {
	w := newCosignWorld(t)
	c := w.request(w.jane)
	q := Question{ActorID: w.jane, PersonID: w.jane, Action: Dispose, Area: "argent"}

	ans, err := w.svc.Evaluate(w.ctx, q, "caf", c.ID)
	if err != nil || ans.Decision != Cosign {
		t.Fatalf("Evaluate before the approval = %s, %v; want cosign", ans.Decision, err)
	}
	if _, err := w.svc.AnswerCosignature(w.ctx, w.curator, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.CosignatureToAgree(w.ctx, w.curator, c.ID); err != nil {
		t.Errorf("the curator reading what they approved = %v", err)
	}
	steps := []struct {
		name     string
		client   string
		id       string
		want     Decision
		err      error
		q        func(Question) Question
		usedOnce bool
	}{
		{"another site cannot use it", "impots", c.ID, Cosign, nil, nil, false},
		{"an id that is not an id is not found", "caf", "x", "", ErrNotFound, nil, false},
		{"an unknown id cannot be used", "caf", NewID(w.clock), Cosign, nil, nil, false},
		{"for another area it is not used", "caf", c.ID, Cosign, nil, func(q Question) Question {
			q.Area = "logement"
			return q
		}, false},
		{"the act agreed to is allowed", "caf", c.ID, Allowed, nil, nil, true},
		{"once only", "caf", c.ID, Cosign, nil, nil, true},
	}
	for _, s := range steps { // in order
		qq := q
		if s.q != nil {
			qq = s.q(q)
		}
		ans, err := w.svc.Evaluate(w.ctx, qq, s.client, s.id)
		if !errors.Is(err, s.err) || (s.err == nil && (err != nil || ans.Decision != s.want)) {
			t.Fatalf("%s: Evaluate = %s, %v; want %s, %v", s.name, ans.Decision, err, s.want, s.err)
		}
		if used := w.st.cosigns[c.ID].Status == CosignUsed; used != s.usedOnce {
			t.Errorf("%s: used %v, want %v", s.name, used, s.usedOnce)
		}
	}
	got, err := w.svc.CosignatureOf(w.ctx, "caf", c.ID)
	if err != nil || got.Status != CosignUsed || got.UsedAt.IsZero() {
		t.Errorf("CosignatureOf = %+v, %v; want it used", got, err)
	}
	for _, client := range []string{"impots", ""} {
		if _, err := w.svc.CosignatureOf(w.ctx, client, c.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("CosignatureOf(%q) = %v, want ErrNotFound", client, err)
		}
	}
	if _, err := w.svc.CosignatureOf(w.ctx, "caf", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CosignatureOf(malformed) = %v, want ErrNotFound", err)
	}
}

// The cleanup deletes a request some time after it expired unanswered
// (mandates.ExpiredCosignatures), while sites and journal entries still
// name it: an evaluation naming an id no longer stored is answered, and
// journaled, as one naming the expired request was. An unknown id and
// another site's get that same answer, so a site cannot tell them apart
// from a deleted one, nor learn that another site's request exists, and
// none of them makes the act allowed.
func TestAnEvaluationNamingARequestNoLongerStoredIsAnsweredAsExpired(t *testing.T) {
	for _, tt := range requestsNoLongerUsable {
		t.Run(tt.name, func(t *testing.T) {
			w := newCosignWorld(t)
			c := w.request(w.jane)
			if tt.client != "caf" {
				// Another site's request, pending: only its own site may
				// learn that it exists.
				w.advance(time.Minute)
			} else {
				w.advance(CosignaturePendingTTL + time.Second)
			}
			id := tt.id(w, c)
			before := len(w.st.events)
			ans, err := w.svc.Evaluate(w.ctx, Question{ActorID: w.jane, PersonID: w.jane, Action: Dispose, Area: "argent"}, tt.client, id)
			if err != nil || ans.Decision != Cosign || ans.Reason.Code != ReasonCosignExpired {
				t.Fatalf("Evaluate = %s (%s), %v; want cosign, %s", ans.Decision, ans.Reason.Code, err, ReasonCosignExpired)
			}
			if len(w.st.events) != before+1 {
				t.Fatalf("%d events written, want the evaluation's", len(w.st.events)-before)
			}
			e := w.st.events[before]
			if e.Type != EventAccessEvaluated || e.Detail["decision"] != "cosign" || e.Detail["cosignature_id"] != id || e.ClientID != tt.client {
				t.Errorf("event %+v, want the evaluation answered cosign, naming %s", e, id)
			}
			if got, ok := w.st.cosigns[c.ID]; ok && got.Status != CosignPending {
				t.Errorf("the request is now %s, want it left pending", got.Status)
			}
		})
	}
}

func TestOfTwoEvaluationsWithOneApprovalOnlyOneIsAllowed(t *testing.T) {
	w := newCosignWorld(t)
	c := w.request(w.jane)
	if _, err := w.svc.AnswerCosignature(w.ctx, w.curator, c.ID, true); err != nil {
		t.Fatal(err)
	}
	// Another evaluation uses the approval between this one's read and
	// its write.
	w.st.interleave = func(st *memStore) {
		u := st.cosigns[c.ID]
		u.Status, u.UsedAt, u.Version = CosignUsed, w.clock, u.Version+1
		st.cosigns[c.ID] = u
	}
	ans, err := w.svc.Evaluate(w.ctx, Question{ActorID: w.jane, PersonID: w.jane, Action: Dispose, Area: "argent"}, "caf", c.ID)
	if err != nil || ans.Decision != Cosign {
		t.Fatalf("Evaluate = %s, %v; want cosign: the other one used it", ans.Decision, err)
	}
	e := w.st.events[len(w.st.events)-1]
	if e.Type != EventAccessEvaluated || e.Detail["decision"] != "cosign" || e.Detail["cosignature_id"] != c.ID {
		t.Errorf("event %+v, want the evaluation answered cosign, naming the co-signature", e)
	}
}

func TestAnAgreementThroughAnOrganisationNeedsASecondFactor(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	in := w.measureInput(CuratelleSimple, w.jane, "", RoleCurateur)
	in.Representatives[0] = RepresentativeInput{OrganisationID: w.desk, Role: RoleCurateur}
	if _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); err != nil {
		t.Fatal(err)
	}
	c, err := w.svc.RequestCosignature(w.ctx, CosignatureRequest{ClientID: "caf", PersonID: w.jane, ActorID: w.jane, Action: Dispose, Area: "argent",
		Description: "Vendre la voiture"})
	if err != nil {
		t.Fatal(err)
	}
	without := Actor{PersonID: w.aidant.PersonID}
	if list, err := w.svc.CosignaturesAwaiting(w.ctx, without); err != nil || len(list) != 0 {
		t.Errorf("CosignaturesAwaiting without a second factor = %d, %v; want none", len(list), err)
	}
	if _, err := w.svc.CosignatureToAgree(w.ctx, without, c.ID); !errors.Is(err, ErrSecondFactor) {
		t.Errorf("CosignatureToAgree without a second factor = %v, want ErrSecondFactor", err)
	}
	if _, err := w.svc.AnswerCosignature(w.ctx, without, c.ID, true); !errors.Is(err, ErrSecondFactor) {
		t.Errorf("AnswerCosignature without a second factor = %v, want ErrSecondFactor", err)
	}
	if list, err := w.svc.CosignaturesAwaiting(w.ctx, w.aidant); err != nil || len(list) != 1 {
		t.Errorf("CosignaturesAwaiting with one = %d, %v; want the request", len(list), err)
	}
	if got, err := w.svc.AnswerCosignature(w.ctx, w.aidant, c.ID, true); err != nil || got.Status != CosignApproved {
		t.Errorf("AnswerCosignature with one = %v, %v; want approved", got.Status, err)
	}
}

func TestAnApprovalIsUsableForAQuarterOfAnHour(t *testing.T) {
	w := newCosignWorld(t)
	c := w.request(w.jane)
	if _, err := w.svc.AnswerCosignature(w.ctx, w.curator, c.ID, true); err != nil {
		t.Fatal(err)
	}
	w.advance(CosignatureTTL + time.Second)
	ans, err := w.svc.Evaluate(w.ctx, Question{ActorID: w.jane, PersonID: w.jane, Action: Dispose, Area: "argent"}, "caf", c.ID)
	if err != nil || ans.Decision != Cosign {
		t.Errorf("Evaluate after the approval's end = %s, %v; want cosign", ans.Decision, err)
	}
}

// requestsNoLongerUsable are the co-signature ids an evaluation and a
// reported act answer as an expired request: the client that names it and
// the id, made from the request w opened for c.
var requestsNoLongerUsable = []struct {
	name   string
	client string
	id     func(w *cosignWorld, c Cosignature) string
}{
	{"the expired request, still stored", "caf", func(w *cosignWorld, c Cosignature) string { return c.ID }},
	{"the expired request, deleted", "caf", func(w *cosignWorld, c Cosignature) string {
		delete(w.st.cosigns, c.ID)
		return c.ID
	}},
	{"an id that never was", "caf", func(w *cosignWorld, c Cosignature) string { return NewID(w.clock) }},
	{"another site's request", "impots", func(w *cosignWorld, c Cosignature) string { return c.ID }},
}
