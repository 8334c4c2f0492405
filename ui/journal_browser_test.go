package ui_test

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// TestJournalPagesInABrowser audits each journal page once per language:
// the person's own journal (with its filters and the links to keep it),
// the journal of someone the reader represents, the printable journal
// (the person's own, and the one their tutor prints), an organisation's
// journal and the administrative journal.
func TestJournalPagesInABrowser(t *testing.T) {
	a := newJournalRun(t)
	c := a.cast
	// Enough entries for a second page, so the paging links are audited.
	for range 21 {
		if err := a.app.journal.Emit(t.Context(), mandates.Event{Type: mandates.EventLoginSucceeded, PersonID: c.jeanne.ID, ActorID: c.jeanne.ID}); err != nil {
			t.Fatal(err)
		}
	}
	// Marie's refund and the checks before it, so the act and its folded
	// checks are audited.
	marieRefunds(t, a)
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		pages = append(pages,
			browsertest.Page{Name: "journal-own", Path: "/espace/journal", Lang: lang, Cookies: sessionFor(t, a.app, c.jeanne)},
			browsertest.Page{Name: "journal-for-me", Path: "/espace/journal?pour=moi", Lang: lang, Cookies: sessionFor(t, a.app, c.jeanne)},
			browsertest.Page{Name: "journal-of", Path: "/espace/journal/" + c.jeanne.ID, Lang: lang, Cookies: sessionFor(t, a.app, c.marie)},
			browsertest.Page{Name: "journal-print", Path: "/espace/journal/imprimer", Lang: lang, Cookies: sessionFor(t, a.app, c.jeanne)},
			browsertest.Page{Name: "journal-print-of", Path: "/espace/journal/" + c.jeanne.ID + "/imprimer", Lang: lang, Cookies: sessionFor(t, a.app, c.marie)},
			browsertest.Page{Name: "journal-org", Path: "/structure/" + c.org.ID + "/journal", Lang: lang, Cookies: sessionFor(t, a.app, c.admin)},
			browsertest.Page{Name: "journal-admin", Path: "/operateur/journal", Lang: lang, Cookies: sessionFor(t, a.app, c.operator)},
		)
	}
	h := browsertest.Start(t, a.app.handler)
	h.Check(t, pages...)
}

// marieRefunds is Marie, Jeanne's tutor, at the caf site: the site checks
// twice whether she may ask for the refund, then reports it done.
func marieRefunds(t *testing.T, a *actingRun) {
	t.Helper()
	ctx := t.Context()
	q := mandates.Question{ActorID: a.cast.marie.ID, PersonID: a.cast.jeanne.ID, Action: mandates.Dispose, Area: "argent"}
	for range 2 {
		if ans, err := a.app.service.Evaluate(ctx, q, "caf", ""); err != nil || ans.Decision != mandates.Allowed {
			t.Fatalf("Evaluate = %v, %v", ans.Decision, err)
		}
	}
	if ans, err := a.app.service.ReportAct(ctx, mandates.ActReport{Question: q, ClientID: "caf",
		Label: "Demande de remboursement d’un trop-perçu de 120 € envoyée", Reference: "2026-1187"}); err != nil || ans.Decision != mandates.Allowed {
		t.Fatalf("ReportAct = %v, %v", ans.Decision, err)
	}
}

// TestJeannesJournalShowsTheActFirstTheChecksFolded: after Marie's
// refund, Jeanne's journal at 320 px starts with the act, Marie first;
// the site's checks are folded under it, hidden until Jeanne opens them
// with the keyboard.
func TestJeannesJournalShowsTheActFirstTheChecksFolded(t *testing.T) {
	a := newJournalRun(t)
	marieRefunds(t, a)
	h := browsertest.Start(t, a.app.handler)
	tab := h.Tab(t, 320)
	cookies := sessionFor(t, a.app, a.cast.jeanne)
	cookies[browsertest.LangCookie] = "fr"
	for name, value := range cookies {
		if _, err := chromedp.Call(tab, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	eval := func(js string) string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(h.URL("/espace/journal"))); err != nil {
		t.Fatal(err)
	}
	first := eval(`document.querySelector('[aria-labelledby=actes] ol > li').innerText`)
	if !strings.HasPrefix(eval(`document.querySelector('[aria-labelledby=actes] ol > li').className`), "journal-act") ||
		!strings.Contains(first, "Marie Martin, qui exerce votre tutelle, a fait une démarche pour vous") ||
		!strings.Contains(first, "Demande de remboursement d’un trop-perçu de 120 € envoyée") {
		t.Fatalf("the first entry is not Marie's refund:\n%s", first)
	}
	summary := eval(`document.querySelector('[aria-labelledby=actes] ol > li details summary').innerText`)
	if summary != "Avant, le site a vérifié 2 fois que c’était permis." {
		t.Errorf("the folded checks' summary: %q", summary)
	}
	visible := func() string {
		return eval(`String([...document.querySelectorAll('[aria-labelledby=actes] ol > li:first-child details ol li')].filter(e => e.checkVisibility()).length)`)
	}
	if n := visible(); n != "0" {
		t.Fatalf("%s checks visible before Jeanne opens them, want 0", n)
	}
	tabTo(t, ctx, `[aria-labelledby=actes] ol > li:first-child summary`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	if n := visible(); n != "2" {
		t.Errorf("%s checks visible once opened, want 2", n)
	}
	if text := eval(`document.querySelector('[aria-labelledby=actes] ol > li:first-child details').innerText`); !strings.Contains(text, "a demandé si Marie Martin") {
		t.Errorf("the opened checks:\n%s", text)
	}
}

// TestJeannesJournalAndSpaceScreenshotsAt320 keeps full-page pictures of
// Jeanne's journal and of her space at 320 px, in French, after her tutor
// Marie's refund, for issue 17's closing note:
// test-output/screenshots/issue17-after-jeanne-{journal,space}-320.png.
// Each page must answer 200 and the picture be 320 px wide and as tall as
// the page.
func TestJeannesJournalAndSpaceScreenshotsAt320(t *testing.T) {
	a := newJournalRun(t)
	marieRefunds(t, a)
	h := browsertest.Start(t, a.app.handler)
	cookies := sessionFor(t, a.app, a.cast.jeanne)
	for _, p := range []struct{ name, path string }{{"journal", "/espace/journal"}, {"space", "/espace"}} {
		t.Run(p.name, func(t *testing.T) {
			ctx := openKeyPage(t, h, browsertest.Page{Name: p.name, Path: p.path, Lang: "fr", Cookies: cookies}, 320)
			shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			height, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollHeight`))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Width != 320 || cfg.Height != height {
				t.Errorf("the picture is %d×%d px, want 320×%d (the whole page)", cfg.Width, cfg.Height, height)
			}
			file, err := browsertest.SaveScreenshot("issue17-after-jeanne-"+p.name+"-320.png", shot)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d px high", file, cfg.Height)
		})
	}
}
