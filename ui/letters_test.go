package ui_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
	"github.com/relais-fr/relais/storage/sqlite"
)

// sentBox stands for the email server and the SMS gateway of « Comment je
// reçois mes courriers »: it keeps each message, or refuses while fail is
// set.
type sentBox struct {
	svc *prefs.Service // the service the pages use
	// later turns the service's clock forward, safely while it serves.
	later atomic.Int64
	mu    sync.Mutex
	msgs  []notices.Message
	fail  bool
}

var errDown = errors.New("the gateway is down")

type sentBy struct {
	box *sentBox
	ch  notices.Channel
}

func (s sentBy) Send(_ context.Context, m notices.Message) error {
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	if s.box.fail {
		// As an SMTP server's answer, the error names the recipient.
		return fmt.Errorf("%w: 550 <%s%s> refused", errDown, m.To.Email, m.To.Phone)
	}
	s.box.msgs = append(s.box.msgs, m)
	return nil
}

// code is the code of the last message sent, and where it went.
func (b *sentBox) code(t *testing.T) (to, code string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.msgs) == 0 {
		t.Fatal("no code sent")
	}
	m := b.msgs[len(b.msgs)-1]
	code = regexp.MustCompile(`\d{6}`).FindString(m.Subject)
	return m.To.Email + m.To.Phone, code
}

func (b *sentBox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

func (b *sentBox) setFail(v bool) {
	b.mu.Lock()
	b.fail = v
	b.mu.Unlock()
}

// letters is the service of « Comment je reçois mes courriers » as relais
// serve builds it: its events go through the notices' Notifier around the
// journal, so a confirmed channel writes its letter with the entry.
func (a *oidcApp) letters(st *sqlite.Store) *prefs.Service {
	a.sent = &sentBox{}
	a.sent.svc = &prefs.Service{Store: st, Rule: a.service,
		Events:  &notices.Notifier{Sink: a.journal, Store: st, Reader: st, Channels: prefs.Lookup{Store: st}},
		Senders: map[notices.Channel]notices.Sender{notices.Email: sentBy{a.sent, notices.Email}, notices.SMS: sentBy{a.sent, notices.SMS}},
		Now:     func() time.Time { return time.Now().Add(time.Duration(a.sent.later.Load())) }}
	return a.sent.svc
}

// logBox keeps what the server logs.
type logBox struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBox) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBox) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
