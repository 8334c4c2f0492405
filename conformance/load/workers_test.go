package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relais-fr/relais/conformance"
)

func TestParseAccounts(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    []conformance.Account
		wantErr *accountsError // nil when none is expected
	}{
		{"lines of email and password, with comments and blank lines skipped",
			"# bench accounts\n\nbench-01@demo.example bench-01-password\n  bench-02@demo.example\tsecret with spaces  \n",
			[]conformance.Account{{Email: "bench-01@demo.example", Password: "bench-01-password"},
				{Email: "bench-02@demo.example", Password: "secret with spaces"}}, nil},
		{"an empty file is refused", "", nil, &accountsError{File: "accounts.txt"}},
		{"a file of comments only is refused", "# nobody\n\n", nil, &accountsError{File: "accounts.txt"}},
		{"a line without a password is refused with its number",
			"# header\na@demo.example pw-a-123456\nb@demo.example\n", nil, &accountsError{File: "accounts.txt", Line: 3}},
		{"a line whose first word is not an email is refused with its number",
			"a@demo.example pw-a-123456\n\npassword-first a@demo.example\n", nil, &accountsError{File: "accounts.txt", Line: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAccounts(strings.NewReader(tt.file), "accounts.txt")
			if tt.wantErr != nil {
				var ae *accountsError
				if !errors.As(err, &ae) || *ae != *tt.wantErr {
					t.Fatalf("parseAccounts = %v, %v; want %#v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("parseAccounts = %v; want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("account %d = %+v; want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestValidateAccounts: -accounts replaces -email and -password, and each
// worker logs in with account w mod n.
func TestValidateAccounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts.txt")
	if err := os.WriteFile(path, []byte("a@demo.example pw-a-123456\nb@demo.example pw-b-123456\nc@demo.example pw-c-123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := options{issuer: "http://127.0.0.1:8095", clientID: "bench", redirectURI: "http://127.0.0.1:8082/callback",
		scenario: "code", duration: 1, concurrency: 8, repeat: 1, seedBatch: 1, accountsFile: path}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b", "c", "a", "b", "c", "a", "b"}
	for w, letter := range want {
		if got := o.account(w).Email; got != letter+"@demo.example" {
			t.Errorf("worker %d logs in as %s; want %s@demo.example", w, got, letter)
		}
	}
	if got := o.account(5).Password; got != "pw-c-123456" {
		t.Errorf("worker 5's password is %q; want c's", got)
	}
	if o.accountsUsed() != 3 {
		t.Errorf("accountsUsed = %d; want 3", o.accountsUsed())
	}

	both := o
	both.accounts, both.email, both.password = nil, "x@demo.example", "pw-x-123456"
	if err := both.validate(); err == nil {
		t.Error("-accounts with -email and -password: accepted")
	}

	one := o
	one.accounts, one.accountsFile, one.email, one.password = nil, "", "x@demo.example", "pw-x-123456"
	if err := one.validate(); err != nil {
		t.Fatal(err)
	}
	if one.account(0) != one.account(7) || one.account(7).Email != "x@demo.example" || one.accountsUsed() != 1 {
		t.Errorf("without -accounts every worker is -email: %+v, %+v", one.account(0), one.account(7))
	}

	none := o
	none.accounts, none.accountsFile = nil, ""
	if err := none.validate(); err == nil {
		t.Error("the code scenario with no account: accepted")
	}
}

func TestWorkerAddress(t *testing.T) {
	tests := []struct {
		worker int
		want   string
	}{
		{0, "127.0.0.2"},
		{1, "127.0.0.3"},
		{249, "127.0.0.251"},
		{250, "127.0.0.2"},
		{517, "127.0.0.19"},
	}
	for _, tt := range tests {
		if got := workerAddress(tt.worker); !got.Equal(net.ParseIP(tt.want)) {
			t.Errorf("workerAddress(%d) = %s; want %s", tt.worker, got, tt.want)
		}
	}
}

func TestSpreadAddressesNeedsIPv4Loopback(t *testing.T) {
	tests := []struct {
		name   string
		issuer string
		ok     bool
	}{
		{"127.0.0.1", "http://127.0.0.1:8095", true},
		{"another IPv4 loopback address", "http://127.0.0.9:8095", true},
		{"localhost, which may be ::1", "http://localhost:8095", false},
		{"IPv6 loopback", "http://[::1]:8095", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options{issuer: tt.issuer, clientID: "bench", scenario: "client_credentials",
				duration: 1, concurrency: 4, repeat: 1, seedBatch: 1, spreadAddresses: true}
			err := o.validate()
			if tt.ok && err != nil {
				t.Errorf("validate = %v; want it accepted", err)
			}
			if !tt.ok && !errors.Is(err, errSpreadNeedsIPv4) {
				t.Errorf("validate = %v; want a refusal naming -spread-addresses", err)
			}
		})
	}
}

// TestWorkerTransports: with -spread-addresses each worker has its own
// transport, whose connections come from its address; without, one is
// shared.
func TestWorkerTransports(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		got <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.Close()
	}()

	o := options{concurrency: 3, spreadAddresses: true}
	trs := workerTransports(&o)
	if trs[0] == trs[1] || trs[1] == trs[2] {
		t.Fatal("-spread-addresses: workers share a transport")
	}
	c, err := trs[2].DialContext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if from := <-got; from != "127.0.0.4" {
		t.Errorf("worker 2 connects from %s; want 127.0.0.4", from)
	}

	o.spreadAddresses = false
	trs = workerTransports(&o)
	if trs[0] != trs[1] || trs[1] != trs[2] {
		t.Error("without -spread-addresses the workers should share one transport")
	}
}
