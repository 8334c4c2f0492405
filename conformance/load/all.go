package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relais-fr/relais/authn"
)

// allScenarios is the order of one round of -scenario all: the code flow
// last, as its password checks leave the most behind (sessions, consents,
// freed argon2 memory) for whatever runs after it.
var allScenarios = []string{"client_credentials", "introspection", "refresh", "evaluation", "discovery", "code"}

// Reference measures, taken on this machine in the same run.
const (
	signReferenceTime   = 2 * time.Second
	argon2ReferenceTime = 3 * time.Second
)

// benchAll runs every scenario -repeat times, round after round, each with
// its reference measured in the same run, and prints one table at the end.
func benchAll(ctx context.Context, o *options, out io.Writer) error {
	srv := newServer(o.pid, out)
	signRate, err := es256Rate(ctx, signReferenceTime)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "reference: %.0f ES256 signatures/s on one core, over %s\n", signRate, signReferenceTime)
	static, err := startStatic(ctx, o.issuer)
	if err != nil {
		return err
	}
	defer static.stop()
	fmt.Fprintf(out, "reference: a static copy of the discovery document and JWKS at %s (a child process)\n\n", static.base)

	var results []result
	for rep := 1; rep <= o.repeat; rep++ {
		for _, name := range allScenarios {
			oc := *o
			oc.scenario = name
			oc.scope = defaultScope(name, o.scope)
			var ceiling float64
			if name == "code" {
				// Before the flows, while the server is idle.
				ceiling = argon2Ceiling(ctx, argon2ReferenceTime)
				fmt.Fprintf(out, "reference: %.1f argon2id verifications/s on %d goroutines, over %s\n", ceiling, runtime.NumCPU(), argon2ReferenceTime)
			}
			r, err := bench(ctx, &oc, srv, out)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				fmt.Fprintf(out, "%s: %v\n", name, err)
				r = result{setupErr: err.Error()}
			}
			r.scenario, r.rep = name, rep
			switch name {
			case "client_credentials":
				r.reference = fmt.Sprintf("ES256 sign %.0f/s per core", signRate)
				if perToken, ok := r.cpuPer(r.requests); ok {
					r.ratio = fmt.Sprintf("%.1f× a signature", perToken.Seconds()*signRate)
				}
			case "discovery":
				sc := *o
				sc.scenario, sc.issuer = "discovery", static.base
				sc.discoveryURL, sc.jwksURL = static.discoveryURL, static.jwksURL
				fmt.Fprintln(out)
				ref, err := bench(ctx, &sc, nil, out)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err != nil {
					fmt.Fprintf(out, "discovery against the static copy: %v\n", err)
				} else {
					r.reference = fmt.Sprintf("static copy %.0f req/s", ref.rate())
					if r.setupErr == "" && ref.rate() > 0 {
						r.ratio = fmt.Sprintf("%.2f", r.rate()/ref.rate())
					}
				}
			case "code":
				r.reference = fmt.Sprintf("argon2id ceiling %.1f/s", ceiling)
				if r.setupErr == "" && ceiling > 0 {
					r.ratio = fmt.Sprintf("%.2f", r.flowRate()/ceiling)
				}
			}
			results = append(results, r)
			fmt.Fprintln(out)
		}
	}
	fmt.Fprintf(out, "%s, %d workers, %s warm-up and %s measured per run\n\n", o.issuer, o.concurrency, o.warmup, o.duration)
	printTable(out, results)
	fmt.Fprintln(out)
	fmt.Fprintln(out, o.whoLine())
	if o.db != "" {
		fmt.Fprintln(out)
		return printStorage(ctx, o.db, out)
	}
	return nil
}

// es256Rate is how many ES256 signatures (P-256 ECDSA over a SHA-256
// digest, as a JWT's) one goroutine makes per second: what an access token
// or ID token costs at least.
func es256Rate(ctx context.Context, d time.Duration) (float64, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return 0, err
	}
	digest := sha256.Sum256([]byte("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9"))
	n := 0
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if _, err := ecdsa.SignASN1(rand.Reader, key, digest[:]); err != nil {
			return 0, err
		}
		n++
	}
	return perSecond(n, time.Since(start)), nil
}

// argon2Ceiling is how many argon2id password checks, with the server's
// own parameters, this machine makes per second on all its cores: each
// code flow checks one password, so no server here can complete more
// flows per second.
func argon2Ceiling(ctx context.Context, d time.Duration) float64 {
	hash := authn.HashPassword("x-reference-password")
	var n atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Go(func() {
			for time.Since(start) < d && ctx.Err() == nil {
				_, _ = authn.VerifyPassword(hash, "y-wrong-password")
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return perSecond(int(n.Load()), time.Since(start))
}
