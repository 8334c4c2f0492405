package authz_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAPushedRequestIsTheAuthenticatedClientsOnly: a site that
// authenticates at /par cannot push an authorization request in another
// site's name (RFC 9126 §2.1); pushing for itself still works.
func TestAPushedRequestIsTheAuthenticatedClientsOnly(t *testing.T) {
	f := newFlow(t)
	newJARSite(t, f, "impots", false)
	push := func(clientID string, inQuery bool) (int, map[string]any) {
		form := authorizeParams(map[string]string{"client_id": clientID, "scope": "openid profile"})
		target := f.srv.URL + "/par"
		if inQuery {
			form.Del("client_id")
			target += "?client_id=" + url.QueryEscape(clientID)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape("caf"), f.secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		m := map[string]any{}
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	if status, m := push("impots", false); status != http.StatusBadRequest || m["error"] != "invalid_request" || m["request_uri"] != nil {
		t.Errorf("caf pushing for impots: %d %v, want 400 invalid_request", status, m)
	}
	if status, m := push("impots", true); status != http.StatusBadRequest || m["error"] != "invalid_request" || m["request_uri"] != nil {
		t.Errorf("caf pushing for impots, named in the query: %d %v, want 400 invalid_request", status, m)
	}
	if status, m := push("caf", false); status != http.StatusCreated || m["request_uri"] == nil {
		t.Errorf("caf pushing for itself: %d %v, want 201 with a request_uri", status, m)
	}
}
