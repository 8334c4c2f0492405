package prefs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// Lookup answers the Notifier and the Writer from the stored choices.
type Lookup struct {
	Store interface {
		NoticeChoice(ctx context.Context, personID string) (Choice, error)
	}
	// Rule is asked, at each notice, whether the representative who
	// chose the channel (Choice.ChosenBy) may still choose for the
	// person: when the measure ended, or they no longer hold it, the
	// person's notices go on paper and their contact is none. Without a
	// Rule, no representative's choice counts.
	Rule Rule
	// Location is where the days of a paper-until are counted:
	// Europe/Paris, which is also what nil loads (never UTC).
	Location *time.Location
	Now      func() time.Time // default time.Now
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
	if err != nil {
		return c, err
	}
	ok, err := l.chooserMay(ctx, c)
	if err != nil {
		return c, err
	}
	if !ok {
		return c.lapsed(), nil
	}
	return c, nil
}

// lapsed is c once its chooser may no longer choose: paper, no address or
// number; the change waiting, the codes counted and the version stay.
func (c Choice) lapsed() Choice {
	c.Channel, c.Email, c.Phone, c.PaperUntil, c.ConfirmedAt = notices.Paper, "", "", time.Time{}, time.Time{}
	c.ChosenBy, c.ChosenUnder, c.ChosenOrganisation = "", "", ""
	return c
}

// chooserMay says whether whoever chose c may still choose: the person
// always; a representative while the rule lets them, through the same
// organisation when they chose through one. The rule is asked as if
// they logged in with their second factor: the question is whether the
// right lasts, not how strong a session is.
func (l Lookup) chooserMay(ctx context.Context, c Choice) (bool, error) {
	if c.ChosenBy == "" || c.ChosenBy == c.PersonID {
		return true, nil
	}
	if l.Rule == nil {
		return false, nil
	}
	m, err := l.Rule.NoticesManagedBy(ctx, mandates.Actor{PersonID: c.ChosenBy, SecondFactor: true}, c.PersonID)
	switch {
	case errors.Is(err, mandates.ErrNotPermitted):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("who may choose for %s: %w", c.PersonID, err)
	case m.Measure == nil:
		return false, nil
	}
	return c.ChosenOrganisation == "" || m.Measure.Representative.OrganisationID == c.ChosenOrganisation, nil
}

// Channel implements notices.Channels: paper for an organisation and for
// a person who confirmed nothing, or whose paper-until is in force, or
// whose channel was chosen by a representative the rule no longer lets
// choose; else the channel confirmed.
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
	loc, err := zone(l.Location)
	if err != nil {
		return "", err
	}
	return c.Effective(now(), loc), nil
}

// Contact implements notices.Contacts: the confirmed address and number,
// also while a paper-until is in force (a notice written before it was
// chosen still goes where it was meant to); none when a representative
// chose them and the rule no longer lets them choose. Since is when they
// were confirmed: a notice written before went to another address.
func (l Lookup) Contact(ctx context.Context, personID string) (notices.Contact, error) {
	c, err := l.choice(ctx, personID)
	if err != nil {
		return notices.Contact{}, err
	}
	return notices.Contact{Email: c.Email, Phone: c.Phone, Since: c.ConfirmedAt}, nil
}
