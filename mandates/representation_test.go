package mandates

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRepresentationValidate(t *testing.T) {
	tests := []struct {
		name   string
		kind   Kind
		change func(r *Representation)
		ok     bool
	}{
		{"a tutelle as registered", Tutelle, func(*Representation) {}, true},
		{"an aidant mandate as consented", AidantMandate, func(*Representation) {}, true},
		{"a proxy as accepted", Proxy, func(*Representation) {}, true},
		{"a mandat de protection future without an end", MandatProtectionFuture, func(*Representation) {}, true},
		{"a mandate waiting for consent has none yet", AidantMandate, func(r *Representation) { r.Status, r.Source.Consent = StatusPendingConsent, nil }, true},
		{"an id that is not a UUID", Tutelle, func(r *Representation) { r.ID = "1" }, false},
		{"an unknown kind", Tutelle, func(r *Representation) { r.Kind = "regency" }, false},
		{"a person that is not an id", Tutelle, func(r *Representation) { r.PersonID = "jeanne" }, false},
		{"no representative", Tutelle, func(r *Representation) { r.Representative = Representative{} }, false},
		{"a person and an organisation at once", Tutelle, func(r *Representation) { r.Representative.OrganisationID = orgID }, false},
		{"a representative that is not an id", Tutelle, func(r *Representation) { r.Representative.PersonID = "marie" }, false},
		{"an organisation that is not an id", Tutelle, func(r *Representation) { r.Representative = Representative{OrganisationID: "udaf"} }, false},
		{"the person representing themselves", Tutelle, func(r *Representation) { r.Representative.PersonID = r.PersonID }, false},
		{"delegates of a person", Tutelle, func(r *Representation) { r.Representative.Delegates = []string{operator} }, false},
		{"an aidant mandate held by a person", AidantMandate, func(r *Representation) { r.Representative = Representative{PersonID: actorID} }, false},
		{"a proxy held by an organisation", Proxy, func(r *Representation) { r.Representative = Representative{OrganisationID: orgID} }, false},
		{"a role of another kind", Tutelle, func(r *Representation) { r.Role = RoleCurateur }, false},
		{"an unknown status", Tutelle, func(r *Representation) { r.Status = "dormant" }, false},
		{"the expired status, which is never stored", Tutelle, func(r *Representation) { r.Status = StatusExpired }, false},
		{"a delegate twice", Tutelle, func(r *Representation) {
			r.Representative = Representative{OrganisationID: orgID, Delegates: []string{actorID, actorID}}
		}, false},
		{"the person as a delegate", Tutelle, func(r *Representation) {
			r.Representative = Representative{OrganisationID: orgID, Delegates: []string{r.PersonID}}
		}, false},
		{"an area twice", Tutelle, func(r *Representation) { r.Areas = []Area{"social", "social"} }, false},
		{"a mandate over every area", AidantMandate, func(r *Representation) { r.Areas = nil }, false},
		{"a proxy that grants nothing", Proxy, func(r *Representation) { r.Granted = nil }, false},
		{"a proxy that grants disposing", Proxy, func(r *Representation) { r.Granted = []Action{Consult, Dispose} }, false},
		{"a proxy that grants consult twice", Proxy, func(r *Representation) { r.Granted = []Action{Consult, Consult} }, false},
		{"a measure that grants", Tutelle, func(r *Representation) { r.Granted = []Action{Consult} }, false},
		{"a mandate with adjustments", AidantMandate, func(r *Representation) {
			r.Adjustments = []Adjustment{{Party: PartyPerson, Action: Manage, Decision: Allowed}}
		}, false},
		{"a bad adjustment", Tutelle, func(r *Representation) {
			r.Adjustments = []Adjustment{{Party: "judge", Action: Manage, Decision: Allowed}}
		}, false},
		{"no start", Tutelle, func(r *Representation) { r.ValidFrom = time.Time{} }, false},
		{"an end before the start", Tutelle, func(r *Representation) { r.ValidUntil = r.ValidFrom }, false},
		{"a tutelle without an end", Tutelle, func(r *Representation) { r.ValidUntil = time.Time{} }, false},
		{"a sauvegarde of more than a year", SauvegardeJustice, func(r *Representation) { r.ValidUntil = r.ValidFrom.AddDate(1, 0, 1) }, false},
		{"a renewed sauvegarde of two years", SauvegardeJustice, func(r *Representation) {
			r.ValidUntil, r.Source.Decision.Renewal = r.ValidFrom.AddDate(2, 0, 0), true
		}, true},
		{"a renewed tutelle of twenty years", Tutelle, func(r *Representation) {
			r.ValidUntil, r.Source.Decision.Renewal = r.ValidFrom.AddDate(20, 0, 0), true
		}, true},
		{"a mandate of a length aidants do not use", AidantMandate, func(r *Representation) { r.ValidUntil = r.ValidFrom.AddDate(0, 2, 0) }, false},
		{"a measure without its decision", Tutelle, func(r *Representation) { r.Source.Decision = nil }, false},
		{"a decision without a court", Tutelle, func(r *Representation) { r.Source.Decision.Jurisdiction = " " }, false},
		{"a decision reference over 100 bytes", Tutelle, func(r *Representation) { r.Source.Decision.Reference = strings.Repeat("x", 101) }, false},
		{"a decision without a date", Tutelle, func(r *Representation) { r.Source.Decision.Date = time.Time{} }, false},
		{"a decision registered by nobody", Tutelle, func(r *Representation) { r.Source.Decision.RegisteredBy = "" }, false},
		{"a sauvegarde that names no act", SauvegardeJustice, func(r *Representation) { r.Adjustments = nil }, false},
		{"a mandate in force without consent", AidantMandate, func(r *Representation) { r.Source.Consent = nil }, false},
		{"a consent without a date", AidantMandate, func(r *Representation) { r.Source.Consent.GivenAt = time.Time{} }, false},
		{"a mandate's consent without a witness", AidantMandate, func(r *Representation) { r.Source.Consent.WitnessID = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample(tt.kind, RolesOf[tt.kind][0])
			if r.Source.Decision != nil {
				d := *r.Source.Decision
				r.Source.Decision = &d
			}
			tt.change(&r)
			err := r.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestAdjustmentValidate(t *testing.T) {
	ok := Adjustment{Party: PartyPerson, Area: "argent", Action: Manage, Decision: Allowed, Note: "Gérer son compte courant"}
	tests := []struct {
		name   string
		change func(a *Adjustment)
		ok     bool
	}{
		{"an adjustment for one area", func(*Adjustment) {}, true},
		{"an adjustment for every area", func(a *Adjustment) { a.Area = "" }, true},
		{"an unknown party", func(a *Adjustment) { a.Party = "judge" }, false},
		{"an unknown area", func(a *Adjustment) { a.Area = "lune" }, false},
		{"strictly personal acts", func(a *Adjustment) { a.Action = Personal }, false},
		{"an unknown action", func(a *Adjustment) { a.Action = "sell" }, false},
		{"an unknown decision", func(a *Adjustment) { a.Decision = "maybe" }, false},
		{"a note over 500 bytes", func(a *Adjustment) { a.Note = strings.Repeat("é", 251) }, false},
		{"a note that is not UTF-8", func(a *Adjustment) { a.Note = "\xff" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ok
			tt.change(&a)
			if err := a.Validate(); (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestOrganisationAndMembershipValidate(t *testing.T) {
	o := Organisation{ID: orgID, Name: "CCAS de Lyon", Kind: OrgCCAS, Areas: []Area{"social"}}
	orgs := []struct {
		name   string
		change func(o *Organisation)
		ok     bool
	}{
		{"an organisation", func(*Organisation) {}, true},
		{"an id that is not a UUID", func(o *Organisation) { o.ID = "ccas" }, false},
		{"a name too long", func(o *Organisation) { o.Name = strings.Repeat("x", 201) }, false},
		{"an unknown kind", func(o *Organisation) { o.Kind = "club" }, false},
		{"an area twice", func(o *Organisation) { o.Areas = []Area{"social", "social"} }, false},
	}
	for _, tt := range orgs {
		t.Run(tt.name, func(t *testing.T) {
			oo := o
			tt.change(&oo)
			if err := oo.Validate(); (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
	m := Membership{OrganisationID: orgID, PersonID: actorID, Role: MemberAidant, Active: true, HabilitatedAt: t0}
	members := []struct {
		name   string
		change func(m *Membership)
		ok     bool
	}{
		{"an active aidant", func(*Membership) {}, true},
		{"a withdrawn aidant with the date", func(m *Membership) { m.Active, m.WithdrawnAt = false, t0 }, true},
		{"an organisation that is not an id", func(m *Membership) { m.OrganisationID = "ccas" }, false},
		{"a person that is not an id", func(m *Membership) { m.PersonID = "sophie" }, false},
		{"an unknown role", func(m *Membership) { m.Role = "boss" }, false},
		{"no habilitation date", func(m *Membership) { m.HabilitatedAt = time.Time{} }, false},
		{"withdrawn without the date", func(m *Membership) { m.Active = false }, false},
	}
	for _, tt := range members {
		t.Run(tt.name, func(t *testing.T) {
			mm := m
			tt.change(&mm)
			if err := mm.Validate(); (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("Validate = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestApplyUpdateOfAPerson(t *testing.T) {
	old := validPerson()
	old.Version, old.CreatedAt = 3, t0.Add(-time.Hour)
	now := t0.Add(1500 * time.Microsecond).Add(300 * time.Nanosecond)
	tests := []struct {
		name string
		fn   func(p *Person) error
		want error
	}{
		{"a new phone is saved with the next version", func(p *Person) error { p.Phone = "06 00 00 00 00"; return nil }, nil},
		{"the id cannot change", func(p *Person) error { p.ID = NewID(t0); return nil }, ErrInvalid},
		{"an invalid result is refused", func(p *Person) error { p.Email = "not an address"; return nil }, ErrInvalid},
		{"fn's own error is returned", func(p *Person) error { return ErrConflict }, ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ApplyUpdate(old, tt.fn, now)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("ApplyUpdate = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if p != old {
					t.Errorf("a refused update returned %+v, want the old record", p)
				}
				return
			}
			if p.Version != 4 || !p.CreatedAt.Equal(old.CreatedAt) || !p.UpdatedAt.Equal(now.Truncate(time.Microsecond)) || p.Phone == old.Phone {
				t.Errorf("version %d, created %v, updated %v, phone %q", p.Version, p.CreatedAt, p.UpdatedAt, p.Phone)
			}
		})
	}
}

func TestATransactionRunsOnceWhenRetryIsOff(t *testing.T) {
	ctx := context.Background()
	if !RetryAllowed(ctx) {
		t.Error("a plain context forbids retries")
	}
	if RetryAllowed(WithoutRetry(ctx)) {
		t.Error("WithoutRetry still allows retries")
	}
}

func TestWhoseHolderGivesForThePerson(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name string
		r    Representation
		want bool
	}{
		{"a tutor", sample(Tutelle, RoleTuteur), true},
		{"a deputy tutor, who only watches", sample(Tutelle, RoleSubrogeTuteur), false},
		{"a curator under curatelle renforcée, who agrees but does not give", sample(CuratelleRenforcee, RoleCurateur), false},
		{"an aidant", sample(AidantMandate, RoleAidant), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.GivesFor(&tt.r); got != tt.want {
				t.Errorf("GivesFor = %v, want %v", got, tt.want)
			}
		})
	}
	if got := p.GivesAll([]Representation{sample(Tutelle, RoleTuteur)}, t0); got == nil {
		t.Error("GivesAll found no general tutelle")
	}
	proxy := sample(Proxy, RoleProxyHolder)
	acts := p.Actions(&proxy, "social")
	if acts[Consult] != Allowed || acts[Manage] != Allowed || acts[Dispose] != No || acts[Personal] != No {
		t.Errorf("a proxy's actions %v, want consult and manage only", acts)
	}
}
