package notices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Writer turns a notice into the message a channel sends: the words, in
// the recipient's language, and the destination (the recipient's
// address, email or phone). The caller supplies it, so the dispatcher
// does not know the words. A *PermanentError means the notice can never
// be written for its channel (no email address any more): it falls back
// to paper at once; any other error is tried again later.
type Writer interface {
	Write(ctx context.Context, n Notice) (Message, error)
}

// Backoff spaces the attempts of a notice that failed for a while:
// Base·2^(attempts-1), at most Max, of which a random part (Jitter, from 0
// to 1) is taken off so that dispatchers that failed together do not
// retry together.
type Backoff struct {
	Base   time.Duration // default 30 s
	Max    time.Duration // default 1 h
	Jitter float64       // default 0.5: the delay is in [d·(1-Jitter), d]
	// Rand returns a number in [0, 1). Default math/rand/v2's Float64.
	Rand func() float64
}

// Delay is the wait before the next attempt, after attempts failures
// (attempts >= 1).
func (b Backoff) Delay(attempts int) time.Duration {
	b = b.withDefaults()
	d := b.Base
	for i := 1; i < attempts && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d - time.Duration(float64(d)*b.Jitter*b.Rand())
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = 30 * time.Second
	}
	if b.Max < b.Base {
		b.Max = max(time.Hour, b.Base)
	}
	if b.Jitter <= 0 || b.Jitter > 1 {
		b.Jitter = 0.5
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

// Dispatcher sends the electronic notices of the outbox. Any number of
// dispatchers (one per instance of `relais serve`) may run on one store:
// each claims notices with an expiring lease (Store.Claim), sends them,
// and records the outcome only while it still holds the lease.
//
// Sent once: a notice is claimed by one dispatcher at a time. A
// dispatcher that stops between Send and recording (a crash, a lost
// connection) leaves the lease to expire; another dispatcher then claims
// the notice and calls Send again with the same Message.ID. Channels must
// therefore deduplicate on Message.ID: the SMS adapter sends it as the
// gateway's Idempotency-Key, the email channel derives the Message-ID
// header from it, so the second Send is the same message, not a second
// one.
type Dispatcher struct {
	Store Store
	// Senders are the channels this dispatcher sends through. A channel
	// without a sender is never claimed: with none, RunOnce does nothing.
	Senders map[Channel]Sender
	Writer  Writer
	// Events journals the paper fallback (EventNoticeFallback) in the
	// transaction that writes it. Required.
	Events mandates.EventSink
	Now    func() time.Time // default time.Now
	Log    *slog.Logger     // default: discards
	// Owner names this dispatcher in leases: unique per instance (a host
	// name and a random suffix).
	Owner string
	// Lease is how long a claim holds a notice: longer than a batch of
	// sends takes. Default 5 minutes.
	Lease time.Duration
	// Batch is how many notices one claim takes. Default 20.
	Batch int
	// MaxAttempts failed sends make a notice fall back to paper. Default 8.
	MaxAttempts int
	// MaxAge: a notice still not sent this long after it was written
	// falls back to paper at its next failure. Default 48 hours.
	MaxAge time.Duration
	// SendTimeout bounds one Send. Default 30 s.
	SendTimeout time.Duration
	Backoff     Backoff
	// Interval is how often Run claims when the outbox was empty. Default
	// 10 s.
	Interval time.Duration
	// Ticks makes Run's ticker; default time.NewTicker(Interval). Tests
	// pass their own channel.
	Ticks func() (<-chan time.Time, func())
}

// Codes of LastError the dispatcher writes, beside a channel's refusal
// ("refused_" and its code).
const (
	CodeTemporary  = "temporary"   // the channel failed for a while
	CodeTimeout    = "timeout"     // the channel did not answer within SendTimeout
	CodeWrite      = "write"       // the notice could not be put in words
	CodeNoWrite    = "unwritable"  // the Writer says it never can be
	CodeTooOld     = "too_old"     // still failing MaxAge after it was written
	CodeNoSender   = "no_sender"   // claimed for a channel this dispatcher has no sender for
	refusedPrefix  = "refused_"    // + the channel's code: an SMTP reply, an HTTP status
	codeLeaseTaken = "lease_taken" // for logs: another dispatcher holds it now
)

// ErrorCode is the code recorded for a send that failed with err: never
// the error's text (it may hold an address), a code an operator can read.
func ErrorCode(err error) string {
	var p *PermanentError
	switch {
	case errors.As(err, &p):
		code := refusedPrefix + strings.ToLower(p.Code)
		if p.Code == "" || !IsCode(code) {
			return refusedPrefix + "other"
		}
		return code
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	}
	return CodeTemporary
}

func (d *Dispatcher) defaults() {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Lease <= 0 {
		d.Lease = 5 * time.Minute
	}
	if d.Batch <= 0 {
		d.Batch = 20
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 8
	}
	if d.MaxAge <= 0 {
		d.MaxAge = 48 * time.Hour
	}
	if d.SendTimeout <= 0 {
		d.SendTimeout = 30 * time.Second
	}
	if d.Interval <= 0 {
		d.Interval = 10 * time.Second
	}
}

func (d *Dispatcher) check() error {
	switch {
	case d.Store == nil:
		return errors.New("notices: the dispatcher needs a store")
	case d.Events == nil:
		return errors.New("notices: the dispatcher needs an event sink (fallbacks are journaled)")
	case d.Writer == nil && len(d.Senders) > 0:
		return errors.New("notices: the dispatcher needs a writer")
	case d.Lease <= LeaseMargin:
		return fmt.Errorf("notices: a lease of %s leaves no time to send (the margin is %s)", d.Lease, LeaseMargin)
	case d.Owner == "" || len(d.Owner) > MaxOwner:
		return errors.New("notices: the dispatcher needs an owner name of at most 100 bytes")
	}
	return nil
}

func (d *Dispatcher) channels() []Channel {
	var out []Channel
	for c, s := range d.Senders {
		if c != Paper && s != nil {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// RunOnce claims one batch of due notices and sends each: sent counts the
// notices recorded sent, failed those that fell back to paper. err is a
// failure of the store (the claim); the outcome of one notice that could
// not be recorded is logged, and its lease expires.
func (d *Dispatcher) RunOnce(ctx context.Context) (sent, failed int, err error) {
	d.defaults()
	if err := d.check(); err != nil {
		return 0, 0, err
	}
	channels := d.channels()
	if len(channels) == 0 {
		return 0, 0, nil
	}
	claimed, err := d.Store.Claim(ctx, d.Owner, channels, d.now(), d.Lease, d.Batch)
	if err != nil {
		return 0, 0, fmt.Errorf("claim notices: %w", err)
	}
	for _, n := range claimed {
		if ctx.Err() != nil {
			break // the leases expire; another dispatcher takes them
		}
		s, f := d.one(ctx, n)
		sent += s
		failed += f
	}
	return sent, failed, ctx.Err()
}

func (d *Dispatcher) now() time.Time { return d.Now().UTC().Truncate(time.Millisecond) }

// one sends one claimed notice and records what happened.
func (d *Dispatcher) one(ctx context.Context, n Notice) (sent, failed int) {
	// A send must end, and its outcome be recorded, before the lease does:
	// after it another dispatcher may claim the notice, and a send still
	// running then would be a second send.
	window := n.LeaseUntil.Add(-LeaseMargin).Sub(d.now())
	if window <= 0 {
		// Too late in the lease: it expires, and this dispatcher or
		// another takes the notice again.
		return 0, 0
	}
	err := d.send(ctx, n, min(d.SendTimeout, window))
	now := d.now()
	if err == nil {
		_, rerr := d.Store.Record(ctx, n, func(m *Notice) error {
			m.Status, m.SentAt, m.Attempts, m.LastError = Sent, now, m.Attempts+1, ""
			return nil
		})
		if d.recorded(ctx, n, "sent", rerr) {
			return 1, 0
		}
		return 0, 0
	}
	code := d.code(err)
	attempts := n.Attempts + 1
	if !IsPermanent(err) && attempts < d.MaxAttempts && now.Sub(n.CreatedAt) < d.MaxAge {
		_, rerr := d.Store.Record(ctx, n, func(m *Notice) error {
			m.Attempts, m.LastError, m.NextAttemptAt = attempts, code, now.Add(d.Backoff.Delay(attempts))
			return nil
		})
		d.recorded(ctx, n, "retry", rerr)
		return 0, 0
	}
	if !IsPermanent(err) && attempts < d.MaxAttempts {
		code = CodeTooOld
	}
	if d.recorded(ctx, n, "fallback", d.fallback(ctx, n, attempts, code, now)) {
		return 0, 1
	}
	return 0, 0
}

// send writes the message and sends it, within SendTimeout.
// LeaseMargin is the time a dispatcher keeps between the end of a send
// and the end of the notice's lease, to record the outcome.
const LeaseMargin = 5 * time.Second

// send gives the notice's sender at most timeout.
func (d *Dispatcher) send(ctx context.Context, n Notice, timeout time.Duration) error {
	s := d.Senders[n.Channel]
	if s == nil {
		return &PermanentError{Channel: n.Channel, Code: CodeNoSender, Err: errors.New("no sender for this channel")}
	}
	m, err := d.Writer.Write(ctx, n)
	if err != nil {
		return &writeError{err}
	}
	m.ID = n.ID
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.Send(sctx, m)
}

// writeError marks a failure of the Writer, recorded as CodeWrite (or
// CodeNoWrite when permanent).
type writeError struct{ err error }

func (e *writeError) Error() string { return "write the notice: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

func (d *Dispatcher) code(err error) string {
	var w *writeError
	switch {
	case errors.As(err, &w) && IsPermanent(err):
		return CodeNoWrite
	case errors.As(err, &w):
		return CodeWrite
	}
	var p *PermanentError
	if errors.As(err, &p) && p.Code == CodeNoSender {
		return CodeNoSender
	}
	return ErrorCode(err)
}

// fallback marks n failed and writes its paper letter and the journal
// entry that says so, in one transaction. A text about a court measure
// came with its letter (LetterToo): that letter is the one the person
// gets, not a second copy.
func (d *Dispatcher) fallback(ctx context.Context, n Notice, attempts int, code string, now time.Time) error {
	return d.Store.InTx(ctx, func(ctx context.Context) error {
		failed, err := d.Store.Record(ctx, n, func(m *Notice) error {
			m.Status, m.Attempts, m.LastError = Failed, attempts, code
			return nil
		})
		if err != nil {
			return err
		}
		lettered := n.Channel == SMS && LetterToo(n.Kind, mandates.Kind(n.Data["representation_kind"]))
		if !lettered {
			if err := d.Store.CreateNotice(ctx, Fallback(failed, now)); err != nil {
				return err
			}
		}
		return d.Events.Emit(ctx, mandates.Event{Type: EventNoticeFallback, At: now, PersonID: n.PersonID,
			Detail: map[string]string{"channel": string(n.Channel), "code": code}})
	})
}

// Fallback is the paper notice that replaces the electronic notice n:
// same recipient, kind, language and data, on paper, pending from now.
func Fallback(n Notice, now time.Time) Notice {
	now = now.UTC().Truncate(time.Millisecond)
	return Notice{ID: mandates.NewID(now), PersonID: n.PersonID, RecipientID: n.RecipientID, RecipientKind: n.RecipientKind,
		Kind: n.Kind, Channel: Paper, Lang: n.Lang, Data: n.Data, Status: Pending, NextAttemptAt: now,
		FallbackOf: n.ID, CreatedAt: now}
}

// recorded logs what could not be recorded, and says whether it was.
func (d *Dispatcher) recorded(ctx context.Context, n Notice, what string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrLeaseLost):
		d.Log.WarnContext(ctx, "notice outcome not recorded: lease lost", "notice_id", n.ID, "outcome", what, "code", codeLeaseTaken)
	default:
		d.Log.ErrorContext(ctx, "notice outcome not recorded", "notice_id", n.ID, "outcome", what, "err", err)
	}
	return false
}

// Run sends what is due, then again at each tick, until ctx ends. After a
// full batch it claims again at once: the outbox is not empty.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.defaults()
	if err := d.check(); err != nil {
		return err
	}
	ticks := d.Ticks
	if ticks == nil {
		ticks = func() (<-chan time.Time, func()) {
			t := time.NewTicker(d.Interval)
			return t.C, t.Stop
		}
	}
	tick, stop := ticks()
	defer stop()
	for {
		for {
			sent, failed, err := d.RunOnce(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				d.Log.WarnContext(ctx, "notices dispatch", "err", err)
				break
			}
			if sent+failed < d.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
	}
}
