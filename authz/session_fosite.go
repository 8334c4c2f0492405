package authz

import (
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what fosite carries through a grant for Relais: the ID token
// claims (openid.DefaultSession), the access token's JWT claims (RFC 9068),
// and who logged in and how. It is stored as JSON with each grant record.
type Session struct {
	openid.DefaultSession
	// introspectedType is the token_type an introspection answer gives an
	// access token (introspection.go); never stored.
	introspectedType string
	AccessClaims     *jwt.JWTClaims `json:"access_claims"`
	AccessHeader     *jwt.Headers   `json:"access_header"`
	// PersonID is the local account id; Subject (in DefaultSession) is what
	// the client sees: pairwise by default.
	PersonID string    `json:"person_id"`
	AMR      []string  `json:"amr"`
	AuthTime time.Time `json:"auth_time"`
	// ActorID is who logged in and acts, when they act for PersonID under
	// RepresentationID; both empty when the person acts for themselves.
	ActorID          string `json:"actor_id,omitempty"`
	RepresentationID string `json:"representation_id,omitempty"`
	// OrganisationID is the organisation the actor acts for (an aidant's),
	// for the journal.
	OrganisationID string `json:"organisation_id,omitempty"`
	// AuthorizationDetails are the RFC 9396 details granted, returned in
	// the token response and carried in the access token.
	AuthorizationDetails []AuthorizationDetail `json:"authorization_details,omitempty"`
	// DPoPJKT is the RFC 7638 thumbprint of the key the grant's tokens are
	// bound to (RFC 9449 §6.1), kept with every token of the grant so a
	// refresh is proven with the same key (dpop.go).
	DPoPJKT string `json:"dpop_jkt,omitempty"`
}

// NewSession returns an empty session with every part allocated, as fosite
// expects when it decodes or fills one.
func NewSession() *Session {
	return &Session{
		DefaultSession: openid.DefaultSession{
			Claims:    &jwt.IDTokenClaims{Extra: map[string]any{}},
			Headers:   &jwt.Headers{Extra: map[string]any{}},
			ExpiresAt: map[fosite.TokenType]time.Time{},
		},
		AccessClaims: &jwt.JWTClaims{Extra: map[string]any{}},
		// RFC 9068 §2.1: every access token is typed at+jwt.
		AccessHeader: &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}},
	}
}

// GetJWTClaims gives fosite's JWT access-token strategy the claims to sign.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.AccessClaims == nil {
		s.AccessClaims = &jwt.JWTClaims{Extra: map[string]any{}}
	}
	return s.AccessClaims
}

// GetJWTHeader gives fosite's JWT access-token strategy the header: RFC 9068
// §2.1 wants typ "at+jwt".
func (s *Session) GetJWTHeader() *jwt.Headers {
	if s.AccessHeader == nil {
		s.AccessHeader = &jwt.Headers{Extra: map[string]any{}}
	}
	return s.AccessHeader
}

// GetExtraClaims gives introspection (RFC 7662 §2.2) what the access token
// says of who acts and what for, as the endpoint derived it at the time of
// asking, to the token's own parties (introspection.go); fosite leaves out
// the names it sets itself. The person's own measure (protection) stays out.
func (s *Session) GetExtraClaims() map[string]any {
	out := map[string]any{}
	if s.AccessClaims == nil {
		return out
	}
	// RFC 9449 §6.2: a bound token's introspection carries cnf.jkt.
	for _, k := range []string{"act", "representation", "authorization_details", "cnf"} {
		if v, ok := s.AccessClaims.Extra[k]; ok {
			out[k] = v
		}
	}
	if s.introspectedType != "" {
		out["token_type"] = s.introspectedType // RFC 7662 §2.2
	}
	return out
}

// Clone is a deep enough copy for fosite, which clones before it changes.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	if d, ok := s.DefaultSession.Clone().(*openid.DefaultSession); ok && d != nil {
		c.DefaultSession = *d
	}
	if s.AccessClaims != nil {
		ac := *s.AccessClaims
		ac.Extra = cloneMap(s.AccessClaims.Extra)
		ac.Audience = append([]string(nil), s.AccessClaims.Audience...)
		ac.Scope = append([]string(nil), s.AccessClaims.Scope...)
		c.AccessClaims = &ac
	}
	if s.AccessHeader != nil {
		c.AccessHeader = &jwt.Headers{Extra: cloneMap(s.AccessHeader.Extra)}
	}
	c.AMR = append([]string(nil), s.AMR...)
	c.AuthorizationDetails = append([]AuthorizationDetail(nil), s.AuthorizationDetails...)
	return &c
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
