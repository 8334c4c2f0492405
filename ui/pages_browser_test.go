package ui_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/ui"
	"github.com/relais-fr/relais/ui/browsertest"
)

// newRelais builds the whole HTTP side on a real embedded store, as
// relais serve does, plus two routes that fail on purpose so the 500 and
// 503 pages can be audited like any other.
func newRelais(t *testing.T) *ui.Server {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relais.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := st.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	s, err := ui.New(ui.Options{Store: st, Sessions: st})
	if err != nil {
		t.Fatal(err)
	}
	s.Router().HandleFunc("/test/panic", func(http.ResponseWriter, *http.Request) { panic("on purpose") })
	s.Router().HandleFunc("/test/unavailable", func(w http.ResponseWriter, r *http.Request) {
		s.StoreError(w, r, mandates.ErrUnavailable)
	})
	return s
}

func TestPagesInABrowser(t *testing.T) {
	h := browsertest.Start(t, newRelais(t))
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		pages = append(pages,
			browsertest.Page{Name: "home", Path: "/", Lang: lang},
			browsertest.Page{Name: "error-404", Path: "/cette-page-n-existe-pas", Lang: lang, WantStatus: http.StatusNotFound},
			browsertest.Page{Name: "error-500", Path: "/test/panic", Lang: lang, WantStatus: http.StatusInternalServerError},
			browsertest.Page{Name: "error-503", Path: "/test/unavailable", Lang: lang, WantStatus: http.StatusServiceUnavailable},
		)
	}
	h.Check(t, pages...)
}

// TestLoginAndConsentPagesInABrowser audits the pages a person meets when a
// site sends them to Relais: the login page, the consent page once signed
// in, the error page for an unknown site, and the two logout pages.
func TestLoginAndConsentPagesInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	h := browsertest.Start(t, app.handler)
	token, id := authz.NewSessionToken()
	now := time.Now()
	if err := app.store.CreateSession(t.Context(), authz.BrowserSession{ID: id, PersonID: app.person.ID, AuthTime: now, AMR: []string{"pwd"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	authorize := "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"caf"}, "redirect_uri": {"http://127.0.0.1/cb"},
		"scope": {"openid identite_pivot email"}, "state": {"state-123456"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}.Encode()
	signedIn := map[string]string{"relais_session": token}
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		pages = append(pages,
			browsertest.Page{Name: "login", Path: "/login?" + url.Values{"return": {authorize}}.Encode(), Lang: lang},
			browsertest.Page{Name: "consent", Path: authorize, Lang: lang, Cookies: signedIn},
			browsertest.Page{Name: "authorize-unknown-site", Path: "/authorize?client_id=nope&response_type=code", Lang: lang, WantStatus: http.StatusBadRequest},
			browsertest.Page{Name: "logout", Path: "/logout?client_id=caf", Lang: lang, Cookies: signedIn},
			browsertest.Page{Name: "logged-out", Path: "/logout", Lang: lang},
		)
	}
	h.Check(t, pages...)
}
