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
