package authz

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	fositehmac "github.com/ory/fosite/token/hmac"
	"github.com/ory/fosite/token/jwt"

	"github.com/relais-fr/relais/authz/oauth"
)

// TokenMinter makes the records the token endpoint stores for a grant of
// the code flow, without the flow: for cmd/relais-seed, which fills a
// store with the tokens a deployment holds. Its refresh tokens are the
// provider's own (the same HMAC key, derived from the secret key), so a
// provider with that secret key accepts them; the records are encoded by
// encodeRequest, as the provider stores them.
type TokenMinter struct {
	issuer   string
	refresh  *oauth2.HMACSHAStrategy
	pairwise []byte
	access   time.Duration
	lifespan time.Duration
}

// NewTokenMinter returns a minter for the provider with this secret key
// and issuer, and its default lifetimes (10 min access tokens, 30 days
// refresh tokens).
func NewTokenMinter(secretKey []byte, issuer string) (*TokenMinter, error) {
	if len(secretKey) != 32 {
		return nil, errors.New("authz: the secret key must be 32 bytes")
	}
	fconf := &fosite.Config{GlobalSecret: derive(secretKey, "fosite-hmac"), RefreshTokenLifespan: 30 * 24 * time.Hour}
	return &TokenMinter{issuer: issuer, refresh: oauth2.NewHMACSHAStrategy(&fositehmac.HMACStrategy{Config: fconf}, fconf),
		pairwise: derive(secretKey, "pairwise-subject"), access: 10 * time.Minute, lifespan: 30 * 24 * time.Hour}, nil
}

// Subject is the sub client c sees for personID, as Provider.Subject.
func (m *TokenMinter) Subject(c oauth.Client, personID string) string {
	if c.SubjectType == oauth.SubjectPublic {
		return personID
	}
	return pairwiseSubject(m.pairwise, sector(c), personID)
}

// Sector is the sector under which c's pairwise subjects are recorded.
func Sector(c oauth.Client) string { return sector(c) }

// MintedGrant is one grant of the code flow: a person who logged in with
// a password at IssuedAt and let client c have openid and offline_access.
type MintedGrant struct {
	Client   oauth.Client
	PersonID string
	IssuedAt time.Time
	// Rotated: the refresh token was used since, and its record is
	// inactive, as after a refresh.
	Rotated bool
}

// Mint returns the grant's refresh token, as the site would hold it, and
// the two records the token endpoint stores for it: the access token's
// (whose JWT is not kept: its signature part is random, as no one can ask
// for it again once expired) and the refresh token's.
func (m *TokenMinter) Mint(ctx context.Context, g MintedGrant) (string, [2]oauth.TokenRecord, error) {
	var recs [2]oauth.TokenRecord
	at := g.IssuedAt.UTC().Truncate(time.Second)
	sub := m.Subject(g.Client, g.PersonID)
	amr := []string{"pwd"}
	sess := NewSession()
	sess.Subject, sess.PersonID, sess.AMR, sess.AuthTime = sub, g.PersonID, amr, at
	sess.Claims.Subject, sess.Claims.Issuer, sess.Claims.AuthTime, sess.Claims.RequestedAt = sub, m.issuer, at, at
	sess.Claims.AuthenticationMethodsReferences = amr
	sess.Claims.AuthenticationContextClassReference = ACRFor(amr)
	sess.AccessClaims.Subject, sess.AccessClaims.Issuer = sub, m.issuer
	sess.AccessClaims.Audience = []string{g.Client.ID}
	sess.AccessClaims.IssuedAt, sess.AccessClaims.ExpiresAt = at, at.Add(m.access)
	sess.AccessClaims.Scope = []string{"openid", "offline_access"}
	sess.AccessClaims.ScopeField = jwt.JWTScopeFieldString
	sess.AccessClaims.Extra["client_id"] = g.Client.ID
	sess.AccessClaims.Extra["amr"] = amr
	sess.SetExpiresAt(fosite.AccessToken, at.Add(m.access))
	sess.SetExpiresAt(fosite.RefreshToken, at.Add(m.lifespan))

	req := fosite.NewRequest()
	req.RequestedAt, req.Client, req.Session = at, &fosite.DefaultClient{ID: g.Client.ID}, sess
	req.Form = url.Values{"grant_type": {"authorization_code"}}
	for _, s := range []string{"openid", "offline_access"} {
		req.AppendRequestedScope(s)
		req.GrantScope(s)
	}
	req.GrantAudience(g.Client.ID)

	token, sig, err := m.refresh.GenerateRefreshToken(ctx, req)
	if err != nil {
		return "", recs, fmt.Errorf("mint refresh token: %w", err)
	}
	raw, err := encodeRequest(req)
	if err != nil {
		return "", recs, fmt.Errorf("mint grant: %w", err)
	}
	var jwtSig [64]byte // an ES256 signature's size
	_, _ = rand.Read(jwtSig[:])
	recs[0] = oauth.TokenRecord{Kind: oauth.KindAccessToken, Signature: base64.RawURLEncoding.EncodeToString(jwtSig[:]), RequestID: req.ID,
		ClientID: g.Client.ID, Subject: sub, Active: true, Request: raw, ExpiresAt: at.Add(m.access), CreatedAt: at}
	recs[1] = oauth.TokenRecord{Kind: oauth.KindRefreshToken, Signature: sig, RequestID: req.ID,
		ClientID: g.Client.ID, Subject: sub, Active: !g.Rotated, Request: raw, ExpiresAt: at.Add(m.lifespan), CreatedAt: at}
	return token, recs, nil
}
