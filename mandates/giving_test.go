package mandates

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// givers is DESIGN.md §3's rule of who gives a mandate or a proxy under each
// measure, written out by hand so that a changed file fails this test.
var givers = map[Kind]Giver{
	Tutelle: GivenByRepresentative, HabilitationRepresentation: GivenByRepresentative, MandatProtectionFuture: GivenByRepresentative,
	CuratelleRenforcee: GivenWithAgreement,
	CuratelleSimple:    GivenByPerson, HabilitationAssistance: GivenByPerson, SauvegardeJustice: GivenByPerson,
}

func TestWhoGivesUnderEachMeasure(t *testing.T) {
	p := DefaultPolicy()
	for _, k := range Kinds {
		if !k.IsMeasure() {
			continue
		}
		if got := p.Giver(k); got != givers[k] {
			t.Errorf("%s: %s gives, want %s", k, got, givers[k])
		}
	}
}

func TestBadGiveRowsStopNamingTheirLine(t *testing.T) {
	base := string(DefaultPolicyFile())
	tests := []struct {
		name, edit, want string
		line             int
	}{
		{"an unknown rule", "give  tutelle                                 representative", "give tutelle the_judge", 0},
		{"a kind that is not a measure", "give  tutelle                                 representative",
			"give tutelle representative\ngive aidant_mandate person_told", 1},
		{"a repeated row", "give  tutelle                                 representative", "give tutelle representative\ngive tutelle person_told", 1},
		{"a missing word", "give  tutelle                                 representative", "give tutelle", 0},
		{"a missing row", "give  curatelle_simple                        person_told", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.edit) {
				t.Fatalf("the default file has no %q", tt.edit)
			}
			file := strings.Replace(base, tt.edit, tt.want, 1)
			_, err := ParsePolicy([]byte(file))
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePolicy = %v, want a *PolicyError", err)
			}
			if tt.line >= 0 {
				want := strings.Count(file[:strings.Index(file, tt.want)], "\n") + 1 + tt.line
				if pe.Line != want {
					t.Errorf("line %d (%s), want %d", pe.Line, pe.Problem, want)
				}
			}
		})
	}
}

// under puts r under measure m's rule, as StartMandate or GiveProxy do,
// answered by m's representative when given is true.
func under(p *Policy, r Representation, m *Representation, given bool) Representation {
	r.Source.Measure = p.underMeasure(m, actorID)
	if given {
		r.Source.Measure.AnsweredBy, r.Source.Measure.AnsweredAt = m.Representative.PersonID, t0
	}
	return r
}

// measureOver is an active measure over personID held by someone else
// than actorID.
func measureOver(k Kind, role Role) Representation {
	m := sample(k, role)
	m.ID = NewID(t0.Add(time.Second))
	m.Representative = Representative{PersonID: "0193a000-0000-7000-8000-0000000000b1"}
	return m
}

func TestNeverMoreThanTheMeasureLeaves(t *testing.T) {
	p := DefaultPolicy()
	generous, err := ParsePolicy([]byte(strings.Replace(string(DefaultPolicyFile()),
		"aidant_mandate                          aidant               allowed  allowed  no",
		"aidant_mandate                          aidant               allowed  allowed  allowed", 1)))
	if err != nil {
		t.Fatal(err)
	}
	tutelle := measureOver(Tutelle, RoleTuteur)
	tuteurPersonne := measureOver(Tutelle, RoleTuteurPersonne)
	renforcee := measureOver(CuratelleRenforcee, RoleCurateur)
	simple := measureOver(CuratelleSimple, RoleCurateur)
	papers := measureOver(Tutelle, RoleTuteur)
	papers.Areas = []Area{"papiers"}
	mandate, proxy := sample(AidantMandate, RoleAidant), sample(Proxy, RoleProxyHolder)
	tests := []struct {
		name      string
		policy    *Policy
		rep       Representation
		measure   Representation
		action    Action
		want      Decision
		agreement bool // the curator's agreement is asked
		because   string
	}{
		{"tutelle, mandate given by the tutor: the aidant manages", p, under(p, mandate, &tutelle, true), tutelle, Manage, Allowed, false, "autorisé"},
		{"tutelle, mandate given by the tutor: still never disposes", p, under(p, mandate, &tutelle, true), tutelle, Dispose, No, false, ""},
		{"tutelle, mandate the tutor did not give: consult only", p, under(p, mandate, &tutelle, false), tutelle, Manage, No, false, "qui donne"},
		{"tutelle, mandate from before the measure: consult only", p, mandate, tutelle, Manage, No, false, "qui donne"},
		{"tutelle, mandate the tutor did not give: consulting stays", p, under(p, mandate, &tutelle, false), tutelle, Consult, Allowed, false, ""},
		{"tutelle: a generous policy lets an aidant dispose as the tutor may", generous, under(generous, mandate, &tutelle, true), tutelle, Dispose, Allowed, false, ""},
		{"tutelle: never more than the tutor who gave it may", generous, under(generous, mandate, &tuteurPersonne, true), tuteurPersonne, Dispose, No, false, ""},
		{"curatelle renforcée: managing needs the curator's agreement", p, under(p, mandate, &renforcee, true), renforcee, Manage, Cosign, true, "accord du curateur"},
		{"curatelle renforcée: a proxy holder needs it too", p, under(p, proxy, &renforcee, true), renforcee, Manage, Cosign, true, "accord du curateur"},
		{"curatelle renforcée: consulting needs nothing", p, under(p, mandate, &renforcee, true), renforcee, Consult, Allowed, false, ""},
		{"curatelle simple: everyday acts need nothing", p, under(p, mandate, &simple, false), simple, Manage, Allowed, false, ""},
		{"curatelle simple: disposing needs the curator's agreement", generous, under(generous, mandate, &simple, false), simple, Dispose, Cosign, true, "accord du curateur"},
		{"a measure that does not cover the area sets no limit", p, under(p, mandate, &papers, false), papers, Manage, Allowed, false, ""},
		{"never a strictly personal act", generous, under(generous, mandate, &tutelle, true), tutelle, Personal, No, false, "personnel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts(tt.rep, tt.measure)
			ans, err := tt.policy.Decide(Question{ActorID: actorID, PersonID: personID, Action: tt.action, Area: "social", At: t0}, f)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Decision != tt.want || !strings.Contains(words(ans.Reason).FR, tt.because) {
				t.Errorf("Decide = %s (%s), want %s because %q", ans.Decision, words(ans.Reason).FR, tt.want, tt.because)
			}
			if got := ans.Agreement != nil && ans.Agreement.ID == tt.measure.ID; got != tt.agreement {
				t.Errorf("agreement asked of the measure: %v, want %v", got, tt.agreement)
			}
			// A token's claims say the same.
			v := View{Representation: tt.rep, Limits: []Representation{tt.measure}, LimitsAt: t0}
			if got := tt.policy.Allows(&v, tt.action, "social"); got != tt.want {
				t.Errorf("Allows = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTheStrictestMeasureSetsTheRule(t *testing.T) {
	p := DefaultPolicy()
	tutelle := measureOver(Tutelle, RoleTuteur)
	subroge := measureOver(Tutelle, RoleSubrogeTuteur)
	subroge.ID = NewID(t0.Add(2 * time.Second))
	simple := measureOver(CuratelleSimple, RoleCurateur)
	papers := measureOver(CuratelleRenforcee, RoleCurateur)
	papers.Areas = []Area{"papiers"}
	ended := measureOver(Tutelle, RoleTuteur)
	ended.Status = StatusRevoked
	tests := []struct {
		name  string
		reps  []Representation
		areas []Area
		want  string // the measure's id, or "" for none
	}{
		{"none: the person gives", nil, []Area{"social"}, ""},
		{"tutelle over curatelle simple", []Representation{simple, tutelle}, []Area{"social"}, tutelle.ID},
		{"the tutor, not the deputy who only watches", []Representation{subroge, tutelle}, []Area{"social"}, tutelle.ID},
		{"a measure over other areas does not count", []Representation{papers}, []Area{"social"}, ""},
		{"a measure over one of the areas counts", []Representation{papers}, []Area{"social", "papiers"}, papers.ID},
		{"an ended measure does not count", []Representation{ended}, []Area{"social"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := p.Rule(tt.reps, personID, tt.areas, t0)
			got := ""
			if m != nil {
				got = m.ID
			}
			if got != tt.want {
				t.Errorf("Rule = %q, want %q", got, tt.want)
			}
		})
	}
}

// pending is r waiting for consent, given by the person (consented) and
// accepted by the holder (accepted) or not yet.
func pending(r Representation, consented, accepted bool) Representation {
	r.Status, r.Source.Consent = StatusPendingConsent, nil
	if consented {
		r.Source.Consent = &ConsentRecord{Method: ConsentOwnAccount, GivenAt: t0}
		if accepted {
			r.Source.Consent.AcceptedAt = t0
		}
	}
	return r
}

func TestWhoARequestWaitsFor(t *testing.T) {
	p := DefaultPolicy()
	tutelle, renforcee, simple := measureOver(Tutelle, RoleTuteur), measureOver(CuratelleRenforcee, RoleCurateur), measureOver(CuratelleSimple, RoleCurateur)
	mandate, proxy := sample(AidantMandate, RoleAidant), sample(Proxy, RoleProxyHolder)
	tests := []struct {
		name string
		rep  Representation
		want Waiting
	}{
		{"a mandate without a measure waits for the person", pending(mandate, false, false), WaitingPerson},
		{"under tutelle, the tutor gives it first", pending(under(p, mandate, &tutelle, false), false, false), WaitingRepresentative},
		{"under tutelle, once the tutor gave it, nothing", pending(under(p, mandate, &tutelle, true), true, false), WaitingNobody},
		{"under curatelle renforcée, the person first", pending(under(p, mandate, &renforcee, false), false, false), WaitingPerson},
		{"under curatelle renforcée, then the curator", pending(under(p, mandate, &renforcee, false), true, false), WaitingRepresentative},
		{"under curatelle simple, the person only", pending(under(p, mandate, &simple, false), false, false), WaitingPerson},
		{"a proxy waits for the holder", pending(proxy, true, false), WaitingHolder},
		{"a proxy under curatelle renforcée waits for the curator first", pending(under(p, proxy, &renforcee, false), true, false), WaitingRepresentative},
		{"then for the holder", pending(under(p, proxy, &renforcee, true), true, false), WaitingHolder},
		{"accepted by the holder, still for the curator", pending(under(p, proxy, &renforcee, false), true, true), WaitingRepresentative},
		{"a mandate in force waits for nobody", under(p, mandate, &tutelle, true), WaitingNobody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rep.Waits(); got != tt.want {
				t.Errorf("Waits = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAProxyAwaitsItsHolderOnlyOnceNobodyElseMustAnswerFirst(t *testing.T) {
	p := DefaultPolicy()
	renforcee := measureOver(CuratelleRenforcee, RoleCurateur)
	proxy := sample(Proxy, RoleProxyHolder)
	holder := proxy.Representative.PersonID
	tests := []struct {
		name   string
		rep    Representation
		reader string
		want   bool
	}{
		{"a proxy waiting for its holder, read by the holder", pending(proxy, true, false), holder, true},
		{"the same proxy, read by someone else", pending(proxy, true, false), NewID(t0), false},
		{"a proxy under curatelle renforcée, the curator not asked yet", pending(under(p, proxy, &renforcee, false), true, false), holder, false},
		{"the curator agreed: now the holder", pending(under(p, proxy, &renforcee, true), true, false), holder, true},
		{"accepted by the holder, waiting for the curator", pending(under(p, proxy, &renforcee, false), true, true), holder, false},
		{"a proxy in force", under(p, proxy, &renforcee, true), holder, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rep.AwaitsHolder(tt.reader); got != tt.want {
				t.Errorf("AwaitsHolder = %v, want %v (waits for %q)", got, tt.want, tt.rep.Waits())
			}
		})
	}
}

func TestWhoAnswersForThePerson(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		kind Kind
		role Role
		want bool
	}{
		{Tutelle, RoleTuteur, true},
		{Tutelle, RoleCoTuteur, true},
		{Tutelle, RoleTuteurPersonne, true},
		{Tutelle, RoleSubrogeTuteur, false},
		{CuratelleRenforcee, RoleCurateur, true},
		{CuratelleRenforcee, RoleSubrogeCurateur, false},
		{HabilitationRepresentation, RolePersonneHabilitee, true},
		{MandatProtectionFuture, RoleMandataire, true},
		{CuratelleSimple, RoleCurateur, true}, // told
	}
	for _, tt := range tests {
		m := measureOver(tt.kind, tt.role)
		if got := p.mayAnswer(&m); got != tt.want {
			t.Errorf("%s %s answers: %v, want %v", tt.kind, tt.role, got, tt.want)
		}
	}
}

func TestOneOpenMandateBetweenTheSameParties(t *testing.T) {
	in := sample(AidantMandate, RoleAidant)
	pending := in
	pending.ID, pending.Status = NewID(t0.Add(time.Second)), StatusPendingConsent
	other := in
	other.ID, other.Representative = NewID(t0.Add(2*time.Second)), Representative{OrganisationID: "0193a000-0000-7000-8000-0000000000c1"}
	ended := in
	ended.ID, ended.Status = NewID(t0.Add(3*time.Second)), StatusRevoked
	expired := in
	expired.ID, expired.ValidFrom, expired.ValidUntil = NewID(t0.Add(4*time.Second)), t0.AddDate(-1, -1, 0), t0.AddDate(0, -1, 0)
	proxy := sample(Proxy, RoleProxyHolder)
	next := in
	next.ID = NewID(t0.Add(time.Minute))
	tests := []struct {
		name string
		reps []Representation
		want string
	}{
		{"a mandate in force with the same organisation", []Representation{in}, in.ID},
		{"a request waiting with the same organisation", []Representation{pending}, pending.ID},
		{"another organisation's mandate", []Representation{other}, ""},
		{"a mandate stopped", []Representation{ended}, ""},
		{"a mandate ended by its date", []Representation{expired}, ""},
		{"a proxy is another kind", []Representation{proxy}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if o := openBetween(tt.reps, &next, t0); o != nil {
				got = o.ID
			}
			if got != tt.want {
				t.Errorf("openBetween = %q, want %q", got, tt.want)
			}
		})
	}
	err := error(&OpenError{ID: in.ID, Status: StatusActive})
	if !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("%v is not ErrAlreadyExists", err)
	}
}

func TestALoaderWritesOnlyWhatTheMeasureAllows(t *testing.T) {
	p := DefaultPolicy()
	tutelle, renforcee := measureOver(Tutelle, RoleTuteur), measureOver(CuratelleRenforcee, RoleCurateur)
	mandate := sample(AidantMandate, RoleAidant)
	tests := []struct {
		name string
		rep  Representation
		reps []Representation
		want error
	}{
		{"no measure", mandate, nil, nil},
		{"under tutelle, given by the person", mandate, []Representation{tutelle}, ErrRepresentativeGives},
		{"under tutelle, given by the tutor", under(p, mandate, &tutelle, true), []Representation{tutelle}, nil},
		{"under curatelle renforcée, without the curator", under(p, mandate, &renforcee, false), []Representation{renforcee}, ErrNotPermitted},
		{"under curatelle renforcée, with the curator", under(p, mandate, &renforcee, true), []Representation{renforcee}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.CheckGiven(&tt.rep, append(tt.reps, tt.rep), t0)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("CheckGiven = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAMandateFromOneCoTutorStopsWhereTheirRecordStops(t *testing.T) {
	p := DefaultPolicy()
	personne := measureOver(Tutelle, RoleTuteurPersonne)
	personne.Areas = []Area{"social"}
	biens := measureOver(Tutelle, RoleTuteurBiens)
	biens.ID, biens.Areas = NewID(t0.Add(3*time.Second)), []Area{"argent"}
	mandate := sample(AidantMandate, RoleAidant)
	mandate.Areas = []Area{"social", "argent"}
	given := under(p, mandate, &personne, true)
	f := facts(given, personne, biens)
	for _, tt := range []struct {
		area Area
		want Decision
	}{{"social", Allowed}, {"argent", No}} {
		ans, err := p.Decide(Question{ActorID: actorID, PersonID: personID, Action: Manage, Area: tt.area, At: t0}, f)
		if err != nil {
			t.Fatal(err)
		}
		if ans.Decision != tt.want {
			t.Errorf("managing in %s: %s (%s), want %s", tt.area, ans.Decision, words(ans.Reason).FR, tt.want)
		}
	}
}

func TestAMandateATutorGaveEndsWithTheTutelle(t *testing.T) {
	p := DefaultPolicy()
	tutelle := measureOver(Tutelle, RoleTuteur)
	given := under(p, sample(AidantMandate, RoleAidant), &tutelle, true)
	ended := tutelle
	ended.Status = StatusRevoked
	for _, tt := range []struct {
		name    string
		measure Representation
		want    Decision
	}{{"in force", tutelle, Allowed}, {"ended", ended, No}} {
		ans, _ := p.Decide(Question{ActorID: actorID, PersonID: personID, Action: Manage, Area: "social", At: t0}, facts(given, tt.measure))
		if ans.Decision != tt.want {
			t.Errorf("%s: %s (%s), want %s", tt.name, ans.Decision, words(ans.Reason).FR, tt.want)
		}
	}
	// A mandate the person gave alone is not tied to a measure.
	alone := sample(AidantMandate, RoleAidant)
	if ans, _ := p.Decide(Question{ActorID: actorID, PersonID: personID, Action: Manage, Area: "social", At: t0}, facts(alone, ended)); ans.Decision != Allowed {
		t.Errorf("a mandate the person gave, a tutelle ended: %s", ans.Decision)
	}
}

func TestAPersonUnderAGeneralTutelleGivesNothing(t *testing.T) {
	p := DefaultPolicy()
	tutelle, simple := measureOver(Tutelle, RoleTuteur), measureOver(CuratelleSimple, RoleCurateur)
	papers := measureOver(Tutelle, RoleTuteur)
	papers.Areas = []Area{"papiers"}
	ended := tutelle
	ended.Status = StatusRevoked
	for _, tt := range []struct {
		name string
		reps []Representation
		want string
	}{
		{"a general tutelle", []Representation{simple, tutelle}, tutelle.ID},
		{"a curatelle: the person gives", []Representation{simple}, ""},
		{"a tutelle over papers only: decided area by area", []Representation{papers}, ""},
		{"an ended tutelle", []Representation{ended}, ""},
	} {
		got := ""
		if m := p.GivesAll(tt.reps, t0); m != nil {
			got = m.ID
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
