package authn

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// A login, a second factor, a consent and a logout are journaled in the
// transaction of the act, so an act and its entry commit together or
// neither does (DESIGN.md §5): a journal that fails makes the act fail.
// Events carry ids and codes only: never a secret, an email or a name.
// They go to the chain of the account's person. A failed login for an
// email no account has goes nowhere: it has no person, and writing it to
// the admin chain would let anyone fill that one chain (every writer of a
// chain waits for the others); the failure counters and the logs keep it.
// A login refused because of too many failures writes nothing either, for
// the same reason.

// events is where authn sends what it journals, and the transactions its
// acts run in. Journaling is not optional: every constructor that takes a
// sink refuses a nil one (mustEvents), so no act goes unjournaled because a
// line of wiring was missed. Tests that do not read the journal pass
// mandatestest.Discard.
type events struct {
	sink mandates.EventSink
	tx   mandates.Transactor
}

// ErrNoJournal is what the constructors panic with when their event sink
// or their transactor is missing: a wiring mistake, found at start.
var ErrNoJournal = errors.New("authn: an event sink and a transactor are required: every act is journaled")

func mustEvents(sink mandates.EventSink, tx mandates.Transactor) events {
	if sink == nil || tx == nil {
		panic(ErrNoJournal)
	}
	return events{sink: sink, tx: tx}
}

func (e events) emit(ctx context.Context, ev mandates.Event) error {
	return e.sink.Emit(ctx, ev)
}

// inTx runs fn in one transaction, so that the act's writes and its entry
// commit together.
func (e events) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return e.tx.InTx(ctx, fn)
}

// AuthenticatorOption tunes NewAuthenticator.
type AuthenticatorOption func(*Authenticator)

// personEvent is an act of a person for themselves.
func personEvent(t mandates.EventType, personID string, at time.Time, detail map[string]string) mandates.Event {
	return mandates.Event{Type: t, At: at, ActorID: personID, PersonID: personID, Detail: detail}
}

// JournaledConsents journals each consent a person gives a site, and its
// withdrawal, in the transaction of tx that saves or deletes it. sink and
// tx are required: a nil one panics, at start.
func JournaledConsents(store ConsentStore, sink mandates.EventSink, tx mandates.Transactor) ConsentStore {
	return journaledConsents{ConsentStore: store, ev: mustEvents(sink, tx)}
}

type journaledConsents struct {
	ConsentStore
	ev events
}

func (j journaledConsents) SaveConsent(ctx context.Context, c Consent) error {
	return j.ev.inTx(ctx, func(ctx context.Context) error {
		if err := j.ConsentStore.SaveConsent(ctx, c); err != nil {
			return err
		}
		e := personEvent(mandates.EventSiteConsentGiven, c.PersonID, c.GrantedAt, map[string]string{"scope": strings.Join(c.Scopes, " ")})
		e.ClientID = c.ClientID
		return j.ev.emit(ctx, e)
	})
}

func (j journaledConsents) DeleteConsent(ctx context.Context, personID, clientID string) error {
	return j.ev.inTx(ctx, func(ctx context.Context) error {
		if err := j.ConsentStore.DeleteConsent(ctx, personID, clientID); err != nil {
			return err
		}
		e := personEvent(mandates.EventSiteConsentWithdrawn, personID, time.Time{}, nil) // the journal stamps it
		e.ClientID = clientID
		return j.ev.emit(ctx, e)
	})
}

// JournaledSessions journals each logout (the end of a browser session)
// in the transaction of tx that deletes the session. sink and tx are
// required: a nil one panics, at start.
func JournaledSessions(store SessionStore, sink mandates.EventSink, tx mandates.Transactor, now func() time.Time) SessionStore {
	ev := mustEvents(sink, tx)
	if now == nil {
		now = time.Now
	}
	return journaledSessions{SessionStore: store, ev: ev, now: now}
}

type journaledSessions struct {
	SessionStore
	ev  events
	now func() time.Time
}

func (j journaledSessions) DeleteSession(ctx context.Context, id string) error {
	return j.ev.inTx(ctx, func(ctx context.Context) error {
		s, err := j.SessionStore.Session(ctx, id, j.now())
		if errors.Is(err, mandates.ErrNotFound) {
			return j.SessionStore.DeleteSession(ctx, id)
		}
		if err != nil {
			return err
		}
		if err := j.SessionStore.DeleteSession(ctx, id); err != nil {
			return err
		}
		return j.ev.emit(ctx, personEvent(mandates.EventLoggedOut, s.PersonID, j.now().UTC(), nil))
	})
}
