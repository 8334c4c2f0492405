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

// activationPages are /activer (the person, or their tutor, chooses the
// account's password with the code of the activation letter) and « Je
// n'ai pas de code ».
type activationPages struct{ *Server }

// activatePath is where the activation letter sends the person
// (notices/words.CodePages).
var (
	activatePath = words.CodePages[mandates.EventActivationSent]
	noCodePath   = activatePath + "/sans-code"
)

func (s *activationPages) mountActivation(pages *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	pages.HandleFunc(activatePath, s.page(s.activateForm)).Methods(get...)
	pages.HandleFunc(activatePath, s.page(s.activate)).Methods(http.MethodPost)
	pages.HandleFunc(noCodePath, s.page(s.noCodeForm)).Methods(get...)
	pages.HandleFunc(noCodePath, s.page(s.askAgain)).Methods(http.MethodPost)
}

type activateData struct {
	Code          string
	Tutor         bool   // a tutor is signed in: they activate for the person
	FranceConnect string // the link to activate with FranceConnect instead; "" none
	NoCode        string
	Errors        map[string]string
	Problems      []problem
}

func (s *activationPages) activateData(r *http.Request) activateData {
	_, signed := CurrentSession(r.Context())
	return activateData{Tutor: signed, FranceConnect: s.mandates.Accounts.ActivationFranceConnect, NoCode: noCodePath}
}

func (s *activationPages) activateForm(w http.ResponseWriter, r *http.Request) error {
	d := s.activateData(r)
	d.Code = strings.TrimSpace(r.URL.Query().Get("code"))
	s.render(w, r, http.StatusOK, "activate", "activate.title", d)
	return nil
}

type activatedData struct {
	Name, LoginName, Email string
	Tutor                  bool
	Login                  string
}

func (s *activationPages) activate(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	d := s.activateData(r)
	d.Code = strings.TrimSpace(r.PostForm.Get("code"))
	var tutor *mandates.Actor
	if sess, ok := CurrentSession(r.Context()); ok {
		a := actor(sess)
		tutor = &a
	}
	l := s.localizer(r)
	p := s.formProblems(r, "code", "password", "password_again")
	if d.Code == "" {
		p.add("code", "activate.error.code_missing")
	}
	password, again := r.PostForm.Get("password"), r.PostForm.Get("password_again")
	if err := authn.CheckNewPassword(password, again); err != nil {
		switch {
		case errors.Is(err, authn.ErrPasswordTooShort):
			p.add("password", "activate.error.too_short", map[string]any{"Min": authn.MinPasswordLength})
		case errors.Is(err, authn.ErrPasswordTooLong):
			p.add("password", "activate.error.too_long", map[string]any{"Max": authn.MaxPasswordLength})
		default:
			p.add("password_again", "activate.error.differ")
		}
	}
	if p.empty() {
		done, err := s.mandates.Accounts.Activation.Activate(r.Context(), tutor, d.Code, password, again, clientAddress(r))
		switch {
		case errors.Is(err, authn.ErrBadCode):
			p.add("code", "activate.error.bad_code")
		case errors.Is(err, authn.ErrCodeExpired):
			s.refusal(w, r, http.StatusGone, refusalData{Heading: translate(l, "activate.expired.heading"), Lead: translate(l, "activate.expired.lead"),
				NextSteps: []string{translate(l, "activate.expired.ask"), translate(l, "activate.expired.desk")},
				Links:     []refusalLink{{Href: noCodePath, Text: translate(l, "activate.no_code_link")}}})
			return nil
		case errors.Is(err, authn.ErrTooManyAttempts):
			w.Header().Set("Retry-After", "900")
			s.refusal(w, r, http.StatusTooManyRequests, refusalData{Heading: translate(l, "activate.too_many.heading"), Lead: translate(l, "activate.too_many.lead"),
				NextSteps: []string{translate(l, "activate.too_many.wait"), translate(l, "activate.expired.desk")}})
			return nil
		case errors.Is(err, accounts.ErrAlreadyActive):
			s.refusal(w, r, http.StatusConflict, refusalData{Heading: translate(l, "activate.active.heading"), Lead: translate(l, "activate.active.lead"),
				NextSteps: []string{translate(l, "activate.active.login"), translate(l, "activate.expired.desk")},
				Links:     []refusalLink{{Href: "/login", Text: translate(l, "activate.active.login_link")}, {Href: "/mot-de-passe-oublie", Text: translate(l, "activate.active.forgot_link")}}})
			return nil
		case errors.Is(err, mandates.ErrNotPermitted) && tutor != nil:
			p.add("code", "activate.error.not_tutor")
		case err != nil:
			return err
		default:
			out := activatedData{Name: mandates.DisplayName(done.Person), LoginName: done.LoginName, Email: done.Person.Email, Tutor: tutor != nil && tutor.PersonID != done.Person.ID,
				Login: "/login?" + url.Values{"return": {spacePath}}.Encode()}
			s.render(w, r, http.StatusOK, "activate_done", "activate.done.title", out)
			return nil
		}
	}
	d.Problems, d.Errors = p.list(), p.byID
	s.render(w, r, http.StatusBadRequest, "activate", "activate.title", d)
	return nil
}

type noCodeData struct {
	Login    string
	Sent     bool
	Errors   map[string]string
	Problems []problem
}

func (s *activationPages) noCodeForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "activate_nocode", "activate.nocode.title", noCodeData{})
	return nil
}

// askAgain answers the same whatever the account: see
// accounts.Activation.AskAgain.
func (s *activationPages) askAgain(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	d := noCodeData{Login: strings.TrimSpace(r.PostForm.Get("login"))}
	if d.Login == "" {
		p := s.formProblems(r, "login")
		p.add("login", "activate.nocode.missing")
		d.Problems, d.Errors = p.list(), p.byID
		s.render(w, r, http.StatusBadRequest, "activate_nocode", "activate.nocode.title", d)
		return nil
	}
	err := s.mandates.Accounts.Activation.AskAgain(r.Context(), d.Login, clientAddress(r))
	if errors.Is(err, authn.ErrTooManyAttempts) {
		l := s.localizer(r)
		w.Header().Set("Retry-After", "3600")
		s.refusal(w, r, http.StatusTooManyRequests, refusalData{Heading: translate(l, "activate.too_many.heading"), Lead: translate(l, "activate.nocode.too_many"),
			NextSteps: []string{translate(l, "activate.nocode.wait"), translate(l, "activate.expired.desk")}})
		return nil
	}
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "activate_nocode", "activate.nocode.title", noCodeData{Sent: true})
	return nil
}
