package sms

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/relais-fr/relais/notices"
)

// Text is one SMS for a gateway: the number in E.164, the words, and the
// key that makes sending it twice harmless.
type Text struct {
	To   string // "+33612345678"
	Body string
	// Key is the same for every try of one notice: a gateway that honours
	// it sends the text once however often it is asked.
	Key string
}

// Gateway sends texts. Send returns nil once the gateway took the text, a
// *notices.PermanentError when asking again cannot help, and any other
// error when it can.
type Gateway interface {
	Send(ctx context.Context, t Text) error
}

// DefaultSegments is the most parts a text may take unless the deployment
// says otherwise (Segments): three, that is 459 characters of the GSM
// 7-bit alphabet or 201 in UCS-2.
const DefaultSegments = 3

// ErrTooLong matches a *TooLongError.
var ErrTooLong = errors.New("sms: the text is longer than the limit")

// TooLongError is a Short of more parts than the deployment's limit: the
// notice's wording must change, so it is permanent.
type TooLongError struct {
	Limit, Length int // in parts (Segments)
}

func (e *TooLongError) Error() string {
	return "sms: the text takes " + strconv.Itoa(e.Length) + " parts, more than " + strconv.Itoa(e.Limit)
}
func (e *TooLongError) Is(target error) bool { return target == ErrTooLong }

// Sender is the SMS channel's notices.Sender.
type Sender struct {
	gw    Gateway
	limit int
}

var _ notices.Sender = (*Sender)(nil)

// New sends through gw texts of at most limit parts (Segments;
// DefaultSegments when 0; 1 for a gateway that does not join texts).
func New(gw Gateway, limit int) (*Sender, error) {
	if gw == nil {
		return nil, errors.New("sms: no gateway")
	}
	if limit == 0 {
		limit = DefaultSegments
	}
	if limit < 0 {
		return nil, fmt.Errorf("sms: a negative limit %d", limit)
	}
	return &Sender{gw: gw, limit: limit}, nil
}

// Send texts m.Short to m.To.Phone. A number that cannot receive a text
// is a *notices.PermanentError with code "phone" wrapping the
// *PhoneError; an empty or too long text one with code "text". The
// Idempotency-Key is derived from m.ID, the same for every try.
func (s *Sender) Send(ctx context.Context, m notices.Message) error {
	to, err := Normalize(m.To.Phone)
	if err != nil {
		return &notices.PermanentError{Channel: notices.SMS, Code: "phone", Err: err}
	}
	if m.Short == "" {
		return &notices.PermanentError{Channel: notices.SMS, Code: "text", Err: errors.New("sms: the notice has no short text")}
	}
	if n := Segments(m.Short); n > s.limit {
		return &notices.PermanentError{Channel: notices.SMS, Code: "text", Err: &TooLongError{Limit: s.limit, Length: n}}
	}
	if m.ID == "" {
		return &notices.PermanentError{Channel: notices.SMS, Code: "id", Err: errors.New("sms: the notice has no id to make its key")}
	}
	return s.gw.Send(ctx, Text{To: to, Body: m.Short, Key: "relais-notice-" + m.ID})
}
