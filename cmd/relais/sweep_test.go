package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/relais-fr/relais/storage/sqlite"
)

func TestSweepDeletesStaleDPoPProofsAtEachTick(t *testing.T) {
	ctx := t.Context()
	st := migratedSQLite(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	if err := st.UseDPoPProof(ctx, "stale", now.Add(-time.Second), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.UseDPoPProof(ctx, "fresh", now.Add(time.Minute), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	tick := make(chan time.Time)
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		sweep(sctx, st, tick, func() time.Time { return now }, slog.New(slog.DiscardHandler))
		close(done)
	}()
	tick <- now
	tick <- now // the second send waits until the first sweep is over
	cancel()
	<-done
	if n, err := st.DeleteExpiredDPoPProofs(ctx, now); err != nil || n != 0 {
		t.Errorf("after the sweep, %d stale proofs were left (%v), want 0", n, err)
	}
	if n, err := st.DeleteExpiredDPoPProofs(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Errorf("the fresh proof: %d deleted later (%v), want 1: the sweep deleted it too soon", n, err)
	}
}

// migratedSQLite is a new SQLite store in the test's folder, migrated to
// the last version, closed when the test ends.
func migratedSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "relais.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := migrateUp(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	return st
}
