package authz

import (
	"context"
	"sync"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// A client-credentials token is one insert and nothing else: a transaction
// for each one made its begin and commit (a WAL write on SQLite, a flush
// to disk on PostgreSQL) the larger part of a token's cost. tokenGroup
// writes such records by group commit: the requests that arrive while one
// transaction is running are written together by the next one, in one
// transaction. create returns only once the record is committed, so a
// token is answered only once it is stored, as before, and nothing waits
// in memory that another instance would need.
//
// There is no goroutine of its own: the first request to find no
// transaction running writes; when it is done and more are waiting, it
// hands the turn to the first of them.

// Bounds of one group commit. The time is longer than storage/postgres's
// wait for a new primary (FailoverWait, 15 s): a group caught by a
// failover is written on the new primary instead of failing first.
const (
	maxTokenGroup     = 128
	tokenGroupTimeout = 30 * time.Second
)

type tokenGroup struct {
	tokens oauth.TokenStore
	tx     mandates.Transactor

	mu      sync.Mutex
	queue   []*pendingToken
	running bool // a request is writing a group
}

type pendingToken struct {
	ctx  context.Context
	rec  oauth.TokenRecord
	done chan error    // the outcome of its write
	turn chan struct{} // closed when it must write the next group
}

func newTokenGroup(tokens oauth.TokenStore, tx mandates.Transactor) *tokenGroup {
	return &tokenGroup{tokens: tokens, tx: tx}
}

// create stores rec with others waiting at the same time, and returns once
// it is committed or with the reason it was not.
func (g *tokenGroup) create(ctx context.Context, rec oauth.TokenRecord) error {
	p := &pendingToken{ctx: ctx, rec: rec, done: make(chan error, 1), turn: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if !lead {
		// Once queued, wait for the outcome even if ctx ends: the record
		// may be in a transaction being committed.
		select {
		case err := <-p.done:
			return err
		case <-p.turn:
		}
	}
	g.writeNext()
	return <-p.done
}

// writeNext writes the waiting records, up to maxTokenGroup, then hands
// the turn to the next waiting request or marks no transaction running.
func (g *tokenGroup) writeNext() {
	g.mu.Lock()
	n := min(len(g.queue), maxTokenGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	g.write(batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		close(g.queue[0].turn)
	} else {
		g.running = false
	}
	g.mu.Unlock()
}

// write commits batch in one transaction. When it fails, each record is
// tried alone, so that one bad record fails alone.
func (g *tokenGroup) write(batch []*pendingToken) {
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
	err := g.commit(live)
	if err == nil || len(live) == 1 {
		for _, p := range live {
			p.done <- err
		}
		return
	}
	for _, p := range live {
		p.done <- g.commit([]*pendingToken{p})
	}
}

func (g *tokenGroup) commit(ps []*pendingToken) error {
	ctx, cancel := context.WithTimeout(context.Background(), tokenGroupTimeout)
	defer cancel()
	return g.tx.InTx(ctx, func(ctx context.Context) error {
		for _, p := range ps {
			if err := g.tokens.CreateToken(ctx, p.rec); err != nil {
				return err
			}
		}
		return nil
	})
}
