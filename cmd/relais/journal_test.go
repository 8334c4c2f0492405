package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

// runRelais runs the command line and returns its exit status and output.
func runRelais(t *testing.T, env func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, &out, &errOut, env)
	return code, out.String(), errOut.String()
}

// journalDB is a migrated SQLite file whose journal holds two people's
// chains, written as the service writes them.
func journalDB(t *testing.T) (db, path, person string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "relais.db")
	db = "sqlite:" + path
	if code, _, stderr := runRelais(t, noEnv, "migrate", "up", "--db", db); code != 0 {
		t.Fatalf("migrate up: %s", stderr)
	}
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j := journal.New(st, journal.Options{})
	person = mandates.NewID(time.Now())
	at := time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC)
	for i, p := range []string{person, person, person, "other", person} {
		e := mandates.Event{Type: mandates.EventActivated, At: at.Add(time.Duration(i) * 24 * time.Hour), ActorID: "marie", PersonID: p,
			ClientID: "caf", Detail: map[string]string{"motif": "dossier"}}
		if err := st.InTx(t.Context(), func(ctx context.Context) error { return j.Emit(ctx, e) }); err != nil {
			t.Fatal(err)
		}
	}
	return db, path, person
}

// publishedJWKS is what /jwks serves: the token keys and the journal key.
func publishedJWKS(t *testing.T, path string) string {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	box, _ := keyring.NewSecretBox(bytes.Repeat([]byte{'k'}, 32))
	keys := keyring.NewKeys(st, box, time.Now, time.Hour, time.Hour)
	if err := keys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys.PublishAlso(keyring.NewJournalKeys(st, box, time.Now))
	set, err := keys.Public(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(set)
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestJournalCommands(t *testing.T) {
	db, path, person := journalDB(t)
	env := envOf("RELAIS_SECRET_KEY", testSecretKey)

	code, out, stderr := runRelais(t, env, "journal", "checkpoint", "--db", db)
	if code != 0 || !strings.Contains(out, "checkpoint 1 signed by journal-") {
		t.Fatalf("checkpoint: exit %d, %q %q", code, out, stderr)
	}
	code, out, stderr = runRelais(t, env, "journal", "verify", "--db", db)
	if code != 0 || !strings.Contains(out, "2 chains, 5 entries (0 details erased), 1 checkpoints; 0 entries not yet covered by a checkpoint") {
		t.Fatalf("verify: exit %d, %q %q", code, out, stderr)
	}

	// An export verifies offline, with the published JWK set alone.
	export := filepath.Join(t.TempDir(), "journal.json")
	if code, _, stderr := runRelais(t, noEnv, "journal", "export", "--db", db, "--person", person, "-o", export); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	jwks := publishedJWKS(t, path)
	code, out, stderr = runRelais(t, noEnv, "journal", "verify", "--file", export, "--jwks", jwks)
	if code != 0 || !strings.Contains(out, "4 entries") || !strings.Contains(out, "checkpoint 1 signs it up to entry 4; 0 entries not yet covered") {
		t.Fatalf("verify --file: exit %d, %q %q", code, out, stderr)
	}

	// A forged export is rejected with the reason.
	raw, _ := os.ReadFile(export)
	forgeries := []struct {
		name, from, to, want string
	}{
		{"an actor changed", `"actor_id": "marie"`, `"actor_id": "paul"`, "entry 1: edited"},
		{"a detail changed", `"motif": "dossier"`, `"motif": "autre"`, "entry 1: edited: its detail"},
		{"the format changed", journal.ExportFormat, "relais-journal-export/9", "not a journal export"},
	}
	for _, f := range forgeries {
		t.Run(f.name, func(t *testing.T) {
			forged := filepath.Join(t.TempDir(), "forged.json")
			if err := os.WriteFile(forged, bytes.Replace(raw, []byte(f.from), []byte(f.to), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runRelais(t, noEnv, "journal", "verify", "--file", forged, "--jwks", jwks)
			if code != 1 || !strings.Contains(stderr, f.want) {
				t.Errorf("forged export: exit %d, %q; want 1 naming %q", code, stderr, f.want)
			}
		})
	}
	other := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(other, []byte(`{"keys":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runRelais(t, noEnv, "journal", "verify", "--file", export, "--jwks", other); code != 1 || !strings.Contains(stderr, "bad signature") {
		t.Errorf("export checked with keys that did not sign it: exit %d, %q", code, stderr)
	}

	// Erasure keeps the journal verifiable.
	code, out, stderr = runRelais(t, noEnv, "journal", "erase", "--db", db, "--person", person, "--before", "2026-03-05")
	if code != 0 || !strings.Contains(out, "erased the details of 2 entries") {
		t.Fatalf("erase: exit %d, %q %q", code, out, stderr)
	}
	if code, out, stderr := runRelais(t, env, "journal", "verify", "--db", db, "--person", person); code != 0 || !strings.Contains(out, "(2 details erased)") {
		t.Fatalf("verify after erasure: exit %d, %q %q", code, out, stderr)
	}

	// Tampering in the file: exit 1, naming the entry.
	raw2, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw2.Close()
	if _, err := raw2.Exec(`UPDATE journal_entries SET client_id = 'impots' WHERE chain = ? AND seq = 3`, person); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runRelais(t, env, "journal", "verify", "--db", db)
	if code != 1 || !strings.Contains(stderr, "chain "+person+", entry 3: edited") {
		t.Errorf("verify after tampering: exit %d, %q", code, stderr)
	}
}

func TestJournalCommandsRefuseBadSettings(t *testing.T) {
	db, _, person := journalDB(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"export without a person", []string{"journal", "export", "--db", db}, "--person is required"},
		{"erase before no date", []string{"journal", "erase", "--db", db, "--person", person, "--before", "last week"}, "--before"},
		{"checkpoint without the secret key", []string{"journal", "checkpoint", "--db", db}, "RELAIS_SECRET_KEY"},
		{"verify a file that does not exist", []string{"journal", "verify", "--file", "/nonexistent/x.json"}, "--file"},
		{"serve with a checkpoint every second", []string{"serve", "--db", db, "--journal-checkpoint-interval", "1s"}, "--journal-checkpoint-interval"},
		{"serve keeping details one hour", []string{"serve", "--db", db, "--journal-retention", "1h"}, "--journal-retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runRelais(t, noEnv, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("exit %d, %q; want 2 and one line naming %s", code, stderr, tt.want)
			}
		})
	}
}

// TestJournalJobsRunOnOneInstanceAtATime: two instances tick together;
// the lease lets one sign, and the other takes over once it expires.
func TestJournalJobsRunOnOneInstanceAtATime(t *testing.T) {
	_, path, person := journalDB(t)
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	box, _ := keyring.NewSecretBox(bytes.Repeat([]byte{'k'}, 32))
	keys := keyring.NewJournalKeys(st, box, time.Now)
	if err := keys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	j := journal.New(st, journal.Options{Now: clock})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	jobs := func(holder string) *journalJobs {
		return &journalJobs{store: st, journal: j, signer: keys, holder: holder, interval: time.Hour, retention: 365 * 24 * time.Hour, now: clock, log: log}
	}
	a, b := jobs("a"), jobs("b")
	checkpoints := func() int {
		cps, err := st.Checkpoints(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return len(cps)
	}
	if ran, err := a.once(t.Context()); !ran || err != nil || checkpoints() != 1 {
		t.Fatalf("a: ran %v, %v, %d checkpoints", ran, err, checkpoints())
	}
	// The round that signed checkpoint 1 endorsed the first journal key,
	// naming it: from now on deleting the checkpoints is found.
	if all, err := st.JournalKeys(t.Context()); err != nil || len(all) != 1 || all[0].Endorsement == "" {
		t.Errorf("journal keys after checkpoint 1: %+v, %v; want the first endorsed", all, err)
	}
	if ran, err := b.once(t.Context()); ran || err != nil || checkpoints() != 1 {
		t.Errorf("b while a holds the lease: ran %v, %v, %d checkpoints", ran, err, checkpoints())
	}
	if err := j.Emit(t.Context(), mandates.Event{Type: mandates.EventSuspended, PersonID: person}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour) // a's lease (54 minutes) has expired
	if ran, err := b.once(t.Context()); !ran || err != nil || checkpoints() != 2 {
		t.Errorf("b after a's lease expired: ran %v, %v, %d checkpoints", ran, err, checkpoints())
	}
	if ran, _ := a.once(t.Context()); ran {
		t.Error("a ran while b holds the lease")
	}
	// Retention: a year later, every detail older than a year is erased.
	now = now.AddDate(1, 0, 0)
	if ran, err := a.once(t.Context()); !ran || err != nil {
		t.Fatalf("a a year later: %v, %v", ran, err)
	}
	rows := 0
	_ = st.JournalEntries(t.Context(), person, func(s journal.Stored) error {
		if s.Detail.Erased() && s.Detail.Reason == journal.ReasonRetention {
			rows++
		}
		return nil
	})
	if rows != 5 {
		t.Errorf("%d of %s's 5 details erased by retention", rows, person)
	}
	v, _ := keys.Verifier(t.Context())
	if rep, err := journal.Verify(t.Context(), st, v, ""); err != nil || !rep.OK() {
		t.Errorf("verify: %v, %v", rep.Failure, err)
	}
}

func TestServePublishesTheJournalKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relais.db")
	base, _, stop := startServe(t, []string{"--demo", "--db", "sqlite:" + path})
	code, body := get(t, base+"/jwks")
	if code != 200 || !strings.Contains(body, `"kid":"journal-`) {
		t.Errorf("/jwks: %d %s", code, body)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	key, err := os.ReadFile(path + ".secret-key") // serve --demo made it
	if err != nil {
		t.Fatal(err)
	}
	env := envOf("RELAIS_SECRET_KEY", string(key))
	if code, out, stderr := runRelais(t, env, "journal", "verify", "--db", "sqlite:"+path); code != 0 {
		t.Errorf("verify after serve: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := runRelais(t, noEnv, "journal", "verify", "--db", "sqlite:"+path); code != 2 || !strings.Contains(stderr, "RELAIS_SECRET_KEY") {
		t.Errorf("verify without the secret key: %d %q; want 2 asking for it", code, stderr)
	}
}
