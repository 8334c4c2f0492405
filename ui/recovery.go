package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices/words"
)

// The pages of getting back into an account (docs/accounts.md,
// « Recovery »): « Mot de passe oublié », the page where the reset code
// is typed (the one the code's letter, email or SMS names), and the new
// password after a fresh FranceConnect login. The work is
// accounts.Recovery's; these pages map forms to it and its refusals to
// words.
const (
	forgotPath        = "/mot-de-passe-oublie"
	spacePasswordPath = "/espace/mot-de-passe"
	// franceConnectLogin starts a FranceConnect login (authn/upstream's
	// pages); the person comes back to return after it.
	franceConnectLogin = "/connexion/franceconnect"
)

// resetPath is where a reset code is typed: the page its notice names.
var resetPath = words.CodePages[mandates.EventPasswordResetRequested]

// recoveryPages are the pages of a forgotten password.
type recoveryPages struct{ *Server }

func (s *recoveryPages) mountRecovery(pages *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	pages.HandleFunc(forgotPath, s.page(s.forgotForm)).Methods(get...)
	pages.HandleFunc(forgotPath, s.page(s.forgot)).Methods(http.MethodPost)
	pages.HandleFunc(resetPath, s.page(s.resetForm)).Methods(get...)
	pages.HandleFunc(resetPath, s.page(s.reset)).Methods(http.MethodPost)
	pages.HandleFunc(spacePasswordPath, s.page(s.spacePasswordForm)).Methods(get...)
	pages.HandleFunc(spacePasswordPath, s.page(s.spacePassword)).Methods(http.MethodPost)
}

type forgotData struct {
	Email    string
	Sent     bool // the one answer, whether or not an account exists
	Problems []problem
}

func (s *recoveryPages) forgotForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "recovery_forgot", "recovery.forgot.title", forgotData{})
	return nil
}

// forgot sends a reset code, if an account answers to the address typed.
// Whatever was typed, the answer is the same page, with the same status,
// after the same work up to the account's lookup (accounts.Recovery.Request).
func (s *recoveryPages) forgot(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	d := forgotData{Email: strings.TrimSpace(r.PostForm.Get("email"))}
	p := s.formProblems(r, "email")
	if d.Email == "" {
		p.add("email", "recovery.forgot.email_empty")
		d.Problems = p.list()
		s.render(w, r, http.StatusBadRequest, "recovery_forgot", "recovery.forgot.title", d)
		return nil
	}
	err := s.oidc.Recovery.Request(r.Context(), d.Email, clientAddress(r))
	if errors.Is(err, authn.ErrTooManyAttempts) {
		// Counted for every address typed, known or not: this says
		// nothing about who has an account.
		p.add("email", "recovery.forgot.too_many")
		d.Problems = p.list()
		w.Header().Set("Retry-After", "3600")
		s.render(w, r, http.StatusTooManyRequests, "recovery_forgot", "recovery.forgot.title", d)
		return nil
	}
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "recovery_forgot", "recovery.forgot.title", forgotData{Sent: true})
	return nil
}

type resetData struct {
	Code     string
	Problems []problem
	// Refusal is the message id of a code that did not work (wrong or
	// used, expired, too many tries): the page says what to do instead
	// of the form.
	Refusal string
	Done    bool
	// Action is where the form is sent: the reset page, or the person's
	// space after a FranceConnect login (then there is no code).
	Action string
	// Again: the FranceConnect login is not fresh enough, or was not a
	// FranceConnect login: log in with FranceConnect again (a link).
	Again string
}

func (s *recoveryPages) resetForm(w http.ResponseWriter, r *http.Request) error {
	// Never a code from the address: it would stay in logs and history.
	s.render(w, r, http.StatusOK, "recovery_reset", "recovery.reset.title", resetData{Action: resetPath})
	return nil
}

// passwordProblems puts a refused new password in words, on its field.
func (s *recoveryPages) passwordProblems(r *http.Request, err error, p *formProblems) bool {
	switch {
	case errors.Is(err, authn.ErrPasswordTooShort):
		p.add("password", "recovery.password.too_short", map[string]any{"Min": authn.MinPasswordLength})
	case errors.Is(err, authn.ErrPasswordTooLong):
		p.add("password", "recovery.password.too_long")
	case errors.Is(err, authn.ErrPasswordsDiffer):
		p.add("again", "recovery.password.mismatch")
	default:
		return false
	}
	return true
}

func (s *recoveryPages) reset(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	f := r.PostForm
	d := resetData{Action: resetPath, Code: strings.TrimSpace(f.Get("code"))}
	p := s.formProblems(r, "code", "password", "again")
	if d.Code == "" {
		p.add("code", "recovery.reset.code_empty")
	}
	if f.Get("password") == "" {
		p.add("password", "recovery.password.empty")
	}
	if !p.empty() {
		d.Problems = p.list()
		s.render(w, r, http.StatusBadRequest, "recovery_reset", "recovery.reset.title", d)
		return nil
	}
	keep := ""
	if sess, ok := CurrentSession(r.Context()); ok {
		keep = sess.ID // ended with the others unless it is the person's own
	}
	personID, err := s.oidc.Recovery.ResetWithCode(r.Context(), d.Code, f.Get("password"), f.Get("again"), clientAddress(r), keep)
	if s.passwordProblems(r, err, p) {
		d.Problems = p.list()
		s.render(w, r, http.StatusBadRequest, "recovery_reset", "recovery.reset.title", d)
		return nil
	}
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, authn.ErrBadCode):
		d.Refusal = "recovery.reset.bad_code"
	case errors.Is(err, authn.ErrCodeExpired):
		d.Refusal = "recovery.reset.expired"
	case errors.Is(err, authn.ErrTooManyAttempts):
		d.Refusal, status = "recovery.reset.too_many", http.StatusTooManyRequests
		w.Header().Set("Retry-After", "900")
	case err != nil:
		return err
	}
	if d.Refusal != "" {
		d.Code = ""
		s.render(w, r, status, "recovery_reset", "recovery.reset.title", d)
		return nil
	}
	s.log.InfoContext(r.Context(), "password reset", "person_id", personID, "by", "code")
	s.render(w, r, http.StatusOK, "recovery_reset", "recovery.reset.title", resetData{Done: true})
	return nil
}

// spacePasswordForm: « Choisir un nouveau mot de passe », without the old
// one, right after a FranceConnect login; otherwise the way to log in
// with FranceConnect again.
func (s *recoveryPages) spacePasswordForm(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	d := resetData{Action: spacePasswordPath}
	if err := s.oidc.Recovery.FranceConnectReset(sess); err != nil {
		d.Again = franceConnectAgain()
	}
	s.render(w, r, http.StatusOK, "recovery_reset", "recovery.space.title", d)
	return nil
}

func franceConnectAgain() string {
	return franceConnectLogin + "?" + url.Values{"return": {spacePasswordPath}}.Encode()
}

func (s *recoveryPages) spacePassword(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.requireSession(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	d := resetData{Action: spacePasswordPath}
	p := s.formProblems(r, "password", "again")
	f := r.PostForm
	if f.Get("password") == "" {
		p.add("password", "recovery.password.empty")
		d.Problems = p.list()
		s.render(w, r, http.StatusBadRequest, "recovery_reset", "recovery.space.title", d)
		return nil
	}
	err = s.oidc.Recovery.ResetAfterFranceConnect(r.Context(), sess, f.Get("password"), f.Get("again"))
	switch {
	case s.passwordProblems(r, err, p):
		d.Problems = p.list()
		s.render(w, r, http.StatusBadRequest, "recovery_reset", "recovery.space.title", d)
		return nil
	case errors.Is(err, accounts.ErrNotFranceConnect) || errors.Is(err, accounts.ErrLoginTooOld):
		d.Again = franceConnectAgain()
		s.render(w, r, http.StatusForbidden, "recovery_reset", "recovery.space.title", d)
		return nil
	case err != nil:
		return err
	}
	s.log.InfoContext(r.Context(), "password reset", "person_id", sess.PersonID, "by", authn.UpstreamFranceConnect)
	s.render(w, r, http.StatusOK, "recovery_reset", "recovery.space.title", resetData{Done: true, Action: spacePasswordPath})
	return nil
}
