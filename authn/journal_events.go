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

// events is where authn sends what it journals; its zero value sends
// nothing.
type events struct {
	sink mandates.EventSink
	tx   mandates.Transactor
}

func (e events) on() bool { return e.sink != nil }

func (e events) emit(ctx context.Context, ev mandates.Event) error {
	if e.sink == nil {
		return nil
	}
	return e.sink.Emit(ctx, ev)
}

// inTx runs fn in one transaction when acts are journaled, so that the
// act's writes and its entry commit together.
func (e events) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if e.sink == nil || e.tx == nil {
		return fn(ctx)
	}
	return e.tx.InTx(ctx, fn)
}

// AuthenticatorOption tunes NewAuthenticator.
type AuthenticatorOption func(*Authenticator)

// WithEvents journals logins and second-factor acts in sink, each in a
// transaction of tx with the writes of its act.
func WithEvents(sink mandates.EventSink, tx mandates.Transactor) AuthenticatorOption {
	return func(a *Authenticator) { a.ev = events{sink: sink, tx: tx} }
}

// personEvent is an act of a person for themselves.
func personEvent(t mandates.EventType, personID string, at time.Time, detail map[string]string) mandates.Event {
	return mandates.Event{Type: t, At: at, ActorID: personID, PersonID: personID, Detail: detail}
}

// JournaledConsents journals each consent a person gives a site, and its
// withdrawal, in the transaction that saves or deletes it.
func JournaledConsents(store ConsentStore, sink mandates.EventSink, tx mandates.Transactor) ConsentStore {
	if sink == nil {
		return store
	}
	return journaledConsents{ConsentStore: store, ev: events{sink: sink, tx: tx}}
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
// in the transaction that deletes the session.
func JournaledSessions(store SessionStore, sink mandates.EventSink, tx mandates.Transactor, now func() time.Time) SessionStore {
	if sink == nil {
		return store
	}
	if now == nil {
		now = time.Now
	}
	return journaledSessions{SessionStore: store, ev: events{sink: sink, tx: tx}, now: now}
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
