package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

// TestGivingRefusalsHaveTheirJSONErrors: a mandate or a proxy already
// there is a 409 that names it, and the person's own word where their
// representative gives is a 403, never a 500.
func TestGivingRefusalsHaveTheirJSONErrors(t *testing.T) {
	open := &mandates.OpenError{ID: "0193a000-0000-7000-8000-0000000001a3", Status: mandates.StatusPendingConsent}
	tests := []struct {
		name    string
		err     error
		code    int
		errCode string
		id      string
	}{
		{"a second mandate with the same person", fmt.Errorf("start mandate: %w", errors.Join(open, nil)), http.StatusConflict, "already_exists", open.ID},
		{"the tutor gives it, not the person", fmt.Errorf("give proxy: %w", errors.Join(fmt.Errorf("%w: under tutelle", mandates.ErrRepresentativeGives), nil)),
			http.StatusForbidden, "representative_gives", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			(&Server{}).domainJSONError(w, httptest.NewRequest(http.MethodPost, "/api/v1/x", nil), tc.err)
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.code || body["error"] != tc.errCode || body["existing_id"] != tc.id {
				t.Errorf("%d %v, want %d %s with existing_id %q", w.Code, body, tc.code, tc.errCode, tc.id)
			}
		})
	}
}
