package sqlite_test

import (
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/storage/storagetest"
)

// openWithSQL is openTemp with a connection of its own to the same file,
// for tampering behind the store's back.
func openWithSQL(t testing.TB) (*sqlite.Store, storagetest.SQL) {
	t.Helper()
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
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return s, func(t *testing.T, statement string) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), statement); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}
}

func TestJournalStore(t *testing.T) {
	storagetest.RunJournalStore(t, func(t *testing.T) (storagetest.JournalStore, storagetest.SQL) { return openWithSQL(t) })
}

func TestJournalBatcher(t *testing.T) {
	storagetest.RunJournalBatcher(t, func(t *testing.T) (storagetest.JournalStore, storagetest.SQL) { return openWithSQL(t) })
}

// TestJournalVerifySpeed verifies a journal of 20,000 entries in 20
// chains and logs the time per million entries; RELAIS_JOURNAL_BENCH sets
// another size, for the measurement:
//
//	RELAIS_JOURNAL_BENCH=1000000 go test ./storage/sqlite -run TestJournalVerifySpeed -v -timeout 1h
func TestJournalVerifySpeed(t *testing.T) {
	s, _ := openWithSQL(t)
	storagetest.MeasureJournalVerify(t, s, storagetest.JournalBenchSize(), 1000)
}

// BenchmarkCheckpoint is the cost of one checkpoint round of relais
// serve (every --journal-checkpoint-interval, 1m by default) on a
// journal of 10,000 chains: 100 chains changed since the last round, or
// none, after an hour of rounds (60 checkpoints; RELAIS_CHECKPOINT_HISTORY
// sets another number):
//
//	go test ./storage/sqlite -run '^$' -bench BenchmarkCheckpoint -benchtime 20x
func BenchmarkCheckpoint(b *testing.B) {
	for _, bc := range []struct {
		name                     string
		chains, changed, history int
	}{
		{"10000 chains, 100 changed", 10_000, 100, 0},
		{"10000 chains, 100 changed, after more rounds", 10_000, 100, storagetest.CheckpointBenchHistory()},
		{"10000 chains, nothing new, after more rounds", 10_000, 0, storagetest.CheckpointBenchHistory()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := openWithSQL(b)
			storagetest.BenchCheckpoint(b, s, bc.chains, bc.changed, bc.history)
		})
	}
}

// BenchmarkBatcher is the group commit of access evaluations' entries:
// 32 recorders at once on one person's chain and on 64 chains.
//
//	go test ./storage/sqlite -run '^$' -bench BenchmarkBatcher -benchtime 3s
func BenchmarkBatcher(b *testing.B) {
	for _, chains := range []int{1, 64} {
		b.Run(fmt.Sprintf("32 recorders, %d chains", chains), func(b *testing.B) {
			s, _ := openWithSQL(b)
			storagetest.BenchBatcher(b, s, 32, chains, journal.BatchOptions{})
		})
	}
}
