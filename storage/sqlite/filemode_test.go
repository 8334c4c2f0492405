package sqlite_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/sqlite"
)

// TestANewDatabaseAndItsWALAreForItsUserOnly: the file holds password
// hashes, personal data and the journal; under any umask, Open creates it
// 0600, and SQLite gives its -wal and -shm files the same mode.
func TestANewDatabaseAndItsWALAreForItsUserOnly(t *testing.T) {
	for _, umask := range []int{0o022, 0} {
		old := syscall.Umask(umask)
		path := filepath.Join(t.TempDir(), "relais.db")
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Up(t.Context()); err != nil {
			t.Fatal(err)
		}
		p.Close()
		if err := s.CreatePerson(t.Context(), mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Anne", FamilyName: "Roux", BirthDate: mandates.Date(1990, 1, 2)}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Errorf("umask %03o: %v", umask, err)
				continue
			}
			if mode := fi.Mode().Perm(); mode != 0o600 {
				t.Errorf("umask %03o: %s is %v, want 0600", umask, filepath.Base(name), mode)
			}
		}
		s.Close()
	}
}
