package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
)

// timing is Patroni's failure detection: the leader key's lease (ttl),
// the pause between two runs of its loop (loop_wait) and how long a DCS
// or PostgreSQL call may be retried (retry_timeout). Patroni's docs ask
// for ttl >= loop_wait + 2*retry_timeout so that a leader that cannot
// reach etcd demotes itself before its key expires; 3.0.2 enforces no
// minimum itself (later releases refuse ttl < 20, which would put a node
// loss near the 20 s limit).
type timing struct {
	TTL, LoopWait, RetryTimeout int
}

// fastTiming detects a lost leader within about ttl + loop_wait = 9 s.
var fastTiming = timing{TTL: 8, LoopWait: 1, RetryTimeout: 3}

// check says why t cannot be used, or nil.
func (t timing) check() error {
	switch {
	case t.LoopWait < 1 || t.RetryTimeout < 1:
		return fmt.Errorf("loop_wait %d and retry_timeout %d must be at least 1 s", t.LoopWait, t.RetryTimeout)
	case t.TTL < t.LoopWait+2*t.RetryTimeout:
		return fmt.Errorf("ttl %d is below loop_wait + 2 × retry_timeout = %d", t.TTL, t.LoopWait+2*t.RetryTimeout)
	}
	return nil
}

// node is one Patroni-managed PostgreSQL server of the test cluster.
type node struct {
	Name    string // node1…
	PGPort  int    // PostgreSQL, on 127.0.0.1
	APIPort int    // Patroni's REST API, on 127.0.0.1
	Dir     string // its own directory: data dir, socket, pgpass, config
}

func (n node) dataDir() string    { return filepath.Join(n.Dir, "data") }
func (n node) configFile() string { return filepath.Join(n.Dir, "patroni.yml") }
func (n node) apiURL() string     { return fmt.Sprintf("http://127.0.0.1:%d", n.APIPort) }

// clusterSpec is what every node's configuration shares.
type clusterSpec struct {
	Scope          string // Patroni's cluster name, its key prefix in etcd
	EtcdClient     string // host:port of etcd's client URL
	BinDir         string // PostgreSQL 15's binaries
	SuperPassword  string // the postgres role's, which Patroni uses locally
	ReplPassword   string // the replication role's
	Timing         timing
	MaxConnections int
}

// patroniConfig is node n's Patroni configuration. It is JSON, which
// PyYAML (what Patroni reads its file with) reads as YAML; encoding/json
// quotes every value, so no path or password can break the file.
//
// Fault behaviour, per the issue: synchronous_mode with
// synchronous_mode_strict, so a COMMIT the primary acknowledged is on the
// sync standby too and the primary refuses writes rather than run alone;
// primary_start_timeout 0, so a crashed primary is failed over at once
// instead of being restarted in place.
func patroniConfig(s clusterSpec, n node) ([]byte, error) {
	if err := s.Timing.check(); err != nil {
		return nil, err
	}
	loopback := []string{
		"local all all trust",
		"host all all 127.0.0.1/32 trust",
		"host replication replicator 127.0.0.1/32 trust",
	}
	cfg := map[string]any{
		"scope": s.Scope,
		"name":  n.Name,
		"log":   map[string]any{"level": "INFO"},
		"restapi": map[string]any{
			"listen":          fmt.Sprintf("127.0.0.1:%d", n.APIPort),
			"connect_address": fmt.Sprintf("127.0.0.1:%d", n.APIPort),
		},
		"etcd3": map[string]any{"hosts": []string{s.EtcdClient}, "protocol": "http"},
		"bootstrap": map[string]any{
			// The dynamic configuration, written to etcd by the node that
			// initialises the cluster.
			"dcs": map[string]any{
				"ttl":                     s.Timing.TTL,
				"loop_wait":               s.Timing.LoopWait,
				"retry_timeout":           s.Timing.RetryTimeout,
				"maximum_lag_on_failover": 1 << 20,
				"synchronous_mode":        true,
				"synchronous_mode_strict": true,
				"primary_start_timeout":   0,
				"postgresql": map[string]any{
					"use_pg_rewind": true,
					"use_slots":     true,
					"parameters": map[string]any{
						"max_connections": s.MaxConnections,
						"wal_log_hints":   "on",
						"wal_keep_size":   "128MB",
						// A standby retries its stream (and notices a
						// promotion while it waits for WAL) every 5 s by
						// default: after a failover the new primary,
						// strict about its sync standby, would wait that
						// long for one.
						"wal_retrieve_retry_interval": "1s",
					},
				},
			},
			"initdb": []any{map[string]any{"encoding": "UTF8"}, map[string]any{"locale": "C.UTF-8"}},
		},
		"postgresql": map[string]any{
			"listen":          fmt.Sprintf("127.0.0.1:%d", n.PGPort),
			"connect_address": fmt.Sprintf("127.0.0.1:%d", n.PGPort),
			"data_dir":        n.dataDir(),
			"bin_dir":         s.BinDir,
			"pgpass":          filepath.Join(n.Dir, "pgpass"),
			"authentication": map[string]any{
				"superuser":   map[string]any{"username": "postgres", "password": s.SuperPassword},
				"replication": map[string]any{"username": "replicator", "password": s.ReplPassword},
				"rewind":      map[string]any{"username": "postgres", "password": s.SuperPassword},
			},
			"parameters": map[string]any{
				"unix_socket_directories": n.Dir,
				"shared_buffers":          "32MB",
			},
			"pg_hba": loopback,
		},
		"tags": map[string]any{"nofailover": false, "noloadbalance": false, "clonefrom": false, "nosync": false},
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// etcdArgs runs one etcd member on loopback ports, its data in dir.
func etcdArgs(dir string, clientPort, peerPort int) []string {
	client := fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	return []string{
		"--name", "ha", "--data-dir", dir,
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "ha=" + peer, "--initial-cluster-state", "new",
		"--initial-cluster-token", "relais-ha",
	}
}
