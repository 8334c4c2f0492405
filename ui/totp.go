package ui

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// The second factor's pages. A login whose password is right, for a
// person with the second factor on, becomes a pending login in the store
// (authn.PendingLogin): the browser gets only a random token in a cookie
// limited to /login, the store keeps its SHA-256, and the session is made
// when a code is accepted, by whichever instance gets that request.
const (
	pendingCookie = "relais_pending_login"
	totpPath      = "/compte/double-authentification"
	codePath      = "/login/code"
	recoveryPath  = "/login/recovery"
	// recentLogin is how fresh a login must be to set up the second
	// factor, so a session left open on a shared computer cannot tie the
	// account to someone else's phone.
	recentLogin = 15 * time.Minute
)

// totpPages are the second factor's pages: the code after the password,
// a step-up, and turning the code on and off. They use the sign-in pages'
// helpers (siteName, startSession).
type totpPages struct{ *signInPages }

func (s *totpPages) mountTOTP(pages *mux.Router) {
	pages.HandleFunc(codePath, s.page(s.codeForm)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc(codePath, s.page(s.codeLogin)).Methods(http.MethodPost)
	pages.HandleFunc(recoveryPath, s.page(s.codeForm)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc(recoveryPath, s.page(s.codeLogin)).Methods(http.MethodPost)
	pages.HandleFunc(totpPath, s.page(s.totpPage)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc(totpPath, s.page(s.totpConfirm)).Methods(http.MethodPost)
	pages.HandleFunc(totpPath+"/commencer", s.page(s.totpBegin)).Methods(http.MethodPost)
	pages.HandleFunc(totpPath+"/qr.png", s.page(s.totpQR)).Methods(http.MethodGet, http.MethodHead)
	pages.HandleFunc(totpPath+"/arreter", s.page(s.totpDisable)).Methods(http.MethodPost)
}

// startPendingLogin keeps the login open until the second factor, and
// sends the browser to the code page. p is what the first step proved:
// the person and the amr, and for a login through an upstream provider
// its ACR, Upstream and UpstreamIDToken, which the session keeps.
func (s *signInPages) startPendingLogin(w http.ResponseWriter, r *http.Request, p authn.PendingLogin, ret string) error {
	token, err := s.oidc.TOTP.StartLoginOf(r.Context(), p)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: token, Path: "/login", MaxAge: int(s.oidc.TOTP.PendingTTL().Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.log.InfoContext(r.Context(), "first step accepted, code to come", "person_id", p.PersonID, "upstream", p.Upstream)
	http.Redirect(w, r, codePath+"?"+url.Values{"return": {ret}}.Encode(), http.StatusSeeOther)
	return nil
}

func (s *totpPages) clearPendingCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: pendingCookie, Value: "", Path: "/login", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

type codeData struct {
	Return   string
	Site     string
	Recovery bool   // a recovery code rather than the app's
	Other    string // the page for the other kind of code
	Problem  string // message id of what went wrong, or ""
	// StepUp: the person is signed in with their password only, and gives
	// the code to act for an organisation (see stepUp).
	StepUp bool
}

func (s *totpPages) newCodeData(w http.ResponseWriter, r *http.Request, ret string) codeData {
	d := codeData{Return: returnPath(ret), Recovery: r.URL.Path == recoveryPath}
	d.Site = s.siteName(r.Context(), d.Return)
	allowReturnTarget(w, d.Return)
	other := recoveryPath
	if d.Recovery {
		other = codePath
	}
	d.Other = other + "?" + url.Values{"return": {d.Return}}.Encode()
	return d
}

// allowReturnTarget lets the code form's answer reach the site when ret
// is an authorization request (its redirects end there: see
// allowFormTarget).
func allowReturnTarget(w http.ResponseWriter, ret string) {
	if u, err := url.Parse(ret); err == nil {
		allowFormTarget(w, u.Query().Get("redirect_uri"))
	}
}

// title is the page's title; with a problem, the layout puts « Erreur : »
// before it (render).
func (d codeData) title(bool) string {
	switch {
	case d.Recovery:
		return "totp.recovery.title"
	case d.StepUp:
		return "totp.stepup.title"
	}
	return "totp.login.title"
}

// pendingLogin reads the pending login the cookie names. When there is
// none (expired, finished, or never started), the person gives the
// password again: the login page says why.
func (s *totpPages) pendingLogin(w http.ResponseWriter, r *http.Request, ret string) (authn.PendingLogin, string, bool) {
	var token string
	if c, err := r.Cookie(pendingCookie); err == nil {
		token = c.Value
	}
	p, err := s.oidc.TOTP.PendingLogin(r.Context(), token)
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		s.clearPendingCookie(w)
		allowReturnTarget(w, returnPath(ret))
		s.render(w, r, http.StatusOK, "login", "login.title", loginData{Return: returnPath(ret),
			Site: s.siteName(r.Context(), returnPath(ret)), Problem: "totp.expired"})
		return p, "", false
	case err != nil:
		s.StoreError(w, r, err)
		return p, "", false
	}
	return p, token, true
}

func (s *totpPages) codeForm(w http.ResponseWriter, r *http.Request) error {
	ret := r.URL.Query().Get("return")
	_, up, done := s.stepUp(w, r, ret)
	if done {
		return nil
	}
	if !up {
		if _, _, ok := s.pendingLogin(w, r, ret); !ok {
			return nil
		}
	}
	d := s.newCodeData(w, r, ret)
	d.StepUp = up
	s.render(w, r, http.StatusOK, "totp_login", d.title(false), d)
	return nil
}

// codeLogin checks the app's code (or a recovery code) of a pending login
// and, when it is right, makes the session: amr says both factors. For a
// step-up, the signed-in session gains the second factor instead.
func (s *totpPages) codeLogin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	ret := r.PostForm.Get("return")
	sess, up, done := s.stepUp(w, r, ret)
	if done {
		return nil
	}
	var pending authn.PendingLogin
	var token string
	if up {
		pending.PersonID = sess.PersonID
	} else {
		var ok bool
		if pending, token, ok = s.pendingLogin(w, r, ret); !ok {
			return nil
		}
	}
	d := s.newCodeData(w, r, ret)
	d.StepUp = up
	code := strings.TrimSpace(r.PostForm.Get("code"))
	var err error
	switch {
	case code == "":
		d.Problem = "totp.missing"
		s.render(w, r, http.StatusBadRequest, "totp_login", d.title(true), d)
		return nil
	case d.Recovery:
		err = s.oidc.TOTP.UseRecoveryCode(authn.WithAddress(ctx, clientAddress(r)), pending.PersonID, code)
	default:
		err = s.oidc.TOTP.Verify(authn.WithAddress(ctx, clientAddress(r)), pending.PersonID, code)
	}
	if err != nil {
		if d.Problem = codeProblem(err, d.Recovery); d.Problem == "" {
			return err
		}
		s.render(w, r, codeStatus(w, err), "totp_login", d.title(true), d)
		return nil
	}
	if up {
		return s.raiseSession(w, r, sess, d.Return)
	}
	// Finishing takes the pending login out of the store: a second request
	// with the same cookie cannot make a second session.
	if _, err := s.oidc.TOTP.FinishLogin(ctx, token); errors.Is(err, mandates.ErrNotFound) {
		s.pendingLogin(w, r, ret)
		return nil
	} else if err != nil {
		return err
	}
	s.clearPendingCookie(w)
	if d.Recovery {
		s.log.InfoContext(ctx, "recovery code used", "person_id", pending.PersonID)
	}
	// A recovery code is a one-time password too (RFC 8176 §2: "otp").
	return s.startSession(w, r, authn.BrowserSession{PersonID: pending.PersonID, AMR: append(pending.AMR, "otp"),
		ACR: pending.ACR, Upstream: pending.Upstream, UpstreamIDToken: pending.UpstreamIDToken}, d.Return)
}

// secondFactorOn says whether the person has turned the second factor on
// (false when this deployment has none).
func (s *Server) secondFactorOn(ctx context.Context, personID string) (bool, error) {
	if s.oidc.TOTP == nil {
		return false, nil
	}
	return s.oidc.TOTP.Active(ctx, personID)
}

// stepUp is the code page for a person signed in with their password
// only, who must give the code to act for an organisation (DESIGN.md §4):
// up when the browser has no pending login and the session lacks the
// second factor. done when the answer is written instead: back to ret
// when the session has it already, or to the page to turn it on for
// someone who has none.
func (s *totpPages) stepUp(w http.ResponseWriter, r *http.Request, ret string) (sess authn.BrowserSession, up, done bool) {
	if c, err := r.Cookie(pendingCookie); err == nil && c.Value != "" {
		return sess, false, false
	}
	sess, ok := CurrentSession(r.Context())
	if !ok {
		return sess, false, false
	}
	if actor(sess).SecondFactor {
		http.Redirect(w, r, returnPath(ret), http.StatusSeeOther)
		return sess, false, true
	}
	on, err := s.secondFactorOn(r.Context(), sess.PersonID)
	if err != nil {
		s.StoreError(w, r, err)
		return sess, false, true
	}
	if !on {
		http.Redirect(w, r, totpPath, http.StatusSeeOther)
		return sess, false, true
	}
	return sess, true, false
}

type secondFactorData struct {
	Confirm string // the code page, then back here
	Setup   string // the page to turn the code on
}

// secondFactorPage answers a request that acts through an organisation
// from a login without the second factor (mandates.ErrSecondFactor, as
// StoreError maps it): the way to give the code and come back here, or,
// for someone who has not turned it on, the way to do that first.
func (s *Server) secondFactorPage(w http.ResponseWriter, r *http.Request) {
	if wantsJSON(r) {
		writeJSONProblem(w, http.StatusForbidden, "second_factor_required", "Acting for an organisation needs a login with a second factor.")
		return
	}
	ret := "/espace"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		ret = r.URL.RequestURI()
	}
	var d secondFactorData
	if sess, ok := CurrentSession(r.Context()); ok {
		on, err := s.secondFactorOn(r.Context(), sess.PersonID)
		if err != nil {
			s.StoreError(w, r, err)
			return
		}
		switch {
		case on:
			d.Confirm = codePath + "?" + url.Values{"return": {ret}}.Encode()
		case s.oidc.TOTP != nil:
			d.Setup = totpPath
		}
	}
	s.render(w, r, http.StatusForbidden, "second_factor", "second.title", d)
}

// raiseSession gives the session the second factor once its code is
// right. The session gets a new token (OWASP: renew the session id when
// its rights grow), so a token copied before the code is worthless; the
// person, the login time and the end stay. A choice the for-whom page
// sealed for the old session is sealed again for the new one, so the
// authorization request goes on where it was.
func (s *totpPages) raiseSession(w http.ResponseWriter, r *http.Request, sess authn.BrowserSession, ret string) error {
	ctx := r.Context()
	token, id := authn.NewSessionToken()
	raised := sess
	raised.ID, raised.AMR = id, append(slices.Clone(sess.AMR), "otp")
	err := s.sessions.RenewSession(ctx, sess.ID, raised)
	if errors.Is(err, mandates.ErrNotFound) {
		// Signed out meanwhile (another tab): log in again.
		http.Redirect(w, r, "/login?"+url.Values{"return": {ret}}.Encode(), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	maxAge := int(raised.ExpiresAt.Sub(s.now()).Seconds())
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: max(maxAge, 1),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	s.log.InfoContext(ctx, "second factor added to the session", "person_id", sess.PersonID)
	http.Redirect(w, r, s.resealChoice(ret, sess.ID, id), http.StatusSeeOther)
	return nil
}

// resealChoice seals again, for session newID, the choice an authorization
// request ret carries for session oldID; any other return is unchanged.
func (s *totpPages) resealChoice(ret, oldID, newID string) string {
	u, err := url.Parse(ret)
	if err != nil || u.Path != "/authorize" {
		return ret
	}
	q := u.Query()
	clientID := q.Get("client_id")
	if choice, ok := s.oidc.Provider.OpenChoice(q.Get(choiceParam), oldID, clientID); ok {
		q.Set(choiceParam, s.oidc.Provider.SealChoice(newID, clientID, choice))
	} else {
		q.Del(choiceParam) // the page asks again
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// codeProblem is the message the person reads for a failed code, or ""
// for a failure that is not theirs (the store's).
func codeProblem(err error, recovery bool) string {
	switch {
	case errors.Is(err, authn.ErrBadCode) && recovery:
		return "totp.recovery.bad_code"
	case errors.Is(err, authn.ErrBadCode):
		return "totp.bad_code"
	case errors.Is(err, authn.ErrCodeUsed):
		return "totp.code_used"
	case errors.Is(err, authn.ErrTooManyAttempts):
		return "totp.too_many"
	}
	return ""
}

// codeStatus is the status of a page that refuses a code.
func codeStatus(w http.ResponseWriter, err error) int {
	if errors.Is(err, authn.ErrTooManyAttempts) {
		w.Header().Set("Retry-After", "900")
		return http.StatusTooManyRequests
	}
	return http.StatusUnauthorized
}

// spoken is a code as shown, and as a screen reader should say it: one
// character at a time, with a pause between groups.
type spoken struct {
	Text   string
	Spoken string
}

func spell(groups []string) spoken {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.Join(strings.Split(g, ""), " ")
	}
	return spoken{Text: strings.Join(groups, " "), Spoken: strings.Join(parts, ", ")}
}

type totpData struct {
	State        string // "off", "setup" or "on"
	Secret       spoken
	URL          template.URL // otpauth://…, which html/template would otherwise refuse as a link
	RecoveryLeft int
	FewLeft      bool
	Problem      string
	Done         string // message id of what just happened, or ""
}

// signedIn sends a person who is not signed in to the login page, to come
// back here after.
func (s *totpPages) signedIn(w http.ResponseWriter, r *http.Request) (authn.BrowserSession, bool) {
	sess, ok := CurrentSession(r.Context())
	if !ok {
		http.Redirect(w, r, "/login?"+url.Values{"return": {totpPath}}.Encode(), http.StatusSeeOther)
	}
	return sess, ok
}

// totpPage shows where the person is: an explanation and a button to
// begin, the QR code and the key while setting up, or the state and a
// way to turn it off.
func (s *totpPages) totpPage(w http.ResponseWriter, r *http.Request) error {
	sess, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	d := totpData{}
	if r.URL.Query().Get("fait") == "arret" {
		d.Done = "totp.disabled"
	}
	return s.renderTOTP(w, r, sess, http.StatusOK, d)
}

func (s *totpPages) renderTOTP(w http.ResponseWriter, r *http.Request, sess authn.BrowserSession, status int, d totpData) error {
	ctx := r.Context()
	st, err := s.oidc.TOTP.Status(ctx, sess.PersonID)
	if err != nil {
		return err
	}
	title := "totp.title"
	switch {
	case st.Active:
		d.State, d.RecoveryLeft, d.FewLeft = "on", st.RecoveryLeft, st.RecoveryLeft <= 3
		title = "totp.on.heading"
	case st.Started:
		setup, err := s.oidc.TOTP.Setup(ctx, sess.PersonID)
		if err != nil {
			return err
		}
		d.State, d.Secret, d.URL = "setup", spell(setup.SecretGroups()), template.URL(setup.URL)
		title = "totp.setup.heading"
	default:
		d.State = "off"
	}
	if d.Problem != "" {
		title = "totp.title"
	}
	s.render(w, r, status, "totp_setup", title, d)
	return nil
}

// totpBegin makes a new secret, then shows it (Post/Redirect/Get). A
// login older than recentLogin gives the password again first.
func (s *totpPages) totpBegin(w http.ResponseWriter, r *http.Request) error {
	sess, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if s.now().Sub(sess.AuthTime) > recentLogin {
		http.Redirect(w, r, "/login?"+url.Values{"return": {totpPath}}.Encode(), http.StatusSeeOther)
		return nil
	}
	err := s.oidc.TOTP.Begin(r.Context(), sess.PersonID)
	if err != nil && !errors.Is(err, authn.ErrTOTPActive) {
		return err
	}
	if err == nil {
		s.log.InfoContext(r.Context(), "second factor setup started", "person_id", sess.PersonID)
	}
	http.Redirect(w, r, totpPath, http.StatusSeeOther)
	return nil
}

// totpQR is the QR code of the secret being set up, served from here
// since the pages' Content-Security-Policy allows images from 'self' only.
func (s *totpPages) totpQR(w http.ResponseWriter, r *http.Request) error {
	sess, ok := CurrentSession(r.Context())
	if !ok {
		return statusError(http.StatusNotFound)
	}
	setup, err := s.oidc.TOTP.Setup(r.Context(), sess.PersonID)
	if errors.Is(err, mandates.ErrNotFound) || errors.Is(err, authn.ErrTOTPActive) {
		return statusError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	png, err := setup.QRCode(264)
	if err != nil {
		s.log.ErrorContext(r.Context(), "QR code", "err", err)
		return statusError(http.StatusInternalServerError)
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store") // it holds the secret
	_, _ = w.Write(png)
	return nil
}

type codesData struct {
	Codes []spoken
}

// totpConfirm turns the second factor on with the first code, and shows
// the recovery codes: the only time they exist in clear.
func (s *totpPages) totpConfirm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sess, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		return s.renderTOTP(w, r, sess, http.StatusBadRequest, totpData{Problem: "totp.missing"})
	}
	codes, err := s.oidc.TOTP.Confirm(authn.WithAddress(ctx, clientAddress(r)), sess.PersonID, code)
	switch {
	case errors.Is(err, mandates.ErrNotFound), errors.Is(err, authn.ErrTOTPActive):
		// Set up meanwhile in another tab, or never begun: show where it is.
		http.Redirect(w, r, totpPath, http.StatusSeeOther)
		return nil
	case err != nil:
		d := totpData{Problem: codeProblem(err, false)}
		if d.Problem == "" {
			return err
		}
		return s.renderTOTP(w, r, sess, codeStatus(w, err), d)
	}
	s.log.InfoContext(ctx, "second factor turned on", "person_id", sess.PersonID)
	d := codesData{}
	for _, c := range codes {
		d.Codes = append(d.Codes, spoken{Text: c, Spoken: spell(strings.Split(c, "-")).Spoken})
	}
	s.render(w, r, http.StatusOK, "totp_codes", "totp.codes.title", d)
	return nil
}

// totpDisable turns the second factor off once the person proves they
// hold it, so a session left open on a shared computer cannot.
func (s *totpPages) totpDisable(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sess, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	if code == "" {
		return s.renderTOTP(w, r, sess, http.StatusBadRequest, totpData{Problem: "totp.missing"})
	}
	if err := s.oidc.TOTP.VerifyAny(authn.WithAddress(ctx, clientAddress(r)), sess.PersonID, code); err != nil {
		d := totpData{Problem: codeProblem(err, false)}
		switch d.Problem {
		case "":
			return err
		case "totp.bad_code":
			d.Problem = "totp.off.bad_code" // either kind of code
		}
		return s.renderTOTP(w, r, sess, codeStatus(w, err), d)
	}
	if err := s.oidc.TOTP.Disable(ctx, sess.PersonID); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "second factor turned off", "person_id", sess.PersonID)
	http.Redirect(w, r, totpPath+"?fait=arret", http.StatusSeeOther)
	return nil
}
