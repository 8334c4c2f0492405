package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
)

// sweepInterval is how often expired DPoP proof records are deleted: they
// live DPoPProofMaxAge, so a minute keeps the table to a few minutes of
// requests.
const sweepInterval = time.Minute

// startSweep deletes, at each tick, the DPoP proofs recorded against replay
// (RFC 9449 §11.1) that are stale. Every instance runs it: deleting what is
// expired is idempotent. stop waits for the sweep in progress.
func startSweep(ctx context.Context, proofs oauth.ProofStore, now func() time.Time, log *slog.Logger) (stop func()) {
	ticker := time.NewTicker(sweepInterval)
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { sweep(sctx, proofs, ticker.C, now, log) })
	return func() {
		cancel()
		ticker.Stop()
		wg.Wait()
	}
}

func sweep(ctx context.Context, proofs oauth.ProofStore, tick <-chan time.Time, now func() time.Time, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			n, err := proofs.DeleteExpiredDPoPProofs(ctx, now())
			if err != nil {
				log.WarnContext(ctx, "delete expired DPoP proofs", "err", err)
				continue
			}
			log.DebugContext(ctx, "expired DPoP proofs deleted", "count", n)
		}
	}
}
