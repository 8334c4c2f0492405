package mandates

import (
	"errors"
	"slices"
	"testing"
)

func TestCreatingAnOrganisation(t *testing.T) {
	w := newMemWorld(t, ServiceConfig{})
	admin := w.person("Alice", "Admin")
	o, err := w.svc.CreateOrganisation(w.ctx, w.op, Organisation{Name: "UDAF du Rhône", Kind: OrgMJPMService, Areas: []Area{"social", "argent"}, Address: udafAddress}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if !IsID(o.ID) || o.CreatedBy != w.op.PersonID || o.Version != 1 || !slices.Equal(o.Areas, []Area{"social", "argent"}) {
		t.Errorf("organisation %+v, want a new id, made by the operator, areas in page order", o)
	}
	m, err := w.st.Membership(w.ctx, o.ID, admin)
	if err != nil || m.Role != MemberAdmin || !m.Active {
		t.Errorf("first administrator %+v, %v; want an active admin", m, err)
	}
	if got := w.st.eventTypes(); !slices.Equal(got, []EventType{EventOrganisationCreated, EventMemberHabilitated}) {
		t.Errorf("events %v, want the creation and the administrator's habilitation", got)
	}
}

func TestCreatingAnOrganisationIsRefused(t *testing.T) {
	tests := []struct {
		name  string
		op    func(w *memWorld) Actor
		org   Organisation
		admin func(w *memWorld) string
		want  error
	}{
		{"by someone who is not an operator", func(w *memWorld) Actor { return Actor{PersonID: w.jane} }, Organisation{Name: "X", Kind: OrgCCAS, Address: udafAddress},
			func(w *memWorld) string { return w.jane }, ErrNotPermitted},
		{"without a name", func(w *memWorld) Actor { return w.op }, Organisation{Name: " ", Kind: OrgCCAS, Address: udafAddress}, func(w *memWorld) string { return w.jane }, ErrInvalid},
		{"of an unknown kind", func(w *memWorld) Actor { return w.op }, Organisation{Name: "X", Kind: "club", Address: udafAddress}, func(w *memWorld) string { return w.jane }, ErrInvalid},
		{"with an unknown area", func(w *memWorld) Actor { return w.op }, Organisation{Name: "X", Kind: OrgCCAS, Areas: []Area{"astrologie"}, Address: udafAddress},
			func(w *memWorld) string { return w.jane }, ErrInvalid},
		{"with an unknown administrator", func(w *memWorld) Actor { return w.op }, Organisation{Name: "X", Kind: OrgCCAS, Address: udafAddress},
			func(w *memWorld) string { return NewID(w.clock) }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newMemWorld(t, ServiceConfig{})
			if _, err := w.svc.CreateOrganisation(w.ctx, tt.op(w), tt.org, tt.admin(w)); !errors.Is(err, tt.want) {
				t.Fatalf("CreateOrganisation = %v, want %v", err, tt.want)
			}
			if len(w.st.orgs) != 0 || len(w.st.members) != 0 || len(w.st.events) != 0 {
				t.Errorf("a refused organisation left %d organisations, %d members, %d events", len(w.st.orgs), len(w.st.members), len(w.st.events))
			}
		})
	}
}

func TestWhoSeesAnOrganisation(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
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
		{"a member", w.aidant.PersonID, w.desk, nil},
		{"a withdrawn member still sees it", withdrawn.PersonID, w.desk, nil},
		{"an operator", w.op.PersonID, w.desk, nil},
		{"anyone else learns nothing", w.jane, w.desk, ErrNotFound},
		{"an id that is not an id", w.op.PersonID, "desk", ErrNotFound},
		{"an unknown organisation", w.op.PersonID, NewID(w.clock), ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := w.svc.Organisation(w.ctx, tt.viewer, tt.id)
			if !errors.Is(err, tt.want) || (tt.want == nil && o.ID != w.desk) {
				t.Errorf("Organisation = %+v, %v; want %v", o, err, tt.want)
			}
		})
	}
	t.Run("only an operator lists them all", func(t *testing.T) {
		if _, err := w.svc.Organisations(w.ctx, w.admin); !errors.Is(err, ErrNotPermitted) {
			t.Errorf("Organisations by an administrator = %v, want ErrNotPermitted", err)
		}
		all, err := w.svc.Organisations(w.ctx, w.op)
		if err != nil || len(all) != 1 || all[0].ID != w.desk {
			t.Errorf("Organisations = %v, %v; want the desk", all, err)
		}
	})
	t.Run("a person lists their memberships", func(t *testing.T) {
		ms, err := w.svc.MembershipsOf(w.ctx, w.aidant.PersonID)
		if err != nil || len(ms) != 1 || ms[0].Organisation.ID != w.desk || ms[0].Role != MemberAidant {
			t.Errorf("MembershipsOf = %+v, %v; want the desk as aidant", ms, err)
		}
	})
}

func TestTheAdministratorManagesMembers(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	newcomer := w.person("Nina", "Nouvelle")
	t.Run("an aidant without a second factor is not habilitated", func(t *testing.T) {
		if _, err := w.svc.Habilitate(w.ctx, w.admin, w.desk, newcomer, MemberAidant); !errors.Is(err, ErrNoSecondFactor) {
			t.Errorf("Habilitate = %v, want ErrNoSecondFactor", err)
		}
	})
	t.Run("an administrator needs none to be named", func(t *testing.T) {
		other := w.person("Omar", "Admin")
		if m, err := w.svc.Habilitate(w.ctx, w.admin, w.desk, other, MemberAdmin); err != nil || !m.Active || m.Role != MemberAdmin {
			t.Errorf("Habilitate = %+v, %v; want an active admin", m, err)
		}
	})
	t.Run("with a second factor, the aidant is habilitated", func(t *testing.T) {
		w.st.twoFactor[newcomer] = true
		m, err := w.svc.Habilitate(w.ctx, w.admin, w.desk, newcomer, MemberAidant)
		if err != nil || !m.Active || m.HabilitatedBy != w.admin.PersonID {
			t.Fatalf("Habilitate = %+v, %v; want an active aidant habilitated by the administrator", m, err)
		}
		if e := w.st.events[len(w.st.events)-1]; e.Type != EventMemberHabilitated || e.PersonID != newcomer {
			t.Errorf("event %+v, want the habilitation", e)
		}
	})
	t.Run("twice is refused", func(t *testing.T) {
		_, err := w.svc.Habilitate(w.ctx, w.admin, w.desk, newcomer, MemberAidant)
		var ue *UniqueError
		if !errors.As(err, &ue) || ue.Entity != "membership" {
			t.Errorf("Habilitate again = %v, want a *UniqueError on the membership", err)
		}
	})
	t.Run("the members are listed with their names", func(t *testing.T) {
		ms, err := w.svc.Members(w.ctx, w.admin, w.desk)
		if err != nil || len(ms) != 4 {
			t.Fatalf("Members = %d, %v; want 4", len(ms), err)
		}
		for _, m := range ms {
			if m.Name == "" || m.Email == "" || m.Organisation.ID != w.desk {
				t.Errorf("member %+v has no name, email or organisation", m)
			}
		}
	})
	t.Run("a withdrawn aidant no longer acts", func(t *testing.T) {
		if err := w.svc.WithdrawMember(w.ctx, w.admin, w.desk, newcomer); err != nil {
			t.Fatal(err)
		}
		m, _ := w.st.Membership(w.ctx, w.desk, newcomer)
		if m.Active || m.WithdrawnBy != w.admin.PersonID || m.CanAct() {
			t.Errorf("membership %+v, want withdrawn by the administrator", m)
		}
		if err := w.svc.WithdrawMember(w.ctx, w.admin, w.desk, newcomer); !errors.Is(err, ErrInactive) {
			t.Errorf("withdrawing again = %v, want ErrInactive", err)
		}
	})
	t.Run("and may be habilitated again", func(t *testing.T) {
		m, err := w.svc.Habilitate(w.ctx, w.admin, w.desk, newcomer, MemberAidant)
		if err != nil || !m.Active {
			t.Errorf("Habilitate again = %+v, %v; want active", m, err)
		}
	})
	t.Run("an administrator does not withdraw themselves", func(t *testing.T) {
		if err := w.svc.WithdrawMember(w.ctx, w.admin, w.desk, w.admin.PersonID); !errors.Is(err, ErrNotPermitted) {
			t.Errorf("WithdrawMember = %v, want ErrNotPermitted", err)
		}
	})
	t.Run("an unknown member is not found", func(t *testing.T) {
		if err := w.svc.WithdrawMember(w.ctx, w.admin, w.desk, w.jane); !errors.Is(err, ErrNotFound) {
			t.Errorf("WithdrawMember = %v, want ErrNotFound", err)
		}
	})
	t.Run("an operator may do what the administrator does", func(t *testing.T) {
		if err := w.svc.WithdrawMember(w.ctx, w.op, w.desk, newcomer); err != nil {
			t.Errorf("WithdrawMember by an operator = %v", err)
		}
	})
	t.Run("an unknown person is not habilitated", func(t *testing.T) {
		if _, err := w.svc.Habilitate(w.ctx, w.admin, w.desk, NewID(w.clock), MemberAidant); !errors.Is(err, ErrInvalid) {
			t.Errorf("Habilitate = %v, want ErrInvalid", err)
		}
	})
	for name, a := range map[string]Actor{"an aidant": w.aidant, "a stranger": {PersonID: w.jane}} {
		t.Run(name+" manages nothing", func(t *testing.T) {
			if _, err := w.svc.Habilitate(w.ctx, a, w.desk, newcomer, MemberAidant); !errors.Is(err, ErrNotPermitted) {
				t.Errorf("Habilitate = %v, want ErrNotPermitted", err)
			}
			if err := w.svc.WithdrawMember(w.ctx, a, w.desk, w.aidant.PersonID); !errors.Is(err, ErrNotPermitted) {
				t.Errorf("WithdrawMember = %v, want ErrNotPermitted", err)
			}
			if _, err := w.svc.Members(w.ctx, a, w.desk); !errors.Is(err, ErrNotPermitted) {
				t.Errorf("Members = %v, want ErrNotPermitted", err)
			}
			if _, err := w.svc.Mandates(w.ctx, a, w.desk); !errors.Is(err, ErrNotPermitted) {
				t.Errorf("Mandates = %v, want ErrNotPermitted", err)
			}
		})
	}
}

func TestTheAdministratorNamesDelegates(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	in := w.measureInput(Tutelle, w.jane, "", RoleTuteur)
	in.Representatives[0] = RepresentativeInput{OrganisationID: w.desk, Role: RoleTuteur}
	reps, err := w.svc.RegisterMeasure(w.ctx, w.op, in)
	if err != nil {
		t.Fatal(err)
	}
	m := reps[0]
	outsider := w.person("Eve", "Autre")
	tests := []struct {
		name      string
		a         Actor
		delegates []string
		want      error
	}{
		{"an aidant is not the administrator, and learns nothing", w.aidant, []string{w.aidant.PersonID}, ErrNotFound},
		{"someone who is not a member is no delegate", w.admin, []string{outsider}, ErrInvalid},
		{"the administrator names a member", w.admin, []string{w.aidant.PersonID}, nil},
		{"the same delegates again change nothing", w.admin, []string{w.aidant.PersonID}, ErrInvalid},
		{"an operator names none: any member", w.op, nil, nil},
	}
	for _, tt := range tests { // in order
		r, err := w.svc.SetDelegates(w.ctx, tt.a, m.ID, 0, tt.delegates)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Fatalf("%s: SetDelegates = %v, want %v", tt.name, err, tt.want)
		}
		if tt.want == nil && (!slices.Equal(r.Representative.Delegates, tt.delegates) || r.History[len(r.History)-1].Type != EventDelegatesChanged) {
			t.Errorf("%s: delegates %v, last %s", tt.name, r.Representative.Delegates, r.History[len(r.History)-1].Type)
		}
	}
	mandates, err := w.svc.Mandates(w.ctx, w.admin, w.desk)
	if err != nil || len(mandates) != 1 || mandates[0].ID != m.ID || mandates[0].RepresentativeOf != "France Services Lyon 8e" {
		t.Errorf("Mandates = %d, %v; want the tutelle, named by the desk", len(mandates), err)
	}

	t.Run("a measure a person holds has no delegates", func(t *testing.T) {
		pm := w.measure(CuratelleSimple, w.person("Paul", "Durand"), w.person("Marie", "Martin"), RoleCurateur)
		if _, err := w.svc.SetDelegates(w.ctx, w.op, pm.ID, 0, []string{w.aidant.PersonID}); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetDelegates by an operator = %v, want ErrInvalid", err)
		}
		if _, err := w.svc.SetDelegates(w.ctx, w.admin, pm.ID, 0, []string{w.aidant.PersonID}); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetDelegates by someone else = %v, want ErrNotFound", err)
		}
	})
	t.Run("an unknown representation", func(t *testing.T) {
		if _, err := w.svc.SetDelegates(w.ctx, w.admin, NewID(w.clock), 0, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetDelegates = %v, want ErrNotFound", err)
		}
	})
}
