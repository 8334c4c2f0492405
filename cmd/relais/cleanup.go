package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/mandates"
)

// The cleanup job of relais serve deletes what has expired (issue 19):
// sessions, logins on their way, codes, tokens, replay records and
// co-signature requests a month past their unanswered expiry
// (mandates.ExpiredKinds). It replaces
// the sweeps of DPoP proofs and upstream logins that every instance ran.

const (
	defaultCleanupInterval = time.Minute
	// cleanupLease is the lease's name in the store's lease table, beside
	// the journal's.
	cleanupLease = "cleanup"
	// cleanupBatch bounds the rows one statement deletes, so that a batch
	// holds SQLite's single writer, or PostgreSQL's row locks, for a few
	// milliseconds only.
	cleanupBatch = 1000
	// cleanupPause is the rest between two batches of one kind, for the
	// logins and tokens waiting to write.
	cleanupPause = 50 * time.Millisecond
	// cleanupBatchTimeout bounds one batch, which runs to its end even
	// when the server stops (cleanup.batch).
	cleanupBatchTimeout = 30 * time.Second
	// longestAttemptWindow is the longest window a failed-attempt counter
	// is read in: a day, for the activation letters asked for one person
	// (accounts/activation.go); logins count by 15 minutes and account
	// recovery by the hour. A counter is deleted only once that window is
	// over, so no limit is reset early.
	longestAttemptWindow = 24 * time.Hour
	// writeKeyRetention keeps a PostgreSQL transaction's write key far
	// longer than any retry of it (postgres.Options.FailoverWait, 15 s).
	writeKeyRetention = time.Hour
	// cosignatureRetention keeps a request nobody answered for a month
	// after it expired: the site that opened it still reads it as
	// expired (GET /access/v1/cosignatures/{id}) when its actor comes
	// back to the act, and the notices and letters about it still find
	// its words. Past that, the site's own record of the request has long
	// expired; an evaluation naming it is answered as before
	// (mandates.Service.Evaluate) and the GET answers 404.
	cosignatureRetention = 30 * 24 * time.Hour
)

func bindCleanupFlags(fs *pflag.FlagSet, c *Config) {
	fs.DurationVar(&c.CleanupInterval, "cleanup-interval", defaultCleanupInterval,
		"how often expired sessions, codes, tokens and requests are deleted (by one instance at a time)")
}

func (c *Config) validateCleanup() error {
	if c.CleanupInterval < time.Second || c.CleanupInterval > 24*time.Hour {
		return settingErr("--cleanup-interval (RELAIS_CLEANUP_INTERVAL) must be from 1s to 24h, for example 1m (the default).")
	}
	return nil
}

// cleanupStore is what the cleanup needs of the store.
type cleanupStore interface {
	mandates.ExpiredStore
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
}

// cleanup deletes expired records in rounds. Any instance may run a
// round; the lease keeps two from running at once, so the deletions do
// not compete with each other for the store.
type cleanup struct {
	store    cleanupStore
	holder   string
	interval time.Duration
	batch    int
	pause    time.Duration
	now      func() time.Time
	log      *slog.Logger
	deleted  *prometheus.CounterVec // relais_cleanup_deleted_total{kind}
}

func newCleanup(st cleanupStore, interval time.Duration, reg prometheus.Registerer, now func() time.Time, log *slog.Logger) *cleanup {
	holder := make([]byte, 8)
	_, _ = rand.Read(holder) // crypto/rand.Read never fails (Go 1.24+).
	deleted := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "relais_cleanup_deleted_total",
		Help: "Expired records deleted by the cleanup job, by kind.",
	}, []string{"kind"})
	for _, k := range mandates.ExpiredKinds() {
		deleted.WithLabelValues(string(k)) // every kind shows, from 0
	}
	reg.MustRegister(deleted)
	return &cleanup{store: st, holder: hex.EncodeToString(holder), interval: interval, batch: cleanupBatch, pause: cleanupPause,
		now: now, log: log, deleted: deleted}
}

// startCleanup runs a round at each interval until ctx ends or stop is
// called; stop waits for the batch in progress.
func startCleanup(ctx context.Context, c *cleanup) (stop func()) {
	ticker := time.NewTicker(c.interval)
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { c.run(cctx, ticker.C) })
	return func() {
		cancel()
		ticker.Stop()
		wg.Wait()
	}
}

func (c *cleanup) run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			c.round(ctx)
		}
	}
}

// round deletes every kind's expired records if this instance holds the
// lease, and says whether it did. Errors are logged: the next round tries
// again.
func (c *cleanup) round(ctx context.Context) bool {
	now := c.now()
	if !c.hold(ctx) {
		return false
	}
	for i, kind := range mandates.ExpiredKinds() {
		if !c.deleteKind(ctx, kind, cutoff(kind, now), i == 0) {
			break
		}
	}
	return true
}

// hold takes or renews the lease, for nine tenths of an interval from
// now, and says whether this instance holds it. Not released, as the
// journal's: whichever instance ticks next after it expires does the
// next round. It is renewed before each batch, so that a round longer
// than its first lease keeps it, and ends as soon as another instance
// took the lease over (its clock said ours was over) or the store cannot
// tell: two rounds at once would compete for the store, on SQLite for
// its single writer.
func (c *cleanup) hold(ctx context.Context) bool {
	now := c.now()
	ok, err := c.store.AcquireLease(ctx, cleanupLease, c.holder, now, now.Add(c.interval*9/10))
	if err != nil {
		if ctx.Err() == nil {
			c.log.WarnContext(ctx, "cleanup lease", "err", err)
		}
		return false
	}
	return ok
}

// cutoff is the end before which a record of kind is deleted at now.
// Used codes and rotated refresh tokens are kept until they expire, which
// is the window in which fosite recognises their reuse and revokes the
// grant (oauth.TokenRecord.Active; RFC 9700 §4.14.2): past it, a replay
// is refused as unknown, with nothing left to revoke it for.
func cutoff(kind mandates.ExpiredKind, now time.Time) time.Time {
	switch kind {
	case mandates.ExpiredLoginAttempts:
		return now.Add(-longestAttemptWindow)
	case mandates.ExpiredWriteKeys:
		return now.Add(-writeKeyRetention)
	case mandates.ExpiredCosignatures:
		return now.Add(-cosignatureRetention)
	}
	return now
}

// deleteKind deletes kind's records in batches until one comes back
// short, renewing the lease before each batch (but the first when held
// says the round has just taken it), and says whether to go on with the
// next kind (false once ctx ends or the lease is lost).
func (c *cleanup) deleteKind(ctx context.Context, kind mandates.ExpiredKind, before time.Time, held bool) bool {
	for {
		if !held && !c.hold(ctx) {
			return false
		}
		held = false
		n, err := c.batchOnce(ctx, kind, before)
		if err != nil {
			c.log.WarnContext(ctx, "delete expired records", "kind", string(kind), "err", err)
			return ctx.Err() == nil
		}
		if n > 0 {
			c.log.DebugContext(ctx, "expired records deleted", "kind", string(kind), "count", n)
		}
		if n < c.batch {
			return ctx.Err() == nil
		}
		t := time.NewTimer(c.pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// batchOnce deletes one batch. It runs to its end when ctx ends, within
// cleanupBatchTimeout, so that the count it deleted is counted and stop
// returns after it rather than abandoning it halfway (a statement stopped
// halfway would roll back, which is safe but wasted).
func (c *cleanup) batchOnce(ctx context.Context, kind mandates.ExpiredKind, before time.Time) (int, error) {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupBatchTimeout)
	defer cancel()
	n, err := c.store.DeleteExpired(bctx, kind, before, c.batch)
	if n > 0 {
		c.deleted.WithLabelValues(string(kind)).Add(float64(n))
	}
	return n, err
}
