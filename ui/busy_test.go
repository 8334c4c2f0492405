package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
)

func TestLoginWhileTooManyPasswordsAreCheckedGives503WithRetryAfter(t *testing.T) {
	// One check at a time, and no wait: while the slot is held, a login is
	// refused at once (the queue's timer ends before the slot is free).
	pool := authn.NewHashPool(authn.HashPoolConfig{Size: 1, Queue: 1, Wait: time.Nanosecond})
	app := newOIDCAppWithPolicy(t, nil, authn.WithHashPool(pool))
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = pool.Do(t.Context(), func() { close(started); <-release })
	}()
	<-started

	login := func(lang string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, app.srv.URL+"/login",
			strings.NewReader(url.Values{"email": {testEmail}, "password": {testPassword}, "return": {"/"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", lang)
		res, err := browserClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res, readBody(t, res)
	}
	for _, tt := range []struct{ lang, title, next string }{
		{"fr", "Trop de personnes se connectent en ce moment", "Attendez quelques secondes, puis connectez-vous de nouveau."},
		{"en", "Too many people are logging in right now", "Wait a few seconds, then log in again."},
	} {
		res, page := login(tt.lang)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" {
			t.Errorf("%s: %d, Retry-After %q; want 503 asking to retry after 1 s", tt.lang, res.StatusCode, res.Header.Get("Retry-After"))
		}
		if !strings.Contains(page, "<h1>"+tt.title+"</h1>") || !strings.Contains(page, tt.next) || !strings.Contains(page, `lang="`+tt.lang+`"`) {
			t.Errorf("%s: the page does not say the service is busy in plain words:\n%.1500s", tt.lang, page)
		}
		if strings.Contains(page, "authz:") {
			t.Errorf("%s: internal text reached the person", tt.lang)
		}
	}

	close(release)
	<-done // the slot is free only once the check returned
	if res, _ := login("fr"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("once the check is free: %d, want the login to go through", res.StatusCode)
	}
}
