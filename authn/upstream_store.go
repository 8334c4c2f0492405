package authn

import (
	"context"
	"errors"
	"time"
)

// UpstreamLogin is one login through an upstream provider on its way
// (FranceConnect, ProConnect), from the moment Relais sends the browser
// there to the moment it comes back: kept in the store, so that whichever
// instance receives the return finds it, and used once. Nothing in it is a
// secret: the state is kept as its SHA-256 only, and the PKCE verifier and
// the nonce are derived from the browser's own cookie, kept as its SHA-256
// only (package authn/upstream).
type UpstreamLogin struct {
	StateHash   []byte // SHA-256 of the state sent to the provider
	Provider    string // UpstreamFranceConnect, UpstreamProConnect
	Purpose     string // UpstreamPurposeLogin or UpstreamPurposeLogout
	BindingHash []byte // SHA-256 of the value of the browser's cookie
	Return      string // where the browser goes afterwards (a local path, or the logout request)
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// What an UpstreamLogin is for.
const (
	UpstreamPurposeLogin  = "login"
	UpstreamPurposeLogout = "logout"
)

// ErrUpstreamLoginUsed: the upstream login was already used once (a
// replayed return from the provider).
var ErrUpstreamLoginUsed = errors.New("authn: upstream login already used")

// UpstreamLoginStore keeps upstream logins on their way.
type UpstreamLoginStore interface {
	SaveUpstreamLogin(ctx context.Context, l UpstreamLogin) error
	// TakeUpstreamLogin marks the login of that state used and returns
	// it, once: mandates.ErrNotFound for an unknown state,
	// ErrUpstreamLoginUsed when it was taken before. An expired one is
	// returned (and used up): the caller compares ExpiresAt.
	TakeUpstreamLogin(ctx context.Context, stateHash []byte, now time.Time) (UpstreamLogin, error)
}

// UpstreamLink says that an upstream provider's account (its sub) is this
// person's: the next login through it finds the person without the
// identité pivot.
type UpstreamLink struct {
	Provider string
	Subject  string // the provider's sub
	PersonID string
	LinkedAt time.Time
}

// UpstreamLinkStore keeps the links of upstream accounts to persons.
type UpstreamLinkStore interface {
	// UpstreamLinkOf returns the link of the provider's sub:
	// mandates.ErrNotFound when it has none.
	UpstreamLinkOf(ctx context.Context, provider, subject string) (UpstreamLink, error)
	// SaveUpstreamLink links the provider's sub to the person; an
	// existing link of that sub, or of that person at that provider, is
	// a mandates.UniqueError (mandates.ErrAlreadyExists).
	SaveUpstreamLink(ctx context.Context, l UpstreamLink) error
	// UpstreamLinksOf lists the person's links, oldest first.
	UpstreamLinksOf(ctx context.Context, personID string) ([]UpstreamLink, error)
	// DeleteUpstreamLink removes the person's link at the provider:
	// mandates.ErrNotFound when there is none.
	DeleteUpstreamLink(ctx context.Context, personID, provider string) error
}
