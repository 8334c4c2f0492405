package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// errorPageCodes are the statuses the error page has words for; any other
// status is shown as the nearest of them.
var errorPageCodes = map[int]bool{400: true, 403: true, 404: true, 405: true, 413: true, 500: true, 503: true}

type errorData struct {
	Code      int
	Key       string // the messages' key: error.<Key>.title…; the code, or a kind of 503
	RequestID string
}

// Error answers with the accessible error page in the person's language, or
// with a JSON error for clients that ask for JSON.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, code int) {
	if !errorPageCodes[code] {
		switch {
		case code >= 500:
			code = http.StatusInternalServerError
		default:
			code = http.StatusBadRequest
		}
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	if wantsJSON(r) {
		writeJSONError(w, code)
		return
	}
	key := strconv.Itoa(code)
	s.render(w, r, code, "error", "error."+key+".title", errorData{Code: code, Key: key, RequestID: RequestID(r.Context())})
}

// busy answers a request that Relais is too busy to take now (too many
// passwords being checked at once): a 503 whose Retry-After is the short
// wait asked for (RFC 9110 §10.2.3), and a page that says to try again in
// a moment rather than that the service is stopped.
func (s *Server) busy(w http.ResponseWriter, r *http.Request, after time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(max(time.Second, after.Round(time.Second))/time.Second)))
	if wantsJSON(r) {
		writeJSONError(w, http.StatusServiceUnavailable)
		return
	}
	s.render(w, r, http.StatusServiceUnavailable, "error", "error.busy.title",
		errorData{Code: http.StatusServiceUnavailable, Key: "busy", RequestID: RequestID(r.Context())})
}

// handler is a page or a call of the JSON API: it writes the happy path
// (and a form shown again with its problems) and returns any other
// outcome as an error, which one adapter per kind of answer maps: page
// for pages, api for the JSON API.
type handler func(w http.ResponseWriter, r *http.Request) error

// page adapts a page's handler: its error gets the page that matches
// (StoreError), so no handler repeats the mapping.
func (s *Server) page(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.StoreError(w, r, err)
		}
	}
}

// api adapts a handler of the JSON API: its error gets the JSON error
// that matches (domainJSONError).
func (s *Server) api(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.domainJSONError(w, r, err)
		}
	}
}

// statusError is an answer a handler decided without the domain (an id
// that cannot exist, a form that cannot be read): the error page of that
// status.
type statusError int

func (e statusError) Error() string { return "ui: " + http.StatusText(int(e)) }

var (
	// errSignIn: the page is for a signed-in person (requireSession).
	errSignIn = errors.New("ui: sign in first")
	// errAidantSecondFactor: the aidant's pages need a login with the
	// second factor (aidantSession).
	errAidantSecondFactor = errors.New("ui: the aidant's pages need a login with a second factor")
)

// StoreError answers for a failed handler or store call, the one place a
// page's error is mapped: the person gets a page that matches what went
// wrong, and the operator a log line for what is ours. A refusal of the
// representation service gets the page of its status (domainStatus), a
// conflict or too many attempts the 400 page.
func (s *Server) StoreError(w http.ResponseWriter, r *http.Request, err error) {
	var busy *authn.BusyError
	var status statusError
	switch {
	case errors.As(err, &status):
		s.Error(w, r, int(status))
	case errors.Is(err, errSignIn):
		s.toLogin(w, r)
	case errors.Is(err, errAidantSecondFactor):
		s.aidantSecondFactorPage(w, r)
	case errors.As(err, &busy):
		s.log.WarnContext(r.Context(), "too busy to check a password", "retry_after_s", int(busy.RetryAfter.Seconds()))
		s.busy(w, r, busy.RetryAfter)
	case errors.Is(err, mandates.ErrUnavailable):
		s.log.WarnContext(r.Context(), "store unavailable", "err", err)
		s.Error(w, r, http.StatusServiceUnavailable)
	case errors.Is(err, mandates.ErrNotFound):
		s.Error(w, r, http.StatusNotFound)
	case errors.Is(err, mandates.ErrInvalid):
		s.Error(w, r, http.StatusBadRequest)
	case errors.Is(err, mandates.ErrSecondFactor):
		s.secondFactorPage(w, r)
	default:
		switch code, _ := domainStatus(err); code {
		case http.StatusInternalServerError, http.StatusServiceUnavailable:
			s.log.ErrorContext(r.Context(), "store error", "err", err)
			s.Error(w, r, http.StatusInternalServerError)
		case http.StatusConflict, http.StatusTooManyRequests:
			s.Error(w, r, http.StatusBadRequest)
		default:
			s.Error(w, r, code)
		}
	}
}

// wantsJSON: API clients say so in Accept; browsers ask for HTML.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

var jsonErrorCodes = map[int]string{
	400: "invalid_request",
	403: "access_denied",
	404: "not_found",
	405: "method_not_allowed",
	413: "request_too_large",
	500: "server_error",
	503: "temporarily_unavailable",
}

// writeJSONError uses the shape of RFC 6749 §5.2 errors, which every
// relying-party library already reads.
func writeJSONError(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"error":             jsonErrorCodes[code],
		"error_description": http.StatusText(code),
	})
}

// refusal answers a request the domain refused (the person's own word
// where their representative gives, a request no longer waiting…) with a
// plain page: what happened, why, what to do now, and where to go.
func (s *Server) refusal(w http.ResponseWriter, r *http.Request, status int, d refusalData) {
	if wantsJSON(r) {
		s.Error(w, r, status)
		return
	}
	s.render(w, r, status, "refusal", "refusal.title", d)
}
