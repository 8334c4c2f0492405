package authz_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite"
)

// testClock is the provider's clock, moved by the tests; it starts now, so
// that fosite, which reads the real time, agrees with it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// dpopKey is a client's DPoP key pair.
type dpopKey struct {
	priv *ecdsa.PrivateKey
}

func newDPoPKey(t testing.TB) *dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{priv: k}
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

// proofClaims are a proof's claims; zero values get sensible defaults.
type proofClaims struct {
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	JTI   string `json:"jti,omitempty"`
	Nonce string `json:"nonce,omitempty"`
	ATH   string `json:"ath,omitempty"`
}

// proof signs c with the key, embedding its public JWK (RFC 9449 §4.2);
// typ replaces dpop+jwt when not empty.
func (k *dpopKey) proof(t testing.TB, c proofClaims, typ string) string {
	t.Helper()
	if typ == "" {
		typ = "dpop+jwt"
	}
	if c.JTI == "" {
		c.JTI = rand.Text()
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ))
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(c)
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

func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newDPoPFlow is a flow whose provider reads clock, with the access
// endpoints on (a representation service).
func newDPoPFlow(t *testing.T) (*flow, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Now()}
	f := newFlowStores(t, func(c *authz.ProviderConfig) { c.Now = clock.Now }, func(st *sqlite.Store, s *authz.Stores) {
		s.Delegation = mandates.NewService(st, mandatestest.Discard{}, mandates.ServiceConfig{})
	})
	return f, clock
}

// post sends a form to path with the given DPoP proofs (none, one or
// several headers), as the flow's confidential client unless public names
// a public client.
func (f *flow) post(t testing.TB, path string, form url.Values, public string, proofs ...string) (*http.Response, map[string]any) {
	t.Helper()
	if public != "" {
		form.Set("client_id", public)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if public == "" {
		req.SetBasicAuth(f.client.ID, f.secret)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	_ = json.Unmarshal(b, &out)
	return res, out
}

// nonce does the nonce dance of RFC 9449 §8: a proof without a nonce is
// answered use_dpop_nonce, with the nonce to use.
func (f *flow) nonce(t testing.TB, k *dpopKey, clock *testClock) string {
	t.Helper()
	res, body := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, "",
		k.proof(t, proofClaims{HTM: "POST", HTU: f.srv.URL + "/token", IAT: clock.Now().Unix()}, ""))
	if res.StatusCode != http.StatusBadRequest || body["error"] != "use_dpop_nonce" || res.Header.Get("DPoP-Nonce") == "" {
		t.Fatalf("a proof without the server's nonce: %d %v, DPoP-Nonce %q; want 400 use_dpop_nonce and a nonce",
			res.StatusCode, body, res.Header.Get("DPoP-Nonce"))
	}
	return res.Header.Get("DPoP-Nonce")
}

// tokenProof is a valid proof for the token endpoint.
func (f *flow) tokenProof(t testing.TB, k *dpopKey, clock *testClock, nonce string) string {
	return k.proof(t, proofClaims{HTM: "POST", HTU: f.srv.URL + "/token", IAT: clock.Now().Unix(), Nonce: nonce}, "")
}

// claimsOf reads a JWT's claims without checking it (the flow's own tests
// check signatures).
func claimsOf(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func cnfJKT(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

func TestDPoPProofIsCheckedAsRFC9449Says(t *testing.T) {
	f, clock := newDPoPFlow(t)
	k := newDPoPKey(t)
	nonce := f.nonce(t, k, clock)
	tokenURL := f.srv.URL + "/token"
	now := clock.Now().Unix()
	valid := proofClaims{HTM: "POST", HTU: tokenURL, IAT: now, Nonce: nonce}
	with := func(change func(*proofClaims)) proofClaims {
		c := valid
		change(&c)
		return c
	}

	// A proof whose jwk holds the private key.
	privJWK := jose.JSONWebKey{Key: k.priv}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv},
		(&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", privJWK))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(with(func(c *proofClaims) { c.JTI = "private-jwk" }))
	obj, _ := s.Sign(payload)
	privateProof, _ := obj.CompactSerialize()

	// A proof signed with a symmetric key (HS256).
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(strings.Repeat("k", 32))},
		(&jose.SignerOptions{}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	obj, _ = hs.Sign(payload)
	symmetricProof, _ := obj.CompactSerialize()

	// A valid proof whose signature is someone else's.
	good := k.proof(t, valid, "")
	other := newDPoPKey(t).proof(t, valid, "")
	forged := good[:strings.LastIndex(good, ".")] + other[strings.LastIndex(other, "."):]

	replayed := k.proof(t, valid, "")
	if res, body := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, "", replayed); res.StatusCode != http.StatusOK {
		t.Fatalf("a valid proof: %d %v", res.StatusCode, body)
	}

	tests := []struct {
		name   string
		proofs []string
		want   string
	}{
		{"a replayed proof is refused", []string{replayed}, "invalid_dpop_proof"},
		{"two DPoP headers are refused", []string{k.proof(t, valid, ""), k.proof(t, valid, "")}, "invalid_dpop_proof"},
		{"a proof that is not a JWS is refused", []string{"not.a.jws"}, "invalid_dpop_proof"},
		{"a proof typed JWT instead of dpop+jwt is refused", []string{k.proof(t, valid, "JWT")}, "invalid_dpop_proof"},
		{"a proof signed with a symmetric algorithm is refused", []string{symmetricProof}, "invalid_dpop_proof"},
		{"a proof whose jwk holds a private key is refused", []string{privateProof}, "invalid_dpop_proof"},
		{"a proof whose signature is not its key's is refused", []string{forged}, "invalid_dpop_proof"},
		{"a proof for another method is refused", []string{k.proof(t, with(func(c *proofClaims) { c.HTM = "GET" }), "")}, "invalid_dpop_proof"},
		{"a proof for another URL is refused", []string{k.proof(t, with(func(c *proofClaims) { c.HTU = f.srv.URL + "/userinfo" }), "")}, "invalid_dpop_proof"},
		{"a proof made more than a minute ago is refused", []string{k.proof(t, with(func(c *proofClaims) { c.IAT = now - 61 }), "")}, "invalid_dpop_proof"},
		{"a proof dated in the future is refused", []string{k.proof(t, with(func(c *proofClaims) { c.IAT = now + 60 }), "")}, "invalid_dpop_proof"},
		{"a proof without iat is refused", []string{k.proof(t, with(func(c *proofClaims) { c.IAT = 0 }), "")}, "invalid_dpop_proof"},
		{"a proof without the server's nonce asks for it", []string{k.proof(t, with(func(c *proofClaims) { c.Nonce = "" }), "")}, "use_dpop_nonce"},
		{"a proof with a nonce not made by the server asks for one", []string{k.proof(t, with(func(c *proofClaims) { c.Nonce = "made-up" }), "")}, "use_dpop_nonce"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, "", tt.proofs...)
			if res.StatusCode != http.StatusBadRequest || body["error"] != tt.want {
				t.Errorf("got %d %v, want 400 %s", res.StatusCode, body, tt.want)
			}
			if res.Header.Get("DPoP-Nonce") == "" {
				t.Errorf("the answer carries no DPoP-Nonce header")
			}
		})
	}

	t.Run("a proof whose htu has a query, a fragment and an upper-case scheme is accepted", func(t *testing.T) {
		u := "HTTP" + strings.TrimPrefix(tokenURL, "http") + "?x=1#f"
		res, body := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, "",
			k.proof(t, with(func(c *proofClaims) { c.HTU = u }), ""))
		if res.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
			t.Errorf("got %d %v, want a DPoP token", res.StatusCode, body)
		}
	})
}

func TestDPoPNoncesLastTheirSlotAndTheNext(t *testing.T) {
	f, clock := newDPoPFlow(t)
	k := newDPoPKey(t)
	nonce := f.nonce(t, k, clock)
	clock.Add(5 * time.Minute) // the next slot: still accepted
	res, body := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, "", f.tokenProof(t, k, clock, nonce))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a nonce of the previous slot: %d %v, want it accepted", res.StatusCode, body)
	}
	fresh := res.Header.Get("DPoP-Nonce")
	if fresh == "" || fresh == nonce {
		t.Errorf("the answer's DPoP-Nonce %q, want a new nonce for the new slot", fresh)
	}
	clock.Add(5 * time.Minute) // two slots later: stale
	res, body = f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, "", f.tokenProof(t, k, clock, nonce))
	if res.StatusCode != http.StatusBadRequest || body["error"] != "use_dpop_nonce" || res.Header.Get("DPoP-Nonce") != f.nonceNow(t, k, clock) {
		t.Errorf("a nonce two slots old: %d %v, want 400 use_dpop_nonce with the current nonce", res.StatusCode, body)
	}
}

// nonceNow is the nonce the server gives now.
func (f *flow) nonceNow(t testing.TB, k *dpopKey, clock *testClock) string {
	return f.nonce(t, k, clock)
}

func TestDPoPBindsTheTokensOfACodeGrantToTheKey(t *testing.T) {
	f, clock := newDPoPFlow(t)
	ctx := t.Context()
	public := oauth.Client{ID: "app", Name: "Application", RedirectURIs: []string{"http://127.0.0.1/cb"},
		Scopes: []string{"openid", "email", "offline_access"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethod: oauth.AuthMethodNone, SubjectType: oauth.SubjectPublic}
	if err := f.store.CreateClient(ctx, public); err != nil {
		t.Fatal(err)
	}
	k := newDPoPKey(t)
	nonce := f.nonce(t, k, clock)

	code := func(t *testing.T) (url.Values, string) {
		conf := &oauth2.Config{ClientID: "app", RedirectURL: "http://127.0.0.1/cb", Scopes: []string{"openid", "email", "offline_access"},
			Endpoint: oauth2.Endpoint{AuthURL: f.srv.URL + "/authorize", TokenURL: f.srv.URL + "/token"}}
		verifier := oauth2.GenerateVerifier()
		q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)))
		return url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {"http://127.0.0.1/cb"},
			"code_verifier": {verifier}}, q.Get("code")
	}

	form, _ := code(t)
	res, tok := f.post(t, "/token", form, "app", f.tokenProof(t, k, clock, nonce))
	if res.StatusCode != http.StatusOK || tok["token_type"] != "DPoP" {
		t.Fatalf("code with a proof: %d %v, want token_type DPoP", res.StatusCode, tok)
	}
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)
	if got := cnfJKT(claimsOf(t, access)); got != k.jkt(t) {
		t.Fatalf("the access token's cnf.jkt is %q, want the key's thumbprint %q", got, k.jkt(t))
	}

	userinfo := func(scheme, token string, proofs ...string) (*http.Response, map[string]any) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+"/userinfo", nil)
		req.Header.Set("Authorization", scheme+" "+token)
		for _, p := range proofs {
			req.Header.Add("DPoP", p)
		}
		return do(t, req)
	}
	uiProof := func(k *dpopKey, token string) string {
		return k.proof(t, proofClaims{HTM: "GET", HTU: f.srv.URL + "/userinfo", IAT: clock.Now().Unix(), Nonce: nonce, ATH: ath(token)}, "")
	}
	used := uiProof(k, access)
	if res, body := userinfo("DPoP", access, used); res.StatusCode != http.StatusOK || body["sub"] == nil {
		t.Fatalf("userinfo with the DPoP scheme and a proof: %d %v", res.StatusCode, body)
	}

	refusals := []struct {
		name, scheme, token string
		proofs              []string
		want                string
	}{
		{"as a Bearer token", "Bearer", access, nil, "invalid_token"},
		{"as a Bearer token, even with a proof", "Bearer", access, []string{uiProof(k, access)}, "invalid_token"},
		{"with the DPoP scheme but no proof", "DPoP", access, nil, "invalid_dpop_proof"},
		{"with a proof by another key", "DPoP", access, []string{uiProof(newDPoPKey(t), access)}, "invalid_token"},
		{"with a replayed proof", "DPoP", access, []string{used}, "invalid_dpop_proof"},
		{"with a proof whose ath is another token's", "DPoP", access, []string{uiProof(k, "another-token")}, "invalid_dpop_proof"},
		{"with a proof without the nonce", "DPoP", access, []string{k.proof(t, proofClaims{HTM: "GET", HTU: f.srv.URL + "/userinfo",
			IAT: clock.Now().Unix(), ATH: ath(access)}, "")}, "use_dpop_nonce"},
		{"with a stale proof", "DPoP", access, []string{k.proof(t, proofClaims{HTM: "GET", HTU: f.srv.URL + "/userinfo",
			IAT: clock.Now().Unix() - 120, ATH: ath(access), Nonce: nonce}, "")}, "invalid_dpop_proof"},
	}
	for _, tt := range refusals {
		t.Run("userinfo refuses the bound token "+tt.name, func(t *testing.T) {
			res, body := userinfo(tt.scheme, tt.token, tt.proofs...)
			challenge := strings.Join(res.Header.Values("WWW-Authenticate"), ", ")
			if res.StatusCode != http.StatusUnauthorized || body["error"] != tt.want ||
				!strings.Contains(challenge, `DPoP error="`+tt.want+`"`) || !strings.Contains(challenge, "algs=") {
				t.Errorf("got %d %v, WWW-Authenticate %q; want 401 %s with a DPoP challenge", res.StatusCode, body, challenge, tt.want)
			}
			if tt.want == "use_dpop_nonce" && res.Header.Get("DPoP-Nonce") == "" {
				t.Errorf("use_dpop_nonce without a DPoP-Nonce header")
			}
		})
	}

	t.Run("introspection by a client that is not the token's party learns nothing of its key", func(t *testing.T) {
		res, body := f.post(t, "/introspect", url.Values{"token": {access}}, "")
		if res.StatusCode != http.StatusOK || body["active"] != false || len(body) != 1 {
			t.Errorf("introspection: %d %v, want only active false", res.StatusCode, body)
		}
	})

	t.Run("the public client's refresh token needs a proof by the same key", func(t *testing.T) {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
		if res, body := f.post(t, "/token", form, "app"); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
			t.Errorf("refresh without a proof: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
		}
		if res, body := f.post(t, "/token", form, "app", f.tokenProof(t, newDPoPKey(t), clock, nonce)); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
			t.Errorf("refresh with another key: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
		}
		res, body := f.post(t, "/token", form, "app", f.tokenProof(t, k, clock, nonce))
		if res.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
			t.Fatalf("refresh with the key: %d %v, want a DPoP token (the refusals must not have used the refresh token up)", res.StatusCode, body)
		}
		next, _ := body["access_token"].(string)
		if got := cnfJKT(claimsOf(t, next)); got != k.jkt(t) {
			t.Errorf("the refreshed token's cnf.jkt is %q, want %q", got, k.jkt(t))
		}
	})

	t.Run("a code grant without a proof gives a bearer token without cnf", func(t *testing.T) {
		form, _ := code(t)
		res, body := f.post(t, "/token", form, "app")
		access, _ := body["access_token"].(string)
		if res.StatusCode != http.StatusOK || !strings.EqualFold(body["token_type"].(string), "bearer") || cnfJKT(claimsOf(t, access)) != "" {
			t.Errorf("without a proof: %d %v, want a bearer token", res.StatusCode, body)
		}
		if res, body := userinfo("DPoP", access, uiProof(k, access)); res.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_token" {
			t.Errorf("a bearer token with the DPoP scheme: %d %v, want 401 invalid_token", res.StatusCode, body)
		}
		if res, body := userinfo("Bearer", access); res.StatusCode != http.StatusOK {
			t.Errorf("the bearer token as Bearer: %d %v", res.StatusCode, body)
		}
	})
}

func TestDPoPConfidentialClientMayMoveItsGrantToANewKeyAtRefresh(t *testing.T) {
	f, clock := newDPoPFlow(t)
	k, k2 := newDPoPKey(t), newDPoPKey(t)
	nonce := f.nonce(t, k, clock)
	conf := f.oauth2Config("openid", "email", "offline_access")
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)))
	res, tok := f.post(t, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}, "", f.tokenProof(t, k, clock, nonce))
	if res.StatusCode != http.StatusOK || tok["token_type"] != "DPoP" {
		t.Fatalf("code with a proof: %d %v", res.StatusCode, tok)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}
	if res, body := f.post(t, "/token", form, ""); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("refresh of a bound grant without a proof: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
	res, body := f.post(t, "/token", form, "", f.tokenProof(t, k2, clock, nonce))
	if res.StatusCode != http.StatusOK || cnfJKT(claimsOf(t, body["access_token"].(string))) != k2.jkt(t) {
		t.Errorf("refresh with a new key: %d %v, want a token bound to the new key (RFC 9449 §5)", res.StatusCode, body)
	}
}

func TestDPoPClientRegisteredBoundMustSendAProof(t *testing.T) {
	f, clock := newDPoPFlow(t)
	if _, err := f.store.UpdateClient(t.Context(), f.client.ID, func(c *oauth.Client) error { c.DPoPBoundAccessTokens = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if res, body := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, ""); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("without a proof: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
	k := newDPoPKey(t)
	res, body := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, "", f.tokenProof(t, k, clock, f.nonce(t, k, clock)))
	if res.StatusCode != http.StatusOK || body["token_type"] != "DPoP" {
		t.Errorf("with a proof: %d %v, want a DPoP token", res.StatusCode, body)
	}
}

func TestDPoPBoundTokenAuthenticatesItsClientAtTheAccessEndpoints(t *testing.T) {
	f, clock := newDPoPFlow(t)
	k := newDPoPKey(t)
	nonce := f.nonce(t, k, clock)
	res, tok := f.post(t, "/token", url.Values{"grant_type": {"client_credentials"}}, "", f.tokenProof(t, k, clock, nonce))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("client credentials with a proof: %d %v", res.StatusCode, tok)
	}
	access := tok["access_token"].(string)
	t.Run("introspection by the token's own client says which key it is bound to", func(t *testing.T) {
		res, body := f.post(t, "/introspect", url.Values{"token": {access}}, "")
		if res.StatusCode != http.StatusOK || body["active"] != true || cnfJKT(body) != k.jkt(t) || body["token_type"] != "DPoP" {
			t.Errorf("introspection: %d %v, want active, token_type DPoP, cnf.jkt %s", res.StatusCode, body, k.jkt(t))
		}
	})
	status := f.srv.URL + "/access/v1/cosignatures/" + mandates.NewID(time.Now())
	get := func(scheme string, key *dpopKey, htu string) (*http.Response, map[string]any) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, status, nil)
		req.Header.Set("Authorization", scheme+" "+access)
		if key != nil {
			req.Header.Set("DPoP", key.proof(t, proofClaims{HTM: "GET", HTU: htu, IAT: clock.Now().Unix(), Nonce: nonce, ATH: ath(access)}, ""))
		}
		return do(t, req)
	}
	if res, body := get("DPoP", k, status); res.StatusCode != http.StatusNotFound || body["error"] != "not_found" {
		t.Errorf("with the token and a proof: %d %v, want the client authenticated (404 not_found for an unknown request)", res.StatusCode, body)
	}
	tests := []struct {
		name   string
		scheme string
		key    *dpopKey
		htu    string
		want   string
	}{
		{"a proof by another key", "DPoP", newDPoPKey(t), status, "invalid_token"},
		{"no proof", "DPoP", nil, "", "invalid_dpop_proof"},
		{"a proof for another URL", "DPoP", k, f.srv.URL + "/access/v1/cosignatures", "invalid_dpop_proof"},
		{"the bound token as a Bearer token", "Bearer", nil, "", "invalid_client"},
	}
	for _, tt := range tests {
		t.Run("refused with "+tt.name, func(t *testing.T) {
			if res, body := get(tt.scheme, tt.key, tt.htu); res.StatusCode != http.StatusUnauthorized || body["error"] != tt.want {
				t.Errorf("got %d %v, want 401 %s", res.StatusCode, body, tt.want)
			}
		})
	}
}

func TestDPoPTokenExchangeKeepsTheSubjectTokensKey(t *testing.T) {
	a := newActingFlow(t)
	a.allowExchange(t)
	clock := &testClock{t: time.Now()} // the provider reads the real time; proofs are dated by it
	k := newDPoPKey(t)
	nonce := a.nonce(t, k, clock)
	subject := func(t *testing.T, proofs ...string) map[string]any {
		conf := a.oauth2Config("openid")
		verifier := oauth2.GenerateVerifier()
		q := a.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)))
		res, tok := a.post(t, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}, "", proofs...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("code: %d %v", res.StatusCode, tok)
		}
		return tok
	}
	exchange := func(subject string, proofs ...string) (*http.Response, map[string]any) {
		return a.post(t, "/token", url.Values{"grant_type": {authz.GrantTypeTokenExchange}, "subject_token": {subject},
			"subject_token_type": {authz.TokenTypeAccessToken}, "audience": {"api-impots"}, "scope": {"openid"}}, "", proofs...)
	}

	bound := subject(t, a.tokenProof(t, k, clock, nonce))["access_token"].(string)
	if res, body := exchange(bound); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("exchanging a bound token without a proof: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
	if res, body := exchange(bound, a.tokenProof(t, newDPoPKey(t), clock, nonce)); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("exchanging a bound token with another key: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
	res, body := exchange(bound, a.tokenProof(t, k, clock, nonce))
	if res.StatusCode != http.StatusOK || body["token_type"] != "DPoP" || cnfJKT(claimsOf(t, body["access_token"].(string))) != k.jkt(t) {
		t.Errorf("exchanging a bound token with its key: %d %v, want a token bound to the same key", res.StatusCode, body)
	}

	k2 := newDPoPKey(t)
	bearer := subject(t)["access_token"].(string)
	res, body = exchange(bearer, a.tokenProof(t, k2, clock, nonce))
	if res.StatusCode != http.StatusOK || body["token_type"] != "DPoP" || cnfJKT(claimsOf(t, body["access_token"].(string))) != k2.jkt(t) {
		t.Errorf("exchanging a bearer token with a proof: %d %v, want a token bound to the proof's key", res.StatusCode, body)
	}
	if res, body := exchange(bearer); res.StatusCode != http.StatusOK || cnfJKT(claimsOf(t, body["access_token"].(string))) != "" {
		t.Errorf("exchanging a bearer token without a proof: %d %v, want a bearer token", res.StatusCode, body)
	}
}

// FuzzDPoPProof sends arbitrary DPoP headers, with either authorization
// scheme, to the token and userinfo endpoints: whatever the proof, the
// answer is the protocol's error or a token, never a server error.
func FuzzDPoPProof(f *testing.F) {
	ft := newFuzzTarget(f)
	k := newDPoPKey(f)
	now := time.Now().Unix()
	for _, seed := range []struct {
		path  uint8
		proof string
		dpop  bool
	}{
		{0, k.proof(f, proofClaims{HTM: "POST", HTU: fuzzIssuer + "/token", IAT: now}, ""), false},
		{0, k.proof(f, proofClaims{HTM: "POST", HTU: fuzzIssuer + "/token", IAT: 1 << 62}, ""), false},
		{1, k.proof(f, proofClaims{HTM: "GET", HTU: fuzzIssuer + "/userinfo", IAT: now, ATH: ath("x")}, ""), true},
		{1, "a.b.c", true},
		{0, "", false},
		{0, "eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.e30.", false},
	} {
		f.Add(seed.path, seed.proof, seed.dpop)
	}
	f.Fuzz(func(t *testing.T, path uint8, proof string, dpopScheme bool) {
		var r *http.Request
		p := "/token"
		if path%2 == 0 {
			r = httptest.NewRequest(http.MethodPost, p, strings.NewReader("grant_type=client_credentials"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", ft.basic())
		} else {
			p = "/userinfo"
			r = httptest.NewRequest(http.MethodGet, p, nil)
			scheme := "Bearer "
			if dpopScheme {
				scheme = "DPoP "
			}
			r.Header.Set("Authorization", scheme+"x")
		}
		if !validHeaderValue(proof) {
			return
		}
		r.Header.Set("DPoP", proof)
		checkProtocolAnswer(t, p, ft.serve(r))
	})
}

// validHeaderValue: net/http would refuse to send other values.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func TestDPoPJKTBindsTheAuthorizationCodeToTheKey(t *testing.T) {
	f, clock := newDPoPFlow(t)
	k := newDPoPKey(t)
	nonce := f.nonce(t, k, clock)
	conf := f.oauth2Config("openid")
	// Each redemption gets its own code: a refused one uses the code up, as
	// a wrong PKCE verifier does.
	code := func(jkt string) (url.Values, url.Values) {
		verifier := oauth2.GenerateVerifier()
		q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("dpop_jkt", jkt)))
		return q, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}
	}
	_, form := code(k.jkt(t))
	if res, body := f.post(t, "/token", form, ""); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("the code redeemed without a proof: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
	_, form = code(k.jkt(t))
	if res, body := f.post(t, "/token", form, "", f.tokenProof(t, newDPoPKey(t), clock, nonce)); res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
		t.Errorf("the code redeemed with another key: %d %v, want 400 invalid_dpop_proof", res.StatusCode, body)
	}
	_, form = code(k.jkt(t))
	res, body := f.post(t, "/token", form, "", f.tokenProof(t, k, clock, nonce))
	if res.StatusCode != http.StatusOK || cnfJKT(claimsOf(t, body["access_token"].(string))) != k.jkt(t) {
		t.Errorf("the code redeemed with the key: %d %v, want a token bound to it", res.StatusCode, body)
	}
	if q, _ := code("not-a-thumbprint"); q.Get("error") != "invalid_request" || q.Get("code") != "" {
		t.Errorf("a malformed dpop_jkt: %v, want invalid_request", q)
	}
}

// BenchmarkUserinfo measures what a DPoP proof adds to a userinfo call:
// its signature check and the store write that refuses its replay.
func BenchmarkUserinfo(b *testing.B) {
	for _, scheme := range []string{"Bearer", "DPoP"} {
		b.Run(scheme, func(b *testing.B) {
			clock := &testClock{t: time.Now()}
			f := newFlowStores(b, func(c *authz.ProviderConfig) { c.Now = clock.Now }, nil)
			k := newDPoPKey(b)
			var proofs []string
			if scheme == "DPoP" {
				proofs = []string{f.tokenProof(b, k, clock, f.nonce(b, k, clock))}
			}
			// A person's token: the code flow.
			conf := f.oauth2Config("openid", "email")
			verifier := oauth2.GenerateVerifier()
			q := f.authorize(b, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)))
			form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}
			res, tok := f.post(b, "/token", form, "", proofs...)
			if res.StatusCode != http.StatusOK {
				b.Fatalf("token: %d %v", res.StatusCode, tok)
			}
			access := tok["access_token"].(string)
			nonce := res.Header.Get("DPoP-Nonce")
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/userinfo", nil)
				req.Header.Set("Authorization", scheme+" "+access)
				if scheme == "DPoP" {
					req.Header.Set("DPoP", k.proof(b, proofClaims{HTM: "GET", HTU: f.srv.URL + "/userinfo", IAT: clock.Now().Unix(), Nonce: nonce, ATH: ath(access)}, ""))
				}
				reqs[i] = req
			}
			b.ResetTimer()
			for _, req := range reqs {
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("userinfo: %v %v", res, err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	}
}
