package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/storage/postgres"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
	"github.com/relais-fr/relais/storage/storagetest"
)

func TestNotices(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunNotices(t, func(t *testing.T) storagetest.NoticeStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}

// sendRecord is one call of Send.
type sendRecord struct {
	owner string
	at    time.Time
	ok    bool
}

// ledger is the gateway both dispatchers send through: it counts each
// Send per Message.ID, fails the first attempt of some notices for a
// while, and makes the first dispatcher lose its lease in the middle of a
// few sends, as if it had crashed after sending and before recording.
type ledger struct {
	mu        sync.Mutex
	sends     map[string][]sendRecord
	failFirst map[string]bool      // these fail once, temporarily
	expired   map[string]time.Time // crashed sends: when the lease was made to expire
	resent    map[string]chan struct{}
	crashes   int // how many crashes are left to simulate
	pool      *pgxpool.Pool
	crashErrs []error
}

type gateway struct {
	l     *ledger
	owner string
	crash bool // this dispatcher is the one that crashes
}

var errGatewayDown = errors.New("gateway down for a while")

func (g gateway) Send(ctx context.Context, m notices.Message) error {
	l := g.l
	time.Sleep(200 * time.Microsecond) // the gateway takes a little time
	l.mu.Lock()
	prior := l.sends[m.ID]
	fail := l.failFirst[m.ID] && len(prior) == 0
	l.sends[m.ID] = append(prior, sendRecord{owner: g.owner, at: time.Now(), ok: !fail})
	if ch, ok := l.resent[m.ID]; ok && g.owner != "relais-a" {
		close(ch)
		delete(l.resent, m.ID)
	}
	crash := g.crash && !fail && len(prior) == 0 && l.crashes > 0
	var wait chan struct{}
	if crash {
		l.crashes--
		wait = make(chan struct{})
		l.resent[m.ID] = wait
		l.expired[m.ID] = time.Now()
	}
	l.mu.Unlock()
	if fail {
		return errGatewayDown
	}
	if crash {
		// The message went out; now the lease expires before the record,
		// and the other dispatcher takes the notice and sends it again.
		if _, err := l.pool.Exec(ctx, `UPDATE notices SET lease_until = now() - interval '1 second' WHERE id = $1`, m.ID); err != nil {
			l.mu.Lock()
			l.crashErrs = append(l.crashErrs, err)
			l.mu.Unlock()
		}
		select {
		case <-wait:
		case <-time.After(30 * time.Second):
			l.mu.Lock()
			l.crashErrs = append(l.crashErrs, fmt.Errorf("notice %s was not sent again after its lease expired", m.ID))
			l.mu.Unlock()
		}
	}
	return nil
}

// countingStore counts the notices recorded sent, and says when all are.
type countingStore struct {
	*postgres.Store
	sent  *atomic.Int64
	total int64
	done  chan struct{}
	once  *sync.Once
}

func (c countingStore) Record(ctx context.Context, held notices.Notice, fn func(*notices.Notice) error) (notices.Notice, error) {
	n, err := c.Store.Record(ctx, held, fn)
	if err == nil && n.Status == notices.Sent && c.sent.Add(1) == c.total {
		c.once.Do(func() { close(c.done) })
	}
	return n, err
}

type plainWords struct{}

func (plainWords) Write(_ context.Context, n notices.Notice) (notices.Message, error) {
	return notices.Message{ID: n.ID, Reference: n.ID[:8], Lang: n.Lang, Subject: string(n.Kind)}, nil
}

type fallbackSink struct{ n atomic.Int64 }

func (f *fallbackSink) Emit(context.Context, mandates.Event) error { f.n.Add(1); return nil }

// TestNoticesTwoDispatchers is the acceptance test of the outbox: two
// dispatchers, each with its own pool, on one PostgreSQL, send a bounded
// load of notices; some sends fail for a while, and one dispatcher loses
// its lease in the middle of a few sends (a crash between sending and
// recording). Every notice is recorded sent once, and a notice is sent a
// second time only after its lease expired.
func TestNoticesTwoDispatchers(t *testing.T) {
	const total = 2000
	const crashes = 10
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	dsn := pgtest.NewDatabaseFrom(t, tmpl)
	ctx := t.Context()
	setup := open(t, dsn)
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: "Jeanne", FamilyName: "Lefèvre",
		BirthDate: mandates.Date(1948, time.March, 12), Language: "fr"}
	if err := setup.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	l := &ledger{sends: map[string][]sendRecord{}, failFirst: map[string]bool{}, expired: map[string]time.Time{},
		resent: map[string]chan struct{}{}, crashes: crashes}
	created := time.Now().UTC().Truncate(time.Millisecond)
	ids := make([]string, total)
	err := setup.InTx(ctx, func(ctx context.Context) error {
		for i := range total {
			n := notices.Notice{ID: mandates.NewID(created), PersonID: p.ID, RecipientID: p.ID, RecipientKind: notices.ToPerson,
				Kind: mandates.EventSuspended, Channel: notices.Email, Lang: "fr", Data: map[string]string{"n": fmt.Sprint(i)},
				Status: notices.Pending, NextAttemptAt: created, CreatedAt: created}
			ids[i] = n.ID
			if i%7 == 3 {
				l.failFirst[n.ID] = true
			}
			if err := setup.CreateNotice(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	l.pool = pool

	counter, done, once := &atomic.Int64{}, make(chan struct{}), &sync.Once{}
	sink := &fallbackSink{}
	dispatcher := func(owner string, crash bool) *notices.Dispatcher {
		st := countingStore{Store: open(t, dsn), sent: counter, total: total, done: done, once: once}
		return &notices.Dispatcher{Store: st, Senders: map[notices.Channel]notices.Sender{notices.Email: gateway{l: l, owner: owner, crash: crash}},
			Writer: plainWords{}, Events: sink, Owner: owner, Lease: 10 * time.Second, Batch: 20, MaxAttempts: 5,
			Backoff: notices.Backoff{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond}, Interval: 10 * time.Millisecond}
	}
	a, b := dispatcher("relais-a", true), dispatcher("relais-b", false)
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := time.Now()
	for _, d := range []*notices.Dispatcher{a, b} {
		wg.Go(func() {
			if err := d.Run(runCtx); err != nil {
				t.Error(err)
			}
		})
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Errorf("after 2 minutes, %d of %d notices recorded sent", counter.Load(), total)
	}
	elapsed := time.Since(start)
	stop()
	wg.Wait()

	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.crashErrs {
		t.Error(err)
	}
	if len(l.expired) != crashes {
		t.Errorf("%d crashes simulated, want %d", len(l.expired), crashes)
	}
	if n := sink.n.Load(); n != 0 {
		t.Errorf("%d notices fell back to paper", n)
	}
	var calls, again int
	byOwner := map[string]int{}
	for i, id := range ids {
		sends := l.sends[id]
		calls += len(sends)
		var ok []sendRecord
		for _, s := range sends {
			if s.ok {
				ok = append(ok, s)
				byOwner[s.owner]++
			}
		}
		wantFailed := 0
		if l.failFirst[id] {
			wantFailed = 1
		}
		if len(sends)-len(ok) != wantFailed {
			t.Errorf("notice %d: %d failed sends, want %d", i, len(sends)-len(ok), wantFailed)
		}
		expiredAt, crashed := l.expired[id]
		switch {
		case len(ok) == 1 && !crashed:
		case len(ok) == 2 && crashed:
			again++
			if second := ok[1]; !second.at.After(expiredAt) || second.owner == ok[0].owner {
				t.Errorf("notice %d sent again by %s at %v, its lease (held by %s) expired at %v", i, second.owner, second.at, ok[0].owner, expiredAt)
			}
		default:
			t.Errorf("notice %d: %d sends taken by the gateway (crashed: %v): %+v", i, len(ok), crashed, sends)
		}
	}
	rows, err := pool.Query(ctx, `SELECT status, count(*) FROM notices GROUP BY status`)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		statuses[s] = n
	}
	rows.Close()
	if statuses["sent"] != total || len(statuses) != 1 {
		t.Errorf("stored statuses %v, want all %d sent", statuses, total)
	}
	if counter.Load() != total {
		t.Errorf("%d records of a send, want %d (one per notice)", counter.Load(), total)
	}
	t.Logf("%d notices, 2 dispatchers: %v, %.0f notices/s; %d Send calls (%d temporary failures, %d sent again after a lease expired); taken by the gateway: %v",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), calls, len(l.failFirst), again, byOwner)
}

func TestNoticeChoices(t *testing.T) {
	tmpl := pgtest.Template(t, "relais_schema", func(dsn string) error { return migrate(context.Background(), dsn) })
	storagetest.RunNoticeChoices(t, func(t *testing.T) storagetest.NoticeChoiceStore {
		return open(t, pgtest.NewDatabaseFrom(t, tmpl))
	})
}
