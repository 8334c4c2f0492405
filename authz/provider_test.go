package authz_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

// flow is a provider on a real embedded store, served over HTTP, with an
// authorization endpoint that logs in one person without pages: the pages
// have their own tests; this one is about the protocol.
type flow struct {
	srv      *httptest.Server
	store    *sqlite.Store
	provider *authz.Provider
	person   mandates.Person
	client   oauth.Client
	secret   string
	now      time.Time
	// login is who the authorization endpoint logs in: the flow's person,
	// unless a test has them act for someone.
	login authz.Login
}

func newFlow(t *testing.T) *flow { return newFlowWith(t, nil) }

// newFlowWith lets a test change the provider's settings.
func newFlowWith(t *testing.T, configure func(*authz.ProviderConfig)) *flow {
	t.Helper()
	return newFlowEvents(t, configure, nil)
}

// newFlowEvents journals the provider's acts in events, made on the
// flow's store.
func newFlowEvents(t testing.TB, configure func(*authz.ProviderConfig), events func(*sqlite.Store) mandates.EventSink) *flow {
	t.Helper()
	return newFlowStores(t, configure, func(st *sqlite.Store, s *authz.Stores) {
		if events != nil {
			s.Events = events(st)
		}
	})
}

// newFlowStores lets a test add to the provider's stores (a journal, the
// representation service), made on the flow's store.
func newFlowStores(t testing.TB, configure func(*authz.ProviderConfig), add func(*sqlite.Store, *authz.Stores)) *flow {
	t.Helper()
	ctx := t.Context()
	st := sqlitetest.Migrated(t)
	f := &flow{store: st, now: time.Now()}
	key := make([]byte, 32)
	rand.Read(key)
	box, err := keyring.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	keys := keyring.NewKeys(st, box, time.Now, time.Hour, 31*24*time.Hour)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}

	f.person = mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Jeanne Odette", FamilyName: "Lefèvre", PreferredName: "Martin",
		BirthDate: mandates.Date(1941, 3, 12), BirthPlace: mandates.Place{Code: "69123", Label: "Lyon"}, BirthCountry: "99100",
		Gender: mandates.GenderFemale, Email: "jeanne@example.fr", Language: "fr"}
	if err := st.CreatePerson(ctx, f.person); err != nil {
		t.Fatal(err)
	}
	f.login = authz.Login{PersonID: f.person.ID, AMR: []string{"pwd"}}

	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)

	var hash string
	f.secret, hash = oauth.NewClientSecret()
	f.client = oauth.Client{ID: "caf", Name: "CAF", RedirectURIs: []string{"http://127.0.0.1/cb"},
		Scopes:     []string{"openid", "profile", "email", "identite_pivot", "birthplace", "birthcountry", "offline_access"},
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}, SectorIdentifier: "caf.example.fr", SecretHash: hash}
	if err := st.CreateClient(ctx, f.client); err != nil {
		t.Fatal(err)
	}
	f.client, _ = st.Client(ctx, "caf")

	cfg := authz.ProviderConfig{Issuer: f.srv.URL, SecretKey: key}
	if configure != nil {
		configure(&cfg)
	}
	stores := authz.Stores{Clients: st, Tokens: st, Persons: st, Tx: st, Events: mandatestest.Discard{}}
	if add != nil {
		add(st, &stores)
	}
	f.provider, err = authz.NewProvider(cfg, stores, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range f.provider.Endpoints() {
		mux.Handle(e.Path, e.Handler)
	}
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		a, err := f.provider.ParseAuthorize(r.Context(), r)
		if err != nil {
			if !f.provider.AuthorizeError(w, r, a, err) {
				http.Error(w, "error page: "+err.Error(), http.StatusBadRequest)
			}
			return
		}
		login := f.login
		login.AuthTime = time.Now()
		f.provider.Authorize(w, r, a, login)
	})
	return f
}

func (f *flow) oauth2Config(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: f.client.ID, ClientSecret: f.secret, RedirectURL: "http://127.0.0.1/cb", Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: f.srv.URL + "/authorize", TokenURL: f.srv.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize follows the authorization endpoint once and returns the
// redirect's query.
func (f *flow) authorize(t testing.TB, authURL string) url.Values {
	t.Helper()
	res, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("authorize: %d %s", res.StatusCode, b)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

func TestCodeFlowWithPKCE(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	conf := f.oauth2Config("openid", "identite_pivot", "email", "offline_access")
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-123456")))
	if q.Get("state") != "state-123456" || q.Get("code") == "" || q.Get("iss") != f.srv.URL {
		t.Fatalf("redirect query %v", q)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}

	provider, err := oidc.NewProvider(ctx, f.srv.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: f.client.ID, SupportedSigningAlgs: []string{"ES256"}}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var idClaims map[string]any
	idt.Claims(&idClaims)
	if idt.Nonce != "nonce-123456" || idClaims["acr"] != "eidas1" || idt.Subject == f.person.ID {
		t.Errorf("ID token claims %v (sub must be pairwise, not the local id)", idClaims)
	}
	if want := f.provider.Subject(f.client, f.person.ID); idt.Subject != want {
		t.Errorf("sub %s, want %s", idt.Subject, want)
	}

	// RFC 9068 access token.
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %s", tok.AccessToken)
	}
	header, payload := decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
	if header["typ"] != "at+jwt" || header["kid"] == nil || header["alg"] != "ES256" {
		t.Errorf("access token header %v", header)
	}
	if payload["client_id"] != "caf" || payload["sub"] != idt.Subject || payload["jti"] == nil || payload["iss"] != f.srv.URL {
		t.Errorf("access token claims %v", payload)
	}
	if s, ok := payload["scope"].(string); !ok || !strings.Contains(s, "identite_pivot") {
		t.Errorf("scope claim %v is not a space-separated string", payload["scope"])
	}
	if aud, _ := payload["aud"].([]any); len(aud) == 0 {
		t.Errorf("aud %v is empty", payload["aud"])
	}

	// Userinfo with FranceConnect's claim names.
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var claims map[string]any
	ui.Claims(&claims)
	for k, v := range map[string]any{"given_name": "Jeanne Odette", "family_name": "Lefèvre", "birthdate": "1941-03-12",
		"gender": "female", "birthplace": "69123", "birthcountry": "99100", "email": "jeanne@example.fr", "sub": idt.Subject} {
		if claims[k] != v {
			t.Errorf("userinfo %s = %v, want %v", k, claims[k], v)
		}
	}
	if _, ok := claims["preferred_username"]; ok {
		t.Error("preferred_username given without profile scope")
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}

	// A second use of the code is refused.
	if _, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("code reuse: %v, want invalid_grant", err)
	}
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	f := newFlow(t)
	ctx := context.Background()
	conf := f.oauth2Config("openid", "offline_access")
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-123456")))
	first, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	second := refresh(t, f, first.RefreshToken)
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh token not rotated: %+v", second)
	}
	// The old refresh token again: reuse. The whole family dies.
	if _, err := refreshErr(f, first.RefreshToken); !isOAuthError(err, "invalid_grant") {
		t.Errorf("reuse: %v, want invalid_grant", err)
	}
	if _, err := refreshErr(f, second.RefreshToken); err == nil {
		t.Error("after reuse, the newest refresh token still works")
	}
	if active := introspect(t, f, second.AccessToken); active {
		t.Error("after reuse, the newest access token is still active")
	}
}

func TestPKCEIsRequiredAndPlainRefused(t *testing.T) {
	f := newFlow(t)
	conf := f.oauth2Config("openid")
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"no PKCE":    nil,
		"plain PKCE": {oauth2.SetAuthURLParam("code_challenge", "a-plain-challenge-long-enough-1234567890abc"), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
	} {
		q := f.authorize(t, conf.AuthCodeURL("state-123456", opts...))
		if q.Get("error") != "invalid_request" || q.Get("code") != "" {
			t.Errorf("%s: redirect %v, want invalid_request", name, q)
		}
	}
}

func TestUnknownClientOrRedirectIsNeverRedirected(t *testing.T) {
	f := newFlow(t)
	for name, target := range map[string]string{
		"unknown client":      "/authorize?response_type=code&client_id=nope&redirect_uri=http://127.0.0.1/cb&state=state-123456",
		"trailing slash":      "/authorize?response_type=code&client_id=caf&redirect_uri=http://127.0.0.1/cb/&state=state-123456",
		"other case":          "/authorize?response_type=code&client_id=caf&redirect_uri=http://127.0.0.1/CB&state=state-123456",
		"extra query":         "/authorize?response_type=code&client_id=caf&redirect_uri=http://127.0.0.1/cb%3Fx%3D1&state=state-123456",
		"attacker's redirect": "/authorize?response_type=code&client_id=caf&redirect_uri=https://evil.example/cb&state=state-123456",
	} {
		res, err := noRedirect.Get(f.srv.URL + target)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Errorf("%s: %d to %q, want an error page", name, res.StatusCode, res.Header.Get("Location"))
		}
	}
}

func TestClientCredentialsAndIntrospection(t *testing.T) {
	f := newFlow(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}
	req, _ := http.NewRequest("POST", f.srv.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("caf", f.secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("client credentials: %d %v", res.StatusCode, body)
	}
	at, _ := body["access_token"].(string)
	if !introspect(t, f, at) {
		t.Error("a fresh token is not active")
	}
	revoke(t, f, at)
	if introspect(t, f, at) {
		t.Error("a revoked token is still active")
	}

	req, _ = http.NewRequest("POST", f.srv.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("caf", "wrong")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("wrong secret: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
}

func decodeSegment(t *testing.T, s string) map[string]any {
	t.Helper()
	b, err := base64URL(s)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	if ok := asRetrieve(err, &re); !ok {
		return false
	}
	return re.ErrorCode == code
}

func refreshErr(f *flow, rt string) (*oauth2.Token, error) {
	conf := f.oauth2Config()
	return conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
}

func refresh(t *testing.T, f *flow, rt string) *oauth2.Token {
	t.Helper()
	tok, err := refreshErr(f, rt)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return tok
}

func postForm(t *testing.T, f *flow, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("caf", f.secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]any{}
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func introspect(t *testing.T, f *flow, token string) bool {
	t.Helper()
	code, m := postForm(t, f, "/introspect", url.Values{"token": {token}})
	if code != 200 {
		t.Fatalf("introspect: %d %v", code, m)
	}
	return m["active"] == true
}

func revoke(t *testing.T, f *flow, token string) {
	t.Helper()
	if code, m := postForm(t, f, "/revoke", url.Values{"token": {token}}); code != 200 {
		t.Fatalf("revoke: %d %v", code, m)
	}
}

// TestExpiredCodeIsRefused: a code past its lifetime is invalid_grant. The
// lifetime is set to a millisecond, which the HTTP round trip outlasts.
func TestExpiredCodeIsRefused(t *testing.T) {
	f := newFlowWith(t, func(c *authz.ProviderConfig) { c.CodeTTL = time.Millisecond })
	conf := f.oauth2Config("openid")
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)))
	time.Sleep(5 * time.Millisecond) // past a 1 ms lifetime, whatever the machine
	if _, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("expired code: %v, want invalid_grant", err)
	}
}
