package notices

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Sealer keeps a notice's code unreadable at rest: keyring.SecretBox
// implements it. Open fails when the sealed bytes were changed or sealed
// for another id.
type Sealer interface {
	Seal(id string, plaintext []byte) []byte
	Open(id string, sealed []byte) ([]byte, error)
}

// The Data keys of a notice that carries a code (CodeNotices).
const (
	// DataSealedCode is the code sealed for CodeSealID, in base64.
	DataSealedCode = "sealed_code"
	// DataCodeExpires is when the code stops working, RFC 3339 in UTC.
	DataCodeExpires = "code_expires"
)

// CodeSealID is the id a code notice's code is sealed for: the person and
// the kind, not the notice, so that the letter written when an email or
// SMS fails (its Data copied) still opens.
func CodeSealID(personID string, kind mandates.EventType) string {
	return "notice-code:" + string(kind) + ":" + personID
}

// Outbox is the part of Store that writes notices.
type Outbox interface {
	CreateNotice(ctx context.Context, n Notice) error
}

// ErrNoCode: a notice is of a kind that carries a code, and has none that
// opens.
var ErrNoCode = errors.New("notices: the notice's code cannot be read")

// CodeNotices writes the notices that carry a single-use code to a person
// (an account's activation code, a password's reset code), in the caller's
// transaction. The code is in the notice's Data sealed by Sealer, so the
// outbox never holds it readable, and the words are written when it is
// sent, as for every notice. Such a notice goes through the person's
// channel (paper unless they chose email or SMS), and to the person only:
// a code is theirs. The event that journals it never carries the code.
type CodeNotices struct {
	Store    Outbox
	Reader   Reader
	Channels Channels // default PaperOnly
	Sealer   Sealer
	Now      func() time.Time // default time.Now
}

// Write writes a notice of kind to the person with code, valid until
// expires, and returns it.
func (c *CodeNotices) Write(ctx context.Context, personID string, kind mandates.EventType, code string, expires time.Time) (Notice, error) {
	channels := c.Channels
	if channels == nil {
		channels = PaperOnly{}
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	p, err := c.Reader.Person(ctx, personID)
	if err != nil {
		return Notice{}, fmt.Errorf("code notice of %s: %w", kind, err)
	}
	ch, err := channels.Channel(ctx, Addressee{ID: personID, Kind: ToPerson, Role: RolePerson})
	if err != nil {
		return Notice{}, fmt.Errorf("code notice of %s: channel: %w", kind, err)
	}
	lang := "fr"
	if p.Language == "en" {
		lang = "en"
	}
	at := now().UTC().Truncate(time.Millisecond)
	sealed := c.Sealer.Seal(CodeSealID(personID, kind), []byte(code))
	n := Notice{ID: mandates.NewID(at), PersonID: personID, RecipientID: personID, RecipientKind: ToPerson, Kind: kind,
		Channel: ch, Lang: lang, Status: Pending, NextAttemptAt: at, CreatedAt: at,
		Data: map[string]string{"recipient_role": string(RolePerson), "event_at": at.Format(time.RFC3339Nano),
			DataSealedCode: base64.RawStdEncoding.EncodeToString(sealed), DataCodeExpires: expires.UTC().Format(time.RFC3339)}}
	if err := c.Store.CreateNotice(ctx, n); err != nil {
		return Notice{}, fmt.Errorf("code notice of %s: %w", kind, err)
	}
	return n, nil
}

// OpenCode reads the code a notice carries, and until when it works. It
// fails with ErrNoCode when the notice has none, or one that does not open.
func OpenCode(s Sealer, n Notice) (string, time.Time, error) {
	raw, ok := n.Data[DataSealedCode]
	if !ok || s == nil {
		return "", time.Time{}, ErrNoCode
	}
	sealed, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: %w", ErrNoCode, err)
	}
	code, err := s.Open(CodeSealID(n.PersonID, n.Kind), sealed)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: %w", ErrNoCode, err)
	}
	expires, err := time.Parse(time.RFC3339, n.Data[DataCodeExpires])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: expiry: %w", ErrNoCode, err)
	}
	return string(code), expires, nil
}
