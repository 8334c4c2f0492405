package authn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// LoginNameStore keeps the login names (identifiants) of accounts opened
// at a desk: a person without an email logs in with the one written in
// their activation letter. One per person, each unique.
type LoginNameStore interface {
	// SetLoginName gives the person this login name (LoginNameKey form),
	// replacing any they had; a name another person has is refused with a
	// *mandates.UniqueError (Entity "person", Field "login_name").
	SetLoginName(ctx context.Context, personID, name string) error
	// LoginName is the person's login name; mandates.ErrNotFound when they
	// have none.
	LoginName(ctx context.Context, personID string) (string, error)
	// PersonIDByLoginName finds whose name it is; mandates.ErrNotFound for
	// a name nobody has.
	PersonIDByLoginName(ctx context.Context, name string) (string, error)
}

// LoginNameKey is a typed login name as it is stored and compared:
// trimmed and in lower case.
func LoginNameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// IsLoginName says whether what a person typed on the login page is a
// login name rather than an email address: it has no « @ ».
func IsLoginName(s string) bool { return !strings.Contains(s, "@") }

// WithLoginNames lets persons log in with their login name as well as
// their email. Without it, NewAuthenticator uses the person store when it
// keeps login names too (both of Relais's stores do).
func WithLoginNames(names LoginNameStore) AuthenticatorOption {
	return func(a *Authenticator) { a.loginNames = names }
}

// The rule of a new password, the same wherever one is chosen
// (activation, reset): long enough to resist guessing with the login
// limits, short enough to bound argon2id's work.
const (
	// MinPasswordLength: CNIL's recommendation of 2022 (délibération
	// 2022-100) for a password alone, with the login limits Relais has:
	// 12 characters, any kind; no rule of capitals or digits, which makes
	// passwords harder to remember, not to guess (NIST SP 800-63B §3.1.1.2).
	MinPasswordLength = 12  // characters
	MaxPasswordLength = 128 // characters
)

// Why a new password is refused.
var (
	ErrPasswordTooShort = errors.New("authn: the password is too short")
	ErrPasswordTooLong  = errors.New("authn: the password is too long")
	ErrPasswordsDiffer  = errors.New("authn: the two passwords differ")
)

// CheckNewPassword applies the rule of a new password, typed twice.
func CheckNewPassword(password, again string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case strings.TrimSpace(password) == "" || n < MinPasswordLength:
		return ErrPasswordTooShort
	case n > MaxPasswordLength || !utf8.ValidString(password):
		return ErrPasswordTooLong
	case password != again:
		return ErrPasswordsDiffer
	}
	return nil
}

// HashNewPassword checks a new password typed twice (CheckNewPassword)
// and hashes it with argon2id in the authenticator's pool, which bounds
// how many hashes run at once (a *BusyError when it is full).
func (a *Authenticator) HashNewPassword(ctx context.Context, password, again string) (string, error) {
	if err := CheckNewPassword(password, again); err != nil {
		return "", err
	}
	var hash string
	if err := a.hashes.Do(ctx, func() { hash = HashPassword(password) }); err != nil {
		return "", fmt.Errorf("hash a new password: %w", err)
	}
	return hash, nil
}
