// Command ha is Relais's PostgreSQL high-availability test (issue 19): it
// starts etcd and three Patroni-managed PostgreSQL 15 nodes with
// synchronous replication, runs relais serve on them through a multi-host
// DSN, puts a bounded load on Relais's HTTP API, and meanwhile kills the
// primary's postmaster, switches over, then kills a whole node. It then
// checks on the new primary that no acknowledged write is lost and none
// is doubled, that relais never exited and served again in time, and
// that relais journal verify passes; and prints, per fault, the outage
// and the counts of writes.
//
// Run it from the repository's root, as root or as a user that may run
// PostgreSQL (Debian packages patroni, etcd-server, postgresql-15):
//
//	go run ./conformance/ha
//
// It exits 1 on any failed check, one line per failure, and stops
// everything it started, even on failure or Ctrl-C. It is a program, not
// a go test, so that its figures are always shown and a machine without
// Patroni fails rather than skips; its pure parts are unit-tested with
// go test ./conformance/ha.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Ports, away from the defaults and from the other tests' (the brief of
// issue 19).
const (
	etcdClientPort = 2479
	etcdPeerPort   = 2480
	firstAPIPort   = 8161
	firstPGPort    = 5451
	relaisPort     = 8164
	redirectURI    = "http://127.0.0.1:8169/callback" // never fetched
)

const pgBin = "/usr/lib/postgresql/15/bin"

// The limits the issue sets on the outage after a fault.
const (
	postmasterKillLimit = 10 * time.Second
	nodeLossLimit       = 20 * time.Second
)

type options struct {
	siteWorkers, operatorWorkers int
	every                        time.Duration
	settle                       time.Duration
	keep                         bool
}

func main() {
	var o options
	flag.IntVar(&o.siteWorkers, "site-workers", 2, "workers asking for tokens and evaluations, each with a client of its own")
	flag.IntVar(&o.operatorWorkers, "operator-workers", 2, "workers registering and ending measures as the demo operator")
	flag.DurationVar(&o.every, "every", 100*time.Millisecond, "each worker's pause between two writes (4 workers every 100 ms: 40 writes/s)")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "normal load before the first fault and after each recovery")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, data) instead of removing it")
	flag.Parse()
	os.Exit(run(o, os.Stdout))
}

// harness is one run: what it started and what failed.
type harness struct {
	o        options
	out      io.Writer
	dir      string
	ps       *procs
	cluster  *cluster
	relais   *relais
	failures []string
	cleaned  bool
}

func (h *harness) fail(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	h.failures = append(h.failures, line)
	fmt.Fprintln(h.out, "FAIL:", line)
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.out, "%s  %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func run(o options, out io.Writer) int {
	began := time.Now()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// The bound is 10 minutes in CI; a normal run takes about 2.
	ctx, cancelRun := context.WithTimeout(ctx, 8*time.Minute)
	defer cancelRun()
	h := &harness{o: o, out: out}
	err := h.main(ctx)
	defer h.cleanup()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		h.fail("the run took more than 8 minutes and was stopped: %v", err)
	case ctx.Err() != nil:
		h.fail("interrupted (Ctrl-C or SIGTERM); everything started was stopped")
	case err != nil:
		h.fail("%v", err)
	}
	if len(h.failures) > 0 && !h.o.keep {
		h.printLogs()
	}
	h.cleanup()
	fmt.Fprintf(out, "ha: %d failures, %s in all\n", len(h.failures), time.Since(began).Round(time.Second))
	if len(h.failures) > 0 {
		return 1
	}
	return 0
}

// printLogs shows the end of each log before the directory goes.
func (h *harness) printLogs() {
	if h.dir == "" {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(h.dir, "*.log"))
	more, _ := filepath.Glob(filepath.Join(h.dir, "node*", "patroni.log"))
	for _, name := range append(logs, more...) {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		lines = lines[max(0, len(lines)-15):]
		fmt.Fprintf(h.out, "--- the end of %s\n%s\n", strings.TrimPrefix(name, h.dir+"/"), strings.Join(lines, "\n"))
	}
}

// portsFree says which of the test's ports another program holds.
func portsFree() error {
	ports := []int{etcdClientPort, etcdPeerPort, relaisPort}
	for i := range 3 {
		ports = append(ports, firstAPIPort+i, firstPGPort+i)
	}
	for _, p := range ports {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return fmt.Errorf("port %d is taken (another run of this test, or another program): %w", p, err)
		}
		ln.Close()
	}
	return nil
}

// prerequisites names what is missing to run the test.
func prerequisites() error {
	var missing []string
	for _, bin := range []string{"patroni", "etcd"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if _, err := os.Stat(filepath.Join(pgBin, "postgres")); err != nil {
		missing = append(missing, filepath.Join(pgBin, "postgres"))
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run this from the repository's root: go run ./conformance/ha")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: install the Debian packages patroni, etcd-server and postgresql-15", strings.Join(missing, ", "))
	}
	return nil
}

func (h *harness) main(ctx context.Context) error {
	if err := prerequisites(); err != nil {
		return err
	}
	if err := portsFree(); err != nil {
		return err
	}
	cred, err := postgresCredential()
	if err != nil {
		return err
	}
	h.ps = &procs{as: cred}
	if h.dir, err = os.MkdirTemp("", "relais-ha-"); err != nil {
		return err
	}
	// The postgres user must reach its nodes' directories inside.
	if err := os.Chmod(h.dir, 0o711); err != nil {
		return err
	}

	h.logf("building relais")
	bin, err := buildRelais(ctx, h.dir)
	if err != nil {
		return err
	}

	spec := clusterSpec{Scope: "relais-ha", EtcdClient: fmt.Sprintf("127.0.0.1:%d", etcdClientPort), BinDir: pgBin,
		SuperPassword: random(), ReplPassword: random(), Timing: fastTiming, MaxConnections: 100}
	var nodes []node
	var ports []int
	for i := range 3 {
		n := node{Name: fmt.Sprintf("node%d", i+1), PGPort: firstPGPort + i, APIPort: firstAPIPort + i,
			Dir: filepath.Join(h.dir, fmt.Sprintf("node%d", i+1))}
		nodes = append(nodes, n)
		ports = append(ports, n.PGPort)
	}
	h.logf("starting etcd on %d and Patroni on %d-%d (PostgreSQL %d-%d)", etcdClientPort,
		firstAPIPort, firstAPIPort+2, firstPGPort, firstPGPort+2)
	h.cluster, err = startCluster(ctx, h.ps, h.dir, spec, nodes, etcdPeerPort)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	leader, sync, _ := h.cluster.waitHealthy(ctx, time.Second, 3)
	h.logf("cluster up: leader %s, sync standby %s", leader, sync)
	if err := h.cluster.createDatabase(ctx); err != nil {
		return err
	}

	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + h.dir, "RELAIS_SECRET_KEY=" + secretKey()}
	h.relais = &relais{bin: bin, db: multiHostDSN("relais", "relais", ports), env: env,
		base: fmt.Sprintf("http://127.0.0.1:%d", relaisPort), log: filepath.Join(h.dir, "relais.log")}
	h.logf("relais: %s", h.relais.db)
	if _, err := h.relais.command(ctx, "migrate", "up", "--db", h.relais.db); err != nil {
		return err
	}
	if err := h.relais.serve(ctx, h.ps, fmt.Sprintf("127.0.0.1:%d", relaisPort)); err != nil {
		return err
	}
	l, workers, err := h.prepareLoad(ctx)
	if err != nil {
		return err
	}

	h.logf("load: %d site workers, %d operator workers, one write each every %s", h.o.siteWorkers, h.o.operatorWorkers, h.o.every)
	phases := []phase{{Name: "before the faults", Start: time.Now()}}
	stopLoad := l.run(ctx)
	defer stopLoad()
	if err := sleep(ctx, h.o.settle); err != nil {
		return err
	}
	faults := []struct {
		name   string
		limit  time.Duration
		remain int // running members after recovery
		do     func(leader, sync string) error
	}{
		{"postmaster killed", postmasterKillLimit, 3, func(leader, _ string) error {
			n, _ := h.cluster.node(leader)
			pid, err := killPostmaster(n.dataDir())
			if err == nil && pid == 0 {
				err = fmt.Errorf("no postmaster runs in %s", n.dataDir())
			}
			h.logf("killed the postmaster %d of %s", pid, leader)
			return err
		}},
		{"switchover", 0, 3, func(leader, sync string) error {
			h.logf("switchover from %s to %s", leader, sync)
			return h.cluster.switchover(ctx, leader, sync)
		}},
		{"node lost", nodeLossLimit, 2, func(leader, _ string) error {
			h.logf("killing %s: its Patroni and its PostgreSQL", leader)
			return h.cluster.killNode(leader)
		}},
	}
	for _, f := range faults {
		leader, sync, err := h.cluster.waitHealthy(ctx, 90*time.Second, 3)
		if err != nil {
			h.fail("before %q: %v", f.name, err)
			break
		}
		start := time.Now()
		phases = append(phases, phase{Name: f.name, Start: start, Limit: f.limit})
		if err := f.do(leader, sync); err != nil {
			h.fail("%s: %v", f.name, err)
			break
		}
		// Patroni's API names the old leader until it sees the fault (a
		// crash at its next loop, a lost node when the leader key
		// expires): wait for the new one first.
		want := func(l string) bool { return l != "" && l != leader }
		if f.name == "switchover" {
			want = func(l string) bool { return l == sync }
		}
		var newLeader string
		err = waitFor(ctx, 90*time.Second, "a new leader", func() error {
			s, err := h.cluster.state(ctx)
			if err != nil {
				return err
			}
			if newLeader, _ = s.roles(); !want(newLeader) {
				return fmt.Errorf("the leader is %q", newLeader)
			}
			return nil
		})
		if err != nil {
			h.fail("%s: %v", f.name, err)
			break
		}
		h.logf("%s: %s leads, %s after the fault", f.name, newLeader, time.Since(start).Round(time.Millisecond))
		newLeader, newSync, err := h.cluster.waitHealthy(ctx, 90*time.Second, f.remain)
		if err != nil {
			h.fail("after %q: %v", f.name, err)
			break
		}
		// Served again: a write started now is acknowledged.
		since := time.Now()
		err = waitFor(ctx, 90*time.Second, "relais to acknowledge a write", func() error {
			if h.relais.proc.exited() {
				return errStop{fmt.Errorf("relais exited: %v", h.relais.proc.err)}
			}
			if _, ok := l.ledger.firstAckAfter(since); !ok {
				return errors.New("no write acknowledged since the cluster recovered")
			}
			return nil
		})
		if err != nil {
			h.fail("%s: %v", f.name, err)
			break
		}
		h.logf("%s: cluster healthy again: leader %s, sync standby %s", f.name, newLeader, newSync)
		if err := sleep(ctx, h.o.settle); err != nil {
			return err
		}
	}
	stopLoad()
	h.logf("load stopped")

	if h.relais.proc.exited() {
		h.fail("relais exited during the run: %v", h.relais.proc.err)
	}
	h.check(ctx, l.ledger.all(), phases, workers)
	return nil
}

// prepareLoad registers the site clients, reads the subject each was
// given, and logs the operators in.
func (h *harness) prepareLoad(ctx context.Context) (*loader, map[string]int, error) {
	l := &loader{base: h.relais.base, redirect: redirectURI, api: newAPIClient(), ledger: &ledger{},
		persons: registered, every: h.o.every}
	workers := map[string]int{}
	for w := range h.o.siteWorkers {
		id := fmt.Sprintf("ha-site-%d", w)
		secret, err := h.relais.createClient(ctx, id, redirectURI)
		if err != nil {
			return nil, nil, err
		}
		site := siteClient{id: id, secret: secret}
		if site.sub, err = l.subject(ctx, site); err != nil {
			return nil, nil, fmt.Errorf("code flow of %s: %w", id, err)
		}
		l.sites = append(l.sites, site)
		workers[id] = w
	}
	for range h.o.operatorWorkers {
		b := newOperatorBrowser()
		if err := b.Login(ctx, h.relais.base, operatorAccount); err != nil {
			return nil, nil, fmt.Errorf("operator login: %w", err)
		}
		l.operators = append(l.operators, b)
	}
	return l, workers, nil
}

// check compares the ledger with the leader's database, runs relais
// journal verify, and prints the figures.
func (h *harness) check(ctx context.Context, ws []write, phases []phase, workers map[string]int) {
	var f found
	var nc, ne int
	err := waitFor(ctx, 60*time.Second, "the leader's database", func() error {
		dsn, err := h.cluster.leaderDSN(ctx, "relais")
		if err != nil {
			return err
		}
		f, nc, ne, err = readFound(ctx, dsn, workers)
		return err
	})
	if err != nil {
		h.fail("reading the writes back: %v", err)
		return
	}
	phases = outages(ws, phases)
	tallies, unexplained := compare(ws, f, phases)

	fmt.Fprintln(h.out)
	fmt.Fprintf(h.out, "%-20s %10s %8s %8s %6s %8s\n", "phase", "outage", "acked", "failed", "lost", "doubled")
	var total tally
	for i, p := range phases {
		t := tallies[i]
		outage := "-"
		if i > 0 {
			outage = "none"
			if p.Served {
				outage = p.Outage.Round(10 * time.Millisecond).String()
			}
		}
		fmt.Fprintf(h.out, "%-20s %10s %8d %8d %6d %8d\n", p.Name, outage, t.Acked, t.Failed, t.Lost, t.Doubled)
		total.Acked += t.Acked
		total.Failed += t.Failed
		total.Lost += t.Lost
		total.Doubled += t.Doubled
	}
	fmt.Fprintf(h.out, "%-20s %10s %8d %8d %6d %8d\n", "total", "", total.Acked, total.Failed, total.Lost, total.Doubled)
	byKind := map[kind][2]int{}
	for _, w := range ws {
		c := byKind[w.Kind]
		c[w.Result]++
		byKind[w.Kind] = c
	}
	for _, k := range kinds {
		fmt.Fprintf(h.out, "  %-13s acked %5d, failed %4d\n", k, byKind[k][acked], byKind[k][failed])
	}
	fmt.Fprintf(h.out, "  notices queued per registration: %d, per end: %d\n", nc, ne)
	failedBy := map[string]int{}
	var reasons []string
	for _, w := range ws {
		if w.Result == failed {
			what := fmt.Sprintf("%s, %s: %s", phaseName(phases, w.Done), w.Kind, shorten(w.Detail))
			if failedBy[what] == 0 {
				reasons = append(reasons, what)
			}
			failedBy[what]++
		}
	}
	for _, what := range reasons {
		fmt.Fprintf(h.out, "  failed %4d × %s\n", failedBy[what], what)
	}
	fmt.Fprintln(h.out)

	for i, p := range phases {
		t := tallies[i]
		for _, e := range t.Examples {
			h.fail("%s: %s", p.Name, e)
		}
		switch {
		case i == 0:
		case !p.Served:
			h.fail("%s: relais acknowledged no write after the fault", p.Name)
		case p.Limit > 0 && p.Outage > p.Limit:
			h.fail("%s: relais served again after %s, more than %s", p.Name, p.Outage.Round(10*time.Millisecond), p.Limit)
		}
	}
	// A store away is answered 503; any other failure is a defect, and
	// before the first fault nothing may fail.
	for _, what := range unexpectedFailures(ws, phases) {
		h.fail("%s", what)
	}
	for _, u := range unexplained {
		h.fail("a row no request explains (a doubled write, or one applied after its request ended): %s", u)
	}
	if total.Acked == 0 {
		h.fail("no write was acknowledged at all")
	}
	if nc == 0 {
		h.fail("registrations queued no notices")
	}
	if out, err := h.relais.command(ctx, "journal", "verify", "--db", h.relais.db); err != nil {
		h.fail("relais journal verify: %v", err)
	} else {
		fmt.Fprint(h.out, "relais journal verify: ", out)
	}
	if len(h.failures) > 0 {
		for _, line := range h.relais.logLines(20) {
			fmt.Fprintln(h.out, "relais log:", line)
		}
	}
}

// phaseName is the name of the phase t falls in.
func phaseName(phases []phase, t time.Time) string {
	name := ""
	for _, p := range phases {
		if !t.Before(p.Start) {
			name = p.Name
		}
	}
	return name
}

// shorten keeps the start of an error's text for the failure counts.
func shorten(s string) string {
	if len(s) > 90 {
		return s[:90] + "…"
	}
	return s
}

func (h *harness) cleanup() {
	if h.cleaned {
		return
	}
	h.cleaned = true
	if h.relais != nil {
		h.relais.stop()
	}
	if h.cluster != nil {
		h.cluster.stopAll()
	}
	if h.ps != nil {
		// Anything started that the steps above did not stop.
		h.ps.mu.Lock()
		left := h.ps.list
		h.ps.mu.Unlock()
		for _, p := range left {
			stop(p, syscall.SIGKILL, 10*time.Second)
		}
	}
	if h.dir == "" {
		return
	}
	if h.o.keep {
		fmt.Fprintln(h.out, "kept", h.dir)
		return
	}
	if err := os.RemoveAll(h.dir); err != nil {
		fmt.Fprintln(h.out, "removing", h.dir, ":", err)
	}
}

// sleep waits d, the normal load between faults (no condition to wait
// for: this is load time).
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// unexpectedFailures names, with their counts, the failed writes that an
// outage does not explain: any answered with another status than 503, and
// any before the first fault.
func unexpectedFailures(ws []write, phases []phase) []string {
	count := map[string]int{}
	var order []string
	for _, w := range ws {
		if w.Result != failed {
			continue
		}
		var what string
		switch name := phaseName(phases, w.Done); {
		case w.Status != 0 && w.Status != http.StatusServiceUnavailable:
			what = fmt.Sprintf("%s, %s answered %d, not 503", name, w.Kind, w.Status)
		case len(phases) > 0 && name == phases[0].Name:
			what = fmt.Sprintf("%s, %s failed with no fault (%s)", name, w.Kind, shorten(w.Detail))
		default:
			continue
		}
		if count[what] == 0 {
			order = append(order, what)
		}
		count[what]++
	}
	out := make([]string, len(order))
	for i, what := range order {
		out[i] = fmt.Sprintf("%d × %s", count[what], what)
	}
	return out
}
