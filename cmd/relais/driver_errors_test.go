package main

import (
	"database/sql"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/storage/sqlite"
)

// TestSQLiteFailuresAreSaidInPlainWords: each way a SQLite file cannot be
// used gets its own sentence, chosen by the driver's result code or the
// store's typed error, never by the error's text.
func TestSQLiteFailuresAreSaidInPlainWords(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		path   func(t *testing.T) string
		locked bool
		want   func(path string) string
	}{
		{"a file another program holds locked", func(t *testing.T) string {
			path := filepath.Join(dir, "locked.db")
			holder, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { holder.Close() })
			conn, err := holder.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			for _, q := range []string{"BEGIN EXCLUSIVE", "CREATE TABLE other_program (x)"} {
				if _, err := conn.ExecContext(t.Context(), q); err != nil {
					t.Fatal(err)
				}
			}
			return path
		}, true, func(path string) string {
			return "--db sqlite:" + path + " (RELAIS_DB): the database file is locked by another program; stop that program or use another file."
		}},
		{"a file in a folder that does not exist", func(t *testing.T) string {
			return filepath.Join(dir, "missing", "relais.db")
		}, false, func(path string) string {
			return "--db sqlite:" + path + " (RELAIS_DB) cannot be used (unusable database path: folder " + filepath.Dir(path) +
				" does not exist); check the path, or choose another file."
		}},
		{"a file that is not a database", func(t *testing.T) string {
			path := filepath.Join(dir, "notes.txt")
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 200)), 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}, false, func(path string) string {
			return "--db sqlite:" + path + " (RELAIS_DB) is not a SQLite database file; choose another file."
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t)
			s, err := sqlite.Open(t.Context(), path, sqlite.Options{BusyTimeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatal("the store opened")
			}
			if got := isLocked(err); got != tt.locked {
				t.Errorf("isLocked(%v) = %v, want %v", err, got, tt.locked)
			}
			var ce *configError
			if got := sqliteErr(path, err); !errors.As(got, &ce) || ce.msg != tt.want(path) {
				t.Errorf("sqliteErr:\n got %v\nwant %s", got, tt.want(path))
			}
		})
	}
}

// TestListenFailuresNameTheSetting: an address in use, and a host name
// that does not resolve, are known by their system and resolver errors.
func TestListenFailuresNameTheSetting(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, inUse := net.Listen("tcp", busy.Addr().String())
	if inUse == nil {
		t.Fatal("a second listener took the same port")
	}
	notFound := &net.OpError{Op: "listen", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "relais.invalid", IsNotFound: true}}
	timeout := &net.OpError{Op: "listen", Net: "tcp", Err: &net.DNSError{Err: "i/o timeout", Name: "relais.example", IsTimeout: true}}
	tests := []struct {
		name string
		addr string
		err  error
		want string
	}{
		{"an address another program listens on", busy.Addr().String(), inUse,
			"--listen " + busy.Addr().String() + " (RELAIS_LISTEN) is already in use by another program; stop it or choose another port."},
		{"a host name nobody has", "relais.invalid:8080", notFound,
			"--listen relais.invalid:8080 (RELAIS_LISTEN) is not an address of this machine; use for example 127.0.0.1:8080."},
		{"a host name the resolver could not look up in time", "relais.example:8080", timeout,
			"--listen relais.example:8080 (RELAIS_LISTEN) cannot be opened (lookup relais.example: i/o timeout); choose another address."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ce *configError
			if got := listenErr(tt.addr, tt.err); !errors.As(got, &ce) || ce.msg != tt.want {
				t.Errorf("listenErr:\n got %v\nwant %s", got, tt.want)
			}
		})
	}
}
