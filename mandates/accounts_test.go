package mandates

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// PersonsByPivot makes the test store a PivotStore, as both real stores are.
func (m *memStore) PersonsByPivot(_ context.Context, key string) ([]Person, error) {
	var out []Person
	for _, p := range m.persons {
		if key != "" && PivotKey(p) == key {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Person) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ListPersons makes the test store a PersonLister.
func (m *memStore) ListPersons(_ context.Context, name, after string, limit int) ([]Person, error) {
	var out []Person
	for _, p := range m.persons {
		if p.ID > after && strings.Contains(NameKey(p.GivenNames+" "+p.FamilyName), name) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Person) int { return strings.Compare(a.ID, b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func deskAccount() AccountInput {
	return AccountInput{IdentityChecked: true, Person: Person{GivenNames: "Rose Marie", FamilyName: "Durand", BirthDate: Date(1944, 5, 2),
		BirthPlace: Place{Code: "44109", Label: "Nantes"}, Gender: GenderFemale,
		Address: Address{Street: "3 rue des Lilas", PostalCode: "44000", Locality: "Nantes"}}}
}

func TestAnOperatorOpensAnAccount(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	p, err := w.svc.OpenAccount(w.ctx, w.op, deskAccount())
	if err != nil {
		t.Fatal(err)
	}
	if !IsID(p.ID) || p.PasswordHash != "" || p.Language != "fr" || p.Version != 1 {
		t.Errorf("account %+v; want a new id, no password, French, version 1", p)
	}
	e := w.st.events[len(w.st.events)-1]
	if e.Type != EventAccountOpened || e.ActorID != w.op.PersonID || e.PersonID != p.ID || e.Detail["by"] != "desk" || e.Detail["homonym"] != "" {
		t.Errorf("event %+v; want account.opened by the operator at a desk, in the person's journal", e)
	}
}

func TestAnAidantWithTheirSecondFactorOpensAnAccount(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	in := deskAccount()
	in.By = OpenedByAPI
	p, err := w.svc.OpenAccount(w.ctx, w.aidant, in)
	if err != nil {
		t.Fatal(err)
	}
	if e := w.st.events[len(w.st.events)-1]; e.Type != EventAccountOpened || e.ActorID != w.aidant.PersonID || e.PersonID != p.ID || e.Detail["by"] != "api" {
		t.Errorf("event %+v; want account.opened by the aidant", e)
	}
}

func TestOpeningAnAccountIsRefused(t *testing.T) {
	tests := []struct {
		name  string
		actor func(w *aidantWorld) Actor
		edit  func(in *AccountInput)
		want  error
		field string
	}{
		{"to someone who is neither an operator nor an aidant", func(w *aidantWorld) Actor { return Actor{PersonID: w.jane, SecondFactor: true} }, nil, ErrNotPermitted, ""},
		{"to nobody", func(w *aidantWorld) Actor { return Actor{} }, nil, ErrNotPermitted, ""},
		{"to an aidant whose login used no second factor", func(w *aidantWorld) Actor { return Actor{PersonID: w.aidant.PersonID} }, nil, ErrSecondFactor, ""},
		{"to a withdrawn aidant", func(w *aidantWorld) Actor {
			m := w.member(w.desk, w.person("Wanda", "Partie"), MemberAidant, true)
			if err := w.svc.WithdrawMember(w.ctx, w.admin, w.desk, m.PersonID); err != nil {
				w.t.Fatal(err)
			}
			return m
		}, nil, ErrNotPermitted, ""},
		{"to an aidant who says it is a homonym", func(w *aidantWorld) Actor { return w.aidant }, func(in *AccountInput) { in.Homonym = true }, ErrInvalid, "homonym"},
		{"without the identity check", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.IdentityChecked = false }, ErrInvalid, "identity_checked"},
		{"without a family name", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.FamilyName = " " }, ErrInvalid, "family_name"},
		{"with given names that are only a hyphen", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.GivenNames = "-" }, ErrInvalid, "given_names"},
		{"with a family name that is only a dot", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.FamilyName = "." }, ErrInvalid, "family_name"},
		{"without a birth date", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.BirthDate = time.Time{} }, ErrInvalid, "birth_date"},
		{"without a gender", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.Gender = "" }, ErrInvalid, "gender"},
		{"without a street", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.Address.Street = "" }, ErrInvalid, "address_street"},
		{"without a postal code", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.Address.PostalCode = "" }, ErrInvalid, "address_postal_code"},
		{"without a town", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.Address.Locality = "" }, ErrInvalid, "address_locality"},
		{"with a malformed email", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.Email = "rose at example" }, ErrInvalid, "email"},
		{"with an unknown language", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.Language = "de" }, ErrInvalid, "language"},
		{"from an unknown place", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.By = "fax" }, ErrInvalid, "by"},
		{"with another account's email", func(w *aidantWorld) Actor { return w.op }, func(in *AccountInput) { in.Person.Email = "P1@example.fr" }, ErrAlreadyExists, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newAidantWorld(t, ServiceConfig{})
			a := tt.actor(w)
			in := deskAccount()
			if tt.edit != nil {
				tt.edit(&in)
			}
			persons, events := len(w.st.persons), len(w.st.events)
			_, err := w.svc.OpenAccount(w.ctx, a, in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("OpenAccount = %v, want %v", err, tt.want)
			}
			var inv *InvalidError
			if tt.field != "" && (!errors.As(err, &inv) || inv.Field != tt.field) {
				t.Errorf("OpenAccount = %v, want an InvalidError on %s", err, tt.field)
			}
			if len(w.st.persons) != persons || len(w.st.events) != events {
				t.Errorf("a refused opening left %d persons and %d events, want %d and %d", len(w.st.persons), len(w.st.events), persons, events)
			}
		})
	}
}

func TestTheSamePersonTwiceIsRefusedUnlessAnOperatorConfirmsAHomonym(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	first, err := w.svc.OpenAccount(w.ctx, w.op, deskAccount())
	if err != nil {
		t.Fatal(err)
	}
	// The same identity typed another way: case, accents, hyphens.
	again := deskAccount()
	again.Person.GivenNames, again.Person.FamilyName = "rose-marie", "DURAND "
	var same *SamePersonError
	if _, err := w.svc.OpenAccount(w.ctx, w.op, again); !errors.As(err, &same) || !errors.Is(err, ErrAlreadyExists) || !slices.Equal(same.IDs, []string{first.ID}) {
		t.Fatalf("the same person again = %v, want a SamePersonError naming %s", err, first.ID)
	}
	if _, err := w.svc.OpenAccount(w.ctx, w.aidant, again); !errors.As(err, &same) || len(same.IDs) != 0 {
		t.Fatalf("the same person again by an aidant = %v, want a SamePersonError naming nobody", err)
	}
	again.Homonym = true
	if _, err := w.svc.OpenAccount(w.ctx, w.aidant, again); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an aidant's homonym = %v, want it refused", err)
	}
	second, err := w.svc.OpenAccount(w.ctx, w.op, again)
	if err != nil {
		t.Fatalf("an operator's homonym = %v, want it opened", err)
	}
	if e := w.st.events[len(w.st.events)-1]; e.PersonID != second.ID || e.Detail["homonym"] != "true" {
		t.Errorf("event %+v; want homonym=true journaled", e)
	}
	// A third with the same pivot: still refused without the check, naming both.
	again.Homonym = false
	if _, err := w.svc.OpenAccount(w.ctx, w.op, again); !errors.As(err, &same) || len(same.IDs) != 2 {
		t.Fatalf("a third = %v, want both existing accounts named", err)
	}
}

func TestWhoMayActivateAnAccountForThePerson(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	tutor := w.person("Théo", "Tuteur")
	subroge := w.person("Sam", "Subrogé")
	curator := w.person("Claire", "Curatrice")
	w.measure(Tutelle, w.jane, tutor, RoleTuteur)
	w.measure(Tutelle, w.jane, subroge, RoleSubrogeTuteur)
	bob := w.person("Bob", "Martin")
	w.measure(CuratelleRenforcee, bob, curator, RoleCurateur)
	service := w.org("UDAF")
	in := w.measureInput(Tutelle, bob, "", RoleTuteur)
	in.Representatives = []RepresentativeInput{{OrganisationID: service, Role: RoleTuteur}}
	if _, err := w.svc.RegisterMeasure(w.ctx, w.op, in); err != nil {
		t.Fatal(err)
	}
	delegate := w.member(service, w.person("Dana", "Délégué"), MemberAidant, true)
	tests := []struct {
		name   string
		actor  Actor
		person string
		want   error
	}{
		{"the tutor", Actor{PersonID: tutor}, w.jane, nil},
		{"the subrogé tuteur, who only oversees", Actor{PersonID: subroge}, w.jane, ErrNotPermitted},
		{"an operator", w.op, w.jane, ErrNotPermitted},
		{"the person themselves", Actor{PersonID: w.jane}, w.jane, ErrNotPermitted},
		{"a curator", Actor{PersonID: curator}, bob, ErrNotPermitted},
		{"a member of the MJPM service holding the tutelle, with a second factor", delegate, bob, nil},
		{"the same member without one", Actor{PersonID: delegate.PersonID}, bob, ErrSecondFactor},
		{"the tutor of someone else", Actor{PersonID: tutor}, bob, ErrNotPermitted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := w.svc.MayActivateFor(w.ctx, tt.actor, tt.person); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("MayActivateFor = %v, want %v", err, tt.want)
			}
		})
	}
	w.advance(400 * 24 * time.Hour)
	if err := w.svc.MayActivateFor(w.ctx, Actor{PersonID: tutor}, w.jane); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("a tutelle that ended = %v, want ErrNotPermitted", err)
	}
}

func TestOperatorsListPersonsByNameAndPage(t *testing.T) {
	w := newAidantWorld(t, ServiceConfig{})
	for _, f := range []string{"Lefébure", "Lefèvre-Moreau", "Durand"} {
		w.person("Anne", f)
	}
	page, next, err := w.svc.ListPersons(w.ctx, w.op, PersonQuery{Name: "LEFE", Limit: 2})
	if err != nil || len(page) != 2 || next == "" {
		t.Fatalf("first page = %d persons, next %q, %v; want 2 and a next page", len(page), next, err)
	}
	rest, next2, err := w.svc.ListPersons(w.ctx, w.op, PersonQuery{Name: "lefe", After: next, Limit: 2})
	if err != nil || len(rest) != 1 || next2 != "" || rest[0].ID <= page[1].ID {
		t.Fatalf("second page = %d persons, next %q, %v; want the last one", len(rest), next2, err)
	}
	if _, _, err := w.svc.ListPersons(w.ctx, w.aidant, PersonQuery{}); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("an aidant listing = %v, want ErrNotPermitted", err)
	}
	if _, _, err := w.svc.ListPersons(w.ctx, w.op, PersonQuery{Limit: 500}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a page of 500 = %v, want ErrInvalid", err)
	}
	if _, err := w.svc.PersonForOperator(w.ctx, w.aidant, w.jane); !errors.Is(err, ErrNotFound) {
		t.Errorf("an aidant reading a person = %v, want ErrNotFound", err)
	}
	if p, err := w.svc.PersonForOperator(w.ctx, w.op, w.jane); err != nil || p.ID != w.jane {
		t.Errorf("an operator reading Jeanne = %v, %v", p.ID, err)
	}
}
