package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// rotationIssuer is the issuer relais serve names in its tokens; the
// server listens elsewhere, and tokens carry the issuer, not the port.
const rotationIssuer = "http://localhost:8080"

// kidOf reads the key id from a compact JWS header.
func kidOf(token string) string {
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	json.Unmarshal(b, &h)
	return h.Kid
}

// verifications records what the relying parties saw, by kid.
type verifications struct {
	mu       sync.Mutex
	byKid    map[string]int
	first    map[string]string // the first token of each kid, to check again at the end
	failures []string
	total    int
}

func (v *verifications) record(kind, token string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	kid := kidOf(token)
	if err != nil {
		v.failures = append(v.failures, fmt.Sprintf("%s signed by %q: %v", kind, kid, err))
		return
	}
	v.total++
	v.byKid[kid]++
	if _, ok := v.first[kid]; !ok {
		v.first[kid] = token
	}
}

func (v *verifications) count(kid string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.byKid[kid]
}

func (v *verifications) sum() (int, int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.total, len(v.failures)
}

var addedKeyRe = regexp.MustCompile(`added (ES256|RS256) key ([A-Za-z0-9_-]+)`)

// rotate runs relais keys rotate against db and returns the new kid.
func rotate(t *testing.T, db string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"keys", "rotate", "--db", db}, args...), &out, &errOut, envOf("RELAIS_SECRET_KEY", testSecretKey))
	m := addedKeyRe.FindStringSubmatch(out.String())
	if code != 0 || m == nil {
		t.Fatalf("keys rotate %v: exit %d: %s%s", args, code, out.String(), errOut.String())
	}
	return m[2]
}

var clientSecretRe = regexp.MustCompile(`(?m)^client_secret: (\S+)$`)

// registerClient runs relais clients create against db and returns the
// secret it prints once.
func registerClient(t *testing.T, db string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"clients", "create", "--db", db}, args...), &out, &errOut, noEnv)
	m := clientSecretRe.FindStringSubmatch(out.String())
	if code != 0 || m == nil {
		t.Fatalf("clients create: exit %d: %s%s", code, out.String(), errOut.String())
	}
	return m[1]
}

// TestKeysRotateWhileClientsVerifyTokens: relying parties verify every
// token they get against the JWKS with go-oidc's RemoteKeySet, which
// fetches the set again when it meets an unknown kid (OIDC Core §10.1.1),
// while relais keys rotate runs several times. No verification may fail;
// tokens signed by each key before its rotation, and by each new key
// after, must be seen. One key set serves every relying party, as a site
// would share one.
func TestKeysRotateWhileClientsVerifyTokens(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "relais.db")
	if code := run(t.Context(), []string{"migrate", "up", "--db", db}, &bytes.Buffer{}, &bytes.Buffer{}, noEnv); code != 0 {
		t.Fatalf("migrate up: exit %d", code)
	}
	server := site{clientID: "verificateur", redirect: ""}
	server.secret = registerClient(t, db, "--id", server.clientID, "--name", "Vérificateur", "--grant-type", "client_credentials",
		"--scope", "openid", "--sector-identifier", "verificateur.example.fr")
	base, _, stop := startServe(t, []string{"--db", db, "--secret-key", testSecretKey, "--issuer", rotationIssuer, "--demo"})

	ctx, cancel := context.WithCancel(t.Context())
	keySet := oidc.NewRemoteKeySet(ctx, base+"/jwks")
	verifierFor := func(clientID string) *oidc.IDTokenVerifier {
		return oidc.NewVerifier(rotationIssuer, keySet, &oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"ES256", "RS256"}})
	}
	seen := &verifications{byKid: map[string]int{}, first: map[string]string{}}

	// The person signs in once; the consent is remembered, so each code
	// flow afterwards is two requests.
	browser := newBrowser()
	person := demoPersons[0]
	verifier := "rotation-verifier-0123456789abcdefghijklmnopqrstuvw"
	authorizeCode(t, browser, base, demoSite, "openid", verifier, person.person.Email, person.password)

	var wg sync.WaitGroup
	// A server client asks for access tokens (RFC 9068 JWTs) and checks them.
	wg.Go(func() {
		v := verifierFor(server.clientID)
		for ctx.Err() == nil {
			token, err := clientCredentials(ctx, base, server)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				_, err = v.Verify(ctx, token)
			}
			seen.record("access token", token, err)
		}
	})
	// A site runs the code flow and checks ID tokens.
	wg.Go(func() {
		v := verifierFor(demoSite.clientID)
		for i := 0; ctx.Err() == nil; i++ {
			token, err := idTokenFlow(ctx, browser, base, fmt.Sprintf("%s-%08d", verifier, i))
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				_, err = v.Verify(ctx, token)
			}
			seen.record("ID token", token, err)
		}
	})
	stopClients := func() {
		cancel()
		wg.Wait()
	}
	defer stopClients()

	// waitFor polls, with a deadline, until cond holds or a verification
	// failed.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if _, failed := seen.sum(); failed > 0 {
				return
			}
			if time.Now().After(deadline) {
				stopClients()
				t.Fatalf("after 30 s, still waiting for %s", what)
			}
		}
	}

	first := activeKid(t, base, server)
	waitFor("tokens signed by the first key", func() bool { return seen.count(first) >= 10 })

	// A rotation with the default lead (1 h) publishes a key that does not
	// sign yet: the clients go on with the current key meanwhile.
	waiting := rotate(t, db)
	waitFor("the key with a lead time in the JWKS", func() bool { return published(t, base, waiting) })

	// Rotations with no lead: the new key signs after keyCacheTTL (3 s),
	// the delay Keys keeps so that no instance's cache signs with a key it
	// does not publish yet.
	kids := []string{first}
	for range 3 {
		next := rotate(t, db, "--publish-lead", "0s")
		kids = append(kids, next)
		waitFor("tokens signed by key "+next, func() bool { return seen.count(next) >= 5 })
	}
	stopClients()

	total, failed := seen.sum()
	t.Logf("%d tokens verified, signed by %d successive keys; by kid: %v", total, len(kids), seen.byKid)
	if failed > 0 {
		t.Errorf("%d verifications failed during rotation, first ones: %v", failed, seen.failures[:min(failed, 5)])
	}
	if n := seen.count(waiting); n != 0 {
		t.Errorf("%d tokens were signed by %s before its lead time", n, waiting)
	}
	for _, kid := range kids {
		if seen.count(kid) == 0 {
			t.Errorf("no token signed by %s was seen", kid)
		}
	}
	// Every retired key is still published: tokens it signed verify with
	// a relying party that has never seen it (no cached copy).
	fresh := oidc.NewRemoteKeySet(t.Context(), base+"/jwks")
	for _, kid := range kids[:len(kids)-1] {
		token, ok := seen.first[kid]
		if !ok {
			continue
		}
		if _, err := fresh.VerifySignature(t.Context(), token); err != nil {
			t.Errorf("a token signed by the retired key %s no longer verifies: %v", kid, err)
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exited with %d", code)
	}
}

// clientCredentials gets an access token for s.
func clientCredentials(ctx context.Context, base string, s site) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/token", strings.NewReader("grant_type=client_credentials&scope=openid"))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.clientID, s.secret)
	res, err := apiClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var m struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != http.StatusOK || m.AccessToken == "" {
		return "", fmt.Errorf("client credentials: %d %s", res.StatusCode, m.Error)
	}
	return m.AccessToken, nil
}

// idTokenFlow runs the code flow of the demo site for a person already
// signed in who already consented, and returns the ID token.
func idTokenFlow(ctx context.Context, browser *http.Client, base, verifier string) (string, error) {
	q := url.Values{"response_type": {"code"}, "client_id": {demoSite.clientID}, "redirect_uri": {demoSite.redirect}, "scope": {"openid"},
		"state": {"state-rotation"}, "nonce": {"nonce-rotation"}, "code_challenge": {pkceChallenge(verifier)}, "code_challenge_method": {"S256"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/authorize?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	res, err := browser.Do(req)
	if err != nil {
		return "", err
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("authorize: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {demoSite.redirect},
		"code_verifier": {verifier}}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, base+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demoSite.clientID, demoSite.secret)
	res, err = apiClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var m struct {
		IDToken string `json:"id_token"`
		Error   string `json:"error"`
	}
	json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != http.StatusOK || m.IDToken == "" {
		return "", fmt.Errorf("code exchange: %d %s", res.StatusCode, m.Error)
	}
	return m.IDToken, nil
}

// activeKid is the kid of a token the server signs now.
func activeKid(t *testing.T, base string, s site) string {
	t.Helper()
	token, err := clientCredentials(t.Context(), base, s)
	if err != nil {
		t.Fatal(err)
	}
	return kidOf(token)
}

// published says whether the JWKS at base lists kid.
func published(t *testing.T, base, kid string) bool {
	t.Helper()
	res, err := apiClient.Get(base + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid {
			return true
		}
	}
	return false
}
