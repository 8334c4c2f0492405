package mandates

import "errors"

// Failures every store reports the same way, so callers can test them with
// errors.Is whatever the store behind them.
var (
	// ErrNotFound: no record has this key.
	ErrNotFound = errors.New("mandates: not found")
	// ErrAlreadyExists: a record with this key, or with a value that must be
	// unique (such as an email address), already exists.
	ErrAlreadyExists = errors.New("mandates: already exists")
	// ErrConflict: the record changed under a concurrent writer and the
	// change could not be applied; the caller may try again.
	ErrConflict = errors.New("mandates: concurrent change")
	// ErrUnavailable: the store cannot be reached or is busy right now.
	// Nothing was written; the request can be retried later.
	ErrUnavailable = errors.New("mandates: store unavailable")
	// ErrInvalid: the value breaks a rule of the domain (a missing field, a
	// malformed date…). The wrapped message names the field.
	ErrInvalid = errors.New("mandates: invalid")
)

// UniqueError says which unique value is already taken. It matches
// ErrAlreadyExists with errors.Is.
type UniqueError struct {
	Entity string // "person", "client"…
	Field  string // "id", "email"…
}

func (e *UniqueError) Error() string {
	return "mandates: " + e.Entity + " " + e.Field + " already exists"
}

// Is makes errors.Is(err, ErrAlreadyExists) true for a *UniqueError.
func (e *UniqueError) Is(target error) bool { return target == ErrAlreadyExists }

// Failures of the representation service, for callers to map to a page or
// a JSON error.
var (
	// ErrNotPermitted: the actor may not make this change (not an
	// operator, not the organisation's administrator, not the person…).
	ErrNotPermitted = errors.New("mandates: not permitted")
	// ErrInactive: the representation is not in a state that allows this
	// (already withdrawn, expired, not waiting for consent…).
	ErrInactive = errors.New("mandates: representation not in the right state")
	// ErrSecondFactor: aidants act only after a login with a second factor.
	ErrSecondFactor = errors.New("mandates: a second factor is required")
	// ErrCodeWrong: the consent code is not the one sent.
	ErrCodeWrong = errors.New("mandates: wrong consent code")
	// ErrCodeExpired: the consent code is too old, or was already used.
	ErrCodeExpired = errors.New("mandates: consent code expired or used")
	// ErrTooManyCodes: too many wrong codes, or too many sent: the request
	// is cancelled.
	ErrTooManyCodes = errors.New("mandates: too many consent codes")
	// ErrRepresentativeGives: under the person's measure the representative
	// gives or refuses a mandate or a proxy for the person (under tutelle,
	// the tutor); the person's own word is not enough.
	ErrRepresentativeGives = errors.New("mandates: under this measure, the representative gives it for the person")
	// ErrNoSecondFactor: the person has no second factor yet, so cannot be
	// habilitated as an aidant until they turn one on.
	ErrNoSecondFactor = errors.New("mandates: no second factor enrolled")
	// ErrNoSender: remote consent needs a way to send codes that this
	// deployment does not have, or a phone number the person does not have.
	ErrNoSender = errors.New("mandates: no way to send the consent code")
)

// OpenError says a mandate or a proxy between the same parties is already
// in force or waiting: change that one rather than add another. It matches
// ErrAlreadyExists with errors.Is.
type OpenError struct {
	ID     string // the one already there
	Status Status // its status now
}

func (e *OpenError) Error() string {
	return "mandates: representation " + e.ID + " between the same parties is already " + string(e.Status)
}

// Is makes errors.Is(err, ErrAlreadyExists) true for an *OpenError.
func (e *OpenError) Is(target error) bool { return target == ErrAlreadyExists }
