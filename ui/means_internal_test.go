package ui

import (
	"strings"
	"testing"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/relais-fr/relais/mandates"
)

// A measure's explanation keeps the person's name as it is written, even
// when the sentence starts with it (« Procuration veut dire : Jeanne
// Lefèvre a choisi… »), and starts in lower case after the colon
// otherwise.
func TestAMeasureExplainedByNameKeepsTheNameCapitalised(t *testing.T) {
	b, err := newBundle()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fr", "en"} {
		l := i18n.NewLocalizer(b, lang)
		for _, k := range []mandates.Kind{mandates.Proxy, mandates.AidantMandate, mandates.MandatProtectionFuture, mandates.Tutelle, mandates.CuratelleRenforcee} {
			got := kindMeans(l, lang, k, "Jeanne Lefèvre")
			if !strings.Contains(got, "Jeanne Lefèvre") {
				t.Errorf("%s %s: %q, want the name as written", lang, k, got)
			}
			_, after, _ := strings.Cut(got, ": ")
			if first := after[:1]; strings.ToUpper(first) == first && !strings.HasPrefix(after, "Jeanne") {
				t.Errorf("%s %s: %q, want lower case after the colon", lang, k, got)
			}
			if you := kindMeans(l, lang, k, ""); strings.Contains(strings.ToLower(you), "la personne") || strings.Contains(strings.ToLower(you), "the person") {
				t.Errorf("%s %s said to the reader: %q", lang, k, you)
			}
		}
	}
}
