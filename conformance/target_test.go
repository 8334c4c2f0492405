package conformance

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	envPrefix  = "RELAIS_CONFORMANCE_"
	envIssuer  = envPrefix + "ISSUER"
	envProfile = envPrefix + "PROFILE" // "oidc": only what OpenID Connect itself requires
)

// role names a kind of client a case needs; it is also the prefix of the
// variables that describe one in the environment (see doc.go).
type role string

const (
	roleWeb        role = ""             // confidential, client_secret_basic, code flow: the demo client
	roleFC         role = "FC_"          // FranceConnect scopes, offline_access, client_secret_post, another sector
	roleSameSector role = "SAME_SECTOR_" // a second site of the web client's sector
	rolePublic     role = "PUBLIC_"      // token_endpoint_auth_method none, public subjects
	roleService    role = "SERVICE_"     // client_credentials
	roleRS256      role = "RS256_"       // RS256 ID tokens
	roleExchanger  role = "EXCHANGE_"    // may exchange tokens (RFC 8693) towards the API client
	roleAPI        role = "API_"         // another administration's API, the exchange's audience
	roleDPoP       role = "DPOP_"        // public, registered with dpop_bound_access_tokens (RFC 9449), offline_access
)

func (r role) String() string {
	if r == roleWeb {
		return "the main client"
	}
	return strings.ToLower(strings.TrimSuffix(string(r), "_")) + " client"
}

// rp is a registered client as its site knows it.
type rp struct {
	ID, Secret, RedirectURI string
	Scopes                  []string
	AuthStyle               oauth2.AuthStyle
	Public                  bool // no secret: token_endpoint_auth_method none
}

// target is the issuer under test and what the suite may use there.
type target struct {
	issuer  string
	account Account
	clients map[role]*rp
	// person holds claims the suite knows the account has (the demo's
	// data), checked exactly; nil when the issuer is someone else's.
	person map[string]any
	// relaisRules: check Relais's own rules beyond OpenID Connect
	// (FranceConnect claims, eidas1, pairwise by default, PAR…).
	relaisRules bool
	transport   http.RoundTripper
	// demo is what relais serve --demo printed: its accounts and cases,
	// for the cases about acting for someone; empty for another issuer.
	demo string

	// signers are the keys of the clients that sign (request objects,
	// client assertions), by role; registered by registerSigners.
	signers map[role]*signer
	// decrypters are the keys of the clients that registered encryption,
	// by role; registered by registerEncrypting.
	decrypters map[role]*decrypter

	metaMu sync.Mutex
	meta   map[string]any // discovery, once fetched
}

// config is the oauth2 configuration of a client.
func (tg *target) config(c *rp, scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = c.Scopes
	}
	return &oauth2.Config{
		ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: tg.issuer + "/authorize", TokenURL: tg.issuer + "/token", AuthStyle: c.AuthStyle},
	}
}

// guard fails the test on any 5xx answer: bad input gets the protocol's
// error, never a server error (issue 4, Bad input).
type guard struct {
	base http.RoundTripper
	t    testing.TB
}

func (g guard) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := g.base.RoundTrip(r)
	if err != nil || res.StatusCode < 500 {
		return res, err
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	g.t.Errorf("%s %s answered %d: a server error is never the protocol's answer (%.200s)", r.Method, r.URL.Redacted(), res.StatusCode, body)
	return res, nil
}

// http returns a client that never follows redirects and fails t on a 5xx.
func (tg *target) http(t testing.TB) *http.Client {
	return &http.Client{
		Transport:     guard{tg.transport, t},
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ctx carries tg.http(t) for go-oidc and x/oauth2.
func (tg *target) ctx(t testing.TB) context.Context {
	return oidc.ClientContext(t.Context(), tg.http(t))
}

func (tg *target) browser(t testing.TB) *Browser { return NewBrowser(guard{tg.transport, t}) }

func newTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	return tr
}

// externalTarget describes the issuer given in the environment.
func externalTarget(t *testing.T) *target {
	tg := &target{
		issuer:      strings.TrimSuffix(os.Getenv(envIssuer), "/"),
		account:     Account{Email: os.Getenv(envPrefix + "EMAIL"), Password: os.Getenv(envPrefix + "PASSWORD")},
		clients:     map[role]*rp{},
		relaisRules: os.Getenv(envProfile) != "oidc",
		transport:   newTransport(),
	}
	for _, r := range []role{roleWeb, roleFC, roleSameSector, rolePublic, roleService, roleRS256} {
		get := func(name string) string { return os.Getenv(envPrefix + string(r) + name) }
		if get("CLIENT_ID") == "" {
			continue
		}
		c := &rp{ID: get("CLIENT_ID"), Secret: get("CLIENT_SECRET"), RedirectURI: get("REDIRECT_URI"),
			Scopes: strings.Fields(get("SCOPES")), AuthStyle: oauth2.AuthStyleInHeader}
		method := get("AUTH_METHOD")
		if method == "" && r == rolePublic {
			method = "none"
		}
		switch method {
		case "", "client_secret_basic":
		case "client_secret_post":
			c.AuthStyle = oauth2.AuthStyleInParams
		case "none":
			c.Public, c.AuthStyle = true, oauth2.AuthStyleInParams
		default:
			t.Fatalf("%s%sAUTH_METHOD=%q: use client_secret_basic, client_secret_post or none", envPrefix, r, method)
		}
		if len(c.Scopes) == 0 {
			c.Scopes = []string{"openid", "email"}
		}
		tg.clients[r] = c
	}
	if tg.clients[roleWeb] == nil || tg.account.Email == "" {
		t.Fatalf("%s is set: set %sCLIENT_ID, CLIENT_SECRET, REDIRECT_URI, EMAIL and PASSWORD too", envIssuer, envPrefix)
	}
	return tg
}

// relaisRun runs the relais binary to completion and returns its output.
func relaisRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, relaisBinary, args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("relais %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// relaisEnv is this process's environment without RELAIS_* variables (which
// would change the server's settings), plus the secret key.
func relaisEnv(t *testing.T) []string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env := []string{"RELAIS_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key)}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RELAIS_") {
			env = append(env, kv)
		}
	}
	return env
}

// registration is a client the demo lacks, as `relais clients create` flags.
type registration struct {
	role role
	rp   rp
	args []string
}

func registrations(webSector string) []registration {
	return []registration{
		{roleFC, rp{ID: "conformance-caf", RedirectURI: "http://127.0.0.1:8082/callback", AuthStyle: oauth2.AuthStyleInParams,
			Scopes: []string{"openid", "identite_pivot", "email", "offline_access"}},
			[]string{"--name", "Caisse d’allocations familiales (conformance)", "--scope", "openid identite_pivot email offline_access",
				"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--auth-method", "client_secret_post",
				"--sector-identifier", "caf.conformance.example"}},
		{roleSameSector, rp{ID: "conformance-same-sector", RedirectURI: "http://127.0.0.1:8083/callback", AuthStyle: oauth2.AuthStyleInHeader,
			Scopes: []string{"openid", "email"}},
			[]string{"--name", "Second site of the demo's sector (conformance)", "--scope", "openid email", "--sector-identifier", webSector}},
		{rolePublic, rp{ID: "conformance-public", RedirectURI: "http://127.0.0.1:8084/callback", AuthStyle: oauth2.AuthStyleInParams,
			Public: true, Scopes: []string{"openid", "email"}},
			[]string{"--name", "Public client (conformance)", "--scope", "openid email", "--grant-type", "authorization_code",
				"--auth-method", "none", "--subject-type", "public"}},
		{roleService, rp{ID: "conformance-service", AuthStyle: oauth2.AuthStyleInHeader, Scopes: []string{"conformance.read"}},
			[]string{"--name", "Server client (conformance)", "--scope", "conformance.read conformance.write",
				"--grant-type", "client_credentials", "--subject-type", "public"}},
		{roleRS256, rp{ID: "conformance-rs256", RedirectURI: "http://127.0.0.1:8085/callback", AuthStyle: oauth2.AuthStyleInHeader,
			Scopes: []string{"openid"}},
			[]string{"--name", "Older site with RS256 (conformance)", "--scope", "openid", "--id-token-alg", "RS256",
				"--sector-identifier", "rs256.conformance.example"}},
		{roleExchanger, rp{ID: "conformance-exchanger", RedirectURI: "http://127.0.0.1:8086/callback", AuthStyle: oauth2.AuthStyleInHeader,
			Scopes: []string{"openid", "profile"}},
			[]string{"--name", "Site calling another administration (conformance)", "--scope", "openid profile",
				"--grant-type", "authorization_code", "--grant-type", "urn:ietf:params:oauth:grant-type:token-exchange",
				"--exchange-audience", "conformance-api", "--procedure-area", "social", "--procedure-area", "argent",
				"--sector-identifier", "exchanger.conformance.example"}},
		{roleAPI, rp{ID: "conformance-api", AuthStyle: oauth2.AuthStyleInHeader, Scopes: []string{"openid", "profile"}},
			[]string{"--name", "Another administration's API (conformance)", "--scope", "openid profile",
				"--grant-type", "client_credentials", "--redirect-uri", "https://api.conformance.example/unused",
				"--sector-identifier", "api.conformance.example"}},
		{roleDPoP, rp{ID: "conformance-dpop", RedirectURI: "http://127.0.0.1:8087/callback", AuthStyle: oauth2.AuthStyleInParams,
			Public: true, Scopes: []string{"openid", "email", "offline_access"}},
			[]string{"--name", "Application with DPoP (conformance)", "--scope", "openid email offline_access",
				"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--auth-method", "none",
				"--subject-type", "public", "--dpop-bound-access-tokens"}},
	}
}

// demoWeb is the demo client as `relais serve --demo` prints it, and the
// scopes it is registered for.
var demoWebScopes = []string{"openid", "profile", "email"}

// demoClaims are the demo account's claims the suite checks exactly.
var demoClaims = map[string]map[string]any{
	"jeanne.lefevre@demo.example": {
		"given_name": "Jeanne Odette", "family_name": "Lefèvre", "birthdate": "1941-03-12", "gender": "female",
		"birthplace": "69123", "birthcountry": "99100", "email": "jeanne.lefevre@demo.example",
	},
}

// startRelais registers the clients the demo lacks on db, serves Relais
// with its demo data on a free port, and stops it when t ends.
func startRelais(t *testing.T, db string) *target {
	t.Helper()
	if relaisBinary == "" {
		t.Fatal("the relais binary was not built")
	}
	env := relaisEnv(t)
	relaisRun(t, env, "migrate", "up", "--db", db)

	tg := &target{clients: map[role]*rp{}, decrypters: map[role]*decrypter{}, relaisRules: true, transport: newTransport()}
	// The demo client's sector is the host of its redirect URI (OIDC Core
	// §8.1); the demo prints that URI only once serving, so the same host
	// is assumed here and checked below.
	for _, reg := range registrations("localhost") {
		args := []string{"clients", "create", "--db", db, "--id", reg.rp.ID}
		if reg.rp.RedirectURI != "" {
			args = append(args, "--redirect-uri", reg.rp.RedirectURI)
		}
		out := relaisRun(t, env, append(args, reg.args...)...)
		c := reg.rp
		if !c.Public {
			c.Secret = field(out, "client_secret:")
			if c.Secret == "" {
				t.Fatalf("relais clients create printed no client_secret:\n%s", out)
			}
		}
		tg.clients[reg.role] = &c
	}

	tg.registerSigners(t, env, db)
	tg.registerEncrypting(t, env, db)

	srv := serveRelais(t, env, db)
	tg.issuer = srv.issuer
	out := srv.stdout.String()
	web := &rp{ID: field(out, "client_id="), Secret: field(out, "client_secret="), RedirectURI: field(out, "redirect_uri="),
		Scopes: demoWebScopes, AuthStyle: oauth2.AuthStyleInHeader}
	if web.ID == "" || web.Secret == "" || web.RedirectURI == "" {
		t.Fatalf("relais serve --demo printed no demo client:\n%s", out)
	}
	if u, err := url.Parse(web.RedirectURI); err != nil || u.Hostname() != "localhost" {
		t.Fatalf("the demo client's redirect URI %q is not on localhost, the sector the same-sector client was given", web.RedirectURI)
	}
	tg.clients[roleWeb] = web
	tg.account = demoAccount(t, out, "jeanne.lefevre@demo.example")
	tg.demo = out
	tg.person = demoClaims[tg.account.Email]
	return tg
}

// field is the word after the first occurrence of label in out.
func field(out, label string) string {
	i := strings.Index(out, label)
	if i < 0 {
		return ""
	}
	f := strings.Fields(out[i+len(label):])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// demoAccount reads an account's password from the demo's table.
func demoAccount(t *testing.T, out, email string) Account {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == email {
			// Professionals acting for an organisation log in with
			// their second factor.
			return Account{Email: f[0], Password: f[1], TOTPSecret: DemoTOTPKey(out, email)}
		}
	}
	t.Fatalf("relais serve --demo printed no account %s:\n%s", email, out)
	return Account{}
}

// syncBuffer is a bytes.Buffer written by a process and read by tests.
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

type server struct {
	issuer string
	stdout *syncBuffer
}

// serveRelais starts relais serve --demo with --listen and --issuer on the
// same free port, and waits until /readyz answers.
func serveRelais(t *testing.T, env []string, db string) *server {
	t.Helper()
	var lastErr error
	// A free port can be taken by someone else between its choice and the
	// server's start: then try another.
	for range 3 {
		srv, err := tryServe(t, env, db)
		if err == nil {
			return srv
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatal(lastErr)
	return nil
}

var errPortTaken = errors.New("port taken")

func tryServe(t *testing.T, env []string, db string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return tryServeOn(t, env, db, addr, "http://"+addr)
}

// tryServeOn starts relais serve --demo listening on addr with issuer
// (another address when a proxy stands in front), and extra flags.
func tryServeOn(t *testing.T, env []string, db, addr, issuer string, extra ...string) (*server, error) {
	logPath := filepath.Join(t.TempDir(), "relais.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	stdout := &syncBuffer{}
	cmd := exec.Command(relaisBinary, append([]string{"serve", "--demo", "--listen", addr, "--issuer", issuer, "--db", db}, extra...)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start relais serve: %w", err)
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
			t.Errorf("relais serve did not stop within 20 s of SIGTERM")
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK && strings.Contains(stdout.String(), "Relais is running") {
				break
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logPath)
			if strings.Contains(string(log), "already in use") {
				return nil, errPortTaken
			}
			return nil, fmt.Errorf("relais serve exited before it was ready (%v):\n%s%s", err, stdout.String(), tail(log))
		case <-ctx.Done():
			stop()
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("relais serve was not ready on %s/readyz within 60 s:\n%s%s", issuer, stdout.String(), tail(log))
		case <-tick.C:
		}
	}
	t.Cleanup(func() {
		stop()
		if log, _ := os.ReadFile(logPath); t.Failed() && len(warnings(log)) > 0 {
			t.Logf("relais serve's warnings and errors, last lines:\n%s", tail(warnings(log)))
		}
	})
	return &server{issuer: issuer, stdout: stdout}, nil
}

// warnings keeps the log lines above INFO.
func warnings(log []byte) []byte {
	var out bytes.Buffer
	for _, l := range bytes.Split(log, []byte("\n")) {
		if bytes.Contains(l, []byte("level=WARN")) || bytes.Contains(l, []byte("level=ERROR")) {
			out.Write(l)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last 20 lines of a log, each cut to 400 bytes (fosite's
// errors carry whole stack traces).
func tail(log []byte) string {
	lines := strings.Split(strings.TrimRight(string(log), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	for i, l := range lines {
		if len(l) > 400 {
			lines[i] = l[:400] + "…"
		}
	}
	return strings.Join(lines, "\n")
}
