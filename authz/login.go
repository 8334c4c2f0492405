package authz

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Consent is what a person agreed to share with one site; Relais asks
// again only when the site asks for more (OIDC Core §3.1.2.4).
type Consent struct {
	PersonID  string
	ClientID  string
	Scopes    []string
	GrantedAt time.Time
}

// Covers says whether the consent includes every scope asked for.
func (c Consent) Covers(scopes []string) bool {
	for _, s := range scopes {
		if !slices.Contains(c.Scopes, s) {
			return false
		}
	}
	return true
}

// ConsentStore keeps consents, one per person and site.
type ConsentStore interface {
	// Consent returns mandates.ErrNotFound when the person never agreed.
	Consent(ctx context.Context, personID, clientID string) (Consent, error)
	// SaveConsent creates or replaces the consent of the person for the site.
	SaveConsent(ctx context.Context, c Consent) error
	DeleteConsent(ctx context.Context, personID, clientID string) error
}

// AttemptStore counts failed logins per key (an account, an address) in
// fixed windows. Counters live in the store so the limit holds across
// instances (DESIGN.md §2).
type AttemptStore interface {
	// AddFailure counts one failure for key in the window that starts at
	// window, and returns the window's count after it.
	AddFailure(ctx context.Context, key string, window time.Time) (int, error)
	// Failures returns the count of key's window that starts at window.
	Failures(ctx context.Context, key string, window time.Time) (int, error)
	// ClearFailures forgets key's failures.
	ClearFailures(ctx context.Context, key string) error
	// DeleteOldAttempts forgets windows that started before t.
	DeleteOldAttempts(ctx context.Context, t time.Time) (int64, error)
}

// Login failures a person can meet. Neither says which of the email or
// the password was wrong.
var (
	ErrBadCredentials   = errors.New("authz: email or password does not match")
	ErrTooManyAttempts  = errors.New("authz: too many failed attempts")
	errUnusablePassword = errors.New("authz: account has no usable password")
)

// LoginLimits bound failed attempts; the zero value is the default.
type LoginLimits struct {
	Window     time.Duration // default 15 min
	PerAccount int           // default 5
	PerAddress int           // default 30: a France Services desk shares one address
}

// Authenticator checks passwords and limits guessing.
type Authenticator struct {
	persons  mandates.PersonStore
	attempts AttemptStore
	limits   LoginLimits
	now      func() time.Time
	dummy    string // a hash to verify against for unknown accounts
	ev       events
}

// NewAuthenticator makes an Authenticator.
func NewAuthenticator(persons mandates.PersonStore, attempts AttemptStore, limits LoginLimits, now func() time.Time, opts ...AuthenticatorOption) *Authenticator {
	if limits.Window <= 0 {
		limits.Window = 15 * time.Minute
	}
	if limits.PerAccount <= 0 {
		limits.PerAccount = 5
	}
	if limits.PerAddress <= 0 {
		limits.PerAddress = 30
	}
	if now == nil {
		now = time.Now
	}
	a := &Authenticator{persons: persons, attempts: attempts, limits: limits, now: now,
		dummy: HashPassword("relais: a password nobody has")}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Window is how long a person waits after too many failures.
func (a *Authenticator) Window() time.Duration { return a.limits.Window }

// Authenticate returns the person whose email and password these are.
// It fails with ErrBadCredentials or ErrTooManyAttempts (or a store error),
// and takes about the same time whether or not the account exists, so the
// answer says nothing about who has an account.
func (a *Authenticator) Authenticate(ctx context.Context, email, password, address string) (mandates.Person, error) {
	window := a.now().UTC().Truncate(a.limits.Window)
	accountKey, addressKey := "account:"+mandates.EmailKey(email), "address:"+address
	for key, limit := range map[string]int{accountKey: a.limits.PerAccount, addressKey: a.limits.PerAddress} {
		n, err := a.attempts.Failures(ctx, key, window)
		if err != nil {
			return mandates.Person{}, fmt.Errorf("read login attempts: %w", err)
		}
		if n >= limit {
			return mandates.Person{}, ErrTooManyAttempts
		}
	}
	p, err := a.persons.PersonByEmail(ctx, email)
	hash := a.dummy
	switch {
	case err == nil && p.PasswordHash != "":
		hash = p.PasswordHash
	case err == nil:
		err = errUnusablePassword
	case !errors.Is(err, mandates.ErrNotFound):
		return mandates.Person{}, err
	}
	ok, verr := VerifyPassword(hash, password)
	if err == nil && verr == nil && ok {
		err := a.ev.inTx(ctx, func(ctx context.Context) error {
			if err := a.attempts.ClearFailures(ctx, accountKey); err != nil {
				return fmt.Errorf("clear login attempts: %w", err)
			}
			return a.ev.emit(ctx, personEvent(mandates.EventLoginSucceeded, p.ID, a.now().UTC(), map[string]string{"method": "pwd"}))
		})
		if err != nil {
			return mandates.Person{}, err
		}
		return p, nil
	}
	err = a.ev.inTx(ctx, func(ctx context.Context) error {
		for _, key := range []string{accountKey, addressKey} {
			if _, err := a.attempts.AddFailure(ctx, key, window); err != nil {
				return fmt.Errorf("count a failed login: %w", err)
			}
		}
		if p.ID == "" { // no such account: see journal_events.go
			return nil
		}
		return a.ev.emit(ctx, personEvent(mandates.EventLoginFailed, p.ID, a.now().UTC(), map[string]string{"method": "pwd"}))
	})
	if err != nil {
		return mandates.Person{}, err
	}
	return mandates.Person{}, ErrBadCredentials
}
