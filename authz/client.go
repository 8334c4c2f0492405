package authz

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Client is a relying party: a public-service site that signs people in
// through Relais.
type Client struct {
	ID               string
	Name             string
	RedirectURIs     []string // matched exactly (RFC 9700 §2.1)
	Scopes           []string // scopes the client may ask for
	GrantTypes       []string // e.g. authorization_code, refresh_token
	SectorIdentifier string   // host that groups clients sharing pairwise subjects
	SecretHash       string   // hex SHA-256 of the secret; empty for a public client
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Version          int64
}

// ClientStore keeps relying parties. It reports mandates.ErrNotFound,
// a *mandates.UniqueError on a taken id, and mandates.ErrUnavailable.
type ClientStore interface {
	CreateClient(ctx context.Context, c Client) error
	Client(ctx context.Context, id string) (Client, error)
	Clients(ctx context.Context) ([]Client, error)
	UpdateClient(ctx context.Context, id string, fn func(*Client) error) (Client, error)
	DeleteClient(ctx context.Context, id string) error
}

// Validate reports the first field that breaks a rule.
func (c *Client) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: client id is empty", mandates.ErrInvalid)
	case strings.TrimSpace(c.Name) == "":
		return fmt.Errorf("%w: client name is empty", mandates.ErrInvalid)
	}
	for _, u := range c.RedirectURIs {
		if err := validRedirectURI(u); err != nil {
			return fmt.Errorf("%w: redirect URI %q %v", mandates.ErrInvalid, u, err)
		}
	}
	return nil
}

// validRedirectURI applies RFC 6749 §3.1.2: absolute, no fragment; and RFC
// 9700 §2.1: https except for loopback development hosts.
func validRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("does not parse")
	case !u.IsAbs() || u.Host == "":
		return fmt.Errorf("is not absolute")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("has a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("must use https (http only on localhost)")
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// NewClientSecret returns a fresh secret to show once and its hash to store.
// 32 random bytes leave nothing to guess, so a plain SHA-256 is enough at
// rest and keeps the token endpoint fast (a password hash would not).
func NewClientSecret() (secret, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+).
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashClientSecret(secret)
}

// HashClientSecret is the stored form of a client secret.
func HashClientSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ClientSecretMatches compares in constant time.
func ClientSecretMatches(hash, secret string) bool {
	if hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashClientSecret(secret))) == 1
}

// ApplyClientUpdate is the part of ClientStore.UpdateClient every store
// shares: it runs fn on a copy of old, refuses a changed id or an invalid
// result, and stamps the new version.
func ApplyClientUpdate(old Client, fn func(*Client) error, now time.Time) (Client, error) {
	c := old
	c.RedirectURIs = slices.Clone(old.RedirectURIs)
	c.Scopes = slices.Clone(old.Scopes)
	c.GrantTypes = slices.Clone(old.GrantTypes)
	if err := fn(&c); err != nil {
		return old, err
	}
	if c.ID != old.ID {
		return old, fmt.Errorf("%w: the client id cannot change", mandates.ErrInvalid)
	}
	if err := c.Validate(); err != nil {
		return old, err
	}
	c.CreatedAt, c.UpdatedAt, c.Version = old.CreatedAt, now.UTC().Truncate(time.Microsecond), old.Version+1
	return c, nil
}
