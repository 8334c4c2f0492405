package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
)

// emit journals n events of person on st, each in its own transaction, as
// the service writes them.
func emit(ctx context.Context, st *sqlite.Store, person string, n int) error {
	j := journal.New(st, journal.Options{})
	for range n {
		e := mandates.Event{Type: mandates.EventActivated, At: time.Now(), ActorID: "marie", PersonID: person}
		if err := st.InTx(ctx, func(ctx context.Context) error { return j.Emit(ctx, e) }); err != nil {
			return err
		}
	}
	return nil
}

func TestBackupWhileWritesGoOnIsASoundCopy(t *testing.T) {
	st := sqlitetest.Migrated(t)
	if err := emit(t.Context(), st, "before", 3); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var writeErr error
	wg.Go(func() { writeErr = emit(t.Context(), st, "during", 200) })
	dst := filepath.Join(t.TempDir(), "copy.db")
	start := time.Now()
	err := st.Backup(t.Context(), dst)
	took := time.Since(start)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if writeErr != nil {
		t.Fatalf("a write failed while the backup ran (it took %s): %v", took, writeErr)
	}
	sum, err := sqlite.Check(t.Context(), dst)
	if err != nil {
		t.Fatal(err)
	}
	// The copy is one snapshot: everything before, and some prefix of
	// what was written during.
	if sum.Entries < 3 || sum.Entries > 203 {
		t.Errorf("the copy holds %d journal entries, want 3 to 203", sum.Entries)
	}
	// The store's reader, used for the copy, is read-only again.
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRefusesWhatIsNotASoundRelaisStore(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("this is not a database, only some text long enough to be read as one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE recipes (name TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	st := sqlitetest.Migrated(t)
	sound := filepath.Join(dir, "sound.db")
	if err := st.Backup(t.Context(), sound); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Check(t.Context(), sound); err != nil {
		t.Fatalf("a sound copy: %v", err)
	}
	newer := copyFile(t, sound, filepath.Join(dir, "newer.db"))
	db, err = sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	corrupt := copyFile(t, sound, filepath.Join(dir, "corrupt.db"))
	f, err := os.OpenFile(corrupt, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	// Garbage over every page but the first (the header and schema),
	// as a failing disk might leave it.
	garbage := make([]byte, fi.Size()-4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + 13)
	}
	if _, err := f.WriteAt(garbage, 4096); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var ie *sqlite.IntegrityError
	var se *sqlite.SchemaError
	tests := []struct {
		name string
		path string
		is   func(error) bool
	}{
		{"a text file is not a database", notDB, func(err error) bool { return errors.Is(err, sqlite.ErrNotDatabase) }},
		{"another program's database is not a Relais store", other, func(err error) bool { return errors.Is(err, sqlite.ErrNotRelais) }},
		{"a damaged copy fails the integrity check", corrupt, func(err error) bool { return errors.As(err, &ie) }},
		{"a schema newer than this binary is refused", newer, func(err error) bool { return errors.As(err, &se) && se.Version == 9999 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sqlite.Check(t.Context(), tt.path)
			if err == nil || !tt.is(err) {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

func TestSettleRefusesADatabaseInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relais.db")
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mig, err := st.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mig.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	mig.Close()
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Settle(t.Context(), path); !errors.Is(err, sqlite.ErrInUse) {
		t.Errorf("Settle while a store has it open: %v, want ErrInUse", err)
	}
	// Committed pages in the WAL, as a stopped process may leave them:
	// copy the file and its -wal while a connection holds them.
	if err := st.InTx(t.Context(), func(ctx context.Context) error {
		_, err := st.AcquireJournalLease(ctx, "settle-test", time.Now(), time.Now().Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(t.TempDir(), "crashed.db")
	copyFile(t, path, crashed)
	copyFile(t, path+"-wal", crashed+"-wal")
	st.Close()
	if held, err := sqlite.Settle(t.Context(), path); err != nil {
		t.Errorf("Settle once the store is closed: %v", err)
	} else if err := held.Release(); err != nil {
		t.Errorf("Release: %v", err)
	}
	held, err := sqlite.Settle(t.Context(), crashed)
	if err != nil {
		t.Fatalf("Settle of a file left with its -wal: %v", err)
	}

	if _, err := os.Stat(crashed + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the -wal file is still there: %v", err)
	}
	// The file alone holds everything.
	moved := filepath.Join(t.TempDir(), "moved.db")
	if err := os.Rename(crashed, moved); err != nil {
		t.Fatal(err)
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", moved)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var holder string
	if err := db.QueryRow("SELECT holder FROM journal_lease").Scan(&holder); err != nil || holder != "settle-test" {
		t.Errorf("the settled file without its -wal: %q, %v", holder, err)
	}
}

// TestSettleHoldsTheStoreUntilReleased: between Settle and Release no
// other connection can use the file (relais restore links and replaces it
// then), and Release deletes nothing by name: by then the name may be a
// restored store's, whose -wal is another process's.
func TestSettleHoldsTheStoreUntilReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relais.db")
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mig, err := st.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mig.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	mig.Close()
	st.Close()

	held, err := sqlite.Settle(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the -wal file is still there while settled: %v", err)
	}
	write := func() error {
		st, err := sqlite.Open(t.Context(), path, sqlite.Options{BusyTimeout: time.Millisecond})
		if err != nil {
			return err
		}
		defer st.Close()
		return st.InTx(t.Context(), func(ctx context.Context) error {
			_, err := st.AcquireJournalLease(ctx, "settle-hold-test", time.Now(), time.Now().Add(time.Hour))
			return err
		})
	}
	if err := write(); !errors.Is(err, mandates.ErrUnavailable) {
		t.Errorf("a write while Settle holds the file: %v, want ErrUnavailable", err)
	}
	if _, err := sqlite.Settle(t.Context(), path); !errors.Is(err, sqlite.ErrInUse) {
		t.Errorf("a second Settle while the first holds the file: %v, want ErrInUse", err)
	}
	// Another process's -wal, as a relais serve started on a restored
	// file would create it.
	if err := os.WriteFile(path+"-wal", []byte("another store's log"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := held.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if b, err := os.ReadFile(path + "-wal"); err != nil || string(b) != "another store's log" {
		t.Errorf("Release touched the -wal now beside the file: %q, %v", b, err)
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	if err := write(); err != nil {
		t.Errorf("a write once released: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}
