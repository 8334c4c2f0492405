package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// relais is the relais serve process and what runs its other commands.
type relais struct {
	bin  string
	db   string // the multi-host DSN
	base string
	env  []string
	log  string
	proc *proc
}

// multiHostDSN names every node: pgx tries them in order and keeps the
// first that accepts writes (target_session_attrs=read-write), so a
// new connection after a failover reaches the new primary.
func multiHostDSN(user, db string, ports []int) string {
	hosts := make([]string, len(ports))
	for i, p := range ports {
		hosts[i] = fmt.Sprintf("127.0.0.1:%d", p)
	}
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&target_session_attrs=read-write&connect_timeout=3",
		user, strings.Join(hosts, ","), db)
}

// buildRelais compiles cmd/relais into dir; the program runs from the
// repository's root (go run ./conformance/ha).
func buildRelais(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "relais")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/relais")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/relais (run this from the repository's root): %v\n%s", err, out)
	}
	return bin, nil
}

func secretKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// command runs a relais command other than serve and returns its output.
func (r *relais) command(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Env = r.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("relais %s: %v: %s", args[0], err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// serve starts relais serve --demo and waits until it answers.
func (r *relais) serve(ctx context.Context, ps *procs, listen string) error {
	args := []string{"serve", "--demo", "--db", r.db, "--listen", listen, "--issuer", r.base,
		"--access-token-ttl", "30m"}
	p, err := ps.start("relais", r.log, r.env, false, r.bin, args...)
	if err != nil {
		return err
	}
	r.proc = p
	c := &http.Client{Timeout: 2 * time.Second}
	return waitFor(ctx, 60*time.Second, "relais to answer on "+r.base, func() error {
		if p.exited() {
			return errStop{fmt.Errorf("relais serve exited: %v; its log: %s", p.err, r.log)}
		}
		res, err := c.Get(r.base + "/.well-known/openid-configuration")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("discovery answered %d", res.StatusCode)
		}
		return nil
	})
}

// createClient registers a site for one worker and returns its secret.
func (r *relais) createClient(ctx context.Context, id, redirect string) (string, error) {
	out, err := r.command(ctx, "clients", "create", "--db", r.db, "--id", id, "--name", "HA "+id,
		"--grant-type", "client_credentials", "--grant-type", "authorization_code",
		"--redirect-uri", redirect, "--scope", "openid", "--procedure-area", "social")
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(out) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "client_secret: "); ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("relais clients create printed no client_secret: %s", out)
}

// stop ends relais serve as a service manager would.
func (r *relais) stop() {
	if r.proc != nil {
		stop(r.proc, syscall.SIGTERM, 30*time.Second)
	}
}

// logLines are the lines of relais's log at level WARN or ERROR, at most
// max of them.
func (r *relais) logLines(max int) []string {
	f, err := os.Open(r.log)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			out = append(out, line)
		}
	}
	if len(out) > max {
		out = append(out[:max], fmt.Sprintf("… and %d more", len(out)-max))
	}
	return out
}
