package words_test

import (
	"strings"
	"testing"

	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/sms"
	"github.com/relais-fr/relais/notices/words"
)

// TestEveryShortTextFitsTheSMSLimit writes every notified event for every
// recipient as an SMS, in French and in English, and counts its parts as
// the phone receives them (sms.Segments: a ’ or a « makes a text UCS-2, 70
// characters a part): each fits sms.DefaultSegments. The short texts use
// the plain ' and " of the GSM alphabet, so a text without ê, â, ô or ç
// goes in 160-character parts.
func TestEveryShortTextFitsTheSMSLimit(t *testing.T) {
	w := writer(t, fixture())
	parts := map[int]int{}
	for _, e := range notified() {
		for _, v := range variants(e) {
			if v.recipient == "fs" {
				continue // an organisation gets letters only
			}
			for _, lang := range words.Languages {
				n := notice(e, v.person, v.recipient, v.role, notices.SMS, v.data)
				n.Lang = lang
				m, err := w.Write(t.Context(), n)
				if err != nil {
					t.Fatalf("%s %s %s: %v", e, v.name, lang, err)
				}
				k := sms.Segments(m.Short)
				parts[k]++
				if k > sms.DefaultSegments {
					t.Errorf("%s %s %s: the SMS takes %d parts, at most %d: %q", e, v.name, lang, k, sms.DefaultSegments, m.Short)
				}
				if strings.ContainsAny(m.Short, "’«»“”") {
					t.Errorf("%s %s %s: the SMS has a typographic apostrophe or quote, outside the GSM alphabet: %q", e, v.name, lang, m.Short)
				}
			}
		}
	}
	t.Logf("SMS by parts: %v", parts)
}

// TestTheConsentCodeFitsTheSMSLimit: the consent code's SMS, in both
// languages, for a mandate that lists many areas, fits the limit.
func TestTheConsentCodeFitsTheSMSLimit(t *testing.T) {
	s := fixture()
	w := writer(t, s)
	for _, who := range []string{"jeanne", "anne"} {
		m, err := w.ConsentCode(t.Context(), s.persons[id(who)], s.reps[id("mandate")], "123456")
		if err != nil {
			t.Fatal(err)
		}
		if k := sms.Segments(m.Short); k > sms.DefaultSegments || strings.ContainsAny(m.Short, "’«»") {
			t.Errorf("%s: the SMS takes %d parts: %q", who, k, m.Short)
		}
	}
}
