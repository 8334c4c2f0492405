package main

import (
	"bytes"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// storeCommands are the commands that open the store and expect its
// schema, each with the arguments it needs to get that far.
func storeCommands(t *testing.T) map[string][]string {
	t.Helper()
	csv := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(csv, []byte("given_names\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id := "0193a000-0000-7000-8000-000000000001"
	return map[string][]string{
		"clients create":  {"clients", "create", "--name", "Site", "--redirect-uri", "https://site.example/cb"},
		"clients list":    {"clients", "list"},
		"clients show":    {"clients", "show", id},
		"clients delete":  {"clients", "delete", id},
		"keys list":       {"keys", "list"},
		"keys rotate":     {"keys", "rotate", "--secret-key", testSecretKey},
		"measures import": {"measures", "import", "--csv", csv, "--operator", "olivier@example.fr"},
	}
}

// TestCommandsOnANewFileSayItIsNotSetUp: every command that expects the
// schema, run on a new SQLite file, says in one sentence that the
// database is not set up and how to set it up (exit 2), never SQLite's
// « no such table ».
func TestCommandsOnANewFileSayItIsNotSetUp(t *testing.T) {
	for name, args := range storeCommands(t) {
		t.Run(name, func(t *testing.T) {
			db := "sqlite:" + filepath.Join(t.TempDir(), "new.db")
			var stderr bytes.Buffer
			code := run(t.Context(), append(args, "--db", db), io.Discard, &stderr, noEnv)
			want := "relais: --db " + db + " (RELAIS_DB): this database is not set up yet; set it up with relais migrate up --db " + db + ", then run this command again.\n"
			if code != 2 || stderr.String() != want {
				t.Errorf("exit %d, stderr %q; want 2, %q", code, stderr.String(), want)
			}
		})
	}
}

// TestCommandsOnAnOlderSchemaSayMigrationsAreWaiting: a file migrated by
// an older relais (its last migration not applied) is named as such.
func TestCommandsOnAnOlderSchemaSayMigrationsAreWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db := "sqlite:" + path
	if code := run(t.Context(), []string{"migrate", "up", "--db", db}, io.Discard, io.Discard, noEnv); code != 0 {
		t.Fatalf("migrate up: exit %d", code)
	}
	conn, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec("DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	var stderr bytes.Buffer
	code := run(t.Context(), []string{"clients", "list", "--db", db}, io.Discard, &stderr, noEnv)
	if code != 2 || !strings.Contains(stderr.String(), "migrations are waiting") || !strings.Contains(stderr.String(), "relais migrate up --db "+db) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestCommandsOnAnEmptyPostgreSQLDatabaseSayItIsNotSetUp: the same on an
// empty PostgreSQL database, for serve without --auto-migrate and the
// commands that bring a SQLite file up to date themselves too.
func TestCommandsOnAnEmptyPostgreSQLDatabaseSayItIsNotSetUp(t *testing.T) {
	c := pgtest.StartCluster(t)
	db := c.DSN("postgres")
	cmds := storeCommands(t)
	cmds["serve"] = []string{"serve", "--listen", "127.0.0.1:0", "--secret-key", testSecretKey}
	cmds["journal verify"] = []string{"journal", "verify", "--secret-key", testSecretKey}
	cmds["notices print"] = []string{"notices", "print", "--dry-run", "--notice-from", "Relais", "--notice-address", "1 rue de la Paix; 75002 Paris", "--notice-phone", "01 02 03 04 05"}
	for name, args := range cmds {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(t.Context(), append(args, "--db", db), io.Discard, &stderr, noEnv)
			if code != 2 || !strings.Contains(stderr.String(), "relais migrate up") || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one sentence naming relais migrate up", code, stderr.String())
			}
		})
	}
}
