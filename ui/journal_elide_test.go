package ui

import "testing"

// TestFrenchElidesDeBeforeAVowel: « le compte d’Ahmed Benali », « de
// Jeanne Petit »; English is left alone.
func TestFrenchElidesDeBeforeAVowel(t *testing.T) {
	v := &journalView{lang: "fr"}
	for in, want := range map[string]string{
		"le compte de Ahmed Benali":                        "le compte d’Ahmed Benali",
		"De Ahmed Benali et de Yvette Garnier":             "D’Ahmed Benali et d’Yvette Garnier",
		"le journal de Jeanne Petit":                       "le journal de Jeanne Petit",
		"la procuration de Yasmine Haddad":                 "la procuration de Yasmine Haddad",
		"qui exerce la tutelle de Émile Roux":              "qui exerce la tutelle d’Émile Roux",
		"le monde Ahmed Benali":                            "le monde Ahmed Benali",
		"la tutelle de Hugo Roux":                          "la tutelle de Hugo Roux",
		"le site « Caisse d’allocations familiales »":      "le site « Caisse d’allocations familiales »",
		"(de Ahmed Benali)":                                "(d’Ahmed Benali)",
		"l’accès de Ahmed Benali au compte de Émile Roux.": "l’accès d’Ahmed Benali au compte d’Émile Roux.",
	} {
		if got := v.elide(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	v.lang = "en"
	if got := v.elide("the account de Ahmed Benali"); got != "the account de Ahmed Benali" {
		t.Errorf("English: %q", got)
	}
}
