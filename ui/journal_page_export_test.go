package ui

import (
	"context"
	"net/http"
	"net/http/httptest"

	"github.com/relais-fr/relais/mandates/journal"
)

// JournalSentence is the sentence "Mon journal" shows for e, to reader
// in owner's journal ("" for an organisation's or the admin chain), in
// lang: the journal's tests (package ui_test) check the words.
func JournalSentence(ctx context.Context, s *Server, reader, owner, lang string, e journal.Stored) string {
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, journalPath, nil)
	r.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
	return (&journalPages{s}).newJournalView(r, reader, owner).sentence(e)
}
