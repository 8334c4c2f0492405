package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// progress is what the seed file records: how many tokens the issuer is
// known to hold from earlier runs for this client.
type progress struct {
	Issuer   string    `json:"issuer"`
	ClientID string    `json:"client_id"`
	Stored   int64     `json:"stored"`
	Updated  time.Time `json:"updated"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func seedStatePath(o *options) string {
	if o.seedState != "" {
		return o.seedState
	}
	return filepath.Join(os.TempDir(), "relais-seed-"+unsafeName.ReplaceAllString(o.issuer+"-"+o.clientID, "_")+".json")
}

func readProgress(path string, o *options) (progress, error) {
	p := progress{Issuer: o.issuer, ClientID: o.clientID}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	var got progress
	if err := json.Unmarshal(b, &got); err != nil {
		return p, fmt.Errorf("progress file %s: %w", path, err)
	}
	if got.Issuer != o.issuer || got.ClientID != o.clientID {
		return p, fmt.Errorf("progress file %s is for %s and client %s; give another -seed-state", path, got.Issuer, got.ClientID)
	}
	return got, nil
}

// writeProgress replaces the file whole, so a crash leaves the old count.
func writeProgress(path string, p progress) error {
	p.Updated = time.Now().UTC()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// seed stores o.seed access tokens through client_credentials, in batches.
// After each whole batch the count goes to the progress file; a run that
// stops (Ctrl+C, -seed-max-time, a crash) resumes from the last batch when
// run again. Tokens of an unfinished batch are stored too: the count errs
// low by less than a batch, which does not matter for a store of millions.
//
// Each token is one row of the grant store. Run the server with a long
// --access-token-ttl while seeding if expired rows may be swept.
func seed(ctx context.Context, o *options, out io.Writer) error {
	path := seedStatePath(o)
	p, err := readProgress(path, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeding %d access tokens at %s for client %s: %d stored by earlier runs (progress in %s)\n",
		o.seed, o.issuer, o.clientID, p.Stored, path)
	if p.Stored >= o.seed {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, o.seedMaxTime)
	defer cancel()
	tr := newTransport(o.concurrency)
	defer tr.CloseIdleConnections()
	raw := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	is := &issuer{o: o, raw: raw, rawTransport: tr, discoveryURL: o.issuer + "/.well-known/openid-configuration"}
	if err := is.discover(ctx); err != nil {
		return err
	}
	if _, err := is.clientCredentials(ctx, raw); err != nil {
		return fmt.Errorf("client_credentials for %s: %w", o.clientID, err)
	}

	start, first := time.Now(), p.Stored
	for p.Stored < o.seed {
		batch := min(o.seedBatch, o.seed-p.Stored)
		if err := seedBatch(ctx, is, batch, o.concurrency); err != nil {
			return fmt.Errorf("stopped with %d stored (the batch under way is not counted; run again to resume): %w", p.Stored, err)
		}
		p.Stored += batch
		if err := writeProgress(path, p); err != nil {
			return err
		}
		rate := float64(p.Stored-first) / time.Since(start).Seconds()
		eta := time.Duration(float64(o.seed-p.Stored)/rate) * time.Second
		fmt.Fprintf(out, "%d/%d stored, %.0f tokens/s, %s elapsed, about %s to go\n",
			p.Stored, o.seed, rate, time.Since(start).Round(time.Second), eta.Round(time.Second))
	}
	return nil
}

// seedBatch stores n tokens with workers in parallel; a few failures are
// retried, many end the run.
func seedBatch(ctx context.Context, is *issuer, n int64, workers int) error {
	var left, failures atomic.Int64
	left.Store(n)
	var once sync.Once
	var firstErr error
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for bctx.Err() == nil && left.Add(-1) >= 0 {
				if _, err := is.clientCredentials(bctx, is.raw); err != nil {
					left.Add(1)
					if failures.Add(1) > 100 {
						once.Do(func() { firstErr = err; cancel() })
					}
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("more than 100 failures in one batch, the last: %w", firstErr)
	}
	return ctx.Err()
}
