package authz_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/relais-fr/relais/authz/oauth"
)

// RFC 8693 §2.1 makes scope optional: an exchange without it gets the
// subject token's scopes the audience may receive, without offline_access
// (it failed on offline_access, which no exchanged token carries).
func TestATokenExchangeWithoutScopeGetsTheSubjectTokensScopesWithoutOfflineAccess(t *testing.T) {
	a := newActingFlow(t)
	a.allowExchange(t)
	subject := a.tokens(t, nil, "openid", "profile", "offline_access").AccessToken
	status, body := a.exchange(t, subject, func(f url.Values) { f.Del("scope") })
	if status != http.StatusOK {
		t.Fatalf("exchange without scope: %d %v", status, body)
	}
	if body["scope"] != "openid profile" || body["refresh_token"] != nil {
		t.Errorf("exchange without scope: scope %v, refresh token %v; want openid profile and none", body["scope"], body["refresh_token"])
	}
	if got := claimsOfJWT(t, stringOr(body["access_token"]))["scope"]; got != "openid profile" {
		t.Errorf("exchanged token: scope %v, want openid profile", got)
	}
	// Asked for by name, offline_access is still refused.
	if status, body := a.exchange(t, subject, func(f url.Values) { f.Set("scope", "openid offline_access") }); status != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Errorf("exchange asking offline_access: %d %v, want invalid_scope", status, body)
	}
}

// RFC 6749 §4.4 keeps client_credentials for confidential clients; a
// public client asking for it is unauthorized_client (§5.2), not
// invalid_grant.
func TestAPublicClientAskingForClientCredentialsIsUnauthorized(t *testing.T) {
	f := newFlow(t)
	f.addClient(t, oauth.Client{ID: "app", Name: "Appli", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"authorization_code", "client_credentials"}, TokenEndpointAuthMethod: oauth.AuthMethodNone})
	for _, form := range []url.Values{
		{"grant_type": {"client_credentials"}, "client_id": {"app"}},
		{"grant_type": {"client_credentials"}, "client_id": {"app"}, "scope": {"openid"}},
	} {
		if status, body := f.tokenRequest(t, form, "", ""); status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
			t.Errorf("%v: %d %v, want 400 unauthorized_client", form, status, body)
		}
	}
}

// parseAuthorize runs ParseAuthorize on query, as /authorize does before
// it sends anyone to the login page, and returns where the refusal goes.
func parseAuthorize(t *testing.T, f *flow, query url.Values) (err error, location *url.URL) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/authorize?"+query.Encode(), nil)
	a, err := f.provider.ParseAuthorize(t.Context(), r)
	if err == nil {
		return nil, nil
	}
	rec := httptest.NewRecorder()
	if !f.provider.AuthorizeError(rec, r, a, err) {
		return err, nil
	}
	loc, perr := url.Parse(rec.Header().Get("Location"))
	if perr != nil {
		t.Fatal(perr)
	}
	return err, loc
}

func authorizeParams(extra map[string]string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {"caf"}, "redirect_uri": {"http://127.0.0.1/cb"}, "scope": {"openid"},
		"state": {"state-123456"}, "nonce": {"nonce-123456"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return q
}

// A missing or plain PKCE challenge, or a prompt Relais does not know, is
// refused by ParseAuthorize, before the person is sent to log in (they
// were refused only after the login).
func TestPKCEAndPromptAreCheckedBeforeTheLoginPage(t *testing.T) {
	f := newFlow(t)
	tests := []struct {
		name  string
		extra map[string]string
	}{
		{"no challenge", map[string]string{"code_challenge": "", "code_challenge_method": ""}},
		{"a plain challenge", map[string]string{"code_challenge_method": "plain"}},
		{"a challenge without a method (plain by default, RFC 7636 §4.3)", map[string]string{"code_challenge_method": ""}},
		{"an unknown method", map[string]string{"code_challenge_method": "S512"}},
		{"a method without a challenge", map[string]string{"code_challenge": ""}},
		{"a challenge too short", map[string]string{"code_challenge": "short"}},
		{"an unknown prompt value", map[string]string{"prompt": "select_account"}},
		{"prompt=none with another value", map[string]string{"prompt": "none consent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err, loc := parseAuthorize(t, f, authorizeParams(tt.extra))
			if err == nil {
				t.Fatal("accepted")
			}
			if loc == nil || !strings.HasPrefix(loc.String(), "http://127.0.0.1/cb?") || loc.Query().Get("error") != "invalid_request" ||
				loc.Query().Get("state") != "state-123456" {
				t.Errorf("refusal sent to %v, want the site's redirect URI with invalid_request and the state", loc)
			}
		})
	}
	if err, _ := parseAuthorize(t, f, authorizeParams(nil)); err != nil {
		t.Errorf("an S256 challenge: %v", err)
	}
}
