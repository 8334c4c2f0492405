package authz_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz/oauth"
)

// introspectAs posts an introspection request with the given form and
// Authorization header value ("" for none).
func introspectAs(t *testing.T, f *flow, form url.Values, authorization string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]any{}
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, res.Header, m
}

func basicAuth(id, secret string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(id, secret)
	return r.Header.Get("Authorization")
}

// Introspection answers for a token only to the client it was issued to
// (or a client in its aud); to any other client, however authenticated,
// it is inactive, so the endpoint tells nobody whether another site's
// access or refresh token is live (RFC 7662 §4).
func TestIntrospectionAnswersOnlyTheTokensOwnParties(t *testing.T) {
	f := newFlow(t)
	conf := f.oauth2Config("openid", "offline_access")
	verifier := oauth2.GenerateVerifier()
	q := f.authorize(t, conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)))
	tok, err := conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	postSecret, postHash := oauth.NewClientSecret()
	f.addClient(t, oauth.Client{ID: "impots", Name: "Impôts", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"authorization_code"}, SecretHash: postHash, TokenEndpointAuthMethod: oauth.AuthMethodSecretPost})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	f.addClient(t, oauth.Client{ID: "ants", Name: "ANTS", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT, JWKS: string(set)})
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	assertion := func(jti string) url.Values {
		now := time.Now()
		a, err := josejwt.Signed(signer).Claims(josejwt.Claims{Issuer: "ants", Subject: "ants", Audience: josejwt.Audience{f.srv.URL + "/token"},
			ID: jti, IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
	}
	ccForm := assertion("cc-1")
	ccForm.Set("grant_type", "client_credentials")
	code, ccTok := f.tokenRequest(t, ccForm, "", "")
	if code != http.StatusOK {
		t.Fatalf("ants client credentials: %d %v", code, ccTok)
	}
	antsToken, _ := ccTok["access_token"].(string)

	with := func(form url.Values, token string) url.Values {
		out := url.Values{"token": {token}}
		for k, v := range form {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name          string
		form          url.Values
		authorization string
		want          bool
	}{
		{"the token's own client (client_secret_basic) sees its access token", with(nil, tok.AccessToken), basicAuth("caf", f.secret), true},
		{"the token's own client sees its refresh token", with(nil, tok.RefreshToken), basicAuth("caf", f.secret), true},
		{"another client (client_secret_post) does not see the access token", with(url.Values{"client_id": {"impots"}, "client_secret": {postSecret}}, tok.AccessToken), "", false},
		{"another client does not see the refresh token", with(url.Values{"client_id": {"impots"}, "client_secret": {postSecret}}, tok.RefreshToken), "", false},
		{"another client (private_key_jwt) does not see the access token", with(assertion("i-1"), tok.AccessToken), "", false},
		{"a private_key_jwt client sees its own token", with(assertion("i-2"), antsToken), "", true},
		{"a client_secret_basic client does not see a private_key_jwt client's token", with(nil, antsToken), basicAuth("caf", f.secret), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, m := introspectAs(t, f, tt.form, tt.authorization)
			if code != http.StatusOK || m["active"] != tt.want {
				t.Fatalf("%d %v, want active %v", code, m, tt.want)
			}
			if !tt.want && len(m) != 1 {
				t.Errorf("an inactive answer says more than active: %v", m)
			}
		})
	}
}

// The caller of introspection authenticates as a client by its registered
// method: an access token in a bearer header is no client credential
// (fosite takes one by default), and a public client proves nothing.
func TestIntrospectionRefusesCallersThatAreNotAuthenticatedClients(t *testing.T) {
	f := newFlow(t)
	f.addClient(t, oauth.Client{ID: "app", Name: "Appli", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"authorization_code"}, TokenEndpointAuthMethod: oauth.AuthMethodNone})
	code, cc := f.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}}, "caf", f.secret)
	if code != http.StatusOK {
		t.Fatalf("client credentials: %d %v", code, cc)
	}
	at, _ := cc["access_token"].(string)
	tests := []struct {
		name          string
		form          url.Values
		authorization string
	}{
		{"a bearer access token as the credential", url.Values{"token": {at}}, "Bearer " + at},
		{"a bearer access token beside a client id", url.Values{"token": {at}, "client_id": {"caf"}}, "Bearer " + at},
		{"a public client (auth none)", url.Values{"token": {at}, "client_id": {"app"}}, ""},
		{"no credential at all", url.Values{"token": {at}}, ""},
		{"a wrong secret", url.Values{"token": {at}}, basicAuth("caf", "wrong")},
		{"a client_secret_basic client's secret sent in the form", url.Values{"token": {at}, "client_id": {"caf"}, "client_secret": {f.secret}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, m := introspectAs(t, f, tt.form, tt.authorization)
			if code != http.StatusUnauthorized || m["error"] != "invalid_client" || h.Get("WWW-Authenticate") == "" {
				t.Errorf("%d %v (WWW-Authenticate %q), want 401 invalid_client with a challenge", code, m, h.Get("WWW-Authenticate"))
			}
			if _, ok := m["active"]; ok {
				t.Errorf("a refused caller learns whether the token is active: %v", m)
			}
		})
	}
}
