package locales

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

// catalogueOf merges the catalogues of one language; a key given twice is
// an error, since which one wins would depend on file order.
func catalogueOf(t *testing.T, lang string) map[string]string {
	t.Helper()
	paths, err := fs.Glob(files, "*."+lang+".json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no %s catalogue (%v)", lang, err)
	}
	m := map[string]string{}
	for _, p := range paths {
		buf, err := files.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		one := map[string]string{}
		if err := json.Unmarshal(buf, &one); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for k, v := range one {
			if _, dup := m[k]; dup {
				t.Errorf("%s: %q is given twice", p, k)
			}
			m[k] = v
		}
	}
	return m
}

// codeKeys are the message ids every code of the domain needs.
func codeKeys() []string {
	var ids []string
	for _, k := range mandates.Kinds {
		ids = append(ids, "kind."+string(k), "kind."+string(k)+".the", "kind."+string(k)+".plain", "kind."+string(k)+".plain_you", "kind."+string(k)+".plain_of")
	}
	seen := map[mandates.Role]bool{}
	for _, k := range mandates.Kinds {
		for _, r := range mandates.RolesOf[k] {
			if !seen[r] {
				seen[r] = true
				ids = append(ids, "role."+string(r), "role."+string(r)+".the", "role."+string(r)+".to", "role."+string(r)+".of")
			}
		}
	}
	for _, a := range mandates.Actions {
		ids = append(ids, "action."+string(a))
	}
	for _, d := range mandates.Decisions {
		ids = append(ids, "decision."+string(d))
	}
	for _, s := range mandates.Statuses {
		ids = append(ids, "status."+string(s))
	}
	for _, a := range mandates.Areas {
		ids = append(ids, "area."+string(a), "area."+string(a)+".description")
	}
	for _, k := range mandates.OrganisationKinds {
		ids = append(ids, "organisation_kind."+string(k))
	}
	for _, d := range mandates.Durations {
		ids = append(ids, "duration."+string(d))
	}
	for _, c := range mandates.ReasonCodes {
		ids = append(ids, "reason."+string(c))
	}
	return append(ids, "reason.judge", "reason.party.person", "reason.party.representative",
		"agreement.how.person", "agreement.how.representative")
}

func TestEveryCodeHasFrenchAndEnglishWords(t *testing.T) {
	fr, en := catalogueOf(t, "fr"), catalogueOf(t, "en")
	for _, id := range codeKeys() {
		if strings.TrimSpace(fr[id]) == "" {
			t.Errorf("%s has no French words", id)
		}
		if strings.TrimSpace(en[id]) == "" {
			t.Errorf("%s has no English words", id)
		}
	}
	for id := range fr {
		if _, ok := en[id]; !ok {
			t.Errorf("%s is in French only", id)
		}
	}
	for id := range en {
		if _, ok := fr[id]; !ok {
			t.Errorf("%s is in English only", id)
		}
	}
}

func TestTheCataloguesParse(t *testing.T) {
	if _, err := load(); err != nil {
		t.Fatal(err)
	}
}

func TestLabelsNameCodesInBothLanguages(t *testing.T) {
	tests := []struct {
		name string
		got  Text
		want Text
	}{
		{"a kind, for a heading", Kind(mandates.Tutelle), Text{"Tutelle", "Guardianship (tutelle)"}},
		{"a kind in a sentence", KindThe(mandates.AidantMandate), Text{"le mandat d’aidant", "the aidant mandate"}},
		{"a kind explained", KindExplain(mandates.Proxy), Text{"La personne a choisi une personne de confiance pour l’aider dans certaines démarches.", "The person chose someone they trust to help with some procedures."}},
		{"a kind explained to the person it protects", KindExplainYou(mandates.Tutelle), Text{"Un juge a décidé qu’un tuteur fait les démarches pour vous.", "A judge decided that a guardian does procedures for you."}},
		{"a kind explained about the person, by name", KindExplainOf(mandates.Tutelle, "Jeanne Lefèvre"), Text{"Un juge a décidé qu’un tuteur fait les démarches pour Jeanne Lefèvre.", "A judge decided that a guardian does procedures for Jeanne Lefèvre."}},
		{"an unknown kind has no name", Kind("nothing"), Text{}},
		{"a role", Role(mandates.RoleCurateur), Text{"Curateur ou curatrice", "curator"}},
		{"an action", Action(mandates.Manage), Text{"Faire les démarches courantes", "Do everyday procedures"}},
		{"an unknown action shows its code", Action("fly"), Text{"fly", "fly"}},
		{"cosign", Decision(mandates.Cosign), Text{"oui, avec l’accord de l’autre personne", "yes, with the other person’s agreement"}},
		{"an unknown decision reads as no", Decision("maybe"), Text{"non", "no"}},
		{"a status", Status(mandates.StatusSuspended), Text{"En pause", "Paused"}},
		{"an unknown status shows its code", Status("lost"), Text{"lost", "lost"}},
		{"an area", Area("etranger"), Text{"Étranger, Europe", "Foreign nationals, Europe"}},
		{"an area's description", AreaDescription("justice"), Text{"Tribunal, plainte, aide juridictionnelle.", "Courts, complaints, legal aid."}},
		{"an unknown area has no name", Area("mars"), Text{}},
		{"an organisation kind", OrganisationKind(mandates.OrgCCAS), Text{"Centre communal d’action sociale (CCAS)", "Local social services (CCAS)"}},
		{"an unknown organisation kind is another organisation", OrganisationKind("club"), Text{"Autre structure", "Other organisation"}},
		{"a length", Duration(mandates.SixMonths), Text{"6 mois", "6 months"}},
		{"an unknown length shows its code", Duration("2y"), Text{"2y", "2y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestTextPicksTheLanguageFrenchByDefault(t *testing.T) {
	x := Text{"oui", "yes"}
	for lang, want := range map[string]string{"fr": "oui", "en": "yes", "": "oui", "de": "oui"} {
		if got := x.In(lang); got != want {
			t.Errorf("In(%q) = %q, want %q", lang, got, want)
		}
	}
}

// The domain keeps codes, not sentences: no two-language text type and no
// French sentence in the non-test files of mandates.
func TestTheDomainHoldsNoSentences(t *testing.T) {
	paths, err := filepath.Glob("../mandates/*.go")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no files of mandates (%v)", err)
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		buf, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src := string(buf)
		// French writes its apostrophe ’ and opens refusals with refusé.
		for _, s := range []string{"type Text ", "Text{", "’", "refusé", "autorisé"} {
			if strings.Contains(src, s) {
				t.Errorf("%s holds %q: words belong in the catalogues of locales", p, s)
			}
		}
	}
}
