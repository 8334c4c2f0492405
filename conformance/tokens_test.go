package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// offline logs in to the FC client with offline_access and returns the
// flow and tokens, refresh token included.
func (tg *target) offline(t *testing.T) (*flow, *oauth2.Token) {
	t.Helper()
	fc := tg.clients[roleFC]
	f, tok := tg.login(t, fc, oauth2.SetAuthURLParam("scope", "openid offline_access"))
	if tok.RefreshToken == "" {
		t.Fatalf("no refresh token for scope offline_access")
	}
	return f, tok
}

func testRefreshRotation(t *testing.T, tg *target) {
	fc := tg.clients[roleFC]
	f, first := tg.offline(t)
	sub := tg.verifyID(t, fc, first, f.nonce).Subject
	second, err := tg.refresh(t, fc, first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Errorf("the refresh token was not rotated (RFC 9700 §4.14.2)")
	}
	if second.AccessToken == "" || second.AccessToken == first.AccessToken {
		t.Errorf("refresh gave no new access token")
	}
	if !tg.active(t, second.AccessToken) {
		t.Error("the refreshed access token is not active")
	}
	// OIDC Core §12.2: an ID token from a refresh has the same iss and sub.
	if _, ok := second.Extra("id_token").(string); ok {
		if got := tg.verifyID(t, fc, second, "").Subject; got != sub {
			t.Errorf("refreshed ID token sub %q, want %q", got, sub)
		}
	}
	// The new one rotates in turn.
	if _, err := tg.refresh(t, fc, second.RefreshToken); err != nil {
		t.Errorf("the rotated refresh token does not work: %v", err)
	}
}

func testRefreshReuse(t *testing.T, tg *target) {
	fc := tg.clients[roleFC]
	_, first := tg.offline(t)
	second, err := tg.refresh(t, fc, first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if _, err := tg.refresh(t, fc, first.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Errorf("reused refresh token: %v, want invalid_grant", err)
	}
	// RFC 9700 §4.14.2: reuse revokes the whole family.
	if _, err := tg.refresh(t, fc, second.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Errorf("after a reuse, the newest refresh token: %v, want invalid_grant", err)
	}
	if tg.active(t, second.AccessToken) {
		t.Error("after a reuse, the newest access token is still active")
	}
}

func testCodeReuse(t *testing.T, tg *target) {
	c, scopes := tg.clients[roleWeb], []oauth2.AuthCodeOption(nil)
	if tg.clients[roleFC] != nil {
		// With a refresh token, to see it revoked too.
		c, scopes = tg.clients[roleFC], []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("scope", "openid offline_access")}
	}
	f := tg.authorize(t, tg.browser(t), c, scopes...)
	tok := tg.exchange(t, f)
	if !tg.active(t, tok.AccessToken) {
		t.Fatal("a fresh access token is not active")
	}
	_, err := f.conf.Exchange(tg.ctx(t), f.code(), oauth2.VerifierOption(f.verifier))
	if oauthError(err) != "invalid_grant" {
		t.Errorf("second use of a code: %v, want invalid_grant", err)
	}
	// RFC 6749 §4.1.2, RFC 9700 §4.2.4: what the first use issued is revoked.
	if tg.active(t, tok.AccessToken) {
		t.Error("after the code's reuse, the access token of its first use is still active")
	}
	if tok.RefreshToken != "" {
		if _, err := tg.refresh(t, c, tok.RefreshToken); oauthError(err) != "invalid_grant" {
			t.Errorf("after the code's reuse, its refresh token: %v, want invalid_grant", err)
		}
	}
}

func testCodeOfAnotherClient(t *testing.T, tg *target) {
	web, fc := tg.clients[roleWeb], tg.clients[roleFC]
	f := tg.authorize(t, tg.browser(t), web)
	// The FC client presents the web client's code with the right verifier
	// and redirect URI: the code is bound to the client (RFC 6749 §4.1.3).
	conf := tg.oauth(t, fc)
	conf.RedirectURL = web.RedirectURI
	if _, err := conf.Exchange(tg.ctx(t), f.code(), oauth2.VerifierOption(f.verifier)); oauthError(err) != "invalid_grant" {
		t.Errorf("another client's code: %v, want invalid_grant", err)
	}
}

func testTokenRedirectMismatch(t *testing.T, tg *target) {
	f := tg.authorize(t, tg.browser(t), tg.clients[roleWeb])
	conf := *f.conf
	conf.RedirectURL = f.conf.RedirectURL + "/other"
	if _, err := conf.Exchange(tg.ctx(t), f.code(), oauth2.VerifierOption(f.verifier)); oauthError(err) != "invalid_grant" {
		t.Errorf("token request with another redirect_uri: %v, want invalid_grant (RFC 6749 §4.1.3)", err)
	}
}

func testClientCredentials(t *testing.T, tg *target) {
	svc := tg.clients[roleService]
	scope := strings.Join(svc.Scopes, " ")
	res, m := tg.clientCredentials(t, scope)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("client credentials: %d %v", res.StatusCode, m)
	}
	noStore(t, "client credentials", res)
	at, _ := m["access_token"].(string)
	if tt, _ := m["token_type"].(string); !strings.EqualFold(tt, "bearer") || at == "" {
		t.Fatalf("client credentials: %v, want a bearer access token", m)
	}
	if exp, _ := m["expires_in"].(float64); exp <= 0 {
		t.Errorf("expires_in %v", m["expires_in"])
	}
	// RFC 6749 §4.4.3: no refresh token; no ID token without a person.
	for _, name := range []string{"refresh_token", "id_token"} {
		if _, ok := m[name]; ok {
			t.Errorf("client credentials answer has a %s", name)
		}
	}
	claims := checkAccessToken(t, tg, at, svc.ID)
	// RFC 9068 §2.2: without a person, sub is the client.
	if claims["sub"] != svc.ID {
		t.Errorf("sub %v, want the client %s", claims["sub"], svc.ID)
	}
	if claims["scope"] != scope {
		t.Errorf("scope %v, want %s", claims["scope"], scope)
	}
	if !tg.active(t, at) {
		t.Error("a fresh client-credentials token is not active")
	}
}

func testClientCredentialsScope(t *testing.T, tg *target) {
	res, m := tg.clientCredentials(t, "conformance.never-registered")
	wantError(t, "client credentials for an unregistered scope", res, m, http.StatusBadRequest, "invalid_scope")
}

func testUnauthorizedClient(t *testing.T, tg *target) {
	// The FC client is registered for authorization_code and
	// refresh_token only.
	res, m := tg.post(t, tg.endpoint(t, "token_endpoint"), tg.clients[roleFC], url.Values{"grant_type": {"client_credentials"}})
	wantError(t, "client_credentials for a code-flow client", res, m, http.StatusBadRequest, "unauthorized_client")
}

func testIntrospection(t *testing.T, tg *target) {
	at := tg.someAccessToken(t)
	m := tg.introspect(t, at)
	if m["active"] != true || m["client_id"] != tg.clients[roleWeb].ID {
		t.Errorf("introspection of a live token: %v, want active with its client_id", m)
	}
	if _, ok := m["exp"].(float64); !ok {
		t.Errorf("introspection of a live token has no exp: %v", m)
	}
	for name, token := range map[string]string{"garbage": "not-a-token", "tampered": tamper(at), "empty-looking": "a.b.c"} {
		// RFC 7662 §2.2: anything not active is just {"active": false}.
		if m := tg.introspect(t, token); m["active"] != false {
			t.Errorf("introspection of a %s token: %v, want active false", name, m)
		}
	}
}

func testIntrospectionNeedsAuth(t *testing.T, tg *target) {
	u := tg.endpoint(t, "introspection_endpoint")
	at := tg.someAccessToken(t)
	res, m := tg.post(t, u, nil, url.Values{"token": {at}})
	if res.StatusCode != http.StatusUnauthorized || m["active"] == true {
		t.Errorf("introspection without authentication: %d %v, want 401 (RFC 7662 §2.1)", res.StatusCode, m)
	}
	wrong := *tg.introspector()
	wrong.Secret = "wrong-" + random()
	res, m = tg.post(t, u, &wrong, url.Values{"token": {at}})
	// RFC 7662 §2.3: 401 as RFC 6749 §5.2 describes, so invalid_client.
	wantError(t, "introspection with a wrong secret", res, m, http.StatusUnauthorized, "invalid_client")
}

func testRevocation(t *testing.T, tg *target) {
	fc := tg.clients[roleFC]
	u := tg.endpoint(t, "revocation_endpoint")

	_, tok := tg.offline(t)
	res, m := tg.post(t, u, fc, url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("revoking an access token: %d %v", res.StatusCode, m)
	}
	if tg.active(t, tok.AccessToken) {
		t.Error("a revoked access token is still active")
	}

	_, tok = tg.offline(t)
	res, m = tg.post(t, u, fc, url.Values{"token": {tok.RefreshToken}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("revoking a refresh token: %d %v", res.StatusCode, m)
	}
	if _, err := tg.refresh(t, fc, tok.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Errorf("a revoked refresh token: %v, want invalid_grant", err)
	}

	// RFC 7009 §2.2: an unknown token is answered 200 as well.
	if res, m := tg.post(t, u, fc, url.Values{"token": {"never-issued-" + random()}}); res.StatusCode != http.StatusOK {
		t.Errorf("revoking an unknown token: %d %v, want 200", res.StatusCode, m)
	}
}

func testRevokeOtherClientsToken(t *testing.T, tg *target) {
	at := tg.someAccessToken(t)
	res, m := tg.post(t, tg.endpoint(t, "revocation_endpoint"), tg.clients[roleFC], url.Values{"token": {at}})
	// RFC 7009 §2.1: the token must have been issued to the revoking client.
	if !tg.active(t, at) {
		t.Errorf("another client revoked the web client's access token (%d %v)", res.StatusCode, m)
	}
}
