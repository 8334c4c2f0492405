package locales

import (
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
)

func TestTheAttestationNamesWhatThePersonSigns(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	r := mandates.Representation{ID: mandates.NewID(t0), Kind: mandates.AidantMandate, PersonID: "0193a000-0000-7000-8000-0000000000a1",
		Representative: mandates.Representative{OrganisationID: "0193a000-0000-7000-8000-0000000000a3"}, Role: mandates.RoleAidant,
		Areas: []mandates.Area{"social", "papiers"}, ValidFrom: t0, ValidUntil: mandates.TwelveMonth.End(t0), Status: mandates.StatusActive}
	person := mandates.Person{ID: r.PersonID, GivenNames: "Jeanne", FamilyName: "Lefèvre", BirthDate: mandates.Date(1941, 3, 1)}
	aidant := mandates.Person{ID: "0193a000-0000-7000-8000-0000000000a2", GivenNames: "Sophie", FamilyName: "Bernard"}
	org := mandates.Organisation{ID: r.Representative.OrganisationID, Name: "France Services Lyon 8e"}
	for _, lang := range mandates.Languages {
		t.Run(lang, func(t *testing.T) {
			text := Attestation(r, person, org, aidant, t0, lang)
			for _, want := range []string{r.ID, mandates.DisplayName(person), mandates.DisplayName(aidant), org.Name, AttestationVersion,
				FormatDate(t0, lang), FormatDate(person.BirthDate, lang)} {
				if !strings.Contains(text, want) {
					t.Errorf("the attestation does not name %q", want)
				}
			}
		})
	}
	if Attestation(r, person, org, aidant, t0, "fr") == Attestation(r, person, org, aidant, t0, "en") {
		t.Error("the attestation is the same in both languages")
	}
	if FormatTime(t0, "fr") == FormatTime(t0, "en") || FormatTime(t0, "fr") == FormatTime(t0.Add(time.Minute), "fr") {
		t.Error("FormatTime does not depend on the language and the minute")
	}
	if FormatDate(mandates.Date(2027, 3, 1), "fr") == FormatDate(mandates.Date(2027, 3, 2), "fr") {
		t.Error("FormatDate gives two days the same text")
	}
}
