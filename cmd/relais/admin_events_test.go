package main

import (
	"slices"
	"testing"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

// TestAdministrativeChangesAreJournaled: relais clients create and delete
// and relais keys rotate each write an entry in the journal's admin chain.
func TestAdministrativeChangesAreJournaled(t *testing.T) {
	db, path := migratedDB(t)
	if code, _, errOut := runClients(t, noEnv, "create", "--db", db, "--id", "caf", "--name", "CAF",
		"--redirect-uri", "https://caf.example.fr/callback", "--scope", "openid"); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runClients(t, noEnv, "delete", "--db", db, "caf"); code != 0 {
		t.Fatalf("delete: exit %d: %s", code, errOut)
	}
	if code, out, err := runKeys(t, []string{"rotate", "--db", db}, envOf("RELAIS_SECRET_KEY", secretKeyB64(1))); code != 0 {
		t.Fatalf("rotate: exit %d, %q, %v", code, out, err)
	}
	// A refused change leaves no entry: the client is gone.
	if code, _, _ := runClients(t, noEnv, "delete", "--db", db, "caf"); code == 0 {
		t.Fatal("deleting an unknown client succeeded")
	}
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got []journal.Stored
	if err := st.JournalEntries(t.Context(), journal.AdminChain, func(s journal.Stored) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	var types []mandates.EventType
	for _, e := range got {
		types = append(types, e.Type)
	}
	want := []mandates.EventType{mandates.EventClientCreated, mandates.EventClientDeleted, mandates.EventKeyRotated}
	if !slices.Equal(types, want) {
		t.Fatalf("admin chain holds %v, want %v", types, want)
	}
	if got[0].ClientID != "caf" || got[1].ClientID != "caf" || got[2].Detail.Fields["kid"] == "" {
		t.Errorf("entries: %+v %+v %+v", got[0].Entry, got[1].Entry, got[2].Detail)
	}
}
