package sms

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/notices"
)

// gateway stands for the deployment's SMS gateway: it records every
// request and keeps one text per Idempotency-Key, as a gateway that
// honours the key does.
type gateway struct {
	answers []int         // the status of each request in turn; 200 after them
	stall   chan struct{} // the handler waits on it: a gateway slower than the time-out
	crash   bool          // take the first text, then drop the connection before answering

	mu       sync.Mutex
	requests []*http.Request
	bodies   []map[string]any
	texts    map[string]map[string]any // by Idempotency-Key: what the phones receive
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	n := len(g.requests)
	g.requests = append(g.requests, r)
	g.bodies = append(g.bodies, body)
	status := http.StatusOK
	if n < len(g.answers) {
		status = g.answers[n]
	}
	key := r.Header.Get("Idempotency-Key")
	if status < 300 && g.texts[key] == nil {
		if g.texts == nil {
			g.texts = map[string]map[string]any{}
		}
		g.texts[key] = body
	}
	g.mu.Unlock()
	if g.stall != nil {
		select {
		case <-g.stall:
		case <-r.Context().Done():
		}
		return
	}
	if g.crash && n == 0 {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"id":"msg-1"}`))
}

func serve(t *testing.T, g *gateway, edit func(*HTTPConfig)) *Sender {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	if g.stall != nil {
		t.Cleanup(func() { close(g.stall) })
	}
	cfg := HTTPConfig{
		URL:     srv.URL + "/v1/sms",
		Token:   "tok-123",
		Fields:  Fields{To: "destinataire", Text: "message", Sender: "expediteur"},
		Sender:  "Relais",
		Extra:   map[string]any{"type": "transactionnel"},
		Timeout: 2 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	gw, err := NewHTTP(cfg)
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	s, err := New(gw, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func notice() notices.Message {
	return notices.Message{
		ID:    "0190f0c2-7a1b-7c3d-9e8f-001122334455",
		Lang:  "fr",
		To:    notices.Recipient{Name: "Jeanne Lefèvre", Phone: "06 12 34 56 78"},
		Short: "France Services Nantes demande un mandat pour vos papiers, 12 mois. Code : 123456",
	}
}

const wantKey = "relais-notice-0190f0c2-7a1b-7c3d-9e8f-001122334455"

func TestSendPostsTheConfiguredBody(t *testing.T) {
	g := &gateway{answers: []int{http.StatusCreated}}
	s := serve(t, g, nil)
	if err := s.Send(t.Context(), notice()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.requests) != 1 {
		t.Fatalf("%d requests, want 1", len(g.requests))
	}
	r, body := g.requests[0], g.bodies[0]
	checks := []struct{ name, got, want string }{
		{"method", r.Method, http.MethodPost},
		{"path", r.URL.Path, "/v1/sms"},
		{"Content-Type", r.Header.Get("Content-Type"), "application/json"},
		{"Authorization", r.Header.Get("Authorization"), "Bearer tok-123"},
		{"Idempotency-Key", r.Header.Get("Idempotency-Key"), wantKey},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	want := map[string]any{"destinataire": "+33612345678", "message": notice().Short, "expediteur": "Relais", "type": "transactionnel"}
	if len(body) != len(want) {
		t.Errorf("body %v, want %v", body, want)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %v, want %v", k, body[k], v)
		}
	}
}

func TestSendWithBasicAuthentication(t *testing.T) {
	g := &gateway{}
	s := serve(t, g, func(c *HTTPConfig) { c.Token, c.Username, c.Password = "", "relais", "s3cret"; c.Sender = "" })
	if err := s.Send(t.Context(), notice()); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	user, pass, ok := g.requests[0].BasicAuth()
	if !ok || user != "relais" || pass != "s3cret" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
	if _, there := g.bodies[0]["expediteur"]; there || g.bodies[0]["to"] != nil {
		t.Errorf("body %v: no sender field when none is configured", g.bodies[0])
	}
}

func TestSendAnswers(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int
		permanent string // the code of a permanent refusal; "" for a temporary failure
	}{
		{"a refusal (400) is permanent, with its status", []int{400}, "400"},
		{"an unknown number for the gateway (422) is permanent", []int{422}, "422"},
		{"refused credentials (401) wait for the deployment's fix: temporary, as email's", []int{401}, ""},
		{"a forbidden sender (403) waits for the fix too", []int{403}, ""},
		{"a time-out answer (408) is temporary", []int{408}, ""},
		{"too many requests (429) is temporary", []int{429}, ""},
		{"a server error (500) is temporary", []int{500}, ""},
		{"a gateway that is down behind its proxy (503) is temporary", []int{503}, ""},
		{"a redirection is not followed, and temporary", []int{307}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gateway{answers: tt.answers}
			err := serve(t, g, nil).Send(t.Context(), notice())
			var pe *notices.PermanentError
			var se *StatusError
			switch {
			case !errors.As(err, &se) || se.Status != tt.answers[0]:
				t.Errorf("Send = %v, want a StatusError %d", err, tt.answers[0])
			case tt.permanent != "" && (!errors.As(err, &pe) || pe.Code != tt.permanent || pe.Channel != notices.SMS):
				t.Errorf("Send = %v, want a permanent refusal %s", err, tt.permanent)
			case tt.permanent == "" && notices.IsPermanent(err):
				t.Errorf("Send = %v, want a temporary failure", err)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if len(g.requests) != 1 {
				t.Errorf("%d requests, want 1", len(g.requests))
			}
		})
	}
}

func TestARetryAfterAServerErrorSendsTheSameKey(t *testing.T) {
	g := &gateway{answers: []int{500}}
	s := serve(t, g, nil)
	err := s.Send(t.Context(), notice())
	if err == nil || notices.IsPermanent(err) {
		t.Fatalf("first Send = %v, want a temporary failure", err)
	}
	if err := s.Send(t.Context(), notice()); err != nil {
		t.Fatalf("retry = %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.requests) != 2 || g.requests[0].Header.Get("Idempotency-Key") != wantKey || g.requests[1].Header.Get("Idempotency-Key") != wantKey {
		t.Errorf("%d requests; want 2 with the key %s", len(g.requests), wantKey)
	}
	if len(g.texts) != 1 {
		t.Errorf("%d texts reached the phone, want 1", len(g.texts))
	}
}

func TestAGatewaySlowerThanTheTimeOut(t *testing.T) {
	g := &gateway{stall: make(chan struct{})}
	s := serve(t, g, func(c *HTTPConfig) { c.Timeout = 200 * time.Millisecond })
	began := time.Now()
	err := s.Send(t.Context(), notice())
	if err == nil || notices.IsPermanent(err) {
		t.Fatalf("Send = %v, want a temporary failure", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("Send returned after %v", d)
	}
}

// A crash after sending: the gateway takes the text, then the connection
// drops before its answer. Relais cannot know the text went, so it tries
// again; the same Idempotency-Key lets the gateway send it once.
func TestACrashAfterSendingIsRetriedWithTheSameKey(t *testing.T) {
	g := &gateway{crash: true}
	s := serve(t, g, nil)
	err := s.Send(t.Context(), notice())
	if err == nil || notices.IsPermanent(err) {
		t.Fatalf("Send = %v, want a temporary failure", err)
	}
	if err := s.Send(t.Context(), notice()); err != nil {
		t.Fatalf("retry = %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.requests) < 2 {
		t.Fatalf("%d requests, want the first and the retry", len(g.requests))
	}
	for i, r := range g.requests {
		if k := r.Header.Get("Idempotency-Key"); k != wantKey {
			t.Errorf("request %d has the key %q, want %q", i+1, k, wantKey)
		}
	}
	if len(g.texts) != 1 {
		t.Errorf("%d texts reached the phone, want 1", len(g.texts))
	}
}

func TestSendRefusesBeforeTheGateway(t *testing.T) {
	tests := []struct {
		name string
		edit func(*notices.Message)
		code string
		is   error
	}{
		{"a landline", func(m *notices.Message) { m.To.Phone = "02 40 41 42 43" }, "phone", ErrPhone},
		{"no number", func(m *notices.Message) { m.To.Phone = "" }, "phone", ErrPhone},
		{"a text over the limit", func(m *notices.Message) { m.Short = strings.Repeat("ê", 202) }, "text", ErrTooLong},
		{"no text", func(m *notices.Message) { m.Short = "" }, "text", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gateway{}
			m := notice()
			tt.edit(&m)
			err := serve(t, g, nil).Send(t.Context(), m)
			var pe *notices.PermanentError
			if !errors.As(err, &pe) || pe.Code != tt.code || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("Send = %v, want a permanent refusal %s", err, tt.code)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if len(g.requests) != 0 {
				t.Errorf("%d requests reached the gateway", len(g.requests))
			}
		})
	}
	t.Run("a text of exactly 160 characters goes", func(t *testing.T) {
		m := notice()
		m.Short = strings.Repeat("é", 160)
		if err := serve(t, &gateway{}, nil).Send(t.Context(), m); err != nil {
			t.Error(err)
		}
	})
}

func TestNewHTTPRefusesAConfigThatCannotWork(t *testing.T) {
	good := HTTPConfig{URL: "https://sms.example.fr/v1/send", Token: "t"}
	if _, err := NewHTTP(good); err != nil {
		t.Fatalf("NewHTTP(good) = %v", err)
	}
	tests := []struct {
		name string
		edit func(*HTTPConfig)
	}{
		{"no URL", func(c *HTTPConfig) { c.URL = "" }},
		{"plain http to another machine", func(c *HTTPConfig) { c.URL = "http://sms.example.fr/send" }},
		{"no credentials", func(c *HTTPConfig) { c.Token = "" }},
		{"both a token and a username", func(c *HTTPConfig) { c.Username, c.Password = "u", "p" }},
		{"two fields with one name", func(c *HTTPConfig) { c.Fields = Fields{To: "x", Text: "x"} }},
		{"an extra field that hides the text", func(c *HTTPConfig) { c.Extra = map[string]any{"text": "x"} }},
		{"a negative time-out", func(c *HTTPConfig) { c.Timeout = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			if _, err := NewHTTP(cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("NewHTTP = %v, want ErrConfig", err)
			}
		})
	}
}
