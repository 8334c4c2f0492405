package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/ui/browsertest"
)

// TestOperatorNoticesInABrowser audits the operators' view of a person's
// notices in French and English at 320 and 1280 px (axe, reflow, the
// keyboard reaching every control with a visible focus): the list with a
// letter that cannot be sent, the list after a resend, a resend refused
// (a letter still waiting), and a person without notices.
func TestOperatorNoticesInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newNoticesCast(t, app)
	opCookie := sessionFor(t, app, c.operator)
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		op := boAs(t, app, &c.operator).inLang(lang)
		snap := op.snapshot("notices-resend-pending", noticesPath(c.jeanne.ID)+"/"+c.waiting.ID+"/renvoyer", url.Values{}, http.StatusConflict)
		path := "/test/" + snap.name + "/" + lang
		app.server.Router().HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(snap.status)
			w.Write(snap.body)
		})
		pages = append(pages,
			browsertest.Page{Name: snap.name, Path: path, Lang: lang, WantStatus: snap.status},
			browsertest.Page{Name: "notices", Path: noticesPath(c.jeanne.ID), Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "notices-resent", Path: noticesPath(c.jeanne.ID) + "?fait=renvoye", Lang: lang, Cookies: opCookie},
			browsertest.Page{Name: "notices-none", Path: noticesPath(c.ahmed.ID), Lang: lang, Cookies: opCookie},
		)
	}
	h := browsertest.Start(t, app.handler)
	h.Check(t, pages...)
}

// TestOperatorResendsWithTheKeyboard: at 320 px, in French and English, an
// operator reaches the resend button of the email sent to Marie with the
// Tab key and presses Enter; the page comes back saying it is done, and
// the outbox holds the new letter. Every control of the page is at least
// 44 px high, with space between.
func TestOperatorResendsWithTheKeyboard(t *testing.T) {
	app := newOIDCApp(t)
	c := newNoticesCast(t, app)
	h := browsertest.Start(t, app.handler)
	for i, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) {
			tab := h.Tab(t, 320)
			ctx, cancel := context.WithTimeout(tab, 90*time.Second)
			defer cancel()
			cookies := sessionFor(t, app, c.operator)
			cookies[browsertest.LangCookie] = lang
			for name, value := range cookies {
				if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
					t.Fatal(err)
				}
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(h.URL(noticesPath(c.jeanne.ID)))); err != nil {
				t.Fatal(err)
			}
			checkTargets(t, ctx, noticesPath(c.jeanne.ID))
			tabTo(t, ctx, `form[action$="/`+c.sent.ID+`/renvoyer"] button`)
			if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, h.URL(noticesPath(c.jeanne.ID)+"?fait=renvoye"))
			want := map[string]string{"fr": "Le courrier est renvoyé. Le nouveau courrier est en tête de la liste.",
				"en": "The notice was resent. The new notice is at the top of the list."}[lang]
			if got := boText(t, ctx, `[role="status"]`); got != want {
				t.Errorf("the page says %q, want %q", got, want)
			}
			list, err := app.store.NoticesOf(t.Context(), c.jeanne.ID, 20)
			if err != nil || len(list) != 5+i || list[0].Data["resent_of"] != c.sent.ID || list[0].Status != notices.Pending {
				t.Errorf("after the resend: %d notices, the newest %+v, %v", len(list), list[0], err)
			}
		})
	}
}
