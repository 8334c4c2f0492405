package main

import (
	"bytes"
	"context"
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

// evaluation asks the AuthZEN access evaluation endpoint, with the
// client's authentication, about the account opened by one code flow:
// the actor is the ID token's act.sub when someone acts for another (-for),
// else its sub; the resource is its sub. Each worker asks about its own
// account (one code flow per account), except with -for naming a
// represented person: represented persons are not per account, so one
// flow of the first account gives the one question every worker asks.
type evaluation struct {
	*issuer
	url    string
	bodies [][]byte // per account, or one for all
}

func newEvaluation(ctx context.Context, is *issuer) (*evaluation, error) {
	doc, err := is.get(ctx, is.raw, is.discoveryURL)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Endpoint string `json:"access_evaluation_endpoint"`
	}
	if err := json.Unmarshal(doc, &meta); err != nil || meta.Endpoint == "" {
		return nil, errors.New("discovery has no access_evaluation_endpoint")
	}
	if err := loopbackOnly(meta.Endpoint); err != nil {
		return nil, fmt.Errorf("discovery points elsewhere: %w", err)
	}
	if is.o.scope == "" {
		is.o.scope = "openid"
	}
	n := is.o.accountsUsed()
	if is.o.forWhom != "" && is.o.forWhom != conformance.Self {
		n = 1
	}
	s := &evaluation{issuer: is, url: meta.Endpoint}
	// Worker a is the first whose account is account a.
	for a := range n {
		sub, actor, err := is.subjects(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", is.o.account(a).Email, err)
		}
		body, _ := json.Marshal(map[string]any{
			"subject":  map[string]any{"type": "user", "id": actor},
			"resource": map[string]any{"type": "account", "id": sub, "properties": map[string]any{"procedure_area": is.o.area}},
			"action":   map[string]any{"name": is.o.action},
		})
		s.bodies = append(s.bodies, body)
	}
	return s, nil
}

// subjects runs one code flow as worker w and reads the ID token's sub and
// act.sub (the token is not verified: this is a measuring tool, and the
// issuer is on this machine).
func (is *issuer) subjects(ctx context.Context, w int) (sub, actor string, err error) {
	c := is.conns[w]
	b := conformance.NewBrowser(c.rawTransport)
	verifier, state := oauth2.GenerateVerifier(), random()
	q := url.Values{"response_type": {"code"}, "client_id": {is.o.clientID}, "redirect_uri": {is.o.redirectURI},
		"scope": {is.o.scope}, "state": {state}, "nonce": {random()},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	forWhom := is.o.forWhom
	if forWhom == "" {
		forWhom = conformance.Self
	}
	account := is.o.account(w)
	account.ForWhom = forWhom
	v, err := b.Authorize(ctx, is.authURL+"?"+q.Encode(), is.o.redirectURI, account, conformance.Accept)
	if err != nil {
		return "", "", err
	}
	cb := v.Callback.Query()
	if cb.Get("code") == "" || cb.Get("state") != state {
		return "", "", fmt.Errorf("authorization answered %v", cb)
	}
	m, err := is.post(ctx, c.raw, is.tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {is.o.redirectURI}, "code_verifier": {verifier}})
	if err != nil {
		return "", "", err
	}
	idt, _ := m["id_token"].(string)
	parts := strings.Split(idt, ".")
	if len(parts) != 3 {
		return "", "", errors.New("no id_token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", fmt.Errorf("id_token: %w", err)
	}
	var claims struct {
		Sub string `json:"sub"`
		Act struct {
			Sub string `json:"sub"`
		} `json:"act"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Sub == "" {
		return "", "", fmt.Errorf("id_token claims: %v", err)
	}
	actor = claims.Sub
	if claims.Act.Sub != "" {
		actor = claims.Act.Sub
	}
	return claims.Sub, actor, nil
}

func (s *evaluation) perFlow() bool { return false }
func (s *evaluation) step(ctx context.Context, w int) error {
	question := s.bodies[s.o.accountIndex(w)%len(s.bodies)]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(question))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(url.QueryEscape(s.o.clientID), url.QueryEscape(s.o.clientSecret))
	res, err := s.conns[w].timed.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return &statusError{res.StatusCode, string(body)}
	}
	if !bytes.Contains(body, []byte(`"decision"`)) {
		return errors.New("no decision")
	}
	return nil
}
