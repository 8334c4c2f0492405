package prefs

import (
	"context"
	"errors"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// Lookup answers the Notifier and the Writer from the stored choices.
type Lookup struct {
	Store interface {
		NoticeChoice(ctx context.Context, personID string) (Choice, error)
	}
	Now func() time.Time // default time.Now
}

var (
	_ notices.Channels = Lookup{}
	_ notices.Contacts = Lookup{}
)

func (l Lookup) choice(ctx context.Context, personID string) (Choice, error) {
	c, err := l.Store.NoticeChoice(ctx, personID)
	if errors.Is(err, mandates.ErrNotFound) {
		return Paper(personID), nil
	}
	return c, err
}

// Channel implements notices.Channels: paper for an organisation and for
// a person who confirmed nothing, or whose paper-until is in force; else
// the channel they confirmed.
func (l Lookup) Channel(ctx context.Context, a notices.Addressee) (notices.Channel, error) {
	if a.Kind != notices.ToPerson {
		return notices.Paper, nil
	}
	c, err := l.choice(ctx, a.ID)
	if err != nil {
		return "", err
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	return c.Effective(now()), nil
}

// Contact implements notices.Contacts: the confirmed address and number,
// also while a paper-until is in force (a notice written before it was
// chosen still goes where it was meant to).
func (l Lookup) Contact(ctx context.Context, personID string) (notices.Contact, error) {
	c, err := l.choice(ctx, personID)
	if err != nil {
		return notices.Contact{}, err
	}
	return notices.Contact{Email: c.Email, Phone: c.Phone}, nil
}
