package mandates

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestWhoSeesARepresentation(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	tutor := w.person("Marie", "Martin")
	m := w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	r := w.start(w.person("Paul", "Durand"), "social")
	withdrawn := w.member(w.desk, w.person("Wanda", "Partie"), MemberAidant, true)
	if err := w.svc.WithdrawMember(w.ctx, w.admin, w.desk, withdrawn.PersonID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		viewer string
		id     string
		want   error
	}{
		{"the represented person", w.jane, m.ID, nil},
		{"the representative", tutor, m.ID, nil},
		{"an operator", w.op.PersonID, m.ID, nil},
		{"a member of the organisation holding it", w.aidant.PersonID, r.ID, nil},
		{"a withdrawn member learns nothing", withdrawn.PersonID, r.ID, ErrNotFound},
		{"anyone else learns nothing", w.aidant.PersonID, m.ID, ErrNotFound},
		{"nor from an id that is not an id", "marie", m.ID, ErrNotFound},
		{"nobody (an empty viewer) learns nothing of a mandate an organisation holds", "", r.ID, ErrNotFound},
		{"an unknown representation", w.op.PersonID, NewID(w.clock), ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.svc.Representation(w.ctx, tt.viewer, tt.id)
			if !errors.Is(err, tt.want) || (tt.want == nil && (got.ID != tt.id || len(got.History) == 0)) {
				t.Errorf("Representation = %s, %v; want %v", got.ID, err, tt.want)
			}
		})
	}
	t.Run("a store failure is not a refusal", func(t *testing.T) {
		w.st.failOn("Membership", ErrUnavailable)
		defer w.st.failOn("Membership", nil)
		if _, err := w.svc.Representation(w.ctx, w.jane, r.ID); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Representation = %v, want ErrUnavailable", err)
		}
	})
}

func TestWhoMayUseARepresentationNow(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	tutor := Actor{PersonID: w.person("Marie", "Martin")}
	m := w.measure(Tutelle, w.jane, tutor.PersonID, RoleTuteur)
	paul := w.person("Paul", "Durand")
	r := w.start(paul, "social")
	if _, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, r.ID, paul); err != nil {
		t.Fatal(err)
	}
	paused := w.measure(CuratelleSimple, w.person("Yvette", "Garnier"), tutor.PersonID, RoleCurateur)
	if _, err := w.svc.Suspend(w.ctx, w.op, paused.ID, 0, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		a    Actor
		id   string
		want error
	}{
		{"the tutor uses the tutelle", tutor, m.ID, nil},
		{"the aidant, logged in with a second factor, uses the desk's mandate", w.aidant, r.ID, nil},
		{"the aidant without a second factor at login is told to use one", Actor{PersonID: w.aidant.PersonID}, r.ID, ErrSecondFactor},
		{"someone else learns nothing", Actor{PersonID: w.jane}, m.ID, ErrNotFound},
		{"a paused measure is not usable", tutor, paused.ID, ErrInactive},
		{"an unknown one is not found", tutor, NewID(w.clock), ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := w.svc.Usable(w.ctx, tt.a, tt.id, w.clock)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Usable = %v, want %v", err, tt.want)
			}
			if tt.want == nil && (v.ID != tt.id || v.Status != StatusActive || v.PersonName == "" || v.RepresentativeOf == "") {
				t.Errorf("view %+v, want it in force with its names", v)
			}
		})
	}
	t.Run("what a mandate allows is capped by the measures over the person", func(t *testing.T) {
		v, err := w.svc.Usable(w.ctx, w.aidant, r.ID, w.clock)
		if err != nil {
			t.Fatal(err)
		}
		if v.Organisation == nil || v.Organisation.ID != w.desk || !v.LimitsAt.Equal(w.clock) || v.Actions[Consult] != Allowed || v.Actions[Dispose] != No {
			t.Errorf("view organisation %v, limits at %v, actions %v", v.Organisation, v.LimitsAt, v.Actions)
		}
	})
	t.Run("after its end it is not usable", func(t *testing.T) {
		if _, err := w.svc.Usable(w.ctx, tutor, m.ID, m.ValidUntil); !errors.Is(err, ErrInactive) {
			t.Errorf("Usable at its end = %v, want ErrInactive", err)
		}
	})
}

func TestTheAreasAnAidantMayActIn(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	r := w.start(w.jane, "social")
	if _, err := w.svc.ConfirmByLogin(w.ctx, w.aidant, r.ID, w.jane); err != nil {
		t.Fatal(err)
	}
	q := Question{PersonID: w.jane, Action: Manage}
	tests := []struct {
		name string
		a    Actor
		want []Area
		err  error
	}{
		{"with a second factor at login, the mandate's areas", w.aidant, []Area{"social"}, nil},
		{"without one, none, and the reason is the second factor", Actor{PersonID: w.aidant.PersonID}, nil, ErrSecondFactor},
		{"someone without any representation, none and no reason", Actor{PersonID: w.person("Eve", "Autre")}, nil, nil},
		{"the person acting for themselves holds no representation: none", Actor{PersonID: w.jane}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.svc.AreasAllowed(w.ctx, tt.a, q)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || !slices.Equal(got, tt.want) {
				t.Errorf("AreasAllowed = %v, %v; want %v, %v", got, err, tt.want, tt.err)
			}
		})
	}
	t.Run("a malformed question is invalid", func(t *testing.T) {
		if _, err := w.svc.AreasAllowed(w.ctx, Actor{PersonID: w.jane}, Question{PersonID: w.jane, Action: "vote"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("AreasAllowed = %v, want ErrInvalid", err)
		}
	})
}

func TestDecidingReadsTheStoreAtTheServicesClock(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	tutor := w.person("Marie", "Martin")
	m := w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	tests := []struct {
		name string
		q    Question
		want Decision
	}{
		{"the tutor disposes", Question{ActorID: tutor, PersonID: w.jane, Action: Dispose, Area: "argent"}, Allowed},
		{"the person under tutelle does not", Question{ActorID: w.jane, PersonID: w.jane, Action: Dispose, Area: "argent"}, No},
		{"after the measure's end, the person does", Question{ActorID: w.jane, PersonID: w.jane, Action: Dispose, Area: "argent", At: m.ValidUntil}, Allowed},
		{"after the measure's end, the tutor does not", Question{ActorID: tutor, PersonID: w.jane, Action: Dispose, Area: "argent", At: m.ValidUntil}, No},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := w.svc.Decide(w.ctx, tt.q)
			if err != nil || ans.Decision != tt.want {
				t.Errorf("Decide = %s, %v; want %s", ans.Decision, err, tt.want)
			}
		})
	}
	t.Run("a question with a malformed id reads nothing and is invalid", func(t *testing.T) {
		w.st.failOn("DecisionFacts", ErrUnavailable)
		defer w.st.failOn("DecisionFacts", nil)
		if _, err := w.svc.Decide(w.ctx, Question{ActorID: "marie", PersonID: w.jane, Action: Consult, Area: "social"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decide = %v, want ErrInvalid", err)
		}
		if _, err := w.svc.Decide(w.ctx, Question{ActorID: tutor, PersonID: w.jane, Action: Consult, Area: "social"}); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Decide when the store fails = %v, want ErrUnavailable", err)
		}
	})
}

func TestListsOfRepresentationsWithNames(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	tutor := w.person("Marie", "Martin")
	m := w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	p := w.st.persons[w.jane]
	p.PreferredName = "Dupont"
	w.st.persons[w.jane] = p
	holder := w.person("Ahmed", "Benali")
	in := w.measureInput(CuratelleSimple, w.person("Paul", "Durand"), "", RoleCurateur)
	in.Representatives[0] = RepresentativeInput{OrganisationID: w.desk, Role: RoleCurateur, Delegates: []string{w.admin.PersonID}}
	if _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); err != nil {
		t.Fatal(err)
	}

	of, err := w.svc.Of(w.ctx, w.jane)
	if err != nil || len(of) != 1 || of[0].ID != m.ID || of[0].PersonName != "Jeanne Dupont" || of[0].RepresentativeOf != "Marie Martin" {
		t.Fatalf("Of = %+v, %v; want the tutelle, named (with the name the person uses)", of, err)
	}
	if of[0].Actions[Dispose] != Allowed || of[0].PersonActions[Dispose] != No {
		t.Errorf("actions %v, person's %v; want the tutor disposing, not the person", of[0].Actions, of[0].PersonActions)
	}

	for _, tt := range []struct {
		name  string
		actor string
		want  int
	}{
		{"the tutor acts for the person", tutor, 1},
		{"a delegate named by the desk acts for its person", w.admin.PersonID, 1},
		{"a member the desk did not name does not", w.aidant.PersonID, 0},
		{"someone with nothing acts for nobody", holder, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := w.svc.For(w.ctx, tt.actor)
			if err != nil || len(vs) != tt.want {
				t.Errorf("For = %d, %v; want %d", len(vs), err, tt.want)
			}
		})
	}

	t.Run("protection lists the measures in force", func(t *testing.T) {
		vs, err := w.svc.Protection(w.ctx, w.jane, w.clock)
		if err != nil || len(vs) != 1 {
			t.Errorf("Protection now = %d, %v; want the tutelle", len(vs), err)
		}
		if vs, err = w.svc.Protection(w.ctx, w.jane, m.ValidUntil); err != nil || len(vs) != 0 {
			t.Errorf("Protection after its end = %d, %v; want none", len(vs), err)
		}
	})
	t.Run("the operator searches measures", func(t *testing.T) {
		for q, want := range map[string]int{"": 2, "dupont": 1, "DURAND": 1, m.Source.Decision.Reference: 1, "nobody": 0} {
			vs, err := w.svc.SearchMeasures(w.ctx, w.op, q)
			if err != nil || len(vs) != want {
				t.Errorf("SearchMeasures(%q) = %d, %v; want %d", q, len(vs), err, want)
			}
		}
		if _, err := w.svc.SearchMeasures(w.ctx, Actor{PersonID: tutor}, ""); !errors.Is(err, ErrNotPermitted) {
			t.Errorf("SearchMeasures by the tutor = %v, want ErrNotPermitted", err)
		}
	})
	t.Run("accounts are found by id and email", func(t *testing.T) {
		byID, err := w.svc.Person(w.ctx, holder)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := w.svc.PersonByEmail(w.ctx, " "+byID.Email+" "); err != nil || got.ID != holder {
			t.Errorf("PersonByEmail = %s, %v; want the holder", got.ID, err)
		}
		if _, err := w.svc.PersonByEmail(w.ctx, "nobody@example.fr"); !errors.Is(err, ErrNotFound) {
			t.Errorf("PersonByEmail of nobody = %v, want ErrNotFound", err)
		}
	})
	t.Run("operators are known as such", func(t *testing.T) {
		for id, want := range map[string]bool{w.op.PersonID: true, tutor: false, "odile": false} {
			if got, err := w.svc.IsOperator(w.ctx, id); err != nil || got != want {
				t.Errorf("IsOperator(%s) = %v, %v; want %v", id, got, err, want)
			}
		}
		if w.svc.Policy() == nil || w.svc.Policy().Version == "" {
			t.Error("the service has no policy")
		}
	})
	t.Run("a name the store cannot read fails the list", func(t *testing.T) {
		w.st.failOn("Person", ErrUnavailable)
		defer w.st.failOn("Person", nil)
		if _, err := w.svc.Of(w.ctx, w.jane); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Of = %v, want ErrUnavailable", err)
		}
	})
}

// recorder records the events of acts that change nothing stored.
type recorder struct{ events []Event }

func (r *recorder) Record(_ context.Context, e Event) error {
	r.events = append(r.events, e)
	return nil
}

func TestEvaluationsAreRecordedByTheRecorderWhenThereIsOne(t *testing.T) {
	rec := &recorder{}
	w := newMemWorld(t, ServiceConfig{Recorder: rec})
	tutor := w.person("Marie", "Martin")
	w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	events := len(w.st.events)
	ans, err := w.svc.Evaluate(w.ctx, Question{ActorID: tutor, PersonID: w.jane, Action: Manage, Area: "social"}, "caf", "")
	if err != nil || ans.Decision != Allowed {
		t.Fatalf("Evaluate = %s, %v; want allowed", ans.Decision, err)
	}
	if len(rec.events) != 1 || rec.events[0].Type != EventAccessEvaluated || rec.events[0].Detail["decision"] != "allowed" || len(w.st.events) != events {
		t.Errorf("recorder %+v, sink %d new; want one evaluation, to the recorder only", rec.events, len(w.st.events)-events)
	}
}

func TestAnEvaluationIsNotAnsweredWhenItCannotBeJournaled(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	tutor := w.person("Marie", "Martin")
	w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	w.st.failOn("Emit", ErrUnavailable)
	if _, err := w.svc.Evaluate(w.ctx, Question{ActorID: tutor, PersonID: w.jane, Action: Manage, Area: "social"}, "caf", ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Evaluate = %v, want ErrUnavailable", err)
	}
}

// Issue 17: one name for a person on every page, token and letter: the
// first given name (the prénom usuel), then the name in use.
func TestDisplayNameIsTheFirstGivenNameThenTheNameInUse(t *testing.T) {
	tests := []struct {
		name string
		p    Person
		want string
	}{
		{"one given name and a birth name", Person{GivenNames: "Jeanne", FamilyName: "Lefèvre"}, "Jeanne Lefèvre"},
		{"several given names: the first only", Person{GivenNames: "Paul André", FamilyName: "Durand"}, "Paul Durand"},
		{"a nom d'usage replaces the birth name", Person{GivenNames: "Marie Claire", FamilyName: "Lefèvre", PreferredName: "Martin"}, "Marie Martin"},
		{"a compound first name keeps its hyphen", Person{GivenNames: "Jean-Pierre Louis", FamilyName: "Roux"}, "Jean-Pierre Roux"},
		{"spaces around the given names are not part of the name", Person{GivenNames: "  Fatima  Zohra ", FamilyName: "Benali"}, "Fatima Benali"},
		{"no given name: the name in use alone", Person{FamilyName: "Garnier"}, "Garnier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DisplayName(tt.p); got != tt.want {
				t.Errorf("DisplayName = %q, want %q", got, tt.want)
			}
		})
	}
}
