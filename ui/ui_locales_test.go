package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// pageLang is the language a page is in, as its header and markup say.
func pageLang(t *testing.T, res *http.Response) string {
	t.Helper()
	page := readBody(t, res)
	lang := res.Header.Get("Content-Language")
	if !strings.Contains(page, `lang="`+lang+`"`) {
		t.Errorf("Content-Language %q but the page's markup says otherwise:\n%.300s", lang, page)
	}
	return lang
}

// noLangCookie fails when res changes the saved language choice.
func noLangCookie(t *testing.T, res *http.Response, step string) {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == "relais_lang" {
			t.Errorf("%s set the language cookie to %q: ui_locales must not change the person's saved choice", step, c.Value)
		}
	}
}

func TestUILocalesPicksTheLanguageOfTheSignInPagesWithoutChangingTheSavedChoice(t *testing.T) {
	app := newOIDCApp(t)
	secret, _ := app.enrolTOTP(t)
	c := browserClient(t)
	base, _ := url.Parse(app.srv.URL)
	c.Jar.SetCookies(base, []*http.Cookie{{Name: "relais_lang", Value: "fr", Path: "/"}})
	verifier := oauth2.GenerateVerifier()
	// German first: Relais has none, so the next one, English, is used.
	authURL := app.conf().AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("ui_locales", "de en-GB fr"))
	ret := strings.TrimPrefix(authURL, app.srv.URL)

	res := mustGet(t, c, authURL)
	loginURL := res.Header.Get("Location")
	res, _ = c.Get(app.srv.URL + loginURL)
	noLangCookie(t, res, "the login page")
	if got := pageLang(t, res); got != "en" {
		t.Errorf("login page in %q, want en (ui_locales), though the saved choice is fr", got)
	}
	res, _ = c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {"faux"}, "return": {ret}})
	if got := pageLang(t, res); res.StatusCode != http.StatusUnauthorized || got != "en" {
		t.Errorf("wrong password: %d in %q, want 401 in en", res.StatusCode, got)
	}
	next := app.passwordStep(t, c, ret)
	res, _ = c.Get(app.srv.URL + next)
	if got := pageLang(t, res); got != "en" {
		t.Errorf("second-factor page in %q, want en", got)
	}
	res, _ = app.codeStep(t, c, "/login/code", totpCode(t, secret, 1), ret)
	noLangCookie(t, res, "the second factor")
	res, _ = c.Get(app.srv.URL + res.Header.Get("Location"))
	if got := pageLang(t, res); res.StatusCode != http.StatusOK || got != "en" {
		t.Errorf("consent page: %d in %q, want en", res.StatusCode, got)
	}

	res, _ = c.Get(app.srv.URL + "/")
	if got := pageLang(t, res); got != "fr" {
		t.Errorf("a page outside the sign-in in %q, want fr: the saved choice still holds", got)
	}
}

func TestUILocalesWithoutALanguageRelaisHasKeepsTheSavedChoice(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	base, _ := url.Parse(app.srv.URL)
	c.Jar.SetCookies(base, []*http.Cookie{{Name: "relais_lang", Value: "en", Path: "/"}})
	authURL := app.conf().AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("ui_locales", "de it"))
	res := mustGet(t, c, authURL)
	res, _ = c.Get(app.srv.URL + res.Header.Get("Location"))
	if got := pageLang(t, res); got != "en" {
		t.Errorf("login page in %q, want en, the saved choice", got)
	}
}

func TestLanguageSwitchOnASignInPageOutranksUILocales(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	authURL := app.conf().AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("ui_locales", "en"))
	res := mustGet(t, c, authURL)
	loginURL := res.Header.Get("Location")
	res = mustGet(t, c, app.srv.URL+"/lang/fr?"+url.Values{"next": {loginURL}}.Encode())
	back := res.Header.Get("Location")
	u, _ := url.Parse(back)
	if res.StatusCode != http.StatusSeeOther || u.Path != "/login" {
		t.Fatalf("the switch answered %d to %q, want the login page", res.StatusCode, back)
	}
	ret, _ := url.Parse(u.Query().Get("return"))
	if ret.Path != "/authorize" || ret.Query().Get("ui_locales") != "fr" || ret.Query().Get("state") != "state-123456" {
		t.Errorf("the switch returns to %q, want the same request with ui_locales=fr", back)
	}
	res, _ = c.Get(app.srv.URL + back)
	if got := pageLang(t, res); got != "fr" {
		t.Errorf("after the switch, the login page is in %q, want fr", got)
	}
}

func TestUILocalesOfAPushedRequestPicksTheConsentPagesLanguage(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	// Signed in first, in French.
	authURL := app.conf().AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	res := mustGet(t, c, authURL)
	u, _ := url.Parse(res.Header.Get("Location"))
	app.passwordStep(t, c, u.Query().Get("return"))

	// RFC 9126: the site pushes the request, ui_locales with it.
	form := url.Values{"client_id": {"caf"}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1/cb"}, "scope": {"openid identite_pivot"},
		"state": {"state-654321"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
		"ui_locales": {"en"}}
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/par", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("caf", app.secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, res)
	uri := between(body, `"request_uri":"`, `"`)
	if res.StatusCode != http.StatusCreated || uri == "" {
		t.Fatalf("PAR: %d %s", res.StatusCode, body)
	}
	res, _ = c.Get(app.srv.URL + "/authorize?" + url.Values{"client_id": {"caf"}, "request_uri": {uri}}.Encode())
	if got := pageLang(t, res); res.StatusCode != http.StatusOK || got != "en" {
		t.Errorf("consent page of a pushed request with ui_locales=en: %d in %q, want en", res.StatusCode, got)
	}
}
