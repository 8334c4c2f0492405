// Package sqlitetest is what only tests may use: an embedded store in a
// temporary folder, migrated, closed when the test ends. No non-test file
// imports it.
package sqlitetest

import (
	"path/filepath"
	"testing"

	"github.com/relais-fr/relais/storage/sqlite"
)

// Migrated is a new SQLite store with every migration applied, in the
// test's temporary folder, closed at the test's end.
func Migrated(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relais.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mig, err := st.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	defer mig.Close()
	if _, err := mig.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}
