package authn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// AttemptStore counts login attempts per key (an account, an address) in
// fixed windows. Counters live in the store so the limit holds across
// instances (DESIGN.md §2). An attempt is counted before the password or
// code is checked, and taken back when it succeeds, so that concurrent
// guesses cannot all be checked while the count still says there is room.
type AttemptStore interface {
	// ReserveAttempt counts one attempt against every limit, in the window
	// that starts at window, all or none: when a key already has Max
	// attempts it counts nothing and returns false. It is atomic: of any
	// number of concurrent calls, at most Max are counted for a key.
	ReserveAttempt(ctx context.Context, window time.Time, limits ...AttemptLimit) (bool, error)
	// ReleaseAttempt takes back one attempt counted for key in window.
	ReleaseAttempt(ctx context.Context, key string, window time.Time) error
	// Failures returns the count of key's window that starts at window.
	Failures(ctx context.Context, key string, window time.Time) (int, error)
	// ClearFailures forgets key's failures.
	ClearFailures(ctx context.Context, key string) error
}

// AttemptLimit is a counter an attempt is counted against, and how many
// attempts it allows in a window.
type AttemptLimit struct {
	Key string
	Max int
}

// SortedLimits returns the limits in key order: stores count them in that
// order, so two reservations that share keys lock them the same way round.
func SortedLimits(limits []AttemptLimit) []AttemptLimit {
	sorted := slices.Clone(limits)
	slices.SortFunc(sorted, func(a, b AttemptLimit) int { return strings.Compare(a.Key, b.Key) })
	return sorted
}

// Login failures a person can meet. Neither says which of the email or
// the password was wrong.
var (
	ErrBadCredentials   = errors.New("authn: email or password does not match")
	ErrTooManyAttempts  = errors.New("authn: too many failed attempts")
	errUnusablePassword = errors.New("authn: account has no usable password")
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
	hashes   *HashPool
	// loginNames finds accounts by their login name (identifiant);
	// nil: by email only.
	loginNames LoginNameStore
}

// NewAuthenticator makes an Authenticator that journals logins and
// second-factor acts in sink, each in a transaction of tx with the writes
// of its act. sink and tx are required: a nil one panics, at start.
func NewAuthenticator(persons mandates.PersonStore, attempts AttemptStore, limits LoginLimits, now func() time.Time,
	sink mandates.EventSink, tx mandates.Transactor, opts ...AuthenticatorOption) *Authenticator {
	ev := mustEvents(sink, tx)
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
	a := &Authenticator{persons: persons, attempts: attempts, limits: limits, now: now, ev: ev,
		dummy: HashPassword("relais: a password nobody has")}
	a.loginNames, _ = persons.(LoginNameStore)
	for _, o := range opts {
		o(a)
	}
	if a.hashes == nil {
		a.hashes = NewHashPool(HashPoolConfig{})
	}
	return a
}

// Window is how long a person waits after too many failures.
func (a *Authenticator) Window() time.Duration { return a.limits.Window }

// Authenticate returns the person whose email, or login name (an
// identifiant without « @ », for accounts opened at a desk), and password
// these are. It fails with ErrBadCredentials or ErrTooManyAttempts (or a store error),
// and takes about the same time whether or not the account exists, so the
// answer says nothing about who has an account.
func (a *Authenticator) Authenticate(ctx context.Context, email, password, address string) (mandates.Person, error) {
	window := a.now().UTC().Truncate(a.limits.Window)
	accountKey, addressKey := LoginAccountKey(email), "address:"+address
	// The attempt is counted before the password is checked: read first and
	// counted after, concurrent guesses would all find room under the limit.
	ok, err := a.attempts.ReserveAttempt(ctx, window,
		AttemptLimit{Key: accountKey, Max: a.limits.PerAccount}, AttemptLimit{Key: addressKey, Max: a.limits.PerAddress})
	if err != nil {
		return mandates.Person{}, fmt.Errorf("count a login attempt: %w", err)
	}
	if !ok {
		return mandates.Person{}, ErrTooManyAttempts
	}
	p, err := a.account(ctx, email)
	hash := a.dummy
	switch {
	case err == nil && p.PasswordHash != "":
		hash = p.PasswordHash
	case err == nil:
		err = errUnusablePassword
	case !errors.Is(err, mandates.ErrNotFound):
		return mandates.Person{}, err
	}
	match, verr := a.verify(ctx, hash, password)
	if verr != nil && !errors.Is(verr, ErrMalformedHash) {
		// The pool was busy or the request ended: the password was not
		// checked, so it was no guess, and the attempt is taken back.
		if rerr := a.release(context.WithoutCancel(ctx), window, accountKey, addressKey); rerr != nil {
			return mandates.Person{}, rerr
		}
		return mandates.Person{}, verr
	}
	if err == nil && verr == nil && match {
		// A success is not a failure: the account's count starts again and
		// the address's attempt is taken back, as before attempts were
		// counted ahead.
		err := a.ev.inTx(ctx, func(ctx context.Context) error {
			if err := a.attempts.ClearFailures(ctx, accountKey); err != nil {
				return fmt.Errorf("clear login attempts: %w", err)
			}
			if err := a.attempts.ReleaseAttempt(ctx, addressKey, window); err != nil {
				return fmt.Errorf("release a login attempt: %w", err)
			}
			return a.ev.emit(ctx, personEvent(mandates.EventLoginSucceeded, p.ID, a.now().UTC(), map[string]string{"method": "pwd"}))
		})
		if err != nil {
			return mandates.Person{}, err
		}
		return p, nil
	}
	// An email no account has is not journaled: see journal_events.go.
	if p.ID != "" {
		err := a.ev.emit(ctx, personEvent(mandates.EventLoginFailed, p.ID, a.now().UTC(), map[string]string{"method": "pwd"}))
		if err != nil {
			return mandates.Person{}, err
		}
	}
	return mandates.Person{}, ErrBadCredentials
}

// account finds the person by email, or by login name: either way an
// unknown account is mandates.ErrNotFound, checked against the dummy hash
// like any other, so the time taken says nothing.
func (a *Authenticator) account(ctx context.Context, login string) (mandates.Person, error) {
	return Account(ctx, a.persons, a.loginNames, login)
}

// Account is the person whose email, or login name (IsLoginName), login
// is; mandates.ErrNotFound when nobody's. names may be nil: then only
// emails are looked up.
func Account(ctx context.Context, persons mandates.PersonStore, names LoginNameStore, login string) (mandates.Person, error) {
	if names == nil || !IsLoginName(login) {
		return persons.PersonByEmail(ctx, login)
	}
	id, err := names.PersonIDByLoginName(ctx, LoginNameKey(login))
	if err != nil {
		return mandates.Person{}, err
	}
	return persons.Person(ctx, id)
}

// release takes back the attempt counted on each key.
func (a *Authenticator) release(ctx context.Context, window time.Time, keys ...string) error {
	for _, key := range keys {
		if err := a.attempts.ReleaseAttempt(ctx, key, window); err != nil {
			return fmt.Errorf("release a login attempt: %w", err)
		}
	}
	return nil
}
