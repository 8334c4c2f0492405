package ui_test

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/authn"
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
	token, id := authn.NewSessionToken()
	now := time.Now()
	if err := app.store.CreateSession(t.Context(), authn.BrowserSession{ID: id, PersonID: app.person.ID, AuthTime: now, AMR: []string{"pwd"},
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

// totpPerson adds a person with an email of their own and a signed-in
// session, and returns them with the session cookie.
func totpPerson(t *testing.T, app *oidcApp, email string) (mandates.Person, map[string]string) {
	t.Helper()
	ctx := t.Context()
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Marie", FamilyName: "Martin", BirthDate: mandates.Date(1950, 5, 4),
		Email: email, PasswordHash: authn.HashPassword(testPassword)}
	if err := app.store.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	token, id := authn.NewSessionToken()
	now := time.Now()
	if err := app.store.CreateSession(ctx, authn.BrowserSession{ID: id, PersonID: p.ID, AuthTime: now, AMR: []string{"pwd"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return p, map[string]string{"relais_session": token}
}

// snapshot serves, at a test path, the page a form post answered with, so
// the browser audits exactly what a person sees after posting (the
// harness loads pages by GET).
type snapshot struct {
	name   string
	status int
	body   []byte
}

func captureTOTPPostPages(t *testing.T, app *oidcApp, lang string) []snapshot {
	t.Helper()
	var out []snapshot
	post := func(name string, c *http.Client, path string, form url.Values, want int) {
		t.Helper()
		res, err := c.PostForm(app.srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, res)
		if res.StatusCode != want {
			t.Fatalf("%s (%s): %d, want %d\n%.1000s", name, lang, res.StatusCode, want, body)
		}
		out = append(out, snapshot{name: name, status: res.StatusCode, body: []byte(body)})
	}
	client := func() *http.Client {
		c := browserClient(t)
		u, _ := url.Parse(app.srv.URL)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: browsertest.LangCookie, Value: lang, Path: "/"}})
		return c
	}

	// Setting up: a wrong first code, then the recovery codes.
	c := client()
	email := "codes-" + lang + "@example.fr"
	totpPerson(t, app, email)
	if res, err := c.PostForm(app.srv.URL+"/login", url.Values{"email": {email}, "password": {testPassword}, "return": {"/"}}); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	if res, err := c.PostForm(app.srv.URL+"/compte/double-authentification/commencer", nil); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	res, _ := c.Get(app.srv.URL + "/compte/double-authentification")
	secret := strings.ReplaceAll(between(readBody(t, res), `<span class="totp-secret__text" aria-hidden="true">`, "<"), " ", "")
	post("totp-setup-wrong-code", c, "/compte/double-authentification", url.Values{"code": {"12"}}, http.StatusUnauthorized)
	post("totp-recovery-codes", c, "/compte/double-authentification", url.Values{"code": {totpCode(t, secret, 0)}}, http.StatusOK)
	post("totp-off-wrong-code", c, "/compte/double-authentification/arreter", url.Values{"code": {"abcd-efgh-jkmn"}}, http.StatusUnauthorized)

	// Logging in: wrong codes on both pages, and a login that timed out.
	c = client()
	if res, err := c.PostForm(app.srv.URL+"/login", url.Values{"email": {email}, "password": {testPassword}, "return": {"/"}}); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	post("totp-code-wrong", c, "/login/code", url.Values{"code": {"12"}, "return": {"/"}}, http.StatusUnauthorized)
	post("totp-recovery-wrong", c, "/login/recovery", url.Values{"code": {"abcd-efgh-jkmn"}, "return": {"/"}}, http.StatusUnauthorized)
	post("totp-login-expired", client(), "/login/code", url.Values{"code": {"123456"}, "return": {"/"}}, http.StatusOK)
	return out
}

// TestTOTPPagesInABrowser audits the second factor's pages: the code and
// recovery-code steps of a login, the setup page in each of its states,
// and the pages a form post answers with (wrong codes, the recovery codes
// shown once, a login that took too long).
func TestTOTPPagesInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	ctx := t.Context()
	authorize := "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"caf"}, "redirect_uri": {"http://127.0.0.1/cb"},
		"scope": {"openid identite_pivot"}, "state": {"state-123456"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}.Encode()
	app.enrolTOTP(t)
	pendingToken, err := app.totp.StartLogin(ctx, app.person.ID, []string{"pwd"})
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string]string{"relais_pending_login": pendingToken}
	_, off := totpPerson(t, app, "off@example.fr")
	settingUp, setup := totpPerson(t, app, "setup@example.fr")
	if err := app.totp.Begin(ctx, settingUp.ID); err != nil {
		t.Fatal(err)
	}
	on, onCookies := totpPerson(t, app, "on@example.fr")
	if err := app.totp.Begin(ctx, on.ID); err != nil {
		t.Fatal(err)
	}
	s, _ := app.totp.Setup(ctx, on.ID)
	if _, err := app.totp.Confirm(ctx, on.ID, totpCode(t, s.Secret, 0)); err != nil {
		t.Fatal(err)
	}

	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		for _, snap := range captureTOTPPostPages(t, app, lang) {
			path := "/test/" + snap.name + "/" + lang
			app.server.Router().HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(snap.status)
				w.Write(snap.body)
			})
			pages = append(pages, browsertest.Page{Name: snap.name, Path: path, Lang: lang, WantStatus: snap.status, Cookies: setup})
		}
		pages = append(pages,
			browsertest.Page{Name: "totp-code", Path: "/login/code?" + url.Values{"return": {authorize}}.Encode(), Lang: lang, Cookies: pending},
			browsertest.Page{Name: "totp-recovery", Path: "/login/recovery?" + url.Values{"return": {authorize}}.Encode(), Lang: lang, Cookies: pending},
			browsertest.Page{Name: "totp-off", Path: "/compte/double-authentification", Lang: lang, Cookies: off},
			browsertest.Page{Name: "totp-turned-off", Path: "/compte/double-authentification?fait=arret", Lang: lang, Cookies: off},
			browsertest.Page{Name: "totp-setup", Path: "/compte/double-authentification", Lang: lang, Cookies: setup},
			browsertest.Page{Name: "totp-on", Path: "/compte/double-authentification", Lang: lang, Cookies: onCookies},
		)
	}
	h := browsertest.Start(t, app.handler)
	h.Check(t, pages...)
}

// TestTOTPLoginWithTheKeyboardAlone: a person with the second factor on
// signs in with the keyboard alone at 320 px, types the app's code, and the
// site (which the person already agreed to) receives a code whose ID token
// says both factors. The redirects after the code form end on the site, so
// this also shows the code page lets its form lead there (CSP form-action).
func TestTOTPLoginWithTheKeyboardAlone(t *testing.T) {
	app := newOIDCApp(t)
	secret, _ := app.enrolTOTP(t)
	if err := app.store.SaveConsent(t.Context(), authn.Consent{PersonID: app.person.ID, ClientID: "caf", Scopes: []string{"openid", "identite_pivot"},
		GrantedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	k := signInWithKeyboard(t, app)
	waitFor(t, k.ctx, k.h.URL("/login/code"))
	tabTo(t, k.ctx, "#code")
	if err := chromedp.Do(k.ctx, chromedp.KeyEvent(totpCode(t, secret, 1)), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	tok := k.finish(t)
	if amr := idTokenAMR(t, tok); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr = %q, want [pwd otp mfa] (RFC 8176)", amr)
	}
}
