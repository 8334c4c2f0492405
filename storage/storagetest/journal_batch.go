package storagetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// RunJournalBatcher runs the group-commit writer (journal.Batcher) on a
// store: the events of acts that change nothing stored, many to a
// transaction. newStore is as for RunJournalStore.
func RunJournalBatcher(t *testing.T, newStore func(t *testing.T) (JournalStore, SQL)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s JournalStore)
	}{
		{"many writers on a few chains, batched: every event once, in whole chains", testBatcherManyWriters},
		{"an event the store refuses fails alone; the others of its batch are written once", testBatcherFailsAlone},
		{"an event whose request ended before its turn is not written", testBatcherCancelled},
		{"Close writes what is queued, then refuses", testBatcherClose},
		{"a batch over several chains lands in whole chains, in the events' order, and verifies", testEmitBatchSeveralChains},
		{"a batch holding a taken sequence number fails whole: nothing of it stays after rollback", testAppendBatchSeqTaken},
		{"a batch that lost a race to a rival is written event by event: each once, in order", testBatchLosesARace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			tt.fn(t, s)
		})
	}
}

func testBatcherManyWriters(t *testing.T, s JournalStore) {
	const writers, each, chains = 24, 20, 4
	j := journal.New(s, journal.Options{})
	b := journal.NewBatcher(j, s, journal.BatchOptions{Workers: 3, MaxBatch: 16})
	defer b.Close()
	people := make([]string, chains)
	for i := range people {
		people[i] = mandates.NewID(time.Now())
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				errs <- b.Record(t.Context(), journalEvent(people[(w+i)%chains], w*each+i))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	total := 0
	for _, p := range people {
		rows := chainOf(t, s, p)
		total += len(rows)
		for i, r := range rows {
			if r.Seq != int64(i+1) {
				t.Fatalf("chain %s: entry %d has seq %d", p, i, r.Seq)
			}
			seen[r.Detail.Fields["n"]] = true
		}
	}
	if total != writers*each || len(seen) != writers*each {
		t.Errorf("%d entries, %d distinct events, want %d of each: some were lost or written twice", total, len(seen), writers*each)
	}
	keys, v := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := journal.Verify(t.Context(), s, v, ""); err != nil || !rep.OK() || rep.Entries != writers*each {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

// refusing is a store that refuses to append to one chain.
type refusing struct {
	JournalStore
	chain string
}

var errRefused = errors.New("storagetest: refused")

func (r refusing) AppendJournal(ctx context.Context, e journal.Entry, d journal.Detail) error {
	if e.Chain == r.chain {
		return errRefused
	}
	return r.JournalStore.AppendJournal(ctx, e, d)
}

func testBatcherFailsAlone(t *testing.T, s JournalStore) {
	good, bad := mandates.NewID(time.Now()), mandates.NewID(time.Now())
	// One worker and a batch as big as the load: the good events and the
	// bad one share transactions, whose failure must not lose the good.
	j := journal.New(refusing{JournalStore: s, chain: bad}, journal.Options{})
	b := journal.NewBatcher(j, s, journal.BatchOptions{Workers: 1, MaxBatch: 64})
	defer b.Close()
	const n = 30
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		person := good
		if i%10 == 5 {
			person = bad
		}
		wg.Go(func() { results[i] = b.Record(t.Context(), journalEvent(person, i)) })
	}
	wg.Wait()
	want := 0
	for i, err := range results {
		switch {
		case i%10 == 5 && !errors.Is(err, errRefused):
			t.Errorf("event %d for the refused chain: %v, want the store's refusal", i, err)
		case i%10 != 5 && err != nil:
			t.Errorf("event %d: %v", i, err)
		case i%10 != 5:
			want++
		}
	}
	rows := chainOf(t, s, good)
	if len(rows) != want {
		t.Fatalf("%d entries in the good chain, want %d", len(rows), want)
	}
	for i, r := range rows {
		if r.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d: a rolled-back batch left a gap", i, r.Seq)
		}
	}
	if rows := chainOf(t, s, bad); len(rows) != 0 {
		t.Errorf("%d entries in the refused chain", len(rows))
	}
}

func testBatcherCancelled(t *testing.T, s JournalStore) {
	person := mandates.NewID(time.Now())
	b := journal.NewBatcher(journal.New(s, journal.Options{}), s, journal.BatchOptions{})
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Record(ctx, journalEvent(person, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := b.Record(t.Context(), journalEvent(person, 2)); err != nil {
		t.Fatal(err)
	}
	rows := chainOf(t, s, person)
	if len(rows) != 1 || rows[0].Detail.Fields["n"] != "2" {
		t.Errorf("chain: %+v, want only event 2", rows)
	}
}

func testBatcherClose(t *testing.T, s JournalStore) {
	person := mandates.NewID(time.Now())
	b := journal.NewBatcher(journal.New(s, journal.Options{}), s, journal.BatchOptions{Workers: 2})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if err := b.Record(t.Context(), journalEvent(person, i)); err != nil {
				t.Errorf("event %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	b.Close()
	b.Close() // twice is harmless
	if err := b.Record(t.Context(), journalEvent(person, 99)); !errors.Is(err, journal.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if rows := chainOf(t, s, person); len(rows) != 10 {
		t.Errorf("%d entries, want 10", len(rows))
	}
}

// testJournalChainPageInWritingOrder: one person's journal pages in the
// order the chain was written, even where two writers racing stamped
// their times out of that order.
func testJournalChainPageInWritingOrder(t *testing.T, s JournalStore, _ SQL) {
	ctx := t.Context()
	j := journal.New(s, journal.Options{})
	person := mandates.NewID(time.Now())
	// The second entry was stamped a minute before the first.
	for _, minute := range []int{2, 1, 3} {
		e := journalEvent(person, minute)
		if err := j.Emit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int64
	q := journal.Query{Chain: person, Limit: 2}
	for {
		page, err := s.JournalPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			seqs = append(seqs, e.Seq)
		}
		if len(page) < q.Limit {
			break
		}
		q.Before = page[len(page)-1].Position()
	}
	if len(seqs) != 3 || seqs[0] != 3 || seqs[1] != 2 || seqs[2] != 1 {
		t.Errorf("pages read entries %v, want [3 2 1]", seqs)
	}
}
