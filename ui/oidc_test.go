package ui_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/ui"
)

// oidcApp is the whole HTTP side with the OpenID provider, on a real
// embedded store, served on a loopback port.
type oidcApp struct {
	srv      *httptest.Server
	handler  http.Handler
	store    *sqlite.Store
	secret   string
	person   mandates.Person
	server   *ui.Server
	totp     *authn.TOTP
	service  *mandates.Service
	codes    *codeBox
	provider *authz.Provider
	journal  *journal.Journal // every act of the app is journaled, as relais serve does
	sent     *sentBox         // the codes of « Comment je reçois mes courriers » (letters_test.go)
	logs     *logBox          // what the server logs (letters_test.go)
	reset    *resetBox        // the recovery's codes and clock (recovery_test.go)
	// letterCodes opens the codes of activation letters, accountsUI is
	// what the accounts' pages were given (accounts_test.go).
	letterCodes *keyring.SecretBox
	accountsUI  *ui.Accounts
}

const (
	testEmail    = "jeanne.lefevre@example.fr"
	testPassword = "un mot de passe assez long"
)

func newOIDCApp(t *testing.T) *oidcApp {
	t.Helper()
	return newOIDCAppWithPolicy(t, nil)
}

// newOIDCAppWithPolicy is newOIDCApp deciding with policy, as relais serve
// --policy does (nil: the default policy), its logins tuned by opts.
func newOIDCAppWithPolicy(t *testing.T, policy *mandates.Policy, opts ...authn.AuthenticatorOption) *oidcApp {
	t.Helper()
	return newOIDCAppWithUpstream(t, policy, nil, opts...)
}

// newOIDCAppWithUpstream is newOIDCAppWithPolicy with the login through an
// upstream provider that upstream builds (upstream_test.go); nil: none.
func newOIDCAppWithUpstream(t *testing.T, policy *mandates.Policy, upstream func(app *oidcApp) *ui.Upstream, opts ...authn.AuthenticatorOption) *oidcApp {
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
	box, _ := keyring.NewSecretBox(key)
	keys := keyring.NewKeys(st, box, time.Now, time.Hour, 31*24*time.Hour)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	app := &oidcApp{store: st}
	person := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Jeanne", FamilyName: "Lefèvre", BirthDate: mandates.Date(1941, 3, 12),
		Email: testEmail, PasswordHash: authn.HashPassword(testPassword)}
	if err := st.CreatePerson(ctx, person); err != nil {
		t.Fatal(err)
	}
	app.person = person
	var hash string
	app.secret, hash = oauth.NewClientSecret()
	if err := st.CreateClient(ctx, oauth.Client{ID: "caf", Name: "Caisse d’allocations familiales", RedirectURIs: []string{"http://127.0.0.1/cb"},
		Scopes: []string{"openid", "identite_pivot", "email"}, GrantTypes: []string{"authorization_code"}, SecretHash: hash, SectorIdentifier: "caf.example.fr"}); err != nil {
		t.Fatal(err)
	}

	var handler http.Handler
	app.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(app.srv.Close)
	app.codes = &codeBox{last: map[string]string{}}
	app.journal = journal.New(st, journal.Options{})
	// Evaluations are journaled by group commit, as relais serve does.
	decisions := journal.NewBatcher(app.journal, st, journal.BatchOptions{})
	t.Cleanup(decisions.Close)
	app.service = mandates.NewService(st, app.journal, mandates.ServiceConfig{Codes: app.codes, Recorder: decisions, Policy: policy})
	provider, err := authz.NewProvider(authz.ProviderConfig{Issuer: app.srv.URL, SecretKey: key},
		authz.Stores{Clients: st, Tokens: st, Persons: st, Tx: st, Delegation: app.service, Subjects: st, Events: app.journal}, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	auth := authn.NewAuthenticator(st, st, authn.LoginLimits{}, nil, app.journal, st, opts...)
	app.totp = authn.NewTOTP(st, st, box, auth, authn.TOTPConfig{})
	app.provider = provider
	app.logs = &logBox{}
	var up *ui.Upstream
	if upstream != nil {
		up = upstream(app)
	}
	s, err := ui.New(ui.Options{Log: slog.New(slog.NewJSONHandler(app.logs, nil)), Store: st, Sessions: authn.JournaledSessions(st, app.journal, st, nil), OIDC: &ui.OIDC{
		Provider: provider, Auth: auth, Consents: authn.JournaledConsents(st, app.journal, st), Clients: st, TOTP: app.totp,
		Forms: authn.NewFormKeeper(box, nil), Upstream: up,
		Recovery: app.recovery(st, box, auth)},
		Mandates: &ui.Mandates{Service: app.service, Auth: auth, Journal: st, Letters: app.letters(st),
			Notices: noticesOf(t, st, app), SecondFactors: accounts.NewSecondFactorReset(app.service, st, st, app.notifier(st), nil),
			Accounts: app.accounts(st, auth, box)}})
	if err != nil {
		t.Fatal(err)
	}
	handler = s
	app.handler = s
	app.server = s
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
	if _, err := app.store.UpdateClient(ctx, "caf", func(c *oauth.Client) error {
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

// enrolTOTP turns the test person's second factor on, as the setup pages
// do, and returns the secret (as the app holds it) and the recovery codes.
func (a *oidcApp) enrolTOTP(t *testing.T) (secret string, recovery []string) {
	t.Helper()
	return a.enrolTOTPOf(t, a.person.ID)
}

// enrolTOTPOf turns on the second factor of any person of the app.
func (a *oidcApp) enrolTOTPOf(t *testing.T, personID string) (secret string, recovery []string) {
	t.Helper()
	ctx := t.Context()
	if err := a.totp.Begin(ctx, personID); err != nil {
		t.Fatal(err)
	}
	setup, err := a.totp.Setup(ctx, personID)
	if err != nil {
		t.Fatal(err)
	}
	recovery, err = a.totp.Confirm(ctx, personID, totpCode(t, setup.Secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	return setup.Secret, recovery
}

// totpCode is what the person's app shows, steps time steps from now.
// The server accepts one step either side of its clock, so a code one
// step ahead is fresh without waiting for the clock.
func totpCode(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Now().Add(time.Duration(steps)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// idTokenAMR reads the amr claim of an ID token (the signature is the
// provider's tests' concern).
func idTokenAMR(t *testing.T, tok *oauth2.Token) []string {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token %q is not a JWS", raw)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		AMR []string `json:"amr"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.AMR
}

// passwordStep posts the right password for ret and returns where Relais
// sends the browser next.
func (a *oidcApp) passwordStep(t *testing.T, c *http.Client, ret string) string {
	t.Helper()
	res, err := c.PostForm(a.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {testPassword}, "return": {ret}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("password step: %d", res.StatusCode)
	}
	return res.Header.Get("Location")
}

// codeStep posts a code to the page path and returns the response.
func (a *oidcApp) codeStep(t *testing.T, c *http.Client, path, code, ret string) (*http.Response, string) {
	t.Helper()
	res, err := c.PostForm(a.srv.URL+path, url.Values{"code": {code}, "return": {ret}})
	if err != nil {
		t.Fatal(err)
	}
	return res, readBody(t, res)
}

func TestLoginWithTOTPGivesAMRPwdOTP(t *testing.T) {
	app := newOIDCApp(t)
	secret, _ := app.enrolTOTP(t)
	c := browserClient(t)
	conf := app.conf()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-123456"))
	ret := strings.TrimPrefix(authURL, app.srv.URL)

	// The right password alone signs nobody in: it leads to the code page.
	next := app.passwordStep(t, c, ret)
	if u, _ := url.Parse(next); u == nil || u.Path != "/login/code" || u.Query().Get("return") != ret {
		t.Fatalf("after the password: to %q, want the code page", next)
	}
	if res := mustGet(t, c, authURL); !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Errorf("between password and code, authorize goes to %q, want the login page", res.Header.Get("Location"))
	}
	res, _ := c.Get(app.srv.URL + next)
	page := readBody(t, res)
	for _, want := range []string{`inputmode="numeric"`, `autocomplete="one-time-code"`, "Saisissez le code de votre application",
		`href="/login/recovery?return=`, "Utiliser un code de secours", "Caisse d’allocations familiales"} {
		if !strings.Contains(page, want) {
			t.Errorf("code page lacks %s:\n%.2000s", want, page)
		}
	}

	// A wrong code: refused, said plainly, and still no session.
	wrong := "000000"
	if wrong == totpCode(t, secret, 0) || wrong == totpCode(t, secret, 1) {
		wrong = "999999"
	}
	res, page = app.codeStep(t, c, "/login/code", wrong, ret)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, "ne correspond pas") ||
		!strings.Contains(page, `aria-invalid="true"`) {
		t.Errorf("wrong code: %d\n%.1500s", res.StatusCode, page)
	}

	code := totpCode(t, secret, 1)
	res, _ = app.codeStep(t, c, "/login/code", code, ret)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != ret {
		t.Fatalf("right code: %d to %q, want back to %q", res.StatusCode, res.Header.Get("Location"), ret)
	}
	res, _ = c.Get(app.srv.URL + ret)
	page = readBody(t, res)
	res, _ = c.PostForm(app.srv.URL+"/consent", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}, "decision": {"accept"}})
	res.Body.Close()
	res = mustGet(t, c, app.srv.URL+res.Header.Get("Location"))
	final, _ := url.Parse(res.Header.Get("Location"))
	if final == nil || final.Query().Get("code") == "" {
		t.Fatalf("after consent: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok, err := conf.Exchange(t.Context(), final.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	// RFC 8176: the code is a one-time password, and with the password
	// the login is multi-factor.
	if amr := idTokenAMR(t, tok); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr = %q, want [pwd otp mfa]", amr)
	}

	// The same code, on another browser after the same password: refused.
	other := browserClient(t)
	app.passwordStep(t, other, ret)
	res, page = app.codeStep(t, other, "/login/code", code, ret)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "déjà servi") {
		t.Errorf("replayed code: %d\n%.1500s", res.StatusCode, page)
	}
}

func TestLoginWithoutTOTPGivesAMRPwd(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	conf := app.conf()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier))
	ret := strings.TrimPrefix(authURL, app.srv.URL)
	if next := app.passwordStep(t, c, ret); next != ret {
		t.Fatalf("without a second factor: to %q, want straight back", next)
	}
	res, _ := c.Get(app.srv.URL + ret)
	page := readBody(t, res)
	res, _ = c.PostForm(app.srv.URL+"/consent", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}, "decision": {"accept"}})
	res.Body.Close()
	res = mustGet(t, c, app.srv.URL+res.Header.Get("Location"))
	final, _ := url.Parse(res.Header.Get("Location"))
	tok, err := conf.Exchange(t.Context(), final.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if amr := idTokenAMR(t, tok); !slices.Equal(amr, []string{"pwd"}) {
		t.Errorf("amr = %q, want [pwd]", amr)
	}
}

func TestRecoveryCodeSignsInOnce(t *testing.T) {
	app := newOIDCApp(t)
	_, recovery := app.enrolTOTP(t)
	c := browserClient(t)
	next := app.passwordStep(t, c, "/")
	res, _ := c.Get(app.srv.URL + strings.Replace(next, "/login/code", "/login/recovery", 1))
	page := readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "Code de secours") || !strings.Contains(page, `action="/login/recovery"`) {
		t.Fatalf("recovery page: %d\n%.1500s", res.StatusCode, page)
	}
	// Typed from paper: capitals and spaces.
	typed := strings.ToUpper(strings.ReplaceAll(recovery[0], "-", " "))
	res, _ = app.codeStep(t, c, "/login/recovery", typed, "/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("recovery code: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if !strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), ";"), "relais_session=") {
		t.Errorf("no session cookie after the recovery code: %q", res.Header.Values("Set-Cookie"))
	}
	// The pending login is spent: the same browser, signed in with the
	// second factor now, is sent on, and no second session is made (nor
	// is the code used up: it serves below).
	res, page = app.codeStep(t, c, "/login/recovery", recovery[1], "/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" || strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), ";"), "relais_session=") {
		t.Errorf("finished pending login used again: %d to %q, cookies %q\n%.1200s", res.StatusCode, res.Header.Get("Location"), res.Header.Values("Set-Cookie"), page)
	}

	other := browserClient(t)
	app.passwordStep(t, other, "/")
	res, page = app.codeStep(t, other, "/login/recovery", recovery[0], "/")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "déjà servi") || !strings.Contains(page, `role="alert"`) {
		t.Errorf("recovery code used twice: %d\n%.1500s", res.StatusCode, page)
	}
	res, _ = app.codeStep(t, other, "/login/recovery", recovery[1], "/")
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("another recovery code: %d", res.StatusCode)
	}
}

func TestCodePageWithoutPendingLoginAsksForThePassword(t *testing.T) {
	app := newOIDCApp(t)
	app.enrolTOTP(t)
	c := browserClient(t)
	res, page := app.codeStep(t, c, "/login/code", "123456", "/")
	if res.StatusCode != 200 || !strings.Contains(page, `name="password"`) || !strings.Contains(page, "plus de 15 minutes") {
		t.Errorf("code without a pending login: %d\n%.1500s", res.StatusCode, page)
	}
	if strings.Contains(page, `aria-invalid="true"`) {
		t.Error("the fields are marked invalid although the person typed nothing wrong")
	}
}

func TestTOTPSetupPages(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	// Not signed in: the login page, then back here.
	res := mustGet(t, c, app.srv.URL+"/compte/double-authentification")
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") {
		t.Fatalf("not signed in: %d to %q", res.StatusCode, loc)
	}
	app.passwordStep(t, c, "/compte/double-authentification")
	res, _ = c.Get(app.srv.URL + "/compte/double-authentification")
	page := readBody(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, `action="/compte/double-authentification/commencer"`) {
		t.Fatalf("setup page before start: %d\n%.1500s", res.StatusCode, page)
	}
	if res := mustGet(t, c, app.srv.URL+"/compte/double-authentification/qr.png"); res.StatusCode != http.StatusNotFound {
		t.Errorf("QR code before start: %d, want 404", res.StatusCode)
	}
	res, _ = c.PostForm(app.srv.URL+"/compte/double-authentification/commencer", nil)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", res.StatusCode)
	}
	res, _ = c.Get(app.srv.URL + "/compte/double-authentification")
	page = readBody(t, res)
	secret := strings.ReplaceAll(between(page, `<span class="totp-secret__text" aria-hidden="true">`, "<"), " ", "")
	for _, want := range []string{`src="/compte/double-authentification/qr.png"`, `alt="Code QR pour ajouter`, `href="otpauth://totp/`,
		`class="sr-only">` + strings.Join(strings.Split(secret[:4], ""), " ") + ", "} {
		if !strings.Contains(page, want) {
			t.Errorf("setup page lacks %s:\n%.3000s", want, page)
		}
	}
	if len(secret) != 32 {
		t.Fatalf("secret written out as %q", secret)
	}
	res, _ = c.Get(app.srv.URL + "/compte/double-authentification/qr.png")
	img := readBody(t, res)
	if res.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(img, "\x89PNG") || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("QR code: %s %q %q", res.Status, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	// Until confirmed, logins need no code.
	if next := app.passwordStep(t, browserClient(t), "/"); next != "/" {
		t.Errorf("before confirmation, login goes to %q", next)
	}

	res, page = app.codeStep(t, c, "/compte/double-authentification", "12345", "")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `role="alert"`) || !strings.Contains(page, `src="/compte/double-authentification/qr.png"`) {
		t.Errorf("wrong first code: %d\n%.1500s", res.StatusCode, page)
	}
	res, page = app.codeStep(t, c, "/compte/double-authentification", totpCode(t, secret, 0), "")
	if res.StatusCode != 200 || strings.Count(page, `<span class="recovery-codes__text" aria-hidden="true">`) != 10 || !strings.Contains(page, "papier") {
		t.Fatalf("confirmation: %d\n%.3000s", res.StatusCode, page)
	}
	first := between(page, `<span class="recovery-codes__text" aria-hidden="true">`, "<")

	// Now on: the page says so, the secret and its QR code are gone, and
	// login needs a code.
	res, _ = c.Get(app.srv.URL + "/compte/double-authentification")
	page = readBody(t, res)
	if !strings.Contains(page, "est active") || strings.Contains(page, secret[:4]+" ") || !strings.Contains(page, "10 sur 10") {
		t.Errorf("page once on:\n%.2000s", page)
	}
	if res := mustGet(t, c, app.srv.URL+"/compte/double-authentification/qr.png"); res.StatusCode != http.StatusNotFound {
		t.Errorf("QR code once on: %d, want 404", res.StatusCode)
	}
	if next := app.passwordStep(t, browserClient(t), "/"); !strings.HasPrefix(next, "/login/code?") {
		t.Errorf("once on, login goes to %q, want the code page", next)
	}

	// Turning it off needs a code; a recovery code will do.
	res, page = app.codeStep(t, c, "/compte/double-authentification/arreter", "abcd-efgh-jkmn", "")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(page, `role="alert"`) {
		t.Errorf("turn off with a wrong code: %d\n%.1500s", res.StatusCode, page)
	}
	res, _ = app.codeStep(t, c, "/compte/double-authentification/arreter", first, "")
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/compte/double-authentification?") {
		t.Fatalf("turn off: %d to %q", res.StatusCode, loc)
	}
	res, _ = c.Get(app.srv.URL + res.Header.Get("Location"))
	if page := readBody(t, res); !strings.Contains(page, `role="status"`) || !strings.Contains(page, "arrêté") {
		t.Errorf("after turning off:\n%.1500s", page)
	}
	if next := app.passwordStep(t, browserClient(t), "/"); next != "/" {
		t.Errorf("once off, login goes to %q", next)
	}
}

// TestTOTPSetupNeedsARecentLogin: a session left open for a while cannot
// tie the account to another phone; the password comes first.
func TestTOTPSetupNeedsARecentLogin(t *testing.T) {
	app := newOIDCApp(t)
	token, id := authn.NewSessionToken()
	old := time.Now().Add(-time.Hour)
	if err := app.store.CreateSession(t.Context(), authn.BrowserSession{ID: id, PersonID: app.person.ID, AuthTime: old, AMR: []string{"pwd"},
		CreatedAt: old, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c := browserClient(t)
	u, _ := url.Parse(app.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "relais_session", Value: token, Path: "/"}})
	res, _ := c.PostForm(app.srv.URL+"/compte/double-authentification/commencer", nil)
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") {
		t.Errorf("start with an hour-old login: %d to %q, want the login page", res.StatusCode, loc)
	}
	if st, err := app.totp.Status(t.Context(), app.person.ID); err != nil || st.Started {
		t.Errorf("an hour-old login started the setup: %+v, %v", st, err)
	}
}

// TestLoginReturnNeverLeavesTheSite: a link to the login page whose
// return names another site (by a tab, a line break or a backslash a
// browser reads as "//") sends the person home after login, not to the
// attacker (RFC 9700 §4.11).
func TestLoginReturnNeverLeavesTheSite(t *testing.T) {
	app := newOIDCApp(t)
	for _, ret := range []string{"/\t/evil.example", "/\r\n/evil.example", "/\\evil.example", "//evil.example", "https://evil.example/"} {
		t.Run(fmt.Sprintf("%q", ret), func(t *testing.T) {
			c := browserClient(t)
			page := readBody(t, mustGet(t, c, app.srv.URL+"/login?"+url.Values{"return": {ret}}.Encode()))
			if strings.Contains(page, "evil.example") {
				t.Errorf("the login form carries the foreign return:\n%.800s", page)
			}
			res, err := c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {testPassword}, "return": {ret}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
				t.Errorf("after login: %d to %q, want 303 to /", res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}
