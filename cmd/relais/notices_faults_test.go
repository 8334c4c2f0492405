package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/notices"
)

// refusingMailbox is the in-process relay of mailbox, but it refuses
// one recipient for good (550), as a relay does for an address that no
// longer exists.
type refusingMailbox struct {
	mailbox
	refuse string
}

func (m *refusingMailbox) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &refusingSession{mailSession{&m.mailbox}, m.refuse}, nil
}

type refusingSession struct {
	mailSession
	refuse string
}

func (s *refusingSession) Rcpt(to string, o *smtp.RcptOptions) error {
	if to == s.refuse {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	return s.mailSession.Rcpt(to, o)
}

// flakyGateway is an SMS gateway that keeps each text once per
// Idempotency-Key, as gateways do. Its first answer is slower than the
// dispatcher's time-out; its second takes the text and then drops the
// connection before answering (a crash after sending); the next ones
// answer at once.
type flakyGateway struct {
	mu      sync.Mutex
	calls   int
	texts   map[string]string // by Idempotency-Key
	release chan struct{}
}

func (g *flakyGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.calls++
	call := g.calls
	if call > 1 {
		if _, ok := g.texts[r.Header.Get("Idempotency-Key")]; !ok {
			g.texts[r.Header.Get("Idempotency-Key")] = b.Text
		}
	}
	g.mu.Unlock()
	switch call {
	case 1:
		<-g.release // slower than the time-out: nothing taken
		w.WriteHeader(http.StatusGatewayTimeout)
	case 2:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// TestEveryNoticeArrivesOnceThroughItsChannelOrOnPaper: serve's
// dispatcher, built from the flags, against a real SMTP relay in process
// that refuses Jeanne's address for good, and an SMS gateway that first
// times out, then takes Marie's text and crashes before answering. Each
// notice arrives exactly once: Marie's text once (the retries carry the
// same Idempotency-Key) beside the letter every text about a court
// measure comes with, and Jeanne's email, refused, becomes a letter,
// said in her journal.
func TestEveryNoticeArrivesOnceThroughItsChannelOrOnPaper(t *testing.T) {
	ctx := t.Context()
	box := &refusingMailbox{refuse: "jeanne@example.fr"}
	port, ca := startMailbox(t, box)
	gw := &flakyGateway{texts: map[string]string{}, release: make(chan struct{})}
	gateway := httptest.NewServer(gw)
	defer gateway.Close()
	defer close(gw.release)
	passwordFile := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(passwordFile, []byte("smtp-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := serveConfig(t, []string{
		"--notice-from", "France Services Nantes", "--notice-address", "4 rue de la Maison Neuve; 44000 Nantes", "--notice-phone", "02 40 41 42 43",
		"--smtp-host", "localhost", "--smtp-port", strconv.Itoa(port), "--smtp-user", "relais", "--smtp-password-file", passwordFile,
		"--smtp-from", "France Services Nantes <courrier@relais.example.fr>", "--smtp-ca-file", ca,
		"--sms-url", gateway.URL + "/send",
	}, envOf("RELAIS_SMS_TOKEN", "gw-token"))

	w := newNoticeWorld(t)
	w.register(t, chosen{w.jeanne: notices.Email, w.marie: notices.SMS})
	writer, err := noticeWriter(w.st, &c.Notices, noticeLookup(w.st, nil), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := newDispatcher(w.st, w.j, slog.New(slog.DiscardHandler), noticeChannels{Senders: c.Notices.senders, Writer: writer})
	clock := time.Now()
	d.Now = func() time.Time { return clock }
	d.SendTimeout = 300 * time.Millisecond
	d.Backoff = notices.Backoff{Base: time.Minute, Max: time.Minute, Jitter: 0.01, Rand: func() float64 { return 0 }}

	// Round 1: the email is refused for good, the text times out.
	if sent, failed, err := d.RunOnce(ctx); sent != 0 || failed != 1 || err != nil {
		t.Fatalf("round 1 = %d sent, %d fell back, %v; want the email fallen back to paper, the text to try again", sent, failed, err)
	}
	// Round 2, once the backoff passed: the gateway takes the text and
	// crashes before answering.
	clock = clock.Add(2 * time.Minute)
	if sent, failed, err := d.RunOnce(ctx); sent != 0 || failed != 0 || err != nil {
		t.Fatalf("round 2 = %d sent, %d fell back, %v; want the text to try again", sent, failed, err)
	}
	// Round 3: the gateway knows the key and answers.
	clock = clock.Add(4 * time.Minute)
	if sent, failed, err := d.RunOnce(ctx); sent != 1 || failed != 0 || err != nil {
		t.Fatalf("round 3 = %d sent, %d fell back, %v; want the text sent", sent, failed, err)
	}
	clock = clock.Add(time.Hour)
	if sent, failed, err := d.RunOnce(ctx); sent != 0 || failed != 0 || err != nil {
		t.Fatalf("a last round = %d sent, %d fell back, %v; want nothing left", sent, failed, err)
	}

	all, err := w.st.NoticesOf(ctx, w.jeanne, 50)
	if err != nil {
		t.Fatal(err)
	}
	var email, text, letter, mariesLetter notices.Notice
	for _, n := range all {
		switch {
		case n.RecipientID == w.jeanne && n.Channel == notices.Email:
			email = n
		case n.RecipientID == w.jeanne && n.Channel == notices.Paper:
			letter = n
		case n.RecipientID == w.marie && n.Channel == notices.SMS:
			text = n
		case n.RecipientID == w.marie && n.Channel == notices.Paper:
			mariesLetter = n
		}
	}
	// A text about a court measure comes with its letter, which says how
	// to contest the decision (notices.LetterToo).
	if mariesLetter.FallbackOf != "" || mariesLetter.Status != notices.Pending {
		t.Errorf("Marie's letter beside her text: %+v", mariesLetter)
	}
	if len(all) != 4 || email.Status != notices.Failed || text.Status != notices.Sent || text.Attempts != 3 {
		t.Fatalf("notices %+v; want Jeanne's email failed and its letter, Marie's text sent at its third attempt and her letter", all)
	}
	if letter.FallbackOf != email.ID || letter.Status != notices.Pending || letter.Kind != email.Kind {
		t.Errorf("Jeanne's letter %+v does not stand for her refused email %s", letter, email.ID)
	}
	box.mu.Lock()
	if len(box.got) != 0 {
		t.Errorf("the relay took %d emails, want none", len(box.got))
	}
	box.mu.Unlock()
	gw.mu.Lock()
	if len(gw.texts) != 1 || gw.texts["relais-notice-"+text.ID] == "" || gw.calls != 3 {
		t.Errorf("the gateway kept %d texts in %d calls (%v); want Marie's once, in 3 calls", len(gw.texts), gw.calls, gw.texts)
	}
	gw.mu.Unlock()

	entries, err := w.st.JournalPage(ctx, journal.Query{Chain: w.jeanne, Type: mandates.EventNoticeFallback})
	if err != nil || len(entries) != 1 {
		t.Errorf("Jeanne's journal has %d fallbacks (%v), want 1", len(entries), err)
	}
}
