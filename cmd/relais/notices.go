package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/words"
)

// noticeSink is the service's event sink: the journal, wrapped so that
// each act writes the notices it causes in its own transaction (the
// outbox, docs/notices.md). Every notice is a letter until the
// preferences let a person choose email or SMS (notices.PaperOnly).
func noticeSink(st store, events mandates.EventSink) mandates.EventSink {
	return &notices.Notifier{Sink: events, Store: st, Reader: st}
}

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
func noticeWriter(st words.Reader, c *NoticeConfig) (notices.Writer, error) {
	if c.From == "" {
		return nil, nil
	}
	w, err := words.New(st, words.Options{Sender: c.From, Contact: c.contact(), Now: time.Now})
	if err != nil {
		return nil, err
	}
	return w, nil
}

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

// startNotices runs serve's dispatcher until stop.
func startNotices(ctx context.Context, st notices.Store, events mandates.EventSink, log *slog.Logger, ch noticeChannels) (stop func()) {
	d := newDispatcher(st, events, log, ch)
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
