package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
)

// helperListen is a free loopback address in 8110–8119, the ports these
// tests may take on a shared machine.
func helperListen(t *testing.T) string {
	t.Helper()
	for port := 8110; port <= 8119; port++ {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatal("no free port in 127.0.0.1:8110–8119: stop what listens there")
	return ""
}

// files is every file of dir with its bytes: what a refused restore must
// leave as it was.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func sameFiles(t *testing.T, what string, before, after map[string][]byte) {
	t.Helper()
	for name, b := range before {
		if a, ok := after[name]; !ok || !bytes.Equal(a, b) {
			t.Errorf("%s: %s changed or disappeared", what, name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s: %s appeared", what, name)
		}
	}
}

// TestBackupWhileServeRunsThenRestore is issue 19's point 6: a copy taken
// while relais serve runs and another writer journals, restored into an
// empty place, verifies and holds the data; a restore over the store is
// refused while serve runs, and keeps the previous store once it stopped.
func TestBackupWhileServeRunsThenRestore(t *testing.T) {
	db, path, _ := journalDB(t)
	env := envOf("RELAIS_SECRET_KEY", testSecretKey)
	if code, _, stderr := runRelais(t, env, "journal", "checkpoint", "--db", db); code != 0 {
		t.Fatalf("checkpoint: %s", stderr)
	}
	base, _, stop := startServe(t, []string{"--db", db, "--secret-key", testSecretKey, "--listen", helperListen(t)})

	// A second writer on the same file journals while the copy is taken,
	// and a reader asks serve for its store's health.
	w, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	var wg sync.WaitGroup
	var written int
	var writeErr error
	wg.Go(func() {
		j := journal.New(w, journal.Options{})
		for ctx.Err() == nil {
			e := mandates.Event{Type: mandates.EventActivated, At: time.Now(), ActorID: "marie", PersonID: "writer"}
			if err := w.InTx(ctx, func(ctx context.Context) error { return j.Emit(ctx, e) }); err != nil {
				if ctx.Err() == nil {
					writeErr = err
				}
				return
			}
			if written++; written == 20 {
				close(started)
			}
		}
	})
	wg.Go(func() {
		for ctx.Err() == nil {
			if res, err := http.Get(base + "/readyz"); err == nil {
				res.Body.Close()
			}
		}
	})
	<-started
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	code, out, stderr := runRelais(t, noEnv, "backup", "--db", db, "--out", copyPath)
	cancel()
	wg.Wait()
	if code != 0 || !strings.Contains(out, "backed up "+db+" to "+copyPath+": ") {
		t.Fatalf("backup: exit %d, %q %q", code, out, stderr)
	}
	if writeErr != nil {
		t.Fatalf("a write failed while the backup ran: %v", writeErr)
	}
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the copy's mode: %v %v, want 0600", fi.Mode(), err)
	}
	sum, err := sqlite.Check(t.Context(), copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries < 5+20 || !strings.Contains(out, fmt.Sprintf("journal of %d chains and %d entries (latest checkpoint 1)", sum.Chains, sum.Entries)) {
		t.Errorf("the copy holds %d entries (want at least 25), and backup said %q", sum.Entries, out)
	}

	// Restored into an empty place, it verifies and holds the data.
	restored := filepath.Join(t.TempDir(), "restored.db")
	code, out, stderr = runRelais(t, env, "restore", "--from", copyPath, "--db", "sqlite:"+restored)
	if code != 0 || !strings.Contains(out, "(there was no store before)") {
		t.Fatalf("restore: exit %d, %q %q", code, out, stderr)
	}
	code, out, stderr = runRelais(t, env, "journal", "verify", "--db", "sqlite:"+restored)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d chains, %d entries", sum.Chains, sum.Entries)) {
		t.Fatalf("verify the restored store: exit %d, %q %q", code, out, stderr)
	}
	if n := count(t, restored, "journal_entries"); int64(n) != sum.Entries {
		t.Errorf("the restored store holds %d entries, the copy %d", n, sum.Entries)
	}
	if fi, err := os.Stat(restored); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the restored store's mode: %v %v, want 0600", fi.Mode(), err)
	}

	// Over the store serve holds: refused, nothing touched.
	w.Close()
	before := files(t, filepath.Dir(path))
	code, _, stderr = runRelais(t, env, "restore", "--from", copyPath, "--db", db)
	if code != 2 || !strings.Contains(stderr, "is in use, by relais serve most likely; stop it") {
		t.Errorf("restore while serve runs: exit %d, %q; want 2 saying it is in use", code, stderr)
	}
	sameFiles(t, "restore while serve runs", before, files(t, filepath.Dir(path)))

	// backup never overwrites a file unless asked.
	copied, _ := os.ReadFile(copyPath)
	code, _, stderr = runRelais(t, noEnv, "backup", "--db", db, "--out", copyPath)
	if code != 2 || !strings.Contains(stderr, "already exists; choose another file, or add --replace") {
		t.Errorf("backup over a file: exit %d, %q", code, stderr)
	}
	if now, _ := os.ReadFile(copyPath); !bytes.Equal(now, copied) {
		t.Error("backup over a file changed it")
	}
	if code, _, stderr := runRelais(t, noEnv, "backup", "--db", db, "--out", copyPath, "--replace"); code != 0 {
		t.Errorf("backup --replace: exit %d, %q", code, stderr)
	}
	// It holds what the writer wrote after the first copy was taken.
	if sum, err = sqlite.Check(t.Context(), copyPath); err != nil {
		t.Fatal(err)
	}
	if n := count(t, path, "journal_entries"); int64(n) != sum.Entries {
		t.Errorf("the replacing copy holds %d entries, the store %d", sum.Entries, n)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(copyPath), ".relais-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// Once serve stopped, restore replaces the store and keeps the
	// previous one, whole, beside it.
	if code := stop(); code != 0 {
		t.Fatalf("serve: exit %d", code)
	}
	total := count(t, path, "journal_entries")
	code, out, stderr = runRelais(t, env, "restore", "--from", copyPath, "--db", db)
	if code != 0 || !strings.Contains(out, "the previous store is kept as "+path+".before-restore-") {
		t.Fatalf("restore over a stopped store: exit %d, %q %q", code, out, stderr)
	}
	kept, _ := filepath.Glob(path + ".before-restore-*")
	if len(kept) != 1 {
		t.Fatalf("kept files: %v", kept)
	}
	if n := count(t, kept[0], "journal_entries"); n != total {
		t.Errorf("the kept store holds %d entries, the store held %d", n, total)
	}
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s of the previous store is still beside the restored one", f)
		}
	}
	if code, out, stderr := runRelais(t, env, "journal", "verify", "--db", db); code != 0 || !strings.Contains(out, fmt.Sprintf("%d entries", sum.Entries)) {
		t.Errorf("verify after restore: exit %d, %q %q", code, out, stderr)
	}
}

// TestRestoreRefusesABadCopy: each copy is refused with exit 2 and one
// sentence, and the current store and its folder stay as they were.
func TestRestoreRefusesABadCopy(t *testing.T) {
	db, path, person := journalDB(t)
	env := envOf("RELAIS_SECRET_KEY", testSecretKey)
	if code, _, stderr := runRelais(t, env, "journal", "checkpoint", "--db", db); code != 0 {
		t.Fatalf("checkpoint: %s", stderr)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	if code, _, stderr := runRelais(t, noEnv, "backup", "--db", db, "--out", good); code != 0 {
		t.Fatalf("backup: %s", stderr)
	}
	withSQL := func(name, query string, args ...any) string {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(good)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		raw, err := sql.Open("sqlite", p)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Exec(query, args...); err != nil {
			t.Fatal(err)
		}
		return p
	}
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, bytes.Repeat([]byte("not a database\n"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	raw, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE recipes (name TEXT)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	corrupt := filepath.Join(dir, "corrupt.db")
	b, _ := os.ReadFile(good)
	for i := 4096; i < len(b); i++ {
		b[i] = byte(i*7 + 13)
	}
	if err := os.WriteFile(corrupt, b, 0o600); err != nil {
		t.Fatal(err)
	}
	newer := withSQL("newer.db", "INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)")
	edited := withSQL("edited.db", "UPDATE journal_entries SET client_id = 'impots' WHERE chain = ? AND seq = 2", person)

	tests := []struct {
		name, from string
		env        func(string) string
		want       string
	}{
		{"a text file", text, env, "is not a SQLite database"},
		{"another program's SQLite database", other, env, "is a SQLite database but not a Relais store"},
		{"a damaged copy", corrupt, env, "is damaged (SQLite's integrity check"},
		{"a copy from a newer relais", newer, env, "comes from a newer relais (schema version 9999"},
		{"a copy whose journal was edited", edited, env, "its journal does not verify (chain " + person + ", entry 2: edited"},
		{"a copy from another deployment's secret key", good, envOf("RELAIS_SECRET_KEY", "bGxsbGxsbGxsbGxsbGxsbGxsbGxsbGxsbGxsbGxsbGw="), "is not the key this database's signing keys were encrypted with"},
		{"no secret key", good, noEnv, "--secret-key (RELAIS_SECRET_KEY) is not set"},
		{"no such file", filepath.Join(dir, "missing.db"), env, "is not a file that can be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := files(t, filepath.Dir(path))
			for _, args := range [][]string{{"--check-only"}, {}} {
				code, out, stderr := runRelais(t, tt.env, append([]string{"restore", "--from", tt.from, "--db", db}, args...)...)
				if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 || out != "" {
					t.Errorf("restore %v: exit %d, %q %q; want 2 and one sentence saying %q", args, code, out, stderr, tt.want)
				}
			}
			sameFiles(t, "a refused restore", before, files(t, filepath.Dir(path)))
		})
	}

	// The good copy passes --check-only and nothing changes.
	before := files(t, filepath.Dir(path))
	code, out, stderr := runRelais(t, env, "restore", "--from", good, "--db", db, "--check-only")
	if code != 0 || !strings.Contains(out, good+" can be restored: schema version") || !strings.Contains(out, "journal verifies: 2 chains, 5 entries, 1 checkpoints") {
		t.Errorf("check-only: exit %d, %q %q", code, out, stderr)
	}
	sameFiles(t, "restore --check-only", before, files(t, filepath.Dir(path)))
	if names := slices.Sorted(func(yield func(string) bool) {
		for n := range files(t, dir) {
			if !yield(n) {
				return
			}
		}
	}); !slices.Equal(names, []string{"corrupt.db", "edited.db", "good.db", "newer.db", "notes.txt", "other.db"}) {
		t.Errorf("the copies' folder holds %v: a check wrote beside a copy", names)
	}
}

// TestBackupAndRestoreOnPostgreSQLPointToItsTools: relais copies only the
// embedded store.
func TestBackupAndRestoreOnPostgreSQLPointToItsTools(t *testing.T) {
	for _, args := range [][]string{
		{"backup", "--out", filepath.Join(t.TempDir(), "copy.db")},
		{"restore", "--from", filepath.Join(t.TempDir(), "copy.db")},
	} {
		code, _, stderr := runRelais(t, envOf("RELAIS_DB", "postgres://relais@127.0.0.1:1/relais"), args...)
		if code != 2 || !strings.Contains(stderr, "pg_dump -Fc and pg_restore, or pg_basebackup with WAL archiving") {
			t.Errorf("%s on PostgreSQL: exit %d, %q", args[0], code, stderr)
		}
	}
}

func TestBackupRefusesBadSettings(t *testing.T) {
	db, _, _ := journalDB(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no --out", []string{"--db", db}, "--out is required"},
		{"--out a folder", []string{"--db", db, "--out", dir}, "is a folder; name a file in it"},
		{"--out in a folder that does not exist", []string{"--db", db, "--out", filepath.Join(dir, "no", "copy.db")}, "does not exist; create it"},
		{"no store to copy", []string{"--db", "sqlite:" + filepath.Join(dir, "none.db"), "--out", filepath.Join(dir, "copy.db")}, "there is no database file to back up there"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runRelais(t, noEnv, append([]string{"backup"}, tt.args...)...)
			if code != 2 || out != "" || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, %q %q; want 2 and one sentence saying %q", code, out, stderr, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused backup left files: %v", entries)
	}
}
