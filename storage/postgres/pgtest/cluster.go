package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvBinDir names an optional environment variable holding the directory of
// the PostgreSQL server binaries (initdb, postgres). When unset, pgtest
// looks in /usr/lib/postgresql/15/bin, then the newest
// /usr/lib/postgresql/*/bin, then the directory of initdb found in PATH.
const EnvBinDir = "RELAIS_TEST_PGBIN"

const (
	defaultBinDir = "/usr/lib/postgresql/15/bin"
	superuser     = "postgres"
	dirPrefix     = "pgtest-"
	lockName      = "owner.lock"

	initTimeout  = 2 * time.Minute // initdb
	readyTimeout = time.Minute     // server start until it accepts connections
	stopTimeout  = 30 * time.Second
	portAttempts = 5
)

// unavailableError reports that no PostgreSQL can be started here (no
// binaries, no system user to run them). Tests are skipped for it, unless
// CI is set.
type unavailableError struct{ reason string }

func (e *unavailableError) Error() string { return e.reason }

func unavailable(format string, args ...any) error {
	return &unavailableError{reason: fmt.Sprintf(format, args...)}
}

var errPortInUse = errors.New("port already in use")

// Cluster is a throwaway PostgreSQL cluster (data directory + server
// process) living in a temporary directory. The zero value is not usable;
// get one from StartCluster.
type Cluster struct {
	binDir  string
	dir     string // temporary root, owned by the server's system user
	dataDir string
	logPath string
	cred    *credential // nil: run the binaries as the current user
	lock    *os.File    // flock held by this process while the cluster exists

	mu   sync.Mutex
	port int
	proc *serverProc // nil while stopped
}

// serverProc is one run of the postmaster.
type serverProc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and been reaped
	err    error         // result of Wait, valid after exited is closed
}

// DSN returns a URL to the given database of the cluster, as the superuser
// "postgres" over TCP on 127.0.0.1 (authentication is "trust"). The DSN
// stays valid across Stop and Start: the port does not change.
func (c *Cluster) DSN(database string) string {
	c.mu.Lock()
	port := c.port
	c.mu.Unlock()
	return clusterDSN(port, database)
}

func clusterDSN(port int, database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, port, database)
}

// Stop shuts the server down in "fast" mode (like pg_ctl stop -m fast:
// open sessions are terminated) and returns once the server process has
// exited and the port is free. Stopping a stopped cluster does nothing.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if err := c.stop(syscall.SIGINT); err != nil {
		t.Fatalf("pgtest: stopping the cluster: %v", err)
	}
}

// Start starts the server again on the same port (the DSNs already handed
// out work again) and returns once it accepts connections. Starting a
// running cluster does nothing.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	port := c.port
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := c.start(ctx, port); err != nil {
		t.Fatalf("pgtest: restarting the cluster on port %d: %v", port, err)
	}
}

// newCluster runs initdb in a new temporary directory and starts the server
// on a free port of 127.0.0.1.
func newCluster(ctx context.Context) (_ *Cluster, err error) {
	if !platformSupported {
		return nil, unavailable("throwaway PostgreSQL clusters are not supported on %s", runtime.GOOS)
	}
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	base := tempBase(cred != nil)
	sweepStale(base)

	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("creating the temporary directory: %w", err)
	}
	c := &Cluster{
		binDir:  binDir,
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "server.log"),
		cred:    cred,
	}
	defer func() {
		if err != nil {
			c.destroy()
		}
	}()
	if c.lock, err = lockFile(filepath.Join(dir, lockName)); err != nil {
		return nil, fmt.Errorf("locking the temporary directory: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("giving %s to the %s user: %w", dir, superuser, err)
		}
	}
	if err := c.initdb(ctx); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		err = c.start(ctx, port)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errPortInUse) || attempt == portAttempts {
			return nil, err
		}
	}
}

func (c *Cluster) initdb(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, initTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := c.command(ctx, "initdb",
		"--pgdata="+c.dataDir,
		"--username="+superuser,
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
	)
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := spawn(cmd); err != nil {
		return fmt.Errorf("running initdb: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("initdb failed: %w\n%s", err, tail(out.Bytes()))
	}

	// Settings for a disposable server: local only, no durability, no
	// background work that could get in the way of tests.
	conf := fmt.Sprintf(`
# Added by pgtest (github.com/relais-fr/relais/storage/postgres/pgtest)
listen_addresses = '127.0.0.1'
unix_socket_directories = '%s'
max_connections = 200
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = 1h
max_wal_size = 1GB
autovacuum = off
jit = off
timezone = 'UTC'
log_timezone = 'UTC'
log_checkpoints = off
`, strings.ReplaceAll(c.dir, "'", "''"))
	f, err := os.OpenFile(filepath.Join(c.dataDir, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("configuring the cluster: %w", err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("configuring the cluster: %w", err)
	}
	return nil
}

// command prepares one of the server binaries to run as the server's
// system user, in the cluster directory, with a clean environment.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	cmd.Env = serverEnv(c.dir)
	cmd.SysProcAttr = sysProcAttr(c.cred)
	return cmd
}

// serverEnv is the environment of the current process without the
// variables that change how PostgreSQL tools behave (PG*, locale).
func serverEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "HOME="+home)
}

// start runs the postmaster on port and waits until it accepts connections.
// It returns an error wrapping errPortInUse when the port is taken.
func (c *Cluster) start(ctx context.Context, port int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		select {
		case <-c.proc.exited: // crashed or killed behind our back: start again
			c.proc = nil
		default:
			return nil
		}
	}

	logf, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the server log: %w", err)
	}
	logStart, _ := logf.Seek(0, io.SeekEnd)
	fmt.Fprintf(logf, "--- pgtest: starting postgres on 127.0.0.1:%d at %s\n", port, time.Now().Format(time.RFC3339Nano))

	// Not CommandContext: the server outlives ctx, which bounds the start only.
	cmd := c.command(context.Background(), "postgres", "-D", c.dataDir, "-p", strconv.Itoa(port))
	cmd.Stdout = logf
	cmd.Stderr = logf
	err = spawn(cmd)
	logf.Close() // the child has its own descriptor
	if err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	p := &serverProc{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()

	logTail := func() string { return c.logTail(logStart) }
	dsn := clusterDSN(port, "postgres")
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := ping(ctx, dsn); err == nil {
			c.port, c.proc = port, p
			return nil
		}
		select {
		case <-p.exited:
			t := logTail()
			if strings.Contains(t, "Address already in use") {
				return fmt.Errorf("%w: postgres could not listen on 127.0.0.1:%d; server log (%s):\n%s", errPortInUse, port, c.logPath, t)
			}
			return fmt.Errorf("postgres exited during start-up (%v); server log (%s):\n%s", p.err, c.logPath, t)
		case <-ctx.Done():
			killProc(p)
			return fmt.Errorf("postgres did not accept connections on 127.0.0.1:%d within %s; server log (%s):\n%s", port, readyTimeout, c.logPath, logTail())
		case <-tick.C:
		}
	}
}

func ping(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// stop sends sig to the postmaster (SIGINT: fast shutdown, SIGQUIT:
// immediate shutdown) and waits until it has exited, escalating if it
// takes too long.
func (c *Cluster) stop(sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.proc
	if p == nil {
		return nil
	}
	c.proc = nil
	select {
	case <-p.exited:
		return nil // already gone
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		select {
		case <-p.exited:
			return nil
		default:
			return fmt.Errorf("signalling postgres (pid %d): %w", p.cmd.Process.Pid, err)
		}
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	killProc(p)
	return fmt.Errorf("postgres (pid %d) did not stop within %s and was killed; server log (%s):\n%s", p.cmd.Process.Pid, stopTimeout, c.logPath, c.logTail(0))
}

// killProc ends p the hard way: immediate shutdown, then SIGKILL.
func killProc(p *serverProc) {
	_ = p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.exited:
		return
	case <-time.After(5 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// destroy stops the server (immediate shutdown: the data is thrown away)
// and removes the temporary directory.
func (c *Cluster) destroy() error {
	err := c.stop(syscall.SIGQUIT)
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
	if rerr := os.RemoveAll(c.dir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// logTail returns the end of the server log written after offset from.
func (c *Cluster) logTail(from int64) string {
	f, err := os.Open(c.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read the server log: %v)", err)
	}
	defer f.Close()
	const max = 8 << 10
	if fi, err := f.Stat(); err == nil && fi.Size()-from > max {
		from = fi.Size() - max
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read the server log: %v)", err)
	}
	b, _ := io.ReadAll(f)
	return tail(b)
}

// tail keeps the last lines of b.
func tail(b []byte) string {
	const maxLines = 40
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > maxLines {
		lines = append([]string{"[...]"}, lines[len(lines)-maxLines:]...)
	}
	return strings.Join(lines, "\n")
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. Someone else
// may take it before postgres binds it; start reports that as errPortInUse
// and newCluster tries another port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("looking for a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// findBinDir locates the directory of initdb and postgres.
func findBinDir() (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv(EnvBinDir); dir != "" {
		if !has(dir) {
			return "", unavailable("%s=%s does not contain initdb and postgres", EnvBinDir, dir)
		}
		return dir, nil
	}
	if has(defaultBinDir) {
		return defaultBinDir, nil
	}
	// Other Debian/Ubuntu versions, newest first.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", unavailable("no PostgreSQL server binaries (initdb, postgres) in %s, /usr/lib/postgresql/*/bin or PATH", defaultBinDir)
}

// tempBase picks the directory to create cluster directories in. The unix
// socket lives there too, and socket paths are limited to about 100 bytes;
// when running as root, the postgres user must also be able to reach it.
func tempBase(asOtherUser bool) string {
	base := os.TempDir()
	if len(base) > 60 || (asOtherUser && !reachableByOthers(base)) {
		return "/tmp"
	}
	return base
}

func reachableByOthers(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// sweepStale removes cluster directories left behind by test binaries that
// died without cleaning up (crash, panic, timeout, kill -9). A directory is
// stale when nobody holds the lock on its owner.lock (the lock goes away
// with the process that took it) and no server is running in it.
func sweepStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
	for _, dir := range dirs {
		lockPath := filepath.Join(dir, lockName)
		fi, err := os.Stat(lockPath)
		if err != nil || time.Since(fi.ModTime()) < time.Minute {
			continue // not ours, or just being created
		}
		f, err := tryLockFile(lockPath)
		if err != nil {
			continue // its owner is alive
		}
		if !postmasterAlive(filepath.Join(dir, "data")) {
			os.RemoveAll(dir)
		}
		f.Close()
	}
}

// postmasterAlive reports whether the postmaster.pid of dataDir names a
// live process. Errors on the safe side (true) when unsure.
func postmasterAlive(dataDir string) bool {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return false
	}
	return processAlive(pid)
}

var (
	spawnOnce sync.Once
	spawnReqs chan spawnRequest
)

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// spawn starts cmd from one goroutine locked to its OS thread for the life
// of the process. On Linux, children get the parent-death signal when the
// thread that forked them exits (go.dev/issue/27505), not only when the
// process does; forking from a thread that never exits makes the signal
// mean "the test binary is gone".
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range spawnReqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReqs <- spawnRequest{cmd: cmd, done: done}
	return <-done
}
