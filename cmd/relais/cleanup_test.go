package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/storage/sqlite"
)

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

// deletedMetric reads relais_cleanup_deleted_total{kind} from reg.
func deletedMetric(t *testing.T, reg *prometheus.Registry, kind mandates.ExpiredKind) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "relais_cleanup_deleted_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == string(kind) {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("relais_cleanup_deleted_total{kind=%q} is not registered", kind)
	return 0
}

// seedProofs records n DPoP proofs of the test that expire at expires.
func seedProofs(t *testing.T, st *sqlite.Store, prefix string, n int, expires time.Time) {
	t.Helper()
	for i := range n {
		if err := st.UseDPoPProof(t.Context(), fmt.Sprint(prefix, i), expires, expires.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
}

// leftProofs says how many of the proofs are still recorded, by deleting
// them at a time when all have expired.
func leftProofs(t *testing.T, st *sqlite.Store, at time.Time) int64 {
	t.Helper()
	n, err := st.DeleteExpired(t.Context(), mandates.ExpiredDPoPProofs, at, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return int64(n)
}

func TestCleanupRunsOnTheLeaseHolderOnly(t *testing.T) {
	st := migratedSQLite(t)
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	a := newCleanup(st, time.Minute, regA, clock, slog.New(slog.DiscardHandler))
	b := newCleanup(st, time.Minute, regB, clock, slog.New(slog.DiscardHandler))

	seedProofs(t, st, "first-", 3, t0.Add(-time.Second))
	if !a.round(t.Context()) {
		t.Fatal("a did not run its round on a free lease")
	}
	seedProofs(t, st, "second-", 2, t0.Add(10*time.Second))
	now = t0.Add(30 * time.Second)
	if b.round(t.Context()) {
		t.Error("b ran a round while a held the lease")
	}
	if got := deletedMetric(t, regB, mandates.ExpiredDPoPProofs); got != 0 {
		t.Errorf("b counted %v deletions without the lease, want 0", got)
	}
	if got := deletedMetric(t, regA, mandates.ExpiredDPoPProofs); got != 3 {
		t.Errorf("a counted %v deleted proofs, want 3", got)
	}
	// a stops ticking; once its lease is over, b takes the work over.
	now = t0.Add(2 * time.Minute)
	if !b.round(t.Context()) {
		t.Fatal("b did not take the lease over once a's expired")
	}
	if got := deletedMetric(t, regB, mandates.ExpiredDPoPProofs); got != 2 {
		t.Errorf("b counted %v deleted proofs, want the 2 expired since", got)
	}
	if left := leftProofs(t, st, t0.Add(time.Hour)); left != 0 {
		t.Errorf("%d proofs left, want 0", left)
	}
}

// countingStore records the size of each batch the cleanup deletes.
type countingStore struct {
	cleanupStore
	mu      sync.Mutex
	batches map[mandates.ExpiredKind][]int
}

func (c *countingStore) DeleteExpired(ctx context.Context, kind mandates.ExpiredKind, before time.Time, limit int) (int, error) {
	n, err := c.cleanupStore.DeleteExpired(ctx, kind, before, limit)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches[kind] = append(c.batches[kind], n)
	return n, err
}

// hookStore calls after once each batch is deleted, with its kind.
type hookStore struct {
	cleanupStore
	after func(kind mandates.ExpiredKind)
}

func (h *hookStore) DeleteExpired(ctx context.Context, kind mandates.ExpiredKind, before time.Time, limit int) (int, error) {
	n, err := h.cleanupStore.DeleteExpired(ctx, kind, before, limit)
	h.after(kind)
	return n, err
}

// A round longer than its lease: another instance whose clock says the
// lease is over takes it, and the round stops deleting at its next batch
// rather than competing with the new holder's.
func TestCleanupStopsWhenAnotherHolderTakesTheLeaseOver(t *testing.T) {
	st := migratedSQLite(t)
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	now := t0
	seedProofs(t, st, "stale-", 3, t0.Add(-time.Second))
	var kinds []mandates.ExpiredKind
	hook := &hookStore{cleanupStore: st, after: func(kind mandates.ExpiredKind) {
		kinds = append(kinds, kind)
		if len(kinds) == 1 {
			// The first batch took past the lease; b ticks and takes it.
			now = t0.Add(2 * time.Minute)
			if ok, err := st.AcquireLease(t.Context(), cleanupLease, "b", now, now.Add(time.Minute)); err != nil || !ok {
				t.Fatalf("b could not take the expired lease: %v, %v", ok, err)
			}
		}
	}}
	c := newCleanup(hook, time.Minute, prometheus.NewRegistry(), func() time.Time { return now }, slog.New(slog.DiscardHandler))
	if !c.round(t.Context()) {
		t.Fatal("the round did not start on a free lease")
	}
	if want := []mandates.ExpiredKind{mandates.ExpiredSessions}; !slices.Equal(kinds, want) {
		t.Errorf("batches deleted %v, want only %v: the lease was b's after it", kinds, want)
	}
	if left := leftProofs(t, st, t0.Add(time.Hour)); left != 3 {
		t.Errorf("%d expired proofs left, want the 3 the round no longer held the lease to delete", left)
	}
}

// A round that runs past its first lease renews it at each batch, so that
// no other instance starts a round alongside it.
func TestCleanupRenewsItsLeaseAtEachBatch(t *testing.T) {
	st := migratedSQLite(t)
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	now := t0
	var batches, taken int
	hook := &hookStore{cleanupStore: st, after: func(mandates.ExpiredKind) {
		batches++
		now = now.Add(40 * time.Second) // each batch is slow: the round lasts minutes
		ok, err := st.AcquireLease(t.Context(), cleanupLease, "b", now, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			taken++
		}
	}}
	c := newCleanup(hook, time.Minute, prometheus.NewRegistry(), func() time.Time { return now }, slog.New(slog.DiscardHandler))
	if !c.round(t.Context()) {
		t.Fatal("the round did not start on a free lease")
	}
	if n := len(mandates.ExpiredKinds()); batches != n || taken != 0 {
		t.Errorf("%d batches, another holder took the lease %d times; want %d batches and never", batches, taken, n)
	}
}

func TestCleanupTickDeletesInBatchesAndCountsThem(t *testing.T) {
	st := migratedSQLite(t)
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	seedProofs(t, st, "stale-", 25, now.Add(-time.Second))
	seedProofs(t, st, "live-", 4, now.Add(time.Second))
	for i := range 3 {
		if err := st.UseJTI(t.Context(), fmt.Sprint("jti-", i), now.Add(-time.Minute), now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	counting := &countingStore{cleanupStore: st, batches: map[mandates.ExpiredKind][]int{}}
	reg := prometheus.NewRegistry()
	c := newCleanup(counting, time.Minute, reg, func() time.Time { return now }, slog.New(slog.DiscardHandler))
	c.batch, c.pause = 10, time.Millisecond

	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		c.run(ctx, tick)
		close(done)
	}()
	tick <- now
	tick <- now // received once the first round is over
	cancel()    // the second round may have begun: its batches find nothing
	<-done

	firstRound := func(got, want []int) bool {
		return len(got) >= len(want) && slices.Equal(got[:len(want)], want) && !slices.ContainsFunc(got[len(want):], func(n int) bool { return n != 0 })
	}
	if got := counting.batches[mandates.ExpiredDPoPProofs]; !firstRound(got, []int{10, 10, 5}) {
		t.Errorf("DPoP proofs deleted in batches %v, want [10 10 5] (then empty batches only)", got)
	}
	if got := counting.batches[mandates.ExpiredJTIs]; !firstRound(got, []int{3}) {
		t.Errorf("JWT ids deleted in batches %v, want [3] (then empty batches only)", got)
	}
	for _, k := range mandates.ExpiredKinds() {
		if len(counting.batches[k]) == 0 {
			t.Errorf("the round never deleted %s", k)
		}
	}
	for kind, want := range map[mandates.ExpiredKind]float64{mandates.ExpiredDPoPProofs: 25, mandates.ExpiredJTIs: 3, mandates.ExpiredSessions: 0} {
		if got := deletedMetric(t, reg, kind); got != want {
			t.Errorf("relais_cleanup_deleted_total{kind=%q} = %v, want %v", kind, got, want)
		}
	}
	if left := leftProofs(t, st, now.Add(time.Minute)); left != 4 {
		t.Errorf("%d live proofs left, want the 4 not yet expired", left)
	}
}

// blockingStore holds each batch until the test releases it.
type blockingStore struct {
	entered chan struct{}
	release chan struct{}
	ctxErr  error // the context's error when the batch ended
}

func (b *blockingStore) AcquireLease(context.Context, string, string, time.Time, time.Time) (bool, error) {
	return true, nil
}

func (b *blockingStore) DeleteExpired(ctx context.Context, kind mandates.ExpiredKind, before time.Time, limit int) (int, error) {
	if kind != mandates.ExpiredSessions {
		return 0, nil
	}
	b.entered <- struct{}{}
	<-b.release
	b.ctxErr = ctx.Err()
	return 7, nil
}

func TestCleanupStopWaitsForTheBatchInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &blockingStore{entered: make(chan struct{}), release: make(chan struct{})}
		reg := prometheus.NewRegistry()
		stop := startCleanup(t.Context(), newCleanup(st, time.Minute, reg, time.Now, slog.New(slog.DiscardHandler)))
		<-st.entered // the first tick, a minute on, started a batch of sessions
		stopped := make(chan struct{})
		go func() {
			stop()
			close(stopped)
		}()
		synctest.Wait()
		select {
		case <-stopped:
			t.Fatal("stop returned while a batch was in progress")
		default:
		}
		close(st.release)
		<-stopped
		if st.ctxErr != nil {
			t.Errorf("the batch in progress was cancelled (%v), want it to end", st.ctxErr)
		}
		if got := deletedMetric(t, reg, mandates.ExpiredSessions); got != 7 {
			t.Errorf("relais_cleanup_deleted_total{kind=\"sessions\"} = %v, want the batch's 7 counted", got)
		}
	})
}

func TestServeRefusesABadCleanupInterval(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "relais.db")
	for _, v := range []string{"0s", "500ms", "48h"} {
		t.Run(v, func(t *testing.T) {
			code, _, stderr := runRelais(t, noEnv, "serve", "--db", db, "--cleanup-interval", v)
			if code != 2 || !strings.Contains(stderr, "--cleanup-interval") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("exit %d, %q; want 2 and one line naming --cleanup-interval", code, stderr)
			}
		})
	}
}

// serve runs the cleanup: records seeded expired in its store are gone
// after a round, and /metrics counts them.
func TestServeDeletesExpiredRecordsAndCountsThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relais.db")
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrateUp(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	seedProofs(t, st, "stale-", 3, past)
	seedProofs(t, st, "live-", 2, time.Now().Add(time.Hour))
	st.Close()

	base, _, stop := startServe(t, []string{"--demo", "--db", "sqlite:" + path, "--cleanup-interval", "1s"})
	want := `relais_cleanup_deleted_total{kind="dpop_proofs"} 3`
	var metrics string
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(metrics, want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never said %s:\n%s", want, metrics)
		}
		_, metrics = get(t, base+"/metrics")
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	st = openedAt(t, path)
	if left := leftProofs(t, st, time.Now().Add(2*time.Hour)); left != 2 {
		t.Errorf("%d proofs left after the cleanup, want the 2 live ones", left)
	}
}

// openedAt opens the SQLite store at path, closed when the test ends.
func openedAt(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestCutoff: most records are deleted once past their end; a failed-login
// counter only once its longest window is over, a PostgreSQL write key
// only long after any retry of its transaction, and an unanswered
// co-signature request a month after it expired.
func TestCutoff(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	for kind, want := range map[mandates.ExpiredKind]time.Time{
		mandates.ExpiredSessions:      now,
		mandates.ExpiredRefreshTokens: now,
		mandates.ExpiredLoginAttempts: now.Add(-24 * time.Hour),
		mandates.ExpiredWriteKeys:     now.Add(-time.Hour),
		mandates.ExpiredCosignatures:  now.Add(-30 * 24 * time.Hour),
	} {
		if got := cutoff(kind, now); !got.Equal(want) {
			t.Errorf("cutoff(%s) = %v, want %v", kind, got, want)
		}
	}
}
