package authz_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// encryptingSite is a site that registered encryption: its private key,
// and the key set it registered (an encryption key, beside a signing key
// that must not be used for it).
type encryptingSite struct {
	id, secret string
	alg        string
	private    any
	kid        string
}

func newEncryptingSite(t *testing.T, f *flow, id, alg string) encryptingSite {
	t.Helper()
	s := encryptingSite{id: id, alg: alg, kid: id + "-enc-1"}
	var pub any
	switch alg {
	case oauth.EncAlgRSAOAEP256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		s.private, pub = k, &k.PublicKey
	default:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s.private, pub = k, &k.PublicKey
	}
	sig, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &sig.PublicKey, KeyID: id + "-sig", Use: "sig", Algorithm: "ES256"},
		{Key: pub, KeyID: s.kid, Use: "enc", Algorithm: alg},
	}})
	var hash string
	s.secret, hash = oauth.NewClientSecret()
	f.addClient(t, oauth.Client{ID: id, Name: "Site " + id, RedirectURIs: []string{"http://127.0.0.1/cb"},
		Scopes: []string{"openid", "given_name", "offline_access"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		SecretHash: hash, JWKS: string(set), IDTokenEncryptedResponseAlg: alg, UserinfoEncryptedResponseAlg: alg})
	return s
}

// open decrypts a JWE compact token made for the site and returns the
// nested JWT, after checking the header Relais must write.
func (s encryptingSite) open(t *testing.T, raw string) string {
	t.Helper()
	if n := strings.Count(raw, "."); n != 4 {
		t.Fatalf("token has %d dots, want a JWE compact serialization (4): %.60s", n, raw)
	}
	obj, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.KeyAlgorithm(s.alg)}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("parse JWE: %v", err)
	}
	if obj.Header.KeyID != s.kid || obj.Header.ExtraHeaders["cty"] != "JWT" || obj.Header.Algorithm != s.alg {
		t.Errorf("JWE header kid %q alg %q cty %v, want kid %s, alg %s, cty JWT", obj.Header.KeyID, obj.Header.Algorithm,
			obj.Header.ExtraHeaders["cty"], s.kid, s.alg)
	}
	inner, err := obj.Decrypt(s.private)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	return string(inner)
}

func TestEncryptedIDTokenAndUserinfo(t *testing.T) {
	for _, alg := range []string{oauth.EncAlgRSAOAEP256, oauth.EncAlgECDHES} {
		t.Run(alg, func(t *testing.T) {
			f := newFlow(t)
			f.login.AMR = []string{"pwd", "otp"}
			site := newEncryptingSite(t, f, "site-"+strings.ToLower(alg), alg)
			ctx := t.Context()
			provider, err := oidc.NewProvider(ctx, f.srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			verifier := provider.Verifier(&oidc.Config{ClientID: site.id, SupportedSigningAlgs: []string{"ES256"}})

			code, pkce := f.codeFor(t, site.id, []string{"openid", "given_name", "offline_access"})
			status, body := f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {pkce}}, site.id, site.secret)
			if status != 200 {
				t.Fatalf("token: %d %v", status, body)
			}
			raw, _ := body["id_token"].(string)
			// The inner token verifies against Relais's JWKS, as any ID token.
			idt, err := verifier.Verify(ctx, site.open(t, raw))
			if err != nil {
				t.Fatalf("the decrypted ID token does not verify: %v", err)
			}
			var claims struct {
				ACR string `json:"acr"`
			}
			idt.Claims(&claims)
			if idt.Nonce != "nonce-123456" || claims.ACR != "eidas2" {
				t.Errorf("ID token nonce %q acr %q, want nonce-123456 and eidas2 (a login with its second factor)", idt.Nonce, claims.ACR)
			}

			// The refresh grant's ID token is encrypted too.
			refresh, _ := body["refresh_token"].(string)
			status, body2 := f.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, site.id, site.secret)
			if status != 200 {
				t.Fatalf("refresh: %d %v", status, body2)
			}
			raw2, _ := body2["id_token"].(string)
			if _, err := verifier.Verify(ctx, site.open(t, raw2)); err != nil {
				t.Errorf("the refreshed ID token does not verify: %v", err)
			}

			// userinfo: application/jwt, signed (iss, aud) then encrypted.
			req, _ := http.NewRequest("GET", f.srv.URL+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+body2["access_token"].(string))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/jwt" {
				t.Fatalf("userinfo: %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), answer)
			}
			payload, err := oidc.NewRemoteKeySet(ctx, f.srv.URL+"/jwks").VerifySignature(ctx, site.open(t, string(answer)))
			if err != nil {
				t.Fatalf("the decrypted userinfo answer does not verify: %v", err)
			}
			var ui map[string]any
			json.Unmarshal(payload, &ui)
			if ui["given_name"] != "Jeanne Odette" || ui["iss"] != f.srv.URL || ui["aud"] != site.id || ui["sub"] != idt.Subject {
				t.Errorf("userinfo claims %v", ui)
			}
		})
	}
}

func TestClientWithoutEncryptionGetsSignedTokens(t *testing.T) {
	f := newFlow(t)
	code, pkce := f.codeFor(t, f.client.ID, []string{"openid", "email"})
	status, body := f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {pkce}}, f.client.ID, f.secret)
	raw, _ := body["id_token"].(string)
	if status != 200 || strings.Count(raw, ".") != 2 {
		t.Fatalf("token: %d, ID token %.60s…; want a JWS", status, raw)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("userinfo content type %q, want plain JSON", ct)
	}
}

// A site whose keys cannot be read when its ID token is made (here a
// jwks_uri whose certificate Relais does not trust) gets invalid_client
// and no token at all, on the code grant and on the refresh grant; its
// refresh token is not rotated away, and works again once its keys do.
func TestUnusableEncryptionKeyRefusesTheTokenRequest(t *testing.T) {
	f := newFlow(t)
	keysSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(keysSrv.Close)
	site := newEncryptingSite(t, f, "moving", oauth.EncAlgRSAOAEP256)
	code, pkce := f.codeFor(t, site.id, []string{"openid", "offline_access"})
	status, body := f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {pkce}}, site.id, site.secret)
	if status != 200 {
		t.Fatalf("token while the keys serve: %d %v", status, body)
	}
	refresh, _ := body["refresh_token"].(string)
	registered, _ := f.store.Client(t.Context(), site.id)

	// The site moves its keys to a URL Relais cannot read.
	if _, err := f.store.UpdateClient(t.Context(), site.id, func(c *oauth.Client) error {
		c.JWKS, c.JWKSURI = "", keysSrv.URL+"/jwks.json"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	refused := func(what string, status int, body map[string]any) {
		t.Helper()
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" || body["id_token"] != nil || body["access_token"] != nil {
			t.Errorf("%s with unreadable keys: %d %v, want 401 invalid_client and no token", what, status, body)
		}
		if d, _ := body["error_description"].(string); strings.Contains(d, "x509") || strings.Contains(d, keysSrv.URL) {
			t.Errorf("%s: the description tells Relais's internals: %q", what, d)
		}
	}
	code, pkce = f.codeFor(t, site.id, []string{"openid"})
	status, body = f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {pkce}}, site.id, site.secret)
	refused("code grant", status, body)
	status, body = f.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, site.id, site.secret)
	refused("refresh grant", status, body)

	// Keys mended: the same refresh token works, and the ID token is
	// encrypted again.
	if _, err := f.store.UpdateClient(t.Context(), site.id, func(c *oauth.Client) error {
		c.JWKS, c.JWKSURI = registered.JWKS, ""
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	status, body = f.tokenRequest(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, site.id, site.secret)
	if status != 200 {
		t.Fatalf("the same refresh token once the keys are mended: %d %v", status, body)
	}
	raw, _ := body["id_token"].(string)
	site.open(t, raw)
}

func TestUnusableEncryptionKeyRefusesUserinfo(t *testing.T) {
	f := newFlow(t)
	keysSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(keysSrv.Close)
	secret, hash := oauth.NewClientSecret()
	f.addClient(t, oauth.Client{ID: "ui-only", Name: "Site", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid", "given_name"},
		GrantTypes: []string{"authorization_code"}, SecretHash: hash, JWKSURI: keysSrv.URL + "/jwks.json",
		UserinfoEncryptedResponseAlg: oauth.EncAlgECDHES})
	code, pkce := f.codeFor(t, "ui-only", []string{"openid", "given_name"})
	status, body := f.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {pkce}}, "ui-only", secret)
	if status != 200 {
		t.Fatalf("token (ID token not encrypted): %d %v", status, body)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+body["access_token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer map[string]any
	json.NewDecoder(res.Body).Decode(&answer)
	if res.StatusCode != http.StatusUnauthorized || answer["error"] != "invalid_client" || answer["given_name"] != nil ||
		res.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("userinfo with unreadable keys: %d %v (challenge %q), want 401 invalid_client with a challenge and no claims",
			res.StatusCode, answer, res.Header.Get("WWW-Authenticate"))
	}
}

// A private_key_jwt site whose key set lists its encryption key first
// still signs its assertions with its signing key's algorithm: the
// encryption key signs nothing.
func TestEncryptionKeyFirstDoesNotChangeTheAssertionAlg(t *testing.T) {
	f := newFlow(t)
	encKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	sigKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &encKey.PublicKey, KeyID: "enc-1", Use: "enc"},
		{Key: &sigKey.PublicKey, KeyID: "sig-1", Use: "sig", Algorithm: "ES256"},
	}})
	f.addClient(t, oauth.Client{ID: "both", Name: "Site", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"client_credentials"}, TokenEndpointAuthMethod: oauth.AuthMethodPrivateKeyJWT, JWKS: string(set),
		IDTokenEncryptedResponseAlg: oauth.EncAlgRSAOAEP256})
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: sigKey}, (&jose.SignerOptions{}).WithHeader("kid", "sig-1").WithType("JWT"))
	now := time.Now()
	assertion, err := josejwt.Signed(signer).Claims(josejwt.Claims{Issuer: "both", Subject: "both", Audience: josejwt.Audience{f.srv.URL + "/token"},
		ID: "jti-both", IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	status, body := f.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"both"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}, "", "")
	if status != 200 {
		t.Errorf("private_key_jwt with the encryption key listed first: %d %v", status, body)
	}
}

// Registration refuses what Relais could not honour, whatever the path:
// here the provider's own store.
func TestEncryptionRegistrationRefusals(t *testing.T) {
	f := newFlow(t)
	sig, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sigOnly, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &sig.PublicKey, KeyID: "sig", Use: "sig", Algorithm: "ES256"}}})
	enc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &sig.PublicKey, KeyID: "enc", Use: "enc"}}})
	tests := []struct {
		name, field string
		change      func(c *oauth.Client)
	}{
		{"a bad alg", "id_token_encrypted_response_alg", func(c *oauth.Client) { c.JWKS, c.IDTokenEncryptedResponseAlg = string(enc), "RSA1_5" }},
		{"a bad enc", "userinfo_encrypted_response_enc", func(c *oauth.Client) {
			c.JWKS, c.UserinfoEncryptedResponseAlg, c.UserinfoEncryptedResponseEnc = string(enc), oauth.EncAlgECDHES, "A128GCM"
		}},
		{"an alg but no keys", "id_token_encrypted_response_alg", func(c *oauth.Client) { c.IDTokenEncryptedResponseAlg = oauth.EncAlgECDHES }},
		{"a key set with no usable encryption key", "jwks", func(c *oauth.Client) { c.JWKS, c.IDTokenEncryptedResponseAlg = string(sigOnly), oauth.EncAlgECDHES }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, hash := oauth.NewClientSecret()
			c := oauth.Client{ID: "refused", Name: "Site", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
				GrantTypes: []string{"authorization_code"}, SecretHash: hash, SectorIdentifier: "refused.example.fr"}
			tt.change(&c)
			var ce *oauth.ClientError
			if err := f.store.CreateClient(t.Context(), c); !errors.As(err, &ce) || ce.Field != tt.field {
				t.Errorf("CreateClient = %v, want a ClientError on %s", err, tt.field)
			}
			if _, err := f.store.Client(t.Context(), "refused"); !errors.Is(err, mandates.ErrNotFound) {
				t.Errorf("the refused client was stored: %v", err)
			}
		})
	}
}
