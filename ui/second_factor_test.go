package ui_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/mandates"
)

// A second factor for every professional act (issue 12): a representation
// held through an organisation is used only from a login with the second
// factor, at the sites as in the journal.

// memberRun is a member of the cast's organisation at the caf site, with a
// browser whose session is the given one, and the organisation's aidant
// mandate of Ahmed (benefits).
type memberRun struct {
	*actingRun
	rep   mandates.Representation
	token string // the session cookie's token
}

func newMemberRun(t *testing.T, member func(*cast) mandates.Person, amr ...string) *memberRun {
	t.Helper()
	a := newActingRun(t)
	rep := activeMandate(t, a.app, a.cast, a.cast.ahmed, "social")
	return withSession(t, a, rep, member(a.cast), amr...)
}

func withSession(t *testing.T, a *actingRun, rep mandates.Representation, p mandates.Person, amr ...string) *memberRun {
	t.Helper()
	c := browserClient(t)
	u, _ := url.Parse(a.app.srv.URL)
	token := sessionFor(t, a.app, p, amr...)["relais_session"]
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "relais_session", Value: token, Path: "/"}})
	return &memberRun{actingRun: &actingRun{app: a.app, cast: a.cast, c: c, conf: a.conf, verifier: oauth2.GenerateVerifier()}, rep: rep, token: token}
}

func (m *memberRun) authURL() string {
	return m.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(m.verifier), oauth2.SetAuthURLParam("nonce", "nonce-123456"))
}

// forWhom opens the site's request and returns the "for whom?" page.
func (m *memberRun) forWhom(t *testing.T) string {
	t.Helper()
	res, page := m.page(t, m.authURL())
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Pour qui faites-vous cette démarche") {
		t.Fatalf("for whom page: %d\n%.2000s", res.StatusCode, page)
	}
	return htmlUnescape(page)
}

// chooseRep posts the choice of the mandate and follows to the next
// /authorize, whose answer it returns.
func (m *memberRun) chooseRep(t *testing.T, page string) *http.Response {
	t.Helper()
	res, _ := m.post(t, "/pour-qui", url.Values{"request": {between(page, `name="request" value="`, `"`)}, "for": {m.rep.ID}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/authorize?") {
		t.Fatalf("choice: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = m.page(t, res.Header.Get("Location"))
	return res
}

// radios counts the choices of the page's form.
func radios(page string) int { return strings.Count(page, `type="radio" id="for-`) }

func TestAPasswordOnlyAidantConfirmsWithTheCodeThenActs(t *testing.T) {
	m := newMemberRun(t, func(c *cast) mandates.Person { return c.aidant })
	page := m.forWhom(t)
	if !strings.Contains(page, "Ahmed Benali") || !strings.Contains(page, "Confirmez avec votre code") || !strings.Contains(page, "France Services Lyon 8e") {
		t.Errorf("the organisation's mandate is not offered with « Confirmez avec votre code »:\n%s", between(page, "<main", "</main>"))
	}
	if n := radios(page); n != 2 {
		t.Errorf("%d choices, want 2: for herself, and Ahmed once", n)
	}

	// The choice leads to the code page, not to the site: a password alone
	// gets nothing under the organisation's mandate.
	res := m.chooseRep(t, page)
	next, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || next == nil || next.Path != "/login/code" {
		t.Fatalf("after the choice with a password only: %d to %q, want the code page", res.StatusCode, res.Header.Get("Location"))
	}
	back := next.Query().Get("return")
	if u, _ := url.Parse(back); u == nil || u.Path != "/authorize" || u.Query().Get("relais_for") == "" {
		t.Fatalf("the code page returns to %q, want the same authorization request with the choice", back)
	}
	res, code := m.page(t, next.String())
	code = htmlUnescape(code)
	if res.StatusCode != http.StatusOK || !strings.Contains(code, `action="/login/code"`) || !strings.Contains(code, "Confirmez avec votre code") ||
		!strings.Contains(code, `autocomplete="one-time-code"`) || strings.Contains(code, `name="password"`) {
		t.Fatalf("code page of a signed-in aidant: %d\n%s", res.StatusCode, between(code, "<main", "</main>"))
	}

	// A wrong code: said plainly, and still no second factor.
	wrong := "000000"
	if wrong == totpCode(t, m.cast.aidantTOTP, 0) || wrong == totpCode(t, m.cast.aidantTOTP, 1) {
		wrong = "999999"
	}
	res, body := m.post(t, "/login/code", url.Values{"code": {wrong}, "return": {back}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `role="alert"`) {
		t.Errorf("wrong code: %d", res.StatusCode)
	}
	if res, _ := m.page(t, back); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login/code?") {
		t.Errorf("after a wrong code, the request goes to %q, want the code page again", res.Header.Get("Location"))
	}

	// The right code: the same request goes on, with the same choice.
	res, _ = m.post(t, "/login/code", url.Values{"code": {totpCode(t, m.cast.aidantTOTP, 1)}, "return": {back}})
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/authorize" || loc.Query().Get("state") != "state-123456" {
		t.Fatalf("right code: %d to %q, want back to the authorization request", res.StatusCode, res.Header.Get("Location"))
	}
	if !strings.Contains(strings.Join(res.Header.Values("Set-Cookie"), ";"), "relais_session=") {
		t.Error("the session kept its token after the code: a token copied before would ride on it")
	}
	old := browserClient(t)
	u, _ := url.Parse(m.app.srv.URL)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "relais_session", Value: m.token, Path: "/"}})
	if res := mustGet(t, old, m.app.srv.URL+"/espace"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("the password-only token still works: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, consent := m.page(t, loc.String())
	if res.StatusCode != http.StatusOK || !strings.Contains(consent, "Vous agissez pour Ahmed Benali") {
		t.Fatalf("after the code: %d, want the consent page for Ahmed\n%.2000s", res.StatusCode, consent)
	}
	tok := m.accept(t, consent)
	for name, claims := range map[string]map[string]any{"ID token": claimsOf(t, tok.Extra("id_token").(string)), "access token": claimsOf(t, tok.AccessToken)} {
		rep, _ := claims["representation"].(map[string]any)
		if rep["id"] != m.rep.ID || claims["act"] == nil {
			t.Errorf("%s: representation %v, act %v; want Ahmed's mandate and Sophie acting", name, claims["representation"], claims["act"])
		}
		var amr []string
		for _, v := range claims["amr"].([]any) {
			amr = append(amr, v.(string))
		}
		if !slices.Contains(amr, "otp") || !slices.Contains(amr, "mfa") {
			t.Errorf("%s: amr %q, want otp and mfa", name, amr)
		}
	}
}

func TestAnAidantWithTheCodeChoosesWithoutAnotherStep(t *testing.T) {
	m := newMemberRun(t, func(c *cast) mandates.Person { return c.aidant }, "pwd", "otp")
	page := m.forWhom(t)
	if !strings.Contains(page, "Ahmed Benali") || strings.Contains(page, "Confirmez avec votre code") {
		t.Errorf("with the code given, the page still asks for it:\n%s", between(page, "<main", "</main>"))
	}
	if res := m.chooseRep(t, page); res.StatusCode != http.StatusOK {
		t.Errorf("the choice: %d to %q, want the consent page", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestAMemberWithoutASecondFactorIsToldToTurnItOn(t *testing.T) {
	// Nadia, the organisation's administrator, holds its mandates too, but
	// never turned the code on.
	m := newMemberRun(t, func(c *cast) mandates.Person { return c.admin })
	page := m.forWhom(t)
	main := between(page, "<main", "</main>")
	for _, want := range []string{"Ahmed Benali", "Activez d’abord votre code de confirmation", `href="/compte/double-authentification"`} {
		if !strings.Contains(main, want) {
			t.Errorf("the page lacks %q:\n%s", want, main)
		}
	}
	if strings.Contains(main, `value="`+m.rep.ID+`"`) || radios(page) != 1 || strings.Contains(main, "Confirmez avec votre code") {
		t.Errorf("the mandate is offered as a choice to a member without a second factor:\n%s", main)
	}
	// Forced with a forged field, the site hears access_denied.
	res := m.chooseRep(t, page)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc == nil || loc.Host != "127.0.0.1" || loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
		t.Errorf("a forged choice of the organisation's mandate: %d to %q, want access_denied at the site", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestReadingAJournalThroughAnOrganisationNeedsTheCode(t *testing.T) {
	a := newActingRun(t)
	rep := activeMandate(t, a.app, a.cast, a.cast.ahmed, "social")
	ahmed := "/espace/journal/" + a.cast.ahmed.ID
	sophie := withSession(t, a, rep, a.cast.aidant)
	nadia := withSession(t, a, rep, a.cast.admin)
	for _, path := range []string{ahmed, ahmed + "/imprimer", ahmed + "/export.json"} {
		res, page := sophie.page(t, path)
		main := htmlUnescape(between(page, "<main", "</main>"))
		confirm := `href="/login/code?return=` + url.QueryEscape(path) + `"`
		if res.StatusCode != http.StatusForbidden || !strings.Contains(main, "Confirmez avec votre code") || !strings.Contains(main, confirm) {
			t.Errorf("%s for the aidant with her password only: %d, want 403 with a link to confirm with the code (%s)\n%s", path, res.StatusCode, confirm, main)
		}
		if strings.Contains(main, "Ahmed Benali a ") || strings.Contains(main, `id="actes"`) {
			t.Errorf("%s shows the journal to a password-only session", path)
		}
		res, page = nadia.page(t, path)
		main = htmlUnescape(between(page, "<main", "</main>"))
		if res.StatusCode != http.StatusForbidden || !strings.Contains(main, `href="/compte/double-authentification"`) || strings.Contains(main, "/login/code") {
			t.Errorf("%s for a member who never turned the code on: %d, want 403 with the link to turn it on\n%s", path, res.StatusCode, main)
		}
	}
	// The link asks for the code, then opens the journal.
	res, _ := sophie.page(t, "/login/code?return="+url.QueryEscape(ahmed))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the code page: %d", res.StatusCode)
	}
	res, _ = sophie.post(t, "/login/code", url.Values{"code": {totpCode(t, a.cast.aidantTOTP, 1)}, "return": {ahmed}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != ahmed {
		t.Fatalf("the code: %d to %q, want back to the journal", res.StatusCode, res.Header.Get("Location"))
	}
	if res, page := sophie.page(t, ahmed); res.StatusCode != http.StatusOK || !strings.Contains(htmlUnescape(page), "Le journal d’Ahmed Benali") {
		t.Errorf("the journal after the code: %d", res.StatusCode)
	}
}
