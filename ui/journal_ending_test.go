package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/ui"
)

// TestEndingSoonAndFirstActReadAsPlainSentences: an end coming and a first
// act at a site, as Jeanne reads them in her journal.
func TestEndingSoonAndFirstActReadAsPlainSentences(t *testing.T) {
	a := newActingRun(t)
	c := a.cast
	at := time.Date(2027, 3, 3, 13, 5, 0, 0, time.UTC)
	entry := func(typ mandates.EventType, actor, client string, fields map[string]string) journal.Stored {
		e := journal.Stored{Entry: journal.Entry{Chain: c.jeanne.ID, Seq: 1, Type: typ, At: at, ActorID: actor, PersonID: c.jeanne.ID,
			RepresentationID: a.repID, ClientID: client}}
		if fields != nil {
			e.Detail = &journal.Detail{Salt: []byte("0123456789abcdef"), Fields: fields}
		}
		return e
	}
	cases := []struct {
		name   string
		e      journal.Stored
		fr, en string
	}{
		{"the tutelle ends in less than 30 days", entry(mandates.EventEndingSoon, "", "", map[string]string{"ends_on": "2027-04-01"}),
			"rappel : la tutelle prend fin le 1er avril 2027, dans moins de 30 jours.",
			"reminder: guardianship ends on 1 April 2027, in less than 30 days."},
		{"its date erased", entry(mandates.EventEndingSoon, "", "", nil),
			"rappel : la tutelle prend fin, dans moins de 30 jours.",
			"reminder: guardianship ends, in less than 30 days."},
		{"Marie acts at the caf site for the first time", entry(mandates.EventSiteFirstAct, c.marie.ID, "caf", map[string]string{"client_id": "caf"}),
			"a agi pour la première fois avec votre compte sur le site « Caisse d’allocations familiales ».",
			"acted with your account on the site “Caisse d’allocations familiales” for the first time."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for lang, want := range map[string]string{"fr": tc.fr, "en": tc.en} {
				got := ui.JournalSentence(t.Context(), a.app.server, c.jeanne.ID, c.jeanne.ID, lang, tc.e)
				if !strings.Contains(got, want) {
					t.Errorf("%s: %q\ndoes not say %q", lang, got, want)
				}
			}
		})
	}
	if got := ui.JournalSentence(t.Context(), a.app.server, c.jeanne.ID, c.jeanne.ID, "fr", cases[2].e); !strings.HasPrefix(got, "Marie Martin") {
		t.Errorf("the first act does not begin with who acted: %q", got)
	}
}
