package authz

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/mandates"
)

// A grant made while acting for someone outlives its issue: a refresh
// token for 30 days, an access token for minutes, read back at userinfo
// and introspection. At each of those uses the grant is derived again from
// the representation and the policy as they are now (DESIGN.md §4): what
// the representation no longer allows goes at once, and since every value
// is the stored one intersected with today's, nothing ever widens a grant.

// ErrNothingLeft: the grant asked for authorization details and the
// representation no longer allows any of them. The grant ends, as when the
// representation itself ends: a refresh answers invalid_grant.
var ErrNothingLeft = errors.New("authz: the representation no longer allows anything the grant was for")

// grantEnded says whether err means the grant may no longer be used.
func grantEnded(err error) bool {
	return errors.Is(err, ErrRepresentationInactive) || errors.Is(err, ErrNothingLeft)
}

// grantNow checks that the session's representation may still be used and
// narrows the session to what it allows now; it returns the granted
// scopes that are left. A person acting for themselves keeps theirs.
func (p *Provider) grantNow(ctx context.Context, s *Session, granted []string) ([]string, error) {
	if s.RepresentationID == "" {
		return granted, nil
	}
	v, err := p.checkActing(ctx, s)
	if err != nil {
		return nil, err
	}
	return narrowSession(s, granted, v, p.delegation.Policy())
}

// narrowSession narrows the session's representation claim (ID token and
// access token), its authorization details and the granted scopes to what
// v allows now, and returns the scopes.
func narrowSession(s *Session, granted []string, v mandates.View, policy *mandates.Policy) ([]string, error) {
	had := len(s.AuthorizationDetails) > 0
	s.AuthorizationDetails = narrowDetails(s.AuthorizationDetails, v, policy)
	if had && len(s.AuthorizationDetails) == 0 {
		return nil, ErrNothingLeft
	}
	ensureExtras(s)
	rep := narrowRepresentation(s.AccessClaims.Extra["representation"], representationClaim(v, policy))
	if areas, ok := rep["procedure_areas"].([]string); ok && len(areas) == 0 {
		// None of the areas granted is covered now; an empty list would
		// read as every area.
		return nil, ErrNothingLeft
	}
	s.Claims.Extra["representation"] = rep
	s.AccessClaims.Extra["representation"] = rep
	delete(s.AccessClaims.Extra, "authorization_details")
	if len(s.AuthorizationDetails) > 0 {
		s.AccessClaims.Extra["authorization_details"] = s.AuthorizationDetails
	}
	// actingScopes only removes from what it is given: the granted scopes
	// intersected with what the representation lets one see now.
	return actingScopes(granted, v, policy), nil
}

// ensureExtras allocates the claim maps a stored session may have come
// back without (JSON null), so narrowing never writes to a nil map.
func ensureExtras(s *Session) {
	if s.Claims == nil {
		s.Claims = &jwt.IDTokenClaims{}
	}
	if s.Claims.Extra == nil {
		s.Claims.Extra = map[string]any{}
	}
	if s.GetJWTClaims(); s.AccessClaims.Extra == nil {
		s.AccessClaims.Extra = map[string]any{}
	}
}

// setGrantedScopes replaces a request's granted scopes; fosite's requests
// only add to them, and a refresh copies the stored ones.
func setGrantedScopes(r fosite.Requester, scopes []string) {
	switch x := r.(type) {
	case *fosite.AccessRequest:
		x.GrantedScope = fosite.Arguments(scopes)
	case *fosite.AuthorizeRequest:
		x.GrantedScope = fosite.Arguments(scopes)
	case *fosite.Request:
		x.GrantedScope = fosite.Arguments(scopes)
	}
}

// withholdRefreshToken keeps the refresh token from a refresh whose grant
// has lost offline_access (narrowed, above): fosite's refresh handler makes
// one whatever the scopes, and its next use would be refused.
func withholdRefreshToken(ar fosite.AccessRequester, resp fosite.AccessResponder) {
	if !ar.GetGrantTypes().ExactOne("refresh_token") || ar.GetGrantedScopes().Has("offline_access") {
		return
	}
	if r, ok := resp.(*fosite.AccessResponse); ok {
		delete(r.Extra, "refresh_token")
	}
}

// narrowDetails keeps of each granted detail the areas the representation
// still covers and the actions it still allows in all of them, as
// grantDetails does for a site that asks to narrow; a detail with nothing
// left goes. An empty list of areas is every area.
func narrowDetails(ds []AuthorizationDetail, v mandates.View, policy *mandates.Policy) []AuthorizationDetail {
	var out []AuthorizationDetail
	for _, d := range ds {
		areas := d.ProcedureAreas
		if len(areas) == 0 && len(v.Areas) > 0 {
			areas = areaCodes(v.Areas)
		}
		g := AuthorizationDetail{Type: d.Type}
		for _, a := range areas {
			if v.Covers(mandates.Area(a)) {
				g.ProcedureAreas = append(g.ProcedureAreas, a)
			}
		}
		if len(areas) > 0 && len(g.ProcedureAreas) == 0 {
			continue
		}
		for _, act := range d.Actions {
			if allowsIn(policy, &v, mandates.Action(act), g.ProcedureAreas) {
				g.Actions = append(g.Actions, act)
			}
		}
		if len(g.Actions) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// allowsIn says whether v's representative may do act (alone or with an
// agreement) in every one of areas; with none, in general. A mandate or a
// proxy never allows more than the measures over the person leave.
func allowsIn(policy *mandates.Policy, v *mandates.View, act mandates.Action, areas []string) bool {
	if len(areas) == 0 {
		return policy.Allows(v, act, "") != mandates.No
	}
	for _, a := range areas {
		if policy.Allows(v, act, mandates.Area(a)) == mandates.No {
			return false
		}
	}
	return true
}

// storedRepresentation is what narrowing reads of a representation claim
// as it was granted (a map, or the same decoded from the stored session).
type storedRepresentation struct {
	Actions        map[string]string `json:"actions"`
	ProcedureAreas []string          `json:"procedure_areas"`
	ValidUntil     int64             `json:"valid_until"`
}

// narrowRepresentation is the claim as the representation says it now,
// within the one granted: only areas in both, each action at the stricter
// of the two answers, the earlier end.
func narrowRepresentation(granted any, now map[string]any) map[string]any {
	var old storedRepresentation
	b, err := json.Marshal(granted)
	if err != nil || granted == nil || json.Unmarshal(b, &old) != nil {
		return now
	}
	if areas, ok := now["procedure_areas"].([]string); ok {
		now["procedure_areas"] = slices.DeleteFunc(slices.Clone(areas), func(a string) bool { return !slices.Contains(old.ProcedureAreas, a) })
	}
	if actions, ok := now["actions"].(map[string]any); ok {
		for a, d := range actions {
			cur, _ := d.(string)
			actions[a] = stricter(cur, old.Actions[a])
		}
	}
	if until, ok := now["valid_until"].(int64); old.ValidUntil != 0 && (!ok || old.ValidUntil < until) {
		now["valid_until"] = old.ValidUntil
	}
	return now
}

// stricter is the more restrictive of two answers; an answer missing
// from the grant was not granted.
func stricter(a, b string) string {
	rank := func(d string) int {
		switch mandates.Decision(d) {
		case mandates.Allowed:
			return 2
		case mandates.Cosign:
			return 1
		}
		return 0
	}
	if rank(b) < rank(a) {
		if b == "" {
			return string(mandates.No)
		}
		return b
	}
	return a
}

// endedHint tells the site why its grant ended.
func endedHint(err error) string {
	if errors.Is(err, ErrNothingLeft) {
		return "The representation no longer allows anything this grant was for."
	}
	return "The representation this grant rests on is no longer in force."
}
