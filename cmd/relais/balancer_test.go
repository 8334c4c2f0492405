package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/mail"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/relais-fr/relais/conformance"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// The ports this package's balancer test may listen on: the range the
// machine that runs the tests gives it.
const firstTestPort, lastTestPort = 8120, 8139

// listenInRange listens on the first free loopback port of the test's
// range.
func listenInRange(t *testing.T) net.Listener {
	t.Helper()
	for port := firstTestPort; port <= lastTestPort; port++ {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			return ln
		}
	}
	t.Fatalf("no free port from %d to %d: stop what listens there", firstTestPort, lastTestPort)
	return nil
}

// balancer is a round-robin reverse proxy, as a load balancer in front of
// several relais instances: each request goes to the next backend,
// whatever flow it belongs to, so the consecutive steps of one flow land
// on different instances. It counts the requests each backend served,
// by the flow the test says it is driving.
type balancer struct {
	backends []*httputil.ReverseProxy
	mu       sync.Mutex
	next     int
	flow     string
	served   map[string][]int // flow → requests per backend
}

func newBalancer(bases []string) *balancer {
	b := &balancer{served: map[string][]int{}}
	for _, base := range bases {
		u, _ := url.Parse(base)
		b.backends = append(b.backends, &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			// The public host, as a balancer in front of a deployment
			// passes it: the instances see the issuer's host.
			r.Out.Host = r.In.Host
		}})
	}
	return b
}

// driving names the flow the next requests belong to.
func (b *balancer) driving(flow string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flow = flow
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	i := b.next
	b.next = (b.next + 1) % len(b.backends)
	if b.served[b.flow] == nil {
		b.served[b.flow] = make([]int, len(b.backends))
	}
	b.served[b.flow][i]++
	b.mu.Unlock()
	b.backends[i].ServeHTTP(w, r)
}

// counts is a copy of what each backend served, by flow.
func (b *balancer) counts() map[string][]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]int{}
	for flow, n := range b.served {
		out[flow] = slices.Clone(n)
	}
	return out
}

// The clients the demo lacks, registered as an operator would with
// relais clients create: a site that exchanges a person's token for
// another administration's API (RFC 8693), and that API.
const (
	balancerExchanger = "balancer-exchanger"
	balancerAPI       = "balancer-api"
	tokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	accessTokenType   = "urn:ietf:params:oauth:token-type:access_token"
)

// createClient runs relais clients create on db and returns the site.
func createClient(t *testing.T, db, id, redirect string, args ...string) site {
	t.Helper()
	code, out, stderr := runRelais(t, envOf("RELAIS_SECRET_KEY", testSecretKey),
		append([]string{"clients", "create", "--db", db, "--id", id, "--redirect-uri", redirect}, args...)...)
	m := secretRe.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("clients create %s: exit %d, %s%s", id, code, out, stderr)
	}
	return site{clientID: id, secret: m[1], redirect: redirect}
}

// TestThreeInstancesBehindABalancer is issue 19's first point: three
// relais serve processes, started together on one database, behind a
// round-robin balancer, and every flow driven through it: the code flow
// with the « Pour qui ? » page, refresh with rotation, token exchange,
// access evaluation, a representation registered and then ended, and the
// notices those acts cause, sent once by whichever instance's dispatcher
// claims them. Then the journal verifies.
//
// Scaling out is PostgreSQL's (DESIGN.md §6). Several processes on one
// SQLite file on one machine work too (WAL, a busy timeout, claims by
// version, the demo's letters taken before they are written), so the
// test runs there as well; across machines, SQLite's locks do not hold
// on a network file system, and only PostgreSQL is a deployment of
// several hosts.
func TestThreeInstancesBehindABalancer(t *testing.T) {
	bin := buildRelais(t)
	t.Run("PostgreSQL", func(t *testing.T) {
		threeInstancesBehindABalancer(t, bin, pgtest.StartCluster(t).DSN("postgres"))
	})
	t.Run("SQLite", func(t *testing.T) {
		threeInstancesBehindABalancer(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "relais.db"))
	})
}

func threeInstancesBehindABalancer(t *testing.T, bin, db string) {
	ctx := t.Context()
	if code, out, stderr := runRelais(t, noEnv, "migrate", "up", "--db", db); code != 0 {
		t.Fatalf("migrate up: exit %d: %s%s", code, out, stderr)
	}
	exchanger := createClient(t, db, balancerExchanger, "http://127.0.0.1:8086/callback",
		"--name", "Site calling another administration (balancer)", "--scope", "openid profile offline_access",
		"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--grant-type", tokenExchange,
		"--exchange-audience", balancerAPI, "--procedure-area", "social", "--procedure-area", "argent",
		"--sector-identifier", "exchanger.balancer.example")
	api := createClient(t, db, balancerAPI, "https://api.balancer.example/unused",
		"--name", "Another administration's API (balancer)", "--scope", "openid profile", "--grant-type", "client_credentials",
		"--sector-identifier", "api.balancer.example")

	relay := &mailbox{}
	smtpPort, smtpCA := startMailbox(t, relay)

	// The balancer's address is the issuer every instance names.
	front := listenInRange(t)
	issuer := "http://" + front.Addr().String()

	// The three start at once: each seeds the demo data, makes or finds
	// the signing and journal keys, and runs a notices dispatcher and the
	// demo's print service. Each has its own temporary folder.
	var ins []*instance
	var folders []string
	var started []*launching
	for attempt := 0; len(ins) < 3; attempt++ {
		if attempt == 3 {
			t.Fatal("the instances' ports were taken meanwhile three times")
		}
		for _, l := range started {
			l.in.stop()
		}
		ins, folders, started = nil, nil, nil
		var held []net.Listener
		for range 3 {
			held = append(held, listenInRange(t))
		}
		var tmp []string
		for _, ln := range held {
			addr := ln.Addr().String()
			ln.Close()
			tmp = append(tmp, t.TempDir())
			env := processEnv("RELAIS_SECRET_KEY="+testSecretKey, "RELAIS_SMTP_PASSWORD=smtp-s3cret", "TMPDIR="+tmp[len(tmp)-1])
			started = append(started, launchProcess(t, bin, env, "--listen", addr, "--issuer", issuer, "--db", db, "--demo",
				"--notice-from", "Relais (balancer)", "--notice-address", "1 rue Kervégan; 44000 Nantes", "--notice-phone", "02 40 00 00 00",
				"--smtp-host", "localhost", "--smtp-port", strconv.Itoa(smtpPort), "--smtp-user", "relais",
				"--smtp-from", "Relais <courrier@relais.example.fr>", "--smtp-ca-file", smtpCA))
		}
		for i, l := range started {
			in, err := l.listening(t)
			if err != nil {
				break // errInUse: start the three again
			}
			// Where the demo writes its letters: beside the SQLite file,
			// or in the temporary folder for PostgreSQL.
			folder := filepath.Join(tmp[i], "relais-lettres")
			if kind, _, _ := storeKind(db); kind == "sqlite" {
				folder = demoLettersDir(db)
			}
			ins, folders = append(ins, in), append(folders, folder)
		}
	}
	lb := newBalancer([]string{ins[0].base, ins[1].base, ins[2].base})
	srv := &http.Server{Handler: lb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(front)
	t.Cleanup(func() { srv.Close() })

	st, _, err := openStore(ctx, &Config{DB: db, BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Nadia gets her notices by email: the relay counts what is sent.
	confirmChannel(t, st, demoNadia, notices.Email)

	lb.driving("discovery")
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery through the balancer: %v", err)
	}
	// Started together, the three made one signing key of each
	// algorithm and one journal key between them, not one each.
	res, err := apiClient.Get(issuer + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	var jwks struct {
		Keys []struct{ Kid, Alg string }
	}
	err = json.NewDecoder(res.Body).Decode(&jwks)
	res.Body.Close()
	if err != nil {
		t.Fatalf("the JWK set: %v", err)
	}
	published := map[string]int{}
	for _, k := range jwks.Keys {
		if strings.HasPrefix(k.Kid, "journal-") {
			published["journal"]++
		} else {
			published[k.Alg]++
		}
	}
	if want := map[string]int{"ES256": 1, "RS256": 1, "journal": 1}; !maps.Equal(published, want) {
		t.Errorf("the JWK set holds %v keys, want %v", published, want)
	}
	idVerifier := func(clientID string) *oidc.IDTokenVerifier {
		return provider.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"ES256", "RS256"}})
	}
	account := func(email, forWhom string) conformance.Account {
		for _, d := range demoPersons {
			if d.person.Email == email {
				return conformance.Account{Email: email, Password: d.password, ForWhom: forWhom}
			}
		}
		t.Fatalf("no demo account %s", email)
		return conformance.Account{}
	}
	// codeFlow runs a whole authorization-code flow with PKCE for s in
	// browser, and returns the tokens and the ID token's claims.
	codeFlow := func(browser *conformance.Browser, s site, scope, verifier string, acc conformance.Account) (access, refresh string, claims map[string]any) {
		t.Helper()
		q := authorizeQuery(s, scope, verifier)
		v, err := browser.Authorize(ctx, issuer+"/authorize?"+q.Encode(), s.redirect, acc, conformance.Accept)
		if err != nil {
			t.Fatalf("authorization at %s as %s: %v", s.clientID, acc.Email, err)
		}
		if acc.ForWhom != "" && !v.ForWhomShown {
			t.Errorf("%s was not asked for whom she acts", acc.Email)
		}
		got := v.Callback.Query()
		if got.Get("code") == "" || got.Get("state") != q.Get("state") || got.Get("iss") != issuer {
			t.Fatalf("the site got %s, want a code, its state and the issuer", v.Callback)
		}
		status, m := callAPI(t, s, issuer+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
			"redirect_uri": {s.redirect}, "code_verifier": {verifier}})
		access, refresh, id := mustToken(t, "code exchange at "+s.clientID, status, m)
		idt, err := idVerifier(s.clientID).Verify(ctx, id)
		if err != nil {
			t.Fatalf("the ID token does not verify with the keys the balancer publishes: %v", err)
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims["nonce"] != q.Get("nonce") {
			t.Errorf("ID token nonce %v, want %s", claims["nonce"], q.Get("nonce"))
		}
		return access, refresh, claims
	}
	// userinfo is what the userinfo endpoint says of the token's person.
	userinfo := func(access string) map[string]any {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/userinfo", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+access)
		res, err := apiClient.Do(req)
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		defer res.Body.Close()
		m := map[string]any{}
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("userinfo: %d %v %v", res.StatusCode, err, m)
		}
		return m
	}
	// actor is a token's act claim (RFC 8693 §4.1): who acts.
	actor := func(claims map[string]any) map[string]any {
		act, _ := claims["act"].(map[string]any)
		return act
	}
	// evaluate asks base's access evaluation endpoint (AuthZEN) as the
	// demo site.
	evaluate := func(base, subject, resource, action, area string) (int, map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{
			"subject":  map[string]any{"type": "user", "id": subject},
			"resource": map[string]any{"type": "account", "id": resource, "properties": map[string]any{"procedure_area": area}},
			"action":   map[string]any{"name": action}})
		return postAs(t, demoSite, base+"/access/v1/evaluation", "application/json", body)
	}

	// The code flow: Jeanne for herself, then Marie, her tutor, choosing
	// her on « Pour qui faites-vous cette démarche ? ».
	lb.driving("code flow")
	jeanneAccess, _, jeanne := codeFlow(conformance.NewBrowser(nil), demoSite, "openid profile", "balancer-jeanne-0123456789abcdefghijklmnopqrstu",
		account("jeanne.lefevre@demo.example", ""))
	if info := userinfo(jeanneAccess); jeanne["act"] != nil || info["sub"] != jeanne["sub"] || info["given_name"] != "Jeanne Odette" {
		t.Fatalf("Jeanne for herself: act %v; userinfo %v", jeanne["act"], info)
	}
	marieBrowser := conformance.NewBrowser(nil)
	marieAccess, marieRefresh, marie := codeFlow(marieBrowser, demoSite, "openid profile offline_access",
		"balancer-marie-0123456789abcdefghijklmnopqrstuv", account("marie.martin@demo.example", "Jeanne"))
	marieAct := actor(marie)
	info := userinfo(marieAccess)
	if marie["sub"] != jeanne["sub"] || info["given_name"] != "Jeanne Odette" || marieAct["sub"] == nil || marieAct["sub"] == jeanne["sub"] ||
		marieAct["given_name"] != "Marie Claire" {
		t.Fatalf("Marie for Jeanne: sub %v (Jeanne's is %v), act %v, userinfo %v; want Jeanne's sub and names, Marie in act",
			marie["sub"], jeanne["sub"], marie["act"], info)
	}
	if rep, _ := marie["representation"].(map[string]any); rep["kind"] != "tutelle" || rep["role"] != "tuteur" {
		t.Errorf("Marie for Jeanne: representation %v, want the tutelle's tutor", marie["representation"])
	}
	if marieRefresh == "" {
		t.Fatal("Marie's code flow with offline_access gave no refresh token")
	}

	// Refresh: each refresh token is used once, the next request on
	// another instance; the first one, used again, is refused.
	lb.driving("refresh")
	refresh := marieRefresh
	for i := range 3 {
		status, m := callAPI(t, demoSite, issuer+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		access, next, _ := mustToken(t, fmt.Sprintf("refresh %d", i+1), status, m)
		if next == "" || next == refresh || access == marieAccess {
			t.Fatalf("refresh %d did not rotate: %v", i+1, m)
		}
		if !introspectActive(t, demoSite, issuer, access) {
			t.Fatalf("the access token of refresh %d is inactive", i+1)
		}
		refresh = next
	}
	status, m := callAPI(t, demoSite, issuer+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {marieRefresh}})
	if status != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Errorf("the first refresh token, used again: %d %v, want invalid_grant", status, m)
	}

	// Token exchange: Marie, for Jeanne, at a site that calls another
	// administration's API; the token it gets keeps Jeanne and nests the
	// actors.
	lb.driving("token exchange")
	exAccess, _, _ := codeFlow(marieBrowser, exchanger, "openid profile", "balancer-exchange-0123456789abcdefghijklmnopqrs",
		account("marie.martin@demo.example", "Jeanne"))
	for i := range 2 {
		status, m := callAPI(t, exchanger, issuer+"/token", url.Values{"grant_type": {tokenExchange}, "subject_token": {exAccess},
			"subject_token_type": {accessTokenType}, "audience": {api.clientID}, "scope": {"openid"}})
		if status != http.StatusOK || m["issued_token_type"] != accessTokenType {
			t.Fatalf("token exchange %d: %d %v", i+1, status, m)
		}
		status, in := callAPI(t, api, issuer+"/introspect", url.Values{"token": {m["access_token"].(string)}})
		act := actor(in)
		inner, _ := act["act"].(map[string]any)
		rep, _ := in["representation"].(map[string]any)
		if status != http.StatusOK || in["active"] != true || !audienceIs(in["aud"], api.clientID) || act["sub"] != exchanger.clientID ||
			inner["given_name"] != "Marie Claire" || rep["kind"] != "tutelle" {
			t.Errorf("the exchanged token %d, introspected by the API: %d %v; want it active, for the API, the site acting with Marie nested, under the tutelle",
				i+1, status, in)
		}
	}
	status, m = callAPI(t, exchanger, issuer+"/token", url.Values{"grant_type": {tokenExchange}, "subject_token": {exAccess},
		"subject_token_type": {accessTokenType}, "audience": {demoSite.clientID}})
	if status != http.StatusBadRequest || m["error"] != "invalid_target" {
		t.Errorf("an exchange towards an audience the site was not given: %d %v, want invalid_target", status, m)
	}

	// Access evaluation (AuthZEN): what Marie may do for Jeanne, and
	// Jeanne alone, under the default policy.
	lb.driving("evaluation")
	for _, c := range []struct {
		who, subject, action string
		want                 bool
	}{
		{"Marie", marieAct["sub"].(string), "consult", true},
		{"Marie", marieAct["sub"].(string), "dispose", true},
		{"Marie", marieAct["sub"].(string), "personal", false},
		{"Jeanne alone", jeanne["sub"].(string), "manage", false},
	} {
		status, m := evaluate(issuer, c.subject, jeanne["sub"].(string), c.action, "social")
		if status != http.StatusOK || m["decision"] != c.want {
			t.Errorf("evaluation: %s, %s for Jeanne: %d %v, want decision %t", c.who, c.action, status, m, c.want)
		}
	}

	// A representation registered by the operator through the back
	// office's API, used, then ended: every instance refuses it at once.
	lb.driving("representation")
	operator := conformance.NewBrowser(nil)
	if err := operator.Login(ctx, issuer, account("olivier.roux@demo.example", "")); err != nil {
		t.Fatal(err)
	}
	operatorCall := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, issuer+path, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		res, err := operator.HTTPClient().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		m := map[string]any{}
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %v", method, path, res.StatusCode, err)
		}
		return res.StatusCode, m
	}
	day := func(d time.Time) string { return d.Format(time.DateOnly) }
	now := time.Now().UTC()
	status, m = operatorCall(http.MethodPost, "/api/v1/measures", map[string]any{
		"kind": "tutelle", "person_email": "nadia.haddad@demo.example",
		"representatives": []any{map[string]any{"person_email": "olivier.roux@demo.example", "role": "tuteur"}},
		"valid_from":      day(now.AddDate(0, -1, 0)), "valid_until": day(now.AddDate(3, 0, 0)),
		"decision": map[string]any{"jurisdiction": "Tribunal judiciaire de Nantes", "date": day(now.AddDate(0, -1, -7)),
			"reference": "RG 26/01919"}})
	reps, _ := m["representations"].([]any)
	if status != http.StatusCreated || len(reps) != 1 {
		t.Fatalf("registering a tutelle: %d %v", status, m)
	}
	created, _ := reps[0].(map[string]any)
	repID, _ := created["id"].(string)
	olivierAccess, olivierRefresh, olivier := codeFlow(operator, demoSite, "openid profile offline_access",
		"balancer-olivier-0123456789abcdefghijklmnopqrst", account("olivier.roux@demo.example", "Nadia"))
	if rep, _ := olivier["representation"].(map[string]any); rep["id"] != repID || olivierRefresh == "" {
		t.Fatalf("Olivier for Nadia: representation %v, refresh token %t; want the tutelle %s and a refresh token",
			olivier["representation"], olivierRefresh != "", repID)
	}
	olivierSub, _ := actor(olivier)["sub"].(string)
	nadiaSub, _ := olivier["sub"].(string)
	if status, m := evaluate(issuer, olivierSub, nadiaSub, "manage", "social"); status != http.StatusOK || m["decision"] != true {
		t.Fatalf("evaluation for Olivier acting for Nadia before the end: %d %v, want true", status, m)
	}
	status, m = operatorCall(http.MethodPost, "/api/v1/representations/"+repID+"/end",
		map[string]any{"version": created["version"], "reason": "mainlevée de la mesure par le juge"})
	if status != http.StatusOK || m["status"] != "revoked" {
		t.Fatalf("ending the tutelle: %d %v, want it revoked", status, m)
	}
	for i, in := range ins {
		if introspectActive(t, demoSite, in.base, olivierAccess) {
			t.Errorf("instance %d says the access token of the ended tutelle is active", i+1)
		}
		status, m := callAPI(t, demoSite, in.base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {olivierRefresh}})
		if status != http.StatusBadRequest || m["error"] != "invalid_grant" {
			t.Errorf("instance %d refreshes under the ended tutelle: %d %v, want invalid_grant", i+1, status, m)
		}
		if status, m := evaluate(in.base, olivierSub, nadiaSub, "manage", "social"); status != http.StatusOK || m["decision"] != false {
			t.Errorf("instance %d evaluates Olivier acting for Nadia after the end: %d %v, want false", i+1, status, m)
		}
	}

	// The notices of the acts: Nadia's by email, each sent once by one of
	// the three dispatchers (she is told of the tutelle registered, of its
	// first use at a site, and of its end); the others' on paper, each
	// written once by one of the demo's print services (Jeanne is told of
	// Marie's first act for her at each site).
	lb.driving("after")
	wantNotices := []string{"representation.created", "representation.revoked", "site.first_act"}
	var emails, letters []notices.Notice
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var all []notices.Notice
		for _, about := range []string{demoNadia, demoJeanne, demoOperator} {
			of, err := st.NoticesOf(ctx, about, 50)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, of...)
		}
		emails, letters = emails[:0], letters[:0]
		done := 0
		for _, n := range all {
			switch {
			case n.Channel == notices.Email:
				emails = append(emails, n)
			case n.Channel == notices.Paper:
				letters = append(letters, n)
			default:
				continue
			}
			if n.Status == notices.Sent || n.Status == notices.HandedOver {
				done++
			}
		}
		if len(emails) == len(wantNotices) && len(letters) > 0 && done == len(emails)+len(letters) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 45 s, %d of the %d notices about Nadia, Jeanne and Olivier sent or printed, want %d emails to Nadia and letters: %+v",
				done, len(emails)+len(letters), len(wantNotices), all)
		}
	}
	var kinds []string
	for _, n := range emails {
		kinds = append(kinds, string(n.Kind))
	}
	if slices.Sort(kinds); !slices.Equal(kinds, wantNotices) {
		t.Errorf("Nadia's email notices are %v, want %v", kinds, wantNotices)
	}
	for i, in := range ins {
		if code := in.stop(); code != 0 {
			t.Errorf("instance %d exited with %d after SIGTERM:\n%s", i+1, code, in.stderr)
		}
	}
	// Every dispatcher has stopped: what the relay holds is all it will get.
	relay.mu.Lock()
	got := map[string]int{}
	for _, raw := range relay.got {
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		got[msg.Header.Get("Message-Id")]++
	}
	relay.mu.Unlock()
	for _, n := range emails {
		for id, count := range got {
			if strings.Contains(id, n.ID) {
				if count != 1 {
					t.Errorf("the notice %s was emailed %d times, want once", n.ID, count)
				}
				delete(got, id)
			}
		}
	}
	if len(got) != 0 {
		t.Errorf("the relay got emails of no email notice, or one notice under two Message-IDs: %v", got)
	}
	// The demo's print services: each letter written once, by one
	// instance. Each file in the letters folders (one, shared, beside the
	// SQLite file; one per instance for PostgreSQL) is a letter.
	wanted := map[string]bool{}
	for _, n := range letters {
		wanted[n.ID+".pdf"] = true
	}
	files := map[string]int{}
	var printed []int
	for i, in := range ins {
		printed = append(printed, strings.Count(in.stdout.String(), "Lettre de démonstration écrite pour"))
		if i > 0 && folders[i] == folders[0] {
			continue
		}
		pdfs, err := filepath.Glob(filepath.Join(folders[i], "*.pdf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range pdfs {
			files[filepath.Base(f)]++
		}
	}
	for name, n := range files {
		if n != 1 || !wanted[name] {
			t.Errorf("the letter %s was written %d times, want once (and only the letters of the notices: %v)", name, n, wanted)
		}
	}
	if len(files) != len(wanted) {
		t.Errorf("%d letters written, want the %d of the notices", len(files), len(wanted))
	}
	t.Logf("notices: %d emails, each sent once; %d letters, each written once; letters written by instance: %v", len(emails), len(letters), printed)

	counts := lb.counts()
	for _, flow := range []string{"code flow", "refresh", "token exchange", "evaluation", "representation"} {
		t.Logf("%-15s requests per instance: %v", flow, counts[flow])
		for i, n := range counts[flow] {
			if n == 0 {
				t.Errorf("instance %d served no request of the %s", i+1, flow)
			}
		}
		if len(counts[flow]) != len(ins) {
			t.Errorf("the %s went to %d instances, want %d", flow, len(counts[flow]), len(ins))
		}
	}

	// What the three journaled, interleaved, is one journal: a checkpoint
	// signs it and it verifies.
	env := envOf("RELAIS_SECRET_KEY", testSecretKey)
	if code, out, stderr := runRelais(t, env, "journal", "checkpoint", "--db", db); code != 0 {
		t.Fatalf("journal checkpoint after the three instances: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr := runRelais(t, env, "journal", "verify", "--db", db)
	if code != 0 || !strings.Contains(out, "0 entries not yet covered by a checkpoint") {
		t.Fatalf("journal verify after the three instances: exit %d\n%s%s", code, out, stderr)
	}
	t.Logf("journal verify: %s", strings.TrimSpace(out))
}

// audienceIs says whether aud, a string or a list (RFC 7519 §4.1.3), is
// only want.
func audienceIs(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return len(a) == 1 && a[0] == want
	}
	return false
}
