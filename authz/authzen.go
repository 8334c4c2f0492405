package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// The access evaluation API (OpenID AuthZEN Authorization API 1.0): a site
// asks "may this actor do this action for this person, in this procedure
// area, now?" and, where the answer is cosign, opens a co-signature request
// for the act. Sites name people by the subs Relais gave them, and
// authenticate as they do at the token endpoint.

// AccessEvaluator is what the access endpoints ask of the domain.
// mandates.Service implements it: the provider's Delegation (Stores) serves
// as its evaluator when it implements AccessEvaluator too, so the wiring
// that gives the provider the representation service turns these
// endpoints on.
type AccessEvaluator interface {
	Evaluate(ctx context.Context, q mandates.Question, clientID, cosignatureID string) (mandates.Answer, error)
	RequestCosignature(ctx context.Context, in mandates.CosignatureRequest) (mandates.Cosignature, error)
	CosignatureOf(ctx context.Context, clientID, id string) (mandates.Cosignature, error)
	ReportAct(ctx context.Context, a mandates.ActReport) (mandates.Answer, error)
}

var _ AccessEvaluator = (*mandates.Service)(nil)

// evaluator is the Delegation when it evaluates; without one, the access
// endpoints answer 404.
func (p *Provider) evaluator() AccessEvaluator {
	ev, _ := p.delegation.(AccessEvaluator)
	return ev
}

const (
	evaluationPath   = "/access/v1/evaluation"
	evaluationsPath  = "/access/v1/evaluations"
	cosignaturesPath = "/access/v1/cosignatures"
	// approvePath is the page where the party who must agree answers; ui
	// serves it.
	approvePath = "/espace/accords/"
	// maxEvaluations bounds one batch request.
	maxEvaluations = 100
	// maxAccessBody bounds a request body: a full batch fits many times.
	maxAccessBody = 256 << 10
)

// accessEndpoints are the routes of the access evaluation API.
func (p *Provider) accessEndpoints() []Endpoint {
	return append([]Endpoint{
		{"/.well-known/authzen-configuration", []string{http.MethodGet, http.MethodHead}, http.HandlerFunc(p.authzenConfiguration)},
		{evaluationPath, []string{http.MethodPost}, p.accessHandler(p.accessEvaluation)},
		{evaluationsPath, []string{http.MethodPost}, p.accessHandler(p.accessEvaluations)},
		{cosignaturesPath, []string{http.MethodPost}, p.accessHandler(p.openCosignature)},
		{cosignaturesPath + "/{id}", []string{http.MethodGet, http.MethodHead}, p.accessHandler(p.cosignatureStatus)},
		{actsPath, []string{http.MethodPost}, p.resourceHandler(p.reportAct)},
	}, p.searchEndpoints()...)
}

// authzenConfiguration is the PDP metadata (AuthZEN §9).
func (p *Provider) authzenConfiguration(w http.ResponseWriter, r *http.Request) {
	iss := p.cfg.Issuer
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	meta := map[string]any{
		"policy_decision_point":       iss,
		"access_evaluation_endpoint":  iss + evaluationPath,
		"access_evaluations_endpoint": iss + evaluationsPath,
		// Relais's own: where a site opens a co-signature request.
		"cosignature_endpoint": iss + cosignaturesPath,
		// Relais's own: where a site reports an act it completed, with the
		// actor's access token.
		"act_endpoint": iss + actsPath,
	}
	maps.Copy(meta, p.searchMetadata())
	_ = json.NewEncoder(w).Encode(meta)
}

// AuthZEN's entities (§5). Properties are kept raw: only the resource's
// procedure_area is read.
type (
	entity struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Properties json.RawMessage `json:"properties,omitempty"`
	}
	action struct {
		Name string `json:"name"`
	}
	evaluation struct {
		Subject  *entity        `json:"subject"`
		Resource *entity        `json:"resource"`
		Action   *action        `json:"action"`
		Context  map[string]any `json:"context"`
	}
	// clientCredentials are RFC 6749 §2.3.1's and RFC 7523 §2.2's
	// parameters, which a JSON body carries as members when the client
	// does not use HTTP Basic.
	clientCredentials struct {
		ClientID            string `json:"client_id"`
		ClientSecret        string `json:"client_secret"`
		ClientAssertionType string `json:"client_assertion_type"`
		ClientAssertion     string `json:"client_assertion"`
	}
	evaluationRequest struct {
		evaluation
		clientCredentials
	}
	evaluationsRequest struct {
		evaluation
		clientCredentials
		Evaluations []evaluation `json:"evaluations"`
		Options     struct {
			Semantic string `json:"evaluations_semantic"`
		} `json:"options"`
	}
	cosignatureRequest struct {
		evaluation
		clientCredentials
		Description string `json:"description"`
	}
)

// accessError is a refusal of the request itself, in RFC 6749 §5.2's shape.
type accessError struct {
	status      int
	code        string
	description string
}

func (e *accessError) Error() string { return e.code + ": " + e.description }

func badRequest(format string, args ...any) *accessError {
	return &accessError{http.StatusBadRequest, "invalid_request", fmt.Sprintf(format, args...)}
}

// accessHandler adapts an endpoint of the access evaluation API: its
// error is answered once, by writeAccessError.
func (p *Provider) accessHandler(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			p.writeAccessError(w, r, err)
		}
	}
}

// writeAccessError answers a refused access request with RFC 6749 §5.2's
// JSON (accessError); any other error goes to writeResourceError.
func (p *Provider) writeAccessError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *accessError
	if !errors.As(err, &ae) {
		p.writeResourceError(w, r, err) // a DPoP refusal, or the server's
		return
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="relais", charset="UTF-8"`)
	}
	writeJSON(w, ae.status, map[string]string{"error": ae.code, "error_description": ae.description})
}

// readAccessRequest reads the JSON body into v (none when v is nil) and authenticates the
// client exactly as the token endpoint does (client_secret_basic,
// client_secret_post, private_key_jwt), with the body's credential members
// standing for the form's parameters. A public client is refused: the
// answers are about people.
func (p *Provider) readAccessRequest(w http.ResponseWriter, r *http.Request, v any, creds func() clientCredentials) (oauth.Client, error) {
	ctx := r.Context()
	if p.evaluator() == nil {
		return oauth.Client{}, &accessError{http.StatusNotFound, "not_found", "Access evaluation is not enabled on this server."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAccessBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return oauth.Client{}, &accessError{http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large."}
		}
		return oauth.Client{}, badRequest("The request body could not be read.")
	}
	var decodeErr error
	if v != nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		decodeErr = dec.Decode(v)
		if decodeErr == nil && dec.More() {
			decodeErr = errors.New("trailing data")
		}
	}
	form := url.Values{}
	if decodeErr == nil {
		c := creds()
		for k, v := range map[string]string{"client_id": c.ClientID, "client_secret": c.ClientSecret,
			"client_assertion_type": c.ClientAssertionType, "client_assertion": c.ClientAssertion} {
			if v != "" {
				form.Set(k, v)
			}
		}
	}
	if scheme, token := dpopAuthorization(r); scheme != "" {
		// RFC 9449 §7: a DPoP-bound access token of the client stands for
		// its credentials; one way of authenticating only (RFC 6749 §2.3).
		if len(form) > 0 {
			return oauth.Client{}, badRequest("Authenticate one way: a DPoP-bound access token or client credentials, not both.")
		}
		c, err := p.dpopClient(ctx, w, r, token)
		if err == nil && decodeErr != nil {
			err = badRequest("The request body is not a JSON object of the expected shape.")
		}
		return c, err
	}
	if _, _, basic := r.BasicAuth(); !basic && form.Get("client_id") == "" && form.Get("client_assertion") == "" {
		return oauth.Client{}, &accessError{http.StatusUnauthorized, "invalid_client", "Client authentication is required."}
	}
	fc, err := p.authenticateClient(ctx, r, form)
	if err != nil {
		return oauth.Client{}, err
	}
	if decodeErr != nil {
		return fc, badRequest("The request body is not a JSON object of the expected shape.")
	}
	return fc, nil
}

func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (oauth.Client, error) {
	// As the token endpoint does, with client records cached for
	// ClientCacheTTL (client_cache.go says why that is safe).
	fclient, err := p.accessAuth.AuthenticateClient(ctx, r, form)
	if err == nil && fclient.IsPublic() {
		err = fosite.ErrInvalidClient.WithHint("A public client cannot use this endpoint.")
	}
	if err != nil {
		err = protocolError(err)
		var rfc *fosite.RFC6749Error
		if !errors.As(err, &rfc) {
			return oauth.Client{}, err
		}
		if rfc.CodeField >= 500 {
			if errors.Is(err, mandates.ErrUnavailable) {
				return oauth.Client{}, fmt.Errorf("authenticate client: %w", mandates.ErrUnavailable)
			}
			return oauth.Client{}, fmt.Errorf("authenticate client: %w", err)
		}
		desc := rfc.DescriptionField
		if rfc.HintField != "" {
			desc += " " + rfc.HintField
		}
		status := rfc.CodeField
		if errors.Is(err, fosite.ErrInvalidClient) {
			status = http.StatusUnauthorized
		}
		return oauth.Client{}, &accessError{status, rfc.ErrorField, desc}
	}
	fc, ok := fclient.(*fositeClient)
	if !ok {
		return oauth.Client{}, errors.New("authz: unexpected client type")
	}
	return fc.c, nil
}

// question turns an evaluation into the domain's question, naming the
// field at fault when it cannot.
func (p *Provider) question(ctx context.Context, c oauth.Client, e evaluation) (mandates.Question, string, error) {
	var q mandates.Question
	switch {
	case e.Subject == nil || e.Subject.Type != "user" || e.Subject.ID == "":
		return q, "", badRequest(`subject must be {"type": "user", "id": the actor's sub}.`)
	case e.Resource == nil || e.Resource.Type != "account" || e.Resource.ID == "":
		return q, "", badRequest(`resource must be {"type": "account", "id": the person's sub, "properties": {"procedure_area": …}}.`)
	case e.Action == nil || !mandates.Action(e.Action.Name).Valid():
		return q, "", badRequest("action.name must be consult, manage, dispose or personal.")
	}
	var props struct {
		Area string `json:"procedure_area"`
	}
	if len(e.Resource.Properties) > 0 {
		if err := json.Unmarshal(e.Resource.Properties, &props); err != nil {
			return q, "", badRequest("resource.properties.procedure_area must be a string.")
		}
	}
	area := mandates.Area(props.Area)
	switch {
	case props.Area == "":
		return q, "", badRequest("resource.properties.procedure_area is required.")
	case !area.Valid():
		return q, "", badRequest("resource.properties.procedure_area %q is not a procedure area.", props.Area)
	case len(c.ProcedureAreas) > 0 && !slices.Contains(c.ProcedureAreas, props.Area):
		return q, "", badRequest("resource.properties.procedure_area %q is not one of this client's registered procedure areas.", props.Area)
	}
	cosign := ""
	if v, ok := e.Context["cosignature_id"]; ok {
		s, isString := v.(string)
		if !isString || !mandates.IsID(s) {
			return q, "", badRequest("context.cosignature_id must be the id of a co-signature request.")
		}
		cosign = s
	}
	actor, person, err := p.PersonsOf(ctx, c, e.Subject.ID, e.Resource.ID)
	var se *SubError
	if errors.As(err, &se) && (errors.Is(err, mandates.ErrNotFound) || errors.Is(err, mandates.ErrInvalid)) {
		field := "resource.id"
		if se.Actor {
			field = "subject.id"
		}
		return q, "", badRequest("%s is not a subject Relais gave this client.", field)
	}
	if err != nil {
		return q, "", err
	}
	return mandates.Question{ActorID: actor, PersonID: person, Action: mandates.Action(e.Action.Name), Area: area}, cosign, nil
}

// evaluate answers one evaluation as AuthZEN's response object.
func (p *Provider) evaluate(ctx context.Context, c oauth.Client, e evaluation) (map[string]any, error) {
	q, cosign, err := p.question(ctx, c, e)
	if err != nil {
		return nil, err
	}
	ans, err := p.evaluator().Evaluate(ctx, q, c.ID, cosign)
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		return nil, badRequest("context.cosignature_id is not a co-signature request of this client.")
	case errors.Is(err, mandates.ErrInvalid):
		return nil, badRequest("The question is malformed.")
	case err != nil:
		return nil, err
	}
	return p.answerJSON(ans, q), nil
}

func representationJSON(r *mandates.Representation) map[string]any {
	out := map[string]any{"id": r.ID, "kind": r.Kind, "role": r.Role}
	if !r.ValidUntil.IsZero() {
		out["valid_until"] = r.ValidUntil.Unix() // as the representation claim says it
	}
	return out
}

// answerJSON is the decision and its context: the answer, the reason in
// both languages, the representation it rests on and, for cosign, how to
// obtain the other party's agreement.
func (p *Provider) answerJSON(ans mandates.Answer, q mandates.Question) map[string]any {
	reason := locales.Reason(ans.Reason)
	ctx := map[string]any{"answer": ans.Decision, "reason": map[string]string{"fr": reason.FR, "en": reason.EN}}
	if ans.Representation != nil {
		ctx["representation"] = representationJSON(ans.Representation)
	}
	if ans.Decision == mandates.Cosign {
		agreement, how := "represented_person", locales.HowToAgree(mandates.PartyPerson)
		// The person acting needs their representative's agreement; so does
		// an aidant or a trusted person where a measure over the person asks
		// for it (ans.Agreement).
		if q.ActorID == q.PersonID || ans.Agreement != nil {
			agreement, how = "representative", locales.HowToAgree(mandates.PartyRepresentative)
		}
		ctx["cosignature"] = map[string]any{"endpoint": p.cfg.Issuer + cosignaturesPath, "agreement_of": agreement,
			"how": map[string]string{"fr": how.FR, "en": how.EN}}
	}
	return map[string]any{"decision": ans.Decision == mandates.Allowed, "context": ctx}
}

// accessEvaluation is AuthZEN's Access Evaluation API (§6).
func (p *Provider) accessEvaluation(w http.ResponseWriter, r *http.Request) error {
	var req evaluationRequest
	c, err := p.readAccessRequest(w, r, &req, func() clientCredentials { return req.clientCredentials })
	if err != nil {
		return err
	}
	out, err := p.evaluate(r.Context(), c, req.evaluation)
	if err != nil {
		return err
	}
	writeAccessJSON(w, r, http.StatusOK, out)
	return nil
}

// writeAccessJSON answers, echoing AuthZEN's X-Request-ID (§10.1.3).
func writeAccessJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if id := r.Header.Get("X-Request-ID"); id != "" && len(id) <= 200 {
		w.Header().Set("X-Request-ID", id)
	}
	writeJSON(w, status, v)
}

// merge fills what an item leaves out from the request's defaults: an
// item's subject, resource, action or context replaces the default whole
// (AuthZEN §7.1).
func merge(def, item evaluation) evaluation {
	if item.Subject == nil {
		item.Subject = def.Subject
	}
	if item.Resource == nil {
		item.Resource = def.Resource
	}
	if item.Action == nil {
		item.Action = def.Action
	}
	if item.Context == nil {
		item.Context = def.Context
	}
	return item
}

// accessEvaluations is AuthZEN's Access Evaluations API (§7): one answer
// per item, in order; an item that cannot be evaluated answers false with
// the error in its context, and the others are still answered.
func (p *Provider) accessEvaluations(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var req evaluationsRequest
	c, err := p.readAccessRequest(w, r, &req, func() clientCredentials { return req.clientCredentials })
	if err != nil {
		return err
	}
	if len(req.Evaluations) == 0 {
		// §7.1: without items, the request is a single evaluation.
		out, err := p.evaluate(ctx, c, req.evaluation)
		if err != nil {
			return err
		}
		writeAccessJSON(w, r, http.StatusOK, out)
		return nil
	}
	if len(req.Evaluations) > maxEvaluations {
		return badRequest("At most %d evaluations per request.", maxEvaluations)
	}
	semantic := req.Options.Semantic
	switch semantic {
	case "", "execute_all", "deny_on_first_deny", "permit_on_first_permit":
	default:
		return badRequest("options.evaluations_semantic must be execute_all, deny_on_first_deny or permit_on_first_permit.")
	}
	answers := make([]map[string]any, 0, len(req.Evaluations))
	for _, item := range req.Evaluations {
		out, err := p.evaluate(ctx, c, merge(req.evaluation, item))
		if err != nil {
			var ae *accessError
			if !errors.As(err, &ae) {
				return err
			}
			out = map[string]any{"decision": false, "context": map[string]any{
				"error": map[string]any{"status": ae.status, "code": ae.code, "message": ae.description}}}
		}
		answers = append(answers, out)
		decision, _ := out["decision"].(bool)
		if (semantic == "deny_on_first_deny" && !decision) || (semantic == "permit_on_first_permit" && decision) {
			break
		}
	}
	writeAccessJSON(w, r, http.StatusOK, map[string]any{"evaluations": answers})
	return nil
}

func (p *Provider) cosignatureJSON(c mandates.Cosignature) map[string]any {
	now := p.cfg.Now()
	agreement := "representative"
	if c.Party == mandates.PartyPerson {
		agreement = "represented_person"
	}
	out := map[string]any{"id": c.ID, "status": c.EffectiveStatus(now), "agreement_of": agreement,
		"approve_url": p.cfg.Issuer + approvePath + c.ID, "expires_at": c.ExpiresAt.UTC().Format(time.RFC3339)}
	if !c.DecidedAt.IsZero() {
		out["decided_at"] = c.DecidedAt.UTC().Format(time.RFC3339)
	}
	if !c.UsedAt.IsZero() {
		out["used_at"] = c.UsedAt.UTC().Format(time.RFC3339)
	}
	return out
}

// openCosignature opens a co-signature request for one act: the body is
// the evaluation the site made (subject, resource, action) and the act's
// description, which the party who must agree reads.
func (p *Provider) openCosignature(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var req cosignatureRequest
	c, err := p.readAccessRequest(w, r, &req, func() clientCredentials { return req.clientCredentials })
	if err != nil {
		return err
	}
	if strings.TrimSpace(req.Description) == "" {
		return badRequest("description is required: the act, in words the person who agrees understands.")
	}
	q, _, err := p.question(ctx, c, req.evaluation)
	if err != nil {
		return err
	}
	cs, err := p.evaluator().RequestCosignature(ctx, mandates.CosignatureRequest{ClientID: c.ID, PersonID: q.PersonID, ActorID: q.ActorID,
		Action: q.Action, Area: q.Area, Description: req.Description})
	var inv *mandates.InvalidError
	switch {
	case errors.Is(err, mandates.ErrNoCosignNeeded):
		return badRequest("This act does not call for a co-signature now: evaluate it first; the answer must be cosign.")
	case errors.As(err, &inv):
		return badRequest("The request is invalid: %s.", inv.Message())
	case errors.Is(err, mandates.ErrInvalid):
		return badRequest("The request is invalid.")
	case err != nil:
		return err
	}
	w.Header().Set("Location", p.cfg.Issuer+cosignaturesPath+"/"+cs.ID)
	writeAccessJSON(w, r, http.StatusCreated, p.cosignatureJSON(cs))
	return nil
}

// cosignatureStatus tells the site that opened a request where it stands;
// to any other client it does not exist.
func (p *Provider) cosignatureStatus(w http.ResponseWriter, r *http.Request) error {
	c, err := p.readAccessRequest(w, r, nil, func() clientCredentials { return clientCredentials{} })
	if err != nil {
		return err
	}
	id := strings.TrimPrefix(r.URL.Path, cosignaturesPath+"/")
	cs, err := p.evaluator().CosignatureOf(r.Context(), c.ID, id)
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		return &accessError{http.StatusNotFound, "not_found", "No co-signature request of this client has this id."}
	case err != nil:
		return err
	}
	writeAccessJSON(w, r, http.StatusOK, p.cosignatureJSON(cs))
	return nil
}
