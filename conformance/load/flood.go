package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loginFlood posts n wrong passwords to /login at once, one request each,
// and prints how the server answered (the login page again, 401; too many
// attempts, 429; too busy, 503) and, with -pid, the server's peak resident
// memory (VmHWM) before and after: what n concurrent password checks cost
// (issue 13, point 3).
//
// Each request comes from its own loopback address (127.0.0.2 onward: all
// of 127.0.0.0/8 is this machine on Linux) and names its own unknown
// account, so that the per-address and per-account limits, which would
// refuse most of them before any hash, leave every one to the password
// check: an unknown account is checked against a dummy hash of the same
// cost, so that the answer's time says nothing of who has an account.
func loginFlood(ctx context.Context, o *options, out io.Writer) error {
	if o.floodRequests > 250*250 {
		return fmt.Errorf("-login-flood must be at most %d", 250*250)
	}
	before, err := peakRSS(o.pid)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	statuses := map[string]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range o.floodRequests {
		wg.Go(func() {
			status := floodOne(ctx, o, i, start)
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	after, err := peakRSS(o.pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "login flood against %s: %d concurrent wrong passwords, each from its own address and account, in %s\n",
		o.issuer, o.floodRequests, elapsed.Round(time.Millisecond))
	keys := make([]string, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(out, "  %-40s %d\n", k, statuses[k])
	}
	if o.pid > 0 {
		fmt.Fprintf(out, "server peak RSS (VmHWM of pid %d): %s before, %s after\n", o.pid, before, after)
	}
	return nil
}

// floodOne posts one wrong password from the i-th loopback address and
// names the answer.
func floodOne(ctx context.Context, o *options, i int, start <-chan struct{}) string {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(i/250), byte(2+i%250))}
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}).DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"email": {"flood-" + strconv.Itoa(i) + "@example.invalid"}, "password": {"not the password"}, "return": {"/"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.issuer+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return "error: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	<-start
	res, err := c.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "timeout"
		}
		return "error: " + err.Error()
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	name := map[int]string{
		http.StatusUnauthorized:       "401 login page (password checked)",
		http.StatusTooManyRequests:    "429 too many attempts",
		http.StatusServiceUnavailable: "503 busy",
	}[res.StatusCode]
	if name == "" {
		name = strconv.Itoa(res.StatusCode)
	}
	if ra := res.Header.Get("Retry-After"); ra != "" && res.StatusCode == http.StatusServiceUnavailable {
		name += ", Retry-After " + ra
	}
	return name
}

// peakRSS reads VmHWM, the peak resident set size, of process pid.
func peakRSS(pid int) (string, error) {
	if pid <= 0 {
		return "", nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "", fmt.Errorf("-pid %d: %w", pid, err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("-pid %d: no VmHWM in its status", pid)
}
