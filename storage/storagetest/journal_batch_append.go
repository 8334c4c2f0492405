package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// batchAppender is the store as a journal.BatchAppender; both stores are.
func batchAppender(t *testing.T, s JournalStore) journal.BatchAppender {
	t.Helper()
	ba, ok := s.(journal.BatchAppender)
	if !ok {
		t.Fatalf("%T is no journal.BatchAppender", s)
	}
	return ba
}

// testEmitBatchSeveralChains: one batch over chains new and old, their
// events interleaved, lands in whole chains in the events' order, areas
// and details as written, and the journal verifies.
func testEmitBatchSeveralChains(t *testing.T, s JournalStore) {
	batchAppender(t, s)
	ctx := t.Context()
	j := journal.New(s, journal.Options{})
	old, fresh, other := mandates.NewID(time.Now()), mandates.NewID(time.Now()), mandates.NewID(time.Now())
	for i := range 2 {
		if err := j.Emit(ctx, journalEvent(old, 100+i)); err != nil {
			t.Fatal(err)
		}
	}
	var events []mandates.Event
	want := map[string][]string{old: {"100", "101"}}
	for i := range 12 {
		p := []string{old, fresh, other}[i%3]
		e := journalEvent(p, i)
		if i == 4 {
			e.Areas = nil // an entry without areas keeps none
		}
		events = append(events, e)
		want[p] = append(want[p], fmt.Sprint(i))
	}
	if err := s.InTx(ctx, func(ctx context.Context) error { return j.EmitBatch(ctx, events) }); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{old, fresh, other} {
		rows := chainOf(t, s, p)
		var got []string
		for i, r := range rows {
			if r.Seq != int64(i+1) {
				t.Errorf("chain %s: entry %d has seq %d", p, i, r.Seq)
			}
			n := r.Detail.Fields["n"]
			got = append(got, n)
			wantAreas := []mandates.Area{"social", "argent"}
			if n == "4" {
				wantAreas = nil
			}
			if !slices.Equal(r.Areas, wantAreas) || r.Detail.Fields["motif"] != "décision « urgente »" || r.Hash != r.ComputeHash() {
				t.Errorf("chain %s entry %d read back as %+v, detail %v", p, r.Seq, r.Entry, r.Detail.Fields)
			}
		}
		if !slices.Equal(got, want[p]) {
			t.Errorf("chain %s holds events %v, want %v", p, got, want[p])
		}
	}
	keys, v := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(ctx, s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := journal.Verify(ctx, s, v, ""); err != nil || !rep.OK() || rep.Entries != 14 {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

// testAppendBatchSeqTaken: a batch holding a (chain, seq) another writer
// has fails with ErrSeqTaken, and once its transaction is rolled back
// nothing of it stays, not even the entries before the taken one.
func testAppendBatchSeqTaken(t *testing.T, s JournalStore) {
	ba := batchAppender(t, s)
	ctx := t.Context()
	j := journal.New(s, journal.Options{})
	taken, fresh := mandates.NewID(time.Now()), mandates.NewID(time.Now())
	if err := j.Emit(ctx, journalEvent(taken, 0)); err != nil {
		t.Fatal(err)
	}
	var entries []journal.Entry
	var details []journal.Detail
	add := func(head *journal.Entry, chain string, i int) *journal.Entry {
		d := journal.NewDetail(journalEvent(chain, i).Detail)
		e := journal.Next(head, chain, journalEvent(chain, i), journal.DetailHash(d.Salt, d.Fields))
		entries, details = append(entries, e), append(details, d)
		return &e
	}
	h := add(nil, fresh, 1)
	add(h, fresh, 2)
	add(nil, taken, 3) // seq 1 of a chain that has it
	err := s.InTx(ctx, func(ctx context.Context) error { return ba.AppendJournalBatch(ctx, entries, details) })
	if !errors.Is(err, journal.ErrSeqTaken) {
		t.Fatalf("batch with a taken number: %v, want ErrSeqTaken", err)
	}
	if rows := chainOf(t, s, fresh); len(rows) != 0 {
		t.Errorf("%d entries of the failed batch stayed", len(rows))
	}
	if rows := chainOf(t, s, taken); len(rows) != 1 || rows[0].Detail.Fields["n"] != "0" {
		t.Errorf("the taken chain: %+v", rows)
	}
	// The same batch without the taken entry goes through.
	err = s.InTx(ctx, func(ctx context.Context) error { return ba.AppendJournalBatch(ctx, entries[:2], details[:2]) })
	if err != nil {
		t.Fatal(err)
	}
	if rows := chainOf(t, s, fresh); len(rows) != 2 {
		t.Errorf("%d entries, want 2", len(rows))
	}
}

// staleHeads is a store that, once, reads a chain's head as it was before
// a rival's entry: as if the rival committed between a batch's head read
// and its insert. Only batches read heads through it (Emit reads with
// JournalHead), so a lone event never meets the stale head.
type staleHeads struct {
	JournalStore
	mu    sync.Mutex
	stale map[string]journal.Entry
	used  int
}

var _ journal.HeadsReader = (*staleHeads)(nil)

func (s *staleHeads) AppendJournalBatch(ctx context.Context, entries []journal.Entry, details []journal.Detail) error {
	return s.JournalStore.(journal.BatchAppender).AppendJournalBatch(ctx, entries, details)
}

func (s *staleHeads) JournalHeadsOf(ctx context.Context, chains []string) (map[string]journal.Entry, error) {
	out := map[string]journal.Entry{}
	for _, c := range chains {
		h, err := s.JournalHead(ctx, c)
		switch {
		case err == nil:
			out[c] = h
		case !errors.Is(err, mandates.ErrNotFound):
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, h := range s.stale {
		if _, ok := out[c]; ok {
			out[c] = h
			s.used++
			delete(s.stale, c)
		}
	}
	return out, nil
}

// firstTxWaits holds its first transaction until open is closed.
type firstTxWaits struct {
	mandates.Transactor
	open    chan struct{}
	waiting atomic.Int32
}

func (g *firstTxWaits) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if g.waiting.Add(1) == 1 {
		<-g.open
	}
	return g.Transactor.InTx(ctx, fn)
}

// testBatchLosesARace: a rival appended to the chain since the batch read
// its head. EmitBatch fails whole with ErrSeqTaken; the Batcher then
// writes each event alone, so every event is journaled once, each
// recorder's in its order, and the chain verifies.
func testBatchLosesARace(t *testing.T, s JournalStore) {
	ctx := t.Context()
	person := mandates.NewID(time.Now())
	j := journal.New(s, journal.Options{})
	for i := range 2 {
		if err := j.Emit(ctx, journalEvent(person, 1000+i)); err != nil {
			t.Fatal(err)
		}
	}
	before, err := s.JournalHead(ctx, person)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Emit(ctx, journalEvent(person, 1002)); err != nil { // the rival
		t.Fatal(err)
	}

	// EmitBatch alone: the whole batch fails and leaves nothing.
	st := &staleHeads{JournalStore: s, stale: map[string]journal.Entry{person: before}}
	err = s.InTx(ctx, func(ctx context.Context) error {
		return journal.New(st, journal.Options{}).EmitBatch(ctx, []mandates.Event{journalEvent(person, 1), journalEvent(person, 2)})
	})
	if !errors.Is(err, journal.ErrSeqTaken) || st.used != 1 {
		t.Fatalf("batch after a rival's entry: %v (stale head read %d times), want ErrSeqTaken", err, st.used)
	}
	if rows := chainOf(t, s, person); len(rows) != 3 {
		t.Fatalf("%d entries after the failed batch, want the 3 before it", len(rows))
	}

	// Through a Batcher: the batch that meets the stale head falls back.
	// The first transaction waits until the other recorders' events are
	// queued, so that the next batch holds several and reads heads through
	// st, however busy the machine.
	st.stale, st.used = map[string]journal.Entry{person: before}, 0
	gate := &firstTxWaits{Transactor: s, open: make(chan struct{})}
	b := journal.NewBatcher(journal.New(st, journal.Options{}), gate, journal.BatchOptions{Workers: 1, MaxBatch: 64})
	const recorders, each = 8, 5
	var wg sync.WaitGroup
	for r := range recorders {
		wg.Go(func() {
			for i := range each {
				if err := b.Record(ctx, journalEvent(person, r*each+i)); err != nil {
					t.Errorf("recorder %d event %d: %v", r, i, err)
				}
			}
		})
	}
	for gate.waiting.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the other recorders queue meanwhile
	close(gate.open)
	wg.Wait()
	b.Close()
	if st.used != 1 {
		t.Fatalf("the stale head was read by %d batches, want 1: the race was not run", st.used)
	}
	rows := chainOf(t, s, person)
	if len(rows) != 3+recorders*each {
		t.Fatalf("%d entries, want %d: events lost or written twice", len(rows), 3+recorders*each)
	}
	last := map[int]int{}
	seen := map[string]bool{}
	for i, r := range rows {
		if r.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d", i, r.Seq)
		}
		var n int
		fmt.Sscan(r.Detail.Fields["n"], &n)
		seen[r.Detail.Fields["n"]] = true
		if i < 3 {
			continue
		}
		if p, ok := last[n/each]; ok && p > n {
			t.Errorf("recorder %d's event %d came after its event %d", n/each, n, p)
		}
		last[n/each] = n
	}
	if len(seen) != 3+recorders*each {
		t.Errorf("%d distinct events, want %d", len(seen), 3+recorders*each)
	}
	keys, v := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(ctx, s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := journal.Verify(ctx, s, v, ""); err != nil || !rep.OK() || rep.Entries != 3+recorders*each {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}
