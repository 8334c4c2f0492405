package notices

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Channels says through which channel a recipient gets their notices.
// Paper is the default for everyone (Défenseur des droits): a recipient
// gets email or SMS only after choosing it and confirming the address,
// which the preferences record (notices/prefs; prefs.Lookup implements
// this interface). The Notifier does not ask it for the events that go on
// paper whatever was chosen (AlwaysPaper).
type Channels interface {
	Channel(ctx context.Context, a Addressee) (Channel, error)
}

// PaperOnly is the Channels of a deployment where nobody has chosen
// another channel: every notice is a letter.
type PaperOnly struct{}

// Channel implements Channels.
func (PaperOnly) Channel(context.Context, Addressee) (Channel, error) { return Paper, nil }

// Reader is what the Notifier reads, in the event's transaction.
type Reader interface {
	Representation(ctx context.Context, id string) (mandates.Representation, error)
	Person(ctx context.Context, id string) (mandates.Person, error)
}

// Notifier is the event sink that writes the notices an event causes in
// the transaction of the act (the outbox): it passes each event to Sink
// (the journal), then asks Rules who must be told and writes one notice
// for each with Store.CreateNotice, with the same ctx. The act, its
// journal entry and its notices commit together, or none does. An SMS
// about a court measure comes with a letter that says how to contest it
// (LetterToo).
type Notifier struct {
	Sink     mandates.EventSink
	Store    Store
	Reader   Reader
	Channels Channels         // default PaperOnly
	Now      func() time.Time // default time.Now
}

var _ mandates.EventSink = (*Notifier)(nil)

// Emit implements mandates.EventSink. An event emitted outside a
// transaction gets one, so the entry and the notices still go together.
func (n *Notifier) Emit(ctx context.Context, e mandates.Event) error {
	if !Notified(e.Type) {
		return n.Sink.Emit(ctx, e)
	}
	return n.Store.InTx(ctx, func(ctx context.Context) error {
		if err := n.Sink.Emit(ctx, e); err != nil {
			return err
		}
		f, err := n.facts(ctx, e)
		if err != nil {
			return err
		}
		for _, a := range Rules(e, f) {
			if err := n.write(ctx, e, f, a); err != nil {
				return fmt.Errorf("notice of %s to %s: %w", e.Type, a.Role, err)
			}
		}
		return nil
	})
}

func (n *Notifier) facts(ctx context.Context, e mandates.Event) (Facts, error) {
	var f Facts
	if !mandates.IsID(e.RepresentationID) {
		return f, nil
	}
	r, err := n.Reader.Representation(ctx, e.RepresentationID)
	if err != nil {
		return f, fmt.Errorf("notices of %s: %w", e.Type, err)
	}
	f.Representation = &r
	if u := r.Source.Measure; u != nil && mandates.IsID(u.MeasureID) {
		m, err := n.Reader.Representation(ctx, u.MeasureID)
		switch {
		case err == nil:
			f.Measure = &m
		case !errors.Is(err, mandates.ErrNotFound):
			return f, fmt.Errorf("notices of %s: measure: %w", e.Type, err)
		}
	}
	return f, nil
}

func (n *Notifier) write(ctx context.Context, e mandates.Event, f Facts, a Addressee) error {
	var channels Channels = PaperOnly{}
	if n.Channels != nil {
		channels = n.Channels
	}
	c := Paper
	if !AlwaysPaper(e.Type) {
		var err error
		if c, err = channels.Channel(ctx, a); err != nil {
			return err
		}
	}
	lang := "fr"
	if a.Kind == ToPerson {
		p, err := n.Reader.Person(ctx, a.ID)
		if err != nil {
			return err
		}
		if p.Language != "" {
			lang = p.Language
		}
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	at := now().UTC().Truncate(time.Millisecond)
	on := []Channel{c}
	if r := f.Representation; c == SMS && r != nil && LetterToo(e.Type, r.Kind) {
		on = append(on, Paper)
	}
	for _, c := range on {
		if err := n.Store.CreateNotice(ctx, Notice{ID: mandates.NewID(at), PersonID: e.PersonID, RecipientID: a.ID, RecipientKind: a.Kind,
			Kind: e.Type, Channel: c, Lang: lang, Data: dataOf(e, f.Representation, a.Role), Status: Pending,
			NextAttemptAt: at, CreatedAt: at}); err != nil {
			return err
		}
	}
	return nil
}
