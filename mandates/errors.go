package mandates

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
	// malformed date…). An *InvalidError names the field and the rule.
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

// hidden is the answer to someone who may not act on a representation: not
// found, so that they learn nothing of it, not even that it exists.
func hidden(id string) error { return fmt.Errorf("representation %s: %w", id, ErrNotFound) }

// Rule names the rule of the domain a value breaks, so that a caller can
// say it in its own words (a form's sentence, a JSON description) without
// reading an error's text.
type Rule string

const (
	RuleRequired  Rule = "required"   // the value is missing
	RuleTooLong   Rule = "too_long"   // longer than Limit bytes
	RuleTooMany   Rule = "too_many"   // more than Limit items
	RuleFormat    Rule = "format"     // not in the form the field takes (an id, a date, an address…)
	RuleUnknown   Rule = "unknown"    // not one of the values the field takes, or no such record
	RuleAfter     Rule = "after"      // must come after the start
	RuleMaxYears  Rule = "max_years"  // ends more than Limit years after the start
	RuleTerm      Rule = "term"       // not one of the lengths a mandate or a proxy takes
	RuleDuplicate Rule = "duplicate"  // the same value given twice
	RuleSelf      Rule = "self"       // the represented person named as their own representative
	RuleBoth      Rule = "both"       // two ways of saying one thing given at once: give one
	RuleForbidden Rule = "forbidden"  // not allowed for this kind, party or status
	RuleUnchanged Rule = "unchanged"  // the change changes nothing
	RuleReadOnly  Rule = "read_only"  // a value that cannot change once written
	RuleMember    Rule = "member"     // not an active member of the organisation
	RuleNamedActs Rule = "named_acts" // a sauvegarde names no act of its mandataire spécial
)

// InvalidError says which field breaks which rule of the domain, and the
// limit the rule sets when it has one. It matches ErrInvalid with
// errors.Is; callers read it with errors.As, never by its text.
type InvalidError struct {
	Field string // "valid_until", "representatives"…, as the JSON API names it
	Rule  Rule
	Limit int // bytes for RuleTooLong, items for RuleTooMany, years for RuleMaxYears; 0 otherwise
	// Index is the position, from 1, of the list item the field belongs
	// to (the second representative…); 0 for a field of no list.
	Index int
}

func (e *InvalidError) Error() string { return "mandates: invalid: " + e.Message() }

// Is makes errors.Is(err, ErrInvalid) true for an *InvalidError.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Message says in plain English which field breaks which rule, built from
// the field, the rule and the limit only, so it can be shown to a client.
func (e *InvalidError) Message() string {
	field := e.Field
	if e.Index > 0 {
		field += " " + strconv.Itoa(e.Index)
	}
	return field + " " + e.Rule.describe(e.Limit)
}

func (r Rule) describe(limit int) string {
	switch r {
	case RuleRequired:
		return "is missing"
	case RuleTooLong:
		return "is longer than " + strconv.Itoa(limit) + " bytes"
	case RuleTooMany:
		return "holds more than " + strconv.Itoa(limit) + " items"
	case RuleFormat:
		return "is not in the expected form"
	case RuleUnknown:
		return "is not a known value"
	case RuleAfter:
		return "must be after the start"
	case RuleMaxYears:
		return "is more than " + strconv.Itoa(limit) + " years after the start, the law's maximum for this measure"
	case RuleTerm:
		return "must be 1 day, 1 month, 6 months or 12 months"
	case RuleDuplicate:
		return "names the same value twice"
	case RuleSelf:
		return "is the represented person: nobody represents themselves"
	case RuleBoth:
		return "is given twice: give it one way"
	case RuleForbidden:
		return "is not allowed here"
	case RuleUnchanged:
		return "changes nothing"
	case RuleReadOnly:
		return "cannot change"
	case RuleMember:
		return "must be active members of the organisation"
	case RuleNamedActs:
		return "must list the acts the mandataire spécial is named for"
	case RuleNotMobile:
		return "cannot receive a text message: give a French mobile number"
	case RuleSeveralPersons:
		return "matches several persons: register this measure on the operator's page"
	case RuleRegisteredOtherwise:
		return "is already registered with another content"
	case RuleDisagrees:
		return "differs from the first line of the same decision"
	case RuleEmailTaken:
		return "is already another account's address"
	}
	return "breaks the rule " + string(r)
}

// invalid is the error of a field that breaks a rule.
func invalid(field string, rule Rule) error { return &InvalidError{Field: field, Rule: rule} }

// invalidLimit is the error of a field that breaks a rule with a limit.
func invalidLimit(field string, rule Rule, limit int) error {
	return &InvalidError{Field: field, Rule: rule, Limit: limit}
}

// checkText is the rule of a free text field: valid UTF-8, at most max
// bytes, and not blank when required.
func checkText(field, v string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(v) == "":
		return invalid(field, RuleRequired)
	case !utf8.ValidString(v):
		return invalid(field, RuleFormat)
	case len(v) > max:
		return invalidLimit(field, RuleTooLong, max)
	}
	return nil
}

// atIndex sets the list position of an *InvalidError (from 1).
func atIndex(err error, i int) error {
	var inv *InvalidError
	if errors.As(err, &inv) {
		c := *inv
		c.Index = i
		return &c
	}
	return err
}
