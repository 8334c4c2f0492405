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
	"github.com/relais-fr/relais/notices/prefs"
)

// noticeSink is the service's event sink: the journal, wrapped so that
// each act writes the notices it causes in its own transaction (the
// outbox, docs/notices.md). Each notice takes the channel its recipient
// chose and confirmed (notices/prefs), paper by default.
func noticeSink(st store, events mandates.EventSink) mandates.EventSink {
	return &notices.Notifier{Sink: events, Store: st, Reader: st, Channels: prefs.Lookup{Store: st}}
}

// startNotices runs the dispatcher of electronic notices until stop. No
// email or SMS sender is wired yet (the channels come next), so it
// claims nothing: the letters wait in the outbox for the print command. Its owner names the
// instance in leases: the host and a random suffix.
func startNotices(ctx context.Context, st notices.Store, events mandates.EventSink, log *slog.Logger) (stop func()) {
	host, _ := os.Hostname()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix) // crypto/rand.Read never fails (Go 1.24+).
	owner := host + "-" + hex.EncodeToString(suffix)
	if len(owner) > notices.MaxOwner {
		owner = owner[len(owner)-notices.MaxOwner:]
	}
	d := &notices.Dispatcher{Store: st, Events: events, Owner: owner, Log: log, Now: time.Now}
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
