package ui

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
)

// TestThePageAdapterMapsEachErrorOnce: whatever a page's handler returns
// is answered in one place, as the handlers answered it themselves before
// (read here through the JSON form of the error page, which needs no
// template).
func TestThePageAdapterMapsEachErrorOnce(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		code       int
		errCode    string
		retryAfter string
	}{
		{"nothing went wrong: the handler's own answer stands", nil, http.StatusTeapot, "", ""},
		{"a status the handler chose", statusError(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge, "request_too_large", ""},
		{"no session", errSignIn, http.StatusUnauthorized, "login_required", ""},
		{"too busy to check a password", fmt.Errorf("login: %w", &authn.BusyError{RetryAfter: 3 * time.Second}), http.StatusServiceUnavailable, "temporarily_unavailable", "3"},
		{"the store cannot answer", fmt.Errorf("read: %w", mandates.ErrUnavailable), http.StatusServiceUnavailable, "temporarily_unavailable", "30"},
		{"not found", fmt.Errorf("read: %w", mandates.ErrNotFound), http.StatusNotFound, "not_found", ""},
		{"bad input", fmt.Errorf("give: %w", mandates.ErrInvalid), http.StatusBadRequest, "invalid_request", ""},
		{"a second factor is missing", fmt.Errorf("use: %w", mandates.ErrSecondFactor), http.StatusForbidden, "second_factor_required", ""},
		{"refused by the domain", fmt.Errorf("withdraw: %w", mandates.ErrNotPermitted), http.StatusForbidden, "access_denied", ""},
		{"changed meanwhile", fmt.Errorf("answer: %w", mandates.ErrConflict), http.StatusBadRequest, "invalid_request", ""},
		{"too many codes", fmt.Errorf("send: %w", mandates.ErrTooManyCodes), http.StatusBadRequest, "invalid_request", ""},
		{"anything else is ours", fmt.Errorf("scan: broken row"), http.StatusInternalServerError, "server_error", ""},
	}
	s := &Server{log: slog.New(slog.DiscardHandler)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := s.page(func(w http.ResponseWriter, r *http.Request) error {
				if tc.err == nil {
					w.WriteHeader(http.StatusTeapot)
				}
				return tc.err
			})
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/espace", nil)
			r.Header.Set("Accept", "application/json")
			h(w, r)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d", w.Code, tc.code)
			}
			if got := w.Header().Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if tc.errCode == "" {
				return
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body["error"] != tc.errCode {
				t.Errorf("error %q, want %q", body["error"], tc.errCode)
			}
		})
	}
}

// TestTheAPIAdapterWritesTheProblemsHandlersChose: a problem decided
// before the domain (no session, not an operator, a body too large) keeps
// its status, code and description; a domain error gets domainStatus's
// status and code.
func TestTheAPIAdapterWritesTheProblemsHandlersChose(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		code      int
		errCode   string
		desc      string
		challenge string
	}{
		{"no session", &jsonProblem{http.StatusUnauthorized, "login_required", "Sign in to Relais first."}, http.StatusUnauthorized,
			"login_required", "Sign in to Relais first.", `Cookie realm="relais"`},
		{"not an operator", &jsonProblem{http.StatusForbidden, "access_denied", "Only an operator may do this."}, http.StatusForbidden,
			"access_denied", "Only an operator may do this.", ""},
		{"a domain refusal", fmt.Errorf("suspend: %w", mandates.ErrInactive), http.StatusConflict, "inactive", "", ""},
		{"a shared guard's sign-in error", errSignIn, http.StatusUnauthorized, "login_required", "Sign in to Relais first.", `Cookie realm="relais"`},
		{"a shared guard's 404", statusError(http.StatusNotFound), http.StatusNotFound, "not_found", "Not Found.", ""},
	}
	s := &Server{log: slog.New(slog.DiscardHandler)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.api(func(http.ResponseWriter, *http.Request) error { return tc.err })(w, httptest.NewRequest(http.MethodGet, "/api/v1/measures", nil))
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.code || body["error"] != tc.errCode || (tc.desc != "" && body["error_description"] != tc.desc) {
				t.Errorf("%d %v, want %d %s %q", w.Code, body, tc.code, tc.errCode, tc.desc)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
		})
	}
}
