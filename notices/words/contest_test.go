package words_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
)

// contests says whether a letter's lines say how to contest a judge's
// decision (the blocks contest and contest_mpf of the catalogues).
func contests(lines []string) bool {
	return slices.ContainsFunc(lines, func(l string) bool {
		for _, s := range []string{"Vous pouvez faire appel", "Vous pouvez demander au juge de vérifier", "You can appeal", "You can ask the judge to check"} {
			if strings.HasPrefix(l, s) {
				return true
			}
		}
		return false
	})
}

// TestAnSMSAboutACourtMeasureSaysALetterFollows: for every notified event
// and recipient, the letter says how to contest exactly when
// notices.LetterToo sends a letter with the SMS, and then the SMS says a
// letter follows; no other SMS says so, and no letter or email does.
func TestAnSMSAboutACourtMeasureSaysALetterFollows(t *testing.T) {
	s := fixture()
	w := writer(t, s)
	follows := func(short string) bool {
		return strings.Contains(short, "Une lettre suit") || strings.Contains(short, "A letter follows")
	}
	seen := 0
	for _, e := range notified() {
		for _, v := range variants(e) {
			if v.recipient == "fs" {
				continue // an organisation gets letters only
			}
			kind := s.reps[v.data["representation_id"]].Kind
			too := notices.LetterToo(e, kind)
			for _, lang := range words.Languages {
				name := string(e) + "/" + v.name + "/" + lang
				letter := notice(e, v.person, v.recipient, v.role, notices.Paper, v.data)
				letter.Lang = lang
				m, err := w.Write(t.Context(), letter)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if contests(m.Lines) != too {
					t.Errorf("%s: the letter says how to contest: %t; a letter comes with the SMS: %t; lines %q", name, contests(m.Lines), too, m.Lines)
				}
				if follows(m.Short) {
					t.Errorf("%s: a letter's short text says a letter follows: %q", name, m.Short)
				}
				text := notice(e, v.person, v.recipient, v.role, notices.SMS, v.data)
				text.Lang = lang
				if m, err = w.Write(t.Context(), text); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if follows(m.Short) != too {
					t.Errorf("%s: the SMS says a letter follows: %t, want %t: %q", name, follows(m.Short), too, m.Short)
				}
				if too {
					seen++
				}
			}
		}
	}
	if seen == 0 {
		t.Fatal("no variant is about a court measure whose letter says how to contest")
	}
}

// TestAnSMSAboutAPausedTutelle is one case in full.
func TestAnSMSAboutAPausedTutelle(t *testing.T) {
	w := writer(t, fixture())
	n := notice(mandates.EventSuspended, "jeanne", "jeanne", notices.RolePerson, notices.SMS,
		map[string]string{"representation_id": id("tutelle"), "actor_id": id("aidant"), "status": "suspended"})
	m, err := w.Write(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Votre mesure de protection est en pause. Marie Martin ne peut plus agir pour vous pour le moment. Une lettre suit."; m.Short != want {
		t.Errorf("Short = %q, want %q", m.Short, want)
	}
}
