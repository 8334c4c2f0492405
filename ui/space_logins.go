package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// loginsPath is « Comment je me connecte »: the ways the person logs in
// (their password, FranceConnect), and removing FranceConnect.
const (
	loginsPath       = "/espace/connexions"
	loginsRemovePath = "/espace/connexions/franceconnect/retirer"
)

// loginWaysPages are the person's ways to log in, in their space.
type loginWaysPages struct{ *Server }

func (s *loginWaysPages) mount(pages *mux.Router) {
	pages.HandleFunc(loginsPath, s.page(s.loginWays)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc(loginsRemovePath, s.page(s.removeFranceConnect)).Methods(http.MethodPost)
}

type loginWaysData struct {
	Password bool
	// FranceConnect is the day FranceConnect was linked, in words; ""
	// when it is not.
	FranceConnect string
	CanRemove     bool
	Removed       bool // FranceConnect was just removed
}

func (s *loginWaysPages) loginWays(w http.ResponseWriter, r *http.Request) error {
	sess, ok := CurrentSession(r.Context())
	if !ok {
		return errSignIn
	}
	ways, err := upstreamOf(s.oidc).franceConnect().WaysOf(r.Context(), sess.PersonID)
	if err != nil {
		return err
	}
	d := loginWaysData{Password: ways.Password, Removed: r.URL.Query().Get("fait") == "retire"}
	if !ways.Link.LinkedAt.IsZero() {
		d.FranceConnect = locales.FormatDate(ways.Link.LinkedAt, requestLang(r))
		d.CanRemove = ways.CanRemoveUpstream(ways.Link.Provider) == nil
	}
	s.render(w, r, http.StatusOK, "space_logins", "upstream.logins.title", d)
	return nil
}

// removeFranceConnect removes the link to FranceConnect, never the last
// way to log in (mandates.LoginWays).
func (s *loginWaysPages) removeFranceConnect(w http.ResponseWriter, r *http.Request) error {
	sess, ok := CurrentSession(r.Context())
	if !ok {
		return errSignIn
	}
	err := upstreamOf(s.oidc).franceConnect().Unlink(r.Context(), sess.PersonID)
	switch {
	case errors.Is(err, mandates.ErrLastLogin):
		l := s.localizer(r)
		s.refusal(w, r, http.StatusConflict, refusalData{
			Heading:   translate(l, "upstream.logins.last_heading"),
			Lead:      translate(l, "upstream.logins.last"),
			NextSteps: []string{translate(l, "upstream.logins.last_next")},
			Links:     []refusalLink{{Href: loginsPath, Text: translate(l, "upstream.logins.back_to")}}})
		return nil
	case errors.Is(err, mandates.ErrNotFound):
		// Removed meanwhile (another tab): the page says how things are.
	case err != nil:
		return err
	}
	http.Redirect(w, r, loginsPath+"?"+url.Values{"fait": {"retire"}}.Encode(), http.StatusSeeOther)
	return nil
}
