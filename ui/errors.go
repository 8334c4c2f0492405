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

// StoreError answers for a failed store call: the person gets a page that
// matches what went wrong, and the operator a log line for what is ours.
func (s *Server) StoreError(w http.ResponseWriter, r *http.Request, err error) {
	var busy *authn.BusyError
	switch {
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
		s.log.ErrorContext(r.Context(), "store error", "err", err)
		s.Error(w, r, http.StatusInternalServerError)
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
