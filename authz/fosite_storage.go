package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/storage"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// fositeStorage adapts Relais's stores to fosite's storage interfaces. It
// is the one place that knows both, so storage/* never imports fosite
// (DESIGN.md §2).
type fositeStorage struct {
	clients oauth.ClientStore
	tokens  oauth.TokenStore
	tx      mandates.Transactor
	now     func() time.Time
	ev      events
	// firstActs remembers who acted for whom at which site (first_act.go).
	firstActs mandates.FirstActStore
	// grouped writes client-credentials tokens by group commit
	// (token_group.go).
	grouped *tokenGroup
}

var (
	_ fosite.Storage                     = (*fositeStorage)(nil)
	_ fosite.PARStorage                  = (*fositeStorage)(nil)
	_ oauth2.CoreStorage                 = (*fositeStorage)(nil)
	_ oauth2.TokenRevocationStorage      = (*fositeStorage)(nil)
	_ openid.OpenIDConnectRequestStorage = (*fositeStorage)(nil)
	_ pkce.PKCERequestStorage            = (*fositeStorage)(nil)
	_ storage.Transactional              = (*fositeStorage)(nil)
)

// GetClient implements fosite.ClientManager.
func (s *fositeStorage) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.clients.Client(ctx, id)
	if err != nil {
		return nil, toFosite(err)
	}
	return &fositeClient{c}, nil
}

// ClientAssertionJWTValid implements fosite.ClientManager. The check and
// the record happen together in SetClientAssertionJWT, so two concurrent
// uses of one assertion cannot both pass.
func (s *fositeStorage) ClientAssertionJWTValid(context.Context, string) error { return nil }

// SetClientAssertionJWT implements fosite.ClientManager.
func (s *fositeStorage) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	err := s.tokens.UseJTI(ctx, jti, exp, s.now())
	if errors.Is(err, mandates.ErrAlreadyExists) {
		return fosite.ErrJTIKnown
	}
	return toFosite(err)
}

// toFosite maps the store's failures onto the errors fosite's handlers
// test for; the original stays wrapped for logs.
func toFosite(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mandates.ErrNotFound):
		return fosite.ErrNotFound.WithWrap(err)
	case errors.Is(err, mandates.ErrConflict):
		return fosite.ErrSerializationFailure.WithWrap(err)
	}
	return err
}

// sensitiveForm lists request parameters that never reach the store: they
// prove something once and are useless, or dangerous, afterwards.
var sensitiveForm = []string{"client_secret", "client_assertion", "password", "code", "code_verifier", "refresh_token",
	"subject_token", "actor_token"}

// storedRequest is a fosite request as Relais keeps it: the client by id,
// the session as JSON, the form without secrets.
type storedRequest struct {
	ID                string          `json:"id"`
	RequestedAt       time.Time       `json:"requested_at"`
	ClientID          string          `json:"client_id"`
	RequestedScope    []string        `json:"requested_scope"`
	GrantedScope      []string        `json:"granted_scope"`
	RequestedAudience []string        `json:"requested_audience"`
	GrantedAudience   []string        `json:"granted_audience"`
	Form              url.Values      `json:"form"`
	Session           json.RawMessage `json:"session"`
	// Authorization requests only (PAR).
	ResponseTypes        []string `json:"response_types,omitempty"`
	RedirectURI          string   `json:"redirect_uri,omitempty"`
	State                string   `json:"state,omitempty"`
	HandledResponseTypes []string `json:"handled_response_types,omitempty"`
	ResponseMode         string   `json:"response_mode,omitempty"`
	DefaultResponseMode  string   `json:"default_response_mode,omitempty"`
}

func encodeRequest(r fosite.Requester) ([]byte, error) {
	form := url.Values{}
	for k, v := range r.GetRequestForm() {
		form[k] = append([]string(nil), v...)
	}
	for _, k := range sensitiveForm {
		form.Del(k)
	}
	sess, err := json.Marshal(r.GetSession())
	if err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	sr := storedRequest{
		ID: r.GetID(), RequestedAt: r.GetRequestedAt(), ClientID: r.GetClient().GetID(),
		RequestedScope: r.GetRequestedScopes(), GrantedScope: r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(), GrantedAudience: r.GetGrantedAudience(),
		Form: form, Session: sess,
	}
	if ar, ok := r.(fosite.AuthorizeRequester); ok {
		sr.ResponseTypes = ar.GetResponseTypes()
		if u := ar.GetRedirectURI(); u != nil {
			sr.RedirectURI = u.String()
		}
		sr.State = ar.GetState()
		sr.ResponseMode = string(ar.GetResponseMode())
		sr.DefaultResponseMode = string(ar.GetDefaultResponseMode())
		if a, ok := ar.(*fosite.AuthorizeRequest); ok {
			sr.HandledResponseTypes = a.HandledResponseTypes
		}
	}
	js, err := json.Marshal(sr)
	if err != nil {
		return nil, err
	}
	return compactRequest(js), nil
}

// decodeRequest rebuilds a request, reading the client anew so a client
// deleted or changed since is seen as it is now.
func (s *fositeStorage) decodeRequest(ctx context.Context, raw []byte, session fosite.Session) (*fosite.AuthorizeRequest, error) {
	var sr storedRequest
	if err := json.Unmarshal(expandRequest(raw), &sr); err != nil {
		return nil, fmt.Errorf("decode stored request: %w", err)
	}
	client, err := s.GetClient(ctx, sr.ClientID)
	if err != nil {
		return nil, err
	}
	if session == nil {
		session = NewSession()
	}
	if len(sr.Session) > 0 && string(sr.Session) != "null" {
		if err := json.Unmarshal(sr.Session, session); err != nil {
			return nil, fmt.Errorf("decode stored session: %w", err)
		}
	}
	ar := fosite.NewAuthorizeRequest()
	ar.ID, ar.RequestedAt, ar.Client, ar.Session, ar.Form = sr.ID, sr.RequestedAt, client, session, sr.Form
	ar.RequestedScope, ar.GrantedScope = sr.RequestedScope, sr.GrantedScope
	ar.RequestedAudience, ar.GrantedAudience = sr.RequestedAudience, sr.GrantedAudience
	if ar.Form == nil {
		ar.Form = url.Values{}
	}
	ar.ResponseTypes, ar.HandledResponseTypes, ar.State = sr.ResponseTypes, sr.HandledResponseTypes, sr.State
	ar.ResponseMode, ar.DefaultResponseMode = fosite.ResponseModeType(sr.ResponseMode), fosite.ResponseModeType(sr.DefaultResponseMode)
	if sr.RedirectURI != "" {
		if ar.RedirectURI, err = url.Parse(sr.RedirectURI); err != nil {
			return nil, fmt.Errorf("decode stored redirect URI: %w", err)
		}
	}
	return ar, nil
}

func (s *fositeStorage) create(ctx context.Context, kind oauth.TokenKind, sig string, r fosite.Requester, expires time.Time) error {
	raw, err := encodeRequest(r)
	if err != nil {
		return err
	}
	if expires.IsZero() {
		expires = s.now().Add(24 * time.Hour)
	}
	subject := ""
	if sess := r.GetSession(); sess != nil {
		subject = sess.GetSubject()
	}
	rec := oauth.TokenRecord{Kind: kind, Signature: sig, RequestID: r.GetID(),
		ClientID: r.GetClient().GetID(), Subject: subject, Active: true, Request: raw, ExpiresAt: expires}
	if s.grouped != nil && kind == oauth.KindAccessToken && isClientCredentials(r) && ctx.Value(txHandleKey{}) == nil {
		// A client's own token: the insert is all its request writes, and
		// no transaction of fosite's is open (token_group.go).
		return toFosite(s.grouped.create(ctx, rec))
	}
	return toFosite(s.tokens.CreateToken(ctx, rec))
}

// isClientCredentials says whether r is a client credentials grant. fosite
// stores a sanitized copy of the request, which keeps grant_type in its
// form but is no fosite.AccessRequester.
func isClientCredentials(r fosite.Requester) bool {
	return r.GetRequestForm().Get("grant_type") == "client_credentials"
}

// get returns the request and whether it is still active.
// plausible rules out what no token of ours can carry: fosite looks a
// signature up before it checks it, so raw client text reaches the store,
// and PostgreSQL refuses text that is not UTF-8 or holds NUL.
func plausible(sig string) bool {
	return sig != "" && len(sig) <= 512 && utf8.ValidString(sig) && !strings.ContainsRune(sig, 0)
}

func (s *fositeStorage) get(ctx context.Context, kind oauth.TokenKind, sig string, session fosite.Session) (fosite.Requester, bool, error) {
	if !plausible(sig) {
		return nil, false, fosite.ErrNotFound
	}
	rec, err := s.tokens.Token(ctx, kind, sig)
	if err != nil {
		return nil, false, toFosite(err)
	}
	r, err := s.decodeRequest(ctx, rec.Request, session)
	if err != nil {
		return nil, false, err
	}
	return r, rec.Active, nil
}

func expiry(r fosite.Requester, t fosite.TokenType) time.Time {
	if s := r.GetSession(); s != nil {
		return s.GetExpiresAt(t)
	}
	return time.Time{}
}

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *fositeStorage) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.create(ctx, oauth.KindAuthorizeCode, sig, r, expiry(r, fosite.AuthorizeCode))
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage: a used
// code still returns its request with ErrInvalidatedAuthorizeCode, so that
// fosite revokes what its first use issued (RFC 6749 §4.1.2).
func (s *fositeStorage) GetAuthorizeCodeSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	r, active, err := s.get(ctx, oauth.KindAuthorizeCode, sig, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return r, fosite.ErrInvalidatedAuthorizeCode
	}
	return r, nil
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *fositeStorage) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	return toFosite(s.tokens.DeactivateToken(ctx, oauth.KindAuthorizeCode, sig))
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *fositeStorage) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	if err := s.create(ctx, oauth.KindAccessToken, sig, r, expiry(r, fosite.AccessToken)); err != nil {
		return err
	}
	return s.tokenIssued(ctx, r)
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *fositeStorage) GetAccessTokenSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	r, active, err := s.get(ctx, oauth.KindAccessToken, sig, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return r, fosite.ErrInactiveToken
	}
	s.noteRevoked(ctx, r)
	return r, nil
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *fositeStorage) DeleteAccessTokenSession(ctx context.Context, sig string) error {
	return toFosite(s.tokens.DeleteToken(ctx, oauth.KindAccessToken, sig))
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *fositeStorage) CreateRefreshTokenSession(ctx context.Context, sig, _ string, r fosite.Requester) error {
	return s.create(ctx, oauth.KindRefreshToken, sig, r, expiry(r, fosite.RefreshToken))
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage: a rotated
// refresh token returns its request with ErrInactiveToken, which fosite
// treats as reuse and answers by revoking the whole family (RFC 9700
// §4.14.2).
func (s *fositeStorage) GetRefreshTokenSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	r, active, err := s.get(ctx, oauth.KindRefreshToken, sig, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return r, fosite.ErrInactiveToken
	}
	s.noteRevoked(ctx, r)
	return r, nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage. fosite
// calls it on reuse before revoking the family; the record is kept inactive
// instead, so a third use is recognised too.
func (s *fositeStorage) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	if err := s.refreshReused(ctx, sig); err != nil {
		return err
	}
	err := s.tokens.DeactivateToken(ctx, oauth.KindRefreshToken, sig)
	if errors.Is(err, mandates.ErrConflict) {
		return nil
	}
	return toFosite(err)
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage: the used
// refresh token and the access tokens it gave become inactive. Of two
// concurrent uses, the second fails with ErrSerializationFailure.
func (s *fositeStorage) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	if err := s.tokens.DeactivateToken(ctx, oauth.KindRefreshToken, sig); err != nil {
		return toFosite(err)
	}
	_, err := s.tokens.DeactivateGrant(ctx, oauth.KindAccessToken, requestID)
	return toFosite(err)
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage.
func (s *fositeStorage) RevokeRefreshToken(ctx context.Context, requestID string) error {
	_, err := s.tokens.DeactivateGrant(ctx, oauth.KindRefreshToken, requestID)
	return toFosite(err)
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage.
func (s *fositeStorage) RevokeAccessToken(ctx context.Context, requestID string) error {
	_, err := s.tokens.DeactivateGrant(ctx, oauth.KindAccessToken, requestID)
	return toFosite(err)
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStorage) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.create(ctx, oauth.KindOpenIDConnect, code, r, expiry(r, fosite.AuthorizeCode))
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStorage) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	got, _, err := s.get(ctx, oauth.KindOpenIDConnect, code, r.GetSession())
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, openid.ErrNoSessionFound
	}
	return got, err
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStorage) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return toFosite(s.tokens.DeleteToken(ctx, oauth.KindOpenIDConnect, code))
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStorage) CreatePKCERequestSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.create(ctx, oauth.KindPKCE, sig, r, expiry(r, fosite.AuthorizeCode))
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStorage) GetPKCERequestSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	r, _, err := s.get(ctx, oauth.KindPKCE, sig, session)
	return r, err
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStorage) DeletePKCERequestSession(ctx context.Context, sig string) error {
	return toFosite(s.tokens.DeleteToken(ctx, oauth.KindPKCE, sig))
}

// CreatePARSession implements fosite.PARStorage (RFC 9126).
func (s *fositeStorage) CreatePARSession(ctx context.Context, requestURI string, r fosite.AuthorizeRequester) error {
	return s.create(ctx, oauth.KindPAR, requestURI, r, expiry(r, fosite.PushedAuthorizeRequestContext))
}

// GetPARSession implements fosite.PARStorage.
func (s *fositeStorage) GetPARSession(ctx context.Context, requestURI string) (fosite.AuthorizeRequester, error) {
	if !plausible(requestURI) {
		return nil, fosite.ErrNotFound
	}
	rec, err := s.tokens.Token(ctx, oauth.KindPAR, requestURI)
	if err != nil {
		return nil, toFosite(err)
	}
	if !rec.Active || !rec.ExpiresAt.After(s.now()) {
		return nil, fosite.ErrNotFound
	}
	return s.decodeRequest(ctx, rec.Request, nil)
}

// DeletePARSession implements fosite.PARStorage.
func (s *fositeStorage) DeletePARSession(ctx context.Context, requestURI string) error {
	return toFosite(s.tokens.DeleteToken(ctx, oauth.KindPAR, requestURI))
}
