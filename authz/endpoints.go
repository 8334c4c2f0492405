package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

// Endpoint is one protocol route; ui mounts them beside its pages, outside
// the pages' cross-origin check (a site may POST here from elsewhere).
type Endpoint struct {
	Path    string
	Methods []string
	Handler http.Handler
}

// Endpoints lists the protocol routes. The authorization endpoint is not
// here: it needs the login and consent pages, so ui serves it and calls
// ParseAuthorize and Authorize.
func (p *Provider) Endpoints() []Endpoint {
	return append([]Endpoint{
		{"/.well-known/openid-configuration", []string{http.MethodGet, http.MethodHead}, http.HandlerFunc(p.discovery)},
		{"/jwks", []string{http.MethodGet, http.MethodHead}, http.HandlerFunc(p.jwks)},
		{"/token", []string{http.MethodPost}, http.HandlerFunc(p.token)},
		{"/userinfo", []string{http.MethodGet, http.MethodPost}, p.resourceHandler(p.userinfo)},
		{"/introspect", []string{http.MethodPost}, http.HandlerFunc(p.introspect)},
		{"/revoke", []string{http.MethodPost}, http.HandlerFunc(p.revoke)},
		{"/par", []string{http.MethodPost}, http.HandlerFunc(p.pushedAuthorize)},
	}, p.accessEndpoints()...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// discovery serves OpenID Connect Discovery 1.0 §3's document, encoded
// once: nothing in it changes while the provider runs.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	p.discoveryOnce.Do(func() { p.discoveryDoc = p.discoveryJSON() })
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(p.discoveryDoc)
}

// discoveryJSON is the metadata of OpenID Connect Discovery 1.0 §3 and
// RFC 8414 §2.
func (p *Provider) discoveryJSON() []byte {
	iss := p.cfg.Issuer
	doc := map[string]any{
		"issuer":                                           iss,
		"authorization_endpoint":                           iss + "/authorize",
		"token_endpoint":                                   iss + "/token",
		"userinfo_endpoint":                                iss + "/userinfo",
		"jwks_uri":                                         iss + "/jwks",
		"introspection_endpoint":                           iss + "/introspect",
		"revocation_endpoint":                              iss + "/revoke",
		"pushed_authorization_request_endpoint":            iss + "/par",
		"end_session_endpoint":                             iss + "/logout",
		"access_evaluation_endpoint":                       iss + evaluationPath,  // OpenID AuthZEN 1.0
		"access_evaluations_endpoint":                      iss + evaluationsPath, // OpenID AuthZEN 1.0
		"scopes_supported":                                 append([]string{"openid", "offline_access", ScopeProtection}, ClaimScopes()...),
		"authorization_details_types_supported":            []string{AuthorizationDetailType}, // RFC 9396 §10
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query"},
		"grant_types_supported":                            []string{"authorization_code", "refresh_token", "client_credentials", GrantTypeTokenExchange},
		"acr_values_supported":                             ACRValues,
		"subject_types_supported":                          []string{oauth.SubjectPairwise, oauth.SubjectPublic},
		"id_token_signing_alg_values_supported":            keyring.SigningAlgs,
		"userinfo_signing_alg_values_supported":            keyring.SigningAlgs,
		"id_token_encryption_alg_values_supported":         oauth.EncryptionAlgs, // encryption.go
		"id_token_encryption_enc_values_supported":         oauth.EncryptionEncs,
		"userinfo_encryption_alg_values_supported":         oauth.EncryptionAlgs,
		"userinfo_encryption_enc_values_supported":         oauth.EncryptionEncs,
		"token_endpoint_auth_methods_supported":            []string{oauth.AuthMethodSecretBasic, oauth.AuthMethodSecretPost, oauth.AuthMethodPrivateKeyJWT, oauth.AuthMethodNone},
		"token_endpoint_auth_signing_alg_values_supported": keyring.SigningAlgs,
		"introspection_endpoint_auth_methods_supported":    []string{oauth.AuthMethodSecretBasic, oauth.AuthMethodSecretPost, oauth.AuthMethodPrivateKeyJWT},
		"revocation_endpoint_auth_methods_supported":       []string{oauth.AuthMethodSecretBasic, oauth.AuthMethodSecretPost, oauth.AuthMethodNone},
		"code_challenge_methods_supported":                 []string{"S256"},
		"dpop_signing_alg_values_supported":                DPoPSigningAlgs(), // RFC 9449 §5.1
		"claims_supported":                                 SupportedClaims(),
		"claims_parameter_supported":                       false,
		"request_parameter_supported":                      true, // RFC 9101, signed (request_object.go)
		"request_object_signing_alg_values_supported":      RequestObjectSigningAlgs,
		"request_uri_parameter_supported":                  false,
		"require_pushed_authorization_requests":            false,
		"authorization_response_iss_parameter_supported":   true,
		"ui_locales_supported":                             []string{"fr", "en"},
		"claims_locales_supported":                         []string{"fr"},
		"prompt_values_supported":                          []string{"none", "login", "consent"},
		"service_documentation":                            iss + "/",
	}
	// RFC 8414 §2: the algorithms of private_key_jwt at introspection.
	doc["introspection_endpoint_auth_signing_alg_values_supported"] = keyring.SigningAlgs
	b, _ := json.Marshal(doc) // maps of strings, lists and booleans
	return append(b, '\n')
}

// jwks publishes every key that may have signed a live token, and the next
// key before it signs anything. The set is read from the keys at each
// request (they keep it for KeyCacheTTL); its encoding is kept while the
// same keys are published, as a key never changes under its kid.
func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	set, err := p.keys.Public(r.Context())
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	body, err := p.jwksJSON.encode(set)
	if err != nil {
		p.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(body)
}

// encodedKeys keeps the JSON of the last key set served, by its kids.
type encodedKeys struct {
	mu   sync.Mutex
	kids string
	body []byte
}

func (e *encodedKeys) encode(set jose.JSONWebKeySet) ([]byte, error) {
	var kids strings.Builder
	for _, k := range set.Keys {
		kids.WriteString(k.KeyID)
		kids.WriteByte(0)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.body != nil && e.kids == kids.String() {
		return e.body, nil
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode the key set: %w", err)
	}
	e.kids, e.body = kids.String(), append(b, '\n')
	return e.body, nil
}

func (p *Provider) serverError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := http.StatusInternalServerError, "server_error"
	if errors.Is(err, mandates.ErrUnavailable) {
		status, code = http.StatusServiceUnavailable, "temporarily_unavailable"
		w.Header().Set("Retry-After", "30")
	}
	p.log.ErrorContext(r.Context(), "protocol endpoint failed", "path", r.URL.Path, "err", err)
	writeJSON(w, status, map[string]string{"error": code})
}

// protocolError maps what Relais's stores report onto the protocol's
// errors, once, at the edge: a lost race on a code or refresh token is the
// client's invalid_grant, not our server_error.
func protocolError(err error) error {
	switch {
	case errors.Is(err, mandates.ErrConflict):
		return fosite.ErrInvalidGrant.WithHint("The authorization code or refresh token has already been used.").WithWrap(err)
	case errors.Is(err, mandates.ErrUnavailable):
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	case errors.Is(err, fosite.ErrJTIKnown):
		// RFC 7523 §3: a replayed client assertion authenticates no one;
		// fosite's own "jti_known" code is not one clients know.
		return fosite.ErrInvalidClient.WithHint("The client assertion was already used.").WithWrap(err)
	}
	return err
}

// challenge adds the WWW-Authenticate that RFC 6749 §5.2 and RFC 7235
// §3.1 require of every 401 (invalid_client, and introspection's
// request_unauthorized), which fosite leaves out.
func challenge(w http.ResponseWriter, err error) {
	var rfc *fosite.RFC6749Error
	if errors.Is(err, fosite.ErrInvalidClient) || errors.As(err, &rfc) && rfc.CodeField == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="relais", charset="UTF-8"`)
	}
}

func (p *Provider) logIfServerError(ctx context.Context, msg string, err error) {
	var rfc *fosite.RFC6749Error
	if errors.As(err, &rfc) && rfc.CodeField >= 500 {
		p.log.ErrorContext(ctx, msg, "err", err, "debug", rfc.DebugField)
	}
}

// supportedGrants are the grant types a handler takes; fosite answers any
// other with invalid_request, where RFC 6749 §5.2 says unsupported_grant_type.
var supportedGrants = map[string]bool{"authorization_code": true, "refresh_token": true, "client_credentials": true,
	GrantTypeTokenExchange: true}

// repeatable lists the parameters a request may carry more than once
// (RFC 8693 §2.1 audience and resource; RFC 8707 resource).
var repeatable = map[string]bool{"audience": true, "resource": true}

// duplicated names a parameter given twice: RFC 6749 §3.1 and §3.2 say
// parameters "MUST NOT be included more than once", and a server that
// reads only the first of two grant_type values may run the wrong grant.
func duplicated(form url.Values) string {
	for k, v := range form {
		if len(v) > 1 && !repeatable[k] {
			return k
		}
	}
	return ""
}

// token is the token endpoint (RFC 6749 §3.2).
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		p.oauth.WriteAccessError(ctx, w, fosite.NewAccessRequest(NewSession()), fosite.ErrInvalidRequest.WithHint("The request body could not be read.").WithWrap(err))
		return
	}
	if k := duplicated(r.PostForm); k != "" {
		p.oauth.WriteAccessError(ctx, w, fosite.NewAccessRequest(NewSession()), fosite.ErrInvalidRequest.WithHintf("The parameter '%s' is included more than once.", k))
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "" && !supportedGrants[gt] {
		p.oauth.WriteAccessError(ctx, w, fosite.NewAccessRequest(NewSession()), fosite.ErrUnsupportedGrantType)
		return
	}
	// RFC 9449 §5: a DPoP proof binds the tokens to the client's key.
	proof, err := p.tokenProof(ctx, w, r)
	if err != nil {
		err = protocolError(err)
		p.logIfServerError(ctx, "token request: DPoP proof", err)
		p.oauth.WriteAccessError(ctx, w, fosite.NewAccessRequest(NewSession()), err)
		return
	}
	sess := NewSession()
	ar, err := p.oauth.NewAccessRequest(ctx, r, sess)
	if err != nil {
		err = protocolError(err)
		p.logIfServerError(ctx, "token request", err)
		challenge(w, err)
		p.oauth.WriteAccessError(ctx, w, ar, err)
		return
	}
	if s, ok := ar.GetSession().(*Session); ok && s.RepresentationID != "" {
		// The representation may have been suspended, withdrawn, ended or
		// narrowed since the code or the last refresh: the grant dies or
		// narrows with it before any token is made of it (DESIGN.md §4).
		scopes, err := p.grantNow(ctx, s, ar.GetGrantedScopes())
		if err != nil {
			if grantEnded(err) {
				p.revokeGrant(ctx, ar.GetID())
				err = fosite.ErrInvalidGrant.WithHint(endedHint(err)).WithWrap(err)
			}
			err = protocolError(err)
			p.logIfServerError(ctx, "token request: representation", err)
			p.oauth.WriteAccessError(ctx, w, ar, err)
			return
		}
		setGrantedScopes(ar, scopes)
	}
	client := ar.GetClient()
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// A server acting for itself: the subject is the client (RFC 9068 §2.2).
		for _, s := range ar.GetRequestedScopes() {
			ar.GrantScope(s)
		}
		sess.Subject = client.GetID()
		sess.AccessClaims.Subject = client.GetID()
	}
	if len(ar.GetGrantedAudience()) == 0 {
		ar.GrantAudience(client.GetID())
	}
	if s, ok := ar.GetSession().(*Session); ok {
		s.AccessClaims.Extra["client_id"] = client.GetID()
	}
	if err := bindProof(ar, proof); err != nil {
		p.oauth.WriteAccessError(ctx, w, ar, err)
		return
	}
	// Before any token is made: a client whose ID token cannot be
	// encrypted gets none, and keeps its refresh token (encryption.go).
	if err := p.checkIDTokenEncryption(ctx, ar); err != nil {
		challenge(w, err)
		p.oauth.WriteAccessError(ctx, w, ar, err)
		return
	}
	resp, err := p.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		err = protocolError(err)
		p.logIfServerError(ctx, "token response", err)
		challenge(w, err)
		p.oauth.WriteAccessError(ctx, w, ar, err)
		return
	}
	if s, ok := ar.GetSession().(*Session); ok && len(s.AuthorizationDetails) > 0 {
		resp.SetExtra("authorization_details", s.AuthorizationDetails) // RFC 9396 §7
	}
	if proof != nil {
		resp.SetTokenType(TokenTypeDPoP) // RFC 9449 §5
	}
	withholdRefreshToken(ar, resp)
	p.oauth.WriteAccessResponse(ctx, w, ar, resp)
}

// revokeGrant ends every token of a grant (its refresh family and access
// tokens), as reuse detection does.
func (p *Provider) revokeGrant(ctx context.Context, requestID string) {
	if err := p.storage.RevokeRefreshToken(ctx, requestID); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		p.log.ErrorContext(ctx, "revoke refresh tokens", "request_id", requestID, "err", err)
	}
	if err := p.storage.RevokeAccessToken(ctx, requestID); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		p.log.ErrorContext(ctx, "revoke access tokens", "request_id", requestID, "err", err)
	}
}

// introspect is RFC 7662's endpoint, for the token's own parties
// (introspection.go).
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	resp, err := p.newIntrospectionRequest(ctx, r)
	if err != nil {
		if errors.Is(err, mandates.ErrUnavailable) {
			p.serverError(w, r, err)
			return
		}
		err = protocolError(err)
		p.logIfServerError(ctx, "introspection", err)
		if errors.Is(err, fosite.ErrInactiveToken) {
			p.oauth.WriteIntrospectionError(ctx, w, err) // {"active": false}
			return
		}
		// RFC 7662 §2.3: a refused caller gets RFC 6749 §5.2's error
		// JSON (invalid_client, 401, with its challenge).
		challenge(w, err)
		p.oauth.WriteAccessError(ctx, w, fosite.NewAccessRequest(NewSession()), err)
		return
	}
	if resp.IsActive() {
		ar := resp.GetAccessRequester()
		if s, ok := ar.GetSession().(*Session); ok && s.RepresentationID != "" {
			// The answer says what the token allows now, not at its issue:
			// act, representation and authorization_details as the
			// representation is now (narrowing.go), to the token's own
			// parties only, who alone get an active answer.
			scopes, err := p.grantNow(ctx, s, ar.GetGrantedScopes())
			if grantEnded(err) {
				// RFC 7662 §2.2: a token that may no longer be used is
				// simply inactive.
				writeJSON(w, http.StatusOK, map[string]bool{"active": false})
				return
			} else if err != nil {
				p.serverError(w, r, err)
				return
			}
			setGrantedScopes(ar, scopes)
		}
	}
	p.oauth.WriteIntrospectionResponse(ctx, w, resp)
}

// pushedForItself refuses a pushed request whose client_id is not the
// client that authenticates in HTTP Basic: fosite authenticates the caller,
// then builds the request for the form's client_id without comparing them,
// so one site could push requests in another's name (RFC 9126 §2.1: the
// request is the authenticated client's). A client_secret_post or
// assertion caller is named by the form itself (request_object.go checks
// an assertion's sub).
func pushedForItself(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fosite.ErrInvalidRequest.WithHint("The request body could not be read.").WithWrap(err)
	}
	id, _, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	caller, err := url.QueryUnescape(id) // RFC 6749 §2.3.1
	if err != nil {
		return fosite.ErrInvalidClient.WithHint("The client id in the Authorization header could not be read.")
	}
	// r.Form: fosite reads the query's parameters too.
	for _, named := range r.Form["client_id"] {
		if named != caller {
			return fosite.ErrInvalidRequest.WithHint("The client_id must be the client that authenticates.")
		}
	}
	return nil
}

// revoke is RFC 7009's endpoint.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := protocolError(p.revokeJournaled(ctx, func(ctx context.Context) error { return p.oauth.NewRevocationRequest(ctx, r) }))
	p.logIfServerError(ctx, "revocation", err)
	challenge(w, err)
	p.oauth.WriteRevocationResponse(ctx, w, err)
}

// pushedAuthorize is RFC 9126's endpoint.
func (p *Provider) pushedAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := pushedForItself(r); err != nil {
		challenge(w, err)
		p.oauth.WritePushedAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), err)
		return
	}
	if _, err := p.withRequestObject(ctx, r, parClientAuthentication...); err != nil {
		err = protocolError(err)
		p.logIfServerError(ctx, "pushed authorization request: request object", err)
		challenge(w, err)
		p.oauth.WritePushedAuthorizeError(ctx, w, fosite.NewAuthorizeRequest(), err)
		return
	}
	ar, err := p.oauth.NewPushedAuthorizeRequest(ctx, r)
	if err == nil {
		if fc, ok := ar.GetClient().(*fositeClient); ok {
			err = checkRedirectURI(fc, ar.GetRequestForm())
			if err == nil {
				err = p.checkRequestObjectRequired(fc.c, ar.GetRequestForm())
			}
		}
	}
	if err != nil {
		err = protocolError(err)
		p.logIfServerError(ctx, "pushed authorization request", err)
		challenge(w, err)
		p.oauth.WritePushedAuthorizeError(ctx, w, ar, err)
		return
	}
	resp, err := p.oauth.NewPushedAuthorizeResponse(ctx, ar, NewSession())
	if err != nil {
		err = protocolError(err)
		p.logIfServerError(ctx, "pushed authorization response", err)
		p.oauth.WritePushedAuthorizeError(ctx, w, ar, err)
		return
	}
	p.oauth.WritePushedAuthorizeResponse(ctx, w, ar, resp)
}

// resourceToken reads and checks the access token a resource endpoint of
// Relais (userinfo, the act report) is called with: Bearer or DPoP, with
// the DPoP proof of a bound token (RFC 9449 §7). Only an access token
// will do: fosite's introspection would also accept a refresh token,
// which is for the token endpoint alone (RFC 6749 §1.5).
func (p *Provider) resourceToken(w http.ResponseWriter, r *http.Request, missing string) (string, fosite.AccessRequester, *Session, error) {
	ctx := r.Context()
	scheme, token := accessTokenOf(r)
	if token == "" {
		return "", nil, nil, &bearerError{http.StatusUnauthorized, []string{`Bearer error="invalid_request"`, dpopChallenge()}, // RFC 9449 §7.2: either scheme
			"invalid_request", missing}
	}
	use, ar, err := p.oauth.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err == nil && use != fosite.AccessToken {
		err = fosite.ErrInvalidTokenFormat
	}
	if err != nil {
		if errors.Is(err, mandates.ErrUnavailable) {
			return "", nil, nil, err
		}
		return "", nil, nil, &bearerError{http.StatusUnauthorized, []string{scheme + ` error="invalid_token"`}, "invalid_token", "The access token is not valid."}
	}
	sess, ok := ar.GetSession().(*Session)
	if !ok {
		return "", nil, nil, errors.New("authz: unexpected session type")
	}
	if err := p.dpop.checkResource(ctx, w, r, scheme, token, sess.DPoPJKT); err != nil {
		return "", nil, nil, err
	}
	return scheme, ar, sess, nil
}

// userinfo is OIDC Core §5.3's endpoint: the claims the granted scopes
// allow, as JSON, or as a signed JWT when the client registered an alg,
// signed then encrypted when it registered an encryption (encryption.go).
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	scheme, ar, sess, err := p.resourceToken(w, r, "An access token is required.")
	if err != nil {
		return err
	}
	if sess.PersonID == "" || !ar.GetGrantedScopes().Has("openid") {
		return &bearerError{http.StatusForbidden, []string{scheme + ` error="insufficient_scope"`}, "insufficient_scope", "This token is not for a person's identity."}
	}
	// The claims are those the representation allows now (DESIGN.md §4).
	scopes, err := p.grantNow(ctx, sess, ar.GetGrantedScopes())
	if err != nil {
		if grantEnded(err) {
			return &bearerError{http.StatusUnauthorized, []string{scheme + ` error="invalid_token"`}, "invalid_token", endedHint(err)}
		}
		return err
	}
	person, err := p.persons.Person(ctx, sess.PersonID)
	if err != nil {
		if errors.Is(err, mandates.ErrNotFound) {
			return &bearerError{http.StatusUnauthorized, []string{scheme + ` error="invalid_token"`}, "invalid_token", ""}
		}
		return err
	}
	claims := IdentityClaims(person, scopes)
	claims["sub"] = sess.Subject
	for _, k := range []string{"act", "representation", ScopeProtection} {
		if v, ok := sess.Claims.Extra[k]; ok {
			claims[k] = v
		}
	}
	fc, _ := ar.GetClient().(*fositeClient)
	if fc == nil || fc.c.UserinfoSignedResponseAlg == "" && !fc.c.EncryptsUserinfo() {
		writeJSON(w, http.StatusOK, claims)
		return nil
	}
	claims["iss"] = p.cfg.Issuer
	claims["aud"] = fc.c.ID
	jwt, err := p.signJWT(ctx, userinfoSigningAlg(fc.c), claims, "")
	if err != nil {
		return err
	}
	if fc.c.EncryptsUserinfo() {
		if jwt, err = p.encryptTo(ctx, fc.c, fc.c.UserinfoEncryptedResponseAlg, fc.c.UserinfoEncryptedResponseEnc, jwt); err != nil {
			p.log.WarnContext(ctx, "userinfo refused: the answer cannot be encrypted to the client", "client_id", fc.c.ID, "err", err)
			return userinfoRefusal(scheme, err)
		}
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(jwt))
	return nil
}

// signJWT signs claims with the active key of alg.
func (p *Provider) signJWT(ctx context.Context, alg string, claims map[string]any, typ string) (string, error) {
	kid, signer, err := p.keys.Active(ctx, alg)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: signer}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

// AuthorizeRequest is a validated authorization request, as ui needs it
// to decide on login and consent.
type AuthorizeRequest struct {
	ar      fosite.AuthorizeRequester
	client  oauth.Client
	details []AuthorizationDetail
}

// AuthorizationDetails are the RFC 9396 details the site asks for.
func (a *AuthorizeRequest) AuthorizationDetails() []AuthorizationDetail { return a.details }

func (a *AuthorizeRequest) Client() oauth.Client { return a.client }

// Scopes are the scopes the site asks for.
func (a *AuthorizeRequest) Scopes() []string { return a.ar.GetRequestedScopes() }

// Prompt lists OIDC Core §3.1.2.1's prompt values.
func (a *AuthorizeRequest) Prompt() []string {
	return strings.Fields(a.ar.GetRequestForm().Get("prompt"))
}

// MaxAge is the max_age parameter, if any.
func (a *AuthorizeRequest) MaxAge() (time.Duration, bool) {
	v := a.ar.GetRequestForm().Get("max_age")
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

func (a *AuthorizeRequest) LoginHint() string { return a.ar.GetRequestForm().Get("login_hint") }

// Form is the request's parameters, with those of a pushed request
// (RFC 9126) in place of its request_uri, which works only once: pages
// that come back to /authorize after login or consent send these.
func (a *AuthorizeRequest) Form() url.Values {
	f := url.Values{}
	for k, v := range a.ar.GetRequestForm() {
		f[k] = append([]string(nil), v...)
	}
	f.Del("request_uri")
	if f.Get("client_id") == "" {
		f.Set("client_id", a.client.ID)
	}
	return f
}

// ParseAuthorize validates an authorization request. On error, the
// request (possibly nil) comes back too, for AuthorizeError.
func (p *Provider) ParseAuthorize(ctx context.Context, r *http.Request) (*AuthorizeRequest, error) {
	if a, err := p.parseRequestObject(ctx, r); err != nil {
		return a, err
	}
	ar, err := p.oauth.NewAuthorizeRequest(ctx, r)
	if err == nil {
		if fc, ok := ar.GetClient().(*fositeClient); ok {
			if err := checkRedirectURI(fc, ar.GetRequestForm()); err != nil {
				// No request comes back: the error must not be sent to
				// an address the client did not register (RFC 6749
				// §4.1.2.1), and fosite took it as checked.
				return nil, protocolError(err)
			}
		}
		if k := duplicated(r.Form); k != "" {
			err = fosite.ErrInvalidRequest.WithHintf("The parameter '%s' is included more than once.", k)
		}
	}
	a := &AuthorizeRequest{ar: ar}
	if err == nil {
		err = checkPKCE(ar)
	}
	if err == nil {
		err = checkPrompt(ar)
	}
	if err == nil {
		a.details, err = ParseAuthorizationDetails(ar.GetRequestForm().Get("authorization_details"))
	}
	if err == nil {
		err = checkDPoPJKT(ar.GetRequestForm().Get("dpop_jkt"))
	}
	if ar != nil {
		if fc, ok := ar.GetClient().(*fositeClient); ok {
			a.client = fc.c
		}
	}
	if err == nil {
		err = p.checkRequestObjectRequired(a.client, ar.GetRequestForm())
	}
	if err != nil {
		return a, protocolError(err)
	}
	return a, nil
}

// AuthorizeError sends err to the site's redirect URI when that URI was
// checked as registered, and says so. Otherwise it writes nothing and
// returns false: the person must see Relais's own error page, never a
// redirect to an unverified address (RFC 6749 §4.1.2.1).
//
// fosite's IsRedirectURIValid is not enough: fosite checks the redirect
// URI before the scope, the state or the response type, with its loose
// loopback match (any port, the decoded path), so a request refused after
// that check carries a redirect only fosite accepted. Every authorization
// error passes here, so here the URI as sent is also matched against the
// client's registered ones, character for character (RFC 9700 §2.1).
func (p *Provider) AuthorizeError(w http.ResponseWriter, r *http.Request, a *AuthorizeRequest, err error) bool {
	if a == nil || a.ar == nil || !a.ar.IsRedirectURIValid() {
		return false
	}
	fc, ok := a.ar.GetClient().(*fositeClient)
	if !ok || checkRedirectURI(fc, a.ar.GetRequestForm()) != nil {
		return false
	}
	p.oauth.WriteAuthorizeError(r.Context(), issWriter{w, p.cfg.Issuer}, a.ar, err)
	return true
}

// issWriter adds iss to the redirect of an authorization error: RFC 9207
// §2 wants it in error responses too, and fosite writes those itself.
type issWriter struct {
	http.ResponseWriter
	issuer string
}

func (w issWriter) WriteHeader(code int) {
	if code >= 300 && code < 400 {
		if u, err := url.Parse(w.Header().Get("Location")); err == nil && u.Query().Get("iss") == "" {
			q := u.Query()
			q.Set("iss", w.issuer)
			u.RawQuery = q.Encode()
			w.Header().Set("Location", u.String())
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Deny answers the site that the person refused (access_denied).
func (p *Provider) Deny(w http.ResponseWriter, r *http.Request, a *AuthorizeRequest) bool {
	return p.AuthorizeError(w, r, a, fosite.ErrAccessDenied.WithHint("The person refused to share this information."))
}

// Login says who logged in, when and how, and under which representation
// they act, when they act for someone else.
type Login struct {
	PersonID string
	AuthTime time.Time
	AMR      []string // "pwd", "otp" (RFC 8176), or what an upstream provider said
	// ACR is the authentication context class an upstream provider said
	// its login met (FranceConnect's eidas1, eidas2…); empty for Relais's
	// own password login, which meets eidas1.
	ACR string
	// RepresentationID, when set, is the representation the person chose
	// to act under; the account is then the represented person's.
	RepresentationID string
}

// Authorize grants what the site asked for to the logged-in person and
// redirects to the site with a code.
func (p *Provider) Authorize(w http.ResponseWriter, r *http.Request, a *AuthorizeRequest, login Login) {
	ctx := r.Context()
	ar := a.ar
	g, err := p.grantFor(ctx, a, login)
	if err != nil {
		err = protocolError(err)
		p.logIfServerError(ctx, "authorize: acting for someone", err)
		p.oauth.WriteAuthorizeError(ctx, issWriter{w, p.cfg.Issuer}, ar, err)
		return
	}
	for _, s := range g.scopes {
		ar.GrantScope(s)
	}
	for _, aud := range ar.GetRequestedAudience() {
		ar.GrantAudience(aud)
	}
	if len(ar.GetGrantedAudience()) == 0 {
		ar.GrantAudience(a.client.ID)
	}
	sub := g.sub
	now := p.cfg.Now().UTC()
	sess := NewSession()
	// RFC 8176 §2: a second factor ("otp") makes the login multi-factor.
	amr := slices.Clone(login.AMR)
	if slices.Contains(amr, "otp") && !slices.Contains(amr, "mfa") {
		amr = append(amr, "mfa")
	}
	sess.Subject, sess.PersonID, sess.AMR, sess.AuthTime = sub, g.personID, amr, login.AuthTime
	sess.ActorID, sess.RepresentationID, sess.AuthorizationDetails = g.actorID, g.representationID, g.details
	sess.OrganisationID = g.organisationID
	// RFC 9449 §10: the code is redeemed with a proof by this key only.
	sess.DPoPJKT = ar.GetRequestForm().Get("dpop_jkt")
	for k, v := range g.claims {
		sess.Claims.Extra[k] = v
		sess.AccessClaims.Extra[k] = v
	}
	sess.Claims.Subject = sub
	sess.Claims.Issuer = p.cfg.Issuer
	sess.Claims.AuthTime = login.AuthTime.UTC()
	sess.Claims.RequestedAt = now
	sess.Claims.AuthenticationMethodsReferences = amr
	// What the login met, as FranceConnect answers acr_values: eidas1 for
	// a password, eidas2 with the second factor (acr.go); a login through
	// an upstream provider carries the provider's own when it is higher.
	sess.Claims.AuthenticationContextClassReference = StrongerACR(ACRFor(amr), login.ACR)
	sess.AccessClaims.Subject = sub
	sess.AccessClaims.Extra["client_id"] = a.client.ID
	sess.AccessClaims.Extra["amr"] = amr      // RFC 9068 §2.2.1
	sess.AccessHeader.Extra["typ"] = "at+jwt" // RFC 9068 §2.1
	if len(g.details) > 0 {
		sess.AccessClaims.Extra["authorization_details"] = g.details
	}
	resp, err := p.oauth.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		err = protocolError(err)
		p.logIfServerError(ctx, "authorize response", err)
		p.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	// RFC 9207: the issuer in the response, against mix-up attacks.
	resp.AddParameter("iss", p.cfg.Issuer)
	p.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// hasPrompt says whether the request carries prompt value v.
func (a *AuthorizeRequest) HasPrompt(v string) bool { return slices.Contains(a.Prompt(), v) }

// LoginDone takes "login" out of the request's prompt once the login made
// for this request happened (LoginSatisfies): fosite would otherwise
// compare the login with the moment the code is issued, always later, and
// answer login_required (OIDC Core §3.1.2.1 asks for one login, not a
// login after the answer).
func (a *AuthorizeRequest) LoginDone() {
	form := a.ar.GetRequestForm()
	prompts := slices.DeleteFunc(strings.Fields(form.Get("prompt")), func(p string) bool { return p == "login" })
	if len(prompts) == 0 {
		form.Del("prompt")
		return
	}
	form.Set("prompt", strings.Join(prompts, " "))
}

// Errors ui sends back to a site through AuthorizeError (OIDC Core
// §3.1.2.6), without importing fosite.
var (
	ErrLoginRequired       = fosite.ErrLoginRequired
	ErrConsentRequired     = fosite.ErrConsentRequired
	ErrInteractionRequired = fosite.ErrInteractionRequired
)
