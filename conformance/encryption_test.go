package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// roleJWE and roleJWEEC are sites that registered an encryption key, RSA
// and EC P-256: their ID tokens and userinfo answers come encrypted to it
// (OIDC Registration §2), as FranceConnect asks of the identity providers
// it federates.
const (
	roleJWE   role = "JWE_"
	roleJWEEC role = "JWE_EC_"
)

// decrypter is the private half of the key a site registered for
// encryption, and how it registered it.
type decrypter struct {
	key any // *rsa.PrivateKey or *ecdsa.PrivateKey
	kid string
	alg string
}

// open decrypts a JWE compact token made for the site, after checking the
// header a nested JWT carries, and returns the signed JWT inside.
func (d *decrypter) open(t testing.TB, what, raw string) string {
	t.Helper()
	if n := strings.Count(raw, "."); n != 4 {
		t.Fatalf("%s has %d dots, want a JWE compact serialization (4): %.60s…", what, n, raw)
	}
	obj, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.KeyAlgorithm(d.alg)}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("%s: not a JWE for %s with A256GCM: %v", what, d.alg, err)
	}
	if obj.Header.KeyID != d.kid || obj.Header.ExtraHeaders["cty"] != "JWT" {
		t.Errorf("%s: JWE header kid %q cty %v, want kid %s and cty JWT (a nested JWT, RFC 7519 §5.2)", what, obj.Header.KeyID,
			obj.Header.ExtraHeaders["cty"], d.kid)
	}
	inner, err := obj.Decrypt(d.key)
	if err != nil {
		t.Fatalf("%s does not decrypt with the site's key: %v", what, err)
	}
	return string(inner)
}

// registerEncrypting registers the sites of roleJWE and roleJWEEC with
// `relais clients create`: a key for encryption in each key set, and
// RSA-OAEP-256 or ECDH-ES for their ID tokens and userinfo answers
// (A256GCM by default).
func (tg *target) registerEncrypting(t *testing.T, env []string, db string) {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		role     role
		id, port string
		private  any
		public   any
		alg      string
	}{
		{roleJWE, "conformance-jwe", "8089", rsaKey, &rsaKey.PublicKey, "RSA-OAEP-256"},
		{roleJWEEC, "conformance-jwe-ec", "8090", ecKey, &ecKey.PublicKey, "ECDH-ES"},
	} {
		d := &decrypter{key: r.private, kid: r.id + "-enc-1", alg: r.alg}
		set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: r.public, KeyID: d.kid, Algorithm: d.alg, Use: "enc"}}})
		file := filepath.Join(t.TempDir(), r.id+".jwks.json")
		if err := os.WriteFile(file, set, 0o600); err != nil {
			t.Fatal(err)
		}
		c := &rp{ID: r.id, RedirectURI: "http://127.0.0.1:" + r.port + "/callback", AuthStyle: oauth2.AuthStyleInHeader,
			Scopes: []string{"openid", "email"}}
		out := relaisRun(t, env, "clients", "create", "--db", db, "--id", c.ID, "--redirect-uri", c.RedirectURI,
			"--name", "Site receiving encrypted ID tokens (conformance)", "--scope", "openid email", "--grant-type", "authorization_code",
			"--jwks-file", file, "--id-token-encryption-alg", d.alg, "--userinfo-encryption-alg", d.alg,
			"--sector-identifier", "jwe.conformance.example")
		if c.Secret = field(out, "client_secret:"); c.Secret == "" {
			t.Fatalf("relais clients create printed no client_secret:\n%s", out)
		}
		tg.clients[r.role], tg.decrypters[r.role] = c, d
	}
}

// testEncryptedIDToken: the site decrypts its ID token and its userinfo
// answer with go-jose and its own key, and what is inside verifies with
// the issuer's published keys, as any ID token does.
func testEncryptedIDToken(t *testing.T, tg *target) {
	doc := tg.metadata(t)
	for _, name := range []string{"id_token_encryption_alg_values_supported", "userinfo_encryption_alg_values_supported"} {
		if !slices.Contains(stringList(doc[name]), "RSA-OAEP-256") || !slices.Contains(stringList(doc[name]), "ECDH-ES") {
			t.Errorf("%s = %v, want RSA-OAEP-256 and ECDH-ES", name, doc[name])
		}
	}
	for _, name := range []string{"id_token_encryption_enc_values_supported", "userinfo_encryption_enc_values_supported"} {
		if !slices.Equal(stringList(doc[name]), []string{"A256GCM"}) {
			t.Errorf("%s = %v, want [A256GCM]", name, doc[name])
		}
	}
	if acr := stringList(doc["acr_values_supported"]); !slices.Contains(acr, "eidas1") || !slices.Contains(acr, "eidas2") {
		t.Errorf("acr_values_supported = %v, want eidas1 and eidas2", acr)
	}

	for _, r := range []role{roleJWE, roleJWEEC} {
		t.Run(tg.decrypters[r].alg, func(t *testing.T) { decryptTokens(t, tg, r) })
	}
}

// decryptTokens logs in at the site of r and opens what it receives.
func decryptTokens(t *testing.T, tg *target, r role) {
	c, d := tg.clients[r], tg.decrypters[r]
	f, tok := tg.login(t, c, oauth2.SetAuthURLParam("acr_values", "eidas1"))
	raw, _ := tok.Extra("id_token").(string)
	inner := d.open(t, "the ID token", raw)
	idt, err := tg.provider(t).Verifier(&oidc.Config{ClientID: c.ID, SupportedSigningAlgs: []string{"ES256"}}).Verify(tg.ctx(t), inner)
	if err != nil {
		t.Fatalf("the decrypted ID token does not verify with the issuer's keys: %v", err)
	}
	var claims struct {
		ACR   string `json:"acr"`
		Email string `json:"email"`
	}
	idt.Claims(&claims)
	if idt.Nonce != f.nonce || claims.ACR != "eidas1" {
		t.Errorf("ID token nonce %q acr %q, want %q and eidas1 (a password login)", idt.Nonce, claims.ACR, f.nonce)
	}

	res, body := tg.get(t, tg.endpoint(t, "userinfo_endpoint"), tok.AccessToken)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("userinfo: %d %q, want 200 application/jwt", res.StatusCode, res.Header.Get("Content-Type"))
	}
	payload, err := oidc.NewRemoteKeySet(tg.ctx(t), tg.endpoint(t, "jwks_uri")).VerifySignature(tg.ctx(t), d.open(t, "the userinfo answer", string(body)))
	if err != nil {
		t.Fatalf("the decrypted userinfo answer does not verify with the issuer's keys: %v", err)
	}
	var ui map[string]any
	if err := json.Unmarshal(payload, &ui); err != nil {
		t.Fatal(err)
	}
	if ui["sub"] != idt.Subject || ui["aud"] != c.ID || ui["iss"] != tg.issuer || ui["email"] != tg.account.Email {
		t.Errorf("userinfo claims %v: want the ID token's sub, aud %s, iss %s and the account's email", ui, c.ID, tg.issuer)
	}
}
