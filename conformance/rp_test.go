package conformance

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// metadata is the issuer's discovery document, fetched once per target.
func (tg *target) metadata(t testing.TB) map[string]any {
	t.Helper()
	tg.metaMu.Lock()
	defer tg.metaMu.Unlock()
	if tg.meta != nil {
		return tg.meta
	}
	res, body := tg.get(t, tg.issuer+"/.well-known/openid-configuration", "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d %.300s", res.StatusCode, body)
	}
	m := map[string]any{}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("discovery is not JSON: %v", err)
	}
	tg.meta = m
	return m
}

// endpoint is an endpoint URL from discovery.
func (tg *target) endpoint(t testing.TB, name string) string {
	t.Helper()
	u, _ := tg.metadata(t)[name].(string)
	if u == "" {
		t.Fatalf("discovery has no %s", name)
	}
	return u
}

// oauth is the oauth2 configuration of c with the issuer's endpoints.
func (tg *target) oauth(t testing.TB, c *rp, scopes ...string) *oauth2.Config {
	conf := tg.config(c, scopes...)
	conf.Endpoint.AuthURL = tg.endpoint(t, "authorization_endpoint")
	conf.Endpoint.TokenURL = tg.endpoint(t, "token_endpoint")
	return conf
}

func (tg *target) provider(t testing.TB) *oidc.Provider {
	t.Helper()
	p, err := oidc.NewProvider(tg.ctx(t), tg.issuer)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	return p
}

// get fetches u, with a bearer token when one is given.
func (tg *target) get(t testing.TB, u, bearer string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return tg.do(t, req)
}

func (tg *target) do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := tg.http(t).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Redacted(), err)
	}
	return res, body
}

// postRaw sends body to u as a form, authenticating as c the way c is
// registered (nil: no authentication at all).
func (tg *target) postRaw(t testing.TB, u string, c *rp, body string) (*http.Response, map[string]any) {
	t.Helper()
	if c != nil && c.AuthStyle == oauth2.AuthStyleInParams {
		add := url.Values{"client_id": {c.ID}}
		if c.Secret != "" {
			add.Set("client_secret", c.Secret)
		}
		if body != "" {
			body += "&"
		}
		body += add.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c != nil && c.AuthStyle == oauth2.AuthStyleInHeader {
		// RFC 6749 §2.3.1: form-encode the id and secret before Basic.
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	res, b := tg.do(t, req)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	if len(m) == 0 && len(b) > 0 {
		m["_body"] = string(b)
	}
	return res, m
}

func (tg *target) post(t testing.TB, u string, c *rp, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	return tg.postRaw(t, u, c, form.Encode())
}

// introspector is the client that asks the introspection endpoint.
func (tg *target) introspector() *rp { return tg.clients[roleWeb] }

// introspect asks whether token is active (RFC 7662), as the token's own
// client: only the token's client or audience learns anything of it.
func (tg *target) introspect(t testing.TB, token string) map[string]any {
	t.Helper()
	return tg.introspectAs(t, tg.ownerOf(token), token)
}

// ownerOf is the client a JWT access token names in client_id (RFC 9068
// §2.2), when the suite knows it; else the main client.
func (tg *target) ownerOf(token string) *rp {
	parts := strings.Split(token, ".")
	if len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var c struct {
				ClientID string `json:"client_id"`
			}
			if json.Unmarshal(b, &c) == nil {
				for _, r := range tg.clients {
					if r.ID == c.ClientID && r.Secret != "" {
						return r
					}
				}
			}
		}
	}
	return tg.introspector()
}

// introspectAs asks as client c: a resource server asks about the tokens
// presented to it, and only it (or the token's client) learns who acts.
func (tg *target) introspectAs(t testing.TB, c *rp, token string) map[string]any {
	t.Helper()
	res, m := tg.post(t, tg.endpoint(t, "introspection_endpoint"), c, url.Values{"token": {token}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("introspection: %d %v", res.StatusCode, m)
	}
	return m
}

func (tg *target) active(t testing.TB, token string) bool {
	t.Helper()
	return tg.introspect(t, token)["active"] == true
}

// flow is one authorization request and what came back.
type flow struct {
	client   *rp
	conf     *oauth2.Config
	verifier string
	state    string
	nonce    string
	visit    Visit
	callback url.Values
}

func (f *flow) code() string { return f.callback.Get("code") }

// random is a value with 128 bits of entropy.
func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize sends b through a code flow with PKCE S256 for c and accepts
// on the consent page; opts add to or replace the request's parameters.
func (tg *target) authorize(t testing.TB, b *Browser, c *rp, opts ...oauth2.AuthCodeOption) *flow {
	t.Helper()
	f := tg.startFlow(t, b, c, Accept, opts...)
	if f.code() == "" {
		t.Fatalf("authorization for %s: no code in %v", c.ID, f.callback)
	}
	if got := f.callback.Get("state"); got != f.state {
		t.Fatalf("authorization for %s: state %q, want %q", c.ID, got, f.state)
	}
	return f
}

// startFlow is authorize without the checks: the callback may be an error.
func (tg *target) startFlow(t testing.TB, b *Browser, c *rp, decision string, opts ...oauth2.AuthCodeOption) *flow {
	t.Helper()
	return tg.startFlowAs(t, b, c, tg.account, decision, opts...)
}

// startFlowAs is startFlow for another account.
func (tg *target) startFlowAs(t testing.TB, b *Browser, c *rp, acc Account, decision string, opts ...oauth2.AuthCodeOption) *flow {
	t.Helper()
	f := &flow{client: c, conf: tg.oauth(t, c), verifier: oauth2.GenerateVerifier(), state: random(), nonce: random()}
	all := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce)}, opts...)
	authURL := f.conf.AuthCodeURL(f.state, all...)
	// An option may have replaced the state: the request says what it is.
	if u, err := url.Parse(authURL); err == nil {
		f.state = u.Query().Get("state")
	}
	v, err := b.Authorize(t.Context(), authURL, c.RedirectURI, acc, decision)
	if err != nil {
		t.Fatalf("authorization for %s: %v", c.ID, err)
	}
	f.visit, f.callback = v, v.Callback.Query()
	return f
}

// exchange redeems the flow's code with its verifier.
func (tg *target) exchange(t testing.TB, f *flow) *oauth2.Token {
	t.Helper()
	tok, err := f.conf.Exchange(tg.ctx(t), f.code(), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("code exchange for %s: %v", f.client.ID, err)
	}
	return tok
}

// login runs a whole code flow for c in a fresh browser.
func (tg *target) login(t testing.TB, c *rp, opts ...oauth2.AuthCodeOption) (*flow, *oauth2.Token) {
	t.Helper()
	f := tg.authorize(t, tg.browser(t), c, opts...)
	return f, tg.exchange(t, f)
}

// verifyID checks the ID token of tok for c with go-oidc and the nonce.
func (tg *target) verifyID(t testing.TB, c *rp, tok *oauth2.Token, nonce string, algs ...string) *oidc.IDToken {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatalf("no id_token in the token response for %s", c.ID)
	}
	if len(algs) == 0 {
		algs = stringList(tg.metadata(t)["id_token_signing_alg_values_supported"])
	}
	idt, err := tg.provider(t).Verifier(&oidc.Config{ClientID: c.ID, SupportedSigningAlgs: algs}).Verify(tg.ctx(t), raw)
	if err != nil {
		t.Fatalf("ID token for %s does not verify: %v", c.ID, err)
	}
	if nonce != "" && idt.Nonce != nonce {
		t.Errorf("ID token nonce %q, want %q", idt.Nonce, nonce)
	}
	return idt
}

// refresh uses a refresh token once.
func (tg *target) refresh(t testing.TB, c *rp, refreshToken string) (*oauth2.Token, error) {
	t.Helper()
	expired := &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}
	return tg.oauth(t, c).TokenSource(tg.ctx(t), expired).Token()
}

// oauthError is the error code of a failed token request.
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// clientCredentials gets a token for the service client.
func (tg *target) clientCredentials(t testing.TB, scope string) (*http.Response, map[string]any) {
	t.Helper()
	return tg.post(t, tg.endpoint(t, "token_endpoint"), tg.clients[roleService],
		url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
}

// someAccessToken is a live access token of the web client, got without
// a login where the issuer allows it.
func (tg *target) someAccessToken(t testing.TB) string {
	t.Helper()
	_, tok := tg.login(t, tg.clients[roleWeb])
	return tok.AccessToken
}

// decodeJWT returns the header and claims of a compact JWS, unverified.
func decodeJWT(t testing.TB, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("%.40s… is not a compact JWS (%d parts)", raw, len(parts))
	}
	dec := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("JWS part is not base64url: %v", err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("JWS part is not a JSON object: %v", err)
		}
		return m
	}
	return dec(parts[0]), dec(parts[1])
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// audience reads aud, a string or a list (RFC 7519 §4.1.3).
func audience(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return stringList(v)
}

func hasAll(have []string, want ...string) []string {
	var missing []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			missing = append(missing, w)
		}
	}
	return missing
}

// noStore checks RFC 6749 §5.1's Cache-Control on a token answer.
func noStore(t testing.TB, what string, res *http.Response) {
	t.Helper()
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(strings.ToLower(cc), "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store (RFC 6749 §5.1)", what, cc)
	}
}

// wantError checks a JSON error answer's status and code.
func wantError(t testing.TB, what string, res *http.Response, m map[string]any, status int, code string) {
	t.Helper()
	if res.StatusCode != status || m["error"] != code {
		t.Errorf("%s: %d %v, want %d %s", what, res.StatusCode, m, status, code)
	}
}

// authorizeOnce sends a browser-less GET to the authorization endpoint and
// returns the answer without following it.
func (tg *target) authorizeOnce(t testing.TB, query url.Values) (*http.Response, []byte) {
	t.Helper()
	u := tg.endpoint(t, "authorization_endpoint") + "?" + query.Encode()
	return tg.get(t, u, "")
}

// baseQuery is a valid authorization request of c, PKCE included.
func baseQuery(c *rp) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.RedirectURI}, "scope": {"openid"},
		"state": {random()}, "nonce": {random()},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
	}
}

// redirectedTo reads the query of a redirect to c's redirect URI.
func redirectedTo(res *http.Response, c *rp) (url.Values, bool) {
	if res.StatusCode < 300 || res.StatusCode >= 400 {
		return nil, false
	}
	loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
	if err != nil {
		return nil, false
	}
	want, err := url.Parse(c.RedirectURI)
	if err != nil || !sameEndpoint(loc, want) {
		return nil, false
	}
	return loc.Query(), true
}
