package main

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

//go:embed templates/*.html site.css
var files embed.FS

// Site is the demo public-service site: its pages, its sessions, and what
// it learned from Relais.
type Site struct {
	cfg      config
	log      *slog.Logger
	http     *http.Client
	now      func() time.Time
	sessions *sessionStore
	pages    map[string]*template.Template
	css      []byte
	origin   *url.URL // scheme and host of the registered redirect URI
	secure   bool     // cookies only over https
	handler  http.Handler

	mu sync.Mutex
	op *relais // nil until discovery succeeds
}

func newSite(cfg config, log *slog.Logger) *Site {
	origin, _ := url.Parse(cfg.RedirectURL)
	s := &Site{cfg: cfg, log: log, now: time.Now,
		// Every call to Relais has a deadline: a slow Relais slows a page,
		// it never hangs it.
		http:   &http.Client{Timeout: 10 * time.Second},
		origin: &url.URL{Scheme: origin.Scheme, Host: origin.Host}, secure: origin.Scheme == "https",
		pages: map[string]*template.Template{}}
	s.sessions = newSessionStore(func() time.Time { return s.now() })
	for _, p := range []string{"home", "account", "act", "error"} {
		s.pages[p] = template.Must(template.ParseFS(files, "templates/layout.html", "templates/"+p+".html"))
	}
	s.css, _ = files.ReadFile("site.css")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /connexion", s.startLogin)
	mux.HandleFunc("GET /callback", s.callback)
	mux.HandleFunc("GET /compte", s.account)
	mux.HandleFunc("POST /actes/{act}", s.doAct)
	mux.HandleFunc("GET /actes/{act}", s.showAct)
	mux.HandleFunc("POST /actes/{act}/accord", s.askAgreement)
	mux.HandleFunc("POST /actes/{act}/verifier", s.checkAgreement)
	mux.HandleFunc("POST /deconnexion", s.logout)
	mux.HandleFunc("GET /langue", s.switchLanguage)
	mux.HandleFunc("GET /site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(s.css)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.fail(w, r, http.StatusNotFound, "err_notfound") })

	// The site's forms post to the site only: a POST from another origin
	// is refused (CSRF), with the site's own error page.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "err_badrequest")
	}))
	s.handler = csrf.Handler(mux)
	return s
}

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Forms may send the browser on to Relais (sign-out): form-action
	// allows Relais's origin, as browsers check it on redirects too.
	issuer, _ := url.Parse(s.cfg.Issuer)
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' "+
		issuer.Scheme+"://"+issuer.Host)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	s.handler.ServeHTTP(w, r)
}

// account is the signed-in state: whose account is open (Sub), who acts
// (Actor, nil when the person acts for themselves) and under which
// representation.
type account struct {
	Sub            string
	Person         string // the account's person's name, "" when Relais gave none
	Actor          *actClaim
	Representation *representationClaim
	IDToken        string // for id_token_hint at sign-out
	AccessToken    string // the actor's, to report the acts done
	Expires        time.Time
}

// ActorSub is who acts, as this site knows them: the evaluation's subject.
func (a *account) ActorSub() string {
	if a.Actor != nil {
		return a.Actor.Sub
	}
	return a.Sub
}

// actClaim is RFC 8693 §4.1's act, with the names Relais adds.
type actClaim struct {
	Sub               string `json:"sub"`
	Name              string `json:"name"`
	GivenName         string `json:"given_name"`
	FamilyName        string `json:"family_name"`
	PreferredUsername string `json:"preferred_username"`
	Organisation      *struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"organisation"`
}

// representationClaim says under which representation the actor acts, and
// what it allows in general (the evaluation answers for one act and area).
type representationClaim struct {
	ID             string            `json:"id"`
	Kind           string            `json:"kind"`
	Role           string            `json:"role"`
	RoleLabel      map[string]string `json:"role_label"`
	Actions        map[string]string `json:"actions"` // allowed, cosign or no
	ProcedureAreas []string          `json:"procedure_areas"`
	ValidUntil     int64             `json:"valid_until"` // Unix seconds, 0 when open-ended
}

// actState is where one act stands in a session.
type actState struct {
	Answer         string            // allowed, cosign or no
	Reason         map[string]string // fr, en
	CheckedAt      time.Time
	DoneAt         time.Time // when the act was done; zero when not
	CosignEndpoint string    // for cosign: where to open the request
	AgreementOf    string    // for cosign: represented_person or representative
	Cosign         *cosignState
	Notice         string // a words key shown once, e.g. still_pending
}

type cosignState struct {
	ID, StatusURL, Status string
	ExpiresAt             time.Time
}

// view is what every page template gets.
type view struct {
	Lang, Other string
	T           map[string]string
	Title       string
	Path        string // this page, for the language switch
	Space       string // the person's own space at Relais, linked from the pages of a signed-in person
	Data        any
}

func lang(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == "en" {
		return "en"
	}
	return "fr"
}

const langCookie = "demo_site_lang"

func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	l := lang(r)
	v := view{Lang: l, Other: "en", T: tr(l), Title: title, Path: r.URL.Path, Space: s.cfg.Issuer + "/espace", Data: data}
	if l == "en" {
		v.Other = "fr"
	}
	if r.Method != http.MethodGet {
		v.Path = "/"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.pages[page].ExecuteTemplate(w, "layout", v); err != nil {
		s.log.ErrorContext(r.Context(), "render", "page", page, "err", err)
	}
}

// errorView is an error page: what went wrong, what to do now.
type errorView struct {
	Heading, What, Next string
	Login               bool   // offer to sign in again
	Back, BackLabel     string // where to go instead
}

// fail shows the error page named by key (err_state, err_login…).
func (s *Site) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	l := lang(r)
	suffix := func(n string) string {
		if key == "err_badrequest" {
			return n // err_badrequest1, err_badrequest2
		}
		return "_" + n
	}
	d := errorView{Heading: words[key].in(l), What: words[key+suffix("1")].in(l), Next: words[key+suffix("2")].in(l),
		Back: "/", BackLabel: words["home_link"].in(l)}
	switch key {
	case "err_refused", "err_state", "err_login", "err_expired", "err_stopped":
		d.Login = true
	case "err_eval", "err_badrequest":
		d.Back, d.BackLabel = "/compte", words["back"].in(l)
	}
	s.render(w, r, status, "error", d.Heading, d)
}

// failRelais logs why a call to Relais failed (ids and codes only) and
// shows the page for it: Relais unreachable, or the check refused.
func (s *Site) failRelais(w http.ResponseWriter, r *http.Request, step string, err error) {
	var re *relaisError
	if errors.As(err, &re) {
		s.log.WarnContext(r.Context(), "relais refused", "step", step, "status", re.Status, "error", re.Code, "error_description", re.Description)
		s.fail(w, r, http.StatusBadGateway, "err_eval")
		return
	}
	s.log.WarnContext(r.Context(), "relais unreachable", "step", step, "err", err)
	s.fail(w, r, http.StatusBadGateway, "err_relais")
}

type homeView struct{ SignedIn bool }

func (s *Site) home(w http.ResponseWriter, r *http.Request) {
	sess := s.sessions.open(r)
	signedIn := sess != nil && sess.account != nil
	if sess != nil {
		sess.mu.Unlock()
	}
	s.render(w, r, http.StatusOK, "home", words["home_title"].in(lang(r)), homeView{SignedIn: signedIn})
}

// startLogin sends the browser to Relais: the code flow with PKCE (S256),
// a state bound to this browser's session and a nonce for the ID token.
func (s *Site) startLogin(w http.ResponseWriter, r *http.Request) {
	// The session cookie belongs to the host of the redirect URI: a login
	// started from another name of this machine (127.0.0.1 for localhost)
	// would come back to a browser without it.
	if r.Host != s.origin.Host {
		http.Redirect(w, r, s.origin.String()+"/connexion", http.StatusFound)
		return
	}
	op, err := s.relais(r.Context())
	if err != nil {
		s.failRelais(w, r, "discovery", err)
		return
	}
	if old := s.sessions.open(r); old != nil {
		s.sessions.drop(w, old, s.secure)
		old.mu.Unlock()
	}
	sess := s.sessions.create(w, s.secure, loginTTL)
	defer sess.mu.Unlock()
	login := &pendingLogin{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier()}
	sess.login = login
	opts := []oauth2.AuthCodeOption{oidc.Nonce(login.Nonce), oauth2.S256ChallengeOption(login.Verifier)}
	if lang(r) == "en" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", "en"))
	}
	http.Redirect(w, r, op.oauth.AuthCodeURL(login.State, opts...), http.StatusFound)
}

// callback is where Relais sends the browser back: check the state, then
// the iss parameter (RFC 9207), exchange the code with the PKCE verifier,
// verify the ID token (signature, iss, aud, exp, nonce), and read who the
// account is and who acts.
func (s *Site) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	sess := s.sessions.open(r)
	if sess == nil {
		s.fail(w, r, http.StatusBadRequest, "err_state")
		return
	}
	defer sess.mu.Unlock()
	login := sess.login
	sess.login = nil // a state works once
	if login == nil || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(login.State)) != 1 {
		s.fail(w, r, http.StatusBadRequest, "err_state")
		return
	}
	if e := q.Get("error"); e != "" {
		s.log.InfoContext(ctx, "login refused at relais", "error", e, "error_description", q.Get("error_description"))
		if e == "access_denied" {
			s.fail(w, r, http.StatusForbidden, "err_refused")
			return
		}
		s.fail(w, r, http.StatusBadRequest, "err_login")
		return
	}
	op, err := s.relais(ctx)
	if err != nil {
		s.failRelais(w, r, "discovery", err)
		return
	}
	if iss := q.Get("iss"); iss != s.cfg.Issuer && (iss != "" || op.meta.ISSParameter) {
		s.log.WarnContext(ctx, "login: wrong iss in the authorization response")
		s.fail(w, r, http.StatusBadRequest, "err_login")
		return
	}
	a, err := s.signIn(oidc.ClientContext(ctx, s.http), op, q.Get("code"), login)
	if err != nil {
		s.log.WarnContext(ctx, "login failed", "err", err)
		s.fail(w, r, http.StatusBadRequest, "err_login")
		return
	}
	// A new session id at sign-in: an id set before it (session fixation)
	// opens nothing.
	s.sessions.drop(w, sess, s.secure)
	next := s.sessions.create(w, s.secure, a.Expires.Sub(s.now()))
	next.account = a
	next.mu.Unlock()
	http.Redirect(w, r, "/compte", http.StatusSeeOther)
}

// signIn redeems the code and reads the account from the ID token and
// userinfo.
func (s *Site) signIn(ctx context.Context, op *relais, code string, login *pendingLogin) (*account, error) {
	if code == "" {
		return nil, errors.New("no code")
	}
	tok, err := op.oauth.Exchange(context.WithValue(ctx, oauth2.HTTPClient, s.http), code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("no id_token in the token response")
	}
	idt, err := op.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(login.Nonce)) != 1 {
		return nil, errors.New("the ID token's nonce is not this login's")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, err
		}
	}
	var claims struct {
		Act            *actClaim            `json:"act"`
		Representation *representationClaim `json:"representation"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, err
	}
	if claims.Act != nil && claims.Act.Sub == "" {
		return nil, errors.New("act without sub")
	}
	// Identity claims come from userinfo; they describe the account's
	// person, never the actor.
	info, err := op.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, err
	}
	if info.Subject != idt.Subject {
		return nil, errors.New("userinfo's sub is not the ID token's") // OIDC Core §5.3.2
	}
	var names struct {
		Name              string `json:"name"`
		GivenName         string `json:"given_name"`
		FamilyName        string `json:"family_name"`
		PreferredUsername string `json:"preferred_username"`
	}
	if err := info.Claims(&names); err != nil {
		return nil, err
	}
	expires := tok.Expiry
	if expires.IsZero() || expires.After(idt.Expiry) && !idt.Expiry.IsZero() {
		expires = idt.Expiry
	}
	return &account{Sub: idt.Subject, Person: displayName(names.Name, names.GivenName, names.FamilyName, names.PreferredUsername),
		Actor: claims.Act, Representation: claims.Representation, IDToken: raw, AccessToken: tok.AccessToken, Expires: expires}, nil
}

// signedIn returns the session of a signed-in browser, locked, or shows
// the "session ended" page. The session ends with the access token: then
// the person signs in again (this site does not refresh tokens).
func (s *Site) signedIn(w http.ResponseWriter, r *http.Request) *session {
	sess := s.sessions.open(r)
	if sess != nil && sess.account == nil {
		sess.mu.Unlock()
		sess = nil
	}
	if sess == nil {
		s.fail(w, r, http.StatusUnauthorized, "err_expired")
	}
	return sess
}

// accountView is the account page: whose account, who acts, what the
// representation allows, the acts.
type accountView struct {
	Heading, Who string
	Acting       bool
	ActingNote   string
	AllowsTitle  string
	Kind         string
	Can, Cannot  []string
	CanWith      []string
	CanWithTitle string
	Until        string
	Areas        []string
	Acts         []actLink
}

type actLink struct{ Slug, Label, Hint string }

// personName is the account's person as pages name them.
func personName(a *account, l string) string {
	if a.Person != "" {
		return a.Person
	}
	if a.Actor == nil {
		return ""
	}
	return words["someone"].in(l)
}

// whoActs is "Marie Martin, tuteur ou tutrice, pour Jeanne Lefèvre": the
// actor's names and role, then the account's person. Never the actor's
// name as the account's.
func whoActs(a *account, l string) string {
	actor := displayName(a.Actor.Name, a.Actor.GivenName, a.Actor.FamilyName, a.Actor.PreferredUsername)
	person := personName(a, l)
	role := ""
	if a.Representation != nil {
		role = a.Representation.RoleLabel[l]
		if l == "fr" {
			role = lowerFirst(role)
		}
	}
	switch {
	case role == "":
		return trf(l, "who_acting_bare", actor, person)
	case a.Actor.Organisation != nil && a.Actor.Organisation.Name != "":
		return trf(l, "who_acting_org", actor, role, a.Actor.Organisation.Name, person)
	}
	return trf(l, "who_acting", actor, role, person)
}

func (s *Site) account(w http.ResponseWriter, r *http.Request) {
	sess := s.signedIn(w, r)
	if sess == nil {
		return
	}
	defer sess.mu.Unlock()
	a, l := sess.account, lang(r)
	switch granted, err := s.stillGranted(r.Context(), a); {
	case err != nil:
		s.failRelais(w, r, "userinfo", err)
		return
	case !granted:
		// The rights this page would list were stopped at Relais (a proxy
		// stopped, a measure ended): the site forgets them at once.
		s.sessions.drop(w, sess, s.secure)
		s.fail(w, r, http.StatusUnauthorized, "err_stopped")
		return
	}
	person := personName(a, l)
	d := accountView{Heading: trf(l, "account_title", person), Who: words["who_self"].in(l)}
	if person == "" {
		d.Heading = map[string]string{"fr": "Votre compte", "en": "Your account"}[l]
	}
	if a.Actor != nil {
		d.Acting, d.Who = true, whoActs(a, l)
		d.ActingNote = trf(l, "acting_note", person)
		d.AllowsTitle = trf(l, "allows_title", person)
		d.CanWithTitle = trf(l, "can_with", person)
		if rep := a.Representation; rep != nil {
			d.Kind = trf(l, "allows_kind", wordOr(kindWords, rep.Kind, l))
			for _, action := range []string{"consult", "manage", "dispose", "personal"} {
				label := wordOr(actionWords, action, l)
				switch rep.Actions[action] {
				case "allowed":
					d.Can = append(d.Can, label)
				case "cosign":
					d.CanWith = append(d.CanWith, label)
				default:
					d.Cannot = append(d.Cannot, label)
				}
			}
			if rep.ValidUntil > 0 {
				d.Until = trf(l, "until", formatDate(time.Unix(rep.ValidUntil, 0), l))
			}
			for _, act := range acts {
				label := wordOr(areaWords, act.Area, l)
				if slices.Contains(rep.ProcedureAreas, act.Area) && !slices.Contains(d.Areas, label) {
					d.Areas = append(d.Areas, label)
				}
			}
		}
	}
	for _, act := range acts {
		d.Acts = append(d.Acts, actLink{Slug: act.Slug, Label: act.Label.in(l), Hint: act.Hint.in(l)})
	}
	s.render(w, r, http.StatusOK, "account", d.Heading, d)
}

// doAct asks Relais whether the act may be done now, and does it only when
// the answer is true. The answer, and what was done, is shown on the
// act's page (post, redirect, get).
func (s *Site) doAct(w http.ResponseWriter, r *http.Request) {
	act, ok := actBySlug(r.PathValue("act"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "err_notfound")
		return
	}
	sess := s.signedIn(w, r)
	if sess == nil {
		return
	}
	defer sess.mu.Unlock()
	d, err := s.evaluate(r.Context(), sess.account, act, "")
	if err != nil {
		s.failRelais(w, r, "evaluation", err)
		return
	}
	st := s.record(d)
	if !st.DoneAt.IsZero() {
		s.reportAct(r.Context(), sess.account, act, st.DoneAt, "")
	}
	if d.Context.Cosignature != nil {
		st.CosignEndpoint, st.AgreementOf = d.Context.Cosignature.Endpoint, d.Context.Cosignature.AgreementOf
	}
	sess.acts[act.Slug] = st
	http.Redirect(w, r, "/actes/"+act.Slug, http.StatusSeeOther)
}

// record turns an answer into the act's state, doing the act when the
// decision is true. Only the decision says yes: the context explains.
func (s *Site) record(d decision) *actState {
	now := s.now()
	st := &actState{Answer: d.Context.Answer, Reason: d.Context.Reason, CheckedAt: now}
	if d.Decision {
		st.Answer, st.DoneAt = "allowed", now // here a real site does the act
	} else if st.Answer == "allowed" || st.Answer == "" {
		st.Answer = "no"
	}
	return st
}

// fromRelais says whether an address Relais gave is Relais's own: the
// site sends its credentials there.
func (s *Site) fromRelais(u string) bool {
	return strings.HasPrefix(u, s.cfg.Issuer+"/")
}

// askAgreement opens a co-signature request for this one act.
func (s *Site) askAgreement(w http.ResponseWriter, r *http.Request) {
	act, ok := actBySlug(r.PathValue("act"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "err_notfound")
		return
	}
	sess := s.signedIn(w, r)
	if sess == nil {
		return
	}
	defer sess.mu.Unlock()
	st := sess.acts[act.Slug]
	if st == nil || st.Answer != "cosign" {
		http.Redirect(w, r, "/actes/"+act.Slug, http.StatusSeeOther)
		return
	}
	if !s.fromRelais(st.CosignEndpoint) {
		s.failRelais(w, r, "cosignature", errors.New("the co-signature endpoint is not Relais's"))
		return
	}
	name := sess.account.Person
	if name == "" {
		name = "la personne"
	}
	c, statusURL, err := s.openCosignature(r.Context(), st.CosignEndpoint, sess.account, act, strings.ReplaceAll(act.Description, "%s", name))
	if err == nil && !s.fromRelais(statusURL) {
		err = errors.New("the co-signature's address is not Relais's")
	}
	if err != nil {
		s.failRelais(w, r, "cosignature", err)
		return
	}
	st.Cosign = &cosignState{ID: c.ID, StatusURL: statusURL, Status: c.Status}
	st.Cosign.ExpiresAt, _ = time.Parse(time.RFC3339, c.ExpiresAt)
	if c.AgreementOf != "" {
		st.AgreementOf = c.AgreementOf
	}
	http.Redirect(w, r, "/actes/"+act.Slug, http.StatusSeeOther)
}

// checkAgreement is "Vérifier l’accord": read the request's status; once
// approved, evaluate the act again with the co-signature, which Relais
// answers true once.
func (s *Site) checkAgreement(w http.ResponseWriter, r *http.Request) {
	act, ok := actBySlug(r.PathValue("act"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "err_notfound")
		return
	}
	sess := s.signedIn(w, r)
	if sess == nil {
		return
	}
	defer sess.mu.Unlock()
	st := sess.acts[act.Slug]
	if st == nil || st.Cosign == nil {
		http.Redirect(w, r, "/actes/"+act.Slug, http.StatusSeeOther)
		return
	}
	c, err := s.cosignatureStatus(r.Context(), st.Cosign.StatusURL)
	if err != nil {
		s.failRelais(w, r, "cosignature status", err)
		return
	}
	st.Cosign.Status = c.Status
	switch c.Status {
	case "approved":
		d, err := s.evaluate(r.Context(), sess.account, act, c.ID)
		if err != nil {
			s.failRelais(w, r, "evaluation", err)
			return
		}
		next := s.record(d)
		next.CosignEndpoint, next.AgreementOf = st.CosignEndpoint, st.AgreementOf
		if !next.DoneAt.IsZero() {
			s.reportAct(r.Context(), sess.account, act, next.DoneAt, c.ID)
		}
		if !d.Decision {
			next.Answer = "cosign" // ask again: the agreement could not serve
		}
		sess.acts[act.Slug] = next
	case "pending":
		st.Notice = "still_pending"
	}
	http.Redirect(w, r, "/actes/"+act.Slug, http.StatusSeeOther)
}

// actView is an act's page.
type actView struct {
	Slug, Heading, ForPerson string
	// State is done, no, cosign (agreement to ask for), pending,
	// refused or expired (agreement asked for).
	State             string
	DoneText, File    string
	Reason, CheckedAt string
	Who               string // who must agree, in a sentence
	Until             string
	Notice            string
	FileRows          [][2]string
}

func (s *Site) showAct(w http.ResponseWriter, r *http.Request) {
	act, ok := actBySlug(r.PathValue("act"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "err_notfound")
		return
	}
	sess := s.signedIn(w, r)
	if sess == nil {
		return
	}
	defer sess.mu.Unlock()
	st := sess.acts[act.Slug]
	if st == nil {
		http.Redirect(w, r, "/compte", http.StatusSeeOther)
		return
	}
	l := lang(r)
	a := sess.account
	person := personName(a, l)
	d := actView{Slug: act.Slug, Heading: act.Label.in(l), Reason: trf(l, "relais_said", st.Reason[l]),
		CheckedAt: trf(l, "result_at", formatDate(st.CheckedAt, l), formatTime(st.CheckedAt, l))}
	if person != "" {
		d.ForPerson = trf(l, "for_person", person)
	}
	if st.Reason[l] == "" {
		d.Reason = ""
	}
	who := words["your_rep"].in(l)
	if st.AgreementOf == "represented_person" && person != "" {
		who = person
	}
	d.Who = trf(l, "cosign_who", upperFirst(who))
	switch {
	case !st.DoneAt.IsZero():
		d.State = "done"
		switch act.Action {
		case "consult":
			d.DoneText = trf(l, "done_consult", person)
			d.FileRows = [][2]string{{words["file_benefit"].in(l), words["file_amount"].in(l)}, {words["file_next"].in(l), words["file_next_date"].in(l)}}
		case "manage":
			d.DoneText = trf(l, "done_manage", person, formatDate(st.DoneAt, l), formatTime(st.DoneAt, l))
		default:
			d.DoneText = trf(l, "done_dispose", person, formatDate(st.DoneAt, l), formatTime(st.DoneAt, l))
		}
	case st.Answer == "cosign" && st.Cosign != nil:
		d.State = st.Cosign.Status // pending, refused, used, expired
		if d.State == "used" {
			d.State = "expired"
		}
		if !st.Cosign.ExpiresAt.IsZero() {
			d.Until = trf(l, "pending_until", formatDate(st.Cosign.ExpiresAt, l), formatTime(st.Cosign.ExpiresAt, l))
		}
	case st.Answer == "cosign" && s.fromRelais(st.CosignEndpoint):
		d.State = "cosign"
	default:
		d.State = "no"
	}
	if st.Notice != "" {
		d.Notice = words[st.Notice].in(l)
		st.Notice = ""
	}
	s.render(w, r, http.StatusOK, "act", d.Heading, d)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// logout ends the session here, then at Relais (RP-Initiated Logout 1.0),
// which sends the browser back to the home page.
func (s *Site) logout(w http.ResponseWriter, r *http.Request) {
	hint := ""
	if sess := s.sessions.open(r); sess != nil {
		if sess.account != nil {
			hint = sess.account.IDToken
		}
		s.sessions.drop(w, sess, s.secure)
		sess.mu.Unlock()
	}
	op, err := s.relais(r.Context())
	if err != nil || op.meta.EndSession == "" || hint == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	q := url.Values{"id_token_hint": {hint}, "client_id": {s.cfg.ClientID}, "post_logout_redirect_uri": {s.cfg.PostLogoutURL},
		"ui_locales": {lang(r)}}
	http.Redirect(w, r, op.meta.EndSession+"?"+q.Encode(), http.StatusSeeOther)
}

// switchLanguage remembers the language and goes back to the page.
func (s *Site) switchLanguage(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("l")
	if l != "en" {
		l = "fr"
	}
	back := r.URL.Query().Get("retour")
	// Only a path of this site: never an open redirect.
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, `\`) {
		back = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, back, http.StatusSeeOther)
}
