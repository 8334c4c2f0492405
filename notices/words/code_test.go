package words_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/sms"
	"github.com/relais-fr/relais/notices/words"
)

// outbox is a notices.Store that keeps the last notice written.
type outbox struct{ last notices.Notice }

func (o *outbox) CreateNotice(_ context.Context, n notices.Notice) error { o.last = n; return nil }

// TestACodeNoticeSaysTheCodeWhereToTypeItAndUntilWhen writes the activation
// and reset codes as the person reads them, on paper, by email and by SMS.
func TestACodeNoticeSaysTheCodeWhereToTypeItAndUntilWhen(t *testing.T) {
	s := fixture()
	box, err := keyring.NewSecretBox(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	w, err := words.New(s, words.Options{Sender: "France Services Nantes", Contact: "02 40 41 42 43", Now: func() time.Time { return day },
		Site: "https://relais.example.fr/", Codes: box})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kind    mandates.EventType
		person  string
		ttl     time.Duration
		page    string
		until   string
		channel notices.Channel
	}{
		{mandates.EventActivationSent, "jeanne", 30 * 24 * time.Hour, "https://relais.example.fr/activer", "2 avril 2027", notices.Paper},
		{mandates.EventActivationSent, "anne", 30 * 24 * time.Hour, "https://relais.example.fr/activer", "2 April 2027", notices.Email},
		{mandates.EventPasswordResetRequested, "jeanne", time.Hour, "https://relais.example.fr/nouveau-mot-de-passe", "3 mars 2027, 16 h 05", notices.SMS},
		{mandates.EventPasswordResetRequested, "anne", 14 * 24 * time.Hour, "https://relais.example.fr/nouveau-mot-de-passe", "17 March 2027", notices.Paper},
	}
	for _, c := range cases {
		t.Run(string(c.kind)+"/"+c.person+"/"+string(c.channel), func(t *testing.T) {
			out := &outbox{}
			codes := &notices.CodeNotices{Store: out, Reader: s, Channels: chosenChannel(c.channel), Sealer: box, Now: func() time.Time { return day }}
			if _, err := codes.Write(t.Context(), id(c.person), c.kind, "ABCD-EFGH-JKMN", day.Add(c.ttl)); err != nil {
				t.Fatal(err)
			}
			m, err := w.Write(t.Context(), out.last)
			if err != nil {
				t.Fatal(err)
			}
			text := m.Subject + "\n" + strings.Join(m.Lines, "\n")
			if !slices.Contains(m.Lines, "ABCD-EFGH-JKMN") || !strings.Contains(text, c.page) || !strings.Contains(text, c.until) {
				t.Errorf("the words do not give the code alone on its line, %s and %q:\n%s", c.page, c.until, text)
			}
			if !strings.Contains(m.Short, "ABCD-EFGH-JKMN") || !strings.Contains(m.Short, c.until) {
				t.Errorf("the short text lacks the code or its end: %q", m.Short)
			}
			if parts := sms.Segments(m.Short); parts > 1 {
				t.Errorf("the SMS takes %d parts: %q", parts, m.Short)
			}
			if c.channel == notices.Paper {
				plain(t, m)
			}
		})
	}

	// A code that does not open is never written as something else.
	out := &outbox{}
	codes := &notices.CodeNotices{Store: out, Reader: s, Sealer: box, Now: func() time.Time { return day }}
	if _, err := codes.Write(t.Context(), id("jeanne"), mandates.EventActivationSent, "ABCD-EFGH-JKMN", day.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	out.last.Data[notices.DataSealedCode] = "AAAA"
	var p *notices.PermanentError
	if _, err := w.Write(t.Context(), out.last); !errors.As(err, &p) || p.Code != "code" {
		t.Errorf("a code that does not open: %v, want a permanent error with code \"code\"", err)
	}
}

type chosenChannel notices.Channel

func (c chosenChannel) Channel(context.Context, notices.Addressee) (notices.Channel, error) {
	return notices.Channel(c), nil
}
