package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// max_age=0 asks for a login made for this request (OIDC Core §3.1.2.1):
// after it, the request is satisfied and goes on to consent and a code;
// it used to send the person back to the login page forever.
func TestMaxAgeZeroAsksForOneLoginThenAnswers(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	conf := app.conf()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-123456"),
		oauth2.SetAuthURLParam("max_age", "0"))
	res := mustGet(t, c, authURL)
	loginURL, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loginURL.Path != "/login" {
		t.Fatalf("not signed in: %d to %q, want the login page", res.StatusCode, loginURL)
	}
	res, err := c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {testPassword}, "return": {loginURL.Query().Get("return")}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back, "/authorize?") {
		t.Fatalf("after login: %d to %q", res.StatusCode, back)
	}
	res, _ = c.Get(app.srv.URL + back)
	page := readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `name="decision" value="accept"`) {
		t.Fatalf("after a login made for the request: %d to %q, want the consent page", res.StatusCode, res.Header.Get("Location"))
	}
	request := htmlUnescape(between(page, `name="request" value="`, `"`))
	res, _ = c.PostForm(app.srv.URL+"/consent", url.Values{"request": {request}, "decision": {"accept"}})
	res.Body.Close()
	res = mustGet(t, c, app.srv.URL+res.Header.Get("Location"))
	final, _ := url.Parse(res.Header.Get("Location"))
	if final == nil || final.Host != "127.0.0.1" || final.Query().Get("code") == "" || final.Query().Get("state") != "state-123456" {
		t.Fatalf("after consent: %d to %q, want a code", res.StatusCode, res.Header.Get("Location"))
	}
	if _, err := conf.Exchange(t.Context(), final.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	// The site's next request with max_age=0 (no seal: the site cannot
	// make one) needs a new login, though the person is signed in.
	res = mustGet(t, c, authURL)
	if !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Errorf("a new request with max_age=0 while signed in: %d to %q, want the login page", res.StatusCode, res.Header.Get("Location"))
	}
	// A seal made up by the site, or taken from another site's request,
	// satisfies nothing.
	forged := authURL + "&relais_login_after=" + url.QueryEscape("9999999999.forged")
	if res = mustGet(t, c, forged); !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Errorf("a forged seal: %d to %q, want the login page", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestALoginAskedForOneRequestSatisfiesNoOther: prompt=login and max_age
// ask for a login made for that request. The way back from the login page
// cannot be opened without logging in, and its seal does not carry over to
// another request of the same site.
func TestALoginAskedForOneRequestSatisfiesNoOther(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	conf := app.conf()
	login := func(ret string) string {
		t.Helper()
		res, err := c.PostForm(app.srv.URL+"/login", url.Values{"email": {testEmail}, "password": {testPassword}, "return": {ret}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header.Get("Location")
	}
	wayBack := func(authURL string) string {
		t.Helper()
		res := mustGet(t, c, authURL)
		loginURL, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || loginURL.Path != "/login" {
			t.Fatalf("%s: %d to %q, want the login page", authURL, res.StatusCode, loginURL)
		}
		return loginURL.Query().Get("return")
	}
	request := func(state string, extra ...oauth2.AuthCodeOption) string {
		opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("nonce", "nonce-"+state)}, extra...)
		return conf.AuthCodeURL(state, opts...)
	}
	asksLogin := func(name, target string) {
		t.Helper()
		if res := mustGet(t, c, app.srv.URL+target); !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
			t.Errorf("%s: %d to %q, want the login page", name, res.StatusCode, res.Header.Get("Location"))
		}
	}

	first := wayBack(request("state-first-1", oauth2.SetAuthURLParam("max_age", "0")))
	if back := login(first); !strings.HasPrefix(back, "/authorize?") {
		t.Fatalf("after login: %q", back)
	}
	seal, _ := url.Parse(first)
	second, _ := url.Parse(request("state-second-2", oauth2.SetAuthURLParam("max_age", "0")))
	q := second.Query()
	q.Set("relais_login_after", seal.Query().Get("relais_login_after"))
	asksLogin("max_age=0 with the seal of another request", "/authorize?"+q.Encode())

	ret := wayBack(request("state-prompt-3", oauth2.SetAuthURLParam("prompt", "login")))
	asksLogin("the way back of prompt=login opened without logging in", ret)
	back := login(ret)
	res, err := c.Get(app.srv.URL + back)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `name="decision" value="accept"`) {
		t.Fatalf("prompt=login after the login made for it (%q): %d, want the consent page\n%.2000s", back, res.StatusCode, page)
	}
	// And the site gets its code, not login_required: the login was made
	// for this request, before the answer.
	res, _ = c.PostForm(app.srv.URL+"/consent", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}, "decision": {"accept"}})
	res.Body.Close()
	res = mustGet(t, c, app.srv.URL+res.Header.Get("Location"))
	final, _ := url.Parse(res.Header.Get("Location"))
	if final == nil || final.Query().Get("code") == "" || final.Query().Get("state") != "state-prompt-3" {
		t.Errorf("prompt=login after login and consent: %d to %q, want a code", res.StatusCode, res.Header.Get("Location"))
	}
}
