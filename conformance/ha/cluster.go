package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is etcd and the Patroni nodes, as started here.
type cluster struct {
	ps      *procs
	spec    clusterSpec
	nodes   []node
	etcd    *proc
	patroni map[string]*proc // by node name
	killed  map[string]bool  // nodes killed on purpose, whose Patroni has exited
	http    *http.Client
	env     []string
}

// member is one node as Patroni's GET /cluster describes it.
type member struct {
	Name  string `json:"name"`
	Role  string `json:"role"` // leader, sync_standby, replica
	State string `json:"state"`
	Port  int    `json:"port"`
}

// clusterState is Patroni's GET /cluster answer.
type clusterState struct {
	Members []member `json:"members"`
}

// roles reads, from a cluster's members, its leader and its sync
// standby, each running; "" when there is none.
func (s clusterState) roles() (leader, sync string) {
	for _, m := range s.Members {
		if m.State != "running" && m.State != "streaming" {
			continue
		}
		switch m.Role {
		case "leader":
			leader = m.Name
		case "sync_standby":
			sync = m.Name
		}
	}
	return leader, sync
}

func (c *cluster) node(name string) (node, bool) {
	for _, n := range c.nodes {
		if n.Name == name {
			return n, true
		}
	}
	return node{}, false
}

// startCluster starts etcd, then the nodes' Patroni, in dir.
func startCluster(ctx context.Context, ps *procs, dir string, spec clusterSpec, nodes []node, etcdPeer int) (*cluster, error) {
	c := &cluster{ps: ps, spec: spec, nodes: nodes, patroni: map[string]*proc{}, killed: map[string]bool{},
		http: &http.Client{Timeout: 5 * time.Second},
		env:  []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}}
	etcdDir := filepath.Join(dir, "etcd")
	var err error
	c.etcd, err = ps.start("etcd", filepath.Join(dir, "etcd.log"), append(c.env, "HOME="+dir), false, "etcd",
		etcdArgs(etcdDir, portOf(spec.EtcdClient), etcdPeer)...)
	if err != nil {
		return c, fmt.Errorf("etcd (install etcd-server): %w", err)
	}
	if err := waitFor(ctx, 30*time.Second, "etcd to answer on "+spec.EtcdClient, func() error {
		if c.etcd.exited() {
			return errStop{fmt.Errorf("etcd exited: %v; see %s", c.etcd.err, filepath.Join(dir, "etcd.log"))}
		}
		return c.get(ctx, "http://"+spec.EtcdClient+"/health", nil)
	}); err != nil {
		return c, err
	}
	for _, n := range nodes {
		if err := os.MkdirAll(n.Dir, 0o700); err != nil {
			return c, err
		}
		cfg, err := patroniConfig(spec, n)
		if err != nil {
			return c, err
		}
		if err := os.WriteFile(n.configFile(), cfg, 0o600); err != nil {
			return c, err
		}
		if ps.as != nil {
			for _, p := range []string{n.Dir, n.configFile()} {
				if err := os.Chown(p, int(ps.as.Uid), int(ps.as.Gid)); err != nil {
					return c, err
				}
			}
		}
		p, err := ps.start("patroni "+n.Name, filepath.Join(n.Dir, "patroni.log"), append(c.env, "HOME="+n.Dir), true,
			"patroni", n.configFile())
		if err != nil {
			return c, fmt.Errorf("patroni (install patroni): %w", err)
		}
		c.patroni[n.Name] = p
	}
	_, _, err = c.waitHealthy(ctx, 120*time.Second, len(nodes))
	return c, err
}

// state reads GET /cluster from the first node whose API answers.
func (c *cluster) state(ctx context.Context) (clusterState, error) {
	var errs []error
	for _, n := range c.nodes {
		if c.killed[n.Name] {
			continue
		}
		var s clusterState
		err := c.get(ctx, n.apiURL()+"/cluster", &s)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return clusterState{}, fmt.Errorf("no Patroni API answers: %w", errors.Join(errs...))
}

// waitHealthy waits for a running leader, a running sync standby and
// members running in all.
func (c *cluster) waitHealthy(ctx context.Context, limit time.Duration, members int) (leader, sync string, err error) {
	err = waitFor(ctx, limit, fmt.Sprintf("a leader, a sync standby and %d running members", members), func() error {
		for name, p := range c.patroni {
			if p.exited() && !c.killed[name] {
				return errStop{fmt.Errorf("patroni of %s exited: %v; see %s", name, p.err, filepath.Join(c.dirOf(name), "patroni.log"))}
			}
		}
		s, err := c.state(ctx)
		if err != nil {
			return err
		}
		leader, sync = s.roles()
		running := 0
		for _, m := range s.Members {
			if m.State == "running" || m.State == "streaming" {
				running++
			}
		}
		if leader == "" || sync == "" || running < members {
			return fmt.Errorf("cluster is %+v", s.Members)
		}
		return nil
	})
	return leader, sync, err
}

func (c *cluster) dirOf(name string) string {
	n, _ := c.node(name)
	return n.Dir
}

// leaderDSN is a superuser's DSN on the leader's PostgreSQL.
func (c *cluster) leaderDSN(ctx context.Context, db string) (string, error) {
	s, err := c.state(ctx)
	if err != nil {
		return "", err
	}
	leader, _ := s.roles()
	n, ok := c.node(leader)
	if !ok {
		return "", fmt.Errorf("no running leader in %+v", s.Members)
	}
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", c.spec.SuperPassword, n.PGPort, db), nil
}

// createDatabase makes the relais role and database on the leader.
func (c *cluster) createDatabase(ctx context.Context) error {
	dsn, err := c.leaderDSN(ctx, "postgres")
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range []string{"CREATE ROLE relais LOGIN", "CREATE DATABASE relais OWNER relais"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	// pgx stops at a host that says the database does not exist, so the
	// multi-host DSN fails until every replica has replayed it.
	for _, n := range c.nodes {
		dsn := fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/relais?sslmode=disable", c.spec.SuperPassword, n.PGPort)
		err := waitFor(ctx, 30*time.Second, "the relais database on "+n.Name, func() error {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				return err
			}
			return conn.Close(ctx)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// switchover asks Patroni to hand the leader's role to candidate.
func (c *cluster) switchover(ctx context.Context, leader, candidate string) error {
	n, _ := c.node(leader)
	body, _ := json.Marshal(map[string]string{"leader": leader, "candidate": candidate})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.apiURL()+"/switchover", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("switchover: %w", err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("switchover %s to %s: %d %s", leader, candidate, res.StatusCode, answer)
	}
	return nil
}

// killNode kills name's Patroni and its PostgreSQL with SIGKILL, as a
// machine that loses power would stop them.
func (c *cluster) killNode(name string) error {
	p := c.patroni[name]
	n, _ := c.node(name)
	var errs []error
	if p != nil && !p.exited() {
		// Its process group: Patroni and the helpers it forked; the
		// postmaster runs in a session of its own (patroni/postgresql/
		// postmaster.py calls setsid), killed below.
		errs = append(errs, syscall.Kill(-p.pid(), syscall.SIGKILL))
	}
	if _, err := killPostmaster(n.dataDir()); err != nil {
		errs = append(errs, err)
	}
	c.killed[name] = true
	return errors.Join(errs...)
}

// stopAll stops the nodes (Patroni stops its PostgreSQL on SIGTERM), any
// postmaster left behind, and etcd.
func (c *cluster) stopAll() {
	for _, n := range c.nodes {
		if p := c.patroni[n.Name]; p != nil {
			stop(p, syscall.SIGTERM, 20*time.Second)
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL) // a helper it forked, if any is left
		}
		_, _ = killPostmaster(n.dataDir())
	}
	if c.etcd != nil {
		stop(c.etcd, syscall.SIGTERM, 10*time.Second)
	}
}

func (c *cluster) get(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, res.StatusCode)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(body, v)
}

// errStop ends a wait at once: the condition can no longer come true.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }
func (e errStop) Unwrap() error { return e.err }

// waitFor polls cond every 100 ms until it returns nil, returns an
// errStop or limit passes.
func waitFor(ctx context.Context, limit time.Duration, what string, cond func() error) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		var stopped errStop
		if errors.As(err, &stopped) {
			return stopped.err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s: %w", limit, what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// portOf is the port of host:port, 0 when there is none.
func portOf(hostport string) int {
	_, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(port)
	return n
}
