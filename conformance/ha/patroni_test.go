package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("the configuration is not JSON (which YAML reads): %v", err)
	}
	return m
}

// dig follows keys into nested objects.
func dig(t *testing.T, m map[string]any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("no object at %s in %v", strings.Join(keys, "."), m)
		}
		m = next
	}
	return m
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestPatroniConfig(t *testing.T) {
	spec := clusterSpec{Scope: "s", EtcdClient: "127.0.0.1:2479", BinDir: "/usr/lib/postgresql/15/bin",
		SuperPassword: `p"w`, ReplPassword: "r", Timing: fastTiming, MaxConnections: 100}
	n := node{Name: "node1", PGPort: 5451, APIPort: 8161, Dir: "/tmp/x/node1"}
	b, err := patroniConfig(spec, n)
	if err != nil {
		t.Fatal(err)
	}
	cfg := decodeJSON(t, b)
	dcs := dig(t, cfg, "bootstrap", "dcs")
	for key, want := range map[string]any{"synchronous_mode": true, "synchronous_mode_strict": true,
		"primary_start_timeout": float64(0), "ttl": float64(8), "loop_wait": float64(1), "retry_timeout": float64(3)} {
		if dcs[key] != want {
			t.Errorf("bootstrap.dcs.%s = %v, want %v", key, dcs[key], want)
		}
	}
	pg := dig(t, cfg, "postgresql")
	if pg["listen"] != "127.0.0.1:5451" || pg["data_dir"] != "/tmp/x/node1/data" || pg["bin_dir"] != spec.BinDir {
		t.Errorf("postgresql section: %v", pg)
	}
	if su := dig(t, cfg, "postgresql", "authentication", "superuser"); su["password"] != `p"w` {
		t.Errorf("the superuser's password did not survive: %v", su)
	}
	if hosts := dig(t, cfg, "etcd3")["hosts"]; !strings.Contains(strings.Join(stringsOf(hosts), ","), "127.0.0.1:2479") {
		t.Errorf("etcd3.hosts = %v", hosts)
	}
	if rest := dig(t, cfg, "restapi"); rest["listen"] != "127.0.0.1:8161" {
		t.Errorf("restapi.listen = %v", rest["listen"])
	}
	for _, line := range stringsOf(pg["pg_hba"]) {
		if fields := strings.Fields(line); fields[0] == "host" && fields[3] != "127.0.0.1/32" {
			t.Errorf("pg_hba lets in more than loopback: %q", line)
		}
	}

	slow := spec
	slow.Timing = timing{TTL: 5, LoopWait: 2, RetryTimeout: 2}
	if _, err := patroniConfig(slow, n); err == nil {
		t.Error("a ttl below loop_wait + 2 × retry_timeout was accepted")
	}
}

func TestParsePostmasterPID(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{"the first line is the PID", "12345\n/var/lib/data\n1700000000\n5451\n", 12345, false},
		{"a file being written is refused", "", 0, true},
		{"a PID of 1 is refused: it would name init", "1\n", 0, true},
		{"text is refused", "abc\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePostmasterPID([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parsePostmasterPID(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestMultiHostDSN(t *testing.T) {
	got := multiHostDSN("relais", "relais", []int{5451, 5452, 5453})
	want := "postgres://relais@127.0.0.1:5451,127.0.0.1:5452,127.0.0.1:5453/relais?sslmode=disable&target_session_attrs=read-write&connect_timeout=3"
	if got != want {
		t.Errorf("multiHostDSN = %q, want %q", got, want)
	}
}

func TestRoles(t *testing.T) {
	s := clusterState{Members: []member{
		{Name: "node1", Role: "replica", State: "running"},
		{Name: "node2", Role: "leader", State: "running"},
		{Name: "node3", Role: "sync_standby", State: "starting"},
	}}
	if leader, sync := s.roles(); leader != "node2" || sync != "" {
		t.Errorf("roles = %q, %q; want node2 and no sync standby (node3 is not running yet)", leader, sync)
	}
}
