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

// Issue 17: the attestation speaks of the person with their gender when
// Relais knows it (« née le », « né le »), never « né ou née »; when it
// does not, it gives the date without a word that has a gender.
func TestTheAttestationSaysBornWithThePersonsGender(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	r := mandates.Representation{ID: mandates.NewID(t0), Kind: mandates.AidantMandate, Areas: []mandates.Area{"social"},
		ValidFrom: t0, ValidUntil: mandates.TwelveMonth.End(t0)}
	org := mandates.Organisation{Name: "France Services Nantes Bellevue"}
	aidant := mandates.Person{GivenNames: "Sophie", FamilyName: "Bernard", Gender: mandates.GenderFemale}
	person := func(given, family string, g mandates.Gender) mandates.Person {
		return mandates.Person{GivenNames: given, FamilyName: family, BirthDate: mandates.Date(1949, 10, 9), Gender: g}
	}
	tests := []struct {
		name    string
		person  mandates.Person
		lang    string
		want    []string
		notWant []string
	}{
		{"a woman is « née le » in French", person("Yvette Marie", "Garnier", mandates.GenderFemale), "fr",
			[]string{"Moi, Yvette Garnier, née le 9 octobre 1949,"}, []string{"né ou née", "Yvette Marie"}},
		{"a man is « né le » in French", person("Paul André", "Durand", mandates.GenderMale), "fr",
			[]string{"Moi, Paul Durand, né le 9 octobre 1949,"}, []string{"né ou née", ", née le"}},
		{"a person whose gender is unknown gets the date alone in French", person("Camille", "Roux", mandates.GenderUnspecified), "fr",
			[]string{"Moi, Camille Roux, je donne mon accord.", "Ma date de naissance : 9 octobre 1949."}, []string{"né ou née", ", né le", ", née le"}},
		{"a woman is born on a date in English", person("Yvette Marie", "Garnier", mandates.GenderFemale), "en",
			[]string{"I, Yvette Garnier, born on 9 October 1949,"}, []string{"Yvette Marie"}},
		{"a person whose gender is unknown gets the date in English too", person("Camille", "Roux", mandates.GenderUnspecified), "en",
			[]string{"I, Camille Roux, born on 9 October 1949,"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := Attestation(r, tt.person, org, aidant, t0, tt.lang)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("no %q in the attestation:\n%s", w, text)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(text, w) {
					t.Errorf("%q in the attestation:\n%s", w, text)
				}
			}
		})
	}
}
