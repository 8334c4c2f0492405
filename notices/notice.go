package notices

import (
	"errors"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/relais-fr/relais/mandates"
)

// Status is where a notice stands in the outbox.
//
// The legal transitions, which Notice.Can checks on every path:
//
//	pending ──(electronic, the channel took it)──────> sent
//	pending ──(electronic, refused or kept failing)──> failed   (a paper fallback is written with it)
//	pending ──(paper, given to the print service)────> handed_over
//
// sent, failed and handed_over are final. A pending notice may also stay
// pending while its attempts, next attempt, lease and last error change
// (a temporary failure, a claim, a released lease).
type Status string

const (
	Pending    Status = "pending"
	Sent       Status = "sent"
	Failed     Status = "failed"
	HandedOver Status = "handed_over" // paper: given to the print-and-post service
)

// Valid says whether s is a status of the outbox.
func (s Status) Valid() bool { return s == Pending || s == Sent || s == Failed || s == HandedOver }

// RecipientKind says what RecipientID names: a person (the represented
// person, a representative in their own name) or an organisation that
// holds a representation (an MJPM service).
type RecipientKind string

const (
	ToPerson       RecipientKind = "person"
	ToOrganisation RecipientKind = "organisation"
)

// EventNoticeFallback: a notice that could not be sent by email or SMS
// will go on paper. In the person's journal; Detail: channel (the one that
// failed) and code (Notice.LastError), nothing else.
const EventNoticeFallback = mandates.EventNoticeFallback

// Limits of a notice's fields.
const (
	MaxDataKeys   = 32  // entries of Data
	MaxDataKey    = 40  // bytes of a key
	MaxDataValue  = 200 // bytes of a value: ids and codes, never texts
	MaxOwner      = 100 // bytes of a lease owner
	MaxErrorCode  = 64  // bytes of LastError
	MaxAttemptCap = 1000
)

// Notice is one thing Relais must tell one recipient, kept in the outbox
// until it is sent (email, SMS) or handed to the print service (paper).
// It holds ids and codes only: the words are written from them when it is
// sent (Writer), in the recipient's language.
type Notice struct {
	ID            string // mandates.NewID: UUIDv7
	PersonID      string // whom the notice is about
	RecipientID   string // who receives it: the person, or a representative
	RecipientKind RecipientKind
	Kind          mandates.EventType // the event that caused it
	Channel       Channel
	Lang          string            // "fr" or "en"
	Data          map[string]string // ids and codes the texts are written from
	Status        Status
	Attempts      int       // sends tried so far
	NextAttemptAt time.Time // not claimed before
	// LeaseOwner and LeaseUntil: the dispatcher that claimed the notice,
	// and until when; both empty when nobody holds it.
	LeaseOwner string
	LeaseUntil time.Time
	// LastError is a code (ErrorCode), never an error's text: it is shown
	// to operators and journaled.
	LastError    string
	SentAt       time.Time
	HandedOverAt time.Time
	// FallbackOf is, on a paper notice, the electronic notice it replaces.
	FallbackOf string
	CreatedAt  time.Time
	Version    int64
}

// ErrTransition: a notice's status cannot change that way. A
// *TransitionError says which change.
var ErrTransition = errors.New("notices: status change not allowed")

// ErrLeaseLost: the dispatcher no longer holds the notice's lease (it
// expired and another dispatcher claimed it, or the notice is no longer
// pending), so it may not record an outcome.
var ErrLeaseLost = errors.New("notices: lease no longer held")

// TransitionError says which change of status a notice refused. It
// matches ErrTransition with errors.Is.
type TransitionError struct {
	ID       string
	Channel  Channel
	From, To Status
}

func (e *TransitionError) Error() string {
	return "notices: notice " + e.ID + " (" + string(e.Channel) + ") cannot go from " + string(e.From) + " to " + string(e.To)
}

// Is makes errors.Is(err, ErrTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrTransition }

// Can says whether the notice may go to status to: nil, or a
// *TransitionError. Staying pending is always allowed while pending.
func (n *Notice) Can(to Status) error {
	ok := false
	if n.Status == Pending {
		switch to {
		case Pending:
			ok = true
		case Sent, Failed:
			ok = n.Channel != Paper
		case HandedOver:
			ok = n.Channel == Paper
		}
	}
	if !ok {
		return &TransitionError{ID: n.ID, Channel: n.Channel, From: n.Status, To: to}
	}
	return nil
}

// Validate reports the first field that breaks a rule, as a
// *mandates.InvalidError (errors.Is(err, mandates.ErrInvalid)).
func (n *Notice) Validate() error {
	bad := func(field string, rule mandates.Rule) error { return &mandates.InvalidError{Field: field, Rule: rule} }
	switch {
	case !mandates.IsID(n.ID):
		return bad("id", mandates.RuleFormat)
	case !mandates.IsID(n.PersonID):
		return bad("person", mandates.RuleFormat)
	case !mandates.IsID(n.RecipientID):
		return bad("recipient", mandates.RuleFormat)
	case n.RecipientKind != ToPerson && n.RecipientKind != ToOrganisation:
		return bad("recipient_kind", mandates.RuleUnknown)
	case n.RecipientKind == ToOrganisation && n.RecipientID == n.PersonID:
		return bad("recipient_kind", mandates.RuleSelf)
	case !slices.Contains(mandates.EventTypes, n.Kind):
		return bad("kind", mandates.RuleUnknown)
	case !n.Channel.Valid():
		return bad("channel", mandates.RuleUnknown)
	case !slices.Contains(mandates.Languages, n.Lang):
		return bad("lang", mandates.RuleUnknown)
	case !n.Status.Valid():
		return bad("status", mandates.RuleUnknown)
	case n.Attempts < 0 || n.Attempts > MaxAttemptCap:
		return &mandates.InvalidError{Field: "attempts", Rule: mandates.RuleTooMany, Limit: MaxAttemptCap}
	case n.Channel == Paper && n.Attempts != 0:
		return bad("attempts", mandates.RuleForbidden)
	case n.NextAttemptAt.IsZero():
		return bad("next_attempt_at", mandates.RuleRequired)
	case n.CreatedAt.IsZero():
		return bad("created_at", mandates.RuleRequired)
	}
	if err := checkData(n.Data); err != nil {
		return err
	}
	if err := n.validateLease(); err != nil {
		return err
	}
	if !IsCode(n.LastError) {
		return &mandates.InvalidError{Field: "last_error", Rule: mandates.RuleFormat, Limit: MaxErrorCode}
	}
	switch {
	case (n.Status == Sent) != !n.SentAt.IsZero():
		return bad("sent_at", mandates.RuleRequired)
	case (n.Status == HandedOver) != !n.HandedOverAt.IsZero():
		return bad("handed_over_at", mandates.RuleRequired)
	case n.Status != Pending && n.Channel == Paper && n.Status != HandedOver:
		return bad("status", mandates.RuleForbidden)
	case n.Status == HandedOver && n.Channel != Paper:
		return bad("status", mandates.RuleForbidden)
	case n.FallbackOf != "" && !mandates.IsID(n.FallbackOf):
		return bad("fallback_of", mandates.RuleFormat)
	case n.FallbackOf != "" && n.Channel != Paper:
		return bad("fallback_of", mandates.RuleForbidden)
	case n.FallbackOf == n.ID:
		return bad("fallback_of", mandates.RuleSelf)
	}
	return nil
}

func (n *Notice) validateLease() error {
	switch {
	case (n.LeaseOwner == "") != n.LeaseUntil.IsZero():
		return &mandates.InvalidError{Field: "lease", Rule: mandates.RuleBoth}
	case len(n.LeaseOwner) > MaxOwner || !utf8.ValidString(n.LeaseOwner):
		return &mandates.InvalidError{Field: "lease_owner", Rule: mandates.RuleTooLong, Limit: MaxOwner}
	case n.LeaseOwner != "" && (n.Channel == Paper || n.Status != Pending):
		return &mandates.InvalidError{Field: "lease", Rule: mandates.RuleForbidden}
	}
	return nil
}

// checkData: ids and codes only, a bounded number of short entries.
func checkData(d map[string]string) error {
	if len(d) > MaxDataKeys {
		return &mandates.InvalidError{Field: "data", Rule: mandates.RuleTooMany, Limit: MaxDataKeys}
	}
	for k, v := range d {
		if k == "" || len(k) > MaxDataKey || !isKey(k) {
			return &mandates.InvalidError{Field: "data", Rule: mandates.RuleFormat}
		}
		if len(v) > MaxDataValue || !utf8.ValidString(v) {
			return &mandates.InvalidError{Field: "data." + k, Rule: mandates.RuleTooLong, Limit: MaxDataValue}
		}
	}
	return nil
}

func isKey(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// IsCode says whether s can be a LastError: empty, or at most MaxErrorCode
// bytes of lower-case letters, digits, '_', '.' and '-'.
func IsCode(s string) bool {
	if len(s) > MaxErrorCode {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// ApplyRecord is the part of Store.Record every store shares, between its
// read of the stored notice (old) and its write. held is the notice as the
// dispatcher claimed it: the outcome is recorded only while held's lease
// is still the stored one (same owner, same version), else ErrLeaseLost.
// It runs fn on a copy, refuses a change of what a notice is about, an
// illegal transition or an invalid result, releases the lease and bumps
// the version. The store then writes WHERE version = old.Version.
func ApplyRecord(old, held Notice, fn func(*Notice) error) (Notice, error) {
	if held.LeaseOwner == "" || old.LeaseOwner != held.LeaseOwner || old.Version != held.Version || old.Status != Pending {
		return old, ErrLeaseLost
	}
	n := old
	n.Data = maps.Clone(old.Data)
	if err := fn(&n); err != nil {
		return old, err
	}
	if err := old.Can(n.Status); err != nil {
		return old, err
	}
	if err := sameNotice(&old, &n); err != nil {
		return old, err
	}
	n.LeaseOwner, n.LeaseUntil = "", time.Time{}
	n.Version = old.Version + 1
	if err := n.Validate(); err != nil {
		return old, err
	}
	return n, nil
}

// ApplyHandOver is the part of Store.MarkHandedOver every store shares:
// a pending paper notice becomes handed_over at `at`, with Version+1.
func ApplyHandOver(old Notice, at time.Time) (Notice, error) {
	if err := old.Can(HandedOver); err != nil {
		return old, err
	}
	n := old
	n.Status, n.HandedOverAt, n.Version = HandedOver, at.UTC().Truncate(time.Millisecond), old.Version+1
	if err := n.Validate(); err != nil {
		return old, err
	}
	return n, nil
}

// sameNotice refuses a change of what the notice is: only its progress
// (status, attempts, next attempt, last error, sent time) may change.
func sameNotice(a, b *Notice) error {
	ro := func(field string) error { return &mandates.InvalidError{Field: field, Rule: mandates.RuleReadOnly} }
	switch {
	case a.ID != b.ID:
		return ro("id")
	case a.PersonID != b.PersonID:
		return ro("person")
	case a.RecipientID != b.RecipientID || a.RecipientKind != b.RecipientKind:
		return ro("recipient")
	case a.Kind != b.Kind:
		return ro("kind")
	case a.Channel != b.Channel:
		return ro("channel")
	case a.Lang != b.Lang:
		return ro("lang")
	case !maps.Equal(a.Data, b.Data):
		return ro("data")
	case a.FallbackOf != b.FallbackOf:
		return ro("fallback_of")
	case !a.CreatedAt.Equal(b.CreatedAt):
		return ro("created_at")
	case !a.HandedOverAt.Equal(b.HandedOverAt):
		return ro("handed_over_at")
	}
	return nil
}
