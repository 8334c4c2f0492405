package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/relais-fr/relais/ui"
)

// syncBuffer is written by the server's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

// testSecretKey is a fixed RELAIS_SECRET_KEY for tests (32 bytes of 'k').
const testSecretKey = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// TestBadSettingsExitWithStatus2AndOneSentence: each bad setting is named
// in one line that says how to fix it; no usage dump, no stack trace.
func TestBadSettingsExitWithStatus2AndOneSentence(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 200)), 0o600)
	badPolicy := filepath.Join(dir, "policy.txt")
	os.WriteFile(badPolicy, []byte("version test\n# a comment\ntutele person allowed no no\n"), 0o600)

	tests := []struct {
		name  string
		args  []string
		env   func(string) string
		names string // the setting the sentence must name
	}{
		{"an unreachable PostgreSQL", []string{"serve", "--db", "postgres://nope"}, noEnv, "--db"},
		{"a port out of range", []string{"serve", "--listen", "127.0.0.1:80808"}, noEnv, "--listen"},
		{"a listen address in use", []string{"serve", "--listen", busy.Addr().String(), "--db", "sqlite:" + filepath.Join(dir, "a.db")}, noEnv, "already in use"},
		{"a listen address without a port", []string{"serve", "--listen", "localhost"}, noEnv, "--listen"},
		{"an unknown store", []string{"serve", "--db", "mysql://root@db/relais"}, noEnv, "unknown store"},
		{"a malformed PostgreSQL URL", []string{"serve", "--db", "postgres://a:b@host:port/db"}, noEnv, "not a valid PostgreSQL URL"},
		{"a SQLite file in a missing folder", []string{"serve", "--db", "sqlite:" + filepath.Join(dir, "missing", "x.db")}, noEnv, "--db"},
		{"a file that is not a database", []string{"serve", "--db", "sqlite:" + notDB}, noEnv, "not a SQLite database"},
		{"an http issuer on a public host", []string{"serve", "--issuer", "http://relais.example.fr"}, noEnv, "--issuer"},
		{"an unknown log format", []string{"serve", "--log-format", "xml"}, noEnv, "--log-format"},
		{"a bad variable", []string{"serve"}, envOf("RELAIS_DEMO", "maybe"), "RELAIS_DEMO"},
		{"a bad listen variable", []string{"serve"}, envOf("RELAIS_LISTEN", "127.0.0.1:99999"), "RELAIS_LISTEN"},
		{"no password checks at all", []string{"serve", "--password-hash-concurrency", "0"}, noEnv, "--password-hash-concurrency"},
		{"a bad password-check variable", []string{"serve"}, envOf("RELAIS_PASSWORD_HASH_CONCURRENCY", "-3"), "RELAIS_PASSWORD_HASH_CONCURRENCY"},
		{"profiles on a public address", []string{"serve", "--debug-listen", "0.0.0.0:6060"}, noEnv, "not a loopback address"},
		{"profiles on a name", []string{"serve"}, envOf("RELAIS_DEBUG_LISTEN", "relais.example.fr:6060"), "RELAIS_DEBUG_LISTEN"},
		{"profiles without a port", []string{"serve", "--debug-listen", "127.0.0.1"}, noEnv, "--debug-listen"},
		{"a notice lease too short to send", []string{"serve", "--notice-lease", "3s"}, noEnv, "--notice-lease"},
		{"notices looked for more than once a second", []string{"serve"}, envOf("RELAIS_NOTICE_INTERVAL", "100ms"), "RELAIS_NOTICE_INTERVAL"},
		{"an unknown flag", []string{"serve", "--bogus"}, noEnv, "--bogus"},
		{"an unknown command", []string{"serve-me"}, noEnv, "serve-me"},
		{"migrate on an unknown store", []string{"migrate", "up", "--db", "oracle://x"}, noEnv, "unknown store"},
		{"a policy file with an unknown kind", []string{"serve", "--policy", badPolicy}, noEnv, "line 3: \"tutele\" is not a kind"},
		{"a missing policy file", []string{"serve"}, envOf("RELAIS_POLICY", filepath.Join(dir, "none.policy")), "--policy"},
		{"policy check of a bad file", []string{"policy", "check", badPolicy}, noEnv, "line 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			args := tt.args
			// Away from the default port, which another program may hold.
			if args[0] == "serve" && !slices.Contains(args, "--listen") && tt.env("RELAIS_LISTEN") == "" {
				args = append(slices.Clone(args), "--listen", "127.0.0.1:0")
			}
			code := run(ctx, args, &stdout, &stderr, tt.env)
			msg := stderr.String()
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, msg)
			}
			if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "relais: ") {
				t.Errorf("want one line starting with 'relais: ', got %q", msg)
			}
			if !strings.Contains(msg, tt.names) {
				t.Errorf("message does not name %q: %s", tt.names, msg)
			}
			if strings.Contains(msg, "goroutine") || strings.Contains(msg, "Usage:") {
				t.Errorf("message carries a trace or usage: %s", msg)
			}
		})
	}
}

func TestPasswordsStayOutOfMessages(t *testing.T) {
	var stderr bytes.Buffer
	run(t.Context(), []string{"serve", "--db", "postgres://relais:s3cret@127.0.0.1:1/relais?connect_timeout=2"}, io.Discard, &stderr, noEnv)
	if strings.Contains(stderr.String(), "s3cret") {
		t.Errorf("the password leaked: %s", stderr.String())
	}
}

var runningRe = regexp.MustCompile(`open (http://[0-9.:]+)/`)

// startServe runs "relais serve" in-process and returns its base URL and a
// function that stops it (as SIGTERM would) and returns its exit status.
func startServe(t *testing.T, args []string) (base string, stdout *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stdout = &syncBuffer{}
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), stdout, &stderr, noEnv)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := runningRe.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before listening: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			code = <-done
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return base, stdout, stop
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func count(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestServeDemoTwiceAddsNothingTheSecondTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relais.db")
	// Persons, the client, organisations, the aidant's membership and the
	// representations.
	records := len(demoPersons) + 1 + len(demoOrganisations) + 1 + len(demoRepresentations(time.Now()))
	for i, wantAdded := range []int{records, 0} {
		base, stdout, stop := startServe(t, []string{"--demo", "--db", "sqlite:" + path})
		code, body := get(t, base+"/")
		if code != 200 || !strings.Contains(body, "Relais vous aide") {
			t.Errorf("start %d: home page %d", i+1, code)
		}
		if code, _ := get(t, base+"/readyz"); code != 200 {
			t.Errorf("start %d: readyz %d", i+1, code)
		}
		if code := stop(); code != 0 {
			t.Fatalf("start %d: exit %d", i+1, code)
		}
		out := stdout.String()
		if !strings.Contains(out, fmt.Sprintf("Demo data: %d records added", wantAdded)) {
			t.Errorf("start %d: output does not report %d added:\n%s", i+1, wantAdded, out)
		}
		for _, d := range demoPersons {
			if !strings.Contains(out, d.person.Email) || !strings.Contains(out, d.password) {
				t.Errorf("start %d: account %s is not printed with its password", i+1, d.person.Email)
			}
		}
		if !strings.Contains(out, "client_id=demo-site") {
			t.Errorf("start %d: demo client not printed", i+1)
		}
		for _, c := range demoCases {
			if !strings.Contains(out, c) {
				t.Errorf("start %d: demo case not printed: %s", i+1, c)
			}
		}
		if !strings.Contains(out, demoTOTPSecret) {
			t.Errorf("start %d: the aidant's second-factor key is not printed", i+1)
		}
	}
	if n := count(t, path, "representations"); n != len(demoRepresentations(time.Now())) {
		t.Errorf("%d representations after two starts, want %d", n, len(demoRepresentations(time.Now())))
	}
	if n := count(t, path, "persons"); n != len(demoPersons) {
		t.Errorf("%d persons after two starts, want %d", n, len(demoPersons))
	}
	if n := count(t, path, "clients"); n != 1 {
		t.Errorf("%d clients after two starts, want 1", n)
	}
}

func TestMigrateUpThenStatus(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "relais.db")
	var out bytes.Buffer
	if code := run(t.Context(), []string{"migrate", "status", "--db", db}, &out, io.Discard, noEnv); code != 0 || !strings.Contains(out.String(), "pending") {
		t.Errorf("status before up: %d %q", code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"migrate", "up", "--db", db}, &out, io.Discard, noEnv); code != 0 || !strings.Contains(out.String(), "applied 00001") {
		t.Errorf("up: %d %q", code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"migrate", "up"}, &out, io.Discard, envOf("RELAIS_DB", db)); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Errorf("second up (db from RELAIS_DB): %d %q", code, out.String())
	}
	out.Reset()
	if code := run(t.Context(), []string{"migrate", "status", "--db", db}, &out, io.Discard, noEnv); code != 0 || strings.Contains(out.String(), "pending") {
		t.Errorf("status after up: %d %q", code, out.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run(t.Context(), []string{"version"}, &out, io.Discard, noEnv); code != 0 || !strings.HasPrefix(out.String(), "relais ") {
		t.Errorf("version: %d %q", code, out.String())
	}
}

// TestShutdownLetsRequestsInFlightFinish: a stop signal while a request
// runs waits for it, answers it in full, then closes the store.
func TestShutdownLetsRequestsInFlightFinish(t *testing.T) {
	c := Config{}
	bindDefaults(&c)
	c.Listen = "127.0.0.1:0"
	c.DB = "sqlite:" + filepath.Join(t.TempDir(), "relais.db")
	c.SecretKey = testSecretKey

	entered := make(chan struct{})
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	stdout := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, &c, stdout, io.Discard, func(s *ui.Server) {
			s.Router().HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				<-release
				io.WriteString(w, "finished")
			})
		})
	}()
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; time.Sleep(20 * time.Millisecond) {
		if m := runningRe.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatal("serve did not start")
		}
	}

	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get(base + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- result{res.StatusCode, string(b), nil}
	}()
	<-entered
	cancel() // as SIGTERM does
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	r := <-got
	if r.err != nil || r.code != 200 || r.body != "finished" {
		t.Errorf("request in flight: %+v", r)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

// bindDefaults fills c with the flag defaults, as the command line would.
func bindDefaults(c *Config) {
	fs := pflag.NewFlagSet("defaults", pflag.ContinueOnError)
	bindServeFlags(fs, c)
	bindStoreFlags(fs, c)
}

func TestSQLiteFileLockedByAnotherProgram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relais.db")
	// Another program holds the write lock of a database Relais has not
	// migrated yet: serve must say so, not hang or crash.
	holder, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"BEGIN EXCLUSIVE", "CREATE TABLE other_program (x)"} {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	// If serve wrongly started, the deadline stops it and the test fails.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	code := run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--db", "sqlite:" + path, "--busy-timeout", "300ms"}, io.Discard, &stderr, noEnv)
	if code != 2 || !strings.Contains(stderr.String(), "locked by another program") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	conn.ExecContext(t.Context(), "ROLLBACK")
}

// TestPolicyShowPrintsAFileThatChecks: the default policy, as printed for a
// deployment to adapt, passes the check serve --policy makes.
func TestPolicyShowPrintsAFileThatChecks(t *testing.T) {
	var out, stderr bytes.Buffer
	if code := run(t.Context(), []string{"policy", "show"}, &out, &stderr, noEnv); code != 0 {
		t.Fatalf("policy show: exit %d: %s", code, stderr.String())
	}
	path := filepath.Join(t.TempDir(), "relais.policy")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(t.Context(), []string{"policy", "check", path}, &out, &stderr, noEnv); code != 0 {
		t.Fatalf("policy check: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(out.String(), "is valid") {
		t.Errorf("policy check says %q", out.String())
	}
}
