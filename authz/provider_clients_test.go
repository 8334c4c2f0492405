package authz_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz/oauth"
)

// addClient registers another client on the flow's store.
func (f *flow) addClient(t *testing.T, c oauth.Client) oauth.Client {
	t.Helper()
	if c.SectorIdentifier == "" {
		c.SectorIdentifier = "other.example.fr"
	}
	if err := f.store.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.Client(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f *flow) codeFor(t *testing.T, clientID string, scopes []string, extra ...oauth2.AuthCodeOption) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	conf := &oauth2.Config{ClientID: clientID, RedirectURL: "http://127.0.0.1/cb", Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: f.srv.URL + "/authorize", TokenURL: f.srv.URL + "/token"}}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-123456")}, extra...)
	q := f.authorize(t, conf.AuthCodeURL("state-123456", opts...))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return q.Get("code"), verifier
}

func (f *flow) tokenRequest(t *testing.T, form url.Values, basicUser, basicPass string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]any{}
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func TestPrivateKeyJWTClient(t *testing.T) {
	f := newFlow(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "site-key-1", Algorithm: "ES256", Use: "sig"}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	f.addClient(t, oauth.Client{ID: "impots", Name: "Impôts", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"authorization_code", "client_credentials"}, TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT, JWKS: string(set)})

	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "site-key-1").WithType("JWT"))
	assertion := func(jti string) string {
		now := time.Now()
		s, err := josejwt.Signed(signer).Claims(josejwt.Claims{Issuer: "impots", Subject: "impots", Audience: josejwt.Audience{f.srv.URL + "/token"},
			ID: jti, IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	form := func(a string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {"impots"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
	}
	a := assertion("jti-1")
	if code, body := f.tokenRequest(t, form(a), "", ""); code != 200 {
		t.Fatalf("private_key_jwt: %d %v", code, body)
	}
	if code, body := f.tokenRequest(t, form(a), "", ""); code != 401 || body["error"] != "invalid_client" {
		t.Errorf("replayed assertion: %d %v, want 401 invalid_client", code, body)
	}
	// Signed with another key: refused.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: other}, (&jose.SignerOptions{}).WithHeader("kid", "site-key-1").WithType("JWT"))
	if code, body := f.tokenRequest(t, form(assertion("jti-2")), "", ""); code != 401 || body["error"] != "invalid_client" {
		t.Errorf("foreign-signed assertion: %d %v, want 401 invalid_client", code, body)
	}
}

func TestPublicClientUsesPKCEAlone(t *testing.T) {
	f := newFlow(t)
	f.addClient(t, oauth.Client{ID: "app", Name: "Appli", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: oauth.AuthMethodNone})
	code, verifier := f.codeFor(t, "app", []string{"openid"})
	if status, body := f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {"app"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {"wrong-verifier-wrong-verifier-wrong-verifier-1234"}}, "", ""); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("wrong verifier: %d %v, want invalid_grant", status, body)
	}
	code, verifier = f.codeFor(t, "app", []string{"openid"})
	if status, body := f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {"app"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}}, "", ""); status != 200 || body["id_token"] == nil {
		t.Errorf("public client with PKCE: %d %v", status, body)
	}
}

func TestRS256ClientAndSignedUserinfo(t *testing.T) {
	f := newFlow(t)
	secret, hash := oauth.NewClientSecret()
	f.addClient(t, oauth.Client{ID: "ancien", Name: "Ancien site", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid", "given_name", "birthdate"},
		GrantTypes: []string{"authorization_code"}, SecretHash: hash, IDTokenSignedResponseAlg: oauth.AlgRS256, UserinfoSignedResponseAlg: oauth.AlgRS256})
	code, verifier := f.codeFor(t, "ancien", []string{"openid", "given_name", "birthdate"}, oauth2.SetAuthURLParam("acr_values", "eidas1"))
	status, body := f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1/cb"},
		"code_verifier": {verifier}}, "ancien", secret)
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, body)
	}
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: "ancien", SupportedSigningAlgs: []string{"RS256"}}).Verify(ctx, body["id_token"].(string))
	if err != nil {
		t.Fatalf("RS256 ID token: %v", err)
	}
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	idt.Claims(&claims)
	if claims.ACR != "eidas1" || len(claims.AMR) != 1 || claims.AMR[0] != "pwd" {
		t.Errorf("acr %q amr %v, want eidas1 and [pwd]", claims.ACR, claims.AMR)
	}

	req, _ := http.NewRequest("GET", f.srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("userinfo content type %q: %s", res.Header.Get("Content-Type"), raw)
	}
	keys := oidc.NewRemoteKeySet(ctx, f.srv.URL+"/jwks")
	payload, err := keys.VerifySignature(ctx, string(raw))
	if err != nil {
		t.Fatalf("signed userinfo: %v", err)
	}
	var ui map[string]any
	json.Unmarshal(payload, &ui)
	// Asked claim by claim, as FranceConnect sites do: only those come back.
	if ui["given_name"] != "Jeanne Odette" || ui["birthdate"] != "1941-03-12" || ui["aud"] != "ancien" || ui["family_name"] != nil {
		t.Errorf("signed userinfo claims %v", ui)
	}
}

func TestTokenErrorsAreProtocolErrors(t *testing.T) {
	f := newFlow(t)
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"unknown grant type", url.Values{"grant_type": {"password-please"}}, "unsupported_grant_type"},
		{"no grant type", url.Values{}, "invalid_request"},
		{"two grant types", url.Values{"grant_type": {"client_credentials", "authorization_code"}}, "invalid_request"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "code": {"nope.nope"}, "redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {"x"}}, "invalid_grant"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope.nope"}}, "invalid_grant"},
	}
	for _, tt := range tests {
		status, body := f.tokenRequest(t, tt.form, "caf", f.secret)
		if status >= 500 || body["error"] != tt.want {
			t.Errorf("%s: %d %v, want %s", tt.name, status, body, tt.want)
		}
	}
}
