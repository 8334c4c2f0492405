package conformance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// DPoP (RFC 9449), as a site using it sees it: a key of its own, a proof
// per request, the server's nonce, tokens bound to the key.

// dpopKey is a site's DPoP key pair.
type dpopKey struct{ priv *ecdsa.PrivateKey }

func newDPoPKey(t testing.TB) *dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{k}
}

// jkt is the key's RFC 7638 thumbprint, as cnf.jkt carries it.
func (k *dpopKey) jkt(t testing.TB) string {
	t.Helper()
	tp, err := (&jose.JSONWebKey{Key: &k.priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// proof is a fresh DPoP proof for method and u (RFC 9449 §4.2), with the
// server's nonce and, at a resource, the access token's hash.
func (k *dpopKey) proof(t testing.TB, method, u, nonce, accessToken string) string {
	t.Helper()
	claims := map[string]any{"jti": random(), "htm": method, "htu": u, "iat": time.Now().Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tokenRequest posts form to the token endpoint as c, with the DPoP
// proofs given (none, one, or several headers).
func (tg *target) tokenRequest(t testing.TB, c *rp, form url.Values, proofs ...string) (*http.Response, map[string]any) {
	t.Helper()
	body := form
	if c.AuthStyle == oauth2.AuthStyleInParams || c.Public { // in the form: client_id, and the secret if any
		body = url.Values{}
		for k, v := range form {
			body[k] = v
		}
		body.Set("client_id", c.ID)
		if c.Secret != "" {
			body.Set("client_secret", c.Secret)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, tg.endpoint(t, "token_endpoint"), strings.NewReader(body.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !c.Public && c.AuthStyle != oauth2.AuthStyleInParams {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	res, b := tg.do(t, req)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return res, m
}

// dpopNonce does the nonce dance (RFC 9449 §8): the first proof, without
// the server's nonce, is answered use_dpop_nonce with the nonce to use.
func (tg *target) dpopNonce(t testing.TB, c *rp, k *dpopKey, form url.Values) string {
	t.Helper()
	res, body := tg.tokenRequest(t, c, form, k.proof(t, http.MethodPost, tg.endpoint(t, "token_endpoint"), "", ""))
	nonce := res.Header.Get("DPoP-Nonce")
	if res.StatusCode != http.StatusBadRequest || body["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("a proof without the server's nonce: %d %v, DPoP-Nonce %q; want 400 use_dpop_nonce with a nonce", res.StatusCode, body, nonce)
	}
	return nonce
}

// boundTokens runs a code flow for c and redeems the code with a proof by
// k: the answer must be DPoP tokens bound to k.
func (tg *target) boundTokens(t *testing.T, c *rp, k *dpopKey) (tok map[string]any, nonce string) {
	t.Helper()
	f := tg.authorize(t, tg.browser(t), c)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {f.code()}, "redirect_uri": {c.RedirectURI}, "code_verifier": {f.verifier}}
	nonce = tg.dpopNonce(t, c, k, form)
	res, tok := tg.tokenRequest(t, c, form, k.proof(t, http.MethodPost, tg.endpoint(t, "token_endpoint"), nonce, ""))
	if res.StatusCode != http.StatusOK || tok["token_type"] != "DPoP" {
		t.Fatalf("code with a proof and the nonce: %d %v, want token_type DPoP", res.StatusCode, tok)
	}
	if n := res.Header.Get("DPoP-Nonce"); n != "" {
		nonce = n // RFC 9449 §8.2: the freshest nonce the server gave
	}
	_, claims := decodeJWT(t, stringOf(tok["access_token"]))
	if got := jktOf(claims); got != k.jkt(t) {
		t.Fatalf("the access token's cnf.jkt is %q, want the key's thumbprint %q", got, k.jkt(t))
	}
	return tok, nonce
}

func jktOf(m map[string]any) string {
	cnf, _ := m["cnf"].(map[string]any)
	return stringOf(cnf["jkt"])
}

// userinfoWith calls userinfo with the token under scheme and the proofs.
func (tg *target) userinfoWith(t testing.TB, scheme, token string, proofs ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, tg.endpoint(t, "userinfo_endpoint"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", scheme+" "+token)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	res, b := tg.do(t, req)
	m := map[string]any{}
	_ = json.Unmarshal(b, &m)
	return res, m
}

// testDPoPBoundToken: the code grant's token is DPoP-bound; userinfo takes
// it with a proof by the key and refuses it as a Bearer token, with a
// proof by another key, and with a proof used before.
func testDPoPBoundToken(t *testing.T, tg *target) {
	c := tg.clients[roleDPoP]
	k := newDPoPKey(t)
	tok, nonce := tg.boundTokens(t, c, k)
	access := stringOf(tok["access_token"])
	ui := tg.endpoint(t, "userinfo_endpoint")

	used := k.proof(t, http.MethodGet, ui, nonce, access)
	if res, body := tg.userinfoWith(t, "DPoP", access, used); res.StatusCode != http.StatusOK || body["sub"] == nil {
		t.Fatalf("userinfo with the DPoP scheme and a proof by the key: %d %v", res.StatusCode, body)
	}
	for _, tt := range []struct {
		name, scheme string
		proofs       []string
		want         string
	}{
		{"as a Bearer token", "Bearer", nil, "invalid_token"},
		{"with a proof by another key", "DPoP", []string{newDPoPKey(t).proof(t, http.MethodGet, ui, nonce, access)}, "invalid_token"},
		{"with a replayed proof", "DPoP", []string{used}, "invalid_dpop_proof"},
	} {
		res, body := tg.userinfoWith(t, tt.scheme, access, tt.proofs...)
		challenge := strings.Join(res.Header.Values("WWW-Authenticate"), ", ")
		if res.StatusCode != http.StatusUnauthorized || body["error"] != tt.want || !strings.Contains(challenge, "DPoP") {
			t.Errorf("userinfo given the bound token %s: %d %v, WWW-Authenticate %q; want 401 %s with a DPoP challenge",
				tt.name, res.StatusCode, body, challenge, tt.want)
		}
	}
}

// testDPoPRefreshNeedsTheKey: a public client's refresh token is bound to
// its key (RFC 9449 §5): without a proof, or with another key, refused;
// with the key, new DPoP tokens. The client is registered with
// dpop_bound_access_tokens, so a code redeemed without a proof is refused.
func testDPoPRefreshNeedsTheKey(t *testing.T, tg *target) {
	c := tg.clients[roleDPoP]
	k := newDPoPKey(t)
	tok, nonce := tg.boundTokens(t, c, k)
	refresh := stringOf(tok["refresh_token"])
	if refresh == "" {
		t.Fatalf("no refresh token for offline_access: %v", tok)
	}
	tokenURL := tg.endpoint(t, "token_endpoint")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	if res, body := tg.tokenRequest(t, c, form); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("refresh without a proof: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
	if res, body := tg.tokenRequest(t, c, form, newDPoPKey(t).proof(t, http.MethodPost, tokenURL, nonce, "")); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("refresh with a proof by another key: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
	res, body := tg.tokenRequest(t, c, form, k.proof(t, http.MethodPost, tokenURL, nonce, ""))
	if res.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
		t.Fatalf("refresh with the key: %d %v, want DPoP tokens", res.StatusCode, body)
	}
	if _, claims := decodeJWT(t, stringOf(body["access_token"])); jktOf(claims) != k.jkt(t) {
		t.Errorf("the refreshed access token's cnf.jkt is %q, want %q", jktOf(claims), k.jkt(t))
	}

	f := tg.authorize(t, tg.browser(t), c)
	res, body = tg.tokenRequest(t, c, url.Values{"grant_type": {"authorization_code"}, "code": {f.code()}, "redirect_uri": {c.RedirectURI},
		"code_verifier": {f.verifier}})
	if res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("a client registered with dpop_bound_access_tokens redeeming a code without a proof: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
}

// testDPoPNonceAndReplay: discovery names the proof algorithms; a proof
// without the nonce gets use_dpop_nonce and the nonce, then the token is
// bound and introspection says to which key; a proof used twice is
// refused.
func testDPoPNonceAndReplay(t *testing.T, tg *target) {
	algs := stringList(tg.metadata(t)["dpop_signing_alg_values_supported"])
	if !slices.Contains(algs, "ES256") || slices.Contains(algs, "none") || slices.ContainsFunc(algs, func(a string) bool { return strings.HasPrefix(a, "HS") }) {
		t.Errorf("dpop_signing_alg_values_supported %v, want ES256 and only asymmetric algorithms", algs)
	}
	c := tg.clients[roleService]
	k := newDPoPKey(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"conformance.read"}}
	nonce := tg.dpopNonce(t, c, k, form)
	proof := k.proof(t, http.MethodPost, tg.endpoint(t, "token_endpoint"), nonce, "")
	res, tok := tg.tokenRequest(t, c, form, proof)
	if res.StatusCode != http.StatusOK || tok["token_type"] != "DPoP" {
		t.Fatalf("client credentials with the nonce: %d %v, want token_type DPoP", res.StatusCode, tok)
	}
	access := stringOf(tok["access_token"])
	if _, claims := decodeJWT(t, access); jktOf(claims) != k.jkt(t) {
		t.Errorf("cnf.jkt %q, want %q", jktOf(claims), k.jkt(t))
	}
	if got := tg.introspectAs(t, c, access); got["active"] != true || jktOf(got) != k.jkt(t) {
		t.Errorf("introspection of the bound token by its client: %v, want active with cnf.jkt %s", got, k.jkt(t))
	}
	if res, body := tg.tokenRequest(t, c, form, proof); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("the same proof a second time: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
}

// testDPoPAccessEvaluation: a server client's DPoP-bound token, with a
// proof by its key, authenticates it at the access evaluation endpoint in
// place of its secret; with a proof by another key it does not.
func testDPoPAccessEvaluation(t *testing.T, tg *target) {
	endpoint := stringOf(tg.metadata(t)["access_evaluation_endpoint"])
	if endpoint == "" {
		t.Fatal("discovery names no access_evaluation_endpoint (OpenID AuthZEN)")
	}
	c := tg.clients[roleService]
	k := newDPoPKey(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"conformance.read"}}
	nonce := tg.dpopNonce(t, c, k, form)
	res, tok := tg.tokenRequest(t, c, form, k.proof(t, http.MethodPost, tg.endpoint(t, "token_endpoint"), nonce, ""))
	if res.StatusCode != http.StatusOK || tok["token_type"] != "DPoP" {
		t.Fatalf("client credentials with a proof: %d %v", res.StatusCode, tok)
	}
	access := stringOf(tok["access_token"])
	evaluate := func(key *dpopKey) (*http.Response, map[string]any) {
		body, _ := json.Marshal(map[string]any{"subject": map[string]any{"type": "user", "id": "unknown-actor"},
			"resource": map[string]any{"type": "account", "id": "unknown-person", "properties": map[string]any{"procedure_area": "social"}},
			"action":   map[string]any{"name": "consult"}})
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "DPoP "+access)
		req.Header.Set("DPoP", key.proof(t, http.MethodPost, endpoint, nonce, access))
		res, b := tg.do(t, req)
		m := map[string]any{}
		_ = json.Unmarshal(b, &m)
		return res, m
	}
	// Authenticated, the client is told what is wrong with its question.
	if res, body := evaluate(k); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("evaluation with the bound token and a proof by its key: %d %v, want the client authenticated (400 invalid_request about the unknown subject)", res.StatusCode, body)
	}
	if res, body := evaluate(newDPoPKey(t)); res.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" {
		t.Errorf("evaluation with a proof by another key: %d %v, want 401 invalid_token", res.StatusCode, body)
	}
}
