package ui

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gorilla/mux"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices/prefs"
)

// Mandates is what the pages about representations need: the domain
// service, and the authenticator a person uses to confirm an aidant
// mandate with their own login on the aidant's device.
type Mandates struct {
	Service *mandates.Service
	Auth    *authn.Authenticator
	// Journal, when set, adds the journal's pages (journal.go).
	Journal JournalReader
	// Letters, when set, adds « Comment je reçois mes courriers »
	// (letters.go); its Senders send the codes (none: paper only).
	Letters *prefs.Service
	// Notices, when set, adds the operators' view of a person's notices
	// (operator_notices.go).
	Notices *Notices
	// SecondFactors, when set, adds the operators' page and API that
	// remove a person's lost second factor (operator_second_factor.go).
	SecondFactors *accounts.SecondFactorReset
	// Accounts, when set, adds the forms that open an account at a desk,
	// the operator's page of a person, /api/v1/persons and /activer
	// (accounts.go, activation.go).
	Accounts *Accounts
}

// The pages about representations. Each group lives in its own file:
// operator.go (court measures, organisations), organisation.go (an
// organisation's administrator), api.go (the same operations as JSON,
// for back-office integration, with the same session and the same
// cross-origin check as the pages), space.go (a person's own space: who
// may act for me, for whom I act, proxies) and aidant.go (the aidant's
// workspace and consent).
func (s *Server) mountRepresentations(pages *mux.Router) {
	person := &personPages{s}
	(&operatorPages{s}).mountOperator(pages)
	(&orgPages{s}).mountOrganisation(pages)
	(&apiPages{s}).mountAPI(pages)
	(&importPages{s}).mountImport(pages)
	person.mountSpace(pages)
	(&aidantPages{person}).mountAidant(pages)
	(&cosignPages{s}).mountCosign(pages)
	(&journalPages{s}).mountJournal(pages)
	s.mountLetters(pages)
	if s.mandates.Notices != nil {
		(&noticePages{s}).mountNotices(pages)
	}
	if s.mandates.SecondFactors != nil {
		(&secondFactorResetPages{s}).mountSecondFactorReset(pages)
	}
	if s.mandates.Accounts != nil {
		(&deskPages{s}).mountDesk(pages)
		(&activationPages{s}).mountActivation(pages)
	}
}

// requireSession returns the browser's session; without one, errSignIn
// (toLogin answers it).
func (s *Server) requireSession(r *http.Request) (authn.BrowserSession, error) {
	sess, ok := CurrentSession(r.Context())
	if !ok {
		return sess, errSignIn
	}
	return sess, nil
}

// toLogin sends the browser to the login page and back here (to the
// person's space after a form post, or to the form's page, filled, for a
// form that is kept: keep.go), or answers an API call with 401.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	if !wantsJSON(r) && s.keeping().keepAfterSession(w, r) {
		return
	}
	if wantsJSON(r) || r.Method != http.MethodGet {
		if wantsJSON(r) {
			w.Header().Set("WWW-Authenticate", `Cookie realm="relais"`)
			writeJSONProblem(w, http.StatusUnauthorized, "login_required", "Sign in to Relais first.")
			return
		}
		http.Redirect(w, r, "/login?"+url.Values{"return": {"/espace"}}.Encode(), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login?"+url.Values{"return": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
}

// requirePost is requireSession for a form post: the session, and the
// form parsed (a form that cannot be read gets its error page).
func (s *Server) requirePost(r *http.Request) (authn.BrowserSession, error) {
	sess, err := s.requireSession(r)
	if err != nil {
		return sess, err
	}
	if err := r.ParseForm(); err != nil {
		return sess, formError(err)
	}
	return sess, nil
}

// actor is the signed-in person as the domain sees them: a second factor
// counts when the login used one (RFC 8176 "otp").
func actor(sess authn.BrowserSession) mandates.Actor {
	return mandates.Actor{PersonID: sess.PersonID, SecondFactor: slices.Contains(sess.AMR, "otp")}
}

// domainStatus is the HTTP status for a failure of the representation
// service, and the JSON error code that goes with it.
func domainStatus(err error) (int, string) {
	var unique *mandates.UniqueError
	var open *mandates.OpenError
	switch {
	case errors.As(err, &open):
		// A mandate or a proxy between the same parties is there: change
		// that one (domainJSONError names it).
		return http.StatusConflict, "already_exists"
	case errors.Is(err, mandates.ErrRepresentativeGives):
		return http.StatusForbidden, "representative_gives"
	case errors.As(err, &unique):
		return http.StatusConflict, "already_exists"
	case errors.Is(err, mandates.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, mandates.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, mandates.ErrInvalid):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, mandates.ErrSecondFactor):
		return http.StatusForbidden, "second_factor_required"
	case errors.Is(err, mandates.ErrNoSecondFactor):
		return http.StatusConflict, "second_factor_not_enrolled"
	case errors.Is(err, mandates.ErrNotPermitted):
		return http.StatusForbidden, "access_denied"
	case errors.Is(err, mandates.ErrInactive):
		return http.StatusConflict, "inactive"
	case errors.Is(err, mandates.ErrCodeWrong):
		return http.StatusBadRequest, "wrong_code"
	case errors.Is(err, mandates.ErrCodeExpired):
		return http.StatusBadRequest, "code_expired"
	case errors.Is(err, mandates.ErrTooManyCodes):
		return http.StatusTooManyRequests, "too_many_codes"
	case errors.Is(err, mandates.ErrNoSender):
		return http.StatusServiceUnavailable, "no_sender"
	case errors.Is(err, mandates.ErrUnavailable):
		return http.StatusServiceUnavailable, "temporarily_unavailable"
	}
	return http.StatusInternalServerError, "server_error"
}

// writeJSONProblem writes an error in the shape of RFC 6749 §5.2, with a
// description a developer can read.
func writeJSONProblem(w http.ResponseWriter, code int, errCode, description string) {
	writeJSON(w, code, map[string]string{"error": errCode, "error_description": description})
}

// jsonProblem is an answer of the JSON API decided before the domain is
// asked (no session, not an operator, a body that cannot be read): its
// status, its RFC 6749 §5.2 error code and a description a developer can
// read.
type jsonProblem struct {
	Status      int
	Code        string
	Description string
}

func (p *jsonProblem) Error() string { return "ui: " + p.Code + ": " + p.Description }

// domainJSONError answers a failed API call; internal failures are logged
// and never described to the client.
func (s *Server) domainJSONError(w http.ResponseWriter, r *http.Request, err error) {
	var p *jsonProblem
	if errors.As(err, &p) {
		if p.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Cookie realm="relais"`)
		}
		writeJSONProblem(w, p.Status, p.Code, p.Description)
		return
	}
	// The page errors a shared guard may return, answered as JSON.
	var status statusError
	switch {
	case errors.Is(err, errSignIn):
		w.Header().Set("WWW-Authenticate", `Cookie realm="relais"`)
		writeJSONProblem(w, http.StatusUnauthorized, "login_required", "Sign in to Relais first.")
		return
	case errors.As(err, &status) && jsonErrorCodes[int(status)] != "":
		writeJSONProblem(w, int(status), jsonErrorCodes[int(status)], http.StatusText(int(status))+".")
		return
	}
	code, errCode := domainStatus(err)
	desc := domainDescription(err, errCode)
	if code >= 500 {
		if code == http.StatusInternalServerError {
			s.log.ErrorContext(r.Context(), "api error", "err", err)
		}
		desc = http.StatusText(code)
	}
	var open *mandates.OpenError
	if errors.As(err, &open) {
		writeJSON(w, code, map[string]string{"error": errCode, "error_description": desc, "existing_id": open.ID, "existing_status": string(open.Status)})
		return
	}
	writeJSONProblem(w, code, errCode, desc)
}

// domainDescriptions are the API's words for each error code, so that no
// error's own text, which names internals, reaches a client.
var domainDescriptions = map[string]string{
	"already_exists":             "This already exists.",
	"representative_gives":       "Under the person's measure, their representative gives or refuses this for them.",
	"conflict":                   "The record changed meanwhile: read it again, then retry.",
	"not_found":                  "There is no such record, or none you may see.",
	"invalid_request":            "The request is invalid.",
	"second_factor_required":     "Sign in with a second factor first.",
	"second_factor_not_enrolled": "This person has no second factor yet: they turn one on in their space before being habilitated as an aidant.",
	"access_denied":              "You may not do this.",
	"inactive":                   "The representation is not in a state that allows this.",
	"wrong_code":                 "The code is not the one sent.",
	"code_expired":               "The code is too old, or was already used.",
	"too_many_codes":             "Too many codes: the request is cancelled.",
	"no_sender":                  "No consent code can be sent from here.",
}

// domainDescription is the error_description of a failure: built from the
// fields of a typed error where it has one, else the words of its code.
func domainDescription(err error, errCode string) string {
	var (
		inv    *mandates.InvalidError
		unique *mandates.UniqueError
		open   *mandates.OpenError
		step   *mandates.TransitionError
		left   mandates.CodeAttemptsLeft
	)
	switch {
	case errors.As(err, &inv):
		return inv.Message() + "."
	case errors.As(err, &open):
		return "A representation between the same parties is already " + string(open.Status) + ": change that one."
	case errors.As(err, &unique):
		return "The " + unique.Field + " of this " + unique.Entity + " is already taken."
	case errors.As(err, &step):
		return step.Message()
	case errors.As(err, &left):
		return fmt.Sprintf("The code is not the one sent: %d attempts left.", int(left))
	}
	return domainDescriptions[errCode]
}

// representationFuncs are the template functions of these pages:
// {{text .Lang $x}} shows a locales.Text in the page's language, {{date
// .Lang $t}} a date in full ("3 mars 2027"), {{time .Lang $t}} an hour
// ("14 h 05"), {{area .Lang "social"}} an area's label, {{areas}} every
// area, {{has $list $v}} whether a list holds a value, {{label $code}} the
// words of a code, {{explain $kind}} what a kind means.
var representationFuncs = template.FuncMap{
	"text": func(lang string, t locales.Text) string { return t.In(lang) },
	"date": func(lang string, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return locales.FormatDate(t, lang)
	},
	"time": func(lang string, t time.Time) string { return locales.FormatTime(t, lang) },
	"area": func(lang string, a mandates.Area) string {
		if a.Valid() {
			return locales.Area(a).In(lang)
		}
		return string(a)
	},
	"areas":   func() []mandates.Area { return mandates.Areas },
	"label":   label,
	"explain": func(k mandates.Kind) locales.Text { return locales.KindExplain(k) },
	"has": func(list any, v any) bool {
		switch l := list.(type) {
		case []mandates.Area:
			a, _ := v.(mandates.Area)
			if s, ok := v.(string); ok {
				a = mandates.Area(s)
			}
			return slices.Contains(l, a)
		case []mandates.Action:
			a, _ := v.(mandates.Action)
			if s, ok := v.(string); ok {
				a = mandates.Action(s)
			}
			return slices.Contains(l, a)
		case []string:
			s, _ := v.(string)
			return slices.Contains(l, s)
		}
		return false
	},
}

// label is {{label $code}}: the words of a kind, a role, a status, an
// action, a decision or an organisation kind, for {{text}}.
func label(code any) locales.Text {
	switch c := code.(type) {
	case mandates.Kind:
		return locales.Kind(c)
	case mandates.Role:
		return locales.Role(c)
	case mandates.Status:
		return locales.Status(c)
	case mandates.Action:
		return locales.Action(c)
	case mandates.Decision:
		return locales.Decision(c)
	case mandates.OrganisationKind:
		return locales.OrganisationKind(c)
	}
	s := fmt.Sprint(code)
	return locales.Text{FR: s, EN: s}
}
