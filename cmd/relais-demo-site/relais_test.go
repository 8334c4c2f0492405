package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testWriter sends the site's log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// runningRelais is `relais serve --demo` started by a test.
type runningRelais struct {
	issuer, secret string
	stdout         *syncBuffer
}

// password reads a demo account's password from what serve printed.
func (r *runningRelais) password(email string) string {
	sc := bufio.NewScanner(strings.NewReader(r.stdout.String()))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == email {
			return f[1]
		}
	}
	return ""
}

// startRelais builds cmd/relais, registers one client with the given
// `relais clients create` flags on a fresh SQLite file, and runs
// `relais serve --demo` on a free port until the test ends, as
// conformance/ does.
func startRelais(t *testing.T, client []string) *runningRelais {
	t.Helper()
	dir := t.TempDir()
	bin, err := relaisBinary()
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := []string{"RELAIS_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RELAIS_") {
			env = append(env, kv)
		}
	}
	db := "sqlite:" + filepath.Join(dir, "relais.db")
	runCmd := func(args ...string) string {
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("relais %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
		}
		return out.String()
	}
	runCmd("migrate", "up", "--db", db)
	out := runCmd(append([]string{"clients", "create", "--db", db}, client...)...)
	r := &runningRelais{secret: field(out, "client_secret:"), stdout: &syncBuffer{}}
	if r.secret == "" {
		t.Fatalf("relais clients create printed no client_secret:\n%s", out)
	}
	for range 3 { // a free port may be taken before relais listens on it
		err = r.serve(t, bin, env, db, dir)
		if err == nil {
			return r
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatal(err)
	return nil
}

var errPortTaken = errors.New("port taken")

// The relais binary is built once for the package's tests, into a folder
// TestMain removes.
var (
	buildOnce sync.Once
	buildDir  string
	built     string
	buildErr  error
)

func relaisBinary() (string, error) {
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "relais-demo-site-"); buildErr != nil {
			return
		}
		built = filepath.Join(buildDir, "relais")
		cmd := exec.Command("go", "build", "-o", built, "./cmd/relais")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/relais: %v\n%s", err, out)
		}
	})
	return built, buildErr
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func (r *runningRelais) serve(t *testing.T, bin string, env []string, db, dir string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	r.issuer = "http://" + addr
	logPath := filepath.Join(dir, "relais-"+strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	r.stdout = &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--demo", "--listen", addr, "--issuer", r.issuer, "--db", db)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = r.stdout, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if res, err := client.Get(r.issuer + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK && strings.Contains(r.stdout.String(), "Relais is running") {
				break
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logPath)
			if bytes.Contains(log, []byte("already in use")) {
				return errPortTaken
			}
			return fmt.Errorf("relais serve exited before it was ready (%v):\n%s%s", err, r.stdout.String(), log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("relais serve was not ready on %s within 60 s:\n%s", r.issuer, r.stdout.String())
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("relais serve's log:\n%s", lastLines(string(log), 30))
		}
	})
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// field is the word after the first occurrence of label in out.
func field(out, label string) string {
	i := strings.Index(out, label)
	if i < 0 {
		return ""
	}
	if f := strings.Fields(out[i+len(label):]); len(f) > 0 {
		return f[0]
	}
	return ""
}

// moduleRoot walks up from the working directory to the go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// syncBuffer is a bytes.Buffer written by a process and read by the test.
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
