package ui_test

import (
	"context"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// cast is the set of people the representation pages are tested with, all
// with testPassword: an operator, an organisation with its administrator
// and an aidant, a person under tutelle with her family tutor, and a
// capable adult with a son she trusts.
type cast struct {
	operator, admin, aidant, jeanne, marie, ahmed, karim mandates.Person
	org                                                  mandates.Organisation
	codes                                                *codeBox
	// aidantTOTP is the aidant's second-factor secret, as her app holds it.
	aidantTOTP string
}

// codeBox catches the consent codes that would go to a phone.
type codeBox struct{ last map[string]string }

func (c *codeBox) SendConsentCode(_ context.Context, to mandates.Person, code string) error {
	c.last[to.ID] = code
	return nil
}

// newPerson adds a person who can log in with testPassword.
func newPerson(t *testing.T, app *oidcApp, given, family, email, phone string) mandates.Person {
	t.Helper()
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: given, FamilyName: family, BirthDate: mandates.Date(1960, 4, 2),
		Email: email, Phone: phone, PasswordHash: authn.HashPassword(testPassword)}
	if err := app.store.CreatePerson(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// sessionFor signs a person in directly, as the login page would, and
// returns the cookie for the browser harness. amr "otp" marks a login
// with the second factor.
func sessionFor(t *testing.T, app *oidcApp, p mandates.Person, amr ...string) map[string]string {
	t.Helper()
	token, id := authn.NewSessionToken()
	now := time.Now()
	if len(amr) == 0 {
		amr = []string{"pwd"}
	}
	if err := app.store.CreateSession(t.Context(), authn.BrowserSession{ID: id, PersonID: p.ID, AuthTime: now, AMR: amr,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"relais_session": token}
}

// newCast adds the people, the operator role, the organisation and its
// members, and a tutelle of Jeanne by Marie.
func newCast(t *testing.T, app *oidcApp) *cast {
	t.Helper()
	ctx := t.Context()
	c := &cast{
		operator: newPerson(t, app, "Olivier", "Roux", "olivier.roux@example.fr", ""),
		admin:    newPerson(t, app, "Nadia", "Haddad", "nadia.haddad@example.fr", ""),
		aidant:   newPerson(t, app, "Sophie", "Bernard", "sophie.bernard@example.fr", ""),
		jeanne:   newPerson(t, app, "Jeanne", "Petit", "jeanne.petit@example.fr", "06 00 00 00 01"),
		marie:    newPerson(t, app, "Marie", "Martin", "marie.martin@example.fr", ""),
		ahmed:    newPerson(t, app, "Ahmed", "Benali", "ahmed.benali@example.fr", "06 00 00 00 05"),
		karim:    newPerson(t, app, "Karim", "Benali", "karim.benali@example.fr", ""),
		codes:    app.codes,
	}
	if err := app.store.GrantRole(ctx, c.operator.ID, mandates.RoleOperator); err != nil {
		t.Fatal(err)
	}
	op := mandates.Actor{PersonID: c.operator.ID}
	org, err := app.service.CreateOrganisation(ctx, op, mandates.Organisation{Name: "France Services Lyon 8e", Kind: mandates.OrgFranceServices,
		Address: mandates.Address{Street: "12 rue Pierre Delore", PostalCode: "69008", Locality: "Lyon", Country: "France"}}, c.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.org = org
	// An aidant is habilitated once her second factor is on.
	c.aidantTOTP, _ = app.enrolTOTPOf(t, c.aidant.ID)
	if _, err := app.service.Habilitate(ctx, mandates.Actor{PersonID: c.admin.ID}, org.ID, c.aidant.ID, mandates.MemberAidant); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := app.service.RegisterMeasure(ctx, op, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: c.jeanne.ID,
		Representatives: []mandates.RepresentativeInput{{PersonID: c.marie.ID, Role: mandates.RoleTuteur}},
		ValidFrom:       now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00042"}}); err != nil {
		t.Fatal(err)
	}
	return c
}
