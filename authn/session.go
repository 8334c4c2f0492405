package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// BrowserSession is a signed-in browser. The cookie holds a random token;
// the store keeps only its SHA-256, so a copy of the database cannot be used
// to take over a session.
type BrowserSession struct {
	ID        string // hex SHA-256 of the cookie token
	PersonID  string
	AuthTime  time.Time
	AMR       []string // how the person proved who they are: "pwd", "otp"
	CreatedAt time.Time
	ExpiresAt time.Time
	// ACR is the authentication context class the upstream provider said
	// its login met (FranceConnect's eidas1…); empty for Relais's own login.
	ACR string
	// Upstream names the provider the person logged in through
	// (UpstreamFranceConnect, UpstreamProConnect); empty for a password.
	Upstream string
	// UpstreamIDToken is the provider's ID token, kept as the id_token_hint
	// of the provider's logout (OIDC RP-Initiated Logout §2).
	UpstreamIDToken string
}

// The upstream providers a person may log in through.
const (
	UpstreamFranceConnect = "franceconnect" // persons
	UpstreamProConnect    = "proconnect"    // professionals
)

// SessionStore keeps browser sessions; every instance sharing the store sees
// the same sessions (DESIGN.md §2: no state in memory).
type SessionStore interface {
	CreateSession(ctx context.Context, s BrowserSession) error
	// Session returns mandates.ErrNotFound for an unknown or expired id.
	Session(ctx context.Context, id string, now time.Time) (BrowserSession, error)
	DeleteSession(ctx context.Context, id string) error
	// RenewSession replaces session oldID by s (a new id, after the second
	// factor is given) in one transaction, so the old token stops working
	// when the new one starts. mandates.ErrNotFound when oldID is gone.
	RenewSession(ctx context.Context, oldID string, s BrowserSession) error
}

// NewSessionToken returns a cookie token and the session id it maps to.
func NewSessionToken() (token, id string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, SessionID(token)
}

// SessionID is the stored id of a cookie token.
func SessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
