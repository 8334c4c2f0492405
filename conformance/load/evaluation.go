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
// else its sub; the resource is its sub.
type evaluation struct {
	*issuer
	url  string
	body []byte
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
	sub, actor, err := is.subjects(ctx)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]any{
		"subject":  map[string]any{"type": "user", "id": actor},
		"resource": map[string]any{"type": "account", "id": sub, "properties": map[string]any{"procedure_area": is.o.area}},
		"action":   map[string]any{"name": is.o.action},
	})
	return &evaluation{issuer: is, url: meta.Endpoint, body: body}, nil
}

// subjects runs one code flow and reads the ID token's sub and act.sub
// (the token is not verified: this is a measuring tool, and the issuer
// is on this machine).
func (is *issuer) subjects(ctx context.Context) (sub, actor string, err error) {
	b := conformance.NewBrowser(is.rawTransport)
	verifier, state := oauth2.GenerateVerifier(), random()
	q := url.Values{"response_type": {"code"}, "client_id": {is.o.clientID}, "redirect_uri": {is.o.redirectURI},
		"scope": {is.o.scope}, "state": {state}, "nonce": {random()},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	forWhom := is.o.forWhom
	if forWhom == "" {
		forWhom = conformance.Self
	}
	v, err := b.Authorize(ctx, is.authURL+"?"+q.Encode(), is.o.redirectURI,
		conformance.Account{Email: is.o.email, Password: is.o.password, ForWhom: forWhom}, conformance.Accept)
	if err != nil {
		return "", "", err
	}
	cb := v.Callback.Query()
	if cb.Get("code") == "" || cb.Get("state") != state {
		return "", "", fmt.Errorf("authorization answered %v", cb)
	}
	m, err := is.post(ctx, is.raw, is.tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
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
func (s *evaluation) step(ctx context.Context, _ int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(s.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(url.QueryEscape(s.o.clientID), url.QueryEscape(s.o.clientSecret))
	res, err := s.timed.Do(req)
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
