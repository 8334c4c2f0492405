package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
	"github.com/relais-fr/relais/notices/words"
)

// noticeSink is the service's event sink: the journal, wrapped so that
// each act writes the notices it causes in its own transaction (the
// outbox, docs/notices.md). Each notice takes the channel its recipient
// chose and confirmed (notices/prefs, through look), paper by default.
func noticeSink(st store, events mandates.EventSink, look prefs.Lookup) mandates.EventSink {
	return &notices.Notifier{Sink: events, Store: st, Reader: st, Channels: look}
}

// noticeLookup is the preferences' answer to the Notifier and the words:
// the stored choices, and the rule of who may choose (policy; nil is the
// default policy) asked at each notice, so that a channel a
// representative chose ends with their right.
func noticeLookup(st store, policy *mandates.Policy) prefs.Lookup {
	return prefs.Lookup{Store: st, Rule: mandates.NewService(st, readOnly{}, mandates.ServiceConfig{Policy: policy})}
}

// readOnly is the event sink of the lookup's rule: a service of its own
// over the store, because serve's service needs the lookup before it
// exists (its sink, its codes' words). The rule only reads; an act
// through it is refused.
type readOnly struct{}

// errReadOnly: an act was attempted through the lookup's rule.
var errReadOnly = errors.New("relais: the notices' rule only reads")

func (readOnly) Emit(context.Context, mandates.Event) error { return errReadOnly }

// noticeChannels are what serve's dispatcher sends with: the senders of
// the channels the configuration gives (email, SMS; the demo's printers),
// and the words. Without senders the dispatcher claims nothing, and the
// letters wait in the outbox for the print command.
type noticeChannels struct {
	Senders map[notices.Channel]notices.Sender
	Writer  notices.Writer
}

// noticeWriter is the words of the notices, signed with the configured
// name and contact; nil when notices are not configured (no sender then
// needs it).
func noticeWriter(st store, c *NoticeConfig, look prefs.Lookup, site string, codes notices.Sealer) (notices.Writer, error) {
	if c.From == "" {
		return nil, nil
	}
	w, err := words.New(st, words.Options{Sender: c.From, Contact: c.contact(), Contacts: look, Now: time.Now, Site: site, Codes: codes})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// noticeCodesKey derives the key of the secret box that seals the codes
// notices carry (notices.CodeNotices): a key of its own, apart from the
// signing keys'.
const noticeCodesKey = "notice codes"

// newDispatcher is the dispatcher of serve. Its owner names the instance
// in leases: the host and a random suffix.
func newDispatcher(st notices.Store, events mandates.EventSink, log *slog.Logger, ch noticeChannels) *notices.Dispatcher {
	host, _ := os.Hostname()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix) // crypto/rand.Read never fails (Go 1.24+).
	owner := host + "-" + hex.EncodeToString(suffix)
	if len(owner) > notices.MaxOwner {
		owner = owner[len(owner)-notices.MaxOwner:]
	}
	return &notices.Dispatcher{Store: st, Events: events, Owner: owner, Log: log, Now: time.Now, Senders: ch.Senders, Writer: ch.Writer}
}

// startNotices runs serve's dispatcher until stop, at the pace c sets.
func startNotices(ctx context.Context, st notices.Store, events mandates.EventSink, log *slog.Logger, ch noticeChannels, c *NoticeConfig) (stop func()) {
	d := newDispatcher(st, events, log, ch)
	d.Lease, d.Interval = c.Lease, c.Interval
	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := d.Run(dctx); err != nil {
			log.ErrorContext(ctx, "notices dispatcher", "err", err)
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}
