package journal

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Some acts change nothing stored: an access evaluation only answers a
// site. Their entry is the only write, and a transaction for each one
// would cap how many answers a second Relais gives. A Batcher writes such
// entries by group commit: whoever arrives while a transaction is running
// waits for the next one, which takes all of them at once. Record returns
// only once its entry is committed, so nothing is held in memory that
// another instance or a restart would need: an answer is given only once
// its entry is stored, and an entry that could not be stored makes the
// answer fail.

// ErrClosed: the batcher was closed (the instance is stopping); nothing
// more is recorded. It is a mandates.ErrUnavailable: ask another instance.
var ErrClosed = fmt.Errorf("journal: closed: %w", mandates.ErrUnavailable)

// BatchOptions tune a Batcher; zero fields take the defaults.
type BatchOptions struct {
	// Workers is how many transactions may run at once. Default 1: right
	// for SQLite, whose one writer takes them in turn anyway. PostgreSQL
	// gains from a few when many people's journals are written. Each
	// chain goes to one worker, so two transactions of one instance never
	// race for a chain's next entry.
	Workers int
	// MaxBatch bounds the entries of one transaction. Default 128.
	MaxBatch int
	// Timeout bounds one transaction. Default 30 s: longer than
	// storage/postgres's wait for a new primary (FailoverWait, 15 s), so
	// that a batch caught by a failover is written on the new primary
	// instead of failing first.
	Timeout time.Duration
}

// Batcher records events outside any change's transaction, many to a
// transaction. It implements mandates.EventRecorder.
type Batcher struct {
	j      *Journal
	tx     mandates.Transactor
	opt    BatchOptions
	queues []chan *pending // one per worker; a chain always goes to the same

	mu     sync.RWMutex // held to send, taken whole to close
	closed bool
	wg     sync.WaitGroup
}

var _ mandates.EventRecorder = (*Batcher)(nil)

type pending struct {
	ctx   context.Context
	e     mandates.Event
	chain string
	done  chan error
}

// NewBatcher starts the batcher's workers; Close stops them.
func NewBatcher(j *Journal, tx mandates.Transactor, opt BatchOptions) *Batcher {
	if opt.Workers <= 0 {
		opt.Workers = 1
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 128
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	b := &Batcher{j: j, tx: tx, opt: opt, queues: make([]chan *pending, opt.Workers)}
	b.wg.Add(opt.Workers)
	for i := range b.queues {
		b.queues[i] = make(chan *pending, opt.MaxBatch)
		go b.work(b.queues[i])
	}
	return b
}

// Record stores e in its chain and returns once it is committed, or with
// the reason it was not. An event whose ctx ends before its transaction
// starts is not written.
func (b *Batcher) Record(ctx context.Context, e mandates.Event) error {
	if e.Type == "" {
		return &mandates.InvalidError{Field: "type", Rule: mandates.RuleRequired}
	}
	if e.At.IsZero() {
		e.At = b.j.now()
	}
	p := &pending{ctx: ctx, e: e, chain: ChainOf(e), done: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(p.chain))
	select {
	case b.queues[h.Sum32()%uint32(len(b.queues))] <- p:
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	b.mu.RUnlock()
	// Once queued, wait for the outcome even if ctx ends: the caller must
	// not report an event as lost that a transaction is writing.
	return <-p.done
}

// Close records what is queued, then stops the workers.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, q := range b.queues {
			close(q)
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Batcher) work(queue chan *pending) {
	defer b.wg.Done()
	batch := make([]*pending, 0, b.opt.MaxBatch)
	for first := range queue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < b.opt.MaxBatch {
			select {
			case p, ok := <-queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		b.write(batch)
	}
}

// write commits batch in one transaction. Entries go in chain order (each
// chain's in arrival order), so that two instances' transactions on
// PostgreSQL take their rows' locks in one order and never deadlock. When
// the transaction fails, each entry is tried alone, so that one bad event
// fails alone.
func (b *Batcher) write(batch []*pending) {
	live := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- err
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	slices.SortStableFunc(live, func(x, y *pending) int { return cmp.Compare(x.chain, y.chain) })
	err := b.commit(live)
	if err == nil || len(live) == 1 {
		for _, p := range live {
			p.done <- err
		}
		return
	}
	for _, p := range live {
		p.done <- b.commit([]*pending{p})
	}
}

// commit writes ps in one transaction: several through EmitBatch, which
// reads each chain's head once and writes the entries together; one
// through Emit, whose retries win a race another instance started for the
// chain's next entry (write falls back to that when a batch failed).
func (b *Batcher) commit(ps []*pending) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.opt.Timeout)
	defer cancel()
	if len(ps) == 1 {
		return b.tx.InTx(ctx, func(ctx context.Context) error { return b.j.Emit(ctx, ps[0].e) })
	}
	events := make([]mandates.Event, len(ps))
	for i, p := range ps {
		events[i] = p.e
	}
	return b.tx.InTx(ctx, func(ctx context.Context) error { return b.j.EmitBatch(ctx, events) })
}
