package storagetest

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// providerOnly tells the packages a store must never link: authz, the
// OAuth library and what it brings with it (OpenTelemetry, gRPC). A store
// implements the provider's stores with the plain records of authz/oauth,
// authn and keyring (authz/oauth/doc.go).
func providerOnly(dep string) bool {
	within := func(root string) bool { return dep == root || strings.HasPrefix(dep, root+"/") }
	return dep == "github.com/relais-fr/relais/authz" || within("github.com/ory/fosite") ||
		within("go.opentelemetry.io") || within("google.golang.org/grpc")
}

// LinksNoProvider fails t if a package in pkgs (as the go command names
// them, relative to the test's directory) depends on fosite,
// OpenTelemetry, gRPC or authz itself. authz/oauth is allowed: it is the
// provider's fosite-free records.
func LinksNoProvider(t *testing.T, pkgs ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", append([]string{"list", "-deps"}, pkgs...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", strings.Join(pkgs, " "), err, stderr.String())
	}
	n := 0
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); n++ {
		if dep := sc.Text(); providerOnly(dep) {
			t.Errorf("%s links %s", strings.Join(pkgs, " "), dep)
		}
	}
	if n == 0 {
		t.Fatalf("go list -deps %s listed nothing", strings.Join(pkgs, " "))
	}
}
