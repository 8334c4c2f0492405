package authz

import (
	"context"
	"errors"

	"github.com/ory/fosite"

	"github.com/relais-fr/relais/mandates"
)

// ErrNoFirstActs is what NewProvider returns without a store of first
// acts (Stores.FirstActs, or a token store that is one): the person would
// never be told who began acting for them at a site.
var ErrNoFirstActs = errors.New("authz: a store of first acts is required")

// firstAct records, in the transaction of a token a site gets for a
// person with someone else acting, the first time that actor acts for
// that person at that site (mandates.EventSiteFirstAct): the store keeps
// one row per person, actor and site, so a later token, a refresh, or a
// transaction that lost the race to write the same row, records nothing
// more. The notices the event causes are written with it (package
// notices), so the person learns who began acting for them, and where.
func (s *fositeStorage) firstAct(ctx context.Context, r fosite.Requester, sess *Session) error {
	if sess.ActorID == "" || sess.ActorID == sess.PersonID {
		return nil
	}
	at := s.now().UTC()
	clientID := r.GetClient().GetID()
	first, err := s.firstActs.RecordFirstAct(ctx, mandates.FirstAct{PersonID: sess.PersonID, ActorID: sess.ActorID,
		ClientID: clientID, RepresentationID: sess.RepresentationID, At: at})
	if err != nil || !first {
		return err
	}
	detail := map[string]string{"client_id": clientID}
	if c, ok := r.GetClient().(*fositeClient); ok && c.c.Name != "" {
		detail["site_name"] = c.c.Name
	}
	return s.ev.emit(ctx, tokenEvent(mandates.EventSiteFirstAct, at, clientID, sess, detail))
}
