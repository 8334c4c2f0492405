package ui_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui"
)

// fakeStore can be switched down and up, like a database that goes away.
type fakeStore struct {
	down     atomic.Bool
	sessions map[string]authn.BrowserSession
}

func (f *fakeStore) Ping(context.Context) error {
	if f.down.Load() {
		return mandates.ErrUnavailable
	}
	return nil
}

func (f *fakeStore) CreateSession(_ context.Context, s authn.BrowserSession) error {
	f.sessions[s.ID] = s
	return nil
}

func (f *fakeStore) Session(_ context.Context, id string, now time.Time) (authn.BrowserSession, error) {
	if f.down.Load() {
		return authn.BrowserSession{}, mandates.ErrUnavailable
	}
	s, ok := f.sessions[id]
	if !ok || !now.Before(s.ExpiresAt) {
		return s, mandates.ErrNotFound
	}
	return s, nil
}

func (f *fakeStore) DeleteSession(context.Context, string) error { return nil }
func (f *fakeStore) RenewSession(_ context.Context, old string, s authn.BrowserSession) error {
	if _, ok := f.sessions[old]; !ok {
		return mandates.ErrNotFound
	}
	delete(f.sessions, old)
	f.sessions[s.ID] = s
	return nil
}

func newServer(t *testing.T, logs io.Writer) (*ui.Server, *fakeStore) {
	t.Helper()
	st := &fakeStore{sessions: map[string]authn.BrowserSession{}}
	if logs == nil {
		logs = io.Discard
	}
	s, err := ui.New(ui.Options{
		Log:          slog.New(ui.LogHandler(slog.NewJSONHandler(logs, nil))),
		Store:        st,
		Sessions:     st,
		MaxBodyBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

type response struct {
	code   int
	body   string
	header http.Header
}

func do(t *testing.T, h http.Handler, method, target string, body io.Reader, headers ...string) response {
	t.Helper()
	r := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return response{w.Code, w.Body.String(), w.Result().Header}
}

func TestPagesSpeakThePersonsLanguage(t *testing.T) {
	s, _ := newServer(t, nil)
	tests := []struct {
		name     string
		headers  []string
		wantLang string
		wantText string
	}{
		{"French by default", nil, "fr", "Relais vous aide à faire vos démarches"},
		{"English when the browser prefers it", []string{"Accept-Language", "en-GB,en;q=0.9"}, "en", "Relais helps you"},
		{"French when the browser prefers it", []string{"Accept-Language", "fr-FR,fr;q=0.9,en;q=0.5"}, "fr", "Relais vous aide"},
		{"French for a language Relais does not speak", []string{"Accept-Language", "de-DE"}, "fr", "Relais vous aide"},
		{"the switch's choice wins over the browser", []string{"Accept-Language", "fr", "Cookie", "relais_lang=en"}, "en", "Relais helps you"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, s, "GET", "/", nil, tt.headers...)
			if res.code != 200 {
				t.Fatalf("status %d", res.code)
			}
			if !strings.Contains(res.body, `<html lang="`+tt.wantLang+`">`) || !strings.Contains(res.body, tt.wantText) {
				t.Errorf("page is not in %s:\n%.400s", tt.wantLang, res.body)
			}
		})
	}
}

func TestLanguageSwitchIsRememberedAndStaysOnSite(t *testing.T) {
	s, _ := newServer(t, nil)
	tests := []struct{ next, want string }{
		{"/nope?x=1", "/nope?x=1"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"/\t/evil.example", "/"}, // browsers drop a tab: //evil.example
		{"/\n/evil.example", "/"},
		{"/x\x7f", "/"},
		{"", "/"},
	}
	for _, tt := range tests {
		res := do(t, s, "GET", "/lang/en?next="+url.QueryEscape(tt.next), nil)
		if res.code != http.StatusSeeOther || res.header.Get("Location") != tt.want {
			t.Errorf("next=%q: %d to %q, want 303 to %q", tt.next, res.code, res.header.Get("Location"), tt.want)
		}
		if c := res.header.Get("Set-Cookie"); !strings.Contains(c, "relais_lang=en") || !strings.Contains(c, "HttpOnly") {
			t.Errorf("cookie = %q", c)
		}
	}
	if res := do(t, s, "GET", "/lang/de", nil); res.code != 404 {
		t.Errorf("unknown language: %d, want 404", res.code)
	}
}

func TestErrorsAnswerWithTheirPageNeverA500(t *testing.T) {
	s, _ := newServer(t, nil)
	s.Pages().HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			if ui.IsTooLarge(err) {
				s.Error(w, r, http.StatusRequestEntityTooLarge)
				return
			}
			s.Error(w, r, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}).Methods("POST")

	big := strings.Repeat("a=b&", 1000)
	tests := []struct {
		name     string
		method   string
		target   string
		body     io.Reader
		headers  []string
		wantCode int
		wantText string
	}{
		{"unknown route, French", "GET", "/nope", nil, nil, 404, "Cette page n’existe pas"},
		{"unknown route, English", "GET", "/nope", nil, []string{"Cookie", "relais_lang=en"}, 404, "This page does not exist"},
		{"wrong method", "DELETE", "/", nil, nil, 405, "Cette action n’est pas possible sur cette page"},
		{"body announced too large", "POST", "/form", strings.NewReader(big), []string{"Content-Type", "application/x-www-form-urlencoded"}, 413, "trop gros"},
		{"body streamed too large", "POST", "/form", io.MultiReader(strings.NewReader(big)), []string{"Content-Type", "application/x-www-form-urlencoded"}, 413, "trop gros"},
		{"cross-site form post", "POST", "/form", strings.NewReader("a=b"), []string{"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site"}, 403, "Pour vous protéger"},
		{"malformed form", "POST", "/form", strings.NewReader("a=%zz"), []string{"Content-Type", "application/x-www-form-urlencoded"}, 400, "pas pu être lue"},
		{"unknown route asked as JSON", "GET", "/nope", nil, []string{"Accept", "application/json"}, 404, `"error":"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, tt.body)
			if tt.name == "body streamed too large" {
				r.ContentLength = -1 // chunked: the size is only known while reading
			}
			for i := 0; i+1 < len(tt.headers); i += 2 {
				r.Header.Set(tt.headers[i], tt.headers[i+1])
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", w.Code, tt.wantCode)
			}
			if !strings.Contains(w.Body.String(), tt.wantText) {
				t.Errorf("body lacks %q:\n%.600s", tt.wantText, w.Body.String())
			}
			if strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") && !strings.Contains(w.Body.String(), `href="/"`) {
				t.Error("error page has no way back to the home page")
			}
		})
	}
}

func TestLargeHeadersAreRefusedWith431(t *testing.T) {
	s, _ := newServer(t, nil)
	srv := s.HTTPServer("127.0.0.1:0")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
	req.Header.Set("X-Huge", strings.Repeat("x", 200<<10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", res.StatusCode)
	}
}

func TestPanicBecomesA500PageAndTheServerGoesOn(t *testing.T) {
	var logs bytes.Buffer
	s, _ := newServer(t, &logs)
	s.Router().HandleFunc("/explode", func(http.ResponseWriter, *http.Request) { panic("secret detail") })
	res := do(t, s, "GET", "/explode", nil)
	if res.code != 500 || !strings.Contains(res.body, "Un problème est arrivé chez nous") {
		t.Errorf("panic answered %d:\n%.300s", res.code, res.body)
	}
	if strings.Contains(res.body, "secret detail") {
		t.Error("the panic's text reached the client")
	}
	if !strings.Contains(logs.String(), `"panic":"secret detail"`) {
		t.Errorf("panic not logged: %s", logs.String())
	}
	if res := do(t, s, "GET", "/", nil); res.code != 200 {
		t.Errorf("after a panic: %d", res.code)
	}
}

func TestStoreDownGives503AndRecovers(t *testing.T) {
	s, st := newServer(t, nil)
	token, id := authn.NewSessionToken()
	st.sessions[id] = authn.BrowserSession{ID: id, PersonID: "p", ExpiresAt: time.Now().Add(time.Hour)}
	cookie := "relais_session=" + token

	st.down.Store(true)
	if res := do(t, s, "GET", "/readyz", nil); res.code != 503 || !strings.Contains(res.body, `"unavailable"`) {
		t.Errorf("readyz while down: %d %s", res.code, res.body)
	}
	res := do(t, s, "GET", "/", nil, "Cookie", cookie)
	if res.code != 503 || !strings.Contains(res.body, "Le service est arrêté pour un moment") || res.header.Get("Retry-After") == "" {
		t.Errorf("page while down: %d\n%.300s", res.code, res.body)
	}
	if res := do(t, s, "GET", "/healthz", nil); res.code != 200 {
		t.Errorf("healthz while the store is down: %d (the process is alive)", res.code)
	}

	st.down.Store(false)
	if res := do(t, s, "GET", "/readyz", nil); res.code != 200 {
		t.Errorf("readyz after recovery: %d", res.code)
	}
	if res := do(t, s, "GET", "/", nil, "Cookie", cookie); res.code != 200 {
		t.Errorf("page after recovery: %d", res.code)
	}
}

func TestUnknownSessionCookieIsCleared(t *testing.T) {
	s, _ := newServer(t, nil)
	res := do(t, s, "GET", "/", nil, "Cookie", "relais_session=forged")
	if res.code != 200 || !strings.Contains(res.header.Get("Set-Cookie"), "relais_session=;") {
		t.Errorf("forged session: %d, Set-Cookie %q", res.code, res.header.Get("Set-Cookie"))
	}
}

func TestMetricsCountRequestsByRouteAndStatus(t *testing.T) {
	s, _ := newServer(t, nil)
	do(t, s, "GET", "/", nil)
	do(t, s, "GET", "/no/such/page", nil)
	res := do(t, s, "GET", "/metrics", nil)
	for _, want := range []string{
		`relais_http_requests_total{code="200",method="GET",route="/"} 1`,
		`relais_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`relais_http_request_duration_seconds_bucket{code="200",method="GET",route="/"`,
		`go_goroutines`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(res.body, "/no/such/page") {
		t.Error("a raw path became a metric label")
	}
}

func TestLogsCarryTheRequestID(t *testing.T) {
	var logs bytes.Buffer
	s, _ := newServer(t, &logs)
	res := do(t, s, "GET", "/", nil, "X-Request-Id", "abc-123")
	if res.header.Get("X-Request-Id") != "abc-123" || !strings.Contains(logs.String(), `"request_id":"abc-123"`) {
		t.Errorf("request id not carried: header %q, logs %s", res.header.Get("X-Request-Id"), logs.String())
	}
	logs.Reset()
	res = do(t, s, "GET", "/", nil, "X-Request-Id", "evil\nline")
	if id := res.header.Get("X-Request-Id"); id == "" || strings.Contains(id, "evil") {
		t.Errorf("a malformed request id was kept: %q", id)
	}
}

func TestPagesNeedNoScriptAndAreNeverFramed(t *testing.T) {
	s, _ := newServer(t, nil)
	res := do(t, s, "GET", "/", nil)
	csp := res.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if strings.Contains(res.body, "<script") {
		t.Error("the home page uses a script")
	}
	if res := do(t, s, "GET", "/static/relais.css", nil); res.code != 200 || !strings.Contains(res.body, ":focus") {
		t.Errorf("stylesheet: %d", res.code)
	}
}

func TestNewNeedsAStore(t *testing.T) {
	if _, err := ui.New(ui.Options{}); err == nil {
		t.Error("New without a store succeeded")
	}
}
