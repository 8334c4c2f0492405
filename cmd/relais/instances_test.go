package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// site is a relying party as the tests below drive it: a registered
// client, its secret and its redirect URI.
type site struct {
	clientID, secret, redirect string
}

// demoSite is the client relais serve --demo registers (demo.go).
var demoSite = site{clientID: demoClient.ID, secret: demoClientSecret, redirect: demoClient.RedirectURIs[0]}

// newBrowser keeps cookies and leaves redirects to the caller, like the
// tests in ui/oidc_test.go.
func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var apiClient = &http.Client{Timeout: 30 * time.Second}

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var requestField = regexp.MustCompile(`name="request" value="([^"]*)"`)

// authorizeCode runs an authorization request of s at base with browser,
// as a person would: it signs in with email and password when the login
// page comes, accepts the consent page when it comes, and returns the
// query the site's redirect URI receives.
func authorizeCode(t *testing.T, browser *http.Client, base string, s site, scope, verifier, email, password string) url.Values {
	t.Helper()
	got, err := authorize(browser, base, s, scope, verifier, email, password)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// authorize is authorizeCode for a caller that may see the server go
// away (crash_test.go): it returns what went wrong instead of failing.
func authorize(browser *http.Client, base string, s site, scope, verifier, email, password string) (url.Values, error) {
	q := authorizeQuery(s, scope, verifier)
	next := base + "/authorize?" + q.Encode()
	for step := 0; step < 8; step++ {
		res, err := browser.Get(next)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", next, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		loc := res.Header.Get("Location")
		switch {
		case res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusFound:
			if strings.HasPrefix(loc, s.redirect) {
				u, err := url.Parse(loc)
				if err != nil {
					return nil, err
				}
				got := u.Query()
				if got.Get("code") == "" || got.Get("state") != q.Get("state") {
					return nil, fmt.Errorf("the site got %q, want a code and its state", loc)
				}
				return got, nil
			}
			if strings.HasPrefix(loc, "/login?") {
				lu, _ := url.Parse(loc)
				if loc, err = submitForm(browser, base+"/login", url.Values{"email": {email}, "password": {password}, "return": {lu.Query().Get("return")}}); err != nil {
					return nil, err
				}
			}
			next = base + loc
		case res.StatusCode == http.StatusOK && requestField.Match(body):
			request := html.UnescapeString(string(requestField.FindSubmatch(body)[1]))
			loc, err := submitForm(browser, base+"/consent", url.Values{"request": {request}, "decision": {"accept"}})
			if err != nil {
				return nil, err
			}
			next = base + loc
		default:
			return nil, fmt.Errorf("GET %s: %d %q\n%.1000s", next, res.StatusCode, loc, body)
		}
	}
	return nil, fmt.Errorf("no code after 8 steps from %s", base)
}

// authorizeQuery is s's authorization request for scope, with PKCE
// (RFC 9700 §2.1.1: S256) from verifier, and a state and a nonce made of
// its first characters.
func authorizeQuery(s site, scope, verifier string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {s.clientID}, "redirect_uri": {s.redirect}, "scope": {scope},
		"state": {"state-" + verifier[:12]}, "nonce": {"nonce-" + verifier[:12]}, "code_challenge": {pkceChallenge(verifier)},
		"code_challenge_method": {"S256"}}
}

// postForm posts a page's form and returns where the answer redirects.
func postForm(t *testing.T, browser *http.Client, target string, form url.Values) string {
	t.Helper()
	loc, err := submitForm(browser, target, form)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// submitForm is postForm returning what went wrong.
func submitForm(browser *http.Client, target string, form url.Values) (string, error) {
	res, err := browser.PostForm(target, form)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", target, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("POST %s: %d, want a redirect\n%.1000s", target, res.StatusCode, body)
	}
	return res.Header.Get("Location"), nil
}

// callAPI posts form to a protocol endpoint as s, with HTTP Basic auth.
func callAPI(t *testing.T, s site, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	return postAs(t, s, endpoint, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// postAs posts body to endpoint as s, with HTTP Basic auth, and returns
// the status and the JSON answer.
func postAs(t *testing.T, s site, endpoint, contentType string, body []byte) (int, map[string]any) {
	t.Helper()
	status, m, err := post(t.Context(), s, endpoint, contentType, body)
	var notJSON *notJSONError
	switch {
	case errors.As(err, &notJSON):
		t.Error(err)
	case err != nil:
		t.Fatal(err)
	}
	return status, m
}

// notJSONError: an endpoint answered with a body that is not JSON.
type notJSONError struct {
	endpoint string
	status   int
	body     []byte
}

func (e *notJSONError) Error() string {
	return fmt.Sprintf("POST %s: %d with a body that is not JSON: %.300s", e.endpoint, e.status, e.body)
}

// postAPI is callAPI returning what went wrong: no answer, or an answer
// that is not JSON (a *notJSONError, with the status).
func postAPI(ctx context.Context, s site, endpoint string, form url.Values) (int, map[string]any, error) {
	return post(ctx, s, endpoint, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// post is postAs returning what went wrong.
func post(ctx context.Context, s site, endpoint, contentType string, body []byte) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.SetBasicAuth(url.QueryEscape(s.clientID), url.QueryEscape(s.secret))
	res, err := apiClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	m := map[string]any{}
	// RFC 7009 §2.2: a revocation answers 200 with no body.
	if len(answer) > 0 {
		if err := json.Unmarshal(answer, &m); err != nil {
			return res.StatusCode, m, &notJSONError{endpoint, res.StatusCode, answer}
		}
	}
	return res.StatusCode, m, nil
}

func mustToken(t *testing.T, what string, status int, m map[string]any) (access, refresh, id string) {
	t.Helper()
	access, _ = m["access_token"].(string)
	refresh, _ = m["refresh_token"].(string)
	id, _ = m["id_token"].(string)
	if status != http.StatusOK || access == "" {
		t.Fatalf("%s: %d %v", what, status, m)
	}
	return access, refresh, id
}

func introspectActive(t *testing.T, s site, base, token string) bool {
	t.Helper()
	status, m := callAPI(t, s, base+"/introspect", url.Values{"token": {token}})
	if status != http.StatusOK {
		t.Fatalf("introspect at %s: %d %v", base, status, m)
	}
	active, ok := m["active"].(bool)
	if !ok {
		t.Fatalf("introspect at %s: no active member: %v", base, m)
	}
	return active
}

// buildRelais compiles this command once for the test, so that the
// instances run as separate processes, as they would in production.
func buildRelais(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "relais")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// processEnv is this process's environment without RELAIS_* settings,
// plus env.
func processEnv(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RELAIS_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// instance is one relais serve process.
type instance struct {
	base   string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   func() int
	// kill sends SIGKILL, as a crash or the OOM killer would: the
	// process ends at once, whatever it was doing. It returns once the
	// process is gone.
	kill func()
}

// startProcess starts bin serve with args and waits until it listens.
// stop sends SIGTERM, as a service manager would, and returns the exit
// status. errInUse reports that the port of --listen was taken meanwhile.
func startProcess(t *testing.T, bin string, env []string, args ...string) (*instance, error) {
	t.Helper()
	return launchProcess(t, bin, env, args...).listening(t)
}

// launching is a relais serve process started, not yet known to listen.
type launching struct {
	in      *instance
	exited  chan int
	code    int
	stopped bool
}

// launchProcess starts bin serve with args and returns at once, so that
// several processes can start together (and seed, and make keys, at the
// same time); listening waits for one.
func launchProcess(t *testing.T, bin string, env []string, args ...string) *launching {
	t.Helper()
	in := &instance{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, in.stdout, in.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &launching{in: in, exited: make(chan int, 1), code: -1}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			l.exited <- 0
		case errors.As(err, &ee):
			l.exited <- ee.ExitCode()
		default:
			l.exited <- -1
		}
	}()
	in.stop = func() int {
		if l.stopped {
			return l.code
		}
		l.stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case l.code = <-l.exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			l.code = <-l.exited
			t.Errorf("relais serve did not stop within 30 s of SIGTERM: %s", in.stderr)
		}
		return l.code
	}
	in.kill = func() {
		if l.stopped {
			return
		}
		l.stopped = true
		cmd.Process.Kill()
		l.code = <-l.exited
	}
	t.Cleanup(func() { in.stop() })
	return l
}

// listening waits until the process listens, and returns it.
func (l *launching) listening(t *testing.T) (*instance, error) {
	t.Helper()
	in := l.in
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := runningRe.FindStringSubmatch(in.stdout.String()); m != nil {
			in.base = m[1]
			return in, nil
		}
		select {
		case l.code = <-l.exited:
			l.stopped = true
			if strings.Contains(in.stderr.String(), "already in use") {
				return nil, errInUse
			}
			t.Fatalf("relais serve exited with %d before listening:\n%s", l.code, in.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("relais serve did not listen within 60 s:\n%s", in.stderr)
		}
	}
}

var errInUse = errors.New("port in use")

// freeAddr returns a loopback address no one listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestTwoInstancesShareOnePostgreSQL is issue 4's statelessness test: two
// relais serve processes on one PostgreSQL database, with one secret key
// and one issuer. The person logs in on A; the site exchanges the code on
// B, refreshes on A, revokes on B; A then says the tokens are inactive.
// Nothing of this works if an instance keeps what the other needs in
// memory.
func TestTwoInstancesShareOnePostgreSQL(t *testing.T) {
	cluster := pgtest.StartCluster(t)
	db := cluster.DSN("postgres")
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"migrate", "up", "--db", db}, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("migrate up: exit %d: %s%s", code, out.String(), errOut.String())
	}
	bin := buildRelais(t)
	env := processEnv("RELAIS_SECRET_KEY=" + testSecretKey)

	// A's address must be known before it starts: it is the issuer both
	// instances name. Another program may take the port meanwhile: retry.
	var a *instance
	var issuer string
	for attempt := 0; a == nil; attempt++ {
		addr := freeAddr(t)
		issuer = "http://" + addr
		var err error
		a, err = startProcess(t, bin, env, "--listen", addr, "--issuer", issuer, "--db", db, "--demo")
		if err != nil && attempt == 3 {
			t.Fatal(err)
		}
	}
	b, err := startProcess(t, bin, env, "--listen", "127.0.0.1:0", "--issuer", issuer, "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	if a.base == b.base {
		t.Fatalf("both instances listen on %s", a.base)
	}

	ctx := t.Context()
	for _, in := range []*instance{a, b} {
		p, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, issuer), in.base)
		if err != nil {
			t.Fatalf("discovery at %s: %v", in.base, err)
		}
		var doc struct {
			TokenEndpoint string `json:"token_endpoint"`
		}
		p.Claims(&doc)
		if doc.TokenEndpoint != issuer+"/token" {
			t.Errorf("discovery at %s names the token endpoint %q, want %q", in.base, doc.TokenEndpoint, issuer+"/token")
		}
	}
	person := demoPersons[0]

	// Login and consent on A.
	browser := newBrowser()
	verifier := "two-instances-verifier-0123456789abcdefghijklmnop"
	got := authorizeCode(t, browser, a.base, demoSite, "openid profile email offline_access", verifier, person.person.Email, person.password)
	if got.Get("iss") != issuer {
		t.Errorf("the redirect carries iss %q, want %q (RFC 9207)", got.Get("iss"), issuer)
	}

	// The code exchanged on B.
	status, m := callAPI(t, demoSite, b.base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {demoSite.redirect}, "code_verifier": {verifier}})
	access1, refresh1, idToken := mustToken(t, "code exchange on B", status, m)
	if refresh1 == "" || idToken == "" {
		t.Fatalf("code exchange on B: no refresh or ID token: %v", m)
	}
	// Signed on B, checked with A's published keys: one key for both.
	verifierA := oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, a.base+"/jwks"),
		&oidc.Config{ClientID: demoSite.clientID, SupportedSigningAlgs: []string{"ES256", "RS256"}})
	idt, err := verifierA.Verify(ctx, idToken)
	if err != nil {
		t.Fatalf("the ID token B issued does not verify with A's keys: %v", err)
	}
	if idt.Nonce != "nonce-"+verifier[:12] {
		t.Errorf("ID token nonce %q", idt.Nonce)
	}

	// A second use of the code, on A, is refused.
	status, m = callAPI(t, demoSite, a.base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {demoSite.redirect}, "code_verifier": {verifier}})
	if status != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Errorf("the code used on B, used again on A: %d %v, want invalid_grant", status, m)
	}
	// That reuse revoked what the code gave (RFC 6749 §4.1.2): start again.
	verifier = "two-instances-verifier-second-0123456789abcdefghij"
	// The session made on A is in the store: B knows the person, and the
	// consent given on A, so it answers with a code at once.
	got = authorizeCode(t, browser, b.base, demoSite, "openid profile email offline_access", verifier, "", "")
	status, m = callAPI(t, demoSite, b.base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {demoSite.redirect}, "code_verifier": {verifier}})
	access1, refresh1, _ = mustToken(t, "code exchange on B", status, m)
	if !introspectActive(t, demoSite, a.base, access1) {
		t.Fatal("A says the access token B issued is inactive")
	}

	// Refresh on A.
	status, m = callAPI(t, demoSite, a.base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh1}})
	access2, refresh2, _ := mustToken(t, "refresh on A", status, m)
	if refresh2 == "" || refresh2 == refresh1 {
		t.Fatalf("refresh on A did not rotate the refresh token: %v", m)
	}
	if !introspectActive(t, demoSite, b.base, access2) {
		t.Fatal("B says the access token A issued by refresh is inactive")
	}
	if introspectActive(t, demoSite, b.base, refresh1) {
		t.Error("B says the refresh token A rotated is still active")
	}

	// Revocation on B.
	status, m = callAPI(t, demoSite, b.base+"/revoke", url.Values{"token": {refresh2}, "token_type_hint": {"refresh_token"}})
	if status != http.StatusOK {
		t.Fatalf("revoke on B: %d %v", status, m)
	}

	// Introspection on A answers inactive.
	if introspectActive(t, demoSite, a.base, refresh2) {
		t.Error("A says the refresh token revoked on B is active")
	}
	if introspectActive(t, demoSite, a.base, access2) {
		t.Error("A says the access token of the grant revoked on B is active")
	}
	status, m = callAPI(t, demoSite, a.base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh2}})
	if status != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Errorf("refresh on A with the token revoked on B: %d %v, want invalid_grant", status, m)
	}

	t.Run("tokens that are not UTF-8 get a protocol error, never a 5xx", func(t *testing.T) {
		// PostgreSQL refuses text that is not UTF-8 or holds NUL, where
		// SQLite stores any bytes: what the SQLite fuzz test cannot see.
		for _, form := range []url.Values{
			{"grant_type": {"refresh_token"}, "refresh_token": {"ory_rt_x.\xff"}},
			{"grant_type": {"refresh_token"}, "refresh_token": {"ory_rt_x.y\x00"}},
			{"grant_type": {"authorization_code"}, "code": {"ory_ac_x.\xc3\x28"}, "redirect_uri": {demoSite.redirect}, "code_verifier": {verifier}},
			{"grant_type": {"client_credentials"}, "scope": {"openid \xff"}},
		} {
			status, m := callAPI(t, demoSite, a.base+"/token", form)
			if status >= 500 || m["error"] == nil {
				t.Errorf("token %q: %d %v, want a 4xx protocol error", form.Encode(), status, m)
			}
		}
		for _, token := range []string{"ory_rt_x.\xff", "ory_at_x.\x00", "\xff.\xfe.\xfd"} {
			for _, path := range []string{"/introspect", "/revoke"} {
				status, m := callAPI(t, demoSite, a.base+path, url.Values{"token": {token}})
				if status >= 500 {
					t.Errorf("%s of %q: %d %v", path, token, status, m)
				}
			}
		}
		for _, id := range []string{"demo-site\x00", "\xff\xfe"} {
			status, m := callAPI(t, site{clientID: id, secret: "x"}, a.base+"/token", url.Values{"grant_type": {"client_credentials"}})
			if status != http.StatusUnauthorized || m["error"] != "invalid_client" {
				t.Errorf("client id %q: %d %v, want 401 invalid_client", id, status, m)
			}
		}
	})

	for name, in := range map[string]*instance{"A": a, "B": b} {
		if code := in.stop(); code != 0 {
			t.Errorf("instance %s exited with %d after SIGTERM:\n%s", name, code, in.stderr)
		}
		for line := range strings.Lines(in.stderr.String()) {
			if strings.Contains(line, "level=ERROR") {
				t.Logf("instance %s logged: %.300s", name, line)
			}
		}
	}
}
