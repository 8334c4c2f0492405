package storagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// RepresentationStore is what RunRepresentationStore needs: everything the
// representation service asks of a store.
type RepresentationStore interface {
	mandates.Store
}

// RunRepresentationStore runs the representation, organisation, consent
// code and role behaviour suite. newStore returns a fresh, empty, migrated
// store.
func RunRepresentationStore(t *testing.T, newStore func(t *testing.T) RepresentationStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s RepresentationStore)
	}{
		{"a tutelle is read back as written, with its first history entry", testTutelleRoundTrip},
		{"an aidant mandate held by an organisation is read back with its delegates and consent", testAidantMandateRoundTrip},
		{"a mandat de protection future without an end is read back without one", testOpenEndedRoundTrip},
		{"an unknown or malformed representation id is not found", testRepresentationNotFound},
		{"a taken representation id is refused", testRepresentationTakenID},
		{"one decision registers one representation per representative, however it is typed", testDecisionUnique},
		{"an invalid representation is refused and nothing is written", testRepresentationInvalid},
		{"an update appends to the history in order and counts a version", testRepresentationUpdate},
		{"a failed update changes nothing", testRepresentationUpdateFails},
		{"concurrent updates of one representation lose nothing", testRepresentationConcurrentUpdates},
		{"representations are listed by represented person and by representative, newest first", testRepresentationLists},
		{"measures are found by name, email or decision reference", testSearchMeasures},
		{"an organisation is created, listed and updated", testOrganisationLifecycle},
		{"an unknown organisation is not found, a taken id and an invalid one are refused", testOrganisationRefused},
		{"concurrent updates of one organisation lose nothing", testOrganisationConcurrentUpdates},
		{"a membership is saved, withdrawn and replaced, its version guarding each change", testMembership},
		{"a membership needs a known organisation and person", testMembershipRefused},
		{"a consent code is saved, replaced and updated", testConsentCode},
		{"concurrent wrong consent codes are all counted", testConsentCodeConcurrent},
		{"roles are granted and revoked, each twice without harm", testRoles},
		{"a transaction that writes a representation and then fails leaves nothing behind", testRepresentationTx},
		{"a decision's facts are read in one call exactly as the separate reads give them, a revocation at once", testDecisionFacts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// idSource returns ids in increasing order, a millisecond apart, so that
// listings ordered newest first have one right answer even when the store
// clock gives two rows the same instant.
func idSource() func() string {
	at := time.Now()
	return func() string {
		at = at.Add(time.Millisecond)
		return mandates.NewID(at)
	}
}

// msNow is now as both stores keep it: UTC, to the millisecond.
func msNow() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// cast are the persons and the organisation a representation refers to.
type cast struct {
	person, tutor, cotutor, operator, aidant mandates.Person
	org                                      mandates.Organisation
}

func mustPerson(t *testing.T, s RepresentationStore, given, family, email string) mandates.Person {
	t.Helper()
	p := newPerson(email)
	p.GivenNames, p.FamilyName, p.PreferredName = given, family, ""
	if err := s.CreatePerson(t.Context(), p); err != nil {
		t.Fatalf("CreatePerson(%s %s): %v", given, family, err)
	}
	return p
}

func mustOrganisation(t *testing.T, s RepresentationStore, name string, createdBy string) mandates.Organisation {
	t.Helper()
	o := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: name, Kind: mandates.OrgFranceServices,
		Areas: []mandates.Area{"social", "papiers"}, CreatedBy: createdBy, Address: orgAddress}
	if err := s.CreateOrganisation(t.Context(), o); err != nil {
		t.Fatalf("CreateOrganisation(%s): %v", name, err)
	}
	return o
}

func newCast(t *testing.T, s RepresentationStore) cast {
	t.Helper()
	c := cast{
		person:   mustPerson(t, s, "Jeanne Marie", "Lefèvre", "jeanne.lefevre@example.fr"),
		tutor:    mustPerson(t, s, "Paul", "Lefèvre", "paul.lefevre@example.fr"),
		cotutor:  mustPerson(t, s, "Claire", "Roux", ""),
		operator: mustPerson(t, s, "Odile", "Greffe", "odile.greffe@example.fr"),
		aidant:   mustPerson(t, s, "Amine", "Benali", "amine.benali@example.fr"),
	}
	c.org = mustOrganisation(t, s, "Espace France Services de Vénissieux", c.operator.ID)
	return c
}

func newDecision(jurisdiction, reference, operator string) *mandates.CourtDecision {
	return &mandates.CourtDecision{Jurisdiction: jurisdiction, Date: mandates.Date(2025, time.February, 20), Reference: reference,
		RegisteredBy: operator, RegisteredAt: msNow()}
}

func newTutelle(id, person, tutor string, d *mandates.CourtDecision) mandates.Representation {
	from := mandates.Date(2025, time.March, 3)
	return mandates.Representation{
		ID:             id,
		Kind:           mandates.Tutelle,
		PersonID:       person,
		Representative: mandates.Representative{PersonID: tutor},
		Role:           mandates.RoleTuteur,
		Areas:          []mandates.Area{"social", "argent"},
		Adjustments: []mandates.Adjustment{
			{Party: mandates.PartyPerson, Area: "social", Action: mandates.Manage, Decision: mandates.Allowed, Note: "démarches CAF seule"},
			{Party: mandates.PartyRepresentative, Action: mandates.Dispose, Decision: mandates.Cosign},
		},
		ValidFrom:  from,
		ValidUntil: from.AddDate(5, 0, 0),
		Status:     mandates.StatusActive,
		Source:     mandates.Source{Decision: d},
	}
}

func newAidantMandate(id, person, org, witness string, delegates ...string) mandates.Representation {
	from := msNow()
	return mandates.Representation{
		ID:             id,
		Kind:           mandates.AidantMandate,
		PersonID:       person,
		Representative: mandates.Representative{OrganisationID: org, Delegates: delegates},
		Role:           mandates.RoleAidant,
		Areas:          []mandates.Area{"social", "logement"},
		ValidFrom:      from,
		ValidUntil:     mandates.SixMonths.End(from),
		Status:         mandates.StatusActive,
		Source: mandates.Source{Consent: &mandates.ConsentRecord{Method: mandates.ConsentInPersonAttestation, GivenAt: from,
			WitnessID: witness, AttestationHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
	}
}

func created(actor string) mandates.Change {
	return mandates.Change{At: msNow(), ActorID: actor, Type: mandates.EventCreated, Detail: map[string]string{"source": "decision"}}
}

func mustCreateRepresentation(t *testing.T, s RepresentationStore, r mandates.Representation, first mandates.Change) {
	t.Helper()
	if err := s.CreateRepresentation(t.Context(), r, first); err != nil {
		t.Fatalf("CreateRepresentation(%s %s): %v", r.Kind, r.ID, err)
	}
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// sameRepresentation compares what the caller wrote with what the store
// read back; timestamps, version and history are the store's.
func sameRepresentation(t *testing.T, got, want mandates.Representation) {
	t.Helper()
	got.CreatedAt, got.UpdatedAt, got.Version, got.History = time.Time{}, time.Time{}, 0, nil
	want.CreatedAt, want.UpdatedAt, want.Version, want.History = time.Time{}, time.Time{}, 0, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("representation read back differs:\n got  %s\n want %s", show(got), show(want))
	}
}

func testTutelleRoundTrip(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	before := time.Now().Add(-time.Second)
	want := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.tutor.ID, newDecision("Tribunal judiciaire de Lyon", "RG 25/01234", c.operator.ID))
	first := created(c.operator.ID)
	first.Seq, first.From, first.To = 7, mandates.StatusRevoked, mandates.StatusPending // the store's to set
	mustCreateRepresentation(t, s, want, first)

	got, err := s.Representation(ctx, want.ID)
	if err != nil {
		t.Fatalf("Representation: %v", err)
	}
	sameRepresentation(t, got, want)
	if got.Version != 1 || got.CreatedAt.Before(before) || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("version %d, created %v, updated %v; want 1 and now twice", got.Version, got.CreatedAt, got.UpdatedAt)
	}
	wantHistory := []mandates.Change{{Seq: 1, At: first.At, ActorID: c.operator.ID, Type: mandates.EventCreated,
		From: "", To: mandates.StatusActive, Detail: map[string]string{"source": "decision"}}}
	if !reflect.DeepEqual(got.History, wantHistory) {
		t.Errorf("history:\n got  %s\n want %s", show(got.History), show(wantHistory))
	}
	if ok, err := s.DecisionRegistered(ctx, want.Source.Decision.Key()); err != nil || !ok {
		t.Errorf("DecisionRegistered = %v, %v; want true", ok, err)
	}
}

func testAidantMandateRoundTrip(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	want := newAidantMandate(mandates.NewID(time.Now()), c.person.ID, c.org.ID, c.aidant.ID, c.aidant.ID, c.cotutor.ID)
	want.Source.Consent.AcceptedAt = msNow()
	before := time.Now().Add(-time.Second)
	mustCreateRepresentation(t, s, want, mandates.Change{ActorID: c.aidant.ID, OrganisationID: c.org.ID, Type: mandates.EventCreated})
	after := time.Now().Add(time.Second)

	got, err := s.Representation(ctx, want.ID)
	if err != nil {
		t.Fatalf("Representation: %v", err)
	}
	sameRepresentation(t, got, want)
	if !got.Representative.IsOrganisation() || !slices.Equal(got.Representative.Delegates, []string{c.aidant.ID, c.cotutor.ID}) {
		t.Errorf("representative = %+v", got.Representative)
	}
	if len(got.History) != 1 {
		t.Fatalf("history = %s, want one entry", show(got.History))
	}
	h := got.History[0]
	if h.Seq != 1 || h.OrganisationID != c.org.ID || h.ActorID != c.aidant.ID || h.To != mandates.StatusActive || h.Detail != nil {
		t.Errorf("first entry = %s", show(h))
	}
	if h.At.Before(before) || h.At.After(after) {
		t.Errorf("first entry at %v: a zero time is the store's clock", h.At)
	}
}

func testOpenEndedRoundTrip(t *testing.T, s RepresentationStore) {
	c := newCast(t, s)
	want := mandates.Representation{
		ID: mandates.NewID(time.Now()), Kind: mandates.MandatProtectionFuture, PersonID: c.person.ID,
		Representative: mandates.Representative{PersonID: c.tutor.ID}, Role: mandates.RoleMandataire,
		ValidFrom: mandates.Date(2026, time.January, 5), Status: mandates.StatusPending,
		Source: mandates.Source{Decision: newDecision("Tribunal judiciaire de Lyon", "MPF 2026-001", c.operator.ID)},
	}
	mustCreateRepresentation(t, s, want, created(c.operator.ID))
	got, err := s.Representation(t.Context(), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameRepresentation(t, got, want)
	if !got.ValidUntil.IsZero() || got.Areas != nil {
		t.Errorf("valid until %v, areas %v; want no end and every area", got.ValidUntil, got.Areas)
	}
}

func testRepresentationNotFound(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	id := mandates.NewID(time.Now())
	for _, id := range []string{id, "not-a-uuid", ""} {
		if _, err := s.Representation(ctx, id); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("Representation(%q) = %v, want ErrNotFound", id, err)
		}
		_, err := s.UpdateRepresentation(ctx, id, func(r *mandates.Representation) (mandates.Change, error) {
			return mandates.Change{Type: mandates.EventUpdated}, nil
		})
		if !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("UpdateRepresentation(%q) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.ConsentCode(ctx, id); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("ConsentCode(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if ok, err := s.DecisionRegistered(ctx, "tribunal judiciaire de lyon|rg 1"); err != nil || ok {
		t.Errorf("DecisionRegistered on an empty store = %v, %v", ok, err)
	}
}

func testRepresentationTakenID(t *testing.T, s RepresentationStore) {
	c := newCast(t, s)
	r := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.tutor.ID, newDecision("TJ Lyon", "RG 1", c.operator.ID))
	mustCreateRepresentation(t, s, r, created(c.operator.ID))
	other := newAidantMandate(r.ID, c.person.ID, c.org.ID, c.aidant.ID)
	wantUnique(t, s.CreateRepresentation(t.Context(), other, created(c.aidant.ID)), "id")
	got, err := s.Representation(t.Context(), r.ID)
	if err != nil || got.Kind != mandates.Tutelle || len(got.History) != 1 {
		t.Errorf("after the refused create: %s, %v", show(got), err)
	}
}

func testDecisionUnique(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	d := newDecision("Tribunal judiciaire de Lyon", "RG 25/01234", c.operator.ID)
	first := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.tutor.ID, d)
	mustCreateRepresentation(t, s, first, created(c.operator.ID))

	again := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.tutor.ID,
		newDecision("tribunal judiciaire de  LYON", " rg 25/01234 ", c.operator.ID))
	again.Role = mandates.RoleTuteurBiens
	err := s.CreateRepresentation(ctx, again, created(c.operator.ID))
	wantUnique(t, err, "decision")
	var ue *mandates.UniqueError
	if errors.As(err, &ue) && ue.Entity != "representation" {
		t.Errorf("unique error entity = %q, want representation", ue.Entity)
	}
	if _, err := s.Representation(ctx, again.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the refused representation was stored: %v", err)
	}

	co := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.cotutor.ID, d)
	co.Role = mandates.RoleCoTuteur
	if err := s.CreateRepresentation(ctx, co, created(c.operator.ID)); err != nil {
		t.Errorf("a co-tuteur of the same decision: %v", err)
	}
	for key, want := range map[string]bool{d.Key(): true, "tribunal judiciaire de lyon|rg 25/09999": false} {
		if ok, err := s.DecisionRegistered(ctx, key); err != nil || ok != want {
			t.Errorf("DecisionRegistered(%q) = %v, %v; want %v", key, ok, err, want)
		}
	}
	// Another decision whose reference holds this one's: a text search
	// would find it, the decision's key does not.
	other := newTutelle(mandates.NewID(time.Now()), c.cotutor.ID, c.tutor.ID, newDecision("Tribunal judiciaire de Lyon", "RG 25/01234-2", c.operator.ID))
	mustCreateRepresentation(t, s, other, created(c.operator.ID))
	for key, want := range map[string][]string{
		d.Key():                     {co.ID, first.ID},
		other.Source.Decision.Key(): {other.ID},
		"tribunal judiciaire de lyon|rg 25/09999": nil,
	} {
		reps, err := s.RepresentationsByDecision(ctx, key)
		var ids []string
		for _, r := range reps {
			ids = append(ids, r.ID)
		}
		if err != nil || !slices.Equal(ids, want) {
			t.Errorf("RepresentationsByDecision(%q) = %v, %v; want %v", key, ids, err, want)
		}
	}
}

func testRepresentationInvalid(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	unknown := mandates.NewID(time.Now())
	tests := []struct {
		name   string
		change func(r *mandates.Representation, first *mandates.Change)
	}{
		{"the person represents themselves", func(r *mandates.Representation, _ *mandates.Change) { r.Representative.PersonID = r.PersonID }},
		{"a role of another kind", func(r *mandates.Representation, _ *mandates.Change) { r.Role = mandates.RoleCurateur }},
		{"no decision", func(r *mandates.Representation, _ *mandates.Change) { r.Source.Decision = nil }},
		{"an unknown status", func(r *mandates.Representation, _ *mandates.Change) { r.Status = mandates.StatusExpired }},
		{"an unknown represented person", func(r *mandates.Representation, _ *mandates.Change) { r.PersonID = unknown }},
		{"an unknown representative", func(r *mandates.Representation, _ *mandates.Change) { r.Representative.PersonID = unknown }},
		{"a first history entry without a type", func(_ *mandates.Representation, first *mandates.Change) { first.Type = "" }},
	}
	for i, tt := range tests {
		r := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.tutor.ID, newDecision("TJ Lyon", fmt.Sprintf("RG %d", i), c.operator.ID))
		first := created(c.operator.ID)
		tt.change(&r, &first)
		if err := s.CreateRepresentation(ctx, r, first); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
		if _, err := s.Representation(ctx, r.ID); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("%s: stored anyway: %v", tt.name, err)
		}
	}
	m := newAidantMandate(mandates.NewID(time.Now()), c.person.ID, unknown, c.aidant.ID)
	if err := s.CreateRepresentation(ctx, m, created(c.aidant.ID)); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("an unknown organisation: %v, want ErrInvalid", err)
	}
	if list, err := s.RepresentationsOf(ctx, c.person.ID); err != nil || len(list) != 0 {
		t.Errorf("after refused creates, the person has %d representations, %v", len(list), err)
	}
}

func testRepresentationUpdate(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	r := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.tutor.ID, newDecision("TJ Lyon", "RG 2", c.operator.ID))
	mustCreateRepresentation(t, s, r, created(c.operator.ID))
	first, err := s.Representation(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}

	suspendedAt := msNow()
	if _, err := s.UpdateRepresentation(ctx, r.ID, func(r *mandates.Representation) (mandates.Change, error) {
		r.Status = mandates.StatusSuspended
		// Seq, From and To are the store's to set.
		return mandates.Change{Seq: 42, From: mandates.StatusRevoked, To: mandates.StatusPending, At: suspendedAt,
			ActorID: c.operator.ID, Type: mandates.EventSuspended, Detail: map[string]string{"reason": "hospitalisation"}}, nil
	}); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	got, err := s.UpdateRepresentation(ctx, r.ID, func(r *mandates.Representation) (mandates.Change, error) {
		r.Status = mandates.StatusActive
		r.Areas = append(r.Areas, "logement")
		r.Adjustments = nil
		return mandates.Change{ActorID: c.tutor.ID, Type: mandates.EventResumed}, nil
	})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	read, err := s.Representation(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, read) {
		t.Errorf("UpdateRepresentation returned what is not stored:\n returned %s\n stored   %s", show(got), show(read))
	}
	want := r
	want.Areas = []mandates.Area{"social", "argent", "logement"}
	want.Adjustments = nil
	sameRepresentation(t, read, want)
	if read.Version != 3 || !read.CreatedAt.Equal(first.CreatedAt) || read.UpdatedAt.Before(first.UpdatedAt) {
		t.Errorf("version %d, created %v→%v, updated %v→%v", read.Version, first.CreatedAt, read.CreatedAt, first.UpdatedAt, read.UpdatedAt)
	}
	type step struct {
		seq      int64
		typ      mandates.EventType
		from, to mandates.Status
	}
	var steps []step
	for _, h := range read.History {
		steps = append(steps, step{h.Seq, h.Type, h.From, h.To})
	}
	wantSteps := []step{
		{1, mandates.EventCreated, "", mandates.StatusActive},
		{2, mandates.EventSuspended, mandates.StatusActive, mandates.StatusSuspended},
		{3, mandates.EventResumed, mandates.StatusSuspended, mandates.StatusActive},
	}
	if !slices.Equal(steps, wantSteps) {
		t.Errorf("history = %+v, want %+v", steps, wantSteps)
	}
	if len(read.History) == 3 {
		if h := read.History[1]; !h.At.Equal(suspendedAt) || h.Detail["reason"] != "hospitalisation" || h.ActorID != c.operator.ID {
			t.Errorf("second entry = %s", show(h))
		}
		if h := read.History[2]; h.At.IsZero() || !h.At.Equal(read.UpdatedAt) {
			t.Errorf("third entry at %v, want the store's clock (%v)", h.At, read.UpdatedAt)
		}
	}
}

func testRepresentationUpdateFails(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	d := newDecision("TJ Lyon", "RG 3", c.operator.ID)
	r := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.tutor.ID, d)
	mustCreateRepresentation(t, s, r, created(c.operator.ID))
	co := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.cotutor.ID, d)
	co.Role = mandates.RoleCoTuteur
	mustCreateRepresentation(t, s, co, created(c.operator.ID))
	before, err := s.Representation(ctx, co.ID)
	if err != nil {
		t.Fatal(err)
	}

	refused := errors.New("refused by fn")
	tests := []struct {
		name string
		fn   func(r *mandates.Representation) (mandates.Change, error)
		want error
	}{
		{"fn fails", func(r *mandates.Representation) (mandates.Change, error) {
			r.Status = mandates.StatusRevoked
			return mandates.Change{Type: mandates.EventRevoked}, refused
		}, refused},
		{"the result is invalid", func(r *mandates.Representation) (mandates.Change, error) {
			r.Role = mandates.RoleCurateur
			return mandates.Change{Type: mandates.EventUpdated}, nil
		}, mandates.ErrInvalid},
		{"the id changes", func(r *mandates.Representation) (mandates.Change, error) {
			r.ID = mandates.NewID(time.Now())
			return mandates.Change{Type: mandates.EventUpdated}, nil
		}, mandates.ErrInvalid},
		{"the change has no type", func(r *mandates.Representation) (mandates.Change, error) {
			r.Status = mandates.StatusSuspended
			return mandates.Change{}, nil
		}, mandates.ErrInvalid},
		{"the representative already holds the decision", func(r *mandates.Representation) (mandates.Change, error) {
			r.Representative.PersonID = c.tutor.ID
			return mandates.Change{Type: mandates.EventUpdated}, nil
		}, mandates.ErrAlreadyExists},
	}
	for _, tt := range tests {
		if _, err := s.UpdateRepresentation(ctx, co.ID, tt.fn); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	after, err := s.Representation(ctx, co.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("failed updates changed the representation:\n before %s\n after  %s", show(before), show(after))
	}
}

func testRepresentationConcurrentUpdates(t *testing.T, s RepresentationStore) {
	c := newCast(t, s)
	r := newTutelle(mandates.NewID(time.Now()), c.person.ID, c.tutor.ID, newDecision("TJ Lyon", "RG 4", c.operator.ID))
	mustCreateRepresentation(t, s, r, created(c.operator.ID))
	const writers, each = 8, 5
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := s.UpdateRepresentation(t.Context(), r.ID, func(r *mandates.Representation) (mandates.Change, error) {
					r.Adjustments = append(r.Adjustments, mandates.Adjustment{Party: mandates.PartyRepresentative,
						Action: mandates.Manage, Decision: mandates.Allowed, Note: fmt.Sprintf("%d-%d", w, i)})
					return mandates.Change{ActorID: c.operator.ID, Type: mandates.EventUpdated}, nil
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, mandates.ErrConflict):
		default:
			t.Errorf("concurrent update: %v", err)
		}
	}
	got, err := s.Representation(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if won == 0 || len(got.Adjustments) != len(r.Adjustments)+won || got.Version != int64(1+won) || len(got.History) != 1+won {
		t.Errorf("%d updates succeeded: %d adjustments added, version %d, %d history entries",
			won, len(got.Adjustments)-len(r.Adjustments), got.Version, len(got.History))
	}
	for i, h := range got.History {
		if h.Seq != int64(i+1) {
			t.Errorf("history entry %d has seq %d", i, h.Seq)
		}
	}
}

func ids(list []mandates.Representation) []string {
	var out []string
	for _, r := range list {
		out = append(out, r.ID)
	}
	return out
}

func testRepresentationLists(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	other := mustPerson(t, s, "Louis", "Petit", "")
	org2 := mustOrganisation(t, s, "CCAS de Bron", c.operator.ID)
	next := idSource()
	r1 := newTutelle(next(), c.person.ID, c.tutor.ID, newDecision("TJ Lyon", "RG 5", c.operator.ID))
	r2 := newAidantMandate(next(), c.person.ID, c.org.ID, c.aidant.ID)
	r3 := newTutelle(next(), other.ID, c.tutor.ID, newDecision("TJ Lyon", "RG 6", c.operator.ID))
	r4 := newAidantMandate(next(), other.ID, org2.ID, c.aidant.ID)
	for _, r := range []mandates.Representation{r1, r2, r3, r4} {
		mustCreateRepresentation(t, s, r, created(c.operator.ID))
	}
	tests := []struct {
		name string
		list func() ([]mandates.Representation, error)
		want []string
	}{
		{"of the person", func() ([]mandates.Representation, error) { return s.RepresentationsOf(ctx, c.person.ID) }, []string{r2.ID, r1.ID}},
		{"of the other person", func() ([]mandates.Representation, error) { return s.RepresentationsOf(ctx, other.ID) }, []string{r4.ID, r3.ID}},
		{"of the tutor, represented by nobody", func() ([]mandates.Representation, error) { return s.RepresentationsOf(ctx, c.tutor.ID) }, nil},
		{"by the tutor", func() ([]mandates.Representation, error) { return s.RepresentationsBy(ctx, c.tutor.ID, nil) }, []string{r3.ID, r1.ID}},
		{"by the tutor and an organisation", func() ([]mandates.Representation, error) {
			return s.RepresentationsBy(ctx, c.tutor.ID, []string{c.org.ID})
		}, []string{r3.ID, r2.ID, r1.ID}},
		{"by an aidant through both organisations", func() ([]mandates.Representation, error) {
			return s.RepresentationsBy(ctx, c.aidant.ID, []string{c.org.ID, org2.ID})
		}, []string{r4.ID, r2.ID}},
		{"by an aidant in their own name", func() ([]mandates.Representation, error) { return s.RepresentationsBy(ctx, c.aidant.ID, []string{}) }, nil},
		{"by malformed ids", func() ([]mandates.Representation, error) {
			return s.RepresentationsBy(ctx, "nobody", []string{"nothing"})
		}, nil},
		{"of a malformed id", func() ([]mandates.Representation, error) { return s.RepresentationsOf(ctx, "nobody") }, nil},
	}
	for _, tt := range tests {
		list, err := tt.list()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !slices.Equal(ids(list), tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, ids(list), tt.want)
		}
		for _, r := range list {
			if r.History != nil {
				t.Errorf("%s: %s listed with its history", tt.name, r.ID)
			}
		}
	}
	list, err := s.RepresentationsOf(ctx, c.person.ID)
	if err == nil && len(list) == 2 {
		sameRepresentation(t, list[0], r2)
		sameRepresentation(t, list[1], r1)
		if list[1].Version != 1 || list[1].CreatedAt.IsZero() {
			t.Errorf("listed without its version or timestamps: %s", show(list[1]))
		}
	}
}

func testSearchMeasures(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	paul := mustPerson(t, s, "Paul Henri", "Durand", "Paul.Durand@example.fr")
	martin := c.person
	if _, err := s.UpdatePerson(ctx, martin.ID, func(p *mandates.Person) error { p.PreferredName = "Martin"; return nil }); err != nil {
		t.Fatal(err)
	}
	next := idSource()
	m1 := newTutelle(next(), martin.ID, c.tutor.ID, newDecision("TJ Lyon", "RG 25/01234", c.operator.ID))
	mandate := newAidantMandate(next(), martin.ID, c.org.ID, c.aidant.ID)
	m2 := newTutelle(next(), paul.ID, c.tutor.ID, newDecision("TJ Lyon", "RG 24/00777", c.operator.ID))
	m2.Kind, m2.Role, m2.Adjustments = mandates.CuratelleRenforcee, mandates.RoleCurateur, nil
	for _, r := range []mandates.Representation{m1, mandate, m2} {
		mustCreateRepresentation(t, s, r, created(c.operator.ID))
	}
	tests := []struct {
		query string
		limit int
		want  []string
	}{
		{"", 0, []string{m2.ID, m1.ID}},
		{"", 1, []string{m2.ID}},
		{"lefèvre", 0, []string{m1.ID}},
		{"MARTIN", 0, []string{m1.ID}},
		{"jeanne marie", 10, []string{m1.ID}},
		{"  durand ", 0, []string{m2.ID}},
		{"paul.durand@EXAMPLE", 0, []string{m2.ID}},
		{"25/01234", 0, []string{m1.ID}},
		{"rg 2", 0, []string{m2.ID, m1.ID}},
		{"rg 2", 1, []string{m2.ID}},
		{"Benali", 0, nil}, // the aidant is nobody's represented person
		{"%", 0, nil},
		{"nobody", 0, nil},
	}
	for _, tt := range tests {
		list, err := s.SearchMeasures(ctx, tt.query, tt.limit)
		if err != nil {
			t.Errorf("SearchMeasures(%q, %d): %v", tt.query, tt.limit, err)
			continue
		}
		if !slices.Equal(ids(list), tt.want) {
			t.Errorf("SearchMeasures(%q, %d) = %v, want %v", tt.query, tt.limit, ids(list), tt.want)
		}
	}
	if list, _ := s.SearchMeasures(ctx, "rg 24", 0); len(list) == 1 {
		sameRepresentation(t, list[0], m2)
	}
}

func sameOrganisation(t *testing.T, got, want mandates.Organisation) {
	t.Helper()
	got.CreatedAt, got.UpdatedAt, got.Version = time.Time{}, time.Time{}, 0
	want.CreatedAt, want.UpdatedAt, want.Version = time.Time{}, time.Time{}, 0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("organisation read back differs:\n got  %+v\n want %+v", got, want)
	}
}

func testOrganisationLifecycle(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	op := mustPerson(t, s, "Odile", "Greffe", "")
	fs := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "Espace France Services de Vénissieux", Kind: mandates.OrgFranceServices,
		Areas: []mandates.Area{"social", "papiers"}, CreatedBy: op.ID, Address: orgAddress}
	ccas := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "CCAS de Bron", Kind: mandates.OrgCCAS}
	for _, o := range []mandates.Organisation{fs, ccas} {
		if err := s.CreateOrganisation(ctx, o); err != nil {
			t.Fatalf("CreateOrganisation(%s): %v", o.Name, err)
		}
	}
	got, err := s.Organisation(ctx, fs.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameOrganisation(t, got, fs)
	if got.Version != 1 || got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("version %d, created %v, updated %v", got.Version, got.CreatedAt, got.UpdatedAt)
	}
	list, err := s.Organisations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != ccas.ID || list[1].ID != fs.ID {
		t.Fatalf("Organisations() = %+v, want CCAS de Bron then Espace France Services", list)
	}
	sameOrganisation(t, list[0], ccas)
	if !list[0].Address.IsZero() || list[1].Address != orgAddress {
		t.Errorf("addresses listed %+v and %+v, want none and %+v", list[0].Address, list[1].Address, orgAddress)
	}

	moved := mandates.Address{Street: "Bâtiment A\n1 place de la Paix", PostalCode: "69200", Locality: "Vénissieux", Country: "France"}
	upd, err := s.UpdateOrganisation(ctx, fs.ID, func(o *mandates.Organisation) error {
		o.Name = "France Services Vénissieux"
		o.Areas = nil
		o.Address = moved
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	read, err := s.Organisation(ctx, fs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(upd, read) {
		t.Errorf("UpdateOrganisation returned what is not stored:\n returned %+v\n stored   %+v", upd, read)
	}
	if read.Name != "France Services Vénissieux" || read.Areas != nil || read.Address != moved || read.Version != 2 || !read.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("after update: %+v", read)
	}
}

func testOrganisationRefused(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	unknown := mandates.NewID(time.Now())
	for _, id := range []string{unknown, "not-a-uuid"} {
		if _, err := s.Organisation(ctx, id); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("Organisation(%q) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.UpdateOrganisation(ctx, id, func(*mandates.Organisation) error { return nil }); !errors.Is(err, mandates.ErrNotFound) {
			t.Errorf("UpdateOrganisation(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if list, err := s.Organisations(ctx); err != nil || len(list) != 0 {
		t.Errorf("Organisations() on an empty store = %v, %v", list, err)
	}

	o := mustOrganisation(t, s, "CCAS de Bron", "")
	taken := o
	taken.Name = "Another"
	wantUnique(t, s.CreateOrganisation(ctx, taken), "id")
	bad := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: " ", Kind: mandates.OrgCCAS}
	if err := s.CreateOrganisation(ctx, bad); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("no name: %v, want ErrInvalid", err)
	}
	if _, err := s.Organisation(ctx, bad.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("the invalid organisation was stored: %v", err)
	}

	before, _ := s.Organisation(ctx, o.ID)
	refused := errors.New("refused by fn")
	for name, tt := range map[string]struct {
		fn   func(*mandates.Organisation) error
		want error
	}{
		"fn fails":         {func(o *mandates.Organisation) error { o.Name = "X"; return refused }, refused},
		"the id changes":   {func(o *mandates.Organisation) error { o.ID = unknown; return nil }, mandates.ErrInvalid},
		"an unknown kind":  {func(o *mandates.Organisation) error { o.Kind = "club"; return nil }, mandates.ErrInvalid},
		"an unknown area":  {func(o *mandates.Organisation) error { o.Areas = []mandates.Area{"jeux"}; return nil }, mandates.ErrInvalid},
		"an emptied name":  {func(o *mandates.Organisation) error { o.Name = ""; return nil }, mandates.ErrInvalid},
		"an area repeated": {func(o *mandates.Organisation) error { o.Areas = []mandates.Area{"social", "social"}; return nil }, mandates.ErrInvalid},
		"a long street":    {func(o *mandates.Organisation) error { o.Address.Street = strings.Repeat("rue ", 51); return nil }, mandates.ErrInvalid},
	} {
		if _, err := s.UpdateOrganisation(ctx, o.ID, tt.fn); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", name, err, tt.want)
		}
	}
	if after, _ := s.Organisation(ctx, o.ID); !reflect.DeepEqual(after, before) {
		t.Errorf("failed updates changed the organisation:\n before %+v\n after  %+v", before, after)
	}
}

func testOrganisationConcurrentUpdates(t *testing.T, s RepresentationStore) {
	o := mustOrganisation(t, s, "CCAS", "")
	const writers, each = 8, 5
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				_, err := s.UpdateOrganisation(t.Context(), o.ID, func(o *mandates.Organisation) error { o.Name += "x"; return nil })
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, mandates.ErrConflict):
		default:
			t.Errorf("concurrent update: %v", err)
		}
	}
	got, err := s.Organisation(t.Context(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if won == 0 || got.Name != "CCAS"+strings.Repeat("x", won) || got.Version != int64(1+won) {
		t.Errorf("%d updates succeeded: name %q, version %d", won, got.Name, got.Version)
	}
}

func sameMembership(t *testing.T, got, want mandates.Membership) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("membership read back differs:\n got  %+v\n want %+v", got, want)
	}
}

func testMembership(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	org2 := mustOrganisation(t, s, "CCAS de Bron", c.operator.ID)
	t0 := msNow()
	admin := mandates.Membership{OrganisationID: c.org.ID, PersonID: c.cotutor.ID, Role: mandates.MemberAdmin, Active: true,
		HabilitatedBy: c.operator.ID, HabilitatedAt: t0.Add(time.Minute)}
	aidant := mandates.Membership{OrganisationID: c.org.ID, PersonID: c.aidant.ID, Role: mandates.MemberAidant, Active: true,
		HabilitatedBy: c.operator.ID, HabilitatedAt: t0}
	for _, m := range []mandates.Membership{admin, aidant} {
		if err := s.SaveMembership(ctx, m); err != nil {
			t.Fatalf("SaveMembership(%s): %v", m.Role, err)
		}
	}
	got, err := s.Membership(ctx, c.org.ID, c.aidant.ID)
	if err != nil {
		t.Fatal(err)
	}
	aidant.Version = 1
	sameMembership(t, got, aidant)
	members, err := s.Members(ctx, c.org.ID)
	if err != nil || len(members) != 2 || members[0].PersonID != c.aidant.ID || members[1].PersonID != c.cotutor.ID {
		t.Fatalf("Members = %+v, %v; want the aidant (habilitated first), then the admin", members, err)
	}

	withdrawn := got
	withdrawn.Active, withdrawn.WithdrawnBy, withdrawn.WithdrawnAt = false, c.cotutor.ID, t0.Add(time.Hour)
	if err := s.SaveMembership(ctx, withdrawn); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	got, _ = s.Membership(ctx, c.org.ID, c.aidant.ID)
	withdrawn.Version = 2
	sameMembership(t, got, withdrawn)
	if got.CanAct() {
		t.Error("a withdrawn member can act")
	}

	stale := withdrawn
	stale.Version = 1
	stale.Active, stale.WithdrawnBy, stale.WithdrawnAt = true, "", time.Time{}
	if err := s.SaveMembership(ctx, stale); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("a save from version 1 over version 2: %v, want ErrConflict", err)
	}
	if got, _ := s.Membership(ctx, c.org.ID, c.aidant.ID); got.Active || got.Version != 2 {
		t.Errorf("the stale save changed the membership: %+v", got)
	}

	again := aidant
	again.Version, again.HabilitatedAt = 0, t0.Add(2*time.Hour)
	if err := s.SaveMembership(ctx, again); err != nil {
		t.Fatalf("habilitate again: %v", err)
	}
	got, _ = s.Membership(ctx, c.org.ID, c.aidant.ID)
	again.Version = 3
	sameMembership(t, got, again)

	elsewhere := mandates.Membership{OrganisationID: org2.ID, PersonID: c.aidant.ID, Role: mandates.MemberAidant, Active: true,
		HabilitatedBy: c.operator.ID, HabilitatedAt: t0.Add(-time.Hour)}
	if err := s.SaveMembership(ctx, elsewhere); err != nil {
		t.Fatal(err)
	}
	of, err := s.MembershipsOf(ctx, c.aidant.ID)
	if err != nil || len(of) != 2 || of[0].OrganisationID != org2.ID || of[1].OrganisationID != c.org.ID {
		t.Errorf("MembershipsOf = %+v, %v; want both organisations, the earliest habilitation first", of, err)
	}

	newcomer := mandates.Membership{OrganisationID: org2.ID, PersonID: c.tutor.ID, Role: mandates.MemberAidant, Active: true,
		HabilitatedAt: t0, Version: 5}
	if err := s.SaveMembership(ctx, newcomer); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("a save at version 5 of no membership: %v, want ErrConflict", err)
	}
	if _, err := s.Membership(ctx, org2.ID, c.tutor.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Membership(none) = %v, want ErrNotFound", err)
	}
	for _, list := range []func() ([]mandates.Membership, error){
		func() ([]mandates.Membership, error) { return s.MembershipsOf(ctx, c.tutor.ID) },
		func() ([]mandates.Membership, error) { return s.Members(ctx, mandates.NewID(time.Now())) },
		func() ([]mandates.Membership, error) { return s.Members(ctx, "not-a-uuid") },
	} {
		if got, err := list(); err != nil || len(got) != 0 {
			t.Errorf("a list that should be empty: %+v, %v", got, err)
		}
	}
}

func testMembershipRefused(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	unknown := mandates.NewID(time.Now())
	valid := mandates.Membership{OrganisationID: c.org.ID, PersonID: c.aidant.ID, Role: mandates.MemberAidant, Active: true,
		HabilitatedAt: msNow()}
	for name, change := range map[string]func(*mandates.Membership){
		"an unknown organisation":             func(m *mandates.Membership) { m.OrganisationID = unknown },
		"an unknown person":                   func(m *mandates.Membership) { m.PersonID = unknown },
		"an unknown role":                     func(m *mandates.Membership) { m.Role = "owner" },
		"no habilitation date":                func(m *mandates.Membership) { m.HabilitatedAt = time.Time{} },
		"withdrawn without a withdrawal date": func(m *mandates.Membership) { m.Active = false },
	} {
		m := valid
		change(&m)
		if err := s.SaveMembership(ctx, m); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if members, err := s.Members(ctx, c.org.ID); err != nil || len(members) != 0 {
		t.Errorf("refused memberships were stored: %+v, %v", members, err)
	}
	if _, err := s.Membership(ctx, "not-a-uuid", c.aidant.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Membership(malformed) = %v, want ErrNotFound", err)
	}
}

func sameConsentCode(t *testing.T, got, want mandates.ConsentCode) {
	t.Helper()
	if got.RepresentationID != want.RepresentationID || !bytes.Equal(got.CodeHash, want.CodeHash) || got.Attempts != want.Attempts ||
		!got.SentAt.Equal(want.SentAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || !got.UsedAt.Equal(want.UsedAt) {
		t.Errorf("consent code read back differs:\n got  %+v\n want %+v", got, want)
	}
}

// pendingMandate creates an aidant mandate waiting for a consent at a
// distance.
func pendingMandate(t *testing.T, s RepresentationStore, c cast) mandates.Representation {
	t.Helper()
	r := newAidantMandate(mandates.NewID(time.Now()), c.person.ID, c.org.ID, c.aidant.ID)
	r.Status, r.Source.Consent = mandates.StatusPendingConsent, nil
	mustCreateRepresentation(t, s, r, mandates.Change{ActorID: c.aidant.ID, OrganisationID: c.org.ID, Type: mandates.EventCreated})
	return r
}

func testConsentCode(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	r := pendingMandate(t, s, c)
	sent := msNow()
	first := mandates.ConsentCode{RepresentationID: r.ID, CodeHash: hashOf(r.ID + "123456"), Attempts: 2, SentAt: sent,
		ExpiresAt: sent.Add(10 * time.Minute)}
	if err := s.SaveConsentCode(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsentCode(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameConsentCode(t, got, first)

	second := mandates.ConsentCode{RepresentationID: r.ID, CodeHash: hashOf(r.ID + "654321"), SentAt: sent.Add(time.Minute),
		ExpiresAt: sent.Add(11 * time.Minute)}
	if err := s.SaveConsentCode(ctx, second); err != nil {
		t.Fatalf("a new code: %v", err)
	}
	got, _ = s.ConsentCode(ctx, r.ID)
	sameConsentCode(t, got, second)

	upd, err := s.UpdateConsentCode(ctx, r.ID, func(c *mandates.ConsentCode) error { c.Attempts++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	second.Attempts = 1
	sameConsentCode(t, upd, second)
	used := sent.Add(2 * time.Minute)
	if _, err := s.UpdateConsentCode(ctx, r.ID, func(c *mandates.ConsentCode) error { c.UsedAt = used; return nil }); err != nil {
		t.Fatal(err)
	}
	got, _ = s.ConsentCode(ctx, r.ID)
	second.UsedAt = used
	sameConsentCode(t, got, second)

	refused := errors.New("refused by fn")
	if _, err := s.UpdateConsentCode(ctx, r.ID, func(c *mandates.ConsentCode) error { c.Attempts = 99; return refused }); !errors.Is(err, refused) {
		t.Errorf("fn fails: %v", err)
	}
	other := mandates.NewID(time.Now())
	if _, err := s.UpdateConsentCode(ctx, r.ID, func(c *mandates.ConsentCode) error { c.RepresentationID = other; return nil }); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("another representation: %v, want ErrInvalid", err)
	}
	got, _ = s.ConsentCode(ctx, r.ID)
	sameConsentCode(t, got, second)

	if _, err := s.UpdateConsentCode(ctx, other, func(*mandates.ConsentCode) error { return nil }); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("UpdateConsentCode(no code) = %v, want ErrNotFound", err)
	}
	orphan := first
	orphan.RepresentationID = other
	if err := s.SaveConsentCode(ctx, orphan); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a code for no representation: %v, want ErrInvalid", err)
	}
}

func testConsentCodeConcurrent(t *testing.T, s RepresentationStore) {
	c := newCast(t, s)
	r := pendingMandate(t, s, c)
	sent := msNow()
	if err := s.SaveConsentCode(t.Context(), mandates.ConsentCode{RepresentationID: r.ID, CodeHash: hashOf("x"), SentAt: sent,
		ExpiresAt: sent.Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	const tries = 8
	errs := make(chan error, tries)
	var wg sync.WaitGroup
	for range tries {
		wg.Go(func() {
			_, err := s.UpdateConsentCode(t.Context(), r.ID, func(c *mandates.ConsentCode) error { c.Attempts++; return nil })
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, mandates.ErrConflict):
		default:
			t.Errorf("concurrent update: %v", err)
		}
	}
	got, err := s.ConsentCode(t.Context(), r.ID)
	if err != nil || won == 0 || got.Attempts != won {
		t.Errorf("%d updates succeeded, %d attempts counted, %v", won, got.Attempts, err)
	}
}

func testRoles(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	p := mustPerson(t, s, "Odile", "Greffe", "")
	other := mustPerson(t, s, "Paul", "Durand", "")
	has := func(id string) bool {
		t.Helper()
		ok, err := s.HasRole(ctx, id, mandates.RoleOperator)
		if err != nil {
			t.Fatalf("HasRole: %v", err)
		}
		return ok
	}
	if has(p.ID) {
		t.Error("a new person is an operator")
	}
	for range 2 {
		if err := s.GrantRole(ctx, p.ID, mandates.RoleOperator); err != nil {
			t.Errorf("GrantRole: %v", err)
		}
	}
	if !has(p.ID) || has(other.ID) {
		t.Errorf("after grant: %v, other %v; want true, false", has(p.ID), has(other.ID))
	}
	if ok, err := s.HasRole(ctx, p.ID, "auditor"); err != nil || ok {
		t.Errorf("another role: %v, %v", ok, err)
	}
	for range 2 {
		if err := s.RevokeRole(ctx, p.ID, mandates.RoleOperator); err != nil {
			t.Errorf("RevokeRole: %v", err)
		}
	}
	if has(p.ID) {
		t.Error("still an operator after revoke")
	}
	if err := s.GrantRole(ctx, mandates.NewID(time.Now()), mandates.RoleOperator); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("a role for an unknown person: %v, want ErrInvalid", err)
	}
	if err := s.GrantRole(ctx, p.ID, ""); !errors.Is(err, mandates.ErrInvalid) {
		t.Errorf("an empty role: %v, want ErrInvalid", err)
	}
	if has("not-a-uuid") {
		t.Error("a malformed id holds a role")
	}
}

func testRepresentationTx(t *testing.T, s RepresentationStore) {
	ctx := t.Context()
	c := newCast(t, s)
	org := mandates.Organisation{ID: mandates.NewID(time.Now()), Name: "CCAS de Bron", Kind: mandates.OrgCCAS}
	r := newAidantMandate(mandates.NewID(time.Now()), c.person.ID, org.ID, c.aidant.ID)
	sent := msNow()
	boom := errors.New("last step failed")
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.CreateOrganisation(ctx, org); err != nil {
			return err
		}
		if err := s.CreateRepresentation(ctx, r, created(c.aidant.ID)); err != nil {
			return err
		}
		// A read inside the transaction sees its own write.
		if _, err := s.Representation(ctx, r.ID); err != nil {
			return fmt.Errorf("read own write: %w", err)
		}
		if _, err := s.UpdateRepresentation(ctx, r.ID, func(r *mandates.Representation) (mandates.Change, error) {
			r.Status = mandates.StatusSuspended
			return mandates.Change{Type: mandates.EventSuspended}, nil
		}); err != nil {
			return err
		}
		if err := s.SaveConsentCode(ctx, mandates.ConsentCode{RepresentationID: r.ID, CodeHash: hashOf("x"), SentAt: sent,
			ExpiresAt: sent.Add(time.Minute)}); err != nil {
			return err
		}
		if err := s.GrantRole(ctx, c.aidant.ID, mandates.RoleOperator); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the step's error", err)
	}
	if _, err := s.Representation(ctx, r.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("representation written by a failed transaction: %v", err)
	}
	if _, err := s.Organisation(ctx, org.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("organisation written by a failed transaction: %v", err)
	}
	if _, err := s.ConsentCode(ctx, r.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("consent code written by a failed transaction: %v", err)
	}
	if ok, _ := s.HasRole(ctx, c.aidant.ID, mandates.RoleOperator); ok {
		t.Error("role granted by a failed transaction")
	}
	if list, err := s.RepresentationsOf(ctx, c.person.ID); err != nil || len(list) != 0 {
		t.Errorf("listed after a failed transaction: %v, %v", ids(list), err)
	}

	// The same steps commit together when the last one succeeds.
	err = s.InTx(ctx, func(ctx context.Context) error {
		if err := s.CreateOrganisation(ctx, org); err != nil {
			return err
		}
		if err := s.CreateRepresentation(ctx, r, created(c.aidant.ID)); err != nil {
			return err
		}
		_, err := s.UpdateRepresentation(ctx, r.ID, func(r *mandates.Representation) (mandates.Change, error) {
			r.Status = mandates.StatusSuspended
			return mandates.Change{Type: mandates.EventSuspended}, nil
		})
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if got, err := s.Representation(ctx, r.ID); err != nil || got.Status != mandates.StatusSuspended || len(got.History) != 2 {
		t.Errorf("after commit: %s, %v", show(got), err)
	}
}
