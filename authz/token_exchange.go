package authz

import (
	"context"
	"errors"
	"slices"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// RFC 8693 token exchange: a site holding a person's access token calls
// another administration's API for that person. The new token keeps the
// person (sub, re-derived for the target's sector), narrows audience and
// scope, and nests the chain of actors in act (§4.1): the calling site
// acts now, on behalf of whoever acted before.
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
)

// ErrInvalidTarget is RFC 8693 §2.2.2's error for an audience the client
// may not obtain a token for.
var ErrInvalidTarget = &fosite.RFC6749Error{
	ErrorField: "invalid_target", DescriptionField: "The requested audience is not one this client may obtain a token for.",
	CodeField: 400,
}

// tokenExchange is fosite's handler for the grant; fosite v0.49 has none.
type tokenExchange struct {
	p      *Provider
	helper *oauth2.HandleHelper
}

var _ fosite.TokenEndpointHandler = (*tokenExchange)(nil)

func (h *tokenExchange) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (h *tokenExchange) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(GrantTypeTokenExchange)
}

func invalidSubjectToken(hint string) error {
	// RFC 8693 §2.2.2: an invalid or unacceptable subject_token is
	// invalid_request.
	return fosite.ErrInvalidRequest.WithHint(hint)
}

func (h *tokenExchange) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	fc, ok := r.GetClient().(*fositeClient)
	if !ok || !fc.GetGrantTypes().Has(GrantTypeTokenExchange) || fc.IsPublic() {
		return fosite.ErrUnauthorizedClient.WithHint("This client may not exchange tokens.")
	}
	form := r.GetRequestForm()
	switch {
	case form.Get("actor_token") != "":
		return fosite.ErrInvalidRequest.WithHint("actor_token is not supported: the client calling is the actor.")
	case form.Get("requested_token_type") != "" && form.Get("requested_token_type") != TokenTypeAccessToken:
		return fosite.ErrInvalidRequest.WithHint("Only access tokens can be requested.")
	case form.Get("subject_token") == "":
		return fosite.ErrInvalidRequest.WithHint("subject_token is missing.")
	case form.Get("subject_token_type") != TokenTypeAccessToken:
		return fosite.ErrInvalidRequest.WithHint("subject_token_type must be " + TokenTypeAccessToken + ": only access tokens issued by Relais are exchanged.")
	}
	auds := r.GetRequestedAudience()
	if len(auds) != 1 {
		return ErrInvalidTarget.WithHint("Name exactly one audience: the client id of the API to call.")
	}
	if !slices.Contains(fc.c.ExchangeAudiences, auds[0]) {
		return ErrInvalidTarget
	}
	target, err := h.p.clients.Client(ctx, auds[0])
	if errors.Is(err, mandates.ErrNotFound) {
		return ErrInvalidTarget
	}
	if err != nil {
		return err
	}

	_, orig, err := h.p.oauth.IntrospectToken(ctx, form.Get("subject_token"), fosite.AccessToken, NewSession())
	if err != nil {
		if errors.Is(err, mandates.ErrUnavailable) {
			return fosite.ErrTemporarilyUnavailable.WithWrap(err)
		}
		return invalidSubjectToken("The subject token is not a valid access token of this issuer: malformed, expired, revoked or signed by someone else.")
	}
	osess, ok := orig.GetSession().(*Session)
	if !ok || osess.PersonID == "" {
		return invalidSubjectToken("The subject token is not for a person.")
	}
	if orig.GetClient().GetID() != fc.c.ID {
		return invalidSubjectToken("The subject token was issued to another client.")
	}
	granted, details, err := h.p.subjectGrant(ctx, osess, orig.GetGrantedScopes(), fc.c, form.Get("authorization_details"))
	if err != nil {
		return err
	}

	// Scope narrows: what the site asks, within what the subject token has
	// and what the target may receive; never a refresh token.
	requested := r.GetRequestedScopes()
	if len(requested) == 0 {
		// RFC 8693 §2.1: scope is optional. Without it the exchanged token
		// gets what the subject token has and the audience may receive,
		// minus offline_access, which an exchange never grants.
		requested = slices.DeleteFunc(slices.Clone(granted), func(s string) bool {
			return s == "offline_access" || !slices.Contains(target.Scopes, s)
		})
	}
	for _, s := range requested {
		if !slices.Contains(granted, s) || !slices.Contains(target.Scopes, s) {
			return fosite.ErrInvalidScope.WithHintf("The scope '%s' is not in the subject token, or not one the audience may receive.", s)
		}
		if s != "offline_access" {
			r.GrantScope(s)
		}
	}
	r.GrantAudience(target.ID)

	sess, ok := r.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithHint("Unexpected session type.")
	}
	sub, err := h.p.rememberSubject(ctx, target, osess.PersonID)
	if err != nil {
		return err
	}
	sess.Subject, sess.PersonID, sess.AMR, sess.AuthTime = sub, osess.PersonID, osess.AMR, osess.AuthTime
	sess.ActorID, sess.RepresentationID, sess.OrganisationID = osess.ActorID, osess.RepresentationID, osess.OrganisationID
	// A bound subject token's exchange stays bound to its key (dpop.go).
	sess.DPoPJKT = osess.DPoPJKT
	sess.AccessClaims.Subject = sub
	act := map[string]any{"sub": fc.c.ID, "client_id": fc.c.ID}
	if prev, ok := osess.AccessClaims.Extra["act"].(map[string]any); ok {
		act["act"] = h.p.resubjectAct(ctx, target, osess.ActorID, prev)
	}
	sess.AccessClaims.Extra["act"] = act
	if rep, ok := osess.AccessClaims.Extra["representation"]; ok {
		sess.AccessClaims.Extra["representation"] = rep
	}
	if amr, ok := osess.AccessClaims.Extra["amr"]; ok {
		// How the actor logged in still holds (RFC 9068 §2.2.1).
		sess.AccessClaims.Extra["amr"] = amr
	}
	sess.AuthorizationDetails = details
	if len(details) > 0 {
		sess.AccessClaims.Extra["authorization_details"] = details
	}
	sess.SetExpiresAt(fosite.AccessToken, h.p.cfg.Now().UTC().Add(h.p.cfg.AccessTokenTTL))
	return nil
}

// subjectGrant is what the subject token allows now (its session narrowed
// to the representation as it is, DESIGN.md §4) and the authorization
// details the exchanged token gets: token exchange only narrows.
func (p *Provider) subjectGrant(ctx context.Context, osess *Session, granted []string, c oauth.Client, rawDetails string) ([]string, []AuthorizationDetail, error) {
	var v *mandates.View
	var policy *mandates.Policy
	if osess.RepresentationID != "" {
		now, err := p.checkActing(ctx, osess)
		if err == nil {
			v, policy = &now, p.delegation.Policy()
			granted, err = narrowSession(osess, granted, now, policy)
		}
		switch {
		case errors.Is(err, ErrNothingLeft):
			return nil, nil, invalidSubjectToken("The representation no longer allows anything the subject token was for.")
		case errors.Is(err, ErrRepresentationInactive):
			return nil, nil, invalidSubjectToken("The representation the subject token rests on is no longer in force.")
		case err != nil:
			return nil, nil, err
		}
	}
	details, err := exchangeDetails(osess.AuthorizationDetails, rawDetails, c, v, policy)
	return granted, details, err
}

// exchangeDetails are the exchanged token's authorization details: the
// subject token's, or those the request names (RFC 9396 §6 lets a token
// request carry them), each within the subject token's, then checked
// against the client and the representation as an authorization is.
func exchangeDetails(have []AuthorizationDetail, raw string, c oauth.Client, v *mandates.View, policy *mandates.Policy) ([]AuthorizationDetail, error) {
	if raw == "" {
		return have, nil
	}
	want, err := ParseAuthorizationDetails(raw)
	if err != nil {
		return nil, err
	}
	if len(have) > 0 {
		if want, err = withinDetails(want, have); err != nil {
			return nil, err
		}
	}
	return grantDetails(want, c, v, policy)
}

// withinDetails keeps each asked detail that one of the subject token's
// holds whole; one that goes beyond them is refused, or cut down to them
// when the site asked to narrow.
func withinDetails(want, have []AuthorizationDetail) ([]AuthorizationDetail, error) {
	var out []AuthorizationDetail
	for _, d := range want {
		var parts []AuthorizationDetail
		for _, h := range have {
			g, ok := intersectDetail(d, h)
			if ok && len(g.Actions) == len(d.Actions) && (len(d.ProcedureAreas) == 0 || len(g.ProcedureAreas) == len(d.ProcedureAreas)) {
				parts = []AuthorizationDetail{g} // held whole by h
				break
			}
			if ok && d.Narrow {
				parts = append(parts, g)
			}
		}
		if len(parts) == 0 && !d.Narrow {
			return nil, ErrInvalidAuthorizationDetails.WithHint("An authorization detail asks for more than the subject token carries.")
		}
		out = append(out, parts...)
	}
	if len(out) == 0 {
		return nil, ErrInvalidAuthorizationDetails.WithHint("Nothing asked for is in the subject token.")
	}
	return out, nil
}

// intersectDetail is what d asks for within h: the actions of both, and
// the areas of both (an empty list is every area h or d has).
func intersectDetail(d, h AuthorizationDetail) (AuthorizationDetail, bool) {
	g := AuthorizationDetail{Type: d.Type, Narrow: d.Narrow}
	for _, a := range d.Actions {
		if slices.Contains(h.Actions, a) {
			g.Actions = append(g.Actions, a)
		}
	}
	switch {
	case len(h.ProcedureAreas) == 0:
		g.ProcedureAreas = d.ProcedureAreas
	case len(d.ProcedureAreas) == 0:
		g.ProcedureAreas = h.ProcedureAreas
	default:
		for _, a := range d.ProcedureAreas {
			if slices.Contains(h.ProcedureAreas, a) {
				g.ProcedureAreas = append(g.ProcedureAreas, a)
			}
		}
		if len(g.ProcedureAreas) == 0 {
			return g, false
		}
	}
	return g, len(g.Actions) > 0
}

// resubjectAct copies a chain of actors for the target: the person who
// acted gets the sub the target's sector knows them by (pairwise subjects
// differ by sector); clients, named by their id, stay as they are.
func (p *Provider) resubjectAct(ctx context.Context, target oauth.Client, actorID string, act map[string]any) map[string]any {
	out := make(map[string]any, len(act))
	for k, v := range act {
		out[k] = v
	}
	if _, isClient := act["client_id"]; !isClient && actorID != "" {
		if sub, err := p.rememberSubject(ctx, target, actorID); err == nil {
			out["sub"] = sub
		}
	}
	if inner, ok := act["act"].(map[string]any); ok {
		out["act"] = p.resubjectAct(ctx, target, actorID, inner)
	}
	return out
}

func (h *tokenExchange) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	// The token and its journal entry commit together (DESIGN.md §5).
	err := h.p.storage.ev.inTx(ctx, func(ctx context.Context) error {
		_, err := h.helper.IssueAccessToken(ctx, h.p.cfg.AccessTokenTTL, r, resp)
		return err
	})
	if err != nil {
		return err
	}
	resp.SetExtra("issued_token_type", TokenTypeAccessToken) // RFC 8693 §2.2.1
	return nil
}
