package words_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
)

// store is the Reader of the tests: maps by id.
type store struct {
	persons map[string]mandates.Person
	orgs    map[string]mandates.Organisation
	reps    map[string]mandates.Representation
	cosigns map[string]mandates.Cosignature
	fail    error // every read fails with it when set
}

func (s *store) Person(_ context.Context, id string) (mandates.Person, error) {
	p, ok := s.persons[id]
	return p, s.read(ok, "person", id)
}

func (s *store) Organisation(_ context.Context, id string) (mandates.Organisation, error) {
	o, ok := s.orgs[id]
	return o, s.read(ok, "organisation", id)
}

func (s *store) Representation(_ context.Context, id string) (mandates.Representation, error) {
	r, ok := s.reps[id]
	return r, s.read(ok, "representation", id)
}

func (s *store) Cosignature(_ context.Context, id string) (mandates.Cosignature, error) {
	c, ok := s.cosigns[id]
	return c, s.read(ok, "cosignature", id)
}

func (s *store) read(ok bool, what, id string) error {
	switch {
	case s.fail != nil:
		return s.fail
	case !ok:
		return fmt.Errorf("%s %s: %w", what, id, mandates.ErrNotFound)
	}
	return nil
}

var (
	day   = time.Date(2027, time.March, 3, 14, 5, 0, 0, time.UTC)
	ids   = map[string]string{}
	court = "Tribunal judiciaire de Nantes"
)

// id is the fixture's id of name, the same on every call.
func id(name string) string {
	if v, ok := ids[name]; ok {
		return v
	}
	v := mandates.NewID(day.Add(time.Duration(len(ids)) * time.Millisecond))
	ids[name] = v
	return v
}

func address(street, code, city string) mandates.Address {
	return mandates.Address{Street: street, PostalCode: code, Locality: city, Country: "France"}
}

// fixture: Jeanne Lefèvre under a tutelle held by Marie Martin (Tribunal
// judiciaire de Nantes); a mandate France Services Nantes asks for her,
// under the tutelle; a proxy she gives Karim Benali; a curatelle over Paul
// Morel held by Sophie Garnier; Anne Dupont, who reads English, with a
// future protection mandate held by Tom Dupont; two agreement requests.
func fixture() *store {
	s := &store{persons: map[string]mandates.Person{}, orgs: map[string]mandates.Organisation{},
		reps: map[string]mandates.Representation{}, cosigns: map[string]mandates.Cosignature{}}
	person := func(key, given, family, lang string, a mandates.Address) {
		s.persons[id(key)] = mandates.Person{ID: id(key), GivenNames: given, FamilyName: family, Language: lang, Address: a,
			Email: key + "@example.fr", Phone: "06 12 34 56 78", BirthDate: mandates.Date(1941, 3, 12)}
	}
	person("jeanne", "Jeanne Marie", "Lefèvre", "fr", mandates.Address{Street: "12 rue des Lilas\nRésidence Les Pins, bâtiment B",
		PostalCode: "44000", Locality: "Nantes", Country: "France"})
	person("marie", "Marie", "Martin", "fr", address("3 place Royale", "44000", "Nantes"))
	person("karim", "Karim", "Benali", "fr", address("8 rue Crébillon", "44000", "Nantes"))
	person("aidant", "Léa", "Roux", "fr", address("4 rue de la Maison Neuve", "44000", "Nantes"))
	person("paul", "Paul", "Morel", "fr", address("21 quai de Versailles", "44000", "Nantes"))
	person("sophie", "Sophie", "Garnier", "fr", address("2 rue Scribe", "44000", "Nantes"))
	person("anne", "Anne", "Dupont", "en", address("5 rue Haute", "44100", "Nantes"))
	person("tom", "Tom", "Dupont", "en", address("5 rue Haute", "44100", "Nantes"))
	s.orgs[id("fs")] = mandates.Organisation{ID: id("fs"), Name: "France Services Nantes", Kind: mandates.OrgFranceServices}
	decision := &mandates.CourtDecision{Jurisdiction: court, Date: mandates.Date(2027, 2, 20), Reference: "27/00123"}
	s.reps[id("tutelle")] = mandates.Representation{ID: id("tutelle"), Kind: mandates.Tutelle, PersonID: id("jeanne"),
		Representative: mandates.Representative{PersonID: id("marie")}, Role: mandates.RoleTuteur, Status: mandates.StatusActive,
		ValidFrom: mandates.Date(2027, 2, 20), ValidUntil: mandates.Date(2032, 2, 20), Source: mandates.Source{Decision: decision}}
	s.reps[id("mandate")] = mandates.Representation{ID: id("mandate"), Kind: mandates.AidantMandate, PersonID: id("jeanne"),
		Representative: mandates.Representative{OrganisationID: id("fs")}, Role: mandates.RoleAidant,
		Areas: []mandates.Area{"papiers", "logement"}, Status: mandates.StatusPendingConsent,
		ValidFrom: day, ValidUntil: mandates.TwelveMonth.End(day),
		Source: mandates.Source{Measure: &mandates.UnderMeasure{MeasureID: id("tutelle"), Kind: mandates.Tutelle, Giver: mandates.GivenByRepresentative}}}
	s.reps[id("mandate-paul")] = mandates.Representation{ID: id("mandate-paul"), Kind: mandates.AidantMandate, PersonID: id("paul"),
		Representative: mandates.Representative{OrganisationID: id("fs")}, Role: mandates.RoleAidant,
		Areas: []mandates.Area{"social"}, Status: mandates.StatusPendingConsent, ValidFrom: day, ValidUntil: mandates.OneMonth.End(day),
		Source: mandates.Source{Measure: &mandates.UnderMeasure{MeasureID: id("curatelle"), Kind: mandates.CuratelleRenforcee, Giver: mandates.GivenWithAgreement}}}
	s.reps[id("proxy")] = mandates.Representation{ID: id("proxy"), Kind: mandates.Proxy, PersonID: id("jeanne"),
		Representative: mandates.Representative{PersonID: id("karim")}, Role: mandates.RoleProxyHolder,
		Areas: []mandates.Area{"argent"}, Granted: []mandates.Action{mandates.Consult}, Status: mandates.StatusActive,
		ValidFrom: day, ValidUntil: mandates.SixMonths.End(day)}
	s.reps[id("curatelle")] = mandates.Representation{ID: id("curatelle"), Kind: mandates.CuratelleRenforcee, PersonID: id("paul"),
		Representative: mandates.Representative{PersonID: id("sophie")}, Role: mandates.RoleCurateur, Status: mandates.StatusActive,
		ValidFrom: mandates.Date(2027, 1, 10), ValidUntil: mandates.Date(2032, 1, 10),
		Source: mandates.Source{Decision: &mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Saint-Nazaire", Date: mandates.Date(2027, 1, 10), Reference: "27/00042"}}}
	s.reps[id("mpf")] = mandates.Representation{ID: id("mpf"), Kind: mandates.MandatProtectionFuture, PersonID: id("anne"),
		Representative: mandates.Representative{PersonID: id("tom")}, Role: mandates.RoleMandataire, Status: mandates.StatusActive,
		ValidFrom: mandates.Date(2027, 2, 1),
		Source:    mandates.Source{Decision: &mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Nantes", Date: mandates.Date(2027, 2, 1), Reference: "MPF-2027-7"}}}
	s.cosigns[id("cosign-person")] = mandates.Cosignature{ID: id("cosign-person"), ClientID: "impots", PersonID: id("jeanne"),
		ActorID: id("marie"), Action: mandates.Dispose, Area: "argent", Description: "Vendre la voiture de Jeanne pour 2 500 €",
		RepresentationID: id("tutelle"), Party: mandates.PartyPerson, Status: mandates.CosignPending,
		CreatedAt: day, ExpiresAt: day.Add(mandates.CosignaturePendingTTL)}
	s.cosigns[id("cosign-curator")] = mandates.Cosignature{ID: id("cosign-curator"), ClientID: "caf", PersonID: id("paul"),
		ActorID: id("paul"), Action: mandates.Dispose, Area: "logement", Description: "Signer un nouveau bail",
		RepresentationID: id("curatelle"), Party: mandates.PartyRepresentative, Status: mandates.CosignPending,
		CreatedAt: day, ExpiresAt: day.Add(mandates.CosignaturePendingTTL)}
	return s
}

// notice is a notice of kind to recipient (a person, or an organisation
// when org), about person, with data.
func notice(kind mandates.EventType, person, recipient string, role notices.Role, channel notices.Channel, data map[string]string) notices.Notice {
	rk := notices.ToPerson
	if recipient == "fs" {
		rk = notices.ToOrganisation
	}
	lang := "fr"
	if person == "anne" {
		lang = "en"
	}
	d := map[string]string{"recipient_role": string(role), "event_at": day.Format("2006-01-02T15:04:05.000Z07:00")}
	for k, v := range data {
		d[k] = v
	}
	return notices.Notice{ID: mandates.NewID(day), PersonID: id(person), RecipientID: id(recipient), RecipientKind: rk,
		Kind: kind, Channel: channel, Lang: lang, Data: d, Status: notices.Pending, NextAttemptAt: day, CreatedAt: day}
}

func writer(t *testing.T, s *store) *words.Writer {
	t.Helper()
	w, err := words.New(s, words.Options{Sender: "France Services Nantes", Contact: "02 40 41 42 43", Now: func() time.Time { return day }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w
}
