package mandates

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// expected is DESIGN.md §3's table, written out again here by hand (not
// read from the file), so that a changed file fails this test.
var expected = map[Kind]map[string][3]Decision{
	SauvegardeJustice: {"person": {Allowed, Allowed, Allowed}, "mandataire_special": {No, No, No}},
	CuratelleSimple: {"person": {Allowed, Allowed, Cosign}, "curateur": {Allowed, No, Cosign}, "co_curateur": {Allowed, No, Cosign},
		"subroge_curateur": {Allowed, No, No}},
	CuratelleRenforcee: {"person": {Allowed, Cosign, Cosign}, "curateur": {Allowed, Allowed, Cosign}, "co_curateur": {Allowed, Allowed, Cosign},
		"subroge_curateur": {Allowed, No, No}},
	Tutelle: {"person": {Allowed, No, No}, "tuteur": {Allowed, Allowed, Allowed}, "co_tuteur": {Allowed, Allowed, Allowed},
		"tuteur_biens": {Allowed, Allowed, Allowed}, "tuteur_personne": {Allowed, Allowed, No}, "subroge_tuteur": {Allowed, No, No}},
	HabilitationAssistance:     {"person": {Allowed, Allowed, Cosign}, "personne_habilitee": {Allowed, No, Cosign}},
	HabilitationRepresentation: {"person": {Allowed, No, No}, "personne_habilitee": {Allowed, Allowed, Allowed}},
	MandatProtectionFuture:     {"person": {Allowed, No, No}, "mandataire": {Allowed, Allowed, Allowed}},
	AidantMandate:              {"person": {Allowed, Allowed, Allowed}, "aidant": {Allowed, Allowed, No}},
	Proxy:                      {"person": {Allowed, Allowed, Allowed}, "proxy_holder": {Allowed, Allowed, No}},
}

var (
	t0       = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	personID = "0193a000-0000-7000-8000-0000000000a1"
	actorID  = "0193a000-0000-7000-8000-0000000000a2"
	orgID    = "0193a000-0000-7000-8000-0000000000a3"
	operator = "0193a000-0000-7000-8000-0000000000a4"
)

// sample builds a valid active representation of kind k, held by actorID
// (or by orgID for an aidant mandate), in force at t0.
func sample(k Kind, role Role) Representation {
	r := Representation{ID: NewID(t0), Kind: k, PersonID: personID, Representative: Representative{PersonID: actorID}, Role: role,
		ValidFrom: t0.AddDate(0, -1, 0), Status: StatusActive}
	switch {
	case k.IsMeasure():
		r.ValidUntil = t0.AddDate(0, 6, 0)
		r.Source.Decision = &CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: t0.AddDate(0, -2, 0), Reference: "RG 26/01234",
			RegisteredBy: operator, RegisteredAt: t0.AddDate(0, -1, 0)}
	case k == AidantMandate:
		r.Representative = Representative{OrganisationID: orgID}
		r.Areas = []Area{"social", "papiers"}
		r.ValidUntil = TwelveMonth.End(r.ValidFrom)
		r.Source.Consent = &ConsentRecord{Method: ConsentInPersonAttestation, GivenAt: r.ValidFrom, WitnessID: actorID}
	case k == Proxy:
		r.Areas = []Area{"social", "papiers"}
		r.Granted = []Action{Consult, Manage}
		r.ValidUntil = SixMonths.End(r.ValidFrom)
		r.Source.Consent = &ConsentRecord{Method: ConsentOwnAccount, GivenAt: r.ValidFrom, AcceptedAt: r.ValidFrom}
	}
	if k == SauvegardeJustice {
		// Named for one listed act: managing the person's housing file.
		r.Adjustments = []Adjustment{{Party: PartyRepresentative, Area: "logement", Action: Manage, Decision: Allowed, Note: "Renouveler le bail"}}
	}
	if k == MandatProtectionFuture {
		r.ValidUntil = time.Time{}
	}
	return r
}

func facts(rs ...Representation) Facts {
	return Facts{Representations: rs, Memberships: []Membership{{OrganisationID: orgID, PersonID: actorID, Role: MemberAidant, Active: true,
		HabilitatedAt: t0.AddDate(-1, 0, 0)}}, Organisations: map[string]Organisation{orgID: {ID: orgID, Name: "France Services Lyon 8e", Kind: OrgFranceServices}},
		ActorSecondFactor: true}
}

func TestDefaultPolicyFileParses(t *testing.T) {
	p, err := ParsePolicy(DefaultPolicyFile())
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "2026-12-06" {
		t.Errorf("version %q", p.Version)
	}
}

// TestDefaultPolicyTable runs every kind × party × action class through
// Decide, on a representation in force, in an area it covers.
func TestDefaultPolicyTable(t *testing.T) {
	p := DefaultPolicy()
	actions := []Action{Consult, Manage, Dispose}
	for _, k := range Kinds {
		if len(expected[k]) != len(RolesOf[k])+1 {
			t.Fatalf("the expected table misses parties of %s", k)
		}
		for party, row := range expected[k] {
			for i, a := range actions {
				want := row[i]
				t.Run(fmt.Sprintf("%s/%s/%s", k, party, a), func(t *testing.T) {
					if got := p.Cell(k, party, a); got != want {
						t.Errorf("file cell = %s, want %s", got, want)
					}
					role := Role(party)
					if party == "person" {
						role = RolesOf[k][0]
					}
					r := sample(k, role)
					if err := r.Validate(); err != nil {
						t.Fatalf("sample: %v", err)
					}
					area := Area("social")
					if k == SauvegardeJustice {
						area = "famille" // outside the listed act
					}
					actor := actorID
					if party == "person" {
						actor = personID
					}
					ans, err := p.Decide(Question{ActorID: actor, PersonID: personID, Action: a, Area: area, At: t0}, facts(r))
					if err != nil {
						t.Fatal(err)
					}
					if ans.Decision != want {
						t.Errorf("Decide = %s (%s), want %s", ans.Decision, words(ans.Reason).FR, want)
					}
					if words(ans.Reason).FR == "" || words(ans.Reason).EN == "" {
						t.Error("the answer gives no reason in both languages")
					}
					// Strictly personal acts: the person alone, always.
					ans, _ = p.Decide(Question{ActorID: actor, PersonID: personID, Action: Personal, Area: area, At: t0}, facts(r))
					if wantP := map[bool]Decision{true: Allowed, false: No}[party == "person"]; ans.Decision != wantP {
						t.Errorf("personal act = %s, want %s", ans.Decision, wantP)
					}
				})
			}
		}
	}
}

func TestReasonsSayWhyInPlainWords(t *testing.T) {
	p := DefaultPolicy()
	r := sample(CuratelleRenforcee, RoleCurateur)
	ans, _ := p.Decide(Question{ActorID: personID, PersonID: personID, Action: Manage, Area: "argent", At: t0}, facts(r))
	if ans.Decision != Cosign || words(ans.Reason).FR != "refusé : pour cet acte, la curatelle renforcée demande l’accord du curateur." {
		t.Errorf("got %s %q", ans.Decision, words(ans.Reason).FR)
	}
	if words(ans.Reason).EN != "refused: for this act, reinforced curatorship needs the curator’s agreement." {
		t.Errorf("English reason %q", words(ans.Reason).EN)
	}
	if ans.Representation == nil || ans.Representation.ID != r.ID {
		t.Error("the answer does not name the representation it rests on")
	}
}

func TestDecisionAdjustmentsWin(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name   string
		kind   Kind
		role   Role
		adj    []Adjustment
		actor  string
		action Action
		area   Area
		want   Decision
	}{
		{"tutelle: the judge lets the person manage their benefits alone", Tutelle, RoleTuteur,
			[]Adjustment{{Party: PartyPerson, Area: "social", Action: Manage, Decision: Allowed}}, personID, Manage, "social", Allowed},
		{"tutelle: the adjustment for social leaves money as the file says", Tutelle, RoleTuteur,
			[]Adjustment{{Party: PartyPerson, Area: "social", Action: Manage, Decision: Allowed}}, personID, Manage, "argent", No},
		{"curatelle simple widened: the curator manages money", CuratelleSimple, RoleCurateur,
			[]Adjustment{{Party: PartyRepresentative, Area: "argent", Action: Manage, Decision: Allowed}}, actorID, Manage, "argent", Allowed},
		{"an adjustment for every area applies to each", CuratelleSimple, RoleCurateur,
			[]Adjustment{{Party: PartyRepresentative, Action: Manage, Decision: Cosign}}, actorID, Manage, "logement", Cosign},
		{"an area's adjustment wins over one for every area, in any order", Tutelle, RoleTuteur,
			[]Adjustment{{Party: PartyRepresentative, Area: "argent", Action: Dispose, Decision: Cosign},
				{Party: PartyRepresentative, Action: Dispose, Decision: No}}, actorID, Dispose, "argent", Cosign},
		{"sauvegarde: the mandataire spécial does the listed act", SauvegardeJustice, RoleMandataireSpecial, nil, actorID, Manage, "logement", Allowed},
		{"sauvegarde: and nothing else", SauvegardeJustice, RoleMandataireSpecial, nil, actorID, Dispose, "logement", No},
		{"an adjustment for the person leaves the representative as the file says", Tutelle, RoleTuteur,
			[]Adjustment{{Party: PartyPerson, Action: Manage, Decision: Allowed}}, actorID, Manage, "argent", Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample(tt.kind, tt.role)
			if tt.adj != nil {
				r.Adjustments = tt.adj
			}
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			ans, err := p.Decide(Question{ActorID: tt.actor, PersonID: personID, Action: tt.action, Area: tt.area, At: t0}, facts(r))
			if err != nil {
				t.Fatal(err)
			}
			if ans.Decision != tt.want {
				t.Errorf("Decide = %s (%s), want %s", ans.Decision, words(ans.Reason).FR, tt.want)
			}
		})
	}
}

func TestAdjustmentsCannotOpenPersonalActs(t *testing.T) {
	r := sample(Tutelle, RoleTuteur)
	r.Adjustments = []Adjustment{{Party: PartyRepresentative, Action: Personal, Decision: Allowed}}
	if err := r.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate = %v, want ErrInvalid", err)
	}
}

// TestWithdrawnAndExpiredAnswerNoAtOnce: the same question answers yes,
// then no the moment the mandate is withdrawn, and no the moment its end
// date passes, with no job to run in between.
func TestWithdrawnAndExpiredAnswerNoAtOnce(t *testing.T) {
	p := DefaultPolicy()
	r := sample(AidantMandate, RoleAidant)
	q := Question{ActorID: actorID, PersonID: personID, Action: Manage, Area: "social", At: t0}
	if ans, _ := p.Decide(q, facts(r)); ans.Decision != Allowed {
		t.Fatalf("in force: %s (%s)", ans.Decision, words(ans.Reason).FR)
	}
	withdrawn := r
	withdrawn.Status = StatusRevoked
	ans, _ := p.Decide(q, facts(withdrawn))
	if ans.Decision != No || !strings.Contains(words(ans.Reason).FR, "arrêté") {
		t.Errorf("withdrawn: %s (%s), want no, saying access was stopped", ans.Decision, words(ans.Reason).FR)
	}
	atEnd := q
	atEnd.At = r.ValidUntil
	ans, _ = p.Decide(atEnd, facts(r))
	if ans.Decision != No || !strings.Contains(words(ans.Reason).FR, "date de fin") {
		t.Errorf("at its end date: %s (%s), want no, saying it ended", ans.Decision, words(ans.Reason).FR)
	}
	justBefore := q
	justBefore.At = r.ValidUntil.Add(-time.Millisecond)
	if ans, _ := p.Decide(justBefore, facts(r)); ans.Decision != Allowed {
		t.Errorf("a millisecond before its end: %s, want allowed", ans.Decision)
	}
}

func TestWhoMayUseARepresentation(t *testing.T) {
	p := DefaultPolicy()
	other := "0193a000-0000-7000-8000-0000000000a9"
	mandate := sample(AidantMandate, RoleAidant)
	tests := []struct {
		name    string
		rep     func() Representation
		f       func(Facts) Facts
		actor   string
		area    Area
		want    Decision
		because string
	}{
		{"an aidant of the organisation acts in a listed area", func() Representation { return mandate }, nil, actorID, "social", Allowed, "autorisé"},
		{"not in an area the mandate leaves out", func() Representation { return mandate }, nil, actorID, "argent", No, "ne couvre pas"},
		{"not when the organisation withdrew the aidant", func() Representation { return mandate },
			func(f Facts) Facts { f.Memberships[0].Active = false; f.Memberships[0].WithdrawnAt = t0; return f }, actorID, "social", No, "retiré"},
		{"not a stranger to the organisation", func() Representation { return mandate }, nil, other, "social", No, "rien ne permet"},
		{"not an aidant without a second factor", func() Representation { return mandate },
			func(f Facts) Facts { f.ActorSecondFactor = false; return f }, actorID, "social", No, "code de confirmation"},
		{"not an MJPM delegate without a second factor", func() Representation {
			r := sample(CuratelleRenforcee, RoleCurateur)
			r.Representative = Representative{OrganisationID: orgID, Delegates: []string{actorID}}
			return r
		}, func(f Facts) Facts { f.ActorSecondFactor = false; return f }, actorID, "argent", No, "code de confirmation"},
		{"a tutor in their own name needs no second factor", func() Representation { return sample(Tutelle, RoleTuteur) },
			func(f Facts) Facts { f.ActorSecondFactor = false; return f }, actorID, "social", Allowed, "autorisé"},
		{"not when the organisation is limited to other areas", func() Representation { return mandate },
			func(f Facts) Facts {
				o := f.Organisations[orgID]
				o.Areas = []Area{"papiers"}
				f.Organisations = map[string]Organisation{orgID: o}
				return f
			}, actorID, "social", No, "structure"},
		{"an MJPM delegate named for the case acts", func() Representation {
			r := sample(CuratelleRenforcee, RoleCurateur)
			r.Representative = Representative{OrganisationID: orgID, Delegates: []string{actorID}}
			return r
		}, nil, actorID, "argent", Allowed, "autorisé"},
		{"a colleague not named for the case does not", func() Representation {
			r := sample(CuratelleRenforcee, RoleCurateur)
			r.Representative = Representative{OrganisationID: orgID, Delegates: []string{other}}
			return r
		}, nil, actorID, "argent", No, "désigné"},
		{"a suspended measure answers no", func() Representation {
			r := sample(Tutelle, RoleTuteur)
			r.Status = StatusSuspended
			return r
		}, nil, actorID, "social", No, "en pause"},
		{"a proxy waiting for acceptance answers no", func() Representation {
			r := sample(Proxy, RoleProxyHolder)
			r.Status = StatusPendingConsent
			return r
		}, nil, actorID, "social", No, "attend"},
		{"a proxy for consult only does not manage", func() Representation {
			r := sample(Proxy, RoleProxyHolder)
			r.Granted = []Action{Consult}
			return r
		}, nil, actorID, "social", No, "procuration ne donne pas"},
		{"a measure not yet in force answers no", func() Representation {
			r := sample(Tutelle, RoleTuteur)
			r.ValidFrom = t0.Add(time.Hour)
			return r
		}, nil, actorID, "social", No, "pas encore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts(tt.rep())
			if tt.f != nil {
				f = tt.f(f)
			}
			ans, err := p.Decide(Question{ActorID: tt.actor, PersonID: personID, Action: Manage, Area: tt.area, At: t0}, f)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Decision != tt.want || !strings.Contains(words(ans.Reason).FR, tt.because) {
				t.Errorf("Decide = %s (%s), want %s because %q", ans.Decision, words(ans.Reason).FR, tt.want, tt.because)
			}
		})
	}
}

func TestThePersonUnderSeveralMeasuresGetsTheStrictest(t *testing.T) {
	p := DefaultPolicy()
	curatelle := sample(CuratelleSimple, RoleCurateur)
	habil := sample(HabilitationRepresentation, RolePersonneHabilitee)
	habil.ID = NewID(t0.Add(time.Second))
	habil.Areas = []Area{"logement"}
	ask := func(area Area) Decision {
		ans, _ := p.Decide(Question{ActorID: personID, PersonID: personID, Action: Manage, Area: area, At: t0}, facts(curatelle, habil))
		return ans.Decision
	}
	if got := ask("logement"); got != No {
		t.Errorf("housing, under both: %s, want no", got)
	}
	if got := ask("social"); got != Allowed {
		t.Errorf("benefits, under the curatelle only: %s, want allowed", got)
	}
}

func TestMalformedQuestionsAreInvalid(t *testing.T) {
	p := DefaultPolicy()
	ok := Question{ActorID: actorID, PersonID: personID, Action: Manage, Area: "social", At: t0}
	for name, change := range map[string]func(*Question){
		"unknown area":   func(q *Question) { q.Area = "impots" },
		"unknown action": func(q *Question) { q.Action = "sell" },
		"no actor":       func(q *Question) { q.ActorID = "" },
		"no time":        func(q *Question) { q.At = time.Time{} },
	} {
		q := ok
		change(&q)
		if _, err := p.Decide(q, Facts{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestPolicyFileErrorsNameTheLine(t *testing.T) {
	good := string(DefaultPolicyFile())
	tests := []struct {
		name    string
		file    string
		line    int
		problem string
	}{
		{"empty file", "", 1, "empty"},
		{"no version line", "tutelle person allowed no no\n", 1, "version"},
		{"unknown kind", strings.Replace(good, "tutelle                                 tuteur ", "tutele tuteur ", 1), lineOf(good, "tutelle                                 tuteur "), `"tutele" is not a kind`},
		{"role of another kind", strings.Replace(good, "tutelle                                 tuteur ", "tutelle curateur ", 1), lineOf(good, "tutelle                                 tuteur "), "neither person nor a role"},
		{"unknown answer", strings.Replace(good, "proxy_holder         allowed  allowed  no", "proxy_holder allowed maybe no", 1), lineOf(good, "proxy_holder         allowed"), `"maybe" is not an answer`},
		{"a word missing", strings.Replace(good, "proxy_holder         allowed  allowed  no", "proxy_holder allowed allowed", 1), lineOf(good, "proxy_holder         allowed"), "want 5 words"},
		{"a row twice", good + "tutelle tuteur no no no\n", strings.Count(good, "\n") + 1, "given twice"},
		{"a row missing", strings.Replace(good, "tutelle                                 subroge_tuteur       allowed  no       no", "", 1), strings.Count(good, "\n"), "tutelle subroge_tuteur is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tt.file))
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PolicyError", err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Problem, tt.problem) {
				t.Errorf("got line %d %q, want line %d %q", pe.Line, pe.Problem, tt.line, tt.problem)
			}
		})
	}
}

func lineOf(file, part string) int {
	for i, l := range strings.Split(file, "\n") {
		if strings.Contains(l, part) {
			return i + 1
		}
	}
	return -1
}
