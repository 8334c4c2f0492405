package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/storagetest"
)

func TestExpiredStore(t *testing.T) {
	storagetest.RunExpiredStore(t, func(t *testing.T) (storagetest.ExpiredStore, storagetest.Rows) {
		path := filepath.Join(t.TempDir(), "relais.db")
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		p, err := s.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.Up(t.Context()); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return s, func(t *testing.T, table string) int {
			t.Helper()
			var n int
			if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				t.Fatalf("count %s: %v", table, err)
			}
			return n
		}
	})
}
