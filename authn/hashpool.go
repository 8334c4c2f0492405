package authn

import (
	"context"
	"runtime"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// BusyError: a password was not checked because as many are being checked
// as the server allows, and the short queue was full or waited too long.
// It is a mandates.ErrUnavailable, so every edge answers 503 for it;
// RetryAfter is what the answer's Retry-After says (RFC 9110 §10.2.3).
type BusyError struct {
	RetryAfter time.Duration
}

func (e *BusyError) Error() string { return "authn: too many passwords are being checked at once" }

// Unwrap makes a BusyError a mandates.ErrUnavailable.
func (e *BusyError) Unwrap() error { return mandates.ErrUnavailable }

// HashPoolConfig sizes a HashPool; the zero value is the default.
type HashPoolConfig struct {
	// Size is how many argon2id hashes run at once. Default: the number
	// of cores, since a hash keeps one core busy and more at once only
	// makes each slower while holding its memory longer.
	Size int
	// Queue is how many more may wait for a turn. Default 32 × Size: a
	// check waiting holds no hash memory, only its request, and Wait
	// bounds how long it waits, so a burst of logins (a desk opening, a
	// load of 32 at once) queues and is served instead of being refused,
	// while a flood past the queue is still answered 503 at once.
	Queue int
	// Wait is how long one waits at most. Default 2 s.
	Wait time.Duration
}

// HashPool bounds the argon2id hashes that run at once. Each holds 19 MiB
// (password.go) for its length: without a bound, N concurrent logins cost
// N × 19 MiB, so a flood of wrong passwords exhausts the server's memory.
// Past the bound, a short queue waits a short while, then the check is
// refused with a BusyError rather than queued without end.
type HashPool struct {
	slots chan struct{} // one token per running hash
	queue chan struct{} // one token per waiting check
	wait  time.Duration
}

// NewHashPool makes a pool.
func NewHashPool(cfg HashPoolConfig) *HashPool {
	if cfg.Size <= 0 {
		cfg.Size = runtime.NumCPU()
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 32 * cfg.Size
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 2 * time.Second
	}
	return &HashPool{slots: make(chan struct{}, cfg.Size), queue: make(chan struct{}, cfg.Queue), wait: cfg.Wait}
}

// retryAfter is what a refused person is told to wait: a few hashes'
// time, the length of the queue's wait rounded up to whole seconds.
func (p *HashPool) retryAfter() time.Duration {
	return max(time.Second, p.wait.Round(time.Second))
}

// Do runs fn once a slot is free. It fails with a BusyError when the queue
// is full or the wait is over, and with ctx's error when ctx ends first.
func (p *HashPool) Do(ctx context.Context, fn func()) error {
	select {
	case p.slots <- struct{}{}:
	default:
		if err := p.await(ctx); err != nil {
			return err
		}
	}
	defer func() { <-p.slots }()
	fn()
	return nil
}

// await takes a place in the queue, then a slot.
func (p *HashPool) await(ctx context.Context) error {
	select {
	case p.queue <- struct{}{}:
	default:
		return &BusyError{RetryAfter: p.retryAfter()}
	}
	defer func() { <-p.queue }()
	timer := time.NewTimer(p.wait)
	defer timer.Stop()
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-timer.C:
		return &BusyError{RetryAfter: p.retryAfter()}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// verify checks password against hash in the pool.
func (a *Authenticator) verify(ctx context.Context, hash, password string) (match bool, err error) {
	var verr error
	if err := a.hashes.Do(ctx, func() { match, verr = VerifyPassword(hash, password) }); err != nil {
		return false, err
	}
	return match, verr
}

// WithHashPool checks passwords in pool, which the caller may share with
// whatever else hashes passwords. Without it, an Authenticator has its
// own pool of the default size.
func WithHashPool(pool *HashPool) AuthenticatorOption {
	return func(a *Authenticator) { a.hashes = pool }
}
