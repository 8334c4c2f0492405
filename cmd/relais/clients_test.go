package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/storage/sqlite"
)

// runClients runs "relais clients ARGS" and returns what run() would:
// the exit status, stdout and stderr. run.go does not register the
// command yet, so this mounts it on a root set up as newRoot's and maps
// the error as run() does.
func runClients(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := &cobra.Command{Use: "relais", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(newClients(&stdout, getenv))
	markUsageErrors(root)
	root.SetArgs(append([]string{"clients"}, args...))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(t.Context())
	code := 0
	var ce *configError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		stderr.WriteString("relais: " + ce.msg + "\n")
		code = 2
	case isUsageError(err):
		stderr.WriteString("relais: " + err.Error() + "; see relais --help.\n")
		code = 2
	default:
		stderr.WriteString("relais: " + err.Error() + "\n")
		code = 1
	}
	return code, stdout.String(), stderr.String()
}

// migratedDB is a fresh SQLite store with the schema applied by relais
// migrate up.
func migratedDB(t *testing.T) (db, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "relais.db")
	db = "sqlite:" + path
	if code := run(t.Context(), []string{"migrate", "up", "--db", db}, io.Discard, io.Discard, noEnv); code != 0 {
		t.Fatalf("migrate up: exit %d", code)
	}
	return db, path
}

func storedClient(t *testing.T, path, id string) oauth.Client {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Client(t.Context(), id)
	if err != nil {
		t.Fatalf("stored client %s: %v", id, err)
	}
	return c
}

// oneLine checks run()'s contract for failures: one line, "relais: ", and
// the words that say what to fix.
func oneLine(t *testing.T, stderr, names string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "relais: ") {
		t.Errorf("want one line starting with 'relais: ', got %q", stderr)
	}
	if !strings.Contains(stderr, names) {
		t.Errorf("message does not name %q: %s", names, stderr)
	}
}

var secretRe = regexp.MustCompile(`(?m)^client_secret: (\S+)$`)

const publicJWKS = `{
  "keys": [
    {"use": "sig", "kty": "EC", "kid": "caf-2026", "crv": "P-256", "alg": "ES256",
     "x": "T95KPUhq3ko2LJyRTGwopJp5wlDjeCHX35WUeXAQi64", "y": "B3yfYxpALECBTvi34TY7cIv3d4Aat91Rpx9Vz_c59_A"}
  ]
}
`

func TestClientsCreateShowListDelete(t *testing.T) {
	db, path := migratedDB(t)

	code, out, errOut := runClients(t, noEnv, "create", "--db", db, "--id", "caf", "--name", "Caisse d'allocations familiales",
		"--redirect-uri", "https://caf.example.fr/callback", "--redirect-uri", "http://localhost:3000/cb",
		"--post-logout-redirect-uri", "https://caf.example.fr/au-revoir", "--scope", "openid profile", "--scope", "email")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	m := secretRe.FindAllStringSubmatch(out, -1)
	if len(m) != 1 || !strings.Contains(out, "will not be shown again") {
		t.Fatalf("create must print the secret once, with a warning:\n%s", out)
	}
	secret := m[0][1]
	if strings.Count(out, secret) != 1 {
		t.Errorf("the secret is printed %d times", strings.Count(out, secret))
	}

	c := storedClient(t, path, "caf")
	if !oauth.ClientSecretMatches(c.SecretHash, secret) {
		t.Error("the stored hash does not match the printed secret")
	}
	if strings.Contains(out, c.SecretHash) {
		t.Error("create printed the secret's hash")
	}
	// Defaults: the sector is the first redirect URI's host (OIDC Core §8.1).
	if c.SectorIdentifier != "caf.example.fr" || c.TokenEndpointAuthMethod != oauth.AuthMethodSecretBasic ||
		c.SubjectType != oauth.SubjectPairwise || c.IDTokenSignedResponseAlg != oauth.AlgES256 ||
		!slices.Equal(c.Scopes, []string{"openid", "profile", "email"}) ||
		!slices.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
		!slices.Equal(c.PostLogoutRedirectURIs, []string{"https://caf.example.fr/au-revoir"}) {
		t.Errorf("stored client: %+v", c)
	}

	code, out, _ = runClients(t, noEnv, "show", "caf", "--db", db)
	if code != 0 || !strings.Contains(out, "https://caf.example.fr/au-revoir") || !strings.Contains(out, "client_secret_basic") {
		t.Errorf("show: exit %d:\n%s", code, out)
	}
	if strings.Contains(out, secret) || strings.Contains(out, c.SecretHash) {
		t.Errorf("show printed the secret or its hash:\n%s", out)
	}

	// A public client gets no secret; a private_key_jwt client neither.
	code, out, errOut = runClients(t, noEnv, "create", "--db", db, "--name", "Application mobile", "--auth-method", "none",
		"--redirect-uri", "http://127.0.0.1:9000/cb", "--subject-type", "public")
	if code != 0 || strings.Contains(out, "client_secret:") {
		t.Fatalf("create a public client: exit %d %s\n%s", code, errOut, out)
	}
	keys := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(keys, []byte(publicJWKS), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runClients(t, noEnv, "create", "--db", db, "--id", "impots", "--name", "Impôts", "--auth-method", "private_key_jwt",
		"--jwks-file", keys, "--redirect-uri", "https://impots.example.fr/cb", "--id-token-alg", "RS256", "--userinfo-alg", "ES256",
		"--require-signed-request-object")
	if code != 0 || strings.Contains(out, "client_secret:") || !strings.Contains(out, `"kid":"caf-2026"`) ||
		!regexp.MustCompile(`require_signed_request_object\s+true`).MatchString(out) {
		t.Fatalf("create a private_key_jwt client: exit %d %s\n%s", code, errOut, out)
	}
	if k := storedClient(t, path, "impots"); k.SecretHash != "" || k.JWKS == "" || k.IDTokenSignedResponseAlg != "RS256" || k.UserinfoSignedResponseAlg != "ES256" ||
		!k.RequireSignedRequestObject {
		t.Errorf("stored private_key_jwt client: %+v", k)
	}

	// The store may come from RELAIS_DB, as for every command.
	code, out, _ = runClients(t, envOf("RELAIS_DB", db), "list")
	if code != 0 || !strings.Contains(out, "caf ") || !strings.Contains(out, "Caisse d'allocations familiales") ||
		!strings.Contains(out, "Application mobile") || !strings.Contains(out, "impots") {
		t.Errorf("list: exit %d:\n%s", code, out)
	}

	code, _, errOut = runClients(t, noEnv, "create", "--db", db, "--id", "caf", "--name", "Autre", "--redirect-uri", "https://autre.example.fr/cb")
	if code != 1 {
		t.Errorf("create with a taken id: exit %d, want 1", code)
	}
	oneLine(t, errOut, "already exists")

	code, out, errOut = runClients(t, noEnv, "delete", "caf", "--db", db)
	if code != 0 || !strings.Contains(out, `"caf"`) || !strings.Contains(out, "deleted") {
		t.Errorf("delete: exit %d %s\n%s", code, errOut, out)
	}
	for _, cmd := range []string{"show", "delete"} {
		code, _, errOut = runClients(t, noEnv, cmd, "caf", "--db", db)
		if code != 1 {
			t.Errorf("%s of a deleted client: exit %d, want 1", cmd, code)
		}
		oneLine(t, errOut, `no client has the id "caf"`)
	}
	if _, out, _ := runClients(t, noEnv, "list", "--db", db); strings.Contains(out, "caf ") {
		t.Errorf("list still shows the deleted client:\n%s", out)
	}
}

// TestClientsBadValuesExitWithStatus2: each refusal names the flag to fix
// in one sentence, and nothing is stored.
func TestClientsBadValuesExitWithStatus2(t *testing.T) {
	db, _ := migratedDB(t)
	dir := t.TempDir()
	privateKeys := filepath.Join(dir, "private.json")
	os.WriteFile(privateKeys, []byte(strings.Replace(publicJWKS, `"kty"`, `"d": "c2VjcmV0", "kty"`, 1)), 0o600)
	notJSON := filepath.Join(dir, "notes.txt")
	os.WriteFile(notJSON, []byte("my keys"), 0o600)

	ok := []string{"create", "--db", db, "--name", "Site", "--redirect-uri", "https://site.example.fr/cb"}
	with := func(extra ...string) []string { return append(slices.Clone(ok), extra...) }
	tests := []struct {
		name  string
		args  []string
		env   func(string) string
		names string
	}{
		{"a create without a name", []string{"create", "--db", db, "--redirect-uri", "https://site.example.fr/cb"}, noEnv, "--name"},
		{"an http redirect URI on a public host", with("--redirect-uri", "http://site.example.fr/cb"), noEnv, "--redirect-uri"},
		{"a post-logout redirect URI with a fragment", with("--post-logout-redirect-uri", "https://site.example.fr/#bye"), noEnv, "--post-logout-redirect-uri"},
		{"an unknown auth method", with("--auth-method", "magic"), noEnv, "--auth-method"},
		{"private_key_jwt without keys", with("--auth-method", "private_key_jwt"), noEnv, "--jwks-file or --jwks-uri"},
		{"a key set file that does not exist", with("--auth-method", "private_key_jwt", "--jwks-file", filepath.Join(dir, "missing.json")), noEnv, "--jwks-file"},
		{"a key set file holding a private key", with("--auth-method", "private_key_jwt", "--jwks-file", privateKeys), noEnv, "private member"},
		{"a key set file that is not JSON", with("--auth-method", "private_key_jwt", "--jwks-file", notJSON), noEnv, "--jwks-file"},
		{"a key set URL over http", with("--auth-method", "private_key_jwt", "--jwks-uri", "http://site.example.fr/jwks"), noEnv, "--jwks-uri"},
		{"signed request objects required without keys", with("--require-signed-request-object"), noEnv, "--require-signed-request-object"},
		{"an unknown subject type", with("--subject-type", "secret"), noEnv, "--subject-type"},
		{"pairwise subjects without a sector", []string{"create", "--db", db, "--name", "API", "--grant-type", "client_credentials"}, noEnv, "--sector-identifier"},
		{"an unsigned ID token", with("--id-token-alg", "none"), noEnv, "--id-token-alg"},
		{"an unknown userinfo algorithm", with("--userinfo-alg", "HS256"), noEnv, "--userinfo-alg"},
		{"an unknown store", []string{"create", "--db", "oracle://x", "--name", "Site", "--redirect-uri", "https://site.example.fr/cb"}, noEnv, "unknown store"},
		{"a bad store variable", []string{"list", "--db", db}, envOf("RELAIS_BUSY_TIMEOUT", "soon"), "RELAIS_BUSY_TIMEOUT"},
		{"show without an id", []string{"show", "--db", db}, noEnv, "accepts 1 arg"},
		{"an unknown flag", with("--secret", "mine"), noEnv, "--secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runClients(t, tt.env, tt.args...)
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
