package storagetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// separateFacts are a decision's facts read the long way, as
// mandates.Service.Decide reads them from a store without DecisionFacts.
func separateFacts(t *testing.T, ctx context.Context, s RepresentationStore, personID, actorID string) mandates.Facts {
	t.Helper()
	reps, err := s.RepresentationsOf(ctx, personID)
	if err != nil {
		t.Fatalf("RepresentationsOf: %v", err)
	}
	f := mandates.Facts{Representations: reps, Organisations: map[string]mandates.Organisation{}}
	if actorID != "" {
		if f.Memberships, err = s.MembershipsOf(ctx, actorID); err != nil {
			t.Fatalf("MembershipsOf: %v", err)
		}
	}
	if len(f.Memberships) > 0 {
		if f.ActorSecondFactor, err = s.SecondFactorEnrolled(ctx, actorID); err != nil {
			t.Fatalf("SecondFactorEnrolled: %v", err)
		}
	}
	for _, r := range reps {
		if id := r.Representative.OrganisationID; id != "" {
			if f.Organisations[id], err = s.Organisation(ctx, id); err != nil {
				t.Fatalf("Organisation: %v", err)
			}
		}
	}
	return f
}

// testDecisionFacts: DecisionFacts reads exactly what the separate calls
// read, in one go, and sees a revocation at once (nothing is cached).
func testDecisionFacts(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	fs, ok := s.(mandates.FactsStore)
	if !ok {
		t.Fatal("the store does not implement mandates.FactsStore")
	}
	c := newCast(t, s)
	org2 := mustOrganisation(t, s, "CCAS de Bron", c.operator.ID)
	next := idSource()
	tutelle := newTutelle(next(), c.person.ID, c.tutor.ID, newDecision("TJ Lyon", "RG 7", c.operator.ID))
	mandate := newAidantMandate(next(), c.person.ID, c.org.ID, c.aidant.ID, c.aidant.ID)
	other := newAidantMandate(next(), c.person.ID, org2.ID, c.aidant.ID)
	for _, r := range []mandates.Representation{tutelle, mandate, other} {
		mustCreateRepresentation(t, s, r, created(c.operator.ID))
	}
	at := msNow()
	for _, m := range []mandates.Membership{
		{OrganisationID: c.org.ID, PersonID: c.aidant.ID, Role: mandates.MemberAidant, Active: true, HabilitatedBy: c.operator.ID, HabilitatedAt: at},
		{OrganisationID: org2.ID, PersonID: c.aidant.ID, Role: mandates.MemberAidant, HabilitatedBy: c.operator.ID,
			HabilitatedAt: at.Add(time.Millisecond), WithdrawnBy: c.operator.ID, WithdrawnAt: at.Add(time.Second)},
	} {
		if err := s.SaveMembership(ctx, m); err != nil {
			t.Fatalf("SaveMembership: %v", err)
		}
	}
	check := func(ctx context.Context, name, personID, actorID string) mandates.Facts {
		t.Helper()
		got, err := fs.DecisionFacts(ctx, personID, actorID)
		if err != nil {
			t.Fatalf("%s: DecisionFacts: %v", name, err)
		}
		want := separateFacts(t, ctx, s, personID, actorID)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: DecisionFacts differs from the separate reads:\n got  %s\n want %s", name, show(got), show(want))
		}
		return got
	}
	tests := []struct {
		name           string
		person, actor  string
		reps, ms, orgs int
	}{
		{"an aidant of two organisations asking for the person", c.person.ID, c.aidant.ID, 3, 2, 2},
		{"the tutor, a member of nothing", c.person.ID, c.tutor.ID, 3, 0, 2},
		{"the person for themselves, memberships not asked", c.person.ID, "", 3, 0, 2},
		{"someone nobody represents", c.tutor.ID, c.aidant.ID, 0, 2, 0},
		{"malformed ids", "nobody", "nothing", 0, 0, 0},
	}
	for _, tt := range tests {
		f := check(ctx, tt.name, tt.person, tt.actor)
		if len(f.Representations) != tt.reps || len(f.Memberships) != tt.ms || len(f.Organisations) != tt.orgs {
			t.Errorf("%s: %d representations, %d memberships, %d organisations; want %d, %d, %d", tt.name,
				len(f.Representations), len(f.Memberships), len(f.Organisations), tt.reps, tt.ms, tt.orgs)
		}
	}

	// The actor's second factor, once turned on, is read with the
	// memberships.
	if f := check(ctx, "before the aidant's second factor", c.person.ID, c.aidant.ID); f.ActorSecondFactor {
		t.Error("DecisionFacts says the aidant has a second factor before any")
	}
	totp, ok := s.(authn.TOTPStore)
	if !ok {
		t.Fatal("the store does not implement authn.TOTPStore")
	}
	enrolSecondFactor(t, totp, c.aidant.ID, at)
	if f := check(ctx, "with the aidant's second factor", c.person.ID, c.aidant.ID); !f.ActorSecondFactor {
		t.Error("DecisionFacts does not see the aidant's second factor")
	}

	// A revocation is seen by the very next read.
	if _, err := s.UpdateRepresentation(ctx, mandate.ID, func(r *mandates.Representation) (mandates.Change, error) {
		r.Status = mandates.StatusRevoked
		return mandates.Change{At: msNow(), ActorID: c.person.ID, Type: mandates.EventRevoked}, nil
	}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	f := check(ctx, "after the revocation", c.person.ID, c.aidant.ID)
	for _, r := range f.Representations {
		if r.ID == mandate.ID && r.Status != mandates.StatusRevoked {
			t.Errorf("after the revocation, DecisionFacts still reads the mandate as %s", r.Status)
		}
	}

	// Inside a transaction, it reads the transaction's own writes.
	err := s.InTx(ctx, func(ctx context.Context) error {
		late := newTutelle(next(), c.person.ID, c.cotutor.ID, newDecision("TJ Lyon", "RG 8", c.operator.ID))
		if err := s.CreateRepresentation(ctx, late, created(c.operator.ID)); err != nil {
			return err
		}
		if f := check(ctx, "inside a transaction", c.person.ID, c.aidant.ID); len(f.Representations) != 4 {
			t.Errorf("inside a transaction: %d representations, want the 4 with its own write", len(f.Representations))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
}
