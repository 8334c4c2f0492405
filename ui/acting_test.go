package ui_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// signedInClient is a browser with p's session cookie.
func signedInClient(t *testing.T, app *oidcApp, p mandates.Person, amr ...string) *http.Client {
	t.Helper()
	c := browserClient(t)
	u, _ := url.Parse(app.srv.URL)
	for name, value := range sessionFor(t, app, p, amr...) {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	}
	return c
}

// claimsOf reads a JWT's payload; the signature is checked elsewhere.
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// actingRun is Marie, Jeanne's tutor, signing in at the caf site.
type actingRun struct {
	app      *oidcApp
	cast     *cast
	c        *http.Client
	conf     *oauth2.Config
	verifier string
	repID    string
}

func newActingRun(t *testing.T) *actingRun {
	t.Helper()
	app := newOIDCApp(t)
	cast := newCast(t, app)
	if _, err := app.store.UpdateClient(t.Context(), "caf", func(c *oauth.Client) error {
		c.GrantTypes = []string{"authorization_code", "refresh_token"}
		c.Scopes = append(c.Scopes, "offline_access", "protection")
		c.ProcedureAreas = []string{"social", "famille"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	reps, err := app.store.RepresentationsOf(t.Context(), cast.jeanne.ID)
	if err != nil || len(reps) != 1 {
		t.Fatalf("Jeanne's representations: %v %v", reps, err)
	}
	run := &actingRun{app: app, cast: cast, c: signedInClient(t, app, cast.marie), conf: app.conf(), verifier: oauth2.GenerateVerifier(), repID: reps[0].ID}
	run.conf.Scopes = []string{"openid", "identite_pivot", "offline_access"}
	return run
}

// page GETs a Relais path and returns the status and body.
func (a *actingRun) page(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = a.app.srv.URL + u
	}
	res, err := a.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return res, readBody(t, res)
}

func (a *actingRun) post(t *testing.T, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := a.c.PostForm(a.app.srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return res, readBody(t, res)
}

// choose answers the "for whom?" page and follows to the consent page.
func (a *actingRun) choose(t *testing.T, choice string, extra ...oauth2.AuthCodeOption) string {
	t.Helper()
	res, page := a.page(t, a.conf.AuthCodeURL("state-123456", append(extra, oauth2.S256ChallengeOption(a.verifier))...))
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Pour qui faites-vous cette démarche") || !strings.Contains(page, "Jeanne Petit") {
		t.Fatalf("for whom page: %d\n%.2000s", res.StatusCode, page)
	}
	request := htmlUnescape(between(page, `name="request" value="`, `"`))
	res, _ = a.post(t, "/pour-qui", url.Values{"request": {request}, "for": {choice}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("choice: %d", res.StatusCode)
	}
	res, page = a.page(t, res.Header.Get("Location"))
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `value="accept"`) {
		t.Fatalf("consent page after the choice: %d\n%.2000s", res.StatusCode, page)
	}
	return page
}

// accept agrees on the consent page and exchanges the code.
func (a *actingRun) accept(t *testing.T, consentPage string) *oauth2.Token {
	t.Helper()
	res, _ := a.post(t, "/consent", url.Values{"request": {htmlUnescape(between(consentPage, `name="request" value="`, `"`))}, "decision": {"accept"}})
	if strings.HasPrefix(res.Header.Get("Location"), "/authorize?") {
		// For oneself the consent is remembered, then /authorize answers.
		res, _ = a.page(t, res.Header.Get("Location"))
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("after consent: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok, err := a.conf.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func TestATutorActsForThePersonAndTheTokensSaySo(t *testing.T) {
	a := newActingRun(t)
	page := a.choose(t, a.repID)
	if !strings.Contains(page, "Vous agissez pour Jeanne Petit") || !strings.Contains(page, "Tutelle") {
		t.Errorf("the consent page does not say for whom:\n%.2000s", page)
	}
	tok := a.accept(t, page)
	id := claimsOf(t, tok.Extra("id_token").(string))
	at := claimsOf(t, tok.AccessToken)
	caf, _ := a.app.store.Client(t.Context(), "caf")
	jeanneSub, marieSub := a.app.provider.Subject(caf, a.cast.jeanne.ID), a.app.provider.Subject(caf, a.cast.marie.ID)
	for name, claims := range map[string]map[string]any{"ID token": id, "access token": at} {
		if claims["sub"] != jeanneSub {
			t.Errorf("%s: sub %v, want Jeanne's %s", name, claims["sub"], jeanneSub)
		}
		act, _ := claims["act"].(map[string]any)
		if act == nil || act["sub"] != marieSub || act["given_name"] != "Marie" || act["family_name"] != "Martin" {
			t.Errorf("%s: act %v, want Marie's sub and names", name, claims["act"])
		}
		rep, _ := claims["representation"].(map[string]any)
		actions, _ := rep["actions"].(map[string]any)
		if rep == nil || rep["id"] != a.repID || rep["kind"] != "tutelle" || rep["role"] != "tuteur" || actions["dispose"] != "allowed" || actions["personal"] != "no" {
			t.Errorf("%s: representation %v", name, claims["representation"])
		}
	}

	// userinfo says the same: Jeanne's identity, Marie acting.
	res, err := a.conf.Client(t.Context(), tok).Get(a.app.srv.URL + "/userinfo")
	if err != nil {
		t.Fatal(err)
	}
	var ui map[string]any
	json.NewDecoder(res.Body).Decode(&ui)
	res.Body.Close()
	if ui["sub"] != jeanneSub || ui["given_name"] != "Jeanne" || ui["act"] == nil || ui["representation"] == nil {
		t.Errorf("userinfo %v", ui)
	}

	// The person acting for themselves gets no act.
	self := &actingRun{app: a.app, cast: a.cast, c: signedInClient(t, a.app, a.cast.marie), conf: a.conf, verifier: oauth2.GenerateVerifier()}
	tok = self.accept(t, self.choose(t, authz.ActingSelf))
	if claims := claimsOf(t, tok.Extra("id_token").(string)); claims["sub"] != marieSub || claims["act"] != nil || claims["representation"] != nil {
		t.Errorf("for herself: %v", claims)
	}
}

func TestAForgedChoiceIsRefusedAndAskedAgain(t *testing.T) {
	a := newActingRun(t)
	_, page := a.page(t, a.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(a.verifier)))
	request := htmlUnescape(between(page, `name="request" value="`, `"`))
	for name, choice := range map[string]string{"someone else's representation": mandates.NewID(time.Now()), "nothing chosen": ""} {
		res, body := a.post(t, "/pour-qui", url.Values{"request": {request}, "for": {choice}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "Jeanne Petit") {
			t.Errorf("%s: %d\n%.1500s", name, res.StatusCode, body)
		}
	}
	// A choice sealed for another browser session does not skip the page.
	other := authz.ActingSelf + ".9999999999.forged"
	res, body := a.page(t, a.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(a.verifier), oauth2.SetAuthURLParam("relais_for", other)))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Pour qui faites-vous") {
		t.Errorf("a forged sealed choice: %d", res.StatusCode)
	}
	// prompt=none cannot choose for the person.
	res, _ = a.page(t, a.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(a.verifier), oauth2.SetAuthURLParam("prompt", "none")))
	if loc, _ := url.Parse(res.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "interaction_required" {
		t.Errorf("prompt=none with people to choose from: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestAPersonWithNobodyToChooseSkipsThePage(t *testing.T) {
	a := newActingRun(t)
	a.c = signedInClient(t, a.app, a.cast.jeanne)
	res, page := a.page(t, a.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(a.verifier)))
	if res.StatusCode != http.StatusOK || strings.Contains(page, "Pour qui") || !strings.Contains(page, `value="accept"`) {
		t.Errorf("Jeanne, who acts for nobody: %d\n%.1000s", res.StatusCode, page)
	}
}

func TestASiteOutsideTheRepresentationsAreasOffersNoChoice(t *testing.T) {
	a := newActingRun(t)
	// The proxy covers housing only; the site is about benefits and family.
	if _, err := a.app.store.UpdateClient(t.Context(), "caf", func(c *oauth.Client) error {
		c.ProcedureAreas = []string{"transports"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	in, err := a.app.service.RegisterMeasure(t.Context(), mandates.Actor{PersonID: a.cast.operator.ID}, mandates.MeasureInput{
		Kind: mandates.HabilitationRepresentation, PersonID: a.cast.ahmed.ID,
		Representatives: []mandates.RepresentativeInput{{PersonID: a.cast.karim.ID, Role: mandates.RolePersonneHabilitee}},
		Areas:           []mandates.Area{"logement"}, ValidFrom: time.Now().Add(-time.Hour), ValidUntil: time.Now().AddDate(2, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lille", Date: time.Now().AddDate(0, 0, -3), Reference: "RG 26/7"}})
	if err != nil || len(in) != 1 {
		t.Fatal(err)
	}
	a.c = signedInClient(t, a.app, a.cast.karim)
	res, page := a.page(t, a.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(a.verifier)))
	if res.StatusCode != http.StatusOK || strings.Contains(page, "Pour qui") {
		t.Errorf("a representation for housing at a transport site: %d, page shown", res.StatusCode)
	}
}

func TestSuspendingTheRepresentationStopsItsTokensAtOnce(t *testing.T) {
	a := newActingRun(t)
	tok := a.accept(t, a.choose(t, a.repID))
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	introspect := func() bool {
		req, _ := http.NewRequest(http.MethodPost, a.app.srv.URL+"/introspect", strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("caf", a.app.secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return m["active"] == true
	}
	if !introspect() {
		t.Fatal("the token is inactive before the suspension")
	}
	if _, err := a.app.service.Suspend(t.Context(), mandates.Actor{PersonID: a.cast.operator.ID}, a.repID, 0, "vérification"); err != nil {
		t.Fatal(err)
	}
	if introspect() {
		t.Error("introspection still says active after the suspension")
	}
	_, err := a.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if err == nil || !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh after the suspension: %v, want invalid_grant", err)
	}
	res, err := a.conf.Client(t.Context(), tok).Get(a.app.srv.URL + "/userinfo")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo after the suspension: %d", res.StatusCode)
	}
	// Resumed, the grant is gone all the same: its refresh family was
	// revoked when it was refused.
	if _, err := a.app.service.Resume(t.Context(), mandates.Actor{PersonID: a.cast.operator.ID}, a.repID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("the refused refresh token works again after the resumption")
	}
}

func TestAuthorizationDetailsAreNarrowedOrRefused(t *testing.T) {
	a := newActingRun(t)
	// A subrogé tuteur only consults: asking to manage is refused, or
	// narrowed when the site says so.
	if _, err := a.app.service.RegisterMeasure(t.Context(), mandates.Actor{PersonID: a.cast.operator.ID}, mandates.MeasureInput{
		Kind: mandates.Tutelle, PersonID: a.cast.ahmed.ID,
		Representatives: []mandates.RepresentativeInput{{PersonID: a.cast.marie.ID, Role: mandates.RoleSubrogeTuteur}},
		ValidFrom:       time.Now().Add(-time.Hour), ValidUntil: time.Now().AddDate(2, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: time.Now().AddDate(0, 0, -3), Reference: "RG 26/8"}}); err != nil {
		t.Fatal(err)
	}
	reps, _ := a.app.store.RepresentationsOf(t.Context(), a.cast.ahmed.ID)
	details := func(narrow bool) oauth2.AuthCodeOption {
		b, _ := json.Marshal([]authz.AuthorizationDetail{{Type: "public_service_act", Actions: []string{"consult", "manage"}, ProcedureAreas: []string{"social"}, Narrow: narrow}})
		return oauth2.SetAuthURLParam("authorization_details", string(b))
	}
	page := a.choose(t, reps[0].ID, details(true))
	if !strings.Contains(page, "Voir le dossier") {
		t.Errorf("the consent page does not show the asked acts:\n%.2000s", page)
	}
	tok := a.accept(t, page)
	granted, _ := tok.Extra("authorization_details").([]any)
	if len(granted) != 1 || !strings.Contains(mustJSON(t, granted), `"actions":["consult"]`) {
		t.Errorf("narrowed details in the token response: %s", mustJSON(t, granted))
	}
	if at := claimsOf(t, tok.AccessToken); !strings.Contains(mustJSON(t, at["authorization_details"]), `"actions":["consult"]`) {
		t.Errorf("narrowed details in the access token: %v", at["authorization_details"])
	}

	page = a.choose(t, reps[0].ID, details(false))
	res, _ := a.post(t, "/consent", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}, "decision": {"accept"}})
	if loc, _ := url.Parse(res.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "invalid_authorization_details" {
		t.Errorf("beyond the representation: %d to %q, want invalid_authorization_details", res.StatusCode, res.Header.Get("Location"))
	}

	res, _ = a.page(t, a.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(a.verifier),
		oauth2.SetAuthURLParam("authorization_details", `[{"type":"payment_initiation","actions":["pay"]}]`)))
	if loc, _ := url.Parse(res.Header.Get("Location")); loc == nil || loc.Query().Get("error") != "invalid_authorization_details" {
		t.Errorf("an unknown type: %d to %q, want invalid_authorization_details", res.StatusCode, res.Header.Get("Location"))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func asRetrieveError(err error, re **oauth2.RetrieveError) bool {
	e, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = e
	}
	return ok
}

// exchange calls the token endpoint with an RFC 8693 token exchange, as
// clientID, and returns the status and the JSON answer.
func exchange(t *testing.T, app *oidcApp, clientID, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	form.Set("grant_type", authz.GrantTypeTokenExchange)
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func TestTokenExchangeKeepsThePersonAndNestsTheActors(t *testing.T) {
	a := newActingRun(t)
	ctx := t.Context()
	// The tax office's API, in another sector; and a site not allowed to
	// exchange.
	_, apiHash := oauth.NewClientSecret()
	if err := a.app.store.CreateClient(ctx, oauth.Client{ID: "api-impots", Name: "API impots", RedirectURIs: []string{"https://impots.example.fr/cb"},
		Scopes: []string{"openid", "identite_pivot"}, GrantTypes: []string{"client_credentials"}, SecretHash: apiHash, SectorIdentifier: "impots.example.fr"}); err != nil {
		t.Fatal(err)
	}
	otherSecret, otherHash := oauth.NewClientSecret()
	if err := a.app.store.CreateClient(ctx, oauth.Client{ID: "mairie", Name: "Mairie", RedirectURIs: []string{"https://mairie.example.fr/cb"},
		Scopes: []string{"openid"}, GrantTypes: []string{"authorization_code"}, SecretHash: otherHash, SectorIdentifier: "mairie.example.fr"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.app.store.UpdateClient(ctx, "caf", func(c *oauth.Client) error {
		c.GrantTypes = append(c.GrantTypes, authz.GrantTypeTokenExchange)
		c.ExchangeAudiences = []string{"api-impots"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	tok := a.accept(t, a.choose(t, a.repID))
	form := func() url.Values {
		return url.Values{"subject_token": {tok.AccessToken}, "subject_token_type": {authz.TokenTypeAccessToken}, "audience": {"api-impots"},
			"scope": {"openid identite_pivot"}}
	}
	status, body := exchange(t, a.app, "caf", a.app.secret, form())
	if status != http.StatusOK || body["issued_token_type"] != authz.TokenTypeAccessToken {
		t.Fatalf("exchange: %d %v", status, body)
	}
	api, _ := a.app.store.Client(ctx, "api-impots")
	claims := claimsOf(t, body["access_token"].(string))
	if claims["sub"] != a.app.provider.Subject(api, a.cast.jeanne.ID) {
		t.Errorf("sub %v, want Jeanne's sub in the tax office's sector", claims["sub"])
	}
	if aud := mustJSON(t, claims["aud"]); aud != `["api-impots"]` {
		t.Errorf("aud %s", aud)
	}
	act, _ := claims["act"].(map[string]any)
	inner, _ := act["act"].(map[string]any)
	if act["sub"] != "caf" || inner == nil || inner["sub"] != a.app.provider.Subject(api, a.cast.marie.ID) || inner["given_name"] != "Marie" {
		t.Errorf("act %s, want caf acting for Marie (with her sub at the tax office)", mustJSON(t, claims["act"]))
	}
	if rep, _ := claims["representation"].(map[string]any); rep["id"] != a.repID {
		t.Errorf("representation %v", claims["representation"])
	}
	if strings.Contains(mustJSON(t, claims["scope"]), "offline_access") {
		t.Errorf("scope %v carries offline_access", claims["scope"])
	}

	bad := []struct {
		name, client, secret string
		change               func(url.Values)
		status               int
		code                 string
	}{
		{"a client not allowed to exchange", "mairie", otherSecret, func(url.Values) {}, 400, "unauthorized_client"},
		{"an audience not allowed", "caf", a.app.secret, func(f url.Values) { f.Set("audience", "mairie") }, 400, "invalid_target"},
		{"a scope beyond the subject token", "caf", a.app.secret, func(f url.Values) { f.Set("scope", "openid email") }, 400, "invalid_scope"},
		{"a token of another issuer", "caf", a.app.secret, func(f url.Values) {
			f.Set("subject_token", "eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vcGUifQ.eyJzdWIiOiJ4In0.c2ln")
		}, 400, "invalid_request"},
		{"a refresh token as the subject", "caf", a.app.secret, func(f url.Values) {
			f.Set("subject_token", tok.RefreshToken)
			f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token")
		}, 400, "invalid_request"},
		{"a wrong client secret", "caf", "wrong", func(url.Values) {}, 401, "invalid_client"},
	}
	for _, tt := range bad {
		f := form()
		tt.change(f)
		if status, body := exchange(t, a.app, tt.client, tt.secret, f); status != tt.status || body["error"] != tt.code {
			t.Errorf("%s: %d %v, want %d %s", tt.name, status, body, tt.status, tt.code)
		}
	}

	// A revoked subject token no longer exchanges.
	tok2 := a.accept(t, a.choose(t, a.repID))
	req, _ := http.NewRequest(http.MethodPost, a.app.srv.URL+"/revoke", strings.NewReader(url.Values{"token": {tok2.AccessToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("caf", a.app.secret)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", res, err)
	}
	f := form()
	f.Set("subject_token", tok2.AccessToken)
	if status, body := exchange(t, a.app, "caf", a.app.secret, f); status != 400 || body["error"] != "invalid_request" {
		t.Errorf("a revoked subject token: %d %v", status, body)
	}

	// Withdrawn or suspended, the representation no longer exchanges.
	if _, err := a.app.service.Suspend(ctx, mandates.Actor{PersonID: a.cast.operator.ID}, a.repID, 0, ""); err != nil {
		t.Fatal(err)
	}
	if status, body := exchange(t, a.app, "caf", a.app.secret, form()); status != 400 || body["error"] != "invalid_request" {
		t.Errorf("after the suspension: %d %v", status, body)
	}
}

// TestAnAnswerPostedForARequestThatAsksANewLoginAsksItFirst: a signed-in
// tutor who posts the consent form of a request carrying max_age=0 (taken
// from a site's link, with a choice sealed earlier) is sent through
// /authorize, which asks for the login, instead of getting a code.
func TestAnAnswerPostedForARequestThatAsksANewLoginAsksItFirst(t *testing.T) {
	a := newActingRun(t)
	page := a.choose(t, a.repID)
	request, err := url.ParseQuery(htmlUnescape(between(page, `name="request" value="`, `"`)))
	if err != nil {
		t.Fatal(err)
	}
	request.Set("max_age", "0")
	res, _ := a.post(t, "/consent", url.Values{"request": {request.Encode()}, "decision": {"accept"}})
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/authorize" || loc.Query().Get("code") != "" {
		t.Fatalf("consent posted for max_age=0: %d to %q, want 303 to /authorize", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ = a.page(t, res.Header.Get("Location")); !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Errorf("then /authorize: %d to %q, want the login page", res.StatusCode, res.Header.Get("Location"))
	}
}
