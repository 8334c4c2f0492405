package postgres

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// LoseCommits makes the store's next n COMMITs report a lost server, as a
// failover does: after committing when committed is true, after rolling
// back otherwise. It returns how many were lost so far.
func (s *Store) LoseCommits(n int, committed bool) (lost func() int) {
	var left, done atomic.Int32
	left.Store(int32(n))
	s.commit = func(ctx context.Context, tx pgx.Tx) error {
		if left.Add(-1) < 0 {
			return tx.Commit(ctx)
		}
		done.Add(1)
		if committed {
			if err := tx.Commit(ctx); err != nil {
				return err
			}
		} else {
			_ = tx.Rollback(ctx)
		}
		return io.ErrUnexpectedEOF
	}
	return func() int { return int(done.Load()) }
}

// WriteKeys counts the transactions' write keys in the store.
func (s *Store) WriteKeys(ctx context.Context) (n int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM write_keys`).Scan(&n)
	return n, err
}
