package authn_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

func TestHashPool(t *testing.T) {
	t.Run("no more than Size hashes run at once, and the queued ones run in turn", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pool := authn.NewHashPool(authn.HashPoolConfig{Size: 2, Queue: 10, Wait: time.Minute})
			var running, peak, done atomic.Int32
			release := make(chan struct{})
			for range 5 {
				go func() {
					err := pool.Do(t.Context(), func() {
						n := running.Add(1)
						for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
						}
						<-release
						running.Add(-1)
					})
					if err != nil {
						t.Errorf("Do: %v", err)
					}
					done.Add(1)
				}()
			}
			synctest.Wait()
			if n := running.Load(); n != 2 {
				t.Errorf("%d hashes running, want 2", n)
			}
			for range 5 {
				release <- struct{}{}
			}
			synctest.Wait()
			if done.Load() != 5 || peak.Load() != 2 {
				t.Errorf("%d done, peak %d; want 5 done, peak 2", done.Load(), peak.Load())
			}
		})
	})
	t.Run("a full queue is refused at once, with the wait to ask for", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pool := authn.NewHashPool(authn.HashPoolConfig{Size: 1, Queue: 1, Wait: 2 * time.Second})
			release := make(chan struct{})
			go pool.Do(t.Context(), func() { <-release }) // runs
			synctest.Wait()
			go pool.Do(t.Context(), func() {}) // waits in the queue
			synctest.Wait()
			start := time.Now()
			ran := false
			err := pool.Do(t.Context(), func() { ran = true })
			var busy *authn.BusyError
			if !errors.As(err, &busy) || busy.RetryAfter != 2*time.Second || ran {
				t.Fatalf("Do with the queue full = %v (ran: %v), want a BusyError asking for 2s", err, ran)
			}
			if waited := time.Since(start); waited != 0 {
				t.Errorf("refused after %v, want at once", waited)
			}
			if !errors.Is(err, mandates.ErrUnavailable) {
				t.Errorf("a BusyError is not a mandates.ErrUnavailable: edges would not answer 503")
			}
			close(release)
		})
	})
	t.Run("a wait longer than Wait is refused", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pool := authn.NewHashPool(authn.HashPoolConfig{Size: 1, Queue: 4, Wait: 2 * time.Second})
			release := make(chan struct{})
			go pool.Do(t.Context(), func() { <-release })
			synctest.Wait()
			start := time.Now()
			err := pool.Do(t.Context(), func() { t.Error("ran without a slot") })
			var busy *authn.BusyError
			if !errors.As(err, &busy) {
				t.Fatalf("Do past the wait = %v, want a BusyError", err)
			}
			if waited := time.Since(start); waited != 2*time.Second {
				t.Errorf("refused after %v, want 2s", waited)
			}
			close(release)
		})
	})
	t.Run("a slot freed during the wait is taken", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pool := authn.NewHashPool(authn.HashPoolConfig{Size: 1, Queue: 4, Wait: 2 * time.Second})
			release := make(chan struct{})
			go pool.Do(t.Context(), func() { <-release })
			synctest.Wait()
			go func() {
				time.Sleep(time.Second) // the bubble's clock: no real time passes
				close(release)
			}()
			ran := false
			if err := pool.Do(t.Context(), func() { ran = true }); err != nil || !ran {
				t.Errorf("Do = %v (ran: %v), want it run once the slot is free", err, ran)
			}
		})
	})
	t.Run("a request that ends while waiting gets its context's error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pool := authn.NewHashPool(authn.HashPoolConfig{Size: 1, Queue: 4, Wait: time.Minute})
			release := make(chan struct{})
			go pool.Do(t.Context(), func() { <-release })
			synctest.Wait()
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			if err := pool.Do(ctx, func() {}); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Do = %v, want the context's deadline", err)
			}
			close(release)
		})
	})
}

// By default a pool of Size lets 32 × Size checks wait (a burst of logins
// is served), and refuses the one past them at once.
func TestHashPoolDefaultQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pool := authn.NewHashPool(authn.HashPoolConfig{Size: 1})
		release := make(chan struct{})
		var served atomic.Int32
		for range 1 + 32 {
			go func() {
				if err := pool.Do(t.Context(), func() { <-release }); err != nil {
					t.Errorf("a check within the queue: %v", err)
				}
				served.Add(1)
			}()
		}
		synctest.Wait()
		var busy *authn.BusyError
		if err := pool.Do(t.Context(), func() {}); !errors.As(err, &busy) {
			t.Errorf("the check past the default queue: %v, want a BusyError", err)
		}
		close(release)
		synctest.Wait()
		if n := served.Load(); n != 33 {
			t.Errorf("%d checks served, want 33", n)
		}
	})
}
