package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"

	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/sqlite/sqlitetest"
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

// TestNoWriteKeysHere: the embedded store has no write keys (one process,
// no failover), so the cleanup's kind deletes nothing and is no error.
func TestNoWriteKeysHere(t *testing.T) {
	s := sqlitetest.Migrated(t)
	if n, err := s.DeleteExpired(t.Context(), mandates.ExpiredWriteKeys, time.Now(), 10); err != nil || n != 0 {
		t.Errorf("DeleteExpired(write keys) = %d, %v; want 0, nil", n, err)
	}
}
