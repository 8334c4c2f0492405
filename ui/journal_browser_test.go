package ui_test

import (
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// TestJournalPagesInABrowser audits each journal page once per language:
// the person's own journal (with its filters and the links to keep it),
// the journal of someone the reader represents, the printable journal
// (the person's own, and the one their tutor prints), an organisation's
// journal and the administrative journal.
func TestJournalPagesInABrowser(t *testing.T) {
	a := newJournalRun(t)
	c := a.cast
	// Enough entries for a second page, so the paging links are audited.
	for range 21 {
		if err := a.app.journal.Emit(t.Context(), mandates.Event{Type: mandates.EventLoginSucceeded, PersonID: c.jeanne.ID, ActorID: c.jeanne.ID}); err != nil {
			t.Fatal(err)
		}
	}
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		pages = append(pages,
			browsertest.Page{Name: "journal-own", Path: "/espace/journal", Lang: lang, Cookies: sessionFor(t, a.app, c.jeanne)},
			browsertest.Page{Name: "journal-of", Path: "/espace/journal/" + c.jeanne.ID, Lang: lang, Cookies: sessionFor(t, a.app, c.marie)},
			browsertest.Page{Name: "journal-print", Path: "/espace/journal/imprimer", Lang: lang, Cookies: sessionFor(t, a.app, c.jeanne)},
			browsertest.Page{Name: "journal-print-of", Path: "/espace/journal/" + c.jeanne.ID + "/imprimer", Lang: lang, Cookies: sessionFor(t, a.app, c.marie)},
			browsertest.Page{Name: "journal-org", Path: "/structure/" + c.org.ID + "/journal", Lang: lang, Cookies: sessionFor(t, a.app, c.admin)},
			browsertest.Page{Name: "journal-admin", Path: "/operateur/journal", Lang: lang, Cookies: sessionFor(t, a.app, c.operator)},
		)
	}
	h := browsertest.Start(t, a.app.handler)
	h.Check(t, pages...)
}
