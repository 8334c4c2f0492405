package journal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// batchStore is a memStore with the optional batch methods. Its heads
// may be stale once per chain, as if a rival committed between a batch's
// head read and its insert.
type batchStore struct {
	*memStore
	mu      sync.Mutex
	stale   map[string]journal.Entry
	headsOf int   // JournalHeadsOf calls
	batches []int // AppendJournalBatch calls, by their number of entries
	failed  int   // AppendJournalBatch calls that met a taken number
}

var (
	_ journal.BatchAppender = (*batchStore)(nil)
	_ journal.HeadsReader   = (*batchStore)(nil)
)

func (b *batchStore) JournalHeadsOf(ctx context.Context, chains []string) (map[string]journal.Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.headsOf++
	out := map[string]journal.Entry{}
	for _, c := range chains {
		if h, ok := b.stale[c]; ok {
			out[c] = h
			delete(b.stale, c)
			continue
		}
		b.memStore.mu.Lock()
		if rows := b.memStore.entries[c]; len(rows) > 0 {
			out[c] = rows[len(rows)-1].Entry
		}
		b.memStore.mu.Unlock()
	}
	return out, nil
}

func (b *batchStore) AppendJournalBatch(ctx context.Context, entries []journal.Entry, details []journal.Detail) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batches = append(b.batches, len(entries))
	for i, e := range entries {
		if err := b.memStore.AppendJournal(ctx, e, details[i]); err != nil {
			if errors.Is(err, journal.ErrSeqTaken) {
				b.failed++
			}
			return err
		}
	}
	return nil
}

// checkChain fails unless chain holds the events numbered want, in that
// order, linked from seq 1.
func checkChain(t *testing.T, m *memStore, chain string, want []string) {
	t.Helper()
	var got []string
	var prev journal.Hash
	for i, r := range m.entries[chain] {
		if r.Seq != int64(i+1) || r.Prev != prev || r.Hash != r.ComputeHash() ||
			r.DetailHash != journal.DetailHash(r.Detail.Salt, r.Detail.Fields) {
			t.Errorf("chain %s entry %d: seq %d, linked %v, hash ok %v", chain, i, r.Seq, r.Prev == prev, r.Hash == r.ComputeHash())
		}
		prev = r.Hash
		got = append(got, r.Detail.Fields["n"])
	}
	if !slices.Equal(got, want) {
		t.Errorf("chain %s holds events %v, want %v", chain, got, want)
	}
}

func TestEmitBatchKeepsEachChainInOrder(t *testing.T) {
	tests := []struct {
		name    string
		batched bool
	}{
		{"a store without batch methods: one head read per chain, then one append per entry", false},
		{"a store with them: one read of all heads, one append of all entries", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemStore()
			var st journal.Store = m
			bs := &batchStore{memStore: m}
			if tt.batched {
				st = bs
			}
			j := journal.New(st, journal.Options{})
			if err := j.Emit(t.Context(), event("p2", 100)); err != nil {
				t.Fatal(err)
			}
			m.reads = 0
			// Three chains interleaved, p2 already started.
			var events []mandates.Event
			want := map[string][]string{"p2": {"100"}}
			for i := range 9 {
				p := []string{"p3", "p1", "p2"}[i%3]
				events = append(events, event(p, i))
				want[p] = append(want[p], fmt.Sprint(i))
			}
			if err := j.EmitBatch(t.Context(), events); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"p1", "p2", "p3"} {
				checkChain(t, m, p, want[p])
			}
			switch {
			case tt.batched && (bs.headsOf != 1 || m.reads != 0 || !slices.Equal(bs.batches, []int{9})):
				t.Errorf("%d reads of all heads, %d of one head, batches %v; want 1, 0, [9]", bs.headsOf, m.reads, bs.batches)
			case !tt.batched && m.reads != 3:
				t.Errorf("%d head reads for 3 chains", m.reads)
			}
		})
	}
}

func TestEmitBatchRefusesAnEventWithoutType(t *testing.T) {
	m := newMemStore()
	err := journal.New(m, journal.Options{}).EmitBatch(t.Context(), []mandates.Event{event("p1", 0), {PersonID: "p1"}})
	if !errors.Is(err, mandates.ErrInvalid) || len(m.entries["p1"]) != 0 {
		t.Errorf("EmitBatch with an event without type: %v, %d entries written", err, len(m.entries["p1"]))
	}
}

// gatedTx holds its first transaction until gate is closed.
type gatedTx struct {
	mandates.Transactor
	gate chan struct{}
	once sync.Once
}

func (g *gatedTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	g.once.Do(func() { <-g.gate })
	return g.Transactor.InTx(ctx, fn)
}

// TestABatchThatLostARaceIsWrittenEventByEvent: a rival appended to the
// chain between the batch's head read and its insert. The batch fails
// whole and is rolled back; the Batcher then writes each event alone, so
// each is journaled once and the chain stays linked.
func TestABatchThatLostARaceIsWrittenEventByEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		j := journal.New(m, journal.Options{})
		for i := range 2 {
			if err := j.Emit(t.Context(), event("p1", 100+i)); err != nil {
				t.Fatal(err)
			}
		}
		before := *headPtr(m, "p1")
		if err := j.Emit(t.Context(), event("p1", 102)); err != nil { // the rival
			t.Fatal(err)
		}
		st := &batchStore{memStore: m, stale: map[string]journal.Entry{"p1": before}}
		tx := &gatedTx{Transactor: m, gate: make(chan struct{})}
		b := journal.NewBatcher(journal.New(st, journal.Options{}), tx, journal.BatchOptions{Workers: 1, MaxBatch: 64})
		const n = 6
		results := make([]error, n)
		var wg sync.WaitGroup
		wg.Go(func() { results[0] = b.Record(t.Context(), event("p1", 0)) })
		synctest.Wait() // the worker holds event 0 at the gate
		for i := 1; i < n; i++ {
			wg.Go(func() { results[i] = b.Record(t.Context(), event("p1", i)) })
		}
		synctest.Wait() // events 1 to 5 wait in the queue: the next batch
		close(tx.gate)
		wg.Wait()
		b.Close()
		for i, err := range results {
			if err != nil {
				t.Errorf("event %d: %v", i, err)
			}
		}
		if !slices.Equal(st.batches, []int{n - 1}) || st.failed != 1 {
			t.Errorf("batches %v, %d failed; want one of %d that failed", st.batches, st.failed, n-1)
		}
		rows := m.entries["p1"]
		want := []string{"100", "101", "102", "0"}
		seen := map[string]bool{}
		for _, r := range rows[len(want):] {
			seen[r.Detail.Fields["n"]] = true
		}
		for i := 1; i < n; i++ {
			want = append(want, fmt.Sprint(i))
		}
		if len(rows) != len(want) || len(seen) != n-1 {
			t.Fatalf("%d entries, %d distinct after event 0; want %d and %d", len(rows), len(seen), len(want), n-1)
		}
		// The fallback writes the batch's events in its order, which is the
		// order they were queued in: not fixed, so compare as sets.
		got := make([]string, 0, len(rows))
		for _, r := range rows {
			got = append(got, r.Detail.Fields["n"])
		}
		checkChain(t, m, "p1", got)
		got = slices.Clone(got)
		slices.Sort(got[4:])
		if !slices.Equal(got, want) {
			t.Errorf("chain holds %v, want %v", got, want)
		}
	})
}

// failoverTx is a store across a failover: its InTx waits away for a new
// primary, as storage/postgres waits for one up to its FailoverWait
// (15 s), unless ctx ends first.
type failoverTx struct {
	mandates.Transactor
	away time.Duration
}

func (f failoverTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	select {
	case <-time.After(f.away):
		return f.Transactor.InTx(ctx, fn)
	case <-ctx.Done():
		return fmt.Errorf("no primary yet: %w", mandates.ErrUnavailable)
	}
}

// TestABatchWaitsOutAFailover: the Batcher's default bound on a
// transaction is longer than the store's wait for a new primary, so an
// evaluation's entry recorded while PostgreSQL fails over is written once
// the new primary is there (issue 19: a node lost took 9 to 11 s, and a
// 10 s bound failed entries the store would have written).
func TestABatchWaitsOutAFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemStore()
		b := journal.NewBatcher(journal.New(m, journal.Options{}), failoverTx{Transactor: m, away: 14 * time.Second}, journal.BatchOptions{})
		defer b.Close()
		if err := b.Record(t.Context(), event("p1", 0)); err != nil {
			t.Fatalf("an entry recorded while the primary fails over (14 s): %v", err)
		}
		checkChain(t, m, "p1", []string{"0"})
	})
}
