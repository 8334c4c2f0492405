package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/ui/browsertest"
)

// TestSecondFactorPagesInABrowser audits, in French and English at 320
// and 1280 px, the pages of a professional act from a login without the
// second factor: the "for whom?" page that asks for the code after the
// choice, the one that says to turn the code on first, the code page of a
// signed-in aidant (and its error), and the journal's page that asks for
// the code.
func TestSecondFactorPagesInABrowser(t *testing.T) {
	a := newActingRun(t)
	rep := activeMandate(t, a.app, a.cast, a.cast.ahmed, "social")
	sophie := withSession(t, a, rep, a.cast.aidant)
	nadia := withSession(t, a, rep, a.cast.admin)
	sophieCookies := map[string]string{"relais_session": sophie.token}
	nadiaCookies := map[string]string{"relais_session": nadia.token}
	authorize := strings.TrimPrefix(sophie.authURL(), a.app.srv.URL)
	journal := "/espace/journal/" + a.cast.ahmed.ID

	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		c := browserClient(t)
		u, _ := url.Parse(a.app.srv.URL)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "relais_session", Value: sophie.token, Path: "/"}, {Name: browsertest.LangCookie, Value: lang, Path: "/"}})
		res, err := c.PostForm(a.app.srv.URL+"/login/code", url.Values{"code": {"12"}, "return": {journal}})
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, res)
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong code: %d", res.StatusCode)
		}
		path := "/test/code-step-up-error/" + lang
		a.app.server.Router().HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(body))
		})
		pages = append(pages,
			browsertest.Page{Name: "forwhom-confirm-code", Path: authorize, Lang: lang, Cookies: sophieCookies},
			browsertest.Page{Name: "forwhom-turn-code-on", Path: authorize, Lang: lang, Cookies: nadiaCookies},
			browsertest.Page{Name: "code-step-up", Path: "/login/code?return=" + url.QueryEscape(journal), Lang: lang, Cookies: sophieCookies},
			browsertest.Page{Name: "code-step-up-error", Path: path, Lang: lang, WantStatus: http.StatusUnauthorized, Cookies: sophieCookies},
			browsertest.Page{Name: "journal-confirm-code", Path: journal, Lang: lang, WantStatus: http.StatusForbidden, Cookies: sophieCookies},
			browsertest.Page{Name: "journal-turn-code-on", Path: journal, Lang: lang, WantStatus: http.StatusForbidden, Cookies: nadiaCookies},
		)
	}
	h := browsertest.Start(t, a.app.handler)
	h.Check(t, pages...)
}

// TestStepUpWithTheKeyboardAlone: an aidant signed in with her password
// only chooses, with the keyboard alone at 320 px, the person she helps
// through her organisation, types her code, agrees, and the site gets
// tokens that say otp and mfa.
func TestStepUpWithTheKeyboardAloneInABrowser(t *testing.T) {
	a := newActingRun(t)
	rep := activeMandate(t, a.app, a.cast, a.cast.ahmed, "social")
	sophie := withSession(t, a, rep, a.cast.aidant)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="fr"><title>Site</title><h1>Retour sur le site</h1></html>`))
	}))
	t.Cleanup(site.Close)
	if _, err := a.app.store.UpdateClient(t.Context(), "caf", func(c *oauth.Client) error {
		c.RedirectURIs = append(c.RedirectURIs, site.URL+"/cb")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h := browsertest.Start(t, a.app.handler)
	ctx, cancel := context.WithTimeout(h.Tab(t, 320), 90*time.Second)
	t.Cleanup(cancel)
	for name, value := range map[string]string{"relais_session": sophie.token, browsertest.LangCookie: "fr"} {
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	k := &keyboardRun{h: h, ctx: ctx, conf: sophie.conf, verifier: sophie.verifier, site: site.URL}
	k.conf.RedirectURL = site.URL + "/cb"
	authURL := strings.Replace(k.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(k.verifier)), a.app.srv.URL, h.URL(""), 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, h.URL("/authorize"))
	// The radios are one group: Tab reaches it, the arrow picks Ahmed.
	tabTo(t, ctx, `input[name="for"]`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowDown)); err != nil {
		t.Fatal(err)
	}
	checked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('input[name="for"]:checked').value`))
	if err != nil || checked != rep.ID {
		t.Fatalf("the arrow key chose %q (%v), want Ahmed's mandate", checked, err)
	}
	tabTo(t, ctx, `form[action="/pour-qui"] button[type="submit"]`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, h.URL("/login/code"))
	tabTo(t, ctx, "#code")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(totpCode(t, a.cast.aidantTOTP, 1)), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, h.URL("/authorize"))
	tabTo(t, ctx, `button[value="accept"]`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	tok := k.finish(t)
	if amr := idTokenAMR(t, tok); !slices.Contains(amr, "otp") || !slices.Contains(amr, "mfa") {
		t.Errorf("amr %q, want otp and mfa", amr)
	}
}
