package notices

import (
	"context"
	"errors"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Channel is how a notice reaches a person.
type Channel string

const (
	Paper Channel = "paper" // the default for everyone (Défenseur des droits)
	Email Channel = "email" // only after the person chose it and confirmed the address
	SMS   Channel = "sms"   // only after the person chose it and confirmed the number
)

// Valid says whether c is a channel Relais knows.
func (c Channel) Valid() bool { return c == Paper || c == Email || c == SMS }

// Recipient is where a notice goes: the person's name as pages give it
// (mandates.DisplayName) and the destination for the notice's channel.
type Recipient struct {
	Name    string
	Address mandates.Address // for paper
	Email   string           // for email
	Phone   string           // for SMS, as the person gave it
}

// Message is one notice in words, ready for a channel: written in the
// recipient's language, in plain words (shared/PLAIN-LANGUAGE.md).
type Message struct {
	// ID identifies the notice; channels derive what makes a retry safe
	// from it (the SMS gateway's idempotency key, the email's Message-ID).
	ID string
	// Reference is printed on the letter and quoted in emails, for a
	// person who calls about it.
	Reference string
	Lang      string // "fr" or "en"
	Date      time.Time
	To        Recipient
	// Subject says in one sentence what happened: a letter's first line,
	// an email's subject.
	Subject string
	// Lines are the body, one idea per line: what it means for the
	// person, what they can do, by when, who to contact.
	Lines []string
	// Short is the SMS text: who asks what, with no more personal detail
	// than needed.
	Short string
}

// Sender sends a message through one channel. Send returns nil once the
// channel took the message; a *PermanentError when trying again cannot
// help (an address the server refuses); any other error is temporary and
// the dispatcher tries again later with the same Message.ID.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError is a refusal that a retry would meet again.
type PermanentError struct {
	Channel Channel
	Code    string // the channel's own code: an SMTP reply code, an HTTP status
	Err     error
}

func (e *PermanentError) Error() string {
	return "notices: " + string(e.Channel) + " refused the message (" + e.Code + "): " + e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent says whether err is a refusal that a retry would meet again.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
