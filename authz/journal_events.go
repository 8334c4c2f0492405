package authz

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// The provider's acts are journaled in the transaction of the act, so an
// act and its entry commit together or neither does (DESIGN.md §5): a
// journal that fails makes the act fail. Events carry ids and codes only:
// never a token, a secret, an email or a name.
//
// A token goes to the chain of the person whose account it opens, with
// the actor, the representation, the organisation and the areas when
// someone acts for them. A client's own token (client credentials) has no
// person and is not journaled. Logins, second factors, consents and
// logouts are journaled by package authn, on the same terms.

// events is where authz sends what it journals, and the transactions its
// acts run in. Journaling is not optional: every constructor that takes a
// sink refuses a nil one (newEvents), so no act goes unjournaled because a
// line of wiring was missed. Tests that do not read the journal pass
// mandatestest.Discard.
type events struct {
	sink mandates.EventSink
	tx   mandates.Transactor
}

// ErrNoJournal is what NewProvider returns when its event sink or its
// transactor is missing.
var ErrNoJournal = errors.New("authz: an event sink and a transactor are required: every act is journaled")

// newEvents checks that sink and tx are both there.
func newEvents(sink mandates.EventSink, tx mandates.Transactor) (events, error) {
	if sink == nil || tx == nil {
		return events{}, ErrNoJournal
	}
	return events{sink: sink, tx: tx}, nil
}

func (e events) emit(ctx context.Context, ev mandates.Event) error {
	return e.sink.Emit(ctx, ev)
}

// inTx runs fn in one transaction, so that the act's writes and its entry
// commit together.
func (e events) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return e.tx.InTx(ctx, fn)
}

// tokenEvent describes an act done with a grant: the account opened is the
// session's person, the actor who logged in.
func tokenEvent(t mandates.EventType, at time.Time, clientID string, s *Session, detail map[string]string) mandates.Event {
	actor := s.ActorID
	if actor == "" {
		actor = s.PersonID
	}
	return mandates.Event{Type: t, At: at, ActorID: actor, OrganisationID: s.OrganisationID, PersonID: s.PersonID,
		RepresentationID: s.RepresentationID, ClientID: clientID, Areas: sessionAreas(s), Detail: detail}
}

// sessionAreas are the procedure areas a grant covers: those of its
// authorization details, else those of its representation claim.
func sessionAreas(s *Session) []mandates.Area {
	var out []mandates.Area
	add := func(a string) {
		if a != "" && !slices.Contains(out, mandates.Area(a)) {
			out = append(out, mandates.Area(a))
		}
	}
	for _, d := range s.AuthorizationDetails {
		for _, a := range d.ProcedureAreas {
			add(a)
		}
	}
	if len(out) > 0 || s.AccessClaims == nil {
		return out
	}
	if rep, ok := s.AccessClaims.Extra["representation"].(map[string]any); ok {
		switch areas := rep["procedure_areas"].(type) {
		case []string:
			for _, a := range areas {
				add(a)
			}
		case []any:
			for _, a := range areas {
				s, _ := a.(string)
				add(s)
			}
		}
	}
	return out
}

// grantDetail is what an entry says of a token: its grant type and scope.
func grantDetail(r fosite.Requester) map[string]string {
	d := map[string]string{"grant_type": r.GetRequestForm().Get("grant_type")}
	if sc := r.GetGrantedScopes(); len(sc) > 0 {
		d["scope"] = strings.Join(sc, " ")
	}
	if aud := r.GetGrantedAudience(); len(aud) > 0 {
		d["audience"] = strings.Join(aud, " ")
	}
	return d
}

// tokenIssued journals a token given to a site on a person's behalf, in
// the transaction fosite opened for the grant (code exchange, refresh) or
// ours (token exchange).
func (s *fositeStorage) tokenIssued(ctx context.Context, r fosite.Requester) error {
	sess, ok := r.GetSession().(*Session)
	if !ok || sess.PersonID == "" {
		return nil
	}
	t := mandates.EventTokenIssued
	if r.GetRequestForm().Get("grant_type") == GrantTypeTokenExchange {
		t = mandates.EventTokenExchanged
	}
	if err := s.ev.emit(ctx, tokenEvent(t, s.now().UTC(), r.GetClient().GetID(), sess, grantDetail(r))); err != nil {
		return err
	}
	return s.firstAct(ctx, r, sess)
}

// refreshReused journals a refresh token used again after its rotation:
// fosite then revokes the whole grant, in the same transaction.
func (s *fositeStorage) refreshReused(ctx context.Context, sig string) error {
	r, _, err := s.get(ctx, oauth.KindRefreshToken, sig, nil)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	sess, ok := r.GetSession().(*Session)
	if !ok || sess.PersonID == "" {
		return nil
	}
	return s.ev.emit(ctx, tokenEvent(mandates.EventRefreshTokenReused, s.now().UTC(), r.GetClient().GetID(), sess,
		map[string]string{"grant_id": r.GetID()}))
}

// revocation remembers, during one revocation request, the grant the token
// belongs to, so that the endpoint can journal it.
type revocation struct{ found fosite.Requester }

type revocationKey struct{}

func (s *fositeStorage) noteRevoked(ctx context.Context, r fosite.Requester) {
	if h, ok := ctx.Value(revocationKey{}).(*revocation); ok && h.found == nil {
		h.found = r
	}
}

// errRevocationRefused rolls back a revocation request that failed.
var errRevocationRefused = errors.New("authz: revocation refused")

// revokeJournaled runs a revocation request (RFC 7009) in a transaction
// with its journal entry; it returns fosite's answer.
func (p *Provider) revokeJournaled(ctx context.Context, run func(ctx context.Context) error) error {
	ev := p.storage.ev
	var answer error
	err := ev.inTx(ctx, func(ctx context.Context) error {
		h := &revocation{}
		answer = run(context.WithValue(ctx, revocationKey{}, h))
		if answer != nil {
			return errRevocationRefused
		}
		sess, ok := sessionOf(h.found)
		if !ok || sess.PersonID == "" {
			return nil
		}
		return ev.emit(ctx, tokenEvent(mandates.EventTokenRevoked, p.cfg.Now().UTC(), h.found.GetClient().GetID(), sess,
			map[string]string{"grant_id": h.found.GetID()}))
	})
	if answer != nil {
		return answer
	}
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	return nil
}

func sessionOf(r fosite.Requester) (*Session, bool) {
	if r == nil {
		return nil, false
	}
	s, ok := r.GetSession().(*Session)
	return s, ok
}
