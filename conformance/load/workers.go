package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relais-fr/relais/conformance"
)

// Who logs in, and from where. Relais limits login attempts in flight per
// account and per client address, and each person's journal is a hash
// chain, so many workers logging in one account from one address measure
// one busy person, not a deployment: -accounts gives each worker its own
// account, -spread-addresses its own loopback address.

// spreadAddresses is how many source addresses -spread-addresses uses:
// 127.0.0.2 to 127.0.0.251, as flood.go does.
const spreadAddresses = 250

// accountsError is an -accounts file that cannot be used: Line is the
// line that is not "email password", 0 when the file holds no account.
type accountsError struct {
	File string
	Line int
}

func (e *accountsError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("-accounts %s holds no account", e.File)
	}
	return fmt.Sprintf("-accounts %s, line %d: want \"email password\"", e.File, e.Line)
}

// errSpreadNeedsIPv4: -spread-addresses was given with an issuer that a
// connection from 127.0.0.x cannot reach.
var errSpreadNeedsIPv4 = errors.New("-spread-addresses connects from 127.0.0.2 onward, which reaches only an IPv4 loopback address: give the issuer as http://127.0.0.1:PORT")

// readAccounts reads the -accounts file.
func readAccounts(path string) ([]conformance.Account, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-accounts: %w", err)
	}
	defer f.Close()
	return parseAccounts(f, path)
}

// parseAccounts reads lines "email password": the email is the first word,
// the password the rest of the line without its outer spaces (it may hold
// spaces). Blank lines and lines starting with # are skipped.
func parseAccounts(r io.Reader, name string) ([]conformance.Account, error) {
	var accounts []conformance.Account
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		email, password, _ := strings.Cut(strings.ReplaceAll(line, "\t", " "), " ")
		password = strings.TrimSpace(password)
		if !strings.Contains(email, "@") || password == "" {
			return nil, &accountsError{File: name, Line: n}
		}
		accounts = append(accounts, conformance.Account{Email: email, Password: password})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("-accounts %s: %w", name, err)
	}
	if len(accounts) == 0 {
		return nil, &accountsError{File: name}
	}
	return accounts, nil
}

// accountIndex is which account worker w logs in with, for every login it
// makes.
func (o *options) accountIndex(w int) int { return w % len(o.accounts) }

func (o *options) account(w int) conformance.Account { return o.accounts[o.accountIndex(w)] }

// accountsUsed is how many distinct accounts the workers log in with.
func (o *options) accountsUsed() int { return min(len(o.accounts), o.concurrency) }

// addressesUsed is how many source addresses the workers connect from.
func (o *options) addressesUsed() int {
	if !o.spreadAddresses {
		return 1
	}
	return min(o.concurrency, spreadAddresses)
}

// workerAddress is the loopback address worker w connects from with
// -spread-addresses. 127.0.0.1 is left out: it is the address of every
// connection without the flag.
func workerAddress(w int) net.IP {
	return net.IPv4(127, 0, 0, byte(2+w%spreadAddresses))
}

// spreadAllowed refuses -spread-addresses towards anything but an IPv4
// loopback address: a connection from 127.0.0.x reaches only those.
func spreadAllowed(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("%w, not %q", errSpreadNeedsIPv4, target)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w, not %s", errSpreadNeedsIPv4, target)
	}
	return nil
}

// conn is how one worker reaches the server: through its transport alone
// (set-up, recovery) or through the timing wrapper (what is measured).
type conn struct {
	raw, timed                   *http.Client
	rawTransport, timedTransport http.RoundTripper
}

func newConn(tr http.RoundTripper, rec *recorder, all *atomic.Int64) conn {
	tm := &timing{base: tr, rec: rec, all: all}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return conn{
		raw:            &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: noRedirect},
		timed:          &http.Client{Transport: tm, Timeout: 30 * time.Second, CheckRedirect: noRedirect},
		rawTransport:   tr,
		timedTransport: tm,
	}
}

// workerTransports is the transport of each worker: one shared by all, or
// with -spread-addresses one per worker, bound to its address.
func workerTransports(o *options) []*http.Transport {
	trs := make([]*http.Transport, o.concurrency)
	if !o.spreadAddresses {
		tr := newTransport(o.concurrency)
		for w := range trs {
			trs[w] = tr
		}
		return trs
	}
	for w := range trs {
		trs[w] = newWorkerTransport(workerAddress(w))
	}
	return trs
}

// newWorkerTransport connects from local. A worker makes one request at a
// time, so two idle connections are enough: the one in use and one whose
// body is still being closed.
func newWorkerTransport(local net.IP) *http.Transport {
	tr := newTransport(1)
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: local}, Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return tr
}

// browsers hands out one browser per account and transport, so that a
// session cookie is only ever sent by the account that opened it, and a
// worker's set-up logins come from its own address.
type browsers struct {
	o     *options
	mu    sync.Mutex // a refresh worker recovering a dead family asks at once as others
	byKey map[[2]int]*conformance.Browser
}

func (bs *browsers) forWorker(w int, tr http.RoundTripper) *conformance.Browser {
	addr := 0
	if bs.o.spreadAddresses {
		addr = w % spreadAddresses
	}
	key := [2]int{bs.o.accountIndex(w), addr}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b, ok := bs.byKey[key]; ok {
		return b
	}
	if bs.byKey == nil {
		bs.byKey = map[[2]int]*conformance.Browser{}
	}
	b := conformance.NewBrowser(tr)
	bs.byKey[key] = b
	return b
}

// whoLine says who the workers are, under the table of -scenario all.
func (o *options) whoLine() string {
	from := "one address"
	if o.spreadAddresses {
		n := o.addressesUsed()
		from = fmt.Sprintf("%d loopback addresses (%s to %s)", n, workerAddress(0), workerAddress(n-1))
	}
	switch {
	case len(o.accounts) == 1:
		return fmt.Sprintf("Logins: one account (%s) for all %d workers, from %s.", o.accounts[0].Email, o.concurrency, from)
	case len(o.accounts) > o.concurrency:
		return fmt.Sprintf("Logins: %d accounts (one per worker; the first %d of the %d in -accounts), from %s.", o.accountsUsed(), o.accountsUsed(), len(o.accounts), from)
	}
	return fmt.Sprintf("Logins: %d accounts from -accounts, worker w using account w mod %d, from %s.", o.accountsUsed(), len(o.accounts), from)
}
