package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/relais-fr/relais/authz/oauth"
)

// encJWKS is the EC P-256 key of publicJWKS, registered for encryption.
var encJWKS = strings.NewReplacer(`"use": "sig"`, `"use": "enc"`, `"alg": "ES256"`, `"alg": "ECDH-ES"`).Replace(publicJWKS)

func TestClientsCreateRegistersEncryption(t *testing.T) {
	db, path := migratedDB(t)
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(keys, []byte(encJWKS), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runClients(t, noEnv, "create", "--db", db, "--id", "fc-idp", "--name", "Fournisseur d'identité",
		"--redirect-uri", "https://idp.example.fr/cb", "--jwks-file", keys,
		"--id-token-encryption-alg", "ECDH-ES", "--userinfo-encryption-alg", "ECDH-ES", "--userinfo-encryption-enc", "A256GCM")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	c := storedClient(t, path, "fc-idp")
	if c.IDTokenEncryptedResponseAlg != oauth.EncAlgECDHES || c.IDTokenEncryptedResponseEnc != oauth.EncA256GCM ||
		c.UserinfoEncryptedResponseAlg != oauth.EncAlgECDHES || c.UserinfoEncryptedResponseEnc != oauth.EncA256GCM {
		t.Errorf("stored: %q/%q and %q/%q, want ECDH-ES/A256GCM for both (A256GCM by default)", c.IDTokenEncryptedResponseAlg,
			c.IDTokenEncryptedResponseEnc, c.UserinfoEncryptedResponseAlg, c.UserinfoEncryptedResponseEnc)
	}
	_, out, _ := runClients(t, noEnv, "show", "fc-idp", "--db", db)
	for _, re := range []string{`(?m)^id_token_encrypted_response_alg\s+ECDH-ES$`, `(?m)^id_token_encrypted_response_enc\s+A256GCM$`,
		`(?m)^userinfo_encrypted_response_alg\s+ECDH-ES$`, `(?m)^userinfo_encrypted_response_enc\s+A256GCM$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("show does not match %s:\n%s", re, out)
		}
	}
}

// TestClientsBadEncryptionExitWithStatus2: each refusal names the flag to
// fix in one sentence, and nothing is stored.
func TestClientsBadEncryptionExitWithStatus2(t *testing.T) {
	db, _ := migratedDB(t)
	dir := t.TempDir()
	sigOnly := filepath.Join(dir, "sig.json")
	os.WriteFile(sigOnly, []byte(publicJWKS), 0o600)
	enc := filepath.Join(dir, "enc.json")
	os.WriteFile(enc, []byte(encJWKS), 0o600)
	ok := []string{"create", "--db", db, "--name", "Site", "--redirect-uri", "https://site.example.fr/cb"}
	with := func(extra ...string) []string { return append(slices.Clone(ok), extra...) }
	tests := []struct {
		name  string
		args  []string
		names string
	}{
		{"an alg not offered", with("--jwks-file", enc, "--id-token-encryption-alg", "RSA1_5"), "--id-token-encryption-alg"},
		{"an enc not offered", with("--jwks-file", enc, "--id-token-encryption-alg", "ECDH-ES", "--id-token-encryption-enc", "A128CBC-HS256"), "--id-token-encryption-enc"},
		{"an enc without its alg", with("--jwks-file", enc, "--userinfo-encryption-enc", "A256GCM"), "--userinfo-encryption-enc"},
		{"an alg without keys", with("--id-token-encryption-alg", "RSA-OAEP-256"), "--jwks-file or --jwks-uri"},
		{"userinfo encryption without keys", with("--userinfo-encryption-alg", "ECDH-ES"), "--userinfo-encryption-alg"},
		{"keys for signing only", with("--jwks-file", sigOnly, "--id-token-encryption-alg", "ECDH-ES"), "--jwks-file"},
		{"an EC key for RSA-OAEP-256", with("--jwks-file", enc, "--userinfo-encryption-alg", "RSA-OAEP-256"), "--jwks-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runClients(t, noEnv, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, errOut)
			}
			oneLine(t, errOut, tt.names)
		})
	}
	if code, out, _ := runClients(t, noEnv, "list", "--db", db); code != 0 || !strings.Contains(out, "No client") {
		t.Errorf("refused creates stored something: exit %d\n%s", code, out)
	}
}
