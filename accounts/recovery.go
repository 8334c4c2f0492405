package accounts

// recovery.go: getting back into an account (issue 16, point 4). A
// forgotten password: a reset code through the person's channel (a letter
// unless they chose email or SMS), then a new password with that code; or
// a new password right after a FranceConnect login. Every step is
// rate-limited and journaled, and no answer says whether an account
// exists. A lost second factor removed by an operator is in
// second_factor_reset.go. This file imports authn, mandates and notices
// only: never ui, the stores or a channel.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

// How long a reset code works. By email or SMS the person reads it within
// minutes, and a short life bounds what a mailbox or a phone read later
// gives away: one hour (OWASP's forgot-password guidance asks for a short
// life). A letter is printed with the next print run (relais notices
// print), posted, then delivered in a few working days, and a person under
// protection may need someone to help them read it: fifteen days, half
// the life of an activation code (30 days), since a reset replaces a
// password that works.
const (
	ResetCodeTTLOnline = time.Hour
	ResetCodeTTLLetter = 15 * 24 * time.Hour
)

// FranceConnectWindow is how recent a FranceConnect login must be for the
// person to choose a new password without the old one: the login is the
// proof, so it must be fresh (a browser left open an hour later is not).
const FranceConnectWindow = 10 * time.Minute

// The refusals of a new password and of a reset.
var (
	// ErrNotFranceConnect: the session was not opened through
	// FranceConnect, so it proves nothing a password would not.
	ErrNotFranceConnect = errors.New("accounts: the session is not a FranceConnect login")
	// ErrLoginTooOld: the FranceConnect login is older than
	// FranceConnectWindow; the person logs in with FranceConnect again.
	ErrLoginTooOld = errors.New("accounts: the FranceConnect login is too old to choose a new password")
)

// RecoveryLimits bound the reset codes asked; the zero value is the
// default. Every request counts, whether or not an account answers to
// what was typed, so the limits say nothing about who has an account.
type RecoveryLimits struct {
	Window     time.Duration // default 1 hour
	PerAccount int           // requests for one email a window; default 3
	PerAddress int           // requests from one address a window; default 20 (a France Services desk shares one address)
}

// PersonSessions ends a person's browser sessions: the stores implement it.
type PersonSessions interface {
	// DeletePersonSessions ends every session of the person but keep ("":
	// none) and says how many it ended.
	DeletePersonSessions(ctx context.Context, personID, keep string) (int64, error)
}

// RecoveryStore is what Recovery reads and writes; both stores are one.
type RecoveryStore interface {
	mandates.PersonStore
	mandates.Transactor
	authn.AttemptStore
	authn.LoginNameStore // a person without an email types their login name
	PersonSessions
}

// Recovery is « Mot de passe oublié » and the new password after a
// FranceConnect login.
type Recovery struct {
	store      RecoveryStore
	codes      *authn.AccountCodes
	notices    *notices.CodeNotices
	events     mandates.EventSink
	hashes     *authn.HashPool
	limits     RecoveryLimits
	now        func() time.Time
	answerTime time.Duration
	wait       func(ctx context.Context, d time.Duration) error
}

// DefaultAnswerTime is how long « Mot de passe oublié » takes at least,
// account or not (Request): far above the few milliseconds the code's
// writes take, so the time of an answer says nothing.
const DefaultAnswerTime = 150 * time.Millisecond

// RecoveryOption tunes NewRecovery.
type RecoveryOption func(*Recovery)

// WithAnswerTime makes Request take at least d, waiting with wait (tests
// pass one that records instead of sleeping).
func WithAnswerTime(d time.Duration, wait func(ctx context.Context, d time.Duration) error) RecoveryOption {
	return func(r *Recovery) { r.answerTime, r.wait = d, wait }
}

// sleep waits d, or less when ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewRecovery makes a Recovery. events is required (a nil one panics, at
// start): every reset is journaled. In relais serve events is the
// notices' sink, so a new password is told to the person on paper
// (notices.Rules). hashes is the pool the logins share (nil: one of its
// own).
func NewRecovery(store RecoveryStore, codes *authn.AccountCodes, codeNotices *notices.CodeNotices, events mandates.EventSink,
	hashes *authn.HashPool, limits RecoveryLimits, now func() time.Time, opts ...RecoveryOption) *Recovery {
	if events == nil || store == nil || codes == nil || codeNotices == nil {
		panic(authn.ErrNoJournal)
	}
	if limits.Window <= 0 {
		limits.Window = time.Hour
	}
	if limits.PerAccount <= 0 {
		limits.PerAccount = 3
	}
	if limits.PerAddress <= 0 {
		limits.PerAddress = 20
	}
	if hashes == nil {
		hashes = authn.NewHashPool(authn.HashPoolConfig{})
	}
	if now == nil {
		now = time.Now
	}
	r := &Recovery{store: store, codes: codes, notices: codeNotices, events: events, hashes: hashes, limits: limits, now: now,
		answerTime: DefaultAnswerTime, wait: sleep}
	for _, o := range opts {
		o(r)
	}
	return r
}

// accountFor finds the account a person names on « Mot de passe oublié »:
// by its email, or by its login name for a person without one, as the
// login page does (authn.Account); accountKey is the key that name's
// request limit counts on (both forms are trimmed and lower-cased).
func (r *Recovery) accountFor(ctx context.Context, typed string) (mandates.Person, error) {
	return authn.Account(ctx, r.store, r.store, typed)
}

func accountKey(typed string) string { return "reset-account:" + mandates.EmailKey(typed) }

// Request sends a reset code to the account typed names, if there is one,
// through the person's channel, and journals it. It answers the same
// whether or not an account exists: nil, or authn.ErrTooManyAttempts when
// this address or this name asked too often (counted for unknown names
// too), or a store error.
//
// An unknown name and a known one do the same work up to the lookup: one
// reservation of the limits, one read. A known one then writes the code,
// its notice and its journal entry in one short transaction (3 ms more on
// SQLite: BenchmarkRequest); nothing is sent during the request (the
// dispatcher sends later) and no password is hashed. Those milliseconds
// could still be measured on a quiet network, so every answer waits until
// the answer time (DefaultAnswerTime) has passed since the request began.
func (r *Recovery) Request(ctx context.Context, typed, address string) error {
	start := r.now()
	err := r.request(ctx, typed, address)
	if err != nil && !errors.Is(err, authn.ErrTooManyAttempts) {
		return err
	}
	if left := r.answerTime - r.now().Sub(start); left > 0 {
		if werr := r.wait(ctx, left); werr != nil {
			return werr
		}
	}
	return err
}

func (r *Recovery) request(ctx context.Context, typed, address string) error {
	now := r.now().UTC()
	window := now.Truncate(r.limits.Window)
	ok, err := r.store.ReserveAttempt(ctx, window, authn.AttemptLimit{Key: accountKey(typed), Max: r.limits.PerAccount},
		authn.AttemptLimit{Key: "reset-address:" + address, Max: r.limits.PerAddress})
	if err != nil {
		return fmt.Errorf("count a reset request: %w", err)
	}
	if !ok {
		// Not journaled, as a login refused for too many attempts is not
		// (authn/journal_events.go): it may name no account, and a chain
		// must not fill with someone else's tries. The counters keep it.
		return authn.ErrTooManyAttempts
	}
	p, err := r.accountFor(ctx, typed)
	if errors.Is(err, mandates.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return r.store.InTx(ctx, func(ctx context.Context) error {
		ch, err := r.channel(ctx, p.ID)
		if err != nil {
			return err
		}
		ttl := ResetCodeTTLOnline
		if ch == notices.Paper {
			ttl = ResetCodeTTLLetter
		}
		code, err := r.codes.Issue(ctx, p.ID, authn.PurposeReset, ttl)
		if err != nil {
			return err
		}
		if _, err := r.notices.Write(ctx, p.ID, mandates.EventPasswordResetRequested, code, now.Add(ttl)); err != nil {
			return err
		}
		// Never the code: the journal is read by others than the person.
		// No actor: whoever typed the address is not known (the journal
		// says « quelqu'un a demandé un nouveau mot de passe »).
		return r.events.Emit(ctx, mandates.Event{Type: mandates.EventPasswordResetRequested, At: now, PersonID: p.ID,
			Detail: map[string]string{"channel": string(ch)}})
	})
}

// channel is the person's channel for a code, as CodeNotices.Write will
// choose it, so that the code lives as long as its way to the person.
func (r *Recovery) channel(ctx context.Context, personID string) (notices.Channel, error) {
	if r.notices.Channels == nil {
		return notices.Paper, nil
	}
	ch, err := r.notices.Channels.Channel(ctx, notices.Addressee{ID: personID, Kind: notices.ToPerson, Role: notices.RolePerson})
	if err != nil {
		return "", fmt.Errorf("reset code's channel: %w", err)
	}
	return ch, nil
}

// ResetWithCode sets a new password with a reset code and returns whose
// account it is. The code is used in the transaction that sets the
// password, ends the person's other sessions (all but keep, the browser
// that did it when it is the person's) and journals EventPasswordReset
// (by code), so all commit or none does. It fails with
// authn.ErrPasswordTooShort, ErrPasswordTooLong, ErrPasswordsDiffer (nothing
// counted, the code kept), authn.ErrBadCode, authn.ErrCodeExpired,
// authn.ErrTooManyAttempts (counted per address by authn.AccountCodes), an
// authn.BusyError, or a store error.
func (r *Recovery) ResetWithCode(ctx context.Context, code, password, again, address, keep string) (string, error) {
	if err := authn.CheckNewPassword(password, again); err != nil {
		return "", err
	}
	hash, err := r.hash(ctx, password)
	if err != nil {
		return "", err
	}
	var personID string
	var refused error
	err = r.store.InTx(ctx, func(ctx context.Context) error {
		personID, refused = "", nil
		id, err := r.codes.Redeem(ctx, code, authn.PurposeReset, address)
		if authn.CodeRefused(err) {
			// The attempt Redeem counted must commit, or guesses would
			// go uncounted: the refusal is returned after the commit.
			refused = err
			return nil
		}
		if err != nil {
			return err
		}
		personID = id
		return r.setPassword(ctx, id, hash, keep, "code")
	})
	if err != nil {
		return "", err
	}
	if refused != nil {
		return "", refused
	}
	return personID, nil
}

// FranceConnectReset says whether sess may choose a new password without
// the old one: nil, ErrNotFranceConnect or ErrLoginTooOld. The login
// through FranceConnect proves who the person is, as the reset code does.
func (r *Recovery) FranceConnectReset(sess authn.BrowserSession) error {
	if sess.Upstream != authn.UpstreamFranceConnect {
		return ErrNotFranceConnect
	}
	if age := r.now().Sub(sess.AuthTime); age > FranceConnectWindow || age < -time.Minute {
		return ErrLoginTooOld
	}
	return nil
}

// ResetAfterFranceConnect sets a new password for the person of sess, a
// fresh FranceConnect login (FranceConnectReset), ends their other
// sessions and journals EventPasswordReset (by franceconnect), in one
// transaction. It fails as FranceConnectReset and CheckNewPassword do, or
// with an authn.BusyError or a store error.
func (r *Recovery) ResetAfterFranceConnect(ctx context.Context, sess authn.BrowserSession, password, again string) error {
	if err := r.FranceConnectReset(sess); err != nil {
		return err
	}
	if err := authn.CheckNewPassword(password, again); err != nil {
		return err
	}
	hash, err := r.hash(ctx, password)
	if err != nil {
		return err
	}
	return r.store.InTx(ctx, func(ctx context.Context) error {
		return r.setPassword(ctx, sess.PersonID, hash, sess.ID, authn.UpstreamFranceConnect)
	})
}

// setPassword writes the new hash, forgets the failed logins, ends the
// person's sessions but keep, and journals the reset, in the caller's
// transaction.
func (r *Recovery) setPassword(ctx context.Context, personID, hash, keep, by string) error {
	p, err := r.store.UpdatePerson(ctx, personID, func(p *mandates.Person) error {
		p.PasswordHash = hash
		return nil
	})
	if err != nil {
		return fmt.Errorf("set a new password: %w", err)
	}
	// The failed logins that may have locked the person out were with the
	// old password: the new one works at once.
	if p.Email != "" {
		if err := r.store.ClearFailures(ctx, authn.LoginAccountKey(p.Email)); err != nil {
			return fmt.Errorf("clear the failed logins: %w", err)
		}
	}
	if _, err := r.store.DeletePersonSessions(ctx, personID, keep); err != nil {
		return err
	}
	return r.events.Emit(ctx, mandates.Event{Type: mandates.EventPasswordReset, At: r.now().UTC(), ActorID: personID, PersonID: personID,
		Detail: map[string]string{"by": by}})
}

// hash hashes a new password in the pool the logins share, so that
// resets cannot exhaust the memory logins need (authn.HashPool).
func (r *Recovery) hash(ctx context.Context, password string) (string, error) {
	var hash string
	if err := r.hashes.Do(ctx, func() { hash = authn.HashPassword(password) }); err != nil {
		return "", err
	}
	return hash, nil
}
