package authz

import (
	"context"
	"errors"

	"github.com/relais-fr/relais/mandates"
)

// fosite's code and refresh flows bracket their writes with BeginTX and
// Commit/Rollback (storage.Transactional), so that a rotated refresh token
// and the tokens replacing it are written together or not at all. Relais's
// stores offer transactions as a closure (mandates.Transactor); a goroutine
// holds the closure open between BeginTX and Commit.

type txHandle struct {
	finish chan bool  // true: commit; false: roll back
	result chan error // what InTx returned
}

type txHandleKey struct{}

var errRollback = errors.New("authz: transaction rolled back")

// BeginTX implements storage.Transactional.
func (s *fositeStorage) BeginTX(ctx context.Context) (context.Context, error) {
	h := &txHandle{finish: make(chan bool, 1), result: make(chan error, 1)}
	started := make(chan context.Context, 1)
	go func() {
		h.result <- s.tx.InTx(mandates.WithoutRetry(ctx), func(txctx context.Context) error {
			started <- txctx
			select {
			case commit := <-h.finish:
				if commit {
					return nil
				}
				return errRollback
			case <-txctx.Done():
				// The request ended without Commit or Rollback (a panic
				// upstream): never hold the store's write lock past it.
				return txctx.Err()
			}
		})
	}()
	select {
	case txctx := <-started:
		return context.WithValue(txctx, txHandleKey{}, h), nil
	case err := <-h.result:
		return ctx, err
	}
}

func handleOf(ctx context.Context) (*txHandle, error) {
	h, ok := ctx.Value(txHandleKey{}).(*txHandle)
	if !ok {
		return nil, errors.New("authz: no transaction in this context")
	}
	return h, nil
}

// Commit implements storage.Transactional.
func (s *fositeStorage) Commit(ctx context.Context) error {
	h, err := handleOf(ctx)
	if err != nil {
		return err
	}
	h.finish <- true
	return toFosite(<-h.result)
}

// Rollback implements storage.Transactional.
func (s *fositeStorage) Rollback(ctx context.Context) error {
	h, err := handleOf(ctx)
	if err != nil {
		return err
	}
	h.finish <- false
	if err := <-h.result; err != nil && !errors.Is(err, errRollback) {
		return err
	}
	return nil
}
