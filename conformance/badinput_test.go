package conformance

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// errorPage checks that an authorization request was answered with the
// issuer's own error page: 400 HTML (any 4xx off Relais), never a redirect.
func errorPage(t *testing.T, tg *target, what string, res *http.Response) {
	t.Helper()
	if loc := res.Header.Get("Location"); loc != "" {
		t.Errorf("%s: redirected to %q; want an error page, never a redirect to an unverified address (RFC 6749 §4.1.2.1)", what, loc)
	}
	wantStatus := res.StatusCode == http.StatusBadRequest
	if !tg.relaisRules {
		wantStatus = res.StatusCode >= 400 && res.StatusCode < 500
	}
	if !wantStatus || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("%s: %d %q, want a 400 HTML error page", what, res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func testUnknownClient(t *testing.T, tg *target) {
	q := baseQuery(tg.clients[roleWeb])
	q.Set("client_id", "unknown-"+random())
	res, _ := tg.authorizeOnce(t, q)
	errorPage(t, tg, "unknown client_id", res)
}

// redirectVariant is a case sending the main client's request with its
// redirect URI changed by change: exact matching refuses every variant.
func redirectVariant(change func(string) string) func(*testing.T, *target) {
	return clientRedirectVariant(roleWeb, change)
}

// clientRedirectVariant is redirectVariant for the client of role r.
func clientRedirectVariant(r role, change func(string) string) func(*testing.T, *target) {
	return spoiledRedirectVariant(r, change, nil)
}

// spoiledRedirectVariant is clientRedirectVariant with the request also
// spoiled by spoil, when not nil: fosite checks the redirect URI before the
// scope, the state or a request object, with a looser match than Relais's,
// so a request refused for one of those must still not be redirected to
// the variant (RFC 9700 §2.1).
func spoiledRedirectVariant(r role, change func(string) string, spoil func(url.Values)) func(*testing.T, *target) {
	return func(t *testing.T, tg *target) {
		c := tg.clients[r]
		q := baseQuery(c)
		q.Set("redirect_uri", change(c.RedirectURI))
		what := "redirect_uri " + q.Get("redirect_uri")
		if spoil != nil {
			spoil(q)
		}
		res, _ := tg.authorizeOnce(t, q)
		errorPage(t, tg, what, res)
	}
}

func upperPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.ToUpper(raw)
	}
	u.Path = strings.ToUpper(u.Path)
	return u.String()
}

// encodeLetter writes the last path segment's first letter as its
// percent-encoding: the same resource to most servers, but not the
// registered string (RFC 9700 §2.1).
func encodeLetter(raw string) string {
	i := strings.LastIndex(raw, "/")
	if i < 0 || i+1 >= len(raw) {
		return raw + "%61"
	}
	return fmt.Sprintf("%s%%%02X%s", raw[:i+1], raw[i+1], raw[i+2:])
}

// otherPort moves the redirect URI to another port: only a native app, a
// public client, may vary a loopback URI's port (RFC 8252 §7.3).
func otherPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw + ":1"
	}
	port := "1"
	if u.Port() == "1" {
		port = "2"
	}
	u.Host = net.JoinHostPort(u.Hostname(), port)
	return u.String()
}

// unknownScope adds a scope no client may ask for (invalid_scope).
func unknownScope(q url.Values) { q.Set("scope", "openid scope_inconnu_"+random()) }

// shortState makes the state shorter than fosite's eight characters
// (invalid_state).
func shortState(q url.Values) { q.Set("state", "s") }

// unsignedRequestObject moves the request's redirect URI and state into an
// alg none request object, which Relais refuses; only client_id stays
// beside it.
func unsignedRequestObject(q url.Values) {
	claims := map[string]any{"iss": q.Get("client_id"), "client_id": q.Get("client_id"), "response_type": "code",
		"redirect_uri": q.Get("redirect_uri"), "state": q.Get("state"), "scope": q.Get("scope")}
	for k := range q {
		if k != "client_id" {
			q.Del(k)
		}
	}
	q.Set("request", unsignedJWT(claims))
}

func addQuery(raw string) string {
	if strings.Contains(raw, "?") {
		return raw + "&extra=1"
	}
	return raw + "?extra=1"
}

// browse sends a browser through the authorization request q, logging in
// and accepting if asked, and returns where it ended.
func (tg *target) browse(t *testing.T, b *Browser, c *rp, q url.Values) (Visit, error) {
	t.Helper()
	u := tg.endpoint(t, "authorization_endpoint") + "?" + q.Encode()
	return b.Authorize(t.Context(), u, c.RedirectURI, tg.account, Accept)
}

// wantRedirectedError checks that q ends at the client with error code and
// the request's state, and no code.
func wantRedirectedError(t *testing.T, tg *target, what string, q url.Values, code string) {
	t.Helper()
	web := tg.clients[roleWeb]
	v, err := tg.browse(t, tg.browser(t), web, q)
	if err != nil {
		t.Fatalf("%s: %v; want a redirect to the client with error=%s", what, err, code)
	}
	got := v.Callback.Query()
	if got.Get("error") != code || got.Get("code") != "" || got.Get("state") != q.Get("state") {
		t.Errorf("%s: %v, want error=%s with state %q and no code", what, got, code, q.Get("state"))
	}
}

func testMissingPKCE(t *testing.T, tg *target) {
	q := baseQuery(tg.clients[roleWeb])
	q.Del("code_challenge")
	q.Del("code_challenge_method")
	// RFC 9700 §2.1.1: PKCE for every client.
	wantRedirectedError(t, tg, "no code_challenge", q, "invalid_request")
}

func testPlainPKCE(t *testing.T, tg *target) {
	q := baseQuery(tg.clients[roleWeb])
	q.Set("code_challenge", oauth2.GenerateVerifier())
	q.Set("code_challenge_method", "plain")
	wantRedirectedError(t, tg, "code_challenge_method=plain", q, "invalid_request")
}

func testPKCEDefaultPlain(t *testing.T, tg *target) {
	q := baseQuery(tg.clients[roleWeb])
	q.Set("code_challenge", oauth2.GenerateVerifier())
	q.Del("code_challenge_method") // RFC 7636 §4.3: plain by default
	wantRedirectedError(t, tg, "code_challenge without code_challenge_method", q, "invalid_request")
}

func testUnknownResponseType(t *testing.T, tg *target) {
	for _, rt := range []string{"unknown", "token", "code id_token"} {
		q := baseQuery(tg.clients[roleWeb])
		q.Set("response_type", rt)
		wantRedirectedError(t, tg, "response_type="+rt, q, "unsupported_response_type")
	}
}

func testDuplicateAuthorizeParameter(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	b := tg.browser(t)
	for _, name := range []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "scope"} {
		t.Run(name, func(t *testing.T) {
			q := baseQuery(web)
			second := q.Get(name)
			switch name {
			case "state":
				second = random()
			case "code_challenge":
				second = oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
			case "scope":
				second = "openid email"
			}
			q.Add(name, second)
			// RFC 6749 §3.1: parameters MUST NOT be included more than once;
			// invalid_request says so (§4.1.2.1).
			v, err := tg.browse(t, b, web, q)
			if pe, ok := IsPageError(err); ok && pe.Status == http.StatusBadRequest {
				return // the error page: acceptable when the redirect URI is in doubt
			}
			if err != nil {
				t.Fatalf("two %s: %v", name, err)
			}
			if got := v.Callback.Query(); got.Get("error") != "invalid_request" || got.Get("code") != "" {
				t.Errorf("two %s parameters: %v, want error=invalid_request and no code", name, got)
			}
		})
	}
}

func testTamperedIDTokenHint(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	b := tg.browser(t)
	f := tg.authorize(t, b, web)
	raw, _ := tg.exchange(t, f).Extra("id_token").(string)

	// The genuine hint of the signed-in person: a code without a page.
	good := tg.startFlow(t, b, web, Accept, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", raw))
	if good.code() == "" {
		t.Errorf("prompt=none with the session's own ID token as id_token_hint: %v, want a code", good.callback)
	}
	for name, hint := range map[string]string{"tampered": tamper(raw), "garbage": "not.a.jwt", "unsigned": unsigned(raw)} {
		bad := tg.startFlow(t, b, web, Accept, oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", hint))
		// OIDC Core §3.1.2.1: the hint must be one the OP issued.
		if bad.code() != "" || bad.callback.Get("error") == "" || bad.callback.Get("state") != bad.state {
			t.Errorf("%s id_token_hint: %v, want an error with state and no code", name, bad.callback)
		}
	}
}

// unsigned is raw re-headed with alg none and no signature.
func unsigned(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return raw
	}
	return "eyJhbGciOiJub25lIn0." + parts[1] + "."
}

func testOddAuthorizeRequests(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	big := strings.Repeat("x", 8<<10)
	odd := map[string]func(url.Values){
		"8 KiB state":                 func(q url.Values) { q.Set("state", big) },
		"8 KiB scope":                 func(q url.Values) { q.Set("scope", "openid "+big) },
		"invalid UTF-8 in state":      func(q url.Values) { q.Set("state", "\xff\xfe\xfd") },
		"NUL in client_id":            func(q url.Values) { q.Set("client_id", web.ID+"\x00") },
		"100 KiB client_id":           func(q url.Values) { q.Set("client_id", strings.Repeat("c", 100<<10)) },
		"javascript redirect_uri":     func(q url.Values) { q.Set("redirect_uri", "javascript:alert(1)") },
		"relative redirect_uri":       func(q url.Values) { q.Set("redirect_uri", "/callback") },
		"500 extra parameters":        func(q url.Values) { addMany(q, 500) },
		"unknown prompt value":        func(q url.Values) { q.Set("prompt", "sideways") },
		"negative max_age":            func(q url.Values) { q.Set("max_age", "-1") },
		"huge max_age":                func(q url.Values) { q.Set("max_age", "99999999999999999999999") },
		"no client_id or anything":    func(q url.Values) { clear(q) },
		"unknown code_challenge_meth": func(q url.Values) { q.Set("code_challenge_method", "S512") },
	}
	for name, change := range odd {
		q := baseQuery(web)
		change(q)
		res, _ := tg.authorizeOnce(t, q)
		if res.StatusCode >= 500 {
			continue // the guard reported it
		}
		loc, _ := res.Request.URL.Parse(res.Header.Get("Location"))
		switch {
		case res.StatusCode >= 400:
		case res.StatusCode >= 300 && loc != nil:
			if cb, ok := redirectedTo(res, web); ok {
				if cb.Get("code") != "" {
					t.Errorf("%s: a code was issued", name)
				}
				continue
			}
			// Onwards to the issuer's own login page is fine: the request
			// is checked again after login.
			if loc.Host != res.Request.URL.Host {
				t.Errorf("%s: redirected off the issuer to %s", name, loc)
			}
		default:
			t.Errorf("%s: %d, want an error or a redirect", name, res.StatusCode)
		}
	}
}

func addMany(q url.Values, n int) {
	for i := range n {
		q.Set("p"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26%26)), "v")
	}
}

// Token endpoint.

func testWrongVerifier(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	b := tg.browser(t)
	f := tg.authorize(t, b, web)
	if _, err := f.conf.Exchange(tg.ctx(t), f.code(), oauth2.VerifierOption(oauth2.GenerateVerifier())); oauthError(err) != "invalid_grant" {
		t.Errorf("wrong code_verifier: %v, want invalid_grant (RFC 7636 §4.6)", err)
	}
	f = tg.authorize(t, b, web)
	if _, err := f.conf.Exchange(tg.ctx(t), f.code()); oauthError(err) != "invalid_grant" && oauthError(err) != "invalid_request" {
		t.Errorf("no code_verifier: %v, want invalid_grant", err)
	}
}

func testWrongSecret(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	u := tg.endpoint(t, "token_endpoint")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"some-code"}, "redirect_uri": {web.RedirectURI},
		"code_verifier": {oauth2.GenerateVerifier()}}
	for name, c := range map[string]rp{
		"wrong secret":   {ID: web.ID, Secret: "wrong-" + random(), AuthStyle: oauth2.AuthStyleInHeader},
		"unknown client": {ID: "unknown-" + random(), Secret: random(), AuthStyle: oauth2.AuthStyleInHeader},
	} {
		res, m := tg.post(t, u, &c, form)
		// RFC 6749 §5.2: 401 and a challenge when the client used Basic.
		wantError(t, name, res, m, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(strings.ToLower(res.Header.Get("WWW-Authenticate")), "basic") {
			t.Errorf("%s: WWW-Authenticate %q, want a Basic challenge", name, res.Header.Get("WWW-Authenticate"))
		}
		noStore(t, name, res)
	}
	if fc := tg.clients[roleFC]; fc != nil {
		wrong := *fc
		wrong.Secret = "wrong-" + random()
		res, m := tg.post(t, u, &wrong, form)
		if m["error"] != "invalid_client" || (res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusBadRequest) {
			t.Errorf("wrong client_secret_post: %d %v, want invalid_client", res.StatusCode, m)
		}
	}
}

func testMalformedBody(t *testing.T, tg *target) {
	u := tg.endpoint(t, "token_endpoint")
	web := tg.clients[roleWeb]
	for name, body := range map[string]string{
		"bad percent-encoding": "grant_type=authorization_code&code=%zz&redirect_uri=%",
		"semicolons":           "grant_type=authorization_code;code=x",
		"no equals signs":      "authorization_code",
	} {
		res, m := tg.postRaw(t, u, web, body)
		wantError(t, name, res, m, http.StatusBadRequest, "invalid_request")
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(`{"grant_type":"authorization_code"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(web.ID, web.Secret)
	if res, body := tg.do(t, req); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a JSON body: %d %.200s, want 400 (RFC 6749 §3.2: form encoding)", res.StatusCode, body)
	}
}

func testEmptyBody(t *testing.T, tg *target) {
	res, m := tg.postRaw(t, tg.endpoint(t, "token_endpoint"), tg.clients[roleWeb], "")
	wantError(t, "empty body", res, m, http.StatusBadRequest, "invalid_request")
}

func testOversizedBody(t *testing.T, tg *target) {
	body := "grant_type=authorization_code&code=x&pad=" + strings.Repeat("a", 2<<20)
	res, _ := tg.postRaw(t, tg.endpoint(t, "token_endpoint"), tg.clients[roleWeb], body)
	if res.StatusCode != http.StatusRequestEntityTooLarge && res.StatusCode != http.StatusBadRequest {
		t.Errorf("2 MiB body: %d, want 413 or 400", res.StatusCode)
	}
}

func testDuplicatedGrantType(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	f := tg.authorize(t, tg.browser(t), web)
	body := "grant_type=authorization_code&grant_type=authorization_code&" + url.Values{
		"code": {f.code()}, "redirect_uri": {web.RedirectURI}, "code_verifier": {f.verifier}}.Encode()
	res, m := tg.postRaw(t, tg.endpoint(t, "token_endpoint"), web, body)
	// RFC 6749 §3.2: parameters MUST NOT be included more than once.
	wantError(t, "two grant_type parameters", res, m, http.StatusBadRequest, "invalid_request")
}

func testUnknownGrantType(t *testing.T, tg *target) {
	res, m := tg.post(t, tg.endpoint(t, "token_endpoint"), tg.clients[roleWeb], url.Values{"grant_type": {"urn:example:unknown-grant"}})
	// RFC 6749 §5.2.
	wantError(t, "unknown grant_type", res, m, http.StatusBadRequest, "unsupported_grant_type")
}

func testTokenNoStore(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	u := tg.endpoint(t, "token_endpoint")
	f := tg.authorize(t, tg.browser(t), web)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {f.code()}, "redirect_uri": {web.RedirectURI}, "code_verifier": {f.verifier}}
	res, m := tg.post(t, u, web, form)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("code exchange: %d %v", res.StatusCode, m)
	}
	noStore(t, "code exchange", res)
	res, _ = tg.post(t, u, web, form) // the same code again: an error
	noStore(t, "invalid_grant answer", res)
	res, _ = tg.post(t, u, web, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"never-issued"}})
	noStore(t, "refresh error answer", res)
	if tg.clients[roleService] != nil {
		res, _ = tg.clientCredentials(t, strings.Join(tg.clients[roleService].Scopes, " "))
		noStore(t, "client credentials", res)
	}
}
