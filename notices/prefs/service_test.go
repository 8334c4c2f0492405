package prefs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
	"github.com/relais-fr/relais/notices/sms"
)

var (
	t0     = time.Date(2027, 3, 3, 13, 5, 0, 0, time.UTC)
	jeanne = mandates.NewID(t0)
	paul   = mandates.NewID(t0) // her tutor
	karim  = mandates.NewID(t0) // holds a proxy: may not choose
)

// memStore keeps choices in memory; a transaction that fails leaves them
// as they were, as the real stores do (storagetest.RunNoticeChoices).
type memStore struct {
	tx      sync.Mutex // one transaction at a time, as SQLite
	mu      sync.Mutex
	choices map[string]prefs.Choice
	events  []mandates.Event
}

type txKey struct{}

func (m *memStore) InTx(ctx context.Context, fn func(context.Context) error) error {
	if ctx.Value(txKey{}) != nil {
		return fn(ctx)
	}
	m.tx.Lock()
	defer m.tx.Unlock()
	m.mu.Lock()
	saved, events := maps.Clone(m.choices), len(m.events)
	m.mu.Unlock()
	if err := fn(context.WithValue(ctx, txKey{}, true)); err != nil {
		m.mu.Lock()
		m.choices, m.events = saved, m.events[:events]
		m.mu.Unlock()
		return err
	}
	return nil
}

func (m *memStore) NoticeChoice(_ context.Context, id string) (prefs.Choice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.choices[id]
	if !ok {
		return c, mandates.ErrNotFound
	}
	return c, nil
}

func (m *memStore) UpdateNoticeChoice(ctx context.Context, id string, fn func(*prefs.Choice) error) (prefs.Choice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.choices[id]
	if !ok {
		old = prefs.Paper(id)
	}
	c, err := prefs.ApplyUpdate(old, fn, t0)
	if err != nil {
		return old, err
	}
	m.choices[id] = c
	return c, nil
}

func (m *memStore) Emit(_ context.Context, e mandates.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
	return nil
}

// rule lets Jeanne and Paul choose for Jeanne, Paul until his tutelle
// ends.
type rule struct {
	mu      sync.Mutex
	tutelle mandates.Representation
	ended   bool
}

func (r *rule) end() {
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
}

func (r *rule) NoticesManagedBy(_ context.Context, a mandates.Actor, personID string) (mandates.NoticesManager, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case personID == jeanne && a.PersonID == jeanne:
		return mandates.NoticesManager{}, nil
	case personID == jeanne && a.PersonID == paul && !r.ended:
		return mandates.NoticesManager{Measure: &r.tutelle}, nil
	}
	return mandates.NoticesManager{}, mandates.ErrNotPermitted
}

// gateway stands for the SMS gateway: it keeps each text, or answers
// fail while it is set.
type gateway struct {
	mu    sync.Mutex
	texts []map[string]any
	fail  int
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail != 0 {
		w.WriteHeader(g.fail)
		return
	}
	g.texts = append(g.texts, body)
	w.WriteHeader(http.StatusOK)
}

func (g *gateway) last(t *testing.T) (to, code string) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.texts) == 0 {
		t.Fatal("no text sent")
	}
	b := g.texts[len(g.texts)-1]
	text, _ := b["text"].(string)
	code = regexp.MustCompile(`\b\d{6}\b`).FindString(text)
	if code == "" {
		t.Fatalf("no code in %q", text)
	}
	to, _ = b["to"].(string)
	return to, code
}

// emails keeps the emails "sent".
type emails struct{ sent []notices.Message }

func (e *emails) Send(_ context.Context, m notices.Message) error {
	e.sent = append(e.sent, m)
	return nil
}

type world struct {
	st    *memStore
	svc   *prefs.Service
	gw    *gateway
	mail  *emails
	clock *time.Time
	look  prefs.Lookup
	rule  *rule
}

func newWorld(t *testing.T) *world {
	st := &memStore{choices: map[string]prefs.Choice{}}
	g := &gateway{}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	gw, err := sms.NewHTTP(sms.HTTPConfig{URL: srv.URL, Token: "t", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	text, err := sms.New(gw, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	w := &world{st: st, gw: g, mail: &emails{}, clock: &now}
	tutelle := mandates.Representation{ID: mandates.NewID(t0), Kind: mandates.Tutelle, PersonID: jeanne,
		Representative: mandates.Representative{PersonID: paul}}
	w.rule = &rule{tutelle: tutelle}
	w.svc = &prefs.Service{Store: st, Rule: w.rule, Events: st,
		Senders: map[notices.Channel]notices.Sender{notices.SMS: text, notices.Email: w.mail},
		Now:     func() time.Time { return *w.clock }}
	w.look = prefs.Lookup{Store: st, Rule: w.rule, Now: func() time.Time { return *w.clock }}
	return w
}

func (w *world) channel(t *testing.T) notices.Channel {
	t.Helper()
	c, err := w.look.Channel(t.Context(), notices.Addressee{ID: jeanne, Kind: notices.ToPerson})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *world) types() []mandates.EventType {
	var out []mandates.EventType
	for _, e := range w.st.events {
		out = append(out, e.Type)
	}
	return out
}

var me = mandates.Actor{PersonID: jeanne}

func TestAPersonChoosesSMSWithTheCodeSentToTheirPhone(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	if err := w.svc.Request(ctx, me, jeanne, notices.SMS, "06 12 34 56 78", "fr"); err != nil {
		t.Fatal(err)
	}
	to, code := w.gw.last(t)
	if to != "+33612345678" {
		t.Errorf("the code went to %q", to)
	}
	if got := w.channel(t); got != notices.Paper {
		t.Errorf("before the code, notices go by %s", got)
	}
	c := w.st.choices[jeanne]
	if c.Pending.To != "+33612345678" || bytes.Contains(c.Pending.CodeHash, []byte(code)) || !c.Pending.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
		t.Errorf("stored: %+v", c.Pending)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err := w.svc.Confirm(ctx, me, jeanne, wrong)
	var left mandates.CodeAttemptsLeft
	if !errors.Is(err, mandates.ErrCodeWrong) || !errors.As(err, &left) || left != 4 {
		t.Fatalf("a wrong code: %v, want ErrCodeWrong with 4 attempts left", err)
	}
	if w.st.choices[jeanne].Pending.Attempts != 1 {
		t.Errorf("the wrong code was not counted: %+v", w.st.choices[jeanne].Pending)
	}
	got, err := w.svc.Confirm(ctx, me, jeanne, code[:3]+" "+code[3:])
	if err != nil {
		t.Fatal(err)
	}
	if got.Channel != notices.SMS || got.Phone != "+33612345678" || got.Pending.Waiting() {
		t.Errorf("confirmed: %+v", got)
	}
	if c := w.channel(t); c != notices.SMS {
		t.Errorf("after the code, notices go by %s", c)
	}
	if ct, _ := w.look.Contact(ctx, jeanne); ct.Phone != "+33612345678" || ct.Email != "" || !ct.Since.Equal(t0) {
		t.Errorf("contact: %+v", ct)
	}
	want := []mandates.EventType{mandates.EventNoticeChannelRequested, mandates.EventNoticeChannelConfirmed}
	if got := w.types(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("journal: %v, want %v", got, want)
	}
	for _, e := range w.st.events {
		if e.ActorID != jeanne || e.PersonID != jeanne || e.RepresentationID != "" || e.Detail["channel"] != "sms" || len(e.Detail) != 1 {
			t.Errorf("entry: %+v", e)
		}
	}
	if _, err := w.svc.Confirm(ctx, me, jeanne, code); !errors.Is(err, mandates.ErrCodeExpired) {
		t.Errorf("the code used again: %v, want ErrCodeExpired", err)
	}
}

func TestATutorChoosesEmailForThePerson(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	tutor := mandates.Actor{PersonID: paul}
	if err := w.svc.Request(ctx, tutor, jeanne, notices.Email, " Jeanne@Example.FR ", "en"); err != nil {
		t.Fatal(err)
	}
	if len(w.mail.sent) != 1 {
		t.Fatalf("%d emails sent", len(w.mail.sent))
	}
	m := w.mail.sent[0]
	code := regexp.MustCompile(`\d{6}`).FindString(m.Subject)
	if m.To.Email != "Jeanne@example.fr" || m.Lang != "en" || m.To.Name != "" || code == "" {
		t.Fatalf("email: %+v", m)
	}
	if _, err := w.svc.Confirm(ctx, tutor, jeanne, code); err != nil {
		t.Fatal(err)
	}
	if c := w.channel(t); c != notices.Email {
		t.Errorf("notices go by %s", c)
	}
	for _, e := range w.st.events {
		if e.ActorID != paul || e.RepresentationID == "" {
			t.Errorf("entry without the tutelle it was done under: %+v", e)
		}
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		actor mandates.Actor
		ch    notices.Channel
		typed string
		check func(error) bool
	}{
		{"someone the rule does not let choose", mandates.Actor{PersonID: karim}, notices.SMS, "0612345678",
			func(err error) bool { return errors.Is(err, mandates.ErrNotPermitted) }},
		{"a landline", me, notices.SMS, "01 23 45 67 89", invalidOn("phone", mandates.RuleNotMobile)},
		{"a number abroad", me, notices.SMS, "+44 7700 900123", invalidOn("phone", mandates.RuleNotMobile)},
		{"letters in a number", me, notices.SMS, "06 12 AB 56 78", invalidOn("phone", mandates.RuleFormat)},
		{"no number", me, notices.SMS, "  ", invalidOn("phone", mandates.RuleRequired)},
		{"an address without a domain", me, notices.Email, "jeanne@", invalidOn("email", mandates.RuleFormat)},
		{"no address", me, notices.Email, "", invalidOn("email", mandates.RuleRequired)},
		{"paper is not asked with a code", me, notices.Paper, "x", invalidOn("channel", mandates.RuleUnknown)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			err := w.svc.Request(ctx, tt.actor, jeanne, tt.ch, tt.typed, "fr")
			if !tt.check(err) {
				t.Fatalf("Request = %v", err)
			}
			if len(w.gw.texts) != 0 || len(w.mail.sent) != 0 || len(w.st.choices) != 0 || len(w.st.events) != 0 {
				t.Errorf("something was sent or stored: %v %v %v %v", w.gw.texts, w.mail.sent, w.st.choices, w.st.events)
			}
		})
	}
	t.Run("someone the rule does not let choose cannot confirm or go back to paper", func(t *testing.T) {
		w := newWorld(t)
		if err := w.svc.Request(ctx, me, jeanne, notices.SMS, "0612345678", "fr"); err != nil {
			t.Fatal(err)
		}
		_, code := w.gw.last(t)
		if _, err := w.svc.Confirm(ctx, mandates.Actor{PersonID: karim}, jeanne, code); !errors.Is(err, mandates.ErrNotPermitted) {
			t.Errorf("Confirm = %v", err)
		}
		if _, err := w.svc.BackToPaper(ctx, mandates.Actor{PersonID: karim}, jeanne, time.Time{}); !errors.Is(err, mandates.ErrNotPermitted) {
			t.Errorf("BackToPaper = %v", err)
		}
		if _, _, err := w.svc.Choice(ctx, mandates.Actor{PersonID: karim}, jeanne); !errors.Is(err, mandates.ErrNotPermitted) {
			t.Errorf("Choice = %v", err)
		}
		if w.st.choices[jeanne].Pending.Attempts != 0 || len(w.st.events) != 1 {
			t.Errorf("the refusals changed something: %+v, %v", w.st.choices[jeanne], w.types())
		}
	})
	t.Run("a gateway that fails: no code waits, but the send counts", func(t *testing.T) {
		w := newWorld(t)
		w.gw.fail = http.StatusBadGateway
		for range 5 {
			err := w.svc.Request(ctx, me, jeanne, notices.SMS, "0612345678", "fr")
			var se *prefs.SendError
			if !errors.Is(err, prefs.ErrNotSent) || !errors.As(err, &se) || se.Channel != notices.SMS {
				t.Fatalf("Request = %v, want a SendError", err)
			}
			if c := w.st.choices[jeanne]; c.Pending.Waiting() || len(c.Pending.CodeHash) != 0 || c.Channel != notices.Paper {
				t.Errorf("stored: %+v", c)
			}
		}
		if c := w.st.choices[jeanne]; c.Sends != 5 || len(w.st.events) != 0 {
			t.Errorf("%d sends counted, want 5; journal %v, want nothing", c.Sends, w.types())
		}
		w.gw.fail = 0
		if err := w.svc.Request(ctx, me, jeanne, notices.SMS, "0612345678", "fr"); !errors.Is(err, mandates.ErrTooManyCodes) {
			t.Errorf("a sixth request within the hour: %v, want ErrTooManyCodes", err)
		}
	})
	t.Run("a channel without a sender", func(t *testing.T) {
		w := newWorld(t)
		delete(w.svc.Senders, notices.Email)
		if w.svc.Offers(notices.Email) || !w.svc.Offers(notices.SMS) || w.svc.Offers(notices.Paper) {
			t.Error("Offers says otherwise")
		}
		if err := w.svc.Request(ctx, me, jeanne, notices.Email, "jeanne@example.fr", "fr"); !errors.Is(err, prefs.ErrNoSender) {
			t.Fatalf("Request = %v, want ErrNoSender", err)
		}
	})
	t.Run("a code typed with nothing waiting", func(t *testing.T) {
		w := newWorld(t)
		if _, err := w.svc.Confirm(ctx, me, jeanne, "123456"); !errors.Is(err, mandates.ErrCodeExpired) {
			t.Fatalf("Confirm = %v, want ErrCodeExpired", err)
		}
	})
}

func invalidOn(field string, rule mandates.Rule) func(error) bool {
	return func(err error) bool {
		var inv *mandates.InvalidError
		return errors.As(err, &inv) && inv.Field == field && inv.Rule == rule
	}
}

func TestACodeTooOldIsRefused(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	if err := w.svc.Request(ctx, me, jeanne, notices.SMS, "0612345678", "fr"); err != nil {
		t.Fatal(err)
	}
	_, code := w.gw.last(t)
	*w.clock = t0.Add(15 * time.Minute)
	if _, err := w.svc.Confirm(ctx, me, jeanne, code); !errors.Is(err, mandates.ErrCodeExpired) {
		t.Fatalf("Confirm after 15 minutes = %v, want ErrCodeExpired", err)
	}
	if c := w.st.choices[jeanne]; c.Pending.Waiting() || c.Channel != notices.Paper {
		t.Errorf("after an old code: %+v", c)
	}
}

func TestTooManyWrongCodesDropTheChange(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	if err := w.svc.Request(ctx, me, jeanne, notices.SMS, "0612345678", "fr"); err != nil {
		t.Fatal(err)
	}
	_, code := w.gw.last(t)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 4; i++ {
		if _, err := w.svc.Confirm(ctx, me, jeanne, wrong); !errors.Is(err, mandates.ErrCodeWrong) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	if _, err := w.svc.Confirm(ctx, me, jeanne, wrong); !errors.Is(err, mandates.ErrTooManyCodes) {
		t.Fatalf("the fifth wrong code: %v, want ErrTooManyCodes", err)
	}
	if _, err := w.svc.Confirm(ctx, me, jeanne, code); !errors.Is(err, mandates.ErrCodeExpired) {
		t.Fatalf("the right code after: %v, want ErrCodeExpired", err)
	}
	if c := w.channel(t); c != notices.Paper {
		t.Errorf("notices go by %s", c)
	}
}

func TestCodesSentAreBoundedByTheHour(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	for i := 1; i <= 5; i++ {
		if err := w.svc.Request(ctx, me, jeanne, notices.SMS, "0612345678", "fr"); err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
	}
	if err := w.svc.Request(ctx, me, jeanne, notices.SMS, "0612345678", "fr"); !errors.Is(err, mandates.ErrTooManyCodes) {
		t.Fatalf("a sixth code within the hour: %v, want ErrTooManyCodes", err)
	}
	if len(w.gw.texts) != 5 {
		t.Errorf("%d texts sent, want 5", len(w.gw.texts))
	}
	*w.clock = t0.Add(time.Hour)
	if err := w.svc.Request(ctx, me, jeanne, notices.SMS, "0612345678", "fr"); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
}

func TestBackToPaper(t *testing.T) {
	confirmed := func(t *testing.T) *world {
		w := newWorld(t)
		if err := w.svc.Request(t.Context(), me, jeanne, notices.Email, "jeanne@example.fr", "fr"); err != nil {
			t.Fatal(err)
		}
		code := regexp.MustCompile(`\d{6}`).FindString(w.mail.sent[0].Subject)
		if _, err := w.svc.Confirm(t.Context(), me, jeanne, code); err != nil {
			t.Fatal(err)
		}
		return w
	}
	t.Run("until a date, then email counts again", func(t *testing.T) {
		w := confirmed(t)
		until := time.Date(2027, 4, 1, 15, 0, 0, 0, time.UTC)
		c, err := w.svc.BackToPaper(t.Context(), me, jeanne, until)
		if err != nil {
			t.Fatal(err)
		}
		if c.Channel != notices.Email || c.Email != "jeanne@example.fr" || !c.PaperUntil.Equal(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("stored: %+v", c)
		}
		if got := w.channel(t); got != notices.Paper {
			t.Errorf("now: %s", got)
		}
		*w.clock = time.Date(2027, 3, 31, 23, 59, 0, 0, time.UTC)
		if got := w.channel(t); got != notices.Paper {
			t.Errorf("the day before: %s", got)
		}
		*w.clock = time.Date(2027, 4, 1, 21, 59, 0, 0, time.UTC) // 23:59 in Paris
		if got := w.channel(t); got != notices.Paper {
			t.Errorf("on the day: %s", got)
		}
		*w.clock = time.Date(2027, 4, 1, 22, 0, 0, 0, time.UTC) // 2 April in Paris
		if got := w.channel(t); got != notices.Email {
			t.Errorf("the day after: %s", got)
		}
		e := w.st.events[len(w.st.events)-1]
		if e.Type != mandates.EventNoticePaperChosen || e.Detail["until"] != "2027-04-01" {
			t.Errorf("entry: %+v", e)
		}
	})
	t.Run("for good: the address is forgotten", func(t *testing.T) {
		w := confirmed(t)
		c, err := w.svc.BackToPaper(t.Context(), me, jeanne, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Channel != notices.Paper || c.Email != "" || !c.PaperUntil.IsZero() {
			t.Errorf("stored: %+v", c)
		}
		*w.clock = t0.AddDate(5, 0, 0)
		if got := w.channel(t); got != notices.Paper {
			t.Errorf("years later: %s", got)
		}
		if ct, _ := w.look.Contact(t.Context(), jeanne); ct != (notices.Contact{}) {
			t.Errorf("contact kept: %+v", ct)
		}
		if e := w.st.events[len(w.st.events)-1]; e.Type != mandates.EventNoticePaperChosen || len(e.Detail) != 0 {
			t.Errorf("entry: %+v", e)
		}
	})
	t.Run("a date that is not after today is refused", func(t *testing.T) {
		w := confirmed(t)
		for _, d := range []time.Time{t0, t0.AddDate(0, 0, -1)} {
			if _, err := w.svc.BackToPaper(t.Context(), me, jeanne, d); !invalidOn("until", mandates.RuleAfter)(err) {
				t.Errorf("until %v: %v", d, err)
			}
		}
		if got := w.channel(t); got != notices.Email {
			t.Errorf("a refused date changed the channel: %s", got)
		}
	})
	t.Run("an organisation always gets paper", func(t *testing.T) {
		w := confirmed(t)
		c, err := w.look.Channel(t.Context(), notices.Addressee{ID: jeanne, Kind: notices.ToOrganisation})
		if err != nil || c != notices.Paper {
			t.Errorf("Channel = %s, %v", c, err)
		}
	})
}

func TestAChoiceMadeByATutorEndsWithTheirRight(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	tutor := mandates.Actor{PersonID: paul}
	if err := w.svc.Request(ctx, tutor, jeanne, notices.Email, "paul@example.fr", "fr"); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`\d{6}`).FindString(w.mail.sent[0].Subject)
	c, err := w.svc.Confirm(ctx, tutor, jeanne, code)
	if err != nil {
		t.Fatal(err)
	}
	if c.ChosenBy != paul || c.ChosenUnder != w.rule.tutelle.ID {
		t.Errorf("stored: chosen by %q under %q, want Paul under the tutelle", c.ChosenBy, c.ChosenUnder)
	}
	if got := w.channel(t); got != notices.Email {
		t.Fatalf("while the tutelle lasts: %s", got)
	}
	if ct, err := w.look.Contact(ctx, jeanne); err != nil || ct.Email != "paul@example.fr" {
		t.Fatalf("contact while the tutelle lasts: %+v, %v", ct, err)
	}
	w.rule.end()
	if got := w.channel(t); got != notices.Paper {
		t.Errorf("after the tutelle: %s, want paper", got)
	}
	if ct, err := w.look.Contact(ctx, jeanne); err != nil || ct != (notices.Contact{}) {
		t.Errorf("contact after the tutelle: %+v, %v, want none", ct, err)
	}
	// Jeanne's page says paper too, not the tutor's address.
	if c, _, err := w.svc.Choice(ctx, me, jeanne); err != nil || c.Channel != notices.Paper || c.Email != "" || c.Version == 0 {
		t.Errorf("Jeanne's page after the tutelle: %+v, %v, want paper", c, err)
	}
	t.Run("a lookup without the rule does not follow a representative's choice", func(t *testing.T) {
		l := prefs.Lookup{Store: w.st}
		w.rule.mu.Lock()
		w.rule.ended = false
		w.rule.mu.Unlock()
		if got, err := l.Channel(ctx, notices.Addressee{ID: jeanne, Kind: notices.ToPerson}); err != nil || got != notices.Paper {
			t.Errorf("Channel = %s, %v, want paper", got, err)
		}
	})
}

func TestAChoiceMadeByThePersonOutlivesAnyRule(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	if err := w.svc.Request(ctx, me, jeanne, notices.Email, "jeanne@example.fr", "fr"); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`\d{6}`).FindString(w.mail.sent[0].Subject)
	c, err := w.svc.Confirm(ctx, me, jeanne, code)
	if err != nil {
		t.Fatal(err)
	}
	if c.ChosenBy != jeanne || c.ChosenUnder != "" {
		t.Errorf("stored: chosen by %q under %q", c.ChosenBy, c.ChosenUnder)
	}
	w.rule.end()
	if got := w.channel(t); got != notices.Email {
		t.Errorf("channel: %s, want email", got)
	}
}

// barrier is a sender that holds every code until each of n requests
// either called it or returned: without a reservation before the send,
// every request would send.
type barrier struct {
	all   sync.WaitGroup
	mu    sync.Mutex
	sends int
}

type calledKey struct{}

func (b *barrier) Send(ctx context.Context, _ notices.Message) error {
	*ctx.Value(calledKey{}).(*bool) = true
	b.mu.Lock()
	b.sends++
	b.mu.Unlock()
	b.all.Done()
	b.all.Wait()
	return nil
}

func TestConcurrentRequestsSendAtMostTheCodesAllowed(t *testing.T) {
	w := newWorld(t)
	const n = 40
	b := &barrier{}
	b.all.Add(n)
	w.svc.Senders[notices.Email] = b
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for range n {
		wg.Go(func() {
			called := new(bool)
			err := w.svc.Request(context.WithValue(t.Context(), calledKey{}, called), me, jeanne, notices.Email, "jeanne@example.fr", "fr")
			if !*called {
				b.all.Done()
			}
			switch {
			case errors.Is(err, mandates.ErrTooManyCodes), errors.Is(err, mandates.ErrConflict):
				mu.Lock()
				refused++
				mu.Unlock()
			case err != nil:
				t.Errorf("Request = %v", err)
			}
		})
	}
	wg.Wait()
	if b.sends > 5 || b.sends+refused != n {
		t.Errorf("%d codes sent and %d refused of %d requests, want at most 5 sent", b.sends, refused, n)
	}
	if c := w.st.choices[jeanne]; c.Sends != b.sends {
		t.Errorf("%d codes counted, %d sent", c.Sends, b.sends)
	}
}

type failingSink struct{ err error }

func (f failingSink) Emit(context.Context, mandates.Event) error { return f.err }

func TestACodeWhoseRequestCouldNotBeJournaledDoesNotWork(t *testing.T) {
	w := newWorld(t)
	errJournal := errors.New("the journal is full")
	w.svc.Events = failingSink{errJournal}
	if err := w.svc.Request(t.Context(), me, jeanne, notices.Email, "jeanne@example.fr", "fr"); !errors.Is(err, errJournal) {
		t.Fatalf("Request = %v, want the journal's error", err)
	}
	if c := w.st.choices[jeanne]; c.Pending.Waiting() || c.Sends != 1 {
		t.Errorf("stored: %+v, want nothing waiting and the send counted", c)
	}
}

// TestPaperUntilCountsTheWholeDayInParis: « sur papier jusqu’au 10 mars »
// is paper all of 10 March in France, and today is today in France.
func TestPaperUntilCountsTheWholeDayInParis(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	w.svc.Location, w.look.Location = paris, paris
	ctx := t.Context()
	if err := w.svc.Request(ctx, me, jeanne, notices.Email, "jeanne@example.fr", "fr"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Confirm(ctx, me, jeanne, regexp.MustCompile(`\d{6}`).FindString(w.mail.sent[0].Subject)); err != nil {
		t.Fatal(err)
	}
	*w.clock = time.Date(2027, 3, 9, 10, 0, 0, 0, time.UTC)
	if _, err := w.svc.BackToPaper(ctx, me, jeanne, time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	for _, at := range []struct {
		utc  time.Time
		want notices.Channel
	}{
		{time.Date(2027, 3, 10, 0, 30, 0, 0, time.UTC), notices.Paper},  // 01:30 on 10 March in Paris
		{time.Date(2027, 3, 10, 22, 59, 0, 0, time.UTC), notices.Paper}, // 23:59 on 10 March in Paris
		{time.Date(2027, 3, 10, 23, 0, 0, 0, time.UTC), notices.Email},  // 11 March in Paris
	} {
		*w.clock = at.utc
		if got := w.channel(t); got != at.want {
			t.Errorf("at %v: %s, want %s", at.utc, got, at.want)
		}
	}
	// 23:30 UTC on 9 March is already 10 March in Paris: that day is not
	// after today.
	*w.clock = time.Date(2027, 3, 9, 23, 30, 0, 0, time.UTC)
	if _, err := w.svc.BackToPaper(ctx, me, jeanne, time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)); !invalidOn("until", mandates.RuleAfter)(err) {
		t.Errorf("until today in Paris: %v, want refused", err)
	}
}

// TestTheCodeMessageDoesNotNameThePerson: the address or number is not
// confirmed yet, and a typo would tell a stranger whose letters these are.
func TestTheCodeMessageDoesNotNameThePerson(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		w := newWorld(t)
		for _, who := range []mandates.Actor{me, {PersonID: paul}} {
			if err := w.svc.Request(t.Context(), who, jeanne, notices.Email, "jeanne@example.fr", lang); err != nil {
				t.Fatal(err)
			}
			if err := w.svc.Request(t.Context(), who, jeanne, notices.SMS, "0612345678", lang); err != nil {
				t.Fatal(err)
			}
		}
		var texts []string
		for _, m := range w.mail.sent {
			texts = append(texts, m.To.Name, m.Subject, m.Short)
			texts = append(texts, m.Lines...)
			if m.To.Name != "" {
				t.Errorf("%s: the email is addressed to %q", lang, m.To.Name)
			}
		}
		w.gw.mu.Lock()
		for _, b := range w.gw.texts {
			text, _ := b["text"].(string)
			texts = append(texts, text)
		}
		w.gw.mu.Unlock()
		if len(w.mail.sent) != 2 || len(texts) < 8 {
			t.Fatalf("%s: %d emails, %d texts", lang, len(w.mail.sent), len(texts))
		}
		for _, text := range texts {
			if strings.Contains(text, "Jeanne") || strings.Contains(text, "Lefèvre") {
				t.Errorf("%s: the code message names the person: %q", lang, text)
			}
		}
	}
}
