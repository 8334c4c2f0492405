package words_test

import (
	"strings"
	"testing"

	"github.com/relais-fr/relais/notices"
)

// TestAPersonUnderAMeasureIsNotToldToStopIt: the first act at a site
// under a mandate or a proxy tells the person they can stop that access;
// under a court measure (or a future protection mandate) they cannot, so
// the letter says whom to contact if they disagree, never « arrêtez ».
func TestAPersonUnderAMeasureIsNotToldToStopIt(t *testing.T) {
	w := writer(t, fixture())
	tests := []struct {
		name, person, rep, lang string
		stop                    bool
	}{
		{"a tutelle", "jeanne", "tutelle", "fr", false},
		{"a tutelle, in English", "jeanne", "tutelle", "en", false},
		{"a curatelle renforcée", "paul", "curatelle", "fr", false},
		{"a future protection mandate", "anne", "mpf", "en", false},
		{"a future protection mandate, in French", "anne", "mpf", "fr", false},
		{"a mandate", "jeanne", "mandate", "fr", true},
		{"a mandate, in English", "jeanne", "mandate", "en", true},
		{"a proxy", "jeanne", "proxy", "fr", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := notice(firstAct, tt.person, tt.person, notices.RolePerson, notices.Paper,
				map[string]string{"representation_id": id(tt.rep), "actor_id": id("marie"), "site_name": "impots.gouv.fr"})
			n.Lang = tt.lang
			m, err := w.Write(t.Context(), n)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(m.Lines, "\n")
			stop := strings.Contains(text, "Arrêtez") || strings.Contains(text, "Stop the access")
			if stop != tt.stop {
				t.Errorf("the letter tells to stop the access: %t, want %t: %q", stop, tt.stop, m.Lines)
			}
			disagree := map[string]string{"fr": "Vous n’êtes pas d’accord ? Contactez-nous : 02 40 41 42 43.",
				"en": "Do you disagree? Contact us: 02 40 41 42 43."}[tt.lang]
			if !tt.stop && !strings.Contains(text, disagree) {
				t.Errorf("the letter does not say %q: %q", disagree, m.Lines)
			}
			if !strings.Contains(text, "impots.gouv.fr") {
				t.Errorf("the letter does not name the site: %q", m.Lines)
			}
			plain(t, m)
		})
	}
}
