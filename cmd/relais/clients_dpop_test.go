package main

import (
	"regexp"
	"testing"
)

func TestClientsCreateRegistersDPoPBoundAccessTokens(t *testing.T) {
	db, path := migratedDB(t)
	code, _, errOut := runClients(t, noEnv, "create", "--db", db, "--id", "app", "--name", "Application", "--auth-method", "none",
		"--redirect-uri", "http://127.0.0.1:9000/cb", "--subject-type", "public", "--dpop-bound-access-tokens")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	if c := storedClient(t, path, "app"); !c.DPoPBoundAccessTokens {
		t.Errorf("stored client: DPoPBoundAccessTokens false, want true")
	}
	_, out, _ := runClients(t, noEnv, "show", "app", "--db", db)
	if !regexp.MustCompile(`(?m)^dpop_bound_access_tokens\s+true$`).MatchString(out) {
		t.Errorf("show does not say dpop_bound_access_tokens true:\n%s", out)
	}

	if code, _, errOut := runClients(t, noEnv, "create", "--db", db, "--id", "caf", "--name", "CAF",
		"--redirect-uri", "https://caf.example.fr/cb"); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	if c := storedClient(t, path, "caf"); c.DPoPBoundAccessTokens {
		t.Errorf("a client registered without the flag: DPoPBoundAccessTokens true, want false")
	}
	_, out, _ = runClients(t, noEnv, "show", "caf", "--db", db)
	if !regexp.MustCompile(`(?m)^dpop_bound_access_tokens\s+false$`).MatchString(out) {
		t.Errorf("show does not say dpop_bound_access_tokens false:\n%s", out)
	}
}
