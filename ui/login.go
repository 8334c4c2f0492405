package ui

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
)

// signInPages are the pages of signing in and out and of the
// authorization request: login, consent, for whom the person acts, logout.
type signInPages struct{ *Server }

// mountOIDC adds the protocol endpoints (outside the pages' cross-origin
// check: sites call them from elsewhere) and the login, consent and
// authorization pages.
func (s *signInPages) mountOIDC(r, pages *mux.Router) {
	for _, e := range s.oidc.Provider.Endpoints() {
		r.Handle(e.Path, e.Handler).Methods(e.Methods...)
	}
	// A site may send the person here by a cross-site form post (OIDC Core
	// §3.1.2.1), so /authorize is not behind the cross-origin check; it
	// changes nothing by itself: login and consent are separate pages.
	r.Handle("/authorize", s.loadSession(s.page(s.authorize))).Methods(http.MethodGet, http.MethodPost)
	pages.HandleFunc("/login", s.page(s.loginForm)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/login", s.page(s.login)).Methods(http.MethodPost)
	pages.HandleFunc("/consent", s.page(s.consent)).Methods(http.MethodPost)
	if s.mandates != nil {
		pages.HandleFunc(forWhomPath, s.page(s.chooseForWhom)).Methods(http.MethodPost)
	}
	pages.HandleFunc("/logout", s.page(s.logoutForm)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc("/logout", s.page(s.logout)).Methods(http.MethodPost)
	if s.oidc.TOTP != nil {
		(&totpPages{s}).mountTOTP(pages)
	}
	if len(upstreamOf(s.oidc).clients()) > 0 {
		(&upstreamPages{s}).mount(pages)
	}
	if s.oidc.Recovery != nil {
		(&recoveryPages{s.Server}).mountRecovery(pages)
	}
}

// authorizeQuery is the authorization request as a query string, without
// the prompt value just satisfied, so that returning to /authorize after
// login or consent does not ask again (OIDC Core §3.1.2.1).
func authorizeQuery(form url.Values, satisfied string) string {
	q := url.Values{}
	for k, v := range form {
		q[k] = append([]string(nil), v...)
	}
	if prompts := strings.Fields(q.Get("prompt")); len(prompts) > 0 {
		prompts = slices.DeleteFunc(prompts, func(p string) bool { return p == satisfied })
		if len(prompts) == 0 {
			q.Del("prompt")
		} else {
			q.Set("prompt", strings.Join(prompts, " "))
		}
	}
	return q.Encode()
}

// needsLogin says whether request a asks for a login the session's does
// not give: prompt=login, or a max_age the login is older than, unless the
// login made for this very request (its seal) is there.
func (s *signInPages) needsLogin(a *authz.AuthorizeRequest, sess authn.BrowserSession) bool {
	if s.oidc.Provider.LoginSatisfies(a, sess.AuthTime) {
		return false
	}
	maxAge, ok := a.MaxAge()
	return a.HasPrompt("login") || ok && s.now().Sub(sess.AuthTime) > maxAge
}

func (s *signInPages) authorize(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := s.oidc.Provider
	a, err := p.ParseAuthorize(ctx, r)
	if err != nil {
		if errors.Is(err, mandates.ErrUnavailable) {
			return err
		}
		if !p.AuthorizeError(w, r, a, err) {
			// Unknown site or unregistered return address: never redirect.
			s.log.InfoContext(ctx, "authorization request refused", "err", err)
			s.Error(w, r, http.StatusBadRequest)
		}
		return nil
	}
	r = withUILocales(r, a.Form().Get("ui_locales"))
	sess, signedIn := CurrentSession(ctx)
	// prompt=login and max_age ask for a login made for this request: the
	// one the seal below dates (OIDC Core §3.1.2.1). prompt=login stays in
	// the way back to the login page, so that opening that address without
	// logging in satisfies nothing; LoginDone takes it out once satisfied.
	if !signedIn || s.needsLogin(a, sess) {
		if a.HasPrompt("none") {
			p.AuthorizeError(w, r, a, authz.ErrLoginRequired)
			return nil
		}
		q, err := url.ParseQuery(authorizeQuery(a.Form(), ""))
		if err != nil {
			return statusError(http.StatusBadRequest)
		}
		// The login made now is the one this request asks for, whatever
		// its max_age (OIDC Core §3.1.2.1): without this, max_age=0 would
		// send the person back to the login page forever.
		q.Set(authz.LoginAfterParam, p.SealLoginAfter(a, s.now()))
		back := "/authorize?" + q.Encode()
		http.Redirect(w, r, "/login?"+url.Values{"return": {back}}.Encode(), http.StatusSeeOther)
		return nil
	}
	// The login this request asked for was made (LoginSatisfies above):
	// the request goes on without it.
	a.LoginDone()
	if asked, err := s.askSecondFactorForACR(w, r, a, sess); asked || err != nil {
		return err
	}
	login := authz.Login{PersonID: sess.PersonID, AuthTime: sess.AuthTime, AMR: sess.AMR, ACR: sess.ACR}
	if s.mandates != nil {
		repID, ok := s.actingChoice(w, r, a, sess)
		if !ok {
			return nil
		}
		login.RepresentationID = repID
	}
	var acting *actingData
	if login.RepresentationID != "" {
		if acting, err = s.actingFor(ctx, actor(sess), login.RepresentationID); err != nil {
			// Held through an organisation, chosen with a password only:
			// the code first (DESIGN.md §4), then this same request.
			if errors.Is(err, mandates.ErrSecondFactor) && !a.HasPrompt("none") {
				on, err := s.secondFactorOn(ctx, sess.PersonID)
				if err != nil {
					return err
				}
				if on {
					back := "/authorize?" + authorizeQuery(a.Form(), "")
					http.Redirect(w, r, codePath+"?"+url.Values{"return": {back}}.Encode(), http.StatusSeeOther)
					return nil
				}
			}
			// Ended between the choice and now, or forced without the
			// second factor: the site hears it.
			if errors.Is(err, mandates.ErrInactive) || errors.Is(err, mandates.ErrNotFound) || errors.Is(err, mandates.ErrSecondFactor) {
				p.Authorize(w, r, a, login)
				return nil
			}
			return err
		}
	}
	consent, err := s.oidc.Consents.Consent(ctx, sess.PersonID, a.Client().ID)
	if err != nil && !errors.Is(err, mandates.ErrNotFound) {
		return err
	}
	// Acting for someone, the person confirms what is shared every time:
	// it is another person's information.
	if acting != nil || err != nil || !consent.Covers(a.Scopes()) || a.HasPrompt("consent") {
		if a.HasPrompt("none") {
			p.AuthorizeError(w, r, a, authz.ErrConsentRequired)
			return nil
		}
		allowFormTarget(w, r.Form.Get("redirect_uri"))
		d := s.consentData(r, a, authorizeQuery(a.Form(), "consent"))
		if acting != nil {
			d.Acting, d.Items, d.Sensitive = acting, actingItems(d.Items), false
		}
		s.render(w, r, http.StatusOK, "consent", "consent.title", d)
		return nil
	}
	p.Authorize(w, r, a, login)
	return nil
}

// scopeLabels are the plain words for what a scope shares; a scope without
// a label (openid) shares nothing the person must think about.
var scopeLabels = map[string]string{
	"profile": "scope.profile", "email": "scope.email", "phone": "scope.phone", "address": "scope.address",
	"identite_pivot": "scope.identite_pivot", "protection": "scope.protection", "given_name": "scope.given_name", "family_name": "scope.family_name",
	"preferred_username": "scope.preferred_username", "birthdate": "scope.birthdate", "gender": "scope.gender",
	"birthplace": "scope.birthplace", "birthcountry": "scope.birthcountry", "offline_access": "scope.offline_access",
}

type consentData struct {
	Site    string
	Items   []string // message ids
	Request string
	// Acting says for whom the person acts, when not for themselves.
	Acting *actingData
	// Details are the acts the site asks to do (RFC 9396), in plain words.
	Details []string
	// Sensitive: the site asks which measure protects the person.
	Sensitive bool
}

func (s *signInPages) consentData(r *http.Request, a *authz.AuthorizeRequest, query string) consentData {
	d := consentData{Site: a.Client().Name, Request: query}
	for _, sc := range a.Scopes() {
		if id, ok := scopeLabels[sc]; ok {
			d.Items = append(d.Items, id)
		}
		d.Sensitive = d.Sensitive || sc == authz.ScopeProtection
	}
	lang := requestLang(r)
	for _, det := range a.AuthorizationDetails() {
		var areas []string
		for _, code := range det.ProcedureAreas {
			if a := mandates.Area(code); a.Valid() {
				areas = append(areas, locales.Area(a).In(lang))
			}
		}
		for _, act := range det.Actions {
			line := locales.Action(mandates.Action(act)).In(lang)
			switch {
			case len(areas) > 0 && lang == "en":
				line += ": " + strings.Join(areas, "; ")
			case len(areas) > 0: // French puts a non-breaking space before : and ;
				line += "\u00a0: " + strings.Join(areas, "\u00a0; ")
			}
			d.Details = append(d.Details, line)
		}
	}
	return d
}

// consent records the person's answer, then returns to /authorize, which
// issues the code; or tells the site the person refused.
func (s *signInPages) consent(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	sess, ok := CurrentSession(ctx)
	query := r.PostForm.Get("request")
	if !ok {
		http.Redirect(w, r, "/login?"+url.Values{"return": {"/authorize?" + query}}.Encode(), http.StatusSeeOther)
		return nil
	}
	original, err := http.NewRequestWithContext(ctx, http.MethodGet, "/authorize?"+query, nil)
	if err != nil {
		return statusError(http.StatusBadRequest)
	}
	a, err := s.oidc.Provider.ParseAuthorize(ctx, original)
	if err != nil {
		if !s.oidc.Provider.AuthorizeError(w, original, a, err) {
			s.Error(w, r, http.StatusBadRequest)
		}
		return nil
	}
	if r.PostForm.Get("decision") != "accept" {
		s.oidc.Provider.Deny(w, original, a)
		return nil
	}
	if s.needsLogin(a, sess) {
		// A request that asks for a new login goes through /authorize,
		// which asks for it, before any answer.
		http.Redirect(w, r, "/authorize?"+query, http.StatusSeeOther)
		return nil
	}
	if s.mandates != nil {
		// Acting for someone: the answer holds for this request only, and
		// the grant is made now, with the choice checked once more.
		if choice, ok := s.oidc.Provider.OpenChoice(original.URL.Query().Get(choiceParam), sess.ID, a.Client().ID); ok && choice != authz.ActingSelf {
			s.oidc.Provider.Authorize(w, original, a, authz.Login{PersonID: sess.PersonID, AuthTime: sess.AuthTime, AMR: sess.AMR, ACR: sess.ACR,
				RepresentationID: choice})
			return nil
		}
	}
	err = s.oidc.Consents.SaveConsent(ctx, authn.Consent{PersonID: sess.PersonID, ClientID: a.Client().ID, Scopes: a.Scopes(), GrantedAt: s.now()})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/authorize?"+query, http.StatusSeeOther)
	return nil
}

type loginData struct {
	Return  string
	Email   string
	Site    string
	Problem string // message id of what went wrong, or ""
	Invalid bool   // the problem is in the fields (marked aria-invalid)
	// Empty are the fields left empty, each with its own message, in the
	// order of the form.
	Empty []emptyField
	// Kept says that what the person wrote on a form, sent after their
	// session ended, waits for them after this login (a message id).
	Kept string
	// FranceConnect and ProConnect are the addresses of their buttons,
	// or "" when the deployment offers none (upstream.go).
	FranceConnect, ProConnect string
	// Forgot: « Mot de passe oublié » is offered (recovery.go).
	Forgot bool
}

// emptyField is a required field left empty and the message id that asks
// for it.
type emptyField struct{ Field, Message string }

// EmptyMessage is the message of field when it was left empty, or "".
func (d loginData) EmptyMessage(field string) string {
	for _, e := range d.Empty {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// loginEmpty lists the login's fields left empty: each gets its own
// message, and the password is not checked (an empty form is not a wrong
// password, and does not count as an attempt).
func loginEmpty(email, password string) []emptyField {
	var out []emptyField
	if email == "" {
		out = append(out, emptyField{"email", "form.login.email_empty"})
	}
	if password == "" {
		out = append(out, emptyField{"password", "form.login.password_empty"})
	}
	return out
}

// returnPath keeps the page to go back to after login on this site.
func returnPath(v string) string {
	if v == "" {
		return "/"
	}
	return localPath(v)
}

// siteName names the site a return URL is an authorization request of.
func (s *signInPages) siteName(ctx context.Context, ret string) string {
	u, err := url.Parse(ret)
	if err != nil || u.Path != "/authorize" {
		return ""
	}
	c, err := s.oidc.Clients.Client(ctx, u.Query().Get("client_id"))
	if err != nil {
		return ""
	}
	return c.Name
}

func (s *signInPages) loginForm(w http.ResponseWriter, r *http.Request) error {
	ret := returnPath(r.URL.Query().Get("return"))
	email := ""
	if u, err := url.Parse(ret); err == nil {
		email = u.Query().Get("login_hint")
	}
	// Back from the language switch: the address and the way back the
	// person had (keep.go); never the password.
	if kept, _ := s.keeping().keptForm(w, r); kept != nil {
		ret, email = returnPath(kept.Get("return")), strings.TrimSpace(kept.Get("email"))
	}
	if u, err := url.Parse(ret); err == nil {
		allowFormTarget(w, u.Query().Get("redirect_uri"))
	}
	s.render(w, r, http.StatusOK, "login", "login.title", loginData{Return: ret, Email: email, Site: s.siteName(r.Context(), ret),
		Kept: s.keeping().keptNotice(r, ret), FranceConnect: upstreamOf(s.oidc).franceConnectStart(ret), ProConnect: upstreamOf(s.oidc).proConnectStart(ret),
		Forgot: s.oidc.Recovery != nil})
	return nil
}

func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *signInPages) login(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	d := loginData{Return: returnPath(r.PostForm.Get("return")), Email: strings.TrimSpace(r.PostForm.Get("email")), Forgot: s.oidc.Recovery != nil}
	d.Site = s.siteName(ctx, d.Return)
	d.Kept = s.keeping().keptNotice(r, d.Return)
	d.FranceConnect, d.ProConnect = upstreamOf(s.oidc).franceConnectStart(d.Return), upstreamOf(s.oidc).proConnectStart(d.Return)
	if u, err := url.Parse(d.Return); err == nil {
		allowFormTarget(w, u.Query().Get("redirect_uri"))
	}
	if d.Empty = loginEmpty(d.Email, r.PostForm.Get("password")); len(d.Empty) > 0 {
		s.render(w, r, http.StatusBadRequest, "login", "login.title", d)
		return nil
	}
	person, err := s.oidc.Auth.Authenticate(ctx, d.Email, r.PostForm.Get("password"), clientAddress(r))
	switch {
	case errors.Is(err, authn.ErrBadCredentials):
		d.Problem, d.Invalid = "login.bad_credentials", true
		s.render(w, r, http.StatusUnauthorized, "login", "login.title", d)
		return nil
	case errors.Is(err, authn.ErrTooManyAttempts):
		d.Problem, d.Invalid = "login.too_many", true
		w.Header().Set("Retry-After", "900")
		s.render(w, r, http.StatusTooManyRequests, "login", "login.title", d)
		return nil
	case err != nil:
		return err
	}
	// A deployment may send professionals to ProConnect (upstream.go).
	if ok, err := s.loginAllowed(w, r, person.ID, mandates.LoginPassword, d.Return); !ok || err != nil {
		return err
	}
	if s.oidc.TOTP != nil {
		active, err := s.oidc.TOTP.Active(ctx, person.ID)
		if err != nil {
			return err
		}
		if active {
			return s.startPendingLogin(w, r, authn.PendingLogin{PersonID: person.ID, AMR: []string{"pwd"}}, d.Return)
		}
	}
	return s.startSession(w, r, authn.BrowserSession{PersonID: person.ID, AMR: []string{"pwd"}}, d.Return)
}

// startSession signs the browser in as sess says (its person, its amr
// saying how, RFC 8176, and for a login through an upstream provider its
// ACR, Upstream and UpstreamIDToken), and goes back to ret. Its ID and
// times are set here.
func (s *signInPages) startSession(w http.ResponseWriter, r *http.Request, sess authn.BrowserSession, ret string) error {
	ctx := r.Context()
	now := s.now().UTC()
	token, id := authn.NewSessionToken()
	sess.ID, sess.AuthTime, sess.CreatedAt, sess.ExpiresAt = id, now, now, now.Add(s.oidc.SessionTTL)
	err := s.sessions.CreateSession(ctx, sess)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(s.oidc.SessionTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.log.InfoContext(ctx, "login", "person_id", sess.PersonID, "amr", strings.Join(sess.AMR, " "), "upstream", sess.Upstream)
	http.Redirect(w, r, ret, http.StatusSeeOther)
	return nil
}

// formError is the answer to a form that could not be read.
func formError(err error) error {
	if IsTooLarge(err) {
		return statusError(http.StatusRequestEntityTooLarge)
	}
	return statusError(http.StatusBadRequest)
}
