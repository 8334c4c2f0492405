package storagetest

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// BenchCheckpoint measures one round of relais serve's checkpoint
// (journal.MakeCheckpoint with the real ES256 signer) on a journal of
// chains chains, after history checkpoints of 100 changed chains each, when
// changed chains got an entry since the last one (0: the round that finds
// nothing new and writes nothing). Each operation is one round; the
// entries it covers are written outside the timer. It reports the rows
// and the bytes of row data a round writes (the checkpoint row and one
// row per changed head; indexes and page overhead aside), and how many
// checkpoints and checkpoint heads are stored before the round (what
// relais journal verify replays; a round reads only the last checkpoint's
// cover, one row per chain).
func BenchCheckpoint(b *testing.B, s JournalStore, chains, changed, history int) {
	ctx := b.Context()
	ids := make([]string, chains)
	heads := make([]*journal.Entry, chains)
	for i := range ids {
		ids[i] = mandates.NewID(time.Now())
	}
	appendTo := func(from, n int) {
		const batch = 5000
		for done := 0; done < n; {
			err := s.InTx(ctx, func(ctx context.Context) error {
				for i := 0; i < batch && done < n; i, done = i+1, done+1 {
					c := (from + done) % chains
					e := journalEvent(ids[c], int(seqOf(heads[c])))
					d := journal.NewDetail(e.Detail)
					next := journal.Next(heads[c], ids[c], e, journal.DetailHash(d.Salt, d.Fields))
					if err := s.AppendJournal(ctx, next, d); err != nil {
						return err
					}
					heads[c] = &next
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	appendTo(0, chains)
	keys, _ := journalKeys(b, s)
	round := func() journal.Checkpoint {
		cp, err := journal.MakeCheckpoint(ctx, s, keys, journal.CheckpointOptions{})
		if err != nil && !errors.Is(err, journal.ErrNothingNew) {
			b.Fatal(err)
		}
		return cp
	}
	round()
	next := 0
	for range history {
		appendTo(next, 100)
		next += 100
		round()
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		b.Fatal(err)
	}
	stored := 0
	for _, c := range cps {
		stored += len(c.Heads)
	}
	var rows, bytes int
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		appendTo(next, changed)
		next += changed
		b.StartTimer()
		cpu0 := cpuTime()
		cp := round()
		cpu += cpuTime() - cpu0
		if changed == 0 {
			continue
		}
		rows += 1 + len(cp.Heads)
		bytes += 8 + 8 + 8 + 32 + 32 + len(cp.KeyID) + len(cp.JWS)
		for _, h := range cp.Heads {
			bytes += len(h.Chain) + 8 + 32 + 8
		}
	}
	// CPU time is what a loaded machine distorts least (this process
	// only: with PostgreSQL, the server's share is not in it).
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes-written/op")
	b.ReportMetric(float64(len(cps)), "checkpoints-stored")
	b.ReportMetric(float64(stored), "heads-stored")
}

// CheckpointBenchHistory is how many rounds BenchCheckpoint's "after
// more rounds" cases run first: RELAIS_CHECKPOINT_HISTORY, or 60 (an hour
// of relais serve's rounds).
func CheckpointBenchHistory() int {
	if n, err := strconv.Atoi(os.Getenv("RELAIS_CHECKPOINT_HISTORY")); err == nil && n >= 0 {
		return n
	}
	return 60
}

func seqOf(e *journal.Entry) int64 {
	if e == nil {
		return 0
	}
	return e.Seq
}

// BenchBatcher measures journal.Batcher as relais serve runs it for access
// evaluations: recorders goroutines record events at once, spread over
// chains people's chains, through a batcher with opt. Each operation is one
// recorded event, committed. It reports entries/s (wall clock, all
// recorders together) and the 99th percentile of one Record's latency.
func BenchBatcher(b *testing.B, s JournalStore, recorders, chains int, opt journal.BatchOptions) {
	ctx := b.Context()
	people := make([]string, chains)
	for i := range people {
		people[i] = mandates.NewID(time.Now())
	}
	bt := journal.NewBatcher(journal.New(s, journal.Options{}), s, opt)
	defer bt.Close()
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range recorders {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				if err := bt.Record(ctx, journalEvent(people[i%chains], i)); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
