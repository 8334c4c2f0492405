package authz

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// Delegation is what the provider needs of the representation service
// (mandates.Service implements it): whether an actor may use a
// representation now, the measures over a person, and the policy.
type Delegation interface {
	Usable(ctx context.Context, a mandates.Actor, representationID string, at time.Time) (mandates.View, error)
	Protection(ctx context.Context, personID string, at time.Time) ([]mandates.View, error)
	Policy() *mandates.Policy
}

// Scopes that say what a site learns about a measure, or what a site may
// do: the person's own measure is sensitive (DESIGN.md §4).
const (
	// ScopeProtection: for a person acting for themselves, which measure
	// limits them and what they may do alone.
	ScopeProtection = "protection"
)

// ErrRepresentationInactive: the representation a grant rests on is no
// longer in force (suspended, withdrawn, ended) or no longer the actor's.
var ErrRepresentationInactive = errors.New("authz: the representation is no longer in force")

// checkActing says whether the actor may still act under the session's
// representation, at every use of a grant.
func (p *Provider) checkActing(ctx context.Context, s *Session) (mandates.View, error) {
	if s.RepresentationID == "" {
		return mandates.View{}, nil
	}
	if p.delegation == nil {
		return mandates.View{}, fmt.Errorf("%w: no representation service", ErrRepresentationInactive)
	}
	v, err := p.delegation.Usable(ctx, actorOf(s.ActorID, s.AMR), s.RepresentationID, p.cfg.Now())
	switch {
	case err == nil && v.PersonID == s.PersonID:
		return v, nil
	case err == nil, errors.Is(err, mandates.ErrNotFound), errors.Is(err, mandates.ErrInactive), errors.Is(err, mandates.ErrSecondFactor):
		return mandates.View{}, fmt.Errorf("%w: %v", ErrRepresentationInactive, err)
	}
	return mandates.View{}, err
}

// actorOf is the actor of a login: who, and whether a second factor
// (RFC 8176 "otp") proved it.
func actorOf(personID string, amr []string) mandates.Actor {
	return mandates.Actor{PersonID: personID, SecondFactor: slices.Contains(amr, "otp")}
}

// actClaim is RFC 8693 §4.1's act: who acts, as the site knows them
// (their pairwise sub there), with the names the site shows ("Marie
// Martin, tutrice, pour Jean Martin"): name is mandates.DisplayName, the
// name Relais's own pages give the actor; FranceConnect's fields beside it.
func (p *Provider) actClaim(c oauth.Client, actor mandates.Person, v mandates.View) map[string]any {
	act := map[string]any{"sub": p.Subject(c, actor.ID), "name": mandates.DisplayName(actor),
		"given_name": actor.GivenNames, "family_name": actor.FamilyName}
	if actor.PreferredName != "" {
		act["preferred_username"] = actor.PreferredName
	}
	if v.Organisation != nil {
		act["organisation"] = map[string]any{"name": v.Organisation.Name, "kind": string(v.Organisation.Kind)}
	}
	return act
}

// representationClaim says under which representation the actor acts and
// what it allows, for the site to show and to check before an act.
func representationClaim(v mandates.View, policy *mandates.Policy) map[string]any {
	actions := map[string]any{}
	for _, a := range mandates.Actions {
		actions[string(a)] = string(policy.Allows(&v, a, ""))
	}
	areas := areaCodes(v.Areas)
	role := locales.Role(v.Role)
	claim := map[string]any{
		"id": v.ID, "kind": string(v.Kind), "role": string(v.Role),
		"role_label":      map[string]string{"fr": role.FR, "en": role.EN},
		"actions":         actions,
		"procedure_areas": areas,
	}
	if !v.ValidUntil.IsZero() {
		claim["valid_until"] = v.ValidUntil.Unix()
	}
	return claim
}

// areaCodes lists areas as claims give them: every area, named, when
// a general measure covers them all (an empty list).
func areaCodes(areas []mandates.Area) []string {
	out := make([]string, 0, len(mandates.Areas))
	for _, a := range areas {
		out = append(out, string(a))
	}
	if len(out) == 0 {
		for _, a := range mandates.Areas {
			out = append(out, string(a))
		}
	}
	return out
}

// protectionClaim lists the measures that limit a person acting for
// themselves, and what each leaves them to do alone.
func protectionClaim(vs []mandates.View, policy *mandates.Policy) []any {
	out := make([]any, 0, len(vs))
	for _, v := range vs {
		alone := map[string]any{}
		for _, a := range mandates.Actions {
			alone[string(a)] = string(policy.PersonDecision(&v.Representation, a, ""))
		}
		m := map[string]any{"kind": string(v.Kind), "actions": alone, "procedure_areas": areaCodes(v.Areas)}
		if !v.ValidUntil.IsZero() {
			m["valid_until"] = v.ValidUntil.Unix()
		}
		out = append(out, m)
	}
	return out
}

// actingScopes narrows what a representative is granted: identity claims
// and refresh tokens only where the representation lets them see the
// person's file; never the person's own protection scope.
func actingScopes(requested []string, v mandates.View, policy *mandates.Policy) []string {
	canSee := false
	areas := v.Areas
	if len(areas) == 0 {
		areas = append(areas, mandates.Areas...)
	}
	for _, a := range areas {
		if policy.Allows(&v, mandates.Consult, a) != mandates.No {
			canSee = true
		}
	}
	out := []string{}
	for _, s := range requested {
		switch {
		case s == ScopeProtection:
		case s == "openid" || canSee:
			out = append(out, s)
		}
	}
	return out
}

// The choice of whom a person acts for travels from the "for whom?" page
// back to /authorize as a sealed value, bound to the browser session and
// the site: a site cannot choose for the person by adding it to its
// request, and a value seen elsewhere cannot be reused.
const choiceTTL = 10 * time.Minute

// ActingSelf is the choice of acting for oneself.
const ActingSelf = "self"

// SealChoice seals the choice (ActingSelf or a representation id) made in
// browser session sessionID for client clientID.
func (p *Provider) SealChoice(sessionID, clientID, choice string) string {
	exp := strconv.FormatInt(p.cfg.Now().Add(choiceTTL).Unix(), 10)
	return choice + "." + exp + "." + p.choiceMAC(sessionID, clientID, choice, exp)
}

// OpenChoice returns the choice sealed by SealChoice for this session and
// client, or false when it is malformed, forged, for another session or
// site, or too old.
func (p *Provider) OpenChoice(sealed, sessionID, clientID string) (string, bool) {
	parts := strings.Split(sealed, ".")
	if len(parts) != 3 {
		return "", false
	}
	choice, exp, mac := parts[0], parts[1], parts[2]
	want := p.choiceMAC(sessionID, clientID, choice, exp)
	if !hmac.Equal([]byte(mac), []byte(want)) {
		return "", false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || p.cfg.Now().Unix() > n {
		return "", false
	}
	return choice, true
}

func (p *Provider) choiceMAC(sessionID, clientID, choice, exp string) string {
	m := hmac.New(sha256.New, p.choiceKey)
	for _, part := range []string{sessionID, clientID, choice, exp} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ErrInvalidAuthorizationDetails is RFC 9396 §5's error.
var ErrInvalidAuthorizationDetails = &fosite.RFC6749Error{
	ErrorField: "invalid_authorization_details", DescriptionField: "The authorization details are not valid or go beyond what is possible.",
	CodeField: 400,
}

// AuthorizationDetailType is Relais's RFC 9396 type: a public-service act.
const AuthorizationDetailType = "public_service_act"

// AuthorizationDetail is one RFC 9396 authorization detail of type
// public_service_act: the action classes and procedure areas a site wants
// to act in. Narrow, when true, asks Relais to keep only what the
// representation allows instead of refusing the request.
type AuthorizationDetail struct {
	Type           string   `json:"type"`
	Actions        []string `json:"actions"`
	ProcedureAreas []string `json:"procedure_areas"`
	Narrow         bool     `json:"narrow,omitempty"`
}

// ParseAuthorizationDetails reads the authorization_details parameter:
// a JSON array of details, each of Relais's type with known actions and
// areas (RFC 9396 §2, §5).
func ParseAuthorizationDetails(raw string) ([]AuthorizationDetail, error) {
	if raw == "" {
		return nil, nil
	}
	var ds []AuthorizationDetail
	if err := jsonStrict([]byte(raw), &ds); err != nil || len(ds) == 0 {
		return nil, ErrInvalidAuthorizationDetails.WithHint("authorization_details must be a JSON array of objects of type public_service_act.")
	}
	for _, d := range ds {
		if d.Type != AuthorizationDetailType {
			return nil, ErrInvalidAuthorizationDetails.WithHintf("The authorization detail type %q is not supported; use public_service_act.", d.Type)
		}
		if len(d.Actions) == 0 {
			return nil, ErrInvalidAuthorizationDetails.WithHint("A public_service_act detail must list its actions.")
		}
		for _, a := range d.Actions {
			if a != string(mandates.Consult) && a != string(mandates.Manage) && a != string(mandates.Dispose) {
				return nil, ErrInvalidAuthorizationDetails.WithHintf("The action %q is not one of consult, manage, dispose.", a)
			}
		}
		for _, a := range d.ProcedureAreas {
			if !mandates.Area(a).Valid() {
				return nil, ErrInvalidAuthorizationDetails.WithHintf("The procedure area %q is unknown.", a)
			}
		}
	}
	return ds, nil
}

// grantDetails checks the details against what the client covers and, when
// an actor acts for someone, against the representation: an action the
// representation answers "no" to in an area, or an area it does not cover,
// refuses the request, or is left out when the site asked to narrow.
func grantDetails(ds []AuthorizationDetail, c oauth.Client, v *mandates.View, policy *mandates.Policy) ([]AuthorizationDetail, error) {
	var out []AuthorizationDetail
	for _, d := range ds {
		areas := d.ProcedureAreas
		if len(areas) == 0 {
			areas = c.ProcedureAreas
		}
		for _, a := range areas {
			if len(c.ProcedureAreas) > 0 && !slices.Contains(c.ProcedureAreas, a) {
				return nil, ErrInvalidAuthorizationDetails.WithHintf("The procedure area %q is not one of this site's.", a)
			}
		}
		if v == nil {
			out = append(out, d)
			continue
		}
		g := AuthorizationDetail{Type: d.Type}
		for _, a := range areas {
			if !v.Covers(mandates.Area(a)) {
				if !d.Narrow {
					return nil, ErrInvalidAuthorizationDetails.WithHintf("The representation does not cover the procedure area %q.", a)
				}
				continue
			}
			g.ProcedureAreas = append(g.ProcedureAreas, a)
		}
		for _, act := range d.Actions {
			ok := len(g.ProcedureAreas) > 0 || len(areas) == 0
			for _, a := range g.ProcedureAreas {
				if policy.Allows(v, mandates.Action(act), mandates.Area(a)) == mandates.No {
					ok = false
				}
			}
			if len(areas) == 0 && policy.Allows(v, mandates.Action(act), "") == mandates.No {
				ok = false
			}
			switch {
			case ok:
				g.Actions = append(g.Actions, act)
			case !d.Narrow:
				return nil, ErrInvalidAuthorizationDetails.WithHintf("The representation does not allow the action %q there.", act)
			}
		}
		if len(g.Actions) > 0 {
			out = append(out, g)
		}
	}
	if len(ds) > 0 && len(out) == 0 {
		return nil, ErrInvalidAuthorizationDetails.WithHint("Nothing asked for is allowed by the representation.")
	}
	return out, nil
}

// jsonStrict decodes one JSON value, refusing unknown fields and trailing
// data.
func jsonStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// grant is what an authorization gives: whose account, who acts, under
// which representation, which scopes, claims and details.
type grant struct {
	personID, actorID, representationID, sub string
	organisationID                           string // the organisation the actor acts for, if any
	scopes                                   []string
	claims                                   map[string]any
	details                                  []AuthorizationDetail
}

// grantFor works out the grant of an authorization: for the person
// themselves, or, when they chose a representation, for the person it
// represents, checked again now (it may have ended since the choice).
func (p *Provider) grantFor(ctx context.Context, a *AuthorizeRequest, login Login) (grant, error) {
	now := p.cfg.Now()
	requested := a.ar.GetRequestedScopes()
	g := grant{claims: map[string]any{}}
	if login.RepresentationID == "" {
		g.personID, g.scopes = login.PersonID, requested
		var err error
		if g.sub, err = p.rememberSubject(ctx, a.client, login.PersonID); err != nil {
			return g, err
		}
		if slices.Contains(requested, ScopeProtection) && p.delegation != nil {
			vs, err := p.delegation.Protection(ctx, login.PersonID, now)
			if err != nil {
				return g, err
			}
			g.claims[ScopeProtection] = protectionClaim(vs, p.delegation.Policy())
		}
		g.details, err = grantDetails(a.details, a.client, nil, nil)
		return g, err
	}
	if p.delegation == nil {
		return g, fosite.ErrAccessDenied.WithHint("Acting for someone else is not available.")
	}
	v, err := p.delegation.Usable(ctx, actorOf(login.PersonID, login.AMR), login.RepresentationID, now)
	if errors.Is(err, mandates.ErrSecondFactor) {
		return g, fosite.ErrAccessDenied.WithHint("Acting for an organisation needs a login with a second factor.").WithWrap(err)
	}
	if errors.Is(err, mandates.ErrNotFound) || errors.Is(err, mandates.ErrInactive) {
		return g, fosite.ErrAccessDenied.WithHint("The representation chosen is no longer in force.").WithWrap(err)
	}
	if err != nil {
		return g, err
	}
	actor, err := p.persons.Person(ctx, login.PersonID)
	if err != nil {
		return g, err
	}
	policy := p.delegation.Policy()
	g.personID, g.actorID, g.representationID = v.PersonID, actor.ID, v.ID
	g.organisationID = v.Representative.OrganisationID
	if g.sub, err = p.rememberSubject(ctx, a.client, v.PersonID); err != nil {
		return g, err
	}
	if _, err = p.rememberSubject(ctx, a.client, actor.ID); err != nil {
		return g, err
	}
	g.scopes = actingScopes(requested, v, policy)
	g.claims["act"] = p.actClaim(a.client, actor, v)
	g.claims["representation"] = representationClaim(v, policy)
	g.details, err = grantDetails(a.details, a.client, &v, policy)
	return g, err
}
