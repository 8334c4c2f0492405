package notices_test

import (
	"context"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
)

var errDeadline = context.DeadlineExceeded

// clock is a test clock the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fakeSender answers each Send with the next of its answers (nil: taken),
// and remembers the messages.
type fakeSender struct {
	answers []error
	sent    []notices.Message
	// during runs inside Send, before it answers (a crash, a clock move).
	during func(m notices.Message)
}

func (f *fakeSender) Send(_ context.Context, m notices.Message) error {
	f.sent = append(f.sent, m)
	if f.during != nil {
		f.during(m)
	}
	if len(f.answers) == 0 {
		return nil
	}
	err := f.answers[0]
	f.answers = f.answers[1:]
	return err
}

// words is the Writer of the tests: the words are not the dispatcher's.
type words struct{ err error }

func (w words) Write(_ context.Context, n notices.Notice) (notices.Message, error) {
	if w.err != nil {
		return notices.Message{}, w.err
	}
	return notices.Message{ID: "overwritten", Reference: n.ID[:8], Lang: n.Lang, Subject: string(n.Kind)}, nil
}

func newDispatcher(st *memStore, c *clock, senders map[notices.Channel]notices.Sender) *notices.Dispatcher {
	return &notices.Dispatcher{Store: st, Senders: senders, Writer: words{}, Events: st, Now: c.now, Owner: "relais-1",
		Lease: time.Minute, MaxAttempts: 3, MaxAge: 24 * time.Hour,
		Backoff: notices.Backoff{Base: time.Minute, Max: time.Hour, Rand: func() float64 { return 0 }}}
}

func mustCreate(t *testing.T, st *memStore, n notices.Notice) notices.Notice {
	t.Helper()
	if err := st.CreateNotice(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	return st.byID[n.ID]
}

func TestDispatcherSends(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	email := &fakeSender{}
	d := newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.Email: email})
	n := mustCreate(t, st, pending(notices.Email))
	letter := mustCreate(t, st, pending(notices.Paper))
	sms := mustCreate(t, st, pending(notices.SMS))

	sent, failed, err := d.RunOnce(t.Context())
	if err != nil || sent != 1 || failed != 0 {
		t.Fatalf("RunOnce = %d, %d, %v; want 1 sent", sent, failed, err)
	}
	if len(email.sent) != 1 || email.sent[0].ID != n.ID || email.sent[0].Reference != n.ID[:8] {
		t.Fatalf("sent %+v; want the email, with the notice's id as Message.ID", email.sent)
	}
	got := st.byID[n.ID]
	if got.Status != notices.Sent || !got.SentAt.Equal(t0) || got.Attempts != 1 || got.LeaseOwner != "" {
		t.Errorf("stored %+v", got)
	}
	if st.byID[letter.ID].Status != notices.Pending || st.byID[sms.ID].LeaseOwner != "" {
		t.Error("the letter or the SMS (no sender) was touched")
	}
	if sent, _, _ := d.RunOnce(t.Context()); sent != 0 || len(email.sent) != 1 {
		t.Errorf("a second run sent again")
	}
}

func TestDispatcherWithoutSendersClaimsNothing(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	d := newDispatcher(st, c, nil)
	d.Writer = nil // not needed without senders
	n := mustCreate(t, st, pending(notices.Email))
	if sent, failed, err := d.RunOnce(t.Context()); sent+failed != 0 || err != nil {
		t.Fatalf("RunOnce = %d, %d, %v", sent, failed, err)
	}
	if st.byID[n.ID].LeaseOwner != "" || st.byID[n.ID].Version != 1 {
		t.Error("an email was claimed by a dispatcher that cannot send it")
	}
}

func TestDispatcherRetriesWithBackoff(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	email := &fakeSender{answers: []error{errBoom, errDeadline}}
	d := newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.Email: email})
	n := mustCreate(t, st, pending(notices.Email))

	if sent, failed, _ := d.RunOnce(t.Context()); sent+failed != 0 {
		t.Fatalf("a temporary failure counted as %d sent, %d failed", sent, failed)
	}
	got := st.byID[n.ID]
	if got.Status != notices.Pending || got.Attempts != 1 || got.LastError != notices.CodeTemporary ||
		!got.NextAttemptAt.Equal(t0.Add(time.Minute)) || got.LeaseOwner != "" {
		t.Fatalf("after a temporary failure: %+v", got)
	}
	if _, _, _ = d.RunOnce(t.Context()); len(email.sent) != 1 {
		t.Fatal("retried before its next attempt")
	}
	c.t = t0.Add(time.Minute)
	d.RunOnce(t.Context())
	got = st.byID[n.ID]
	if got.Attempts != 2 || got.LastError != notices.CodeTimeout || !got.NextAttemptAt.Equal(c.t.Add(2*time.Minute)) {
		t.Fatalf("after a second failure (time-out): %+v; want the wait doubled", got)
	}
	c.t = c.t.Add(2 * time.Minute)
	if sent, _, _ := d.RunOnce(t.Context()); sent != 1 || st.byID[n.ID].Attempts != 3 || st.byID[n.ID].LastError != "" {
		t.Fatalf("the third attempt: %+v", st.byID[n.ID])
	}
	for _, m := range email.sent {
		if m.ID != n.ID {
			t.Errorf("an attempt used Message.ID %q, want the notice's %s", m.ID, n.ID)
		}
	}
}

// TestDispatcherWritesNoSecondLetterForACourtMeasuresText: a text about
// a court measure came with its letter (LetterToo); when the text fails
// for good, the person is told in the journal and the letter already
// written is the one they get, not a second copy.
func TestDispatcherWritesNoSecondLetterForACourtMeasuresText(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	text := &fakeSender{answers: []error{&notices.PermanentError{Channel: notices.SMS, Code: "400", Err: errBoom}}}
	d := newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.SMS: text})
	n := pending(notices.SMS)
	n.Kind, n.Data = mandates.EventSuspended, map[string]string{"representation_kind": string(mandates.Tutelle)}
	n = mustCreate(t, st, n)
	letter := n
	letter.ID, letter.Channel = mandates.NewID(t0), notices.Paper
	mustCreate(t, st, letter)
	if _, failed, err := d.RunOnce(t.Context()); failed != 1 || err != nil {
		t.Fatalf("RunOnce = %d failed, %v; want the text failed", failed, err)
	}
	if got := st.byID[n.ID]; got.Status != notices.Failed {
		t.Errorf("the text: %+v, want failed", got)
	}
	if all := st.all(); len(all) != 2 {
		t.Errorf("%d notices, want the text and its one letter", len(all))
	}
	if len(st.events) != 1 || st.events[0].Type != mandates.EventNoticeFallback {
		t.Errorf("journal: %+v, want the fallback said", st.events)
	}
}

func TestDispatcherFallsBackToPaper(t *testing.T) {
	refused := &notices.PermanentError{Channel: notices.Email, Code: "550", Err: errBoom}
	tests := []struct {
		name     string
		answers  []error
		writer   error
		age      time.Duration
		runs     int
		wantCode string
	}{
		{"a refusal falls back at once", []error{refused}, nil, 0, 1, "refused_550"},
		{"three temporary failures fall back", []error{errBoom, errBoom, errBoom}, nil, 0, 3, notices.CodeTemporary},
		{"a failure of a notice older than the bound falls back", []error{errBoom}, nil, 25 * time.Hour, 1, notices.CodeTooOld},
		{"a notice that can never be written falls back", nil, &notices.PermanentError{Channel: notices.Email, Code: "no_address", Err: errBoom}, 0, 1, notices.CodeNoWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, c := newMemStore(), &clock{t0}
			email := &fakeSender{answers: tt.answers}
			d := newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.Email: email})
			if tt.writer != nil {
				d.Writer = words{tt.writer}
			}
			n := pending(notices.Email)
			n.Kind, n.Data = mandates.EventCosignRequested, map[string]string{"cosignature_id": mandates.NewID(t0)}
			n = mustCreate(t, st, n)
			c.t = t0.Add(tt.age)
			var failed int
			for range tt.runs {
				_, f, err := d.RunOnce(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				failed += f
				c.t = c.t.Add(time.Hour)
			}
			if failed != 1 {
				t.Fatalf("failed = %d, want 1", failed)
			}
			got := st.byID[n.ID]
			if got.Status != notices.Failed || got.LastError != tt.wantCode || got.LeaseOwner != "" {
				t.Fatalf("the email after its fallback: %+v", got)
			}
			all := st.all()
			if len(all) != 2 {
				t.Fatalf("%d notices, want the email and its letter", len(all))
			}
			letter := all[1]
			if letter.Channel != notices.Paper || letter.Status != notices.Pending || letter.FallbackOf != n.ID ||
				letter.Kind != n.Kind || letter.Data["cosignature_id"] != n.Data["cosignature_id"] || letter.RecipientID != n.RecipientID {
				t.Errorf("the letter: %+v", letter)
			}
			if len(st.events) != 1 {
				t.Fatalf("journal: %+v, want one entry", st.events)
			}
			e := st.events[0]
			if e.Type != mandates.EventNoticeFallback || e.PersonID != n.PersonID || len(e.Detail) != 2 ||
				e.Detail["channel"] != "email" || e.Detail["code"] != tt.wantCode {
				t.Errorf("journal entry: %+v", e)
			}
		})
	}
}

func TestDispatcherFallbackIsOneTransaction(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	refused := &notices.PermanentError{Channel: notices.SMS, Code: "400", Err: errBoom}
	d := newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.SMS: &fakeSender{answers: []error{refused, refused}}})
	n := mustCreate(t, st, pending(notices.SMS))
	st.failCreate = errBoom // the letter cannot be written
	if _, failed, err := d.RunOnce(t.Context()); failed != 0 || err != nil {
		t.Fatalf("RunOnce = %d failed, %v", failed, err)
	}
	got := st.byID[n.ID]
	if got.Status != notices.Pending || got.LeaseOwner != "relais-1" || len(st.events) != 0 || len(st.order) != 1 {
		t.Fatalf("a fallback half written: %+v, %d events", got, len(st.events))
	}
	// The lease expires; the next run falls back whole.
	st.failCreate = nil
	c.t = t0.Add(time.Minute)
	if _, failed, _ := d.RunOnce(t.Context()); failed != 1 || len(st.events) != 1 || len(st.order) != 2 {
		t.Fatalf("after the lease: %d failed, %d events, %d notices", failed, len(st.events), len(st.order))
	}
}

func TestDispatcherCrashBetweenSendAndRecord(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	var first *notices.Dispatcher
	crashed := &fakeSender{}
	// The first dispatcher's send takes longer than its lease: meanwhile a
	// second dispatcher claims the notice and sends it again with the same
	// Message.ID. The first then cannot record.
	second := &fakeSender{}
	var secondD *notices.Dispatcher
	crashed.during = func(notices.Message) {
		c.t = t0.Add(2 * time.Minute)
		if sent, _, err := secondD.RunOnce(context.Background()); sent != 1 || err != nil {
			t.Errorf("the second dispatcher: %d sent, %v", sent, err)
		}
	}
	first = newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.Email: crashed})
	secondD = newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.Email: second})
	secondD.Owner = "relais-2"
	n := mustCreate(t, st, pending(notices.Email))
	sent, _, err := first.RunOnce(t.Context())
	if err != nil || sent != 0 {
		t.Fatalf("the first dispatcher counted %d sent (%v) after losing its lease", sent, err)
	}
	if len(crashed.sent) != 1 || len(second.sent) != 1 || crashed.sent[0].ID != second.sent[0].ID || crashed.sent[0].ID != n.ID {
		t.Fatalf("sends: %+v, %+v; want one each, with one Message.ID", crashed.sent, second.sent)
	}
	got := st.byID[n.ID]
	if got.Status != notices.Sent || got.Attempts != 1 || !got.SentAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("stored: %+v; want the second dispatcher's record only", got)
	}
}

func TestDispatcherSkipsALeaseThatRanOut(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	email := &fakeSender{}
	email.during = func(notices.Message) { c.t = t0.Add(time.Hour) } // a slow first send
	d := newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.Email: email})
	a := mustCreate(t, st, pending(notices.Email))
	mustCreate(t, st, pending(notices.Email))
	sent, _, _ := d.RunOnce(t.Context())
	if sent != 1 || len(email.sent) != 1 || email.sent[0].ID != a.ID {
		t.Fatalf("sent %d (%d sends): the second notice's lease had run out, it must not be sent", sent, len(email.sent))
	}
}

func TestDispatcherRun(t *testing.T) {
	mem, c := newMemStore(), &clock{t0}
	st := &lockedStore{memStore: mem}
	email := &fakeSender{}
	d := newDispatcher(mem, c, map[notices.Channel]notices.Sender{notices.Email: email})
	d.Store = st
	d.Batch = 2
	tick := make(chan time.Time)
	stopped := make(chan bool, 1)
	d.Ticks = func() (<-chan time.Time, func()) { return tick, func() { stopped <- true } }
	for range 5 {
		mustCreate(t, mem, pending(notices.Email))
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	// Run drains the outbox in full batches before its first wait. A tick
	// is taken only while Run waits: once the second is taken, the run
	// the first one started is over (and found nothing more to send).
	tick <- t0
	tick <- t0
	if len(email.sent) != 5 {
		t.Errorf("sent %d before the first tick, want all 5", len(email.sent))
	}
	if err := st.CreateNotice(t.Context(), pending(notices.Email)); err != nil {
		t.Fatal(err)
	}
	tick <- t0
	tick <- t0
	if len(email.sent) != 6 {
		t.Errorf("sent %d after a tick, want 6", len(email.sent))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if !<-stopped {
		t.Error("the ticker was not stopped")
	}
}

func TestDispatcherRefusesAMissingPart(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	for name, change := range map[string]func(d *notices.Dispatcher){
		"no store":  func(d *notices.Dispatcher) { d.Store = nil },
		"no events": func(d *notices.Dispatcher) { d.Events = nil },
		"no owner":  func(d *notices.Dispatcher) { d.Owner = "" },
		"no writer": func(d *notices.Dispatcher) { d.Writer = nil },
	} {
		d := newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.Email: &fakeSender{}})
		change(d)
		if _, _, err := d.RunOnce(t.Context()); err == nil {
			t.Errorf("%s: RunOnce ran", name)
		}
		if err := d.Run(t.Context()); err == nil {
			t.Errorf("%s: Run ran", name)
		}
	}
}

// deadlineSender records how long each send was given, in real time.
type deadlineSender struct {
	given  []time.Duration
	during func()
}

func (s *deadlineSender) Send(ctx context.Context, _ notices.Message) error {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(time.Hour)
	}
	s.given = append(s.given, time.Until(d))
	if s.during != nil {
		s.during()
	}
	return nil
}

// A send is never given longer than the lease leaves, less the margin to
// record its outcome: once the lease ends another dispatcher may claim the
// notice, and a send still running then would be a second send (found by
// a review: a send that started with one second of lease left could run
// for its whole SendTimeout).
func TestASendNeverOutlivesItsLease(t *testing.T) {
	st, c := newMemStore(), &clock{t0}
	s := &deadlineSender{}
	d := newDispatcher(st, c, map[notices.Channel]notices.Sender{notices.Email: s}) // a lease of 1 minute
	d.SendTimeout = 30 * time.Second
	for range 4 {
		mustCreate(t, st, pending(notices.Email))
	}
	s.during = func() { c.t = c.t.Add(25 * time.Second) } // each send takes 25 s
	sent, _, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Sends start at 0, 25 and 50 s; the lease ends at 60 s, less the margin.
	left := []time.Duration{30 * time.Second, 30 * time.Second, 10*time.Second - notices.LeaseMargin}
	if sent != 3 || len(s.given) != 3 {
		t.Fatalf("sent %d (%d sends), want 3: the fourth starts after its lease", sent, len(s.given))
	}
	for i, want := range left {
		if got := s.given[i]; got > want || got < want-time.Second {
			t.Errorf("send %d was given %s, want %s", i+1, got, want)
		}
	}
}
