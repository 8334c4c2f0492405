package main

import (
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

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/conformance"
)

// scenario is what one worker does once per step.
type scenario interface {
	step(ctx context.Context, worker int) error
	// perFlow: a step is a whole flow of several requests, reported apart.
	perFlow() bool
}

// issuer is the target with its endpoints from discovery, and the client.
// Its own clients are worker 0's, for set-up that belongs to no worker.
type issuer struct {
	o                                        *options
	timed, raw                               *http.Client // measured, and not (set-up, recovery)
	rawTransport                             http.RoundTripper
	timedTransport                           http.RoundTripper
	conns                                    []conn // per worker
	discoveryURL, jwksURL, authURL, tokenURL string
	introspectURL                            string
}

func newScenario(ctx context.Context, o *options, conns []conn) (scenario, error) {
	c := conns[0]
	is := &issuer{o: o, timed: c.timed, raw: c.raw, rawTransport: c.rawTransport, timedTransport: c.timedTransport,
		conns: conns, discoveryURL: o.issuer + "/.well-known/openid-configuration"}
	if o.scenario == "discovery" && o.discoveryURL != "" {
		// Explicit targets (the static copy): its document names the
		// issuer's jwks_uri, which is not the one to fetch.
		is.discoveryURL, is.jwksURL = o.discoveryURL, o.jwksURL
		return &discovery{issuer: is, turn: make([]int, o.concurrency)}, nil
	}
	if err := is.discover(ctx); err != nil {
		return nil, err
	}
	switch o.scenario {
	case "client_credentials":
		return &clientCredentials{is}, nil
	case "discovery":
		return &discovery{issuer: is, turn: make([]int, o.concurrency)}, nil
	case "introspection":
		return newIntrospection(ctx, is)
	case "refresh":
		return newRefresh(ctx, is)
	case "code":
		return &codeFlow{is}, nil
	case "evaluation":
		return newEvaluation(ctx, is)
	}
	return nil, fmt.Errorf("unknown scenario %q", o.scenario)
}

func (is *issuer) discover(ctx context.Context) error {
	body, err := is.get(ctx, is.raw, is.discoveryURL)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	str := func(k string) string { s, _ := doc[k].(string); return s }
	is.jwksURL, is.authURL, is.tokenURL, is.introspectURL = str("jwks_uri"), str("authorization_endpoint"), str("token_endpoint"), str("introspection_endpoint")
	for _, u := range []string{is.jwksURL, is.authURL, is.tokenURL} {
		if u == "" {
			return errors.New("discovery lacks jwks_uri, authorization_endpoint or token_endpoint")
		}
		if err := loopbackOnly(u); err != nil {
			return fmt.Errorf("discovery points elsewhere: %w", err)
		}
		if is.o.spreadAddresses {
			if err := spreadAllowed(u); err != nil {
				return fmt.Errorf("discovery points elsewhere: %w", err)
			}
		}
	}
	return nil
}

// statusError is an answer other than the one expected.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d: %.100s", e.status, e.body) }

func (is *issuer) get(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, &statusError{res.StatusCode, string(body)}
	}
	return body, nil
}

// post sends form to u with the client's authentication and decodes the
// JSON answer; anything but 200 is an error.
func (is *issuer) post(ctx context.Context, c *http.Client, u string, form url.Values) (map[string]any, error) {
	if is.o.authPost || is.o.clientSecret == "" {
		form.Set("client_id", is.o.clientID)
		if is.o.clientSecret != "" {
			form.Set("client_secret", is.o.clientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !is.o.authPost && is.o.clientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(is.o.clientID), url.QueryEscape(is.o.clientSecret))
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, &statusError{res.StatusCode, string(body)}
	}
	m := map[string]any{}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("answer is not JSON: %w", err)
	}
	return m, nil
}

func (is *issuer) clientCredentials(ctx context.Context, c *http.Client) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if is.o.scope != "" {
		form.Set("scope", is.o.scope)
	}
	m, err := is.post(ctx, c, is.tokenURL, form)
	if err != nil {
		return "", err
	}
	at, _ := m["access_token"].(string)
	if at == "" {
		return "", errors.New("no access_token")
	}
	return at, nil
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// codeTokens runs the code flow in b (logging in as worker w's account and
// consenting when the pages are shown) and exchanges the code through c.
func (is *issuer) codeTokens(ctx context.Context, w int, b *conformance.Browser, c *http.Client, extra url.Values) (map[string]any, error) {
	verifier, state := oauth2.GenerateVerifier(), random()
	q := url.Values{"response_type": {"code"}, "client_id": {is.o.clientID}, "redirect_uri": {is.o.redirectURI},
		"scope": {is.o.scope}, "state": {state}, "nonce": {random()},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	v, err := b.Authorize(ctx, is.authURL+"?"+q.Encode(), is.o.redirectURI, is.o.account(w), conformance.Accept)
	if err != nil {
		return nil, err
	}
	cb := v.Callback.Query()
	if cb.Get("code") == "" || cb.Get("state") != state {
		return nil, fmt.Errorf("authorization answered %v", cb)
	}
	return is.post(ctx, c, is.tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {is.o.redirectURI}, "code_verifier": {verifier}})
}

type clientCredentials struct{ *issuer }

func (s *clientCredentials) perFlow() bool { return false }
func (s *clientCredentials) step(ctx context.Context, w int) error {
	_, err := s.clientCredentials(ctx, s.conns[w].timed)
	return err
}

// discovery alternates the discovery document and the JWKS, as a relying
// party starting up fetches both.
type discovery struct {
	*issuer
	turn []int // per worker
}

func (s *discovery) perFlow() bool { return false }
func (s *discovery) step(ctx context.Context, w int) error {
	s.turn[w]++
	u := s.discoveryURL
	if s.turn[w]%2 == 0 {
		u = s.jwksURL
	}
	_, err := s.get(ctx, s.conns[w].timed, u)
	return err
}

// introspection asks about live tokens, one per worker, all got by worker 0.
type introspection struct {
	*issuer
	tokens []string
}

func newIntrospection(ctx context.Context, is *issuer) (*introspection, error) {
	if is.introspectURL == "" {
		return nil, errors.New("discovery has no introspection_endpoint")
	}
	s := &introspection{issuer: is}
	var b *conformance.Browser
	for range is.o.concurrency {
		at, err := is.clientCredentials(ctx, is.raw)
		if err != nil {
			// A client without client_credentials: a person's tokens.
			if len(is.o.accounts) == 0 {
				return nil, fmt.Errorf("client_credentials failed (%v); give -email, -password and -redirect-uri to get tokens by the code flow", err)
			}
			if b == nil {
				b = conformance.NewBrowser(is.rawTransport)
			}
			if is.o.scope == "" {
				is.o.scope = "openid"
			}
			m, err := is.codeTokens(ctx, 0, b, is.raw, nil)
			if err != nil {
				return nil, err
			}
			at, _ = m["access_token"].(string)
		}
		s.tokens = append(s.tokens, at)
	}
	return s, nil
}

func (s *introspection) perFlow() bool { return false }
func (s *introspection) step(ctx context.Context, w int) error {
	m, err := s.post(ctx, s.conns[w].timed, s.introspectURL, url.Values{"token": {s.tokens[w%len(s.tokens)]}})
	if err != nil {
		return err
	}
	if m["active"] != true {
		return errors.New("token inactive")
	}
	return nil
}

// refresh rotates refresh tokens; each family belongs to one worker, as a
// family used by two at once is a reuse, which revokes it, and comes from a
// login of that worker's account.
type refresh struct {
	*issuer
	browsers *browsers
	tokens   []string
	next     []int // per worker: which of its families comes next
}

func newRefresh(ctx context.Context, is *issuer) (*refresh, error) {
	s := &refresh{issuer: is, browsers: &browsers{o: is.o}, next: make([]int, is.o.concurrency)}
	for i := range is.o.refreshPool {
		rt, err := s.family(ctx, i%is.o.concurrency)
		if err != nil {
			return nil, fmt.Errorf("getting refresh tokens: %w", err)
		}
		s.tokens = append(s.tokens, rt)
	}
	return s, nil
}

// family gets a new refresh token for worker w: one login per account and
// address, then the session serves.
func (s *refresh) family(ctx context.Context, w int) (string, error) {
	c := s.conns[w]
	m, err := s.codeTokens(ctx, w, s.browsers.forWorker(w, c.rawTransport), c.raw, nil)
	if err != nil {
		return "", err
	}
	rt, _ := m["refresh_token"].(string)
	if rt == "" {
		return "", fmt.Errorf("no refresh_token for scope %q (is offline_access allowed to the client?)", s.o.scope)
	}
	return rt, nil
}

func (s *refresh) perFlow() bool { return false }
func (s *refresh) step(ctx context.Context, w int) error {
	c := s.o.concurrency
	n := (len(s.tokens) - w + c - 1) / c // families of worker w: w, w+c, w+2c…
	i := w + c*(s.next[w]%n)
	s.next[w]++
	m, err := s.post(ctx, s.conns[w].timed, s.tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.tokens[i]}})
	if err == nil {
		if rt, _ := m["refresh_token"].(string); rt != "" {
			s.tokens[i] = rt
			return nil
		}
		err = errors.New("no rotated refresh_token")
	}
	if ctx.Err() != nil {
		return err
	}
	// The family is dead: start another, outside the measure.
	if rt, ferr := s.family(context.WithoutCancel(ctx), w); ferr == nil {
		s.tokens[i] = rt
	}
	return err
}

// codeFlow is a new browser each time, through login as the worker's
// account and consent (prompt=consent, so the page shows even after the
// first time).
type codeFlow struct{ *issuer }

func (s *codeFlow) perFlow() bool { return true }
func (s *codeFlow) step(ctx context.Context, w int) error {
	c := s.conns[w]
	b := conformance.NewBrowser(c.timedTransport)
	m, err := s.codeTokens(ctx, w, b, c.timed, url.Values{"prompt": {"consent"}})
	if err != nil {
		return err
	}
	if _, ok := m["access_token"].(string); !ok {
		return errors.New("no access_token")
	}
	return nil
}
