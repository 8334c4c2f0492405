package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fakeOP stands in for Relais in the handler tests: discovery, JWKS, the
// token endpoint, userinfo, the access evaluation and co-signature
// endpoints, with the JSON shapes of authz/endpoints.go and
// authz/authzen.go.
type fakeOP struct {
	t      *testing.T
	srv    *httptest.Server
	signer jose.Signer
	key    *ecdsa.PrivateKey

	mu sync.Mutex
	// Who signs in next: the account's sub, the extra ID token claims
	// (act, representation) and userinfo's names.
	sub    string
	extra  map[string]any
	names  map[string]any
	codes  map[string]grant
	tokens map[string]bool
	// answers is the policy: action → allowed, cosign or no.
	answers     map[string]string
	evaluations []map[string]any
	// reports are the acts the site reported, each with the token's
	// Authorization header under "authorization".
	reports []map[string]any
	cosigns map[string]*fakeCosign
	// failEvaluations makes the evaluation endpoint answer 500.
	failEvaluations bool
	// tamper changes the next ID token's claims.
	tamper func(claims map[string]any)
}

type grant struct{ challenge, nonce, redirectURI string }

type fakeCosign struct {
	body   map[string]any
	status string
}

const (
	testClientID = "demo-site"
	testSecret   = "test-secret"
)

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{t: t, key: key, signer: signer, codes: map[string]grant{}, tokens: map[string]bool{},
		cosigns: map[string]*fakeCosign{}, answers: map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "allowed"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfo)
	mux.HandleFunc("POST /access/v1/evaluation", op.evaluation)
	mux.HandleFunc("POST /access/v1/cosignatures", op.openCosign)
	mux.HandleFunc("GET /access/v1/cosignatures/{id}", op.cosignStatus)
	mux.HandleFunc("GET /.well-known/authzen-configuration", op.authzen)
	mux.HandleFunc("POST /access/v1/acts", op.reportAct)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (op *fakeOP) discovery(w http.ResponseWriter, r *http.Request) {
	iss := op.srv.URL
	op.writeJSON(w, 200, map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
		"jwks_uri": iss + "/jwks", "userinfo_endpoint": iss + "/userinfo", "end_session_endpoint": iss + "/logout",
		"access_evaluation_endpoint": iss + "/access/v1/evaluation", "access_evaluations_endpoint": iss + "/access/v1/evaluations",
		"id_token_signing_alg_values_supported": []string{"ES256"}, "authorization_response_iss_parameter_supported": true,
	})
}

func (op *fakeOP) authzen(w http.ResponseWriter, r *http.Request) {
	iss := op.srv.URL
	op.writeJSON(w, 200, map[string]any{"policy_decision_point": iss, "access_evaluation_endpoint": iss + "/access/v1/evaluation",
		"act_endpoint": iss + "/access/v1/acts"})
}

// reportAct takes a report made with an access token it issued.
func (op *fakeOP) reportAct(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	auth := r.Header.Get("Authorization")
	if !op.tokens[strings.TrimPrefix(auth, "Bearer ")] {
		op.writeJSON(w, 401, map[string]string{"error": "invalid_token"})
		return
	}
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		op.writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	m["authorization"] = auth
	op.reports = append(op.reports, m)
	op.writeJSON(w, 201, map[string]any{"reported": true})
}

func (op *fakeOP) jwks(w http.ResponseWriter, r *http.Request) {
	op.writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
}

// authenticated checks the client's HTTP Basic credentials.
func authenticated(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	return ok && id == testClientID && secret == testSecret
}

// authorize is what Relais does between /authorize and the callback: it
// takes the site's authorization URL and returns a code for it.
func (op *fakeOP) authorize(authURL string) (code, state string) {
	op.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil || !strings.HasPrefix(authURL, op.srv.URL+"/authorize?") {
		op.t.Fatalf("the site sent the browser to %q, not to the OP's authorization endpoint", authURL)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("nonce") == "" || q.Get("state") == "" || q.Get("client_id") != testClientID || !strings.Contains(q.Get("scope"), "openid") {
		op.t.Fatalf("authorization request without code, PKCE S256, nonce, state or openid: %s", authURL)
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	code = fmt.Sprintf("code-%d", len(op.codes)+1)
	op.codes[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri")}
	return code, q.Get("state")
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	if !authenticated(r) {
		op.writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	_ = r.ParseForm()
	op.mu.Lock()
	defer op.mu.Unlock()
	g, ok := op.codes[r.PostForm.Get("code")]
	delete(op.codes, r.PostForm.Get("code"))
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.PostForm.Get("redirect_uri") != g.redirectURI {
		op.writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": op.srv.URL, "aud": testClientID, "sub": op.sub, "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "auth_time": now.Unix(), "acr": "eidas1"}
	for k, v := range op.extra {
		claims[k] = v
	}
	if op.tamper != nil {
		op.tamper(claims)
	}
	payload, _ := json.Marshal(claims)
	sig, err := op.signer.Sign(payload)
	if err != nil {
		op.t.Error(err)
		return
	}
	idToken, _ := sig.CompactSerialize()
	at := fmt.Sprintf("at-%d", len(op.tokens)+1)
	op.tokens[at] = true
	op.writeJSON(w, 200, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 600, "id_token": idToken})
}

func (op *fakeOP) userinfo(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if !op.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		w.WriteHeader(401)
		return
	}
	out := map[string]any{"sub": op.sub}
	for k, v := range op.names {
		out[k] = v
	}
	for k, v := range op.extra {
		out[k] = v
	}
	op.writeJSON(w, 200, out)
}

func (op *fakeOP) readJSON(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if !authenticated(r) {
		op.writeJSON(w, 401, map[string]string{"error": "invalid_client", "error_description": "Client authentication is required."})
		return nil, false
	}
	raw, _ := io.ReadAll(r.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		op.writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return nil, false
	}
	return m, true
}

var reasons = map[string][2]string{
	"allowed": {"autorisé : la tutelle le permet.", "allowed: the guardianship allows it."},
	"cosign":  {"accord nécessaire : la curatelle renforcée demande l’accord de la personne.", "agreement needed: the reinforced curatorship asks for the person’s agreement."},
	"no":      {"refusé : la tutelle ne le permet pas à la personne seule.", "refused: the guardianship does not let the person do it alone."},
}

func (op *fakeOP) evaluation(w http.ResponseWriter, r *http.Request) {
	m, ok := op.readJSON(w, r)
	if !ok {
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.failEvaluations {
		op.writeJSON(w, 500, map[string]string{"error": "server_error"})
		return
	}
	op.evaluations = append(op.evaluations, m)
	act, _ := m["action"].(map[string]any)
	action, _ := act["name"].(string)
	answer := op.answers[action]
	ctx := map[string]any{"answer": answer}
	cctx, _ := m["context"].(map[string]any)
	if id, _ := cctx["cosignature_id"].(string); id != "" && answer == "cosign" {
		c := op.cosigns[id]
		if c == nil {
			op.writeJSON(w, 400, map[string]string{"error": "invalid_request"})
			return
		}
		if c.status == "approved" {
			c.status, answer = "used", "allowed"
			ctx = map[string]any{"answer": answer, "reason": map[string]string{"fr": "autorisé : l’accord de la personne protégée a été donné pour cet acte. Il ne sert qu’une fois.", "en": "allowed: the agreement of the protected person was given for this act. It can be used once."}}
			op.writeJSON(w, 200, map[string]any{"decision": true, "context": ctx})
			return
		}
	}
	ctx["reason"] = map[string]string{"fr": reasons[answer][0], "en": reasons[answer][1]}
	if answer == "cosign" {
		ctx["cosignature"] = map[string]any{"endpoint": op.srv.URL + "/access/v1/cosignatures", "agreement_of": "represented_person",
			"how": map[string]string{"fr": "Ouvrez une demande d’accord pour cet acte.", "en": "Open an agreement request for this act."}}
	}
	op.writeJSON(w, 200, map[string]any{"decision": answer == "allowed", "context": ctx})
}

func (op *fakeOP) openCosign(w http.ResponseWriter, r *http.Request) {
	m, ok := op.readJSON(w, r)
	if !ok {
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	id := fmt.Sprintf("0193b000-0000-7000-8000-%012d", len(op.cosigns)+1)
	op.cosigns[id] = &fakeCosign{body: m, status: "pending"}
	w.Header().Set("Location", op.srv.URL+"/access/v1/cosignatures/"+id)
	op.writeJSON(w, 201, op.cosignJSON(id))
}

func (op *fakeOP) cosignJSON(id string) map[string]any {
	return map[string]any{"id": id, "status": op.cosigns[id].status, "agreement_of": "represented_person",
		"approve_url": op.srv.URL + "/espace/accords/" + id, "expires_at": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)}
}

func (op *fakeOP) cosignStatus(w http.ResponseWriter, r *http.Request) {
	if !authenticated(r) {
		op.writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.cosigns[r.PathValue("id")] == nil {
		op.writeJSON(w, 404, map[string]string{"error": "not_found"})
		return
	}
	op.writeJSON(w, 200, op.cosignJSON(r.PathValue("id")))
}

// setStatus is the other party answering in their Relais space.
func (op *fakeOP) setStatus(id, status string) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.cosigns[id].status = status
}

// siteRun is the demo site in front of a fake OP, and a browser (a client
// with cookies that does not follow redirects, so each step is seen).
type siteRun struct {
	op      *fakeOP
	site    *Site
	srv     *httptest.Server
	browser *http.Client
}

func newSiteRun(t *testing.T) *siteRun {
	t.Helper()
	op := newFakeOP(t)
	run := &siteRun{op: op}
	run.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { run.site.ServeHTTP(w, r) }))
	t.Cleanup(run.srv.Close)
	run.site = newSite(config{Issuer: op.srv.URL, ClientID: testClientID, ClientSecret: testSecret,
		RedirectURL: run.srv.URL + "/callback", PostLogoutURL: run.srv.URL + "/"}, slog.New(slog.DiscardHandler))
	jar, _ := cookiejar.New(nil)
	run.browser = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return run
}

func (run *siteRun) do(t *testing.T, method, path string) (*http.Response, string) {
	t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = run.srv.URL + path
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, u, nil)
	if method == http.MethodPost {
		// As a browser sends it from the site's own page.
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := run.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// follow GETs each redirect within the site until a page.
func (run *siteRun) follow(t *testing.T, res *http.Response, body string) (*http.Response, string) {
	t.Helper()
	for range 5 {
		if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
			return res, body
		}
		res, body = run.do(t, http.MethodGet, res.Header.Get("Location"))
	}
	t.Fatal("too many redirects")
	return nil, ""
}

// post submits one of the site's forms and follows to the page shown.
func (run *siteRun) post(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	res, body := run.do(t, http.MethodPost, path)
	return run.follow(t, res, body)
}

// signIn goes through the login as the OP's next person and returns the
// account page.
func (run *siteRun) signIn(t *testing.T) (*http.Response, string) {
	t.Helper()
	res, _ := run.do(t, http.MethodGet, "/connexion")
	if res.StatusCode != http.StatusFound {
		t.Fatalf("/connexion: %d", res.StatusCode)
	}
	code, state := run.op.authorize(res.Header.Get("Location"))
	res, body := run.do(t, http.MethodGet, "/callback?"+url.Values{"code": {code}, "state": {state}, "iss": {run.op.srv.URL}}.Encode())
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/compte" {
		t.Fatalf("callback: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	return run.follow(t, res, body)
}

// Demo people, as the fake OP describes them.
func (op *fakeOP) asMarieForJeanne() {
	op.sub = "sub-jeanne"
	op.names = map[string]any{"given_name": "Jeanne Odette", "family_name": "Lefèvre"}
	op.extra = map[string]any{
		"act": map[string]any{"sub": "sub-marie", "given_name": "Marie Claire", "family_name": "Lefèvre", "preferred_username": "Martin"},
		"representation": map[string]any{"id": "0193a000-0000-7000-8000-0000000001a1", "kind": "tutelle", "role": "tuteur",
			"role_label":      map[string]string{"fr": "Tuteur ou tutrice", "en": "guardian"},
			"actions":         map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "allowed", "personal": "no"},
			"procedure_areas": []string{"papiers", "famille", "social", "travail", "logement", "transports", "argent", "justice", "etranger", "loisirs"},
			"valid_until":     time.Date(2031, time.March, 1, 0, 0, 0, 0, time.UTC).Unix()},
	}
	op.answers = map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "allowed"}
}

func (op *fakeOP) asLucieForPaul() {
	op.sub = "sub-paul"
	op.names = map[string]any{"given_name": "Paul André", "family_name": "Durand"}
	op.extra = map[string]any{
		"act": map[string]any{"sub": "sub-lucie", "given_name": "Lucie", "family_name": "Moreau",
			"organisation": map[string]any{"name": "Service mandataire Entraide Nord", "kind": "mjpm_service"}},
		"representation": map[string]any{"id": "0193a000-0000-7000-8000-0000000001a2", "kind": "curatelle_renforcee", "role": "curateur",
			"role_label":      map[string]string{"fr": "Curateur ou curatrice", "en": "curator"},
			"actions":         map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "cosign", "personal": "no"},
			"procedure_areas": []string{"social", "argent"}, "valid_until": time.Date(2030, time.June, 15, 0, 0, 0, 0, time.UTC).Unix()},
	}
	op.answers = map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "cosign"}
}

func (op *fakeOP) asJeanneHerself() {
	op.sub = "sub-jeanne"
	op.names = map[string]any{"given_name": "Jeanne Odette", "family_name": "Lefèvre"}
	op.extra = nil
	op.answers = map[string]string{"consult": "allowed", "manage": "no", "dispose": "no"}
}
