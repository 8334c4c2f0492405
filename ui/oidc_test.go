package ui_test

import (
	"crypto/rand"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/ui"
)

// oidcApp is the whole HTTP side with the OpenID provider, on a real
// embedded store, served on a loopback port.
type oidcApp struct {
	srv     *httptest.Server
	handler http.Handler
	store   *sqlite.Store
	secret  string
	person  mandates.Person
}

const (
	testEmail    = "jeanne.lefevre@example.fr"
	testPassword = "un mot de passe assez long"
)

func newOIDCApp(t *testing.T) *oidcApp {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "relais.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mig, _ := st.Migrations()
	if _, err := mig.Up(ctx); err != nil {
		t.Fatal(err)
	}
	mig.Close()
	key := make([]byte, 32)
	rand.Read(key)
	box, _ := authz.NewSecretBox(key)
	keys := authz.NewKeys(st, box, time.Now, time.Hour, 31*24*time.Hour)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	app := &oidcApp{store: st}
	person := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Jeanne", FamilyName: "Lefèvre", BirthDate: mandates.Date(1941, 3, 12),
		Email: testEmail, PasswordHash: authz.HashPassword(testPassword)}
	if err := st.CreatePerson(ctx, person); err != nil {
		t.Fatal(err)
	}
	app.person = person
	var hash string
	app.secret, hash = authz.NewClientSecret()
	if err := st.CreateClient(ctx, authz.Client{ID: "caf", Name: "Caisse d’allocations familiales", RedirectURIs: []string{"http://127.0.0.1/cb"},
		Scopes: []string{"openid", "identite_pivot", "email"}, GrantTypes: []string{"authorization_code"}, SecretHash: hash, SectorIdentifier: "caf.example.fr"}); err != nil {
		t.Fatal(err)
	}

	var handler http.Handler
	app.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(app.srv.Close)
	provider, err := authz.NewProvider(authz.ProviderConfig{Issuer: app.srv.URL, SecretKey: key},
		authz.Stores{Clients: st, Tokens: st, Persons: st, Tx: st}, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ui.New(ui.Options{Store: st, Sessions: st, OIDC: &ui.OIDC{
		Provider: provider, Auth: authz.NewAuthenticator(st, st, authz.LoginLimits{}, nil), Consents: st, Clients: st}})
	if err != nil {
		t.Fatal(err)
	}
	handler = s
	app.handler = s
	return app
}

func (a *oidcApp) conf() *oauth2.Config {
	return &oauth2.Config{ClientID: "caf", ClientSecret: a.secret, RedirectURL: "http://127.0.0.1/cb", Scopes: []string{"openid", "identite_pivot"},
		Endpoint: oauth2.Endpoint{AuthURL: a.srv.URL + "/authorize", TokenURL: a.srv.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
}

func browserClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func mustGet(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

func TestLoginConsentAndCode(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	conf := app.conf()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-123456"),
		oauth2.SetAuthURLParam("login_hint", testEmail))

	res := mustGet(t, c, authURL)
	loginURL := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loginURL, "/login?") {
		t.Fatalf("not signed in: %d to %q, want the login page", res.StatusCode, loginURL)
	}
	res, _ = c.Get(app.srv.URL + loginURL)
	page := readBody(t, res)
	if !strings.Contains(page, "Caisse d’allocations familiales") || !strings.Contains(page, `value="`+testEmail+`"`) {
		t.Errorf("login page does not name the site or prefill login_hint:\n%.1500s", page)
	}
	ret, _ := url.Parse(loginURL)

	// A wrong password: the page says so without saying which field.
	res, _ = c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {"faux"}, "return": {ret.Query().Get("return")}})
	page = readBody(t, res)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, "ne correspond pas") {
		t.Errorf("wrong password: %d\n%.800s", res.StatusCode, page)
	}

	res, err := c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {testPassword}, "return": {ret.Query().Get("return")}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, "/authorize?") {
		t.Fatalf("after login: %d to %q", res.StatusCode, back)
	}
	cookie := res.Header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Errorf("session cookie %q", cookie)
	}

	res, _ = c.Get(app.srv.URL + back)
	page = readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "votre identité") || !strings.Contains(page, `name="decision" value="accept"`) {
		t.Fatalf("consent page: %d\n%.1500s", res.StatusCode, page)
	}
	request := between(page, `name="request" value="`, `"`)
	res, _ = c.PostForm(app.srv.URL+"/consent", url.Values{"request": {htmlUnescape(request)}, "decision": {"accept"}})
	res.Body.Close()
	res = mustGet(t, c, app.srv.URL+res.Header.Get("Location"))
	final, _ := url.Parse(res.Header.Get("Location"))
	if final.Host != "127.0.0.1" || final.Query().Get("code") == "" || final.Query().Get("state") != "state-123456" {
		t.Fatalf("after consent: %d to %q", res.StatusCode, final)
	}
	tok, err := conf.Exchange(t.Context(), final.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.Extra("id_token") == nil {
		t.Fatalf("exchange: %v", err)
	}

	// The consent is remembered: the next request goes straight back.
	res = mustGet(t, c, conf.AuthCodeURL("state-654321", oauth2.S256ChallengeOption(verifier)))
	if loc, _ := url.Parse(res.Header.Get("Location")); loc == nil || loc.Query().Get("code") == "" {
		t.Errorf("second authorization: %d to %q, want a code at once", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestRefusingConsentAnswersAccessDenied(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	conf := app.conf()
	authURL := conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	ret := strings.TrimPrefix(authURL, app.srv.URL)
	res, _ := c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {testPassword}, "return": {ret}})
	res.Body.Close()
	res, _ = c.Get(app.srv.URL + res.Header.Get("Location"))
	page := readBody(t, res)
	res, _ = c.PostForm(app.srv.URL+"/consent", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}, "decision": {"refuse"}})
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "state-123456" {
		t.Errorf("refusal: %d to %q, want access_denied", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestPromptNoneWithoutSessionAnswersLoginRequired(t *testing.T) {
	app := newOIDCApp(t)
	conf := app.conf()
	res := mustGet(t, browserClient(t), conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("prompt", "none")))
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc == nil || loc.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none: %d to %q, want login_required", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestUnknownSiteGetsAnErrorPageNotARedirect(t *testing.T) {
	app := newOIDCApp(t)
	res := mustGet(t, browserClient(t), app.srv.URL+"/authorize?response_type=code&client_id=nope&redirect_uri=https://evil.example/&state=state-123456")
	if res.StatusCode != 400 || res.Header.Get("Location") != "" {
		t.Errorf("unknown site: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'").Replace(s)
}

func TestLogoutAsksThenSignsOutAndReturnsToTheSite(t *testing.T) {
	app := newOIDCApp(t)
	ctx := t.Context()
	if _, err := app.store.UpdateClient(ctx, "caf", func(c *authz.Client) error {
		c.PostLogoutRedirectURIs = []string{"http://127.0.0.1/bye"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := browserClient(t)
	res, _ := c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {testPassword}, "return": {"/"}})
	res.Body.Close()

	// An unregistered return address: Relais's own page, no redirect.
	res = mustGet(t, c, app.srv.URL+"/logout?client_id=caf&post_logout_redirect_uri=https://evil.example/")
	if res.StatusCode != 400 || res.Header.Get("Location") != "" {
		t.Errorf("unregistered post_logout_redirect_uri: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// A forged id_token_hint: refused too.
	res = mustGet(t, c, app.srv.URL+"/logout?id_token_hint=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.&post_logout_redirect_uri=http://127.0.0.1/bye")
	if res.StatusCode != 400 {
		t.Errorf("forged id_token_hint: %d", res.StatusCode)
	}

	res, _ = c.Get(app.srv.URL + "/logout?client_id=caf&post_logout_redirect_uri=http://127.0.0.1/bye&state=s-1")
	page := readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "Me déconnecter") {
		t.Fatalf("confirmation page: %d\n%.600s", res.StatusCode, page)
	}
	res, _ = c.PostForm(app.srv.URL+"/logout", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}})
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "http://127.0.0.1/bye?state=s-1" {
		t.Errorf("after logout: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// Signed out: authorizing needs a login again.
	res = mustGet(t, c, app.conf().AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Errorf("after logout, authorize goes to %q, want the login page", res.Header.Get("Location"))
	}
}
