package main

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Sessions live in this process's memory, keyed by a random cookie: enough
// for a demo program. A real site keeps them in its own store (a database
// or a cache shared by its instances), so that a restart or a second
// instance does not sign people out.

const (
	sessionCookie = "demo_site_session"
	// loginTTL bounds a login started here and not yet back from Relais.
	loginTTL = 10 * time.Minute
)

// session is one browser's state at the site.
type session struct {
	mu      sync.Mutex // held by the handler that uses the session
	id      string
	expires time.Time
	login   *pendingLogin // a login sent to Relais, not yet back
	account *account      // set once signed in
	acts    map[string]*actState
}

// pendingLogin is what the callback checks: the state and nonce sent to
// Relais, and the PKCE verifier whose challenge was sent.
type pendingLogin struct {
	State, Nonce, Verifier string
}

type sessionStore struct {
	mu  sync.Mutex
	all map[string]*session
	now func() time.Time
}

func newSessionStore(now func() time.Time) *sessionStore {
	return &sessionStore{all: map[string]*session{}, now: now}
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// open returns the browser's live session, locked, or nil.
func (st *sessionStore) open(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	st.mu.Lock()
	s := st.all[c.Value]
	if s != nil && !st.now().Before(s.expires) {
		delete(st.all, c.Value)
		s = nil
	}
	st.mu.Unlock()
	if s != nil {
		s.mu.Lock()
	}
	return s
}

// create starts a new session, locked, and sets its cookie. Expired
// sessions are dropped on the way, so the map does not grow forever.
func (st *sessionStore) create(w http.ResponseWriter, secure bool, ttl time.Duration) *session {
	now := st.now()
	s := &session{id: randomString(), expires: now.Add(ttl), acts: map[string]*actState{}}
	s.mu.Lock()
	st.mu.Lock()
	for id, old := range st.all {
		if !now.Before(old.expires) {
			delete(st.all, id)
		}
	}
	st.all[s.id] = s
	st.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: s.id, Path: "/", HttpOnly: true, Secure: secure,
		// Lax: the cookie comes back with the top-level redirect from
		// Relais to /callback, and never with another site's POST.
		SameSite: http.SameSiteLaxMode})
	return s
}

// drop ends a session and clears its cookie.
func (st *sessionStore) drop(w http.ResponseWriter, s *session, secure bool) {
	st.mu.Lock()
	delete(st.all, s.id)
	st.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode})
}
