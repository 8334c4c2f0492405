package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// Pinger answers whether the store can be reached, for /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options is what the server needs; cmd/relais fills it.
type Options struct {
	Log      *slog.Logger
	Store    Pinger
	Sessions authn.SessionStore
	// Registry receives the HTTP metrics and is served on /metrics. When
	// nil, a new registry with the Go and process collectors is made.
	Registry *prometheus.Registry
	// MaxBodyBytes bounds request bodies. Default 1 MiB.
	MaxBodyBytes int64
	// SecureCookies marks cookies Secure: on whenever the issuer is https.
	SecureCookies bool
	Now           func() time.Time

	// The OpenID provider and what its pages need. When Provider is nil
	// the server has no protocol endpoints, login or consent pages.
	OIDC *OIDC
	// Mandates, with OIDC, adds the pages and API about representations.
	Mandates *Mandates
}

// OIDC is what the login, consent and authorization pages need.
type OIDC struct {
	Provider *authz.Provider
	Auth     *authn.Authenticator
	Consents authn.ConsentStore
	Clients  oauth.ClientStore
	// TOTP is the optional second factor; when nil, logins need only the
	// password and the second factor's pages are absent.
	TOTP *authn.TOTP
	// SessionTTL is how long a login lasts. Default 1 hour.
	SessionTTL time.Duration
	// Forms keeps what a person wrote on a form sent after their session
	// ended, or when they switch language (keep.go). When nil, such a
	// form is lost, as before.
	Forms *authn.FormKeeper
	// Upstream is the login through FranceConnect and ProConnect
	// (upstream.go); when nil, the login page offers the password only.
	Upstream *Upstream
	// Recovery, when set, adds « Mot de passe oublié », the page where a
	// reset code is typed, and the new password after a FranceConnect
	// login (recovery.go).
	Recovery *accounts.Recovery
}

// Server is Relais's whole HTTP handler.
type Server struct {
	log       *slog.Logger
	store     Pinger
	sessions  authn.SessionStore
	registry  *prometheus.Registry
	metrics   *metrics
	bundle    *i18n.Bundle
	templates map[string]*template.Template
	maxBody   int64
	secure    bool
	now       func() time.Time
	router    *mux.Router
	pages     *mux.Router
	oidc      *OIDC
	mandates  *Mandates
	handler   http.Handler
}

// New builds the server and its routes.
func New(opt Options) (*Server, error) {
	s := &Server{log: opt.Log, store: opt.Store, sessions: opt.Sessions, registry: opt.Registry,
		maxBody: opt.MaxBodyBytes, secure: opt.SecureCookies, now: opt.Now, oidc: opt.OIDC, mandates: opt.Mandates}
	if s.oidc != nil && s.oidc.SessionTTL <= 0 {
		s.oidc.SessionTTL = time.Hour
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = 1 << 20
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
		s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if s.store == nil || s.sessions == nil {
		return nil, errors.New("ui: a store and a session store are required")
	}
	var err error
	if s.metrics, err = newMetrics(s.registry); err != nil {
		return nil, err
	}
	if s.bundle, err = newBundle(); err != nil {
		return nil, err
	}
	if s.templates, err = parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	s.handler = withRequestID(s.observe(s.recoverPanics(securityHeaders(s.limitBody(s.router)))))
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Router is where later packages' routes are mounted (the OpenID provider
// next); they inherit the middleware.
func (s *Server) Router() *mux.Router { return s.router }

// Pages is where later pages are mounted: they get the browser session
// and the cross-origin check.
func (s *Server) Pages() *mux.Router { return s.pages }

func (s *Server) routes() {
	r := mux.NewRouter()
	r.Use(recordRoute)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.Error(w, r, http.StatusNotFound) })
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, http.StatusMethodNotAllowed)
	})

	// Operations: plain JSON, no session, no CSRF check.
	r.Handle("/healthz", http.HandlerFunc(s.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", http.HandlerFunc(s.readyz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry})).Methods(http.MethodGet)

	static, _ := fs.Sub(staticFiles, "static") // the embedded folder exists: checked by the tests
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static)))).
		Methods(http.MethodGet, http.MethodHead)

	// Pages: the browser session is loaded, and cross-origin form posts are
	// refused (a site may POST to the protocol endpoints, never to pages).
	pages := r.NewRoute().Subrouter()
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.Error(w, r, http.StatusForbidden) }))
	pages.Use(csrf.Handler, s.loadSession)
	pages.HandleFunc("/", s.home).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/lang/{lang:fr|en}", s.switchLang).Methods(http.MethodGet)
	pages.HandleFunc("/lang/{lang:fr|en}", s.switchLangKeeping).Methods(http.MethodPost)
	if s.oidc != nil {
		(&signInPages{s}).mountOIDC(r, pages)
		if s.mandates != nil {
			s.mountRepresentations(pages)
		}
	}
	s.router, s.pages = r, pages
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// healthz: the process is alive and serving.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz: the store answers, so this instance can take traffic.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(r.Context(), "not ready: store unreachable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// homeData is the way in that the home page offers: the login page, which
// brings the person back to « Mon espace », or, once signed in, « Mon
// espace » itself. A server without sign-in offers neither.
type homeData struct {
	Login string // the login page and the way back; "" when signed in or without sign-in
	Space bool   // signed in, with a space to go to
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	var d homeData
	if s.oidc != nil {
		back := "/"
		if s.mandates != nil {
			back = spacePath
		}
		if signedIn(r) {
			d.Space = s.mandates != nil
		} else {
			d.Login = "/login?" + url.Values{"return": {back}}.Encode()
		}
	}
	s.render(w, r, http.StatusOK, "home", "home.title", d)
}

// switchLang remembers the language chosen with the visible switch and
// goes back to the page the person was on.
func (s *Server) switchLang(w http.ResponseWriter, r *http.Request) {
	lang := mux.Vars(r)["lang"]
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(flowSwitch(r.URL.Query().Get("next"), lang)), http.StatusSeeOther)
}

const sessionCookie = "relais_session"

type sessionKey struct{}

// CurrentSession is the signed-in browser's session, if any.
func CurrentSession(ctx context.Context) (authn.BrowserSession, bool) {
	s, ok := ctx.Value(sessionKey{}).(authn.BrowserSession)
	return s, ok
}

// loadSession reads the browser session named by the cookie. An unknown or
// expired one clears the cookie; a store that cannot answer gives the 503
// page rather than silently treating the person as signed out.
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		sess, err := s.sessions.Session(r.Context(), authn.SessionID(c.Value), s.now())
		switch {
		case err == nil:
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		case errors.Is(err, mandates.ErrNotFound):
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
				HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		default:
			s.StoreError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// HTTPServer wraps the handler with the limits and timeouts a public
// server needs: slow clients cannot hold connections, and headers larger
// than 64 KiB are refused by net/http with 431 before they are read whole.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}
