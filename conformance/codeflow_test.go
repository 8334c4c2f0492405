package conformance

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func testCodeFlow(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	b := tg.browser(t)
	f := tg.authorize(t, b, web)
	if !f.visit.LoginShown {
		t.Error("a browser without a session got a code without seeing the login form")
	}
	// RFC 9207: the issuer names itself in the response, against mix-up.
	if iss := f.callback.Get("iss"); (tg.relaisRules || iss != "") && iss != tg.issuer {
		t.Errorf("iss in the authorization response = %q, want %s", iss, tg.issuer)
	}
	tok := tg.exchange(t, f)
	if !strings.EqualFold(tok.TokenType, "bearer") || tok.AccessToken == "" || tok.Expiry.IsZero() {
		t.Errorf("token response: type %q, access token %t, expiry %v; want a bearer token with expires_in",
			tok.TokenType, tok.AccessToken != "", tok.Expiry)
	}
	if _, ok := tok.Extra("id_token").(string); !ok {
		t.Error("token response for the openid scope has no id_token")
	}

	// The same browser again: the session and the consent are remembered.
	again := tg.authorize(t, b, web)
	if again.visit.LoginShown {
		t.Error("the login form was shown again within the session")
	}
	if tg.relaisRules && again.visit.ConsentShown {
		t.Error("the consent page was shown again for the same scopes (OIDC Core §3.1.2.4: Relais remembers)")
	}
	if again.code() == f.code() {
		t.Error("two authorizations got the same code")
	}
}

func testStateRoundTrip(t *testing.T, tg *target) {
	state := "é/+ ?&=%20#" + random()
	f := tg.authorize(t, tg.browser(t), tg.clients[roleWeb], oauth2.SetAuthURLParam("state", state))
	if got := f.callback.Get("state"); got != state {
		t.Errorf("state came back as %q, want %q", got, state)
	}
}

func testIDToken(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	start := time.Now()
	f, tok := tg.login(t, web)
	idt := tg.verifyID(t, web, tok, f.nonce)
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	const skew = time.Minute
	if !slices.Contains(idt.Audience, web.ID) {
		t.Errorf("aud %v does not name %s", idt.Audience, web.ID)
	}
	if azp, ok := claims["azp"]; ok && azp != web.ID {
		t.Errorf("azp %v, want %s", azp, web.ID)
	}
	if idt.IssuedAt.After(now.Add(skew)) || idt.IssuedAt.Before(start.Add(-skew)) {
		t.Errorf("iat %v is not the time of issue (between %v and %v)", idt.IssuedAt, start, now)
	}
	if !idt.Expiry.After(now) || idt.Expiry.Sub(idt.IssuedAt) > time.Hour {
		t.Errorf("exp %v: want later than now and within an hour of iat %v", idt.Expiry, idt.IssuedAt)
	}
	if tg.relaisRules && idt.Expiry.Sub(idt.IssuedAt) > 10*time.Minute+time.Second {
		t.Errorf("ID token lives %v, more than Relais's 10 min default", idt.Expiry.Sub(idt.IssuedAt))
	}
	authTime, ok := claims["auth_time"].(float64)
	if !ok {
		t.Error("no auth_time, though the person logged in during this request")
	} else if at := time.Unix(int64(authTime), 0); at.Before(start.Add(-skew)) || at.After(now.Add(skew)) {
		t.Errorf("auth_time %v is not when the person logged in (between %v and %v)", at, start, now)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("at_hash does not match the access token: %v", err)
		}
	}
	if sub := idt.Subject; sub == "" || len(sub) > 255 {
		t.Errorf("sub %q: want 1 to 255 characters (OIDC Core §2)", sub)
	}
	if tg.relaisRules {
		header, _ := decodeJWT(t, tok.Extra("id_token").(string))
		if header["alg"] != "ES256" || header["kid"] == nil {
			t.Errorf("ID token header %v, want ES256 (Relais's default) with a kid", header)
		}
	}

	// The same token, changed by one character of its payload, must fail.
	raw := tok.Extra("id_token").(string)
	if _, err := tg.provider(t).Verifier(&oidc.Config{ClientID: web.ID, SupportedSigningAlgs: []string{"ES256", "RS256"}}).
		Verify(tg.ctx(t), tamper(raw)); err == nil {
		t.Error("a tampered ID token verifies")
	}
	// And for another audience, it is not valid.
	if _, err := tg.provider(t).Verifier(&oidc.Config{ClientID: "another-site", SupportedSigningAlgs: []string{"ES256", "RS256"}}).
		Verify(tg.ctx(t), raw); err == nil {
		t.Error("the ID token verifies for a client it was not issued to")
	}
}

// tamper changes one claim of a JWS without re-signing it.
func tamper(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(parts[1]) < 8 {
		return raw + "x"
	}
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	parts[1] = string(p)
	return strings.Join(parts, ".")
}

func testACRAndAMR(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	// FranceConnect's sites ask acr_values=eidas1.
	f, tok := tg.login(t, web, oauth2.SetAuthURLParam("acr_values", "eidas1"))
	idt := tg.verifyID(t, web, tok, f.nonce)
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatalf("acr/amr claims: %v", err)
	}
	if tg.relaisRules && claims.ACR != "eidas1" {
		t.Errorf("acr %q, want eidas1 as FranceConnect answers", claims.ACR)
	}
	// RFC 8176: a password login is pwd.
	if tg.relaisRules && !slices.Contains(claims.AMR, "pwd") {
		t.Errorf("amr %v, want pwd for a password login", claims.AMR)
	}
}

func testRS256(t *testing.T, tg *target) {
	c := tg.clients[roleRS256]
	f, tok := tg.login(t, c)
	header, _ := decodeJWT(t, tok.Extra("id_token").(string))
	if header["alg"] != "RS256" {
		t.Errorf("ID token alg %v, want RS256 as registered", header["alg"])
	}
	tg.verifyID(t, c, tok, f.nonce, "RS256")
}

func testAccessTokenProfile(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	f, tok := tg.login(t, web)
	idt := tg.verifyID(t, web, tok, f.nonce)
	claims := checkAccessToken(t, tg, tok.AccessToken, web.ID)
	if claims["sub"] != idt.Subject {
		t.Errorf("access token sub %v, want the ID token's %s", claims["sub"], idt.Subject)
	}
	if scope, _ := claims["scope"].(string); !slices.Contains(strings.Fields(scope), "openid") {
		t.Errorf("scope claim %q lacks the granted openid", scope)
	}
}

// checkAccessToken checks RFC 9068's profile and the signature, and
// returns the claims.
func checkAccessToken(t *testing.T, tg *target, raw, clientID string) map[string]any {
	t.Helper()
	header, claims := decodeJWT(t, raw)
	// RFC 9068 §2.1: typ at+jwt (or application/at+jwt).
	if typ, _ := header["typ"].(string); !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), "at+jwt") {
		t.Errorf("access token typ %q, want at+jwt (RFC 9068 §2.1)", typ)
	}
	if kid, _ := header["kid"].(string); kid == "" {
		t.Error("access token header has no kid")
	}
	if alg, _ := header["alg"].(string); alg == "" || alg == "none" || strings.HasPrefix(alg, "HS") {
		t.Errorf("access token alg %q, want an asymmetric signature (RFC 9068 §2.1)", alg)
	}
	keys := oidc.NewRemoteKeySet(tg.ctx(t), tg.endpoint(t, "jwks_uri"))
	if _, err := keys.VerifySignature(tg.ctx(t), raw); err != nil {
		t.Errorf("access token signature does not verify with the JWKS: %v", err)
	}
	// RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti.
	if claims["iss"] != tg.issuer {
		t.Errorf("iss %v, want %s", claims["iss"], tg.issuer)
	}
	for _, name := range []string{"exp", "iat"} {
		if _, ok := claims[name].(float64); !ok {
			t.Errorf("%s %v is not a NumericDate", name, claims[name])
		}
	}
	if exp, _ := claims["exp"].(float64); time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Errorf("fresh access token already expired at %v", time.Unix(int64(exp), 0))
	}
	if len(audience(claims["aud"])) == 0 {
		t.Errorf("aud %v is empty", claims["aud"])
	}
	if claims["client_id"] != clientID {
		t.Errorf("client_id %v, want %s", claims["client_id"], clientID)
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		t.Error("no sub")
	}
	if jti, _ := claims["jti"].(string); jti == "" {
		t.Error("no jti")
	}
	// RFC 9068 §2.2.3: scope is a space-separated string, not a list.
	if _, ok := claims["scope"].(string); !ok {
		t.Errorf("scope %v (%T) is not a string", claims["scope"], claims["scope"])
	}
	return claims
}

var (
	birthdateRe    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	inseeCommuneRe = regexp.MustCompile(`^[0-9][0-9AB][0-9]{3}$`) // 2A and 2B: Corsica
	inseeCountryRe = regexp.MustCompile(`^99[0-9]{3}$`)
)

func testUserinfoFranceConnect(t *testing.T, tg *target) {
	fc := tg.clients[roleFC]
	f, tok := tg.login(t, fc, oauth2.SetAuthURLParam("scope", "openid identite_pivot email"))
	idt := tg.verifyID(t, fc, tok, f.nonce)
	info, err := tg.provider(t).UserInfo(tg.ctx(t), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	claims := map[string]any{}
	if err := info.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	// OIDC Core §5.3.2: the same sub as the ID token, always.
	if info.Subject != idt.Subject {
		t.Errorf("userinfo sub %q, ID token sub %q", info.Subject, idt.Subject)
	}
	for _, name := range []string{"given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry", "email"} {
		if s, _ := claims[name].(string); s == "" {
			t.Errorf("%s missing from userinfo for identite_pivot email: %v", name, claims)
		}
	}
	checks := []struct {
		name string
		ok   func(string) bool
		want string
	}{
		{"birthdate", birthdateRe.MatchString, "YYYY-MM-DD"},
		{"gender", func(s string) bool { return s == "male" || s == "female" }, "male or female"},
		{"birthplace", inseeCommuneRe.MatchString, "an INSEE commune code"},
		{"birthcountry", inseeCountryRe.MatchString, "an INSEE country code (99xxx)"},
	}
	for _, c := range checks {
		if s, _ := claims[c.name].(string); s != "" && !c.ok(s) {
			t.Errorf("%s %q, want %s as FranceConnect gives it", c.name, s, c.want)
		}
	}
	if tg.relaisRules {
		given, _ := claims["given_name"].(string)
		if arr := stringList(claims["given_name_array"]); strings.Join(arr, " ") != given {
			t.Errorf("given_name_array %v does not spell given_name %q", claims["given_name_array"], given)
		}
	}
	for name, want := range tg.person {
		if claims[name] != want {
			t.Errorf("userinfo %s = %v, want %v", name, claims[name], want)
		}
	}
	// Claims of scopes not asked for stay out.
	for _, name := range []string{"phone_number", "address", "preferred_username"} {
		if v, ok := claims[name]; ok {
			t.Errorf("%s = %v given without its scope", name, v)
		}
	}
}

func testUserinfoWithoutToken(t *testing.T, tg *target) {
	u := tg.endpoint(t, "userinfo_endpoint")
	for name, bearer := range map[string]string{"no token": "", "garbage token": "not-a-token", "tampered token": tamper(tg.someAccessToken(t))} {
		res, _ := tg.get(t, u, bearer)
		// RFC 6750 §3.1.
		if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d, WWW-Authenticate %q; want 401 with a Bearer challenge", name, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		if bearer != "" && !strings.Contains(res.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("%s: WWW-Authenticate %q, want error=\"invalid_token\"", name, res.Header.Get("WWW-Authenticate"))
		}
	}
}

// subOf logs in to c in b and returns the ID token's sub.
func (tg *target) subOf(t *testing.T, b *Browser, c *rp) string {
	t.Helper()
	f := tg.authorize(t, b, c)
	return tg.verifyID(t, c, tg.exchange(t, f), f.nonce).Subject
}

func testPairwise(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	b := tg.browser(t)
	sub := tg.subOf(t, b, web)
	t.Run("stable across logins", func(t *testing.T) {
		if again := tg.subOf(t, tg.browser(t), web); again != sub {
			t.Errorf("a second login gave sub %q, the first %q", again, sub)
		}
	})
	t.Run("not the local id", func(t *testing.T) {
		c := tg.clients[rolePublic]
		if c == nil || !tg.relaisRules {
			t.Skip("needs the public client, registered for public subjects: its sub is the local id")
		}
		if local := tg.subOf(t, b, c); local == sub {
			t.Errorf("the pairwise sub %q is the local id a public-subject client sees", sub)
		}
	})
	t.Run("another sector sees another sub", func(t *testing.T) {
		c := tg.clients[roleFC]
		if c == nil {
			t.Skip("needs the FC client, of another sector")
		}
		if other := tg.subOf(t, b, c); other == sub {
			t.Errorf("two sectors see the same sub %q", sub)
		}
	})
	t.Run("a site of the same sector sees the same sub", func(t *testing.T) {
		c := tg.clients[roleSameSector]
		if c == nil {
			t.Skip("needs a second client of the main client's sector")
		}
		if same := tg.subOf(t, b, c); same != sub {
			t.Errorf("two sites of one sector see %q and %q", sub, same)
		}
	})
}

func testPublicClient(t *testing.T, tg *target) {
	c := tg.clients[rolePublic]
	f, tok := tg.login(t, c)
	tg.verifyID(t, c, tok, f.nonce)

	// Without the verifier, a public client has nothing to prove the code
	// is its own.
	f = tg.authorize(t, tg.browser(t), c)
	if _, err := f.conf.Exchange(tg.ctx(t), f.code()); oauthError(err) != "invalid_grant" && oauthError(err) != "invalid_request" {
		t.Errorf("public client's exchange without code_verifier: %v, want invalid_grant", err)
	}
}

func testPromptLogin(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	b := tg.browser(t)
	tg.authorize(t, b, web)
	f := tg.authorize(t, b, web, oauth2.SetAuthURLParam("prompt", "login"))
	if !f.visit.LoginShown {
		t.Error("prompt=login returned a code without showing the login form")
	}
}

func testPromptNoneLoginRequired(t *testing.T, tg *target) {
	f := tg.startFlow(t, tg.browser(t), tg.clients[roleWeb], Accept, oauth2.SetAuthURLParam("prompt", "none"))
	if f.visit.LoginShown || f.callback.Get("error") != "login_required" || f.callback.Get("state") != f.state || f.code() != "" {
		t.Errorf("prompt=none without a session: %v (login form shown: %t), want error=login_required with state",
			f.callback, f.visit.LoginShown)
	}
}

func testConsentRefused(t *testing.T, tg *target) {
	// prompt=consent: the page is shown even if an earlier case accepted.
	f := tg.startFlow(t, tg.browser(t), tg.clients[roleWeb], Refuse, oauth2.SetAuthURLParam("prompt", "consent"))
	if !f.visit.ConsentShown {
		t.Fatalf("prompt=consent: no consent page was shown; callback %v", f.callback)
	}
	if f.callback.Get("error") != "access_denied" || f.callback.Get("state") != f.state || f.code() != "" {
		t.Errorf("refused consent: %v, want error=access_denied with state and no code", f.callback)
	}
}

func testErrorResponseISS(t *testing.T, tg *target) {
	if tg.metadata(t)["authorization_response_iss_parameter_supported"] != true {
		t.Skip("the issuer does not announce RFC 9207")
	}
	f := tg.startFlow(t, tg.browser(t), tg.clients[roleWeb], Accept, oauth2.SetAuthURLParam("prompt", "none"))
	if f.callback.Get("error") == "" {
		t.Fatalf("want an error answer, got %v", f.callback)
	}
	// RFC 9207 §2: iss in every authorization response, errors included.
	if got := f.callback.Get("iss"); got != tg.issuer {
		t.Errorf("error answer %v: iss %q, want %s (RFC 9207 §2)", f.callback, got, tg.issuer)
	}
}

func testPAR(t *testing.T, tg *target) {
	parURL, _ := tg.metadata(t)["pushed_authorization_request_endpoint"].(string)
	if parURL == "" {
		if tg.relaisRules {
			t.Fatal("discovery has no pushed_authorization_request_endpoint")
		}
		t.Skip("the issuer offers no PAR")
	}
	web := tg.clients[roleWeb]
	verifier, state, nonce := oauth2.GenerateVerifier(), random(), random()
	res, m := tg.post(t, parURL, web, url.Values{
		"response_type": {"code"}, "client_id": {web.ID}, "redirect_uri": {web.RedirectURI}, "scope": {strings.Join(web.Scopes, " ")},
		"state": {state}, "nonce": {nonce}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	})
	requestURI, _ := m["request_uri"].(string)
	expires, _ := m["expires_in"].(float64)
	// RFC 9126 §2.2.
	if res.StatusCode != http.StatusCreated || !strings.HasPrefix(requestURI, "urn:ietf:params:oauth:request_uri:") || expires <= 0 {
		t.Fatalf("PAR: %d %v, want 201 with a request_uri and expires_in", res.StatusCode, m)
	}
	noStore(t, "PAR", res)
	// The browser starts from client_id and request_uri alone, and logs in
	// on the way, as a person without a session does.
	authURL := tg.endpoint(t, "authorization_endpoint") + "?" + url.Values{"client_id": {web.ID}, "request_uri": {requestURI}}.Encode()
	v, err := tg.browser(t).Authorize(t.Context(), authURL, web.RedirectURI, tg.account, Accept)
	if err != nil {
		when := "before the login form"
		if v.LoginShown {
			when = "after the login form (was the pushed request used up by the first visit?)"
		}
		t.Fatalf("authorization with the pushed request failed %s: %v", when, err)
	}
	q := v.Callback.Query()
	if q.Get("code") == "" || q.Get("state") != state {
		t.Fatalf("authorization with the pushed request: %v, want a code and state %q", q, state)
	}
	conf := tg.oauth(t, web)
	tok, err := conf.Exchange(tg.ctx(t), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchanging the PAR code: %v", err)
	}
	tg.verifyID(t, web, tok, nonce)

	// RFC 9126 §4: a request_uri is for one authorization only.
	v, err = tg.browser(t).Authorize(t.Context(), authURL, web.RedirectURI, tg.account, Accept)
	if err == nil && v.Callback.Query().Get("code") != "" {
		t.Error("a used request_uri gave a second code")
	}
}
