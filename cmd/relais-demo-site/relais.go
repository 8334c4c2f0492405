package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// relais is what the site learned from Relais's discovery document.
type relais struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	meta     struct {
		EndSession  string `json:"end_session_endpoint"`
		Evaluation  string `json:"access_evaluation_endpoint"`
		Evaluations string `json:"access_evaluations_endpoint"`
		// RFC 9207: when true, every authorization response carries iss.
		ISSParameter bool `json:"authorization_response_iss_parameter_supported"`
	}
	// acts is where the site reports an act it did, from Relais's AuthZEN
	// metadata; "" until read.
	acts string
}

// scopes asks for the person's identity (FranceConnect's identite_pivot)
// to name them on the page. Relais grants it to a representative only
// where the representation lets them see the person's file.
var scopes = []string{oidc.ScopeOpenID, "identite_pivot"}

// relais discovers Relais once, on first use: the site starts even when
// Relais is not up yet, and tries again at the next request.
func (s *Site) relais(ctx context.Context) (*relais, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.op != nil {
		return s.op, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.http), s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", s.cfg.Issuer, err)
	}
	op := &relais{provider: p, verifier: p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID}),
		oauth: oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: s.cfg.RedirectURL, Scopes: scopes}}
	if err := p.Claims(&op.meta); err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", s.cfg.Issuer, err)
	}
	if op.meta.Evaluation == "" {
		return nil, fmt.Errorf("discovery of %s: no access_evaluation_endpoint", s.cfg.Issuer)
	}
	s.op = op
	return op, nil
}

// evaluation is one AuthZEN question (§6): may this subject (the actor,
// by the sub Relais gave this site) do this action on this resource (the
// account, by its sub, in a procedure area)?
type evaluation struct {
	Subject  entity         `json:"subject"`
	Resource entity         `json:"resource"`
	Action   actionName     `json:"action"`
	Context  map[string]any `json:"context,omitempty"`
}

type entity struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties,omitempty"`
}

type actionName struct {
	Name string `json:"name"`
}

func question(a *account, act act) evaluation {
	return evaluation{
		Subject:  entity{Type: "user", ID: a.ActorSub()},
		Resource: entity{Type: "account", ID: a.Sub, Properties: map[string]any{"procedure_area": act.Area}},
		Action:   actionName{Name: act.Action},
	}
}

// decision is Relais's answer: AuthZEN's decision, and in its context the
// policy's answer (allowed, cosign or no), the reason in French and
// English and, for cosign, how to obtain the agreement.
type decision struct {
	Decision bool `json:"decision"`
	Context  struct {
		Answer      string            `json:"answer"`
		Reason      map[string]string `json:"reason"`
		Cosignature *struct {
			Endpoint    string            `json:"endpoint"`
			AgreementOf string            `json:"agreement_of"`
			How         map[string]string `json:"how"`
		} `json:"cosignature"`
	} `json:"context"`
}

// cosignature is a co-signature request as Relais describes it.
type cosignature struct {
	ID          string `json:"id"`
	Status      string `json:"status"` // pending, approved, refused, used, expired
	AgreementOf string `json:"agreement_of"`
	ApproveURL  string `json:"approve_url"`
	ExpiresAt   string `json:"expires_at"`
}

// relaisError is an error answer of an access endpoint (RFC 6749 §5.2's
// shape).
type relaisError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *relaisError) Error() string {
	return fmt.Sprintf("relais answered %d %s: %s", e.Status, e.Code, e.Description)
}

// call sends one client-authenticated request to an access endpoint and
// decodes the answer into out. The site authenticates as at the token
// endpoint: HTTP Basic with its client_id and secret, each form-encoded
// first (RFC 6749 §2.3.1).
func (s *Site) call(ctx context.Context, method, endpoint string, body, out any) (http.Header, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(s.cfg.ClientID), url.QueryEscape(s.cfg.ClientSecret))
	res, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		e := &relaisError{Status: res.StatusCode}
		_ = json.Unmarshal(raw, e)
		return nil, e
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, endpoint, err)
	}
	return res.Header, nil
}

// stillGranted asks Relais's userinfo endpoint, with the account's access
// token, whether what the token grants still holds: Relais answers 401
// once the token is revoked or the representation it acts under has
// ended, and the account page must not keep listing those rights.
func (s *Site) stillGranted(ctx context.Context, a *account) (bool, error) {
	op, err := s.relais(ctx)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, op.provider.UserInfoEndpoint(), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+a.AccessToken)
	res, err := s.http.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return false, nil
	case res.StatusCode/100 != 2:
		return false, &relaisError{Status: res.StatusCode}
	}
	return true, nil
}

// evaluate asks Relais whether the act may be done now; cosignatureID,
// when set, names an approved co-signature for this very act.
func (s *Site) evaluate(ctx context.Context, a *account, act act, cosignatureID string) (decision, error) {
	op, err := s.relais(ctx)
	if err != nil {
		return decision{}, err
	}
	q := question(a, act)
	if cosignatureID != "" {
		q.Context = map[string]any{"cosignature_id": cosignatureID}
	}
	var d decision
	_, err = s.call(ctx, http.MethodPost, op.meta.Evaluation, q, &d)
	return d, err
}

// openCosignature asks Relais for the other party's agreement to one act:
// the same question as the evaluation, and the act described in words the
// party who agrees understands.
func (s *Site) openCosignature(ctx context.Context, endpoint string, a *account, act act, description string) (cosignature, string, error) {
	body := struct {
		evaluation
		Description string `json:"description"`
	}{question(a, act), description}
	var c cosignature
	h, err := s.call(ctx, http.MethodPost, endpoint, body, &c)
	if err != nil {
		return c, "", err
	}
	if c.ID == "" {
		return c, "", errors.New("relais opened a co-signature request without an id")
	}
	status := h.Get("Location")
	if status == "" {
		status = strings.TrimSuffix(endpoint, "/") + "/" + url.PathEscape(c.ID)
	}
	return c, status, nil
}

// cosignatureStatus reads where a co-signature request stands.
func (s *Site) cosignatureStatus(ctx context.Context, statusURL string) (cosignature, error) {
	var c cosignature
	_, err := s.call(ctx, http.MethodGet, statusURL, nil, &c)
	return c, err
}

// actsEndpoint reads Relais's AuthZEN metadata once for act_endpoint.
func (s *Site) actsEndpoint(ctx context.Context) (string, error) {
	op, err := s.relais(ctx)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	known := op.acts
	s.mu.Unlock()
	if known != "" {
		return known, nil
	}
	var meta struct {
		Acts string `json:"act_endpoint"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.Issuer+"/.well-known/authzen-configuration", nil)
	if err != nil {
		return "", err
	}
	res, err := s.http.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("authzen-configuration: %d", res.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&meta); err != nil {
		return "", fmt.Errorf("authzen-configuration: %w", err)
	}
	if !s.fromRelais(meta.Acts) {
		return "", errors.New("authzen-configuration: no act_endpoint at Relais")
	}
	s.mu.Lock()
	op.acts = meta.Acts
	s.mu.Unlock()
	return meta.Acts, nil
}

// msgReportFailed is the log line of a report Relais did not take.
const msgReportFailed = "the act could not be reported to relais"

// reportAct tells Relais the site did the act for the account's person,
// with the actor's access token: Relais journals it in the person's
// journal, where it is the entry the person reads. The act is done
// already: a report that fails is logged, and the page goes on.
func (s *Site) reportAct(ctx context.Context, a *account, act act, done time.Time, cosignatureID string) {
	endpoint, err := s.actsEndpoint(ctx)
	if err == nil {
		body := map[string]string{"action": act.Action, "procedure_area": act.Area, "label": act.Done,
			"reference": "DEMO-" + done.UTC().Format("20060102-150405")}
		if cosignatureID != "" {
			body["cosignature_id"] = cosignatureID
		}
		err = s.sendReport(ctx, endpoint, a.AccessToken, body)
	}
	if err != nil {
		s.log.WarnContext(ctx, msgReportFailed, "act", act.Slug, "err", err)
	}
}

func (s *Site) sendReport(ctx context.Context, endpoint, token string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		e := &relaisError{Status: res.StatusCode}
		_ = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(e)
		return e
	}
	return nil
}
