package postgres

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// LoseCommits makes the store's next COMMITs report a lost server, as a
// failover does, one per outcome: after committing when it is true, after
// rolling back otherwise. It returns how many were lost so far.
func (s *Store) LoseCommits(outcomes ...bool) (lost func() int) {
	var next atomic.Int32
	s.commit = func(ctx context.Context, tx pgx.Tx) error {
		i := int(next.Add(1)) - 1
		if i >= len(outcomes) {
			return tx.Commit(ctx)
		}
		if outcomes[i] {
			if err := tx.Commit(ctx); err != nil {
				return err
			}
		} else {
			_ = tx.Rollback(ctx)
		}
		return io.ErrUnexpectedEOF
	}
	return func() int { return min(int(next.Load()), len(outcomes)) }
}

// WriteKeys counts the transactions' write keys in the store.
func (s *Store) WriteKeys(ctx context.Context) (n int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM write_keys`).Scan(&n)
	return n, err
}

// TryKey is one attempt of an empty transaction with key, waiting at most
// wait for another transaction that holds it.
func (s *Store) TryKey(ctx context.Context, key string, wait time.Duration) error {
	return s.inTxOnce(ctx, key, wait, func(context.Context) error { return nil })
}

// HoldKey inserts key in a transaction left open until release.
func (s *Store) HoldKey(ctx context.Context, key string) (release func(), err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO write_keys (key) VALUES ($1)`, key); err != nil {
		_ = tx.Rollback(ctx)
		return nil, err
	}
	return func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }, nil
}
