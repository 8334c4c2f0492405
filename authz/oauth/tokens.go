package oauth

import (
	"context"
	"time"
)

// TokenKind names what a TokenRecord holds. fosite keeps each part of a
// grant under its own signature; Relais keeps them in one table by kind.
type TokenKind string

const (
	KindAuthorizeCode TokenKind = "code"
	KindAccessToken   TokenKind = "access"
	KindRefreshToken  TokenKind = "refresh"
	KindPKCE          TokenKind = "pkce"
	KindOpenIDConnect TokenKind = "oidc"
	KindPAR           TokenKind = "par"
)

// TokenRecord is one stored part of a grant: the request that created it,
// serialised by authz, under the signature fosite computes (never the
// token itself, so a copy of the database holds no usable token).
type TokenRecord struct {
	Kind      TokenKind
	Signature string
	RequestID string // the grant: shared by every token of one rotation family
	ClientID  string
	Subject   string
	// Active is false once a code is used or a refresh token rotated or
	// revoked. Such records are kept until they expire so that reuse is
	// detected (RFC 9700 §4.14.2; fosite's ErrInvalidatedAuthorizeCode and
	// ErrInactiveToken).
	Active    bool
	Request   []byte
	ExpiresAt time.Time
	CreatedAt time.Time
}

// TokenStore keeps grant records. Every instance sharing the store sees the
// same records, so a code issued by one instance is redeemed on another.
type TokenStore interface {
	CreateToken(ctx context.Context, r TokenRecord) error
	// Token returns the record whatever its Active flag; mandates.ErrNotFound
	// when there is none.
	Token(ctx context.Context, kind TokenKind, signature string) (TokenRecord, error)
	DeleteToken(ctx context.Context, kind TokenKind, signature string) error
	// DeactivateToken marks one active record inactive. It reports
	// mandates.ErrConflict when the record is already inactive, so that of
	// two concurrent uses of one code or refresh token only one wins.
	DeactivateToken(ctx context.Context, kind TokenKind, signature string) error
	// DeactivateGrant marks every record of kind in one grant inactive
	// (revocation, reuse) and says how many changed.
	DeactivateGrant(ctx context.Context, kind TokenKind, requestID string) (int64, error)
	// UseJTI records a JWT id until it expires; mandates.ErrAlreadyExists
	// when it is already recorded and not expired at now (RFC 7523 §3:
	// a client assertion is used once).
	UseJTI(ctx context.Context, jti string, expiresAt, now time.Time) error
}
