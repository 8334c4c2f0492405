package notices

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// ErrStillPending: a notice still waiting to be sent or printed cannot be
// sent again; there is nothing to resend yet.
var ErrStillPending = errors.New("notices: the notice is still waiting to be sent")

// Access is the rule of who may see a person's notices and resend one;
// mandates.Service.NoticesAccess implements it (operators only).
type Access interface {
	NoticesAccess(ctx context.Context, a mandates.Actor, personID string) error
}

// Desk is what operators do with the outbox: list a person's notices and
// send one again. Every method asks Access first, so the page and the API
// cannot disagree.
type Desk struct {
	Store  Store
	Access Access
	// Channels gives a resent notice the recipient's current channel
	// (the one the Notifier uses), but paper for the events that always
	// go on paper (AlwaysPaper); default PaperOnly.
	Channels Channels
	// Events journals the resend (mandates.EventNoticeResent) in its
	// transaction. Required.
	Events mandates.EventSink
	Now    func() time.Time // default time.Now
}

// MaxListed bounds the notices an operator's list shows.
const MaxListed = 200

// NoticesOf lists the notices about personID, newest first, at most
// MaxListed, when a may see them.
func (d *Desk) NoticesOf(ctx context.Context, a mandates.Actor, personID string) ([]Notice, error) {
	if err := d.Access.NoticesAccess(ctx, a, personID); err != nil {
		return nil, err
	}
	return d.Store.NoticesOf(ctx, personID, MaxListed)
}

// Resend writes a new notice with the recipient, kind, language and data
// of the notice id about personID, on the recipient's current channel,
// pending from now, with Data["resent_of"] naming the notice it repeats;
// and journals it, in one transaction. It refuses a notice still pending
// (ErrStillPending), a notice about someone else or unknown
// (mandates.ErrNotFound), and whatever Access refuses.
func (d *Desk) Resend(ctx context.Context, a mandates.Actor, personID, id string) (Notice, error) {
	if err := d.Access.NoticesAccess(ctx, a, personID); err != nil {
		return Notice{}, err
	}
	var out Notice
	err := d.Store.InTx(ctx, func(ctx context.Context) error {
		old, err := d.Store.Notice(ctx, id)
		if err != nil {
			return err
		}
		if old.PersonID != personID {
			return mandates.ErrNotFound
		}
		if old.Status == Pending {
			return ErrStillPending
		}
		var channels Channels = PaperOnly{}
		if d.Channels != nil && !AlwaysPaper(old.Kind) {
			channels = d.Channels
		}
		c, err := channels.Channel(ctx, Addressee{ID: old.RecipientID, Kind: old.RecipientKind, Role: Role(old.Data["recipient_role"])})
		if err != nil {
			return err
		}
		if old.Channel == Paper && LetterToo(old.Kind, mandates.Kind(old.Data["representation_kind"])) {
			c = Paper // the letter that says how to contest a court measure
		}
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		at := now().UTC().Truncate(time.Millisecond)
		data := maps.Clone(old.Data)
		if data == nil {
			data = map[string]string{}
		}
		data["resent_of"] = old.ID
		out = Notice{ID: mandates.NewID(at), PersonID: old.PersonID, RecipientID: old.RecipientID, RecipientKind: old.RecipientKind,
			Kind: old.Kind, Channel: c, Lang: old.Lang, Data: data, Status: Pending, NextAttemptAt: at, CreatedAt: at}
		if err := d.Store.CreateNotice(ctx, out); err != nil {
			return err
		}
		return d.Events.Emit(ctx, mandates.Event{Type: mandates.EventNoticeResent, At: at, ActorID: a.PersonID, PersonID: old.PersonID,
			Detail: map[string]string{"notice": out.ID, "resent_of": old.ID, "channel": string(c)}})
	})
	if err != nil {
		return Notice{}, fmt.Errorf("resend notice %s: %w", id, err)
	}
	out.Version = 1
	return out, nil
}
