package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/conformance"
)

// siteClient is a client registered for one worker, with the subject
// Relais gave it for the demo person it asks about.
type siteClient struct {
	id, secret string
	sub        string
}

// loader drives the load through Relais's HTTP API only.
type loader struct {
	base     string
	redirect string
	api      *http.Client
	ledger   *ledger
	// sites: one client per token-and-evaluation worker.
	sites []siteClient
	// operators: one logged-in operator browser per registration worker.
	operators []*conformance.Browser
	// persons the registrations are about, in turn.
	persons []string
	every   time.Duration // each worker's pause between two writes
}

// operatorAccount is the demo's operator (cmd/relais/demo.go).
var operatorAccount = conformance.Account{Email: "olivier.roux@demo.example", Password: "olivier-demo-2026"}

// askedAbout is the demo person each site's evaluations are about.
var askedAbout = conformance.Account{Email: "jeanne.lefevre@demo.example", Password: "jeanne-demo-2026", ForWhom: conformance.Self}

// demo persons under no measure of the demo's own, who get the
// registrations (a tutelle each, with the operator as tutor).
var registered = []string{"nadia.haddad@demo.example", "ahmed.benali@demo.example", "fatima.benali@demo.example"}

// subject runs one code flow of site as askedAbout and reads the ID
// token's sub (not verified: Relais runs on this machine, and the sub is
// only used as the evaluation's subject).
func (l *loader) subject(ctx context.Context, site siteClient) (string, error) {
	b := conformance.NewBrowser(nil)
	verifier, state := oauth2.GenerateVerifier(), random()
	q := url.Values{"response_type": {"code"}, "client_id": {site.id}, "redirect_uri": {l.redirect},
		"scope": {"openid"}, "state": {state}, "nonce": {random()},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	v, err := b.Authorize(ctx, l.base+"/authorize?"+q.Encode(), l.redirect, askedAbout, conformance.Accept)
	if err != nil {
		return "", err
	}
	cb := v.Callback.Query()
	if cb.Get("code") == "" || cb.Get("state") != state {
		return "", fmt.Errorf("authorization answered %v", cb)
	}
	status, m, err := l.form(ctx, site, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {l.redirect}, "code_verifier": {verifier}})
	if err != nil {
		return "", err
	}
	idt, _ := m["id_token"].(string)
	parts := strings.Split(idt, ".")
	if status != http.StatusOK || len(parts) != 3 {
		return "", fmt.Errorf("code exchange: %d %v", status, m)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("id_token: %w", err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Sub == "" {
		return "", fmt.Errorf("id_token has no sub: %v", err)
	}
	return claims.Sub, nil
}

func random() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// form posts form to path as site (HTTP Basic) and decodes the JSON
// answer, if any.
func (l *loader) form(ctx context.Context, site siteClient, path string, form url.Values) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(site.id), url.QueryEscape(site.secret))
	return l.do(l.api, req)
}

// jsonCall sends body as JSON with client c and decodes the answer.
func (l *loader) jsonCall(ctx context.Context, c *http.Client, method, path string, body any, basic *siteClient) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if basic != nil {
		req.SetBasicAuth(url.QueryEscape(basic.id), url.QueryEscape(basic.secret))
	}
	return l.do(c, req)
}

func (l *loader) do(c *http.Client, req *http.Request) (int, map[string]any, error) {
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, err
	}
	m := map[string]any{}
	if len(body) > 0 && json.Unmarshal(body, &m) != nil {
		m = map[string]any{"body": fmt.Sprintf("%.200s", body)}
	}
	return res.StatusCode, m, nil
}

// record adds one write to the ledger: acknowledged when status is
// want.
func (l *loader) record(w write, status int, want int, m map[string]any, err error) bool {
	w.Done = time.Now()
	if err == nil {
		w.Status = status
	}
	ok := err == nil && status == want
	if ok {
		w.Result = acked
	} else {
		w.Result = failed
		switch {
		case err != nil:
			w.Detail = err.Error()
		default:
			w.Detail = fmt.Sprintf("HTTP %d %v", status, m["error"])
		}
	}
	l.ledger.add(w)
	return ok
}

// siteWorker alternates a client-credentials token and an evaluation.
func (l *loader) siteWorker(ctx context.Context, stop <-chan struct{}, worker int) {
	site := l.sites[worker]
	question := map[string]any{
		"subject":  map[string]any{"type": "user", "id": site.sub},
		"resource": map[string]any{"type": "account", "id": site.sub, "properties": map[string]any{"procedure_area": "social"}},
		"action":   map[string]any{"name": "consult"},
	}
	l.paced(stop, func(i int) {
		w := write{Worker: worker, Start: time.Now()}
		if i%2 == 0 {
			w.Kind = kindToken
			status, m, err := l.form(ctx, site, "/token", url.Values{"grant_type": {"client_credentials"}})
			if err == nil && status == http.StatusOK {
				if at, _ := m["access_token"].(string); at == "" {
					err = errors.New("no access_token")
				}
			}
			l.record(w, status, http.StatusOK, m, err)
			return
		}
		w.Kind = kindEvaluation
		status, m, err := l.jsonCall(ctx, l.api, http.MethodPost, "/access/v1/evaluation", question, &site)
		if err == nil && status == http.StatusOK {
			if _, ok := m["decision"].(bool); !ok {
				err = fmt.Errorf("no decision in %v", m)
			}
		}
		l.record(w, status, http.StatusOK, m, err)
	})
}

// operatorWorker registers a tutelle under a reference of its own, then
// ends it.
func (l *loader) operatorWorker(ctx context.Context, stop <-chan struct{}, worker int) {
	op := l.operators[worker]
	day := func(d time.Time) string { return d.Format("2006-01-02") }
	var pending struct {
		id      string
		version float64
	}
	l.paced(stop, func(i int) {
		if pending.id != "" {
			w := write{Kind: kindEnd, Key: pending.id, Worker: worker, Start: time.Now()}
			status, m, err := l.jsonCall(ctx, op.HTTPClient(), http.MethodPost, "/api/v1/representations/"+pending.id+"/end",
				map[string]any{"version": pending.version, "reason": "Fin de mesure (test de haute disponibilité)"}, nil)
			l.record(w, status, http.StatusOK, m, err)
			// Ended or not, the next step registers another: an end
			// that failed may have been applied, and another try would
			// be a second write under the same key.
			pending.id = ""
			return
		}
		now := time.Now().UTC()
		ref := fmt.Sprintf("RG HA %d-%d-%s", worker, i, random())
		w := write{Kind: kindRegistration, Key: ref, Worker: worker, Start: time.Now()}
		status, m, err := l.jsonCall(ctx, op.HTTPClient(), http.MethodPost, "/api/v1/measures", map[string]any{
			"kind": "tutelle", "person_email": l.persons[(worker+i)%len(l.persons)],
			"representatives": []any{map[string]any{"person_email": operatorAccount.Email, "role": "tuteur"}},
			"valid_from":      day(now.AddDate(0, -1, 0)), "valid_until": day(now.AddDate(3, 0, 0)),
			"decision": map[string]any{"jurisdiction": "Tribunal judiciaire de Lyon", "date": day(now.AddDate(0, -1, -7)),
				"reference": ref}}, nil)
		if l.record(w, status, http.StatusCreated, m, err) {
			reps, _ := m["representations"].([]any)
			if len(reps) == 1 {
				rep, _ := reps[0].(map[string]any)
				pending.id, _ = rep["id"].(string)
				pending.version, _ = rep["version"].(float64)
			}
		}
	})
}

// paced calls step every l.every until stop is closed; a step that takes
// longer delays the next. A step under way when stop closes runs to its
// end, so that the ledger holds its real answer, not a cancellation.
func (l *loader) paced(stop <-chan struct{}, step func(i int)) {
	t := time.NewTicker(l.every)
	defer t.Stop()
	for i := 0; ; i++ {
		step(i)
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// run starts the workers; the function it returns stops them and waits
// for their last writes. ctx ending (Ctrl-C) cancels the writes under way.
func (l *loader) run(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range l.sites {
		wg.Go(func() { l.siteWorker(ctx, done, w) })
	}
	for w := range l.operators {
		wg.Go(func() { l.operatorWorker(ctx, done, w) })
	}
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// clientTimeout is above relais serve's own limit on an answer (its
// WriteTimeout, 60 s), so a write is never given up on while Relais may
// still apply it: a row written after its request ended would look like
// a doubled write.
const clientTimeout = 90 * time.Second

// newAPIClient is the sites' client.
func newAPIClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 8
	return &http.Client{Transport: tr, Timeout: clientTimeout}
}

// newOperatorBrowser is a browser for the operator's JSON API.
func newOperatorBrowser() *conformance.Browser {
	b := conformance.NewBrowser(nil)
	b.HTTPClient().Timeout = clientTimeout
	return b
}
