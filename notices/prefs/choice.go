package prefs

import (
	"context"
	"slices"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// Choice is how one person receives their notices, as stored.
type Choice struct {
	PersonID string
	// Channel is the confirmed channel: Paper (the default, and for good
	// once the person went back to paper), Email or SMS.
	Channel notices.Channel
	Email   string // the confirmed address, when Channel is Email
	Phone   string // the confirmed mobile number (E.164), when Channel is SMS
	// PaperUntil: the person went back to paper until this day, the day
	// included, in France (Day: the date kept as midnight UTC): until its
	// end in Paris, letters go on paper though Channel is electronic; from
	// the next day, the electronic channel counts again. Zero when not
	// set.
	PaperUntil time.Time
	// ConfirmedAt is when the electronic channel and its address were
	// confirmed; zero on paper.
	ConfirmedAt time.Time
	// ChosenBy is who confirmed the electronic channel: the person, or
	// a representative (their person id) the rule let choose, then under
	// the measure ChosenUnder, held through the organisation
	// ChosenOrganisation when one holds it. A representative's choice
	// counts only while the rule still lets them choose (Lookup); empty
	// is the person's own.
	ChosenBy           string
	ChosenUnder        string
	ChosenOrganisation string
	// Pending is a change waiting for its code; its zero value is none.
	Pending Pending
	// Sends and SendsFrom count the codes sent since SendsFrom, to bound
	// them (Service.MaxSends an hour).
	Sends     int
	SendsFrom time.Time
	UpdatedAt time.Time
	Version   int64
}

// Pending is a new address or number waiting for the code sent to it.
type Pending struct {
	Channel notices.Channel // Email or SMS; "" when nothing waits
	To      string          // the address, or the number in E.164
	// CodeHash is a 16-byte random salt then the SHA-256 of the salt, the
	// person, the channel, the destination and the code: the code itself
	// is never stored, and a code works only for the address it was sent
	// to.
	CodeHash  []byte
	ExpiresAt time.Time
	Attempts  int // wrong codes so far
}

// Waiting says whether a change waits for its code.
func (p Pending) Waiting() bool { return p.Channel != "" }

// PaperUntilInForce says whether the paper-until covers `at`: its day in
// loc is not after PaperUntil.
func (c Choice) PaperUntilInForce(at time.Time, loc *time.Location) bool {
	return !c.PaperUntil.IsZero() && !Day(at, loc).After(c.PaperUntil)
}

// Effective is the channel a notice to the person takes at `at`, the days
// counted in loc: paper unless an electronic channel is confirmed and no
// paper-until is in force.
func (c Choice) Effective(at time.Time, loc *time.Location) notices.Channel {
	if c.Channel == "" || c.Channel == notices.Paper || c.PaperUntilInForce(at, loc) {
		return notices.Paper
	}
	return c.Channel
}

// Limits of a choice's fields.
const (
	MaxTo   = mandates.MaxEmail // bytes of an address or a number
	minHash = 16 + 32           // salt and SHA-256
)

// Validate refuses a choice that could not be followed or checked.
func (c *Choice) Validate() error {
	inv := func(field string, rule mandates.Rule) error { return &mandates.InvalidError{Field: field, Rule: rule} }
	switch {
	case !mandates.IsID(c.PersonID):
		return inv("person", mandates.RuleFormat)
	case !c.Channel.Valid():
		return inv("channel", mandates.RuleUnknown)
	case c.Channel == notices.Email && c.Email == "", c.Channel == notices.SMS && c.Phone == "":
		return inv("to", mandates.RuleRequired)
	case len(c.Email) > MaxTo || len(c.Phone) > MaxTo:
		return &mandates.InvalidError{Field: "to", Rule: mandates.RuleTooLong, Limit: MaxTo}
	case c.Sends < 0:
		return inv("sends", mandates.RuleFormat)
	case c.ChosenBy != "" && !mandates.IsID(c.ChosenBy):
		return inv("chosen_by", mandates.RuleFormat)
	case c.ChosenUnder != "" && !mandates.IsID(c.ChosenUnder):
		return inv("chosen_under", mandates.RuleFormat)
	case c.ChosenOrganisation != "" && !mandates.IsID(c.ChosenOrganisation):
		return inv("chosen_organisation", mandates.RuleFormat)
	}
	p := c.Pending
	if !p.Waiting() {
		if len(p.CodeHash) > 0 || p.To != "" {
			return inv("pending", mandates.RuleFormat)
		}
		return nil
	}
	switch {
	case p.Channel != notices.Email && p.Channel != notices.SMS:
		return inv("pending_channel", mandates.RuleUnknown)
	case p.To == "":
		return inv("to", mandates.RuleRequired)
	case len(p.To) > MaxTo:
		return &mandates.InvalidError{Field: "to", Rule: mandates.RuleTooLong, Limit: MaxTo}
	case len(p.CodeHash) < minHash:
		return inv("code_hash", mandates.RuleRequired)
	case p.ExpiresAt.IsZero():
		return inv("expires_at", mandates.RuleRequired)
	case p.Attempts < 0:
		return inv("attempts", mandates.RuleFormat)
	}
	return nil
}

// Store keeps the choices. Both stores implement it (storage/sqlite,
// storage/postgres; storagetest.RunNoticeChoices).
type Store interface {
	// InTx runs fn in one transaction: a choice and its journal entry
	// are written together.
	mandates.Transactor
	// NoticeChoice reads the person's choice; mandates.ErrNotFound when
	// they never chose (paper).
	NoticeChoice(ctx context.Context, personID string) (Choice, error)
	// UpdateNoticeChoice reads the person's choice in the transaction in
	// ctx (or its own), a paper one with Version 0 when none is stored,
	// applies fn through ApplyUpdate and writes the result (WHERE version
	// = the one read: mandates.ErrConflict when it changed meanwhile). It
	// returns the choice as stored. An unknown person is refused
	// (mandates.ErrNotFound, or an InvalidError on person).
	UpdateNoticeChoice(ctx context.Context, personID string, fn func(*Choice) error) (Choice, error)
}

// ApplyUpdate is the part of Store.UpdateNoticeChoice both stores share:
// fn runs on a copy of old, may not change whose choice it is, and must
// leave a valid choice; the version goes up by one and UpdatedAt is now
// (milliseconds, UTC).
func ApplyUpdate(old Choice, fn func(*Choice) error, now time.Time) (Choice, error) {
	c := old
	c.Pending.CodeHash = slices.Clone(old.Pending.CodeHash)
	if err := fn(&c); err != nil {
		return old, err
	}
	if c.PersonID != old.PersonID {
		return old, &mandates.InvalidError{Field: "person", Rule: mandates.RuleReadOnly}
	}
	if err := c.Validate(); err != nil {
		return old, err
	}
	c.UpdatedAt, c.Version = now.UTC().Truncate(time.Millisecond), old.Version+1
	return c, nil
}

// Paper is the choice of a person who never chose: paper.
func Paper(personID string) Choice { return Choice{PersonID: personID, Channel: notices.Paper} }
