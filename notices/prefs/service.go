package prefs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/sms"
)

var (
	// ErrNoSender: this Relais cannot send to the channel asked (no email
	// server or SMS gateway configured): paper only.
	ErrNoSender = errors.New("prefs: no way to send to this channel here")
	// ErrNotSent matches every *SendError.
	ErrNotSent = errors.New("prefs: the code could not be sent")
)

// SendError: the channel did not take the code. Nothing was stored: the
// person may try again, or give another address.
type SendError struct {
	Channel notices.Channel
	Err     error
}

func (e *SendError) Error() string {
	return "prefs: the code was not sent by " + string(e.Channel) + ": " + e.Err.Error()
}
func (e *SendError) Unwrap() error        { return e.Err }
func (e *SendError) Is(target error) bool { return target == ErrNotSent }

// Rule is who may choose for whom: *mandates.Service implements it.
type Rule interface {
	NoticesManagedBy(ctx context.Context, a mandates.Actor, personID string) (mandates.NoticesManager, error)
}

// Service is every change of how a person receives their notices, each
// asking Rule first and journaled with what it stores.
type Service struct {
	Store Store
	Rule  Rule
	// Events journals each step in the transaction that stores it: the
	// notices.Notifier around the journal, so that a confirmed channel
	// is told on paper.
	Events mandates.EventSink
	// Senders send the codes, by channel; a channel without one is not
	// offered (paper only when there are none).
	Senders map[notices.Channel]notices.Sender
	Now     func() time.Time // default time.Now
	// Location is where the days of a paper-until are counted:
	// Europe/Paris, which is also what nil loads (never UTC).
	Location *time.Location
	// CodeTTL is how long a code works. Default 15 minutes.
	CodeTTL time.Duration
	// MaxAttempts wrong codes drop the change waiting. Default 5.
	MaxAttempts int
	// MaxSends codes an hour for one person. Default 5.
	MaxSends int
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC().Truncate(time.Millisecond)
	}
	return s.Now().UTC().Truncate(time.Millisecond)
}

func (s *Service) ttl() time.Duration {
	if s.CodeTTL <= 0 {
		return 15 * time.Minute
	}
	return s.CodeTTL
}

// TTL is how long a code works, for the page that says so.
func (s *Service) TTL() time.Duration { return s.ttl() }

func (s *Service) maxAttempts() int {
	if s.MaxAttempts <= 0 {
		return 5
	}
	return s.MaxAttempts
}

func (s *Service) maxSends() int {
	if s.MaxSends <= 0 {
		return 5
	}
	return s.MaxSends
}

// Effective is the channel a notice to the person takes at `at`
// (Choice.Effective, the days counted where the Service counts them), and
// whether a paper-until is in force then.
func (s *Service) Effective(c Choice, at time.Time) (ch notices.Channel, paperUntil bool, err error) {
	loc, err := zone(s.Location)
	if err != nil {
		return "", false, err
	}
	return c.Effective(at, loc), c.PaperUntilInForce(at, loc), nil
}

// Offers says whether a code can be sent by channel c here.
func (s *Service) Offers(c notices.Channel) bool {
	return (c == notices.Email || c == notices.SMS) && s.Senders[c] != nil
}

// Choice reads the person's choice (paper when they never chose) for an
// actor the rule lets choose, and what lets them; a channel chosen by a
// representative the rule no longer lets choose reads as paper, as the
// Lookup answers.
func (s *Service) Choice(ctx context.Context, a mandates.Actor, personID string) (Choice, mandates.NoticesManager, error) {
	m, err := s.Rule.NoticesManagedBy(ctx, a, personID)
	if err != nil {
		return Choice{}, m, err
	}
	c, err := Lookup{Store: s.Store, Rule: s.Rule}.choice(ctx, personID)
	return c, m, err
}

// Destination checks what a person typed for channel c and returns it as
// Relais keeps it: an email address (mandates.CheckEmail, field "email"),
// or a French mobile number in E.164 (sms.Normalize, field "phone", rule
// required, format or mandates.RuleNotMobile).
func Destination(c notices.Channel, typed string) (string, error) {
	switch c {
	case notices.Email:
		return mandates.CheckEmail("email", typed)
	case notices.SMS:
		n, err := sms.Normalize(typed)
		var pe *sms.PhoneError
		if errors.As(err, &pe) {
			rule := mandates.RuleFormat
			switch pe.Rule {
			case sms.RuleMissing:
				rule = mandates.RuleRequired
			case sms.RuleNotMobile, sms.RuleCountry:
				rule = mandates.RuleNotMobile
			}
			return "", &mandates.InvalidError{Field: "phone", Rule: rule}
		}
		return n, err
	}
	return "", &mandates.InvalidError{Field: "channel", Rule: mandates.RuleUnknown}
}

// event is an entry of the person's journal about their choice, by a.
func event(typ mandates.EventType, a mandates.Actor, personID string, m mandates.NoticesManager, at time.Time, detail map[string]string) mandates.Event {
	e := mandates.Event{Type: typ, At: at, ActorID: a.PersonID, PersonID: personID, Detail: detail}
	if m.Measure != nil {
		e.RepresentationID, e.OrganisationID = m.Measure.ID, m.Measure.Representative.OrganisationID
	}
	return e
}

// Request sends a code to a new address or number (to, as typed) for
// channel c. It first reserves the send, in one write checked against
// the version read: the code is counted against the hour's limit and the
// change waiting for it is stored (its code hashed), so that requests at
// the same time never send more codes than allowed; then it sends, and
// journals the request (EventNoticeChannelRequested; a code whose entry
// could not be written is dropped). Refusals, with nothing stored: the rule
// (mandates.ErrNotPermitted), what was typed (*mandates.InvalidError on
// email or phone), a channel without a sender (ErrNoSender), too many
// codes within the hour (mandates.ErrTooManyCodes), a request changed at
// the same time (mandates.ErrConflict). A send that failed (*SendError)
// drops the change waiting but still counts. The channel in use is
// unchanged in every case. A new request replaces the one waiting.
func (s *Service) Request(ctx context.Context, a mandates.Actor, personID string, c notices.Channel, typed, lang string) error {
	m, err := s.Rule.NoticesManagedBy(ctx, a, personID)
	if err != nil {
		return err
	}
	to, err := Destination(c, typed)
	if err != nil {
		return err
	}
	if !s.Offers(c) {
		return fmt.Errorf("%w: %s", ErrNoSender, c)
	}
	now := s.now()
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000)) // crypto/rand never fails (Go 1.24+)
	code := fmt.Sprintf("%06d", n.Int64())
	hash := hashCode(nil, personID, c, to, code)
	_, err = s.Store.UpdateNoticeChoice(ctx, personID, func(ch *Choice) error {
		if s.sendsLeft(*ch, now) <= 0 {
			return fmt.Errorf("%w: %d codes sent within the hour", mandates.ErrTooManyCodes, ch.Sends)
		}
		if now.Sub(ch.SendsFrom) >= time.Hour {
			ch.Sends, ch.SendsFrom = 0, now
		}
		ch.Sends++
		ch.Pending = Pending{Channel: c, To: to, CodeHash: hash, ExpiresAt: now.Add(s.ttl())}
		return nil
	})
	if err != nil {
		return fmt.Errorf("request a notice channel: %w", err)
	}
	msg := codeMessage(mandates.NewID(now), lang, now, c, to, code, s.ttl())
	if err := s.Senders[c].Send(ctx, msg); err != nil {
		return errors.Join(&SendError{Channel: c, Err: err}, s.drop(ctx, personID, hash))
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		return s.Events.Emit(ctx, event(mandates.EventNoticeChannelRequested, a, personID, m, now, map[string]string{"channel": string(c)}))
	})
	if err != nil {
		// A code that is not journaled must not work.
		return errors.Join(fmt.Errorf("request a notice channel: %w", err), s.drop(ctx, personID, hash))
	}
	return nil
}

// errNotWaiting: the change to drop no longer waits (another request
// replaced it); nothing is written.
var errNotWaiting = errors.New("prefs: the change no longer waits")

// drop forgets the change waiting for the code of hash, whose send
// failed or whose request could not be journaled; the send still counts.
func (s *Service) drop(ctx context.Context, personID string, hash []byte) error {
	_, err := s.Store.UpdateNoticeChoice(ctx, personID, func(ch *Choice) error {
		if subtle.ConstantTimeCompare(ch.Pending.CodeHash, hash) != 1 {
			return errNotWaiting
		}
		ch.Pending = Pending{}
		return nil
	})
	if err != nil && !errors.Is(err, errNotWaiting) {
		return fmt.Errorf("drop the change whose code was not sent: %w", err)
	}
	return nil
}

func (s *Service) sendsLeft(c Choice, now time.Time) int {
	if now.Sub(c.SendsFrom) >= time.Hour {
		return s.maxSends()
	}
	return s.maxSends() - c.Sends
}

// hashCode is salt (16 random bytes when nil) then SHA-256 of the salt,
// the person, the channel, the destination and the code.
func hashCode(salt []byte, personID string, c notices.Channel, to, code string) []byte {
	if salt == nil {
		salt = make([]byte, 16)
		_, _ = rand.Read(salt)
	}
	h := sha256.New()
	h.Write(salt)
	for _, part := range []string{personID, string(c), to, code} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return h.Sum(append([]byte{}, salt[:16]...))
}

// Confirm makes the change waiting count when code is the one sent: the
// channel and its address are confirmed, any paper-until ends, and the
// person is told on paper (EventNoticeChannelConfirmed, which the
// Notifier always sends on paper). A wrong code counts, and is stored
// though the call fails (mandates.ErrCodeWrong wrapping a
// mandates.CodeAttemptsLeft); the last one allowed drops the change
// (mandates.ErrTooManyCodes). No change waiting, or its code too old:
// mandates.ErrCodeExpired.
func (s *Service) Confirm(ctx context.Context, a mandates.Actor, personID, code string) (Choice, error) {
	m, err := s.Rule.NoticesManagedBy(ctx, a, personID)
	if err != nil {
		return Choice{}, err
	}
	code = digits(code)
	now := s.now()
	var verdict error
	var out Choice
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		verdict = nil
		var confirmed notices.Channel
		c, err := s.Store.UpdateNoticeChoice(ctx, personID, func(ch *Choice) error {
			p := ch.Pending
			switch {
			case !p.Waiting():
				return fmt.Errorf("%w: no change waits for a code", mandates.ErrCodeExpired)
			case !now.Before(p.ExpiresAt):
				ch.Pending = Pending{}
				verdict = fmt.Errorf("%w: the code is too old", mandates.ErrCodeExpired)
				return nil
			}
			if len(code) == 6 && subtle.ConstantTimeCompare(p.CodeHash, hashCode(p.CodeHash[:16], personID, p.Channel, p.To, code)) == 1 {
				ch.Channel, ch.Email, ch.Phone, ch.PaperUntil, ch.Pending = p.Channel, "", "", time.Time{}, Pending{}
				ch.ChosenBy, ch.ChosenUnder, ch.ChosenOrganisation, ch.ConfirmedAt = a.PersonID, "", "", now
				if m.Measure != nil {
					ch.ChosenUnder, ch.ChosenOrganisation = m.Measure.ID, m.Measure.Representative.OrganisationID
				}
				if p.Channel == notices.Email {
					ch.Email = p.To
				} else {
					ch.Phone = p.To
				}
				confirmed = p.Channel
				return nil
			}
			ch.Pending.Attempts++
			if left := s.maxAttempts() - ch.Pending.Attempts; left > 0 {
				verdict = fmt.Errorf("%w (%w)", mandates.ErrCodeWrong, mandates.CodeAttemptsLeft(left))
				return nil
			}
			ch.Pending = Pending{}
			verdict = fmt.Errorf("%w: %d wrong codes, the change is dropped", mandates.ErrTooManyCodes, s.maxAttempts())
			return nil
		})
		if err != nil {
			return err
		}
		out = c
		if confirmed == "" {
			return nil
		}
		return s.Events.Emit(ctx, event(mandates.EventNoticeChannelConfirmed, a, personID, m, now, map[string]string{"channel": string(confirmed)}))
	})
	if err == nil {
		err = verdict
	}
	if err != nil {
		return Choice{}, fmt.Errorf("confirm a notice channel: %w", err)
	}
	return out, nil
}

func digits(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// BackToPaper puts the person back on paper at once and journals it
// (EventNoticePaperChosen): for good when until is zero (the confirmed
// address or number is forgotten), or until that day included (its
// calendar date, after today in France; Detail until, YYYY-MM-DD), after
// which the confirmed channel counts again. A change waiting for its code is dropped either way.
func (s *Service) BackToPaper(ctx context.Context, a mandates.Actor, personID string, until time.Time) (Choice, error) {
	m, err := s.Rule.NoticesManagedBy(ctx, a, personID)
	if err != nil {
		return Choice{}, err
	}
	now := s.now()
	loc, err := zone(s.Location)
	if err != nil {
		return Choice{}, err
	}
	today := Day(now, loc)
	var day time.Time
	if !until.IsZero() {
		day = time.Date(until.Year(), until.Month(), until.Day(), 0, 0, 0, 0, time.UTC)
		if !day.After(today) {
			return Choice{}, &mandates.InvalidError{Field: "until", Rule: mandates.RuleAfter}
		}
	}
	var out Choice
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.Store.UpdateNoticeChoice(ctx, personID, func(ch *Choice) error {
			ch.Pending = Pending{}
			if day.IsZero() {
				ch.Channel, ch.Email, ch.Phone, ch.PaperUntil = notices.Paper, "", "", time.Time{}
				ch.ChosenBy, ch.ChosenUnder, ch.ChosenOrganisation, ch.ConfirmedAt = "", "", "", time.Time{}
			} else {
				ch.PaperUntil = day
			}
			return nil
		})
		if err != nil {
			return err
		}
		out = c
		var detail map[string]string
		if !day.IsZero() {
			detail = map[string]string{"until": day.Format(time.DateOnly)}
		}
		return s.Events.Emit(ctx, event(mandates.EventNoticePaperChosen, a, personID, m, now, detail))
	})
	if err != nil {
		return Choice{}, fmt.Errorf("back to paper: %w", err)
	}
	return out, nil
}
