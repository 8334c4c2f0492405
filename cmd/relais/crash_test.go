package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql for the invariants no store method reads

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// TestKillNineUnderLoad is issue 19's crash consistency: relais serve on
// each store, under a mixed load of writes (logins and tokens, refreshes,
// client tokens, access evaluations, measures registered and ended, the
// notices they queue), is killed with SIGKILL three times, each time
// after a random number of acknowledged writes, and started again on the
// same store. Afterwards nothing is half-written (a representation
// without its journal entries or its notices, a refresh token without
// its grant), every write the load was acknowledged is there, the
// notices the killed processes had claimed are sent by the last one once
// their lease ends (each at most once per process, as docs/notices.md
// promises: a second send only from another process, after a lease ran
// out), and the journal verifies.
func TestKillNineUnderLoad(t *testing.T) {
	bin := buildRelais(t)
	t.Run("sqlite", func(t *testing.T) {
		crashRounds(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "relais.db"), "127.0.0.1:8141", "127.0.0.1:8143")
	})
	t.Run("postgres", func(t *testing.T) {
		db := pgtest.StartCluster(t).DSN("postgres")
		var out, errOut bytes.Buffer
		if code := run(t.Context(), []string{"migrate", "up", "--db", db}, &out, &errOut, noEnv); code != 0 {
			t.Fatalf("migrate up: exit %d: %s%s", code, out.String(), errOut.String())
		}
		crashRounds(t, bin, db, "127.0.0.1:8142", "127.0.0.1:8144")
	})
}

// The kills, and the notice lease that lets the next process send what a
// killed one had claimed within the test's time.
const (
	crashKills       = 3
	crashNoticeLease = minNoticeLease
)

// The demo's people the load works with: two sign in at the demo site
// for themselves; the operator registers tutelles for Fatima or Yvette
// with Marie as tutor, and ends some. The three chose SMS, so each
// measure queues texts for the outbox beside its letters.
var (
	crashSigners    = []string{demoJeanne, demoPaul}
	crashProtected  = []string{demoFatima, demoYvette}
	crashSMS        = append([]string{demoMarie}, crashProtected...)
	crashOperatorID = "0193a000-0000-7000-8000-000000000009"
)

// crashRounds runs the rounds with relais serve on addr and the SMS
// gateway on gwAddr.
func crashRounds(t *testing.T, bin, db, addr, gwAddr string) {
	ctx := t.Context()
	gw := &smsLives{got: map[string][]int{}}
	gateway := httptest.NewUnstartedServer(gw)
	gateway.Config.ConnState = gw.connState
	ln, err := net.Listen("tcp", gwAddr)
	if err != nil {
		t.Fatalf("the SMS gateway cannot listen on %s: %v", gwAddr, err)
	}
	gateway.Listener.Close()
	gateway.Listener = ln
	gateway.Start()
	defer gateway.Close()
	env := processEnv("RELAIS_SECRET_KEY="+testSecretKey, "RELAIS_SMS_TOKEN=gw-token", "TMPDIR="+t.TempDir())
	args := []string{"--listen", addr, "--issuer", "http://" + addr, "--db", db, "--demo", "--sms-url", gateway.URL + "/send",
		"--notice-lease", crashNoticeLease.String(), "--notice-interval", "1s"}
	start := func() *instance {
		in, err := startProcess(t, bin, env, args...)
		if err != nil {
			t.Fatalf("relais serve on %s: %v (another program holds the port)", addr, err)
		}
		return in
	}

	load := &crashLoad{reps: map[string]*ackedRep{}, evaluated: map[string]int{}}
	var in *instance
	claimed := map[string]bool{} // notices a killed process held
	var killedAt time.Time
	for life := 0; life <= crashKills; life++ {
		in = start()
		// The test opens the store only while a process runs, and closes
		// it before the kill: a SQLite connection of its own, open across
		// the kill, would spare the next process the WAL's recovery.
		withStore(t, db, func(st store) {
			if life == 0 {
				// The demo people exist once the first process loaded them.
				for _, id := range crashSMS {
					confirmChannel(t, st, id, notices.SMS)
				}
				return
			}
			// What the killed process had claimed and not recorded: its
			// leases, which end by killedAt plus the lease (this process's
			// end later), must run out, and this process send it.
			for _, n := range crashNotices(t, st) {
				if n.Status == notices.Pending && n.LeaseUntil.After(time.Now()) && !n.LeaseUntil.After(killedAt.Add(crashNoticeLease)) {
					claimed[n.ID] = true
				}
			}
		})
		lctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for i, person := range crashSigners {
			password := demoPersons[personIndex(t, person)].password
			load.running.Add(1)
			wg.Go(func() {
				defer load.running.Add(-1)
				load.signIn(lctx, in.base, person, password, i)
			})
		}
		for i := range 2 {
			load.running.Add(1)
			wg.Go(func() {
				defer load.running.Add(-1)
				load.registerMeasures(lctx, in.base, i)
			})
		}
		// A random moment under load: after 15 to 45 more acknowledged
		// writes, 4 to 9 of them the sign-in workers'.
		target, signed := load.acked.Load()+15+randN(31), load.signed.Load()+4+randN(6)
		waitFor(t, fmt.Sprintf("%d acknowledged writes, %d of the sign-ins, in life %d", target, signed, life), func() bool {
			if load.acked.Load() >= target && load.signed.Load() >= signed {
				return true
			}
			if load.running.Load() == 0 {
				load.mu.Lock()
				defer load.mu.Unlock()
				t.Fatalf("the load stopped in life %d before the kill, on:\n%s\nrelais said:\n%.3000s", life, strings.Join(load.stops, "\n"), in.stderr)
			}
			return false
		})
		if life < crashKills {
			in.kill()
			killedAt = time.Now()
			// The killed process's connections to the gateway close with
			// it; what comes after is the next process's.
			waitFor(t, "the killed process's connections to the gateway closed", func() bool { return gw.open.Load() == 0 })
			gw.nextLife()
		}
		stop()
		wg.Wait()
	}

	// The last process: what the load was acknowledged is there and in
	// force, and the outbox, once the killed processes' leases ran out,
	// sends every text.
	load.checkTokens(t, in.base)
	st := openCrashStore(t, db)
	waitFor(t, "every text sent", func() bool {
		pending := 0
		for _, n := range crashNotices(t, st) {
			if n.Channel == notices.SMS && n.Status != notices.Sent {
				pending++
			}
		}
		return pending == 0
	})
	if code := in.stop(); code != 0 {
		t.Errorf("the last relais serve exited with %d after SIGTERM:\n%s", code, in.stderr)
	}

	checkRepresentations(t, st, load)
	issued := 0
	for _, person := range crashSigners {
		for _, e := range chainEntries(t, st, person) {
			if e.Type == mandates.EventTokenIssued {
				issued++
			}
		}
	}
	checkGrants(t, st, db, issued, load.doubtful)
	load.checkEvaluations(t, st)
	sent := checkTexts(t, st, gw)
	for id := range claimed {
		if n, err := st.Notice(ctx, id); err != nil || n.Status != notices.Sent {
			t.Errorf("notice %s, claimed by a killed process, is %s (%v) after the last start", id, n.Status, err)
		}
	}

	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "journal", "verify", "--db", db)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("relais journal verify after %d kills: %v\n%s", crashKills, err, out.String())
	}
	load.mu.Lock()
	defer load.mu.Unlock()
	for _, why := range load.refused {
		t.Errorf("a live relais serve did not answer the load as expected: %s", why)
	}
	ended := 0
	for _, r := range load.reps {
		if r.ended {
			ended++
		}
	}
	t.Logf("%d kills; acknowledged and checked: %d measures registered, %d ended, %d grants live, %d grants whose last refresh had no answer, "+
		"%d client tokens, %d evaluations; %d texts sent, %d of them after the last start, %d held by a killed process's claim, %d sent twice (once by a killed process); journal verify: %s",
		crashKills, len(load.reps), ended, len(load.grants), len(load.doubtful), len(load.clientTokens), load.evaluations(),
		sent.total, sent.lastLife, len(claimed), sent.twice, strings.TrimSpace(out.String()))
}

func randN(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n)) // crypto/rand never fails (Go 1.24+)
	return v.Int64()
}

func personIndex(t *testing.T, id string) int {
	t.Helper()
	i := slices.IndexFunc(demoPersons, func(d demoPerson) bool { return d.person.ID == id })
	if i < 0 {
		t.Fatalf("no demo person %s", id)
	}
	return i
}

// withStore runs fn with the store the processes share, then closes it.
func withStore(t *testing.T, db string, fn func(store)) {
	t.Helper()
	st, _, err := openStore(t.Context(), &Config{DB: db, BusyTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fn(st)
}

// openCrashStore opens the store the processes share, through the store
// packages, until the test ends.
func openCrashStore(t *testing.T, db string) store {
	t.Helper()
	st, _, err := openStore(t.Context(), &Config{DB: db, BusyTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// smsLives is an SMS gateway that notes, for each Idempotency-Key, the
// life of relais (0 before the first kill, 1 after it…) that sent it.
type smsLives struct {
	open atomic.Int64 // connections open

	mu   sync.Mutex
	life int
	got  map[string][]int
}

func (g *smsLives) connState(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		g.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		g.open.Add(-1)
	}
}

func (g *smsLives) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b map[string]any
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	// Taken as it arrives, whether or not the sender lives to hear the
	// answer.
	g.mu.Lock()
	key := r.Header.Get("Idempotency-Key")
	g.got[key] = append(g.got[key], g.life)
	g.mu.Unlock()
	// A gateway's latency: a batch of sends takes a while, so a kill
	// finds claims held, and sometimes a text sent and not yet recorded.
	select {
	case <-time.After(30 * time.Millisecond):
		w.WriteHeader(http.StatusAccepted)
	case <-r.Context().Done():
	}
}

// nextLife is called once a killed process is gone: what arrives after
// comes from the next.
func (g *smsLives) nextLife() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.life++
}

// crashLoad is the load and what it was acknowledged.
type crashLoad struct {
	acked   atomic.Int64
	signed  atomic.Int64 // of which, the sign-in workers'
	running atomic.Int32 // workers still running

	mu           sync.Mutex
	reps         map[string]*ackedRep
	grants       []ackedGrant
	doubtful     []string // refresh tokens sent without an answer: the grant may have rotated or not
	clientTokens []string
	evaluated    map[string]int // by person
	stops        []string       // why each worker stopped, for a failure's message
	refused      []string       // answers that were not the one expected: never a kill's doing
}

// stopped notes why a worker stopped: a kill (no answer, status 0), or
// an answer other than the one expected, which a live process gave.
func (l *crashLoad) stopped(what string, status int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	why := fmt.Sprintf("%s: %d %v", what, status, err)
	l.stops = append(l.stops, why)
	if status != 0 {
		l.refused = append(l.refused, why)
	}
}

type ackedRep struct {
	person string
	ended  bool
}

// ackedGrant is the last token answer of a grant that the load did not
// use after: its access and refresh tokens must be in force.
type ackedGrant struct {
	person, access, refresh string
}

func (l *crashLoad) ack(fn func()) {
	l.mu.Lock()
	fn()
	l.mu.Unlock()
	l.acked.Add(1)
}

func (l *crashLoad) ackSigned(fn func()) {
	l.signed.Add(1)
	l.ack(fn)
}

func (l *crashLoad) evaluations() int {
	n := 0
	for _, v := range l.evaluated {
		n += v
	}
	return n
}

// signIn is a person using the demo site over and over: sign in (once per
// browser; the session outlives the processes, it is in the store),
// exchange the code, refresh, have an act evaluated, and the site's own
// client token. It stops with ctx, or at the first answer missing.
func (l *crashLoad) signIn(ctx context.Context, base, person, password string, worker int) {
	browser := newBrowser()
	var g *ackedGrant
	var sub string
	for n := 0; ctx.Err() == nil; n++ {
		if g == nil {
			verifier := fmt.Sprintf("crash-%d-%d-%s", worker, n, randomHex(24)) // RFC 7636 §4.1: 43 to 128 characters
			got, err := authorize(browser, base, demoSite, "openid offline_access", verifier, emailOf(person), password)
			if err != nil {
				l.stopped("authorize", 0, err)
				return
			}
			status, m, err := postAPI(ctx, demoSite, base+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
				"redirect_uri": {demoSite.redirect}, "code_verifier": {verifier}})
			if err != nil || status != http.StatusOK {
				l.stopped("code exchange", status, fmt.Errorf("%w; %v", err, m))
				return
			}
			g = &ackedGrant{person: person, access: stringOf(m["access_token"]), refresh: stringOf(m["refresh_token"])}
			sub = idTokenSub(stringOf(m["id_token"]))
			l.ackSigned(func() {})
		}
		status, m, err := postAPI(ctx, demoSite, base+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.refresh}})
		if err != nil || status != http.StatusOK {
			// Sent, perhaps done, not acknowledged: the grant is in doubt.
			l.stopped("refresh", status, fmt.Errorf("%w; %v", err, m))
			l.mu.Lock()
			l.doubtful = append(l.doubtful, g.refresh)
			l.mu.Unlock()
			return
		}
		g.access, g.refresh = stringOf(m["access_token"]), stringOf(m["refresh_token"])
		l.ackSigned(func() {})
		if n%3 == 2 {
			// A new grant next time, this one kept as acknowledged.
			l.keep(g)
			g = nil
		}
		// Three at once: the journal's group commit writes them together.
		var evaluated atomic.Int32
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if l.evaluate(ctx, base, person, sub) {
					evaluated.Add(1)
				}
			})
		}
		wg.Wait()
		if evaluated.Load() != 3 {
			l.keep(g)
			return
		}
		status, m, err = postAPI(ctx, demoSite, base+"/token", url.Values{"grant_type": {"client_credentials"}})
		if err != nil || status != http.StatusOK {
			l.stopped("client credentials", status, fmt.Errorf("%w; %v", err, m))
			l.keep(g)
			return
		}
		l.ackSigned(func() { l.clientTokens = append(l.clientTokens, stringOf(m["access_token"])) })
	}
	l.keep(g)
}

// keep notes g's tokens as the last the load was given for it.
func (l *crashLoad) keep(g *ackedGrant) {
	if g == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.grants = append(l.grants, *g)
}

// evaluate asks the access evaluation endpoint whether the person may
// consult their own account; the answer comes once its journal entry is
// committed (journal.Batcher).
func (l *crashLoad) evaluate(ctx context.Context, base, person, sub string) bool {
	body := map[string]any{
		"subject":  map[string]any{"type": "user", "id": sub},
		"resource": map[string]any{"type": "account", "id": sub, "properties": map[string]any{"procedure_area": "social"}},
		"action":   map[string]any{"name": string(mandates.Consult)},
	}
	status, m, err := sendJSON(ctx, apiClient, http.MethodPost, base+"/access/v1/evaluation", &demoSite, body)
	if err != nil || status != http.StatusOK || m["decision"] == nil {
		l.stopped("evaluation", status, fmt.Errorf("%w; %v", err, m))
		return false
	}
	l.ackSigned(func() { l.evaluated[person]++ })
	return true
}

// registerMeasures is an operator registering tutelles through the
// back-office API and ending one in two.
func (l *crashLoad) registerMeasures(ctx context.Context, base string, worker int) {
	browser := newBrowser()
	op := demoPersons[slices.IndexFunc(demoPersons, func(d demoPerson) bool { return d.person.ID == crashOperatorID })]
	if _, err := submitForm(browser, base+"/login", url.Values{"email": {op.person.Email}, "password": {op.password}, "return": {"/operateur"}}); err != nil {
		l.stopped("operator login", 0, err)
		return
	}
	day := func(d time.Time) string { return d.Format("2006-01-02") }
	for n := 0; ctx.Err() == nil; n++ {
		person := crashProtected[(worker+n)%len(crashProtected)]
		now := time.Now().UTC()
		status, m, err := sendJSON(ctx, browser, http.MethodPost, base+"/api/v1/measures", nil, map[string]any{
			"kind": "tutelle", "person_id": person,
			"representatives": []any{map[string]any{"person_id": demoMarie, "role": "tuteur"}},
			"valid_from":      day(now.AddDate(0, 0, -1)), "valid_until": day(now.AddDate(2, 0, 0)),
			"decision": map[string]any{"jurisdiction": "Tribunal judiciaire de Nantes", "date": day(now.AddDate(0, 0, -7)),
				"reference": "RG crash " + randomHex(8)}})
		reps, _ := m["representations"].([]any)
		if err != nil || status != http.StatusCreated || len(reps) != 1 {
			l.stopped("register", status, fmt.Errorf("%w; %v", err, m))
			return
		}
		rep, _ := reps[0].(map[string]any)
		id := stringOf(rep["id"])
		l.ack(func() { l.reps[id] = &ackedRep{person: person} })
		if n%2 == 1 {
			continue
		}
		status, m, err = sendJSON(ctx, browser, http.MethodPost, base+"/api/v1/representations/"+id+"/end", nil,
			map[string]any{"version": rep["version"], "reason": "mainlevée de la mesure"})
		if err != nil || status != http.StatusOK {
			l.stopped("end", status, fmt.Errorf("%w; %v", err, m))
			return
		}
		l.ack(func() { l.reps[id].ended = true })
	}
}

// sendJSON sends body as JSON with c, as the site s (HTTP Basic) when s
// is given, and reads the JSON answer.
func sendJSON(ctx context.Context, c *http.Client, method, target string, s *site, body any) (int, map[string]any, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if s != nil {
		req.SetBasicAuth(url.QueryEscape(s.clientID), url.QueryEscape(s.secret))
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	m := map[string]any{}
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, m, err
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return res.StatusCode, m, &notJSONError{target, res.StatusCode, raw}
		}
	}
	return res.StatusCode, m, nil
}

func stringOf(v any) string { s, _ := v.(string); return s }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func emailOf(id string) string {
	for _, d := range demoPersons {
		if d.person.ID == id {
			return d.person.Email
		}
	}
	return ""
}

// idTokenSub reads an ID token's sub without verifying it: the test
// reads its own token from the process it started.
func idTokenSub(idToken string) string {
	tok, err := jwt.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return ""
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return ""
	}
	return c.Subject
}

// checkTokens: the last tokens of each grant the load was answered for,
// and every client token, are in force on the last process.
func (l *crashLoad) checkTokens(t *testing.T, base string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.grants) == 0 || len(l.clientTokens) == 0 {
		t.Fatalf("the load was answered for %d grants and %d client tokens; want some of each; the workers stopped on:\n%s",
			len(l.grants), len(l.clientTokens), strings.Join(l.stops, "\n"))
	}
	for _, g := range l.grants {
		if !introspectActive(t, demoSite, base, g.access) || !introspectActive(t, demoSite, base, g.refresh) {
			t.Errorf("%s's grant: the last tokens the site was given are not in force after the kills", g.person)
		}
	}
	for i, tok := range l.clientTokens {
		if !introspectActive(t, demoSite, base, tok) {
			t.Errorf("client token %d of %d, acknowledged, is not in force after the kills", i+1, len(l.clientTokens))
		}
	}
}

// crashNotices are the notices about the people the load registers
// measures for, and those the signers' logins may cause.
func crashNotices(t *testing.T, st store) []notices.Notice {
	t.Helper()
	var all []notices.Notice
	for _, id := range append(slices.Clone(crashProtected), crashSigners...) {
		ns, err := st.NoticesOf(t.Context(), id, 100000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ns...)
	}
	return all
}

// chainEntries are the entries of the person's journal.
func chainEntries(t *testing.T, st store, chain string) []journal.Stored {
	t.Helper()
	var out []journal.Stored
	if err := st.JournalEntries(t.Context(), chain, func(e journal.Stored) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkRepresentations: every measure the load was answered for is
// stored (ended when the end was answered); every measure stored for
// the people it registers for has, for each change of its history, its
// journal entry and a text to the person and to the tutor; and no
// journal entry or notice names a change that is not stored.
func checkRepresentations(t *testing.T, st store, l *crashLoad) {
	t.Helper()
	ctx := t.Context()
	demo := map[string]bool{}
	for _, r := range demoRepresentations(time.Now()) {
		demo[r.ID] = true
	}
	type change struct {
		rep string
		typ mandates.EventType
	}
	history, entries, texts := map[change]int{}, map[change]int{}, map[change]map[string]int{}
	stored := map[string]mandates.Representation{}
	for _, person := range crashProtected {
		reps, err := st.RepresentationsOf(ctx, person)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			if demo[r.ID] {
				continue
			}
			full, err := st.Representation(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			stored[r.ID] = full
			for _, c := range full.History {
				history[change{r.ID, c.Type}]++
			}
		}
		for _, e := range chainEntries(t, st, person) {
			if strings.HasPrefix(string(e.Type), "representation.") && e.RepresentationID != "" && !demo[e.RepresentationID] {
				entries[change{e.RepresentationID, e.Type}]++
			}
		}
	}
	for _, n := range crashNotices(t, st) {
		c := change{n.Data["representation_id"], n.Kind}
		if c.rep == "" || demo[c.rep] || n.Channel != notices.SMS {
			continue
		}
		if texts[c] == nil {
			texts[c] = map[string]int{}
		}
		texts[c][n.RecipientID]++
	}
	l.mu.Lock()
	for id, a := range l.reps {
		r, ok := stored[id]
		switch {
		case !ok:
			t.Errorf("measure %s was answered 201 and is not stored", id)
		case a.ended && r.Status != mandates.StatusRevoked:
			t.Errorf("measure %s: its end was answered 200, and it is %s", id, r.Status)
		}
	}
	l.mu.Unlock()
	for c, n := range history {
		if entries[c] != n {
			t.Errorf("measure %s: %d changes %s in its history, %d in the journal", c.rep, n, c.typ, entries[c])
		}
		r := stored[c.rep]
		for _, to := range []string{r.PersonID, r.Representative.PersonID} {
			if texts[c][to] != n {
				t.Errorf("measure %s: %d changes %s, %d texts to %s", c.rep, n, c.typ, texts[c][to], to)
			}
		}
	}
	for c, n := range entries {
		if history[c] == 0 {
			t.Errorf("the journal has %d entries %s for measure %s, which is not stored so", n, c.typ, c.rep)
		}
	}
	for c := range texts {
		if history[c] == 0 {
			t.Errorf("texts about %s of measure %s, which is not stored so", c.typ, c.rep)
		}
	}
	if len(history) == 0 {
		t.Error("no measure was stored: the load did not run")
	}
}

// checkGrants reads the tokens table, which no store method lists: a
// refresh token in force has its grant (the access token issued with it)
// and is the only one in force of that grant; every token holds its
// session; each refresh token (every grant of the load asks for
// offline_access) was issued with its token.issued entry. A refresh
// sent without an answer (doubtful) was done or not, never half: its
// grant has one refresh token in force, the old one or its successor.
func checkGrants(t *testing.T, st store, db string, issued int, doubtful []string) {
	t.Helper()
	driver, dsn := "pgx", db
	if kind, path, _ := storeKind(db); kind == "sqlite" {
		driver, dsn = "sqlite", path
	}
	conn, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct{ what, query string }{
		{"refresh tokens in force without an access token of their grant",
			`SELECT count(*) FROM oauth_tokens r WHERE r.kind = 'refresh' AND r.active = true
			 AND NOT EXISTS (SELECT 1 FROM oauth_tokens a WHERE a.kind = 'access' AND a.request_id = r.request_id)`},
		{"grants with two refresh tokens in force",
			`SELECT count(*) FROM (SELECT request_id FROM oauth_tokens WHERE kind = 'refresh' AND active = true
			 GROUP BY request_id HAVING count(*) > 1) g`},
		{"tokens without their session", `SELECT count(*) FROM oauth_tokens WHERE length(request) = 0`},
	} {
		var n int
		if err := conn.QueryRowContext(t.Context(), c.query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, c.what)
		}
	}
	for _, tok := range doubtful {
		// fosite stores a token by its signature, after the dot.
		rec, err := st.Token(t.Context(), oauth.KindRefreshToken, tok[strings.LastIndex(tok, ".")+1:])
		if err != nil {
			t.Errorf("a refresh token the load was given is not stored: %v", err)
			continue
		}
		var n int
		if err := conn.QueryRowContext(t.Context(), `SELECT count(*) FROM oauth_tokens WHERE kind = 'refresh' AND active = true AND request_id = $1`,
			rec.RequestID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("grant %s, whose refresh got no answer, has %d refresh tokens in force, want 1 (the old one or the new)", rec.RequestID, n)
		}
	}
	var refresh int
	if err := conn.QueryRowContext(t.Context(), `SELECT count(*) FROM oauth_tokens WHERE kind = 'refresh'`).Scan(&refresh); err != nil {
		t.Fatal(err)
	}
	if refresh != issued || issued == 0 {
		t.Errorf("%d refresh tokens stored, %d token.issued entries in the journal; want as many, and some", refresh, issued)
	}
}

// checkEvaluations: each evaluation answered is journaled.
func (l *crashLoad) checkEvaluations(t *testing.T, st store) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, person := range crashSigners {
		got := 0
		for _, e := range chainEntries(t, st, person) {
			if e.Type == mandates.EventAccessEvaluated {
				got++
			}
		}
		if got < l.evaluated[person] {
			t.Errorf("%s: %d evaluations answered, %d journaled", person, l.evaluated[person], got)
		}
	}
	if l.evaluations() == 0 {
		t.Error("no evaluation was answered: the load did not run")
	}
}

// textsSent counts what the gateway got.
type textsSent struct{ total, lastLife, twice int }

// checkTexts: every text is sent, reached the gateway, and reached it at
// most once per process; the gateway got nothing that is not a notice.
func checkTexts(t *testing.T, st store, gw *smsLives) textsSent {
	t.Helper()
	gw.mu.Lock()
	defer gw.mu.Unlock()
	var out textsSent
	ids := map[string]bool{}
	for _, n := range crashNotices(t, st) {
		if n.Channel != notices.SMS {
			continue
		}
		ids[n.ID] = true
		lives := gw.got["relais-notice-"+n.ID]
		if n.Status != notices.Sent || len(lives) == 0 {
			t.Errorf("text %s is %s and reached the gateway %d times", n.ID, n.Status, len(lives))
			continue
		}
		out.total++
		if slices.Contains(lives, gw.life) {
			out.lastLife++
		}
		if len(lives) > 1 {
			out.twice++
		}
		seen := map[int]bool{}
		for _, life := range lives {
			if seen[life] {
				t.Errorf("text %s reached the gateway twice from one process (lives %v)", n.ID, lives)
			}
			seen[life] = true
		}
	}
	for key := range gw.got {
		if !ids[strings.TrimPrefix(key, "relais-notice-")] {
			t.Errorf("the gateway got a text %q no notice stands for", key)
		}
	}
	if out.total == 0 {
		t.Error("no text was sent: the load queued none")
	}
	return out
}
