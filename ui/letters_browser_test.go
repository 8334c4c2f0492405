package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/ui/browsertest"
)

// lettersKept serves, at /test/courriers/{name}, the pages a form post
// answered with (a number refused, a wrong code, a date refused), so the
// audit sees them as the person did; everything else goes to Relais.
type lettersKept struct {
	next http.Handler
	mu   sync.Mutex
	docs map[string]answer
}

func (k *lettersKept) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/test/courriers/")
	if !ok {
		k.next.ServeHTTP(w, r)
		return
	}
	k.mu.Lock()
	a, found := k.docs[name]
	k.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(a.status)
	w.Write([]byte(a.body))
}

// TestLettersPagesInABrowser: every state of « Comment je reçois mes
// courriers » passes axe with zero violations, in French and English, at
// 320 and 1280 px, every control reached with Tab with a visible focus:
// paper, the two forms, a code waiting, the code's page, email in use,
// paper until a date, the tutor's page for Jeanne, a stranger's 404, and
// the answers to a number refused, a wrong code and a date refused.
func TestLettersPagesInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	ctx := t.Context()
	svc := app.sent.svc
	// Ahmed waits for his code; Karim receives his letters by email;
	// Nadia went back to paper until next month.
	if err := svc.Request(ctx, mandates.Actor{PersonID: c.ahmed.ID}, c.ahmed.ID, notices.SMS, "06 12 34 56 78", "fr"); err != nil {
		t.Fatal(err)
	}
	confirm := func(p mandates.Person, email string) {
		if err := svc.Request(ctx, mandates.Actor{PersonID: p.ID}, p.ID, notices.Email, email, "fr"); err != nil {
			t.Fatal(err)
		}
		_, code := app.sent.code(t)
		if _, err := svc.Confirm(ctx, mandates.Actor{PersonID: p.ID}, p.ID, code); err != nil {
			t.Fatal(err)
		}
	}
	confirm(c.karim, "karim.benali@example.fr")
	confirm(c.admin, "nadia.haddad@example.fr")
	if _, err := svc.BackToPaper(ctx, mandates.Actor{PersonID: c.admin.ID}, c.admin.ID, time.Now().AddDate(0, 1, 0)); err != nil {
		t.Fatal(err)
	}

	kept := &lettersKept{next: app.handler, docs: map[string]answer{}}
	h := browsertest.Start(t, kept)
	jeanne, ahmed, karim, nadia, marie := sessionFor(t, app, c.jeanne), sessionFor(t, app, c.ahmed), sessionFor(t, app, c.karim),
		sessionFor(t, app, c.admin), sessionFor(t, app, c.marie)
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		post := func(name string, who mandates.Person, path string, form url.Values, want int) {
			t.Helper()
			cl := withLang(t, app, signedIn(t, app, who), lang)
			res, err := cl.PostForm(app.srv.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			a := answer{status: res.StatusCode, body: readBody(t, res)}
			if a.status != want {
				t.Fatalf("%s: %d, want %d", name, a.status, want)
			}
			kept.mu.Lock()
			kept.docs[name+"-"+lang] = a
			kept.mu.Unlock()
			pages = append(pages, browsertest.Page{Name: name, Path: "/test/courriers/" + name + "-" + lang, Lang: lang, WantStatus: want})
		}
		post("letters-number-refused", c.jeanne, "/espace/courriers/sms", url.Values{"sms": {"01 23 45 67 89"}}, http.StatusBadRequest)
		post("letters-code-wrong", c.ahmed, "/espace/courriers/code", url.Values{"code": {"12"}}, http.StatusBadRequest)
		post("letters-date-refused", c.karim, "/espace/courriers/papier", url.Values{"quand": {"date"}, "date": {"hier"}}, http.StatusBadRequest)
		pages = append(pages,
			browsertest.Page{Name: "letters-paper", Path: "/espace/courriers", Lang: lang, Cookies: jeanne},
			browsertest.Page{Name: "letters-email-form", Path: "/espace/courriers/email", Lang: lang, Cookies: jeanne},
			browsertest.Page{Name: "letters-sms-form", Path: "/espace/courriers/sms", Lang: lang, Cookies: jeanne},
			browsertest.Page{Name: "letters-waiting", Path: "/espace/courriers", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "letters-code", Path: "/espace/courriers/code", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "letters-email", Path: "/espace/courriers?fait=confirme", Lang: lang, Cookies: karim},
			browsertest.Page{Name: "letters-until", Path: "/espace/courriers?fait=papier-date", Lang: lang, Cookies: nadia},
			browsertest.Page{Name: "letters-for-jeanne", Path: "/espace/pour/" + c.jeanne.ID + "/courriers", Lang: lang, Cookies: marie},
			browsertest.Page{Name: "letters-not-yours", Path: "/espace/pour/" + c.jeanne.ID + "/courriers", Lang: lang, Cookies: karim,
				WantStatus: http.StatusNotFound},
		)
	}
	h.Check(t, pages...)
}

// TestLettersChangeWithTheKeyboardAlone is the acceptance test of the
// preference change: in chromium at 320 px, with the keyboard alone (Tab,
// Enter, Space, typing), Jeanne goes from « Mon espace » to her letters'
// page, chooses email, types her address, types the code she received,
// reads that email now counts, then goes back to paper for good. Every
// control of each page is at least 44 px high.
func TestLettersChangeWithTheKeyboardAlone(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	h := browsertest.Start(t, app.handler)
	tab := h.Tab(t, 320)
	ctx, cancel := context.WithTimeout(tab, 120*time.Second)
	defer cancel()
	cookies := sessionFor(t, app, c.jeanne)
	cookies[browsertest.LangCookie] = "fr"
	for name, value := range cookies {
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	step(t, ctx, chromedp.Navigate(h.URL("/espace")))
	waitText(t, ctx, "Bonjour Jeanne Petit")

	tabTo(t, ctx, `main a[href="/espace/courriers"]`)
	step(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, h.URL("/espace/courriers"))
	waitText(t, ctx, "Vous recevez vos courriers de Relais sur papier, par la poste.")
	checkTargets(t, ctx, "/espace/courriers")

	tabTo(t, ctx, `main a[href="/espace/courriers/email"]`)
	step(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, h.URL("/espace/courriers/email"))
	waitText(t, ctx, "Adresse e-mail")
	checkTargets(t, ctx, "/espace/courriers/email")
	tabTo(t, ctx, "#email")
	step(t, ctx, chromedp.KeyEvent("jeanne.petit@exemple.fr"))
	tabTo(t, ctx, `#saisie button[type="submit"]`)
	step(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, h.URL("/espace/courriers/code"))
	waitText(t, ctx, "Relais a envoyé un code à jeanne.petit@exemple.fr.")
	checkTargets(t, ctx, "/espace/courriers/code")

	to, code := app.sent.code(t)
	if to != "jeanne.petit@exemple.fr" {
		t.Fatalf("the code went to %q", to)
	}
	tabTo(t, ctx, "#code")
	step(t, ctx, chromedp.KeyEvent(code), chromedp.KeyEvent(kb.Enter))
	waitText(t, ctx, "C’est fait : les courriers arriveront par le nouveau moyen")
	waitText(t, ctx, "Vous recevez vos courriers de Relais par e-mail, à l’adresse jeanne.petit@exemple.fr.")
	checkTargets(t, ctx, "/espace/courriers?fait=confirme")

	// Back to paper for good: the first choice of the group, then the button.
	tabTo(t, ctx, "#quand-toujours")
	step(t, ctx, chromedp.KeyEvent(" "))
	checked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#quand-toujours").checked`))
	if err != nil || !checked {
		t.Fatalf("Space did not choose « Pour toujours »: %v, %v", checked, err)
	}
	tabTo(t, ctx, `form[action="/espace/courriers/papier"] button[type="submit"]`)
	step(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitText(t, ctx, "C’est fait : les courriers arrivent de nouveau sur papier, par la poste.")

	choice, err := app.store.NoticeChoice(t.Context(), c.jeanne.ID)
	if err != nil {
		t.Fatal(err)
	}
	if choice.Channel != notices.Paper || choice.Email != "" {
		t.Errorf("Jeanne's choice after the keyboard run: %+v", choice)
	}
	var types []mandates.EventType
	for _, e := range chainOf(t, app, c.jeanne.ID) {
		switch e.Type {
		case mandates.EventNoticeChannelRequested, mandates.EventNoticeChannelConfirmed, mandates.EventNoticePaperChosen:
			types = append(types, e.Type)
		}
	}
	want := []mandates.EventType{mandates.EventNoticeChannelRequested, mandates.EventNoticeChannelConfirmed, mandates.EventNoticePaperChosen}
	if len(types) != len(want) || types[0] != want[0] || types[1] != want[1] || types[2] != want[2] {
		t.Errorf("Jeanne's journal: %v, want %v", types, want)
	}
	if _, err := app.store.NoticeChoice(t.Context(), c.marie.ID); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("Marie's choice: %v, want none", err)
	}
}
