package authz_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/relais-fr/relais/authz/oauth"
)

// jarSite is a private_key_jwt site that signs request objects.
type jarSite struct {
	f   *flow
	id  string
	key *ecdsa.PrivateKey
	kid string
}

func newJARSite(t *testing.T, f *flow, id string, require bool) *jarSite {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: id + "-1", Algorithm: "ES256", Use: "sig"}}})
	f.addClient(t, oauth.Client{ID: id, Name: "Site " + id, RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid", "profile"},
		GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT, JWKS: string(set),
		RequireSignedRequestObject: require})
	return &jarSite{f: f, id: id, key: key, kid: id + "-1"}
}

// claims are a valid request object's claims, changed by change.
func (s *jarSite) claims(change func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": s.id, "aud": s.f.srv.URL, "client_id": s.id, "response_type": "code", "redirect_uri": "http://127.0.0.1/cb",
		"scope": "openid profile", "state": "state-from-object", "nonce": "nonce-123456", "max_age": 600,
		"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": "jti-1"}
	if change != nil {
		change(c)
	}
	return c
}

func (s *jarSite) sign(t *testing.T, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithHeader("kid", s.kid).WithType("oauth-authz-req+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// unsigned is claims as a JWT with alg none (RFC 7519 §6).
func unsigned(claims map[string]any, alg string) string {
	h, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	b, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// send goes to /authorize with query and returns the redirect's query,
// or fails when Relais shows an error page instead.
func (s *jarSite) send(t *testing.T, query url.Values) url.Values {
	t.Helper()
	return s.f.authorize(t, s.f.srv.URL+"/authorize?"+query.Encode())
}

func TestRequestObjects(t *testing.T) {
	f := newFlow(t)
	site := newJARSite(t, f, "impots", false)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signed := func(change func(map[string]any)) string { return site.sign(t, site.key, site.claims(change)) }
	query := func(request string) url.Values {
		// Parameters beside the object are ignored (RFC 9101 §6.3), the
		// state included: the answer carries the object's.
		return url.Values{"client_id": {"impots"}, "request": {request}, "response_type": {"code"}, "scope": {"openid"}, "state": {"state-from-query"},
			"redirect_uri": {"http://127.0.0.1/cb"}}
	}

	q := site.send(t, query(signed(nil)))
	if q.Get("code") == "" || q.Get("state") != "state-from-object" {
		t.Fatalf("a signed request object: %v, want a code and the object's state", q)
	}

	tests := []struct {
		name    string
		request string
		want    string
	}{
		{"alg none", unsigned(site.claims(nil), "none"), "invalid_request_object"},
		{"no signature under an ES256 header", unsigned(site.claims(nil), "ES256"), "invalid_request_object"},
		{"plain JSON", base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"impots"}`)), "invalid_request_object"},
		{"signed with another key", site.sign(t, other, site.claims(nil)), "invalid_request_object"},
		{"issued by another client", signed(func(c map[string]any) { c["iss"] = "caf" }), "invalid_request_object"},
		{"without iss", signed(func(c map[string]any) { delete(c, "iss") }), "invalid_request_object"},
		{"for another audience", signed(func(c map[string]any) { c["aud"] = "https://other.example" }), "invalid_request_object"},
		{"without aud", signed(func(c map[string]any) { delete(c, "aud") }), "invalid_request_object"},
		{"expired", signed(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Second).Unix() }), "invalid_request_object"},
		{"without exp", signed(func(c map[string]any) { delete(c, "exp") }), "invalid_request_object"},
		{"with an exp more than an hour away", signed(func(c map[string]any) { c["exp"] = time.Now().Add(61 * time.Minute).Unix() }), "invalid_request_object"},
		{"not yet valid", signed(func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), "invalid_request_object"},
		{"issued in the future", signed(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }), "invalid_request_object"},
		{"for another client_id", signed(func(c map[string]any) { c["client_id"] = "caf" }), "invalid_request_object"},
		{"holding a request_uri", signed(func(c map[string]any) { c["request_uri"] = "urn:ietf:params:oauth:request_uri:x" }), "invalid_request_object"},
		{"without PKCE", signed(func(c map[string]any) { delete(c, "code_challenge") }), "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := site.send(t, query(tt.request))
			if q.Get("error") != tt.want || q.Get("code") != "" || q.Get("state") != "state-from-query" && q.Get("state") != "state-from-object" ||
				q.Get("iss") != f.srv.URL {
				t.Errorf("%v, want %s with a state and iss", q, tt.want)
			}
		})
	}

	t.Run("the query's client_id must be given", func(t *testing.T) {
		res, err := noRedirect.Get(f.srv.URL + "/authorize?" + url.Values{"request": {signed(nil)}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Errorf("%d to %q, want the error page", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

// A client with no keys cannot sign a request object: RFC 9101 §6.3's
// request_not_supported goes to its registered redirect URI with the
// state and iss, where it got Relais's 400 page.
func TestARequestObjectFromAClientWithoutKeysIsNotSupported(t *testing.T) {
	f := newFlow(t)
	site := &jarSite{f: f, id: "caf", kid: "k"}
	site.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, query := range map[string]url.Values{
		"the redirect URI in the query": {"client_id": {"caf"}, "redirect_uri": {"http://127.0.0.1/cb"}, "response_type": {"code"},
			"state": {"state-123456"}, "request": {site.sign(t, site.key, site.claims(nil))}},
		"the redirect URI in the object only": {"client_id": {"caf"}, "request": {site.sign(t, site.key, site.claims(func(c map[string]any) { c["state"] = "state-123456" }))}},
	} {
		q := site.send(t, query)
		if q.Get("error") != "request_not_supported" || q.Get("state") != "state-123456" || q.Get("iss") != f.srv.URL {
			t.Errorf("%s: %v, want request_not_supported with the state and iss", name, q)
		}
	}
}

// A client registered with require_signed_request_object (RFC 9101
// §10.5) is refused a plain request, and a request object's parameters
// sent back as plain ones (after login or consent) only unchanged.
func TestAClientThatRequiresSignedRequestObjects(t *testing.T) {
	f := newFlow(t)
	site := newJARSite(t, f, "impots", true)
	plain := authorizeParams(map[string]string{"client_id": "impots", "scope": "openid profile"})
	if q := site.send(t, plain); q.Get("error") != "invalid_request" || q.Get("code") != "" {
		t.Errorf("a plain request: %v, want invalid_request", q)
	}
	if q := site.send(t, url.Values{"client_id": {"impots"}, "request": {unsigned(site.claims(nil), "none")}}); q.Get("error") != "invalid_request_object" {
		t.Errorf("alg none: %v, want invalid_request_object", q)
	}
	if q := site.send(t, url.Values{"client_id": {"impots"}, "request": {site.sign(t, site.key, site.claims(nil))}}); q.Get("code") == "" {
		t.Fatalf("a signed request object: %v, want a code", q)
	}

	// What the pages send back to /authorize: the verified parameters.
	r, _ := http.NewRequest(http.MethodGet, "/authorize?"+url.Values{"client_id": {"impots"}, "request": {site.sign(t, site.key, site.claims(nil))}}.Encode(), nil)
	a, err := f.provider.ParseAuthorize(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	back := a.Form()
	if back.Has("request") || back.Get("state") != "state-from-object" {
		t.Fatalf("the parameters to send back: %v", back)
	}
	if err, _ := parseAuthorize(t, f, back); err != nil {
		t.Errorf("the verified parameters sent back: %v", err)
	}
	back.Set("prompt", "login")
	if err, _ := parseAuthorize(t, f, back); err != nil {
		t.Errorf("the verified parameters with a prompt the pages changed: %v", err)
	}
	back.Set("ui_locales", "en")
	if err, _ := parseAuthorize(t, f, back); err != nil {
		t.Errorf("the verified parameters with the language the person switched to: %v", err)
	}
	back.Set("scope", "openid")
	if err, loc := parseAuthorize(t, f, back); err == nil || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("the verified parameters changed (scope): %v to %v, want invalid_request", err, loc)
	}

	// Through a pushed request (RFC 9126 with RFC 9101 §6).
	assertion := privateKeyAssertion(t, f, site)
	par := func(form url.Values) (int, map[string]any) {
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion())
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/par", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		m := map[string]any{}
		json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	if code, m := par(plain); code != http.StatusBadRequest || m["error"] != "invalid_request" {
		t.Errorf("a plain pushed request: %d %v, want invalid_request", code, m)
	}
	if code, m := par(url.Values{"client_id": {"impots"}, "request": {unsigned(site.claims(nil), "none")}}); code != http.StatusBadRequest || m["error"] != "invalid_request_object" {
		t.Errorf("a pushed request object with alg none: %d %v, want invalid_request_object", code, m)
	}
	code, m := par(url.Values{"client_id": {"impots"}, "request": {site.sign(t, site.key, site.claims(nil))}})
	uri, _ := m["request_uri"].(string)
	if code != http.StatusCreated || uri == "" {
		t.Fatalf("a pushed signed request object: %d %v", code, m)
	}
	if q := site.send(t, url.Values{"client_id": {"impots"}, "request_uri": {uri}}); q.Get("code") == "" || q.Get("state") != "state-from-object" {
		t.Errorf("the pushed request used: %v, want a code", q)
	}
	// RFC 7523 §3: the client may name itself in its assertion only.
	if code, m := par(url.Values{"request": {site.sign(t, site.key, site.claims(nil))}}); code != http.StatusCreated {
		t.Errorf("a pushed signed request object without client_id in the body: %d %v", code, m)
	}
}

// privateKeyAssertion makes RFC 7523 client assertions for site, each
// with its own jti.
func privateKeyAssertion(t *testing.T, f *flow, site *jarSite) func() string {
	n := 0
	return func() string {
		n++
		now := time.Now()
		return site.sign(t, site.key, map[string]any{"iss": site.id, "sub": site.id, "aud": f.srv.URL + "/token",
			"jti": site.id + "-assertion-" + string(rune('a'+n)), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	}
}
