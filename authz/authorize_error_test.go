package authz_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestAuthorizeErrorsRedirectOnlyToRegisteredURIs: fosite checks the
// redirect URI before the scope, the state or a request object, with its
// loose loopback match (any port, the decoded path), so a request that
// fails later comes back with a redirect fosite accepted. The error, with
// its state and iss, must still go only to a URI the client registered,
// character for character (RFC 9700 §2.1; RFC 8252 §7.3 gives the port
// to native apps only); anywhere else the person gets the error page.
func TestAuthorizeErrorsRedirectOnlyToRegisteredURIs(t *testing.T) {
	ft := newFuzzTarget(t)
	verifier := strings.Repeat("e", 43)
	query := func(client, redirect string, set map[string]string) string {
		q := authorizeQuery(client, redirect, "openid", verifier)
		for k, v := range set {
			q.Set(k, v)
		}
		return q.Encode()
	}
	otherPort := "http://127.0.0.1:4444/cb"
	encoded := "http://127.0.0.1/%63b"
	refusedObject := func(redirect string) string {
		return url.Values{"client_id": {fuzzSecretClient}, "request": {fuzzUnsigned(map[string]any{
			"iss": fuzzSecretClient, "aud": fuzzIssuer, "redirect_uri": redirect, "state": "state-123456", "response_type": "code"})}}.Encode()
	}
	tests := []struct {
		name     string
		query    string
		redirect string // the URI the error goes to; empty: the error page
	}{
		{"another loopback port and a bad scope: the error page", query(fuzzSecretClient, otherPort, map[string]string{"scope": "openid phone"}), ""},
		{"another loopback port and a short state: the error page", query(fuzzSecretClient, otherPort, map[string]string{"state": "s"}), ""},
		{"a percent-encoded path and a bad scope: the error page", query(fuzzSecretClient, encoded, map[string]string{"scope": "openid phone"}), ""},
		{"a percent-encoded path and a refused request object: the error page", refusedObject(encoded), ""},
		{"another loopback port and a refused request object: the error page", refusedObject(otherPort), ""},
		{"the registered URI and a bad scope: redirected", query(fuzzSecretClient, fuzzSecretRedirect, map[string]string{"scope": "openid phone"}), fuzzSecretRedirect},
		{"the registered URI and a refused request object: redirected", refusedObject(fuzzSecretRedirect), fuzzSecretRedirect},
		{"a native app's loopback port and a bad scope: redirected (RFC 8252 §7.3)",
			query(fuzzPublicClient, "http://127.0.0.1:4444/app", map[string]string{"scope": "openid phone"}), "http://127.0.0.1:4444/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ft.serve(httptest.NewRequest(http.MethodGet, "/authorize?"+tt.query, nil))
			loc := rec.Header().Get("Location")
			if tt.redirect == "" {
				if loc != "" || rec.Code != http.StatusBadRequest {
					t.Fatalf("%d to %q, want the error page and no redirect", rec.Code, loc)
				}
				return
			}
			u, err := url.Parse(loc)
			if err != nil || rec.Code != http.StatusSeeOther && rec.Code != http.StatusFound {
				t.Fatalf("%d to %q, want a redirect to %s", rec.Code, loc, tt.redirect)
			}
			if u.Query().Get("error") == "" || u.Query().Get("iss") != fuzzIssuer {
				t.Errorf("redirected to %q, want an error and iss", loc)
			}
			u.RawQuery = ""
			if u.String() != tt.redirect {
				t.Errorf("redirected to %q, want %s", loc, tt.redirect)
			}
		})
	}
}
