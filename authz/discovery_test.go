package authz_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDiscoveryDocument compares the discovery document with
// testdata/discovery.golden (run with -update to rewrite it after a change
// you mean), with the test server's address replaced by ISSUER.
func TestDiscoveryDocument(t *testing.T) {
	f := newFlow(t)
	res, err := http.Get(f.srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("discovery: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(doc, "", "  ")
	got = bytes.ReplaceAll(got, []byte(f.srv.URL), []byte("ISSUER"))
	got = append(got, '\n')
	const golden = "testdata/discovery.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./authz -run TestDiscoveryDocument -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("discovery document differs from %s:\n%s", golden, got)
	}
	// OIDC Discovery §3 REQUIRED fields, whatever the golden file says.
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
		"subject_types_supported", "id_token_signing_alg_values_supported"} {
		if doc[k] == nil {
			t.Errorf("discovery lacks the required %s", k)
		}
	}
	if doc["issuer"] != f.srv.URL {
		t.Errorf("issuer %v, want %s", doc["issuer"], f.srv.URL)
	}
}
