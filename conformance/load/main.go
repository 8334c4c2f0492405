// Command load drives a running OpenID provider over HTTP only, for a fixed
// time at a fixed concurrency, and prints requests per second, errors by
// status and latency percentiles (issue 4, point 11):
//
//	go run ./conformance/load -issuer http://127.0.0.1:8080 \
//	    -client-id conformance-bench -client-secret … \
//	    -redirect-uri http://127.0.0.1:8082/callback \
//	    -email jeanne.lefevre@demo.example -password jeanne-demo-2026 \
//	    -scenario client_credentials -duration 20s -concurrency 32
//
// Scenarios:
//
//	client_credentials  POST /token grant_type=client_credentials
//	introspection       POST /introspect of live access tokens (got first by
//	                    client_credentials, or by the code flow)
//	refresh             first obtains one refresh token per worker through the
//	                    code flow, then rotates them (grant_type=refresh_token)
//	discovery           GET the discovery document and the JWKS, in turn
//	code                the whole authorization code flow in a new browser
//	                    each time: authorize, login form, consent (prompt=consent),
//	                    code exchange; counted per request and per flow
//	evaluation          POST the AuthZEN access evaluation endpoint (client
//	                    authentication in HTTP Basic) about the account of one
//	                    code flow first (-for: whom the person acts for, or self);
//	                    -action and -procedure-area say what is asked
//
// Who logs in: by default every worker logs in -email with -password, all
// from one address. Relais admits at most 5 logins in flight per account
// and 30 per client address, and each person's journal is one hash chain,
// so that measures one busy person. -accounts FILE (lines "email password";
// blank lines and lines starting with # skipped) gives worker w account
// w mod n for every login it makes: the code flows, the code flows that
// open its refresh families, and the one code flow per account that gives
// its evaluation subject (with -for naming a represented person, one flow
// of the first account gives the subject of every worker, as before).
// -spread-addresses connects worker w from 127.0.0.(2 + w mod 250), with
// its own transport, as people on their own machines do; the issuer must
// then be on an IPv4 loopback address (http://127.0.0.1:PORT). Introspection
// and client_credentials log no one in and are the same either way.
//
// -scenario all runs every scenario above in turn, -repeat N rounds
// (default 2: round 1 runs each once, then round 2…), each with the same
// -warmup, -duration and -concurrency, prints each run's report as it ends
// and then one markdown table, a row per scenario and round: req/s, flows/s
// (code), p50 and p99, errors, and, with -pid, the server's CPU time per
// request and its peak RSS, both read from /proc over the measured time only
// (peak RSS is reset before it through /proc/PID/clear_refs, which needs the
// process's owner or root; otherwise the lifetime peak is shown, and said).
// The server's CPU is that of the process -pid: a PostgreSQL's own backends
// are not counted. Each row of three scenarios has a reference measured in
// the same run on the same machine, and its ratio to it (all.go):
//
//	client_credentials  ES256 signatures per second on one core of the load
//	                    tool; ratio: the server's CPU per token in signatures
//	discovery           the same bytes (discovery document and JWKS, same
//	                    Content-Type) served by a static Go server, a child
//	                    process of this tool (static.go), measured right after
//	                    the issuer; ratio: issuer ÷ static
//	code                argon2id checks per second on every core, measured just
//	                    before the flows: each flow checks one password, so
//	                    this is the most flows per second the machine allows;
//	                    ratio: flows/s ÷ that ceiling
//
// -db sqlite:FILE or -db postgres://… (the server's store) adds, after the
// runs, the rows, bytes with indexes and bytes per row of the tokens table
// and of the journal's tables (storage.go). conformance/load/bench-stores.sh,
// run from the repository root, does the whole measurement on both stores:
// it builds relais and this tool, starts a throwaway PostgreSQL 15, and runs
// -scenario all against relais serve --demo on SQLite and then on PostgreSQL
// (DURATION, REPEAT and RELAIS_EXTRA in the environment), as 64 demo persons
// (--demo-persons, -accounts) from their own addresses (-spread-addresses),
// or with ACCOUNTS=one as one person from one address. With -scenario all,
// a line under the table says which accounts and addresses were used.
//
// -seed N stores N access tokens through HTTP (client_credentials in a loop)
// to measure a store that holds many, in batches recorded in a progress
// file so that an interrupted run resumes: see seed.go. It runs at the
// client_credentials rate: on the 2-core machine of issue 4 with PostgreSQL,
// 100 000 tokens took 62 s and 1 million 12.5 min (falling from 1,600 to
// 1,200 tokens/s as the table outgrew shared_buffers); 10 million take
// several hours, so seed in steps (-seed 1000000, then -seed 10000000 with
// the same -seed-state) and measure between them.
//
// -login-flood N posts N wrong passwords to /login at once and prints the
// answers and, with -pid, the server's peak memory before and after: see
// flood.go.
//
// It only targets loopback addresses: it is a measuring tool, not a way to
// load someone else's server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/relais-fr/relais/conformance"
)

// Bounds: a run is finite in time and in requests whatever the flags say.
const (
	maxDuration    = 10 * time.Minute
	maxConcurrency = 1024
	maxRequests    = 50_000_000
)

type options struct {
	issuer       string
	clientID     string
	clientSecret string
	authPost     bool
	redirectURI  string
	email        string
	password     string
	accountsFile string
	// Who logs in: -email and -password, or the lines of -accounts.
	accounts        []conformance.Account
	spreadAddresses bool
	scope           string
	scenario        string
	forWhom         string
	action          string
	area            string
	duration        time.Duration
	warmup          time.Duration
	concurrency     int
	maxRequests     int64
	refreshPool     int
	cpuProfile      string

	floodRequests int
	pid           int

	repeat int    // -scenario all: rounds of every scenario
	db     string // the server's store, to measure its tables after the runs

	// Explicit targets of the discovery scenario, instead of the issuer's
	// discovery document and the jwks_uri it names: the static copy.
	discoveryURL, jwksURL string

	seed        int64
	seedBatch   int64
	seedState   string
	seedMaxTime time.Duration
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	// The static copy of the discovery document runs as a child process of
	// this same binary (static.go); its flags are not the tool's.
	if len(args) > 0 && args[0] == staticFlag {
		return staticMain(args, os.Stdin, stdout, stderr)
	}
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.issuer, "issuer", "", "issuer URL (loopback only), e.g. http://127.0.0.1:8080")
	fs.StringVar(&o.clientID, "client-id", "", "client_id")
	fs.StringVar(&o.clientSecret, "client-secret", "", "client secret (empty: a public client)")
	fs.BoolVar(&o.authPost, "auth-post", false, "send the secret in the body (client_secret_post) instead of Basic")
	fs.StringVar(&o.redirectURI, "redirect-uri", "", "registered redirect URI (code, refresh)")
	fs.StringVar(&o.email, "email", "", "account to log in with (code, refresh)")
	fs.StringVar(&o.password, "password", "", "its password")
	fs.StringVar(&o.accountsFile, "accounts", "", "file of lines \"email password\": worker w logs in with account w mod their number (instead of -email and -password)")
	fs.BoolVar(&o.spreadAddresses, "spread-addresses", false, "connect worker w from 127.0.0.(2 + w mod 250) instead of one address (issuer on 127.0.0.1 only)")
	fs.StringVar(&o.scope, "scope", "", "scope to ask for (default: openid for code, openid offline_access for refresh, none for client_credentials)")
	fs.StringVar(&o.scenario, "scenario", "client_credentials", "client_credentials, introspection, refresh, discovery, code, evaluation, or all of them (-repeat)")
	fs.StringVar(&o.forWhom, "for", "", "evaluation: answer to the \"for whom?\" page: words of the represented person's name, or self (default)")
	fs.StringVar(&o.action, "action", "consult", "evaluation: consult, manage, dispose or personal")
	fs.StringVar(&o.area, "procedure-area", "social", "evaluation: the procedure area asked about")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured time (at most 10m)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before it, to open connections and warm caches")
	fs.IntVar(&o.concurrency, "concurrency", 32, "requests in flight (workers)")
	fs.Int64Var(&o.maxRequests, "max-requests", 0, "stop after this many measured requests (0: only the duration bounds the run)")
	fs.IntVar(&o.refreshPool, "refresh-tokens", 0, "refresh: refresh token families to rotate (default and minimum: -concurrency)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	fs.Int64Var(&o.seed, "seed", 0, "instead of a scenario, store this many access tokens through client_credentials")
	fs.Int64Var(&o.seedBatch, "seed-batch", 10_000, "seed: tokens per batch; progress is recorded after each")
	fs.StringVar(&o.seedState, "seed-state", "", "seed: progress file (default: in the temporary directory, named after issuer and client)")
	fs.DurationVar(&o.seedMaxTime, "seed-max-time", 12*time.Hour, "seed: stop after this long (run again to resume)")
	fs.IntVar(&o.floodRequests, "login-flood", 0, "instead of a scenario, post this many wrong passwords to /login at once")
	fs.IntVar(&o.pid, "pid", 0, "the server's process id, to read its CPU time and peak memory (VmHWM) from /proc")
	fs.IntVar(&o.repeat, "repeat", 2, "scenario all: how many rounds of every scenario")
	fs.StringVar(&o.db, "db", "", "the server's store (sqlite:FILE or postgres://…), to print the size of its token and journal tables at the end")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 2
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "load:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case o.floodRequests > 0:
		err = loginFlood(ctx, &o, stdout)
	case o.seed > 0:
		err = seed(ctx, &o, stdout)
	case o.scenario == "all":
		err = benchAll(ctx, &o, stdout)
	default:
		_, err = bench(ctx, &o, newServer(o.pid, stdout), stdout)
		if err == nil && o.db != "" {
			fmt.Fprintln(stdout)
			err = printStorage(ctx, o.db, stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	return 0
}

func (o *options) validate() error {
	if o.issuer == "" {
		return errors.New("-issuer is required")
	}
	o.issuer = strings.TrimSuffix(o.issuer, "/")
	if err := loopbackOnly(o.issuer); err != nil {
		return err
	}
	switch {
	case o.duration <= 0 || o.duration > maxDuration:
		return fmt.Errorf("-duration must be between 0 and %s", maxDuration)
	case o.warmup < 0 || o.warmup > time.Minute:
		return errors.New("-warmup must be between 0 and 1m")
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return fmt.Errorf("-concurrency must be between 1 and %d", maxConcurrency)
	case o.maxRequests < 0 || o.maxRequests > maxRequests:
		return fmt.Errorf("-max-requests must be between 0 and %d", maxRequests)
	case o.seed < 0 || o.seed > maxRequests:
		return fmt.Errorf("-seed must be between 0 and %d", maxRequests)
	case o.seedBatch < 1:
		return errors.New("-seed-batch must be positive")
	case o.repeat < 1 || o.repeat > 100:
		return errors.New("-repeat must be between 1 and 100")
	case o.pid < 0:
		return errors.New("-pid must be a process id")
	}
	if o.db != "" && !strings.HasPrefix(o.db, "sqlite:") && !strings.HasPrefix(o.db, "postgres://") && !strings.HasPrefix(o.db, "postgresql://") {
		return errors.New("-db must be sqlite:FILE or postgres://…")
	}
	if o.spreadAddresses {
		if err := spreadAllowed(o.issuer); err != nil {
			return err
		}
	}
	if o.accountsFile != "" {
		if o.email != "" || o.password != "" {
			return errors.New("give either -accounts or -email and -password, not both")
		}
		accounts, err := readAccounts(o.accountsFile)
		if err != nil {
			return err
		}
		o.accounts = accounts
	} else if o.email != "" || o.password != "" {
		o.accounts = []conformance.Account{{Email: o.email, Password: o.password}}
	}
	if o.maxRequests == 0 {
		o.maxRequests = maxRequests
	}
	if o.refreshPool < o.concurrency {
		o.refreshPool = o.concurrency
	}
	if o.floodRequests > 0 {
		return nil
	}
	needClient := o.seed > 0 || o.scenario != "discovery"
	if needClient && o.clientID == "" {
		return errors.New("-client-id is required")
	}
	if o.seed > 0 {
		return nil
	}
	switch o.scenario {
	case "client_credentials", "introspection", "discovery":
	case "refresh", "code", "evaluation", "all":
		if o.redirectURI == "" || len(o.accounts) == 0 || o.accounts[0].Email == "" || o.accounts[0].Password == "" {
			return fmt.Errorf("-scenario %s logs in: give -redirect-uri, and -email and -password or -accounts", o.scenario)
		}
	default:
		return fmt.Errorf("-scenario %q is unknown; use client_credentials, introspection, refresh, discovery, code, evaluation or all", o.scenario)
	}
	o.scope = defaultScope(o.scenario, o.scope)
	return nil
}

// defaultScope is the scope a scenario asks for when -scope is not given.
func defaultScope(scenario, scope string) string {
	if scope != "" {
		return scope
	}
	switch scenario {
	case "code":
		return "openid"
	case "refresh":
		return "openid offline_access"
	}
	return ""
}

// loopbackOnly refuses a target that is not this machine.
func loopbackOnly(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("-issuer %q is not an http(s) URL", issuer)
	}
	host := u.Hostname()
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		addrs, err := net.LookupIP(host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("-issuer host %q does not resolve: %v", host, err)
		}
		ips = addrs
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("-issuer %s is not a loopback address: this tool only measures a server on this machine", issuer)
		}
	}
	return nil
}

func newTransport(concurrency int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency * 2
	tr.MaxIdleConnsPerHost = concurrency * 2
	tr.DisableCompression = true
	return tr
}

// bench runs one scenario: set-up, warm-up, then the measured time, and
// prints and returns what it measured. With srv (-pid), the server's CPU
// time and peak memory are read around the measured time only.
func bench(ctx context.Context, o *options, srv *server, out io.Writer) (result, error) {
	rec := &recorder{}
	all := &atomic.Int64{}
	conns := make([]conn, o.concurrency)
	for w, tr := range workerTransports(o) {
		defer tr.CloseIdleConnections()
		conns[w] = newConn(tr, rec, all)
	}
	s, err := newScenario(ctx, o, conns)
	if err != nil {
		return result{}, fmt.Errorf("setting up %s: %w", o.scenario, err)
	}
	fmt.Fprintf(out, "scenario %s against %s: %d workers, %s warm-up, %s measured\n", o.scenario, o.issuer, o.concurrency, o.warmup, o.duration)

	var budget atomic.Int64
	budget.Store(o.maxRequests)
	// A phase ends by a flag the workers read between steps, never by
	// cancelling requests in flight: a refresh cancelled after the server
	// rotated the token would leave the worker holding a used token, whose
	// next use is a reuse that revokes the family.
	runFor := func(d time.Duration, measure bool) time.Duration {
		rec.reset(measure)
		var stop atomic.Bool
		timer := time.AfterFunc(d, func() { stop.Store(true) })
		defer timer.Stop()
		start := time.Now()
		var wg sync.WaitGroup
		for w := range o.concurrency {
			wg.Go(func() {
				for !stop.Load() && ctx.Err() == nil {
					if measure && budget.Add(-1) < 0 {
						return
					}
					t0 := time.Now()
					if err := s.step(ctx, w); err == nil {
						rec.flow(time.Since(t0))
					} else if ctx.Err() == nil {
						rec.flowError(err)
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	if o.warmup > 0 {
		runFor(o.warmup, false)
	}
	var mark serverMark
	if srv != nil {
		if mark, err = srv.begin(); err != nil {
			return result{}, err
		}
	}
	elapsed := runFor(o.duration, true)
	if ctx.Err() != nil {
		return result{}, ctx.Err()
	}
	var use *serverUse
	if srv != nil {
		u, err := srv.end(mark)
		if err != nil {
			return result{}, err
		}
		use = &u
	}
	r := rec.print(out, elapsed, s.perFlow())
	r.scenario, r.server = o.scenario, use
	fmt.Fprintf(out, "all        %d requests made through the measured client, warm-up included\n", all.Load())
	if perReq, ok := r.cpuPer(r.requests); ok {
		fmt.Fprintf(out, "server     pid %d: CPU %s ms/request", srv.pid, msCell2(perReq))
		if perFlow, ok := r.cpuPer(r.flows); ok && r.perFlow {
			fmt.Fprintf(out, ", %s ms/flow", msCell(perFlow))
		}
		fmt.Fprintf(out, "; peak RSS %.1f MB\n", float64(use.peakKB)/1024)
	}
	return r, nil
}

// timing measures each request from its start to the end of its body, and
// counts its status.
type timing struct {
	base http.RoundTripper
	rec  *recorder
	all  *atomic.Int64 // every request of every worker, warm-up included: to share out CPU time
}

func (t *timing) RoundTrip(r *http.Request) (*http.Response, error) {
	t.all.Add(1)
	start := time.Now()
	res, err := t.base.RoundTrip(r)
	if err != nil {
		if r.Context().Err() == nil {
			t.rec.request(start, 0, err)
		}
		return nil, err
	}
	res.Body = &timedBody{ReadCloser: res.Body, done: func() { t.rec.request(start, res.StatusCode, nil) }}
	return res, nil
}

type timedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
