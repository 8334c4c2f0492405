package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/ui/browsertest"
)

// formTab opens a tab at width, in French, with cookies set.
func formTab(t *testing.T, h *browsertest.Harness, width int, cookies map[string]string) context.Context {
	t.Helper()
	tab := h.Tab(t, width)
	cookies[browsertest.LangCookie] = "fr"
	for name, value := range cookies {
		if _, err := chromedp.Call(tab, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func evalIn[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// TestTheErrorSummaryIsFocusedAfterAFailedPost: without any script of the
// page, the summary is where the focus is once the page loads, so a screen
// reader reads it first, and the title says « Erreur : ».
func TestTheErrorSummaryIsFocusedAfterAFailedPost(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	h := browsertest.Start(t, app.handler)
	tests := []struct {
		name    string
		cookies map[string]string
		page    string
		submit  string
		summary string // the summary's title
	}{
		{"the login sent empty", map[string]string{}, "/login", `form[action="/login"] button[type=submit]`, "La connexion n’a pas marché"},
		{"the proxy form sent empty", sessionFor(t, app, c.ahmed), proxyNew, `#saisie button[type=submit]`, "Il faut corriger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := formTab(t, h, 320, tt.cookies)
			step(t, tab, chromedp.Navigate(h.URL(tt.page)))
			step(t, tab, click(tt.submit))
			waitText(t, tab, tt.summary)
			// Browsers run autofocus at the first rendering after the load:
			// wait for it, with a deadline.
			deadline := time.Now().Add(5 * time.Second)
			for {
				id := evalIn[string](t, tab, `document.activeElement ? document.activeElement.id : ''`)
				if id == "probleme" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("focus is on %q after the failed post, want the summary", id)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if title := evalIn[string](t, tab, `document.title`); !strings.HasPrefix(strings.ReplaceAll(title, "\u00a0", " "), "Erreur : ") {
				t.Errorf("title %q", title)
			}
		})
	}
}

// TestAFormSentAfterTheSessionEndedComesBackFilledInABrowser is the
// issue's case: Ahmed fills the proxy form, his session ends, he sends
// it, signs in again and finds the form as he left it, to check and send.
func TestAFormSentAfterTheSessionEndedComesBackFilledInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	h := browsertest.Start(t, app.handler)
	cookies := sessionFor(t, app, c.ahmed)
	session := authn.SessionID(cookies["relais_session"])
	tab := formTab(t, h, 320, cookies)

	step(t, tab, chromedp.Navigate(h.URL(proxyNew)))
	waitText(t, tab, "Votre session se termine à")
	step(t, tab, typeIn("#email", c.karim.Email), click("#domaine-social"), click("#domaine-logement"), click("#droit-consult"), click("#duree-1m"))
	// The session ends while he writes (the store forgets it, as at its
	// time limit).
	if err := app.store.DeleteSession(t.Context(), session); err != nil {
		t.Fatal(err)
	}
	step(t, tab, click(`#saisie button[type=submit]`))
	waitText(t, tab, "Connectez-vous pour retrouver ce que vous aviez écrit.")
	if n := countOf(t, app, c.ahmed); n != 0 {
		t.Fatalf("a proxy was given without a session: %d", n)
	}
	// Enter sends the login (the form's default button), not the
	// language switch, which is a button of the same form.
	step(t, tab, typeIn("#email", c.ahmed.Email), typeIn("#password", testPassword), chromedp.KeyEvent(kb.Enter))
	waitText(t, tab, "Nous avons gardé ce que vous aviez écrit. Vérifiez et envoyez.")
	if loc, _ := chromedp.Run(tab, chromedp.Location()); !strings.HasSuffix(loc, proxyNew) {
		t.Errorf("after login at %s, want the form", loc)
	}
	filled := evalIn[string](t, tab, `[document.querySelector('#email').value,
		...['#domaine-social', '#domaine-logement', '#domaine-travail', '#droit-consult', '#droit-manage', '#duree-1m']
			.map(s => document.querySelector(s).checked)].join(' ')`)
	if want := c.karim.Email + " true true false true false true"; filled != want {
		t.Errorf("the form holds %q, want %q", filled, want)
	}
	if n := countOf(t, app, c.ahmed); n != 0 {
		t.Fatalf("the kept form was sent by itself: %d proxies", n)
	}
	// He checks and sends: the proxy is given.
	step(t, tab, click(`#saisie button[type=submit]`))
	waitText(t, tab, "Karim Benali")
	if n := countOf(t, app, c.ahmed); n != 1 {
		t.Errorf("after he sends it: %d proxies, want 1", n)
	}
}

// TestTheLanguageSwitchKeepsWhatWasTypedInABrowser: after an error, the
// switch to English brings the form back in English with what he wrote.
func TestTheLanguageSwitchKeepsWhatWasTypedInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	h := browsertest.Start(t, app.handler)
	tab := formTab(t, h, 320, sessionFor(t, app, c.ahmed))
	step(t, tab, chromedp.Navigate(h.URL(proxyNew)))
	step(t, tab, typeIn("#email", c.karim.Email), click("#domaine-argent"), click(`#saisie button[type=submit]`))
	waitText(t, tab, "Il faut corriger")
	step(t, tab, click(`button.lang__switch`))
	waitText(t, tab, "Give a proxy")
	filled := evalIn[string](t, tab, `document.documentElement.lang + ' ' + document.querySelector('#email').value + ' ' +
		document.querySelector('#domaine-argent').checked + ' ' + document.querySelector('#domaine-social').checked`)
	if want := "en " + c.karim.Email + " true false"; filled != want {
		t.Errorf("after the switch: %q, want %q", filled, want)
	}
}

// TestKeptFormPagesInABrowser audits the pages of forms that keep
// people's work, in French and English at 320 and 1280 px: the login
// with its empty fields, the login that says a form waits, the proxy form
// filled again and the one whose kept form was lost.
func TestKeptFormPagesInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	// A kept form, as a browser whose session ended holds it.
	kept := keptCookieOf(t, app, proxyNew, url.Values{"email": {c.karim.Email}, "domaines": {"social"}, "duree": {"1m"}})
	withKept := func(cookies map[string]string, value string) map[string]string {
		out := map[string]string{kept.Name: value}
		for k, v := range cookies {
			out[k] = v
		}
		return out
	}
	ahmed := sessionFor(t, app, c.ahmed)
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/login", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: browsertest.LangCookie, Value: lang})
		res, err := browserClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		snap := snapshot{name: "login-empty", status: res.StatusCode, body: []byte(readBody(t, res))}
		path := "/test/forms/" + snap.name + "/" + lang
		app.server.Router().HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(snap.status)
			w.Write(snap.body)
		})
		pages = append(pages,
			browsertest.Page{Name: "login-empty", Path: path, Lang: lang, WantStatus: http.StatusBadRequest},
			browsertest.Page{Name: "login-kept", Path: "/login?" + url.Values{"return": {proxyNew}}.Encode(), Lang: lang,
				Cookies: map[string]string{kept.Name: kept.Value}},
			browsertest.Page{Name: "space-proxy-kept", Path: proxyNew, Lang: lang, Cookies: withKept(ahmed, kept.Value)},
			browsertest.Page{Name: "space-proxy-lost", Path: proxyNew, Lang: lang, Cookies: withKept(ahmed, kept.Value[:len(kept.Value)-4]+"AAAA")},
			browsertest.Page{Name: "home-signed-out", Path: "/", Lang: lang},
		)
	}
	browsertest.Start(t, app.handler).Check(t, pages...)
}
