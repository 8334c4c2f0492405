package ui_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// TestKeyboardFromHomeFatimaReachesTheStopOfAhmedsProxy is issue 17's
// acceptance test for the ways in: in chromium at 320 px, with the
// keyboard alone (Tab, Enter, typing), Fatima goes from the home page to
// the login page, signs in, lands on « Mon espace », and reaches the page
// that stops the proxy she gave her son Ahmed: three page loads from the
// home page. The stop button is reached with Tab, has a visible focus, and
// Enter stops the proxy.
func TestKeyboardFromHomeFatimaReachesTheStopOfAhmedsProxy(t *testing.T) {
	w := newAccessWorld(t)
	h := browsertest.Start(t, w.app.handler)
	tab := h.Tab(t, 320)
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: browsertest.LangCookie, Value: "fr", URL: h.URL("/"), Path: "/"}); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, chromedp.Navigate(h.URL("/")))
	waitText(t, ctx, "Se connecter")

	// Every page the tab loads from now on (redirects included in the
	// load they end).
	var mu sync.Mutex
	var loads []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*page.EventFrameNavigated); ok && e.Frame.ParentID == "" {
			mu.Lock()
			loads = append(loads, e.Frame.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	// 1. The home page's « Se connecter ».
	tabTo(t, ctx, `main a[href^="/login"]`)
	step(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, h.URL("/login"))
	// 2. The login, which brings her to « Mon espace ».
	tabTo(t, ctx, "#email")
	step(t, ctx, chromedp.KeyEvent(w.fatima.Email))
	tabTo(t, ctx, "#password")
	step(t, ctx, chromedp.KeyEvent(testPassword), chromedp.KeyEvent(kb.Enter))
	waitText(t, ctx, "Bonjour Fatima Benali")
	if loc := waitFor(t, ctx, h.URL("/espace")); loc != h.URL("/espace") {
		t.Fatalf("after login the tab is at %s, want « Mon espace »", loc)
	}
	// 3. « Arrêter l’accès d’Ahmed Benali », at the top of her space.
	stopPage := "/espace/representations/" + w.proxy + "/arreter"
	tabTo(t, ctx, `main a[href="`+stopPage+`"]`)
	step(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, h.URL(stopPage))
	waitText(t, ctx, "Ce qui va changer")

	mu.Lock()
	got := append([]string(nil), loads...)
	mu.Unlock()
	if len(got) > 3 {
		t.Errorf("%d page loads from the home page to the stop page, want at most 3: %q", len(got), got)
	}
	if len(got) == 0 || got[len(got)-1] != h.URL(stopPage) {
		t.Errorf("the pages loaded were %q, want the stop page last", got)
	}

	// The stop control: reached with Tab, with a visible focus, on screen.
	tabTo(t, ctx, `main button[type="submit"]`)
	type focus struct {
		Text    string
		Outline bool
		OnPage  bool
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[focus](`(() => {
		const el = document.activeElement, cs = getComputedStyle(el), r = el.getBoundingClientRect();
		return {
			text: el.innerText,
			outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2 && cs.outlineColor !== 'transparent',
			onPage: r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.Text, "Ahmed Benali") || !f.Outline || !f.OnPage {
		t.Errorf("the focused stop control: %+v, want Ahmed's, outlined and on screen", f)
	}
	step(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitText(t, ctx, "Vous avez arrêté l’accès d’Ahmed Benali")
	if got := stored(t, w.app, w.proxy).Status; got != mandates.StatusRevoked {
		t.Errorf("Ahmed's proxy after the stop: %s", got)
	}
}

// wayInPages are the pages issue 17's ways in change, in the states that
// show them: the home page signed out and in, « Mon espace » with what
// waits and who acts, « Pour qui j’agis » with links to journals, and the
// stop page the space links to.
func wayInPages(t *testing.T, w *accessWorld) []browsertest.Page {
	t.Helper()
	cosignRequests(t, w)
	if _, err := w.app.service.GiveProxy(t.Context(), mandates.Actor{PersonID: w.karim.ID}, mandates.ProxyInput{HolderID: w.ahmed.ID,
		Areas: []mandates.Area{"social"}, Granted: []mandates.Action{mandates.Consult}, Duration: mandates.OneMonth}); err != nil {
		t.Fatal(err)
	}
	fatima, paul, ahmed := sessionFor(t, w.app, w.fatima), sessionFor(t, w.app, w.paul), sessionFor(t, w.app, w.ahmed)
	marie, lucie := sessionFor(t, w.app, w.marie), sessionFor(t, w.app, w.lucie, "pwd", "otp")
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		pages = append(pages,
			browsertest.Page{Name: "home-signed-out", Path: "/", Lang: lang},
			browsertest.Page{Name: "home-signed-in", Path: "/", Lang: lang, Cookies: fatima},
			browsertest.Page{Name: "space-home-who-acts", Path: "/espace", Lang: lang, Cookies: fatima},
			browsertest.Page{Name: "space-home-agreement", Path: "/espace", Lang: lang, Cookies: paul},
			browsertest.Page{Name: "space-home-offered", Path: "/espace", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "space-home-service", Path: "/espace", Lang: lang, Cookies: lucie},
			browsertest.Page{Name: "space-for-journals", Path: "/espace/pour-qui-j-agis", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "space-for-tutor-journal", Path: "/espace/pour-qui-j-agis", Lang: lang, Cookies: marie},
			browsertest.Page{Name: "space-stop-proxy", Path: "/espace/representations/" + w.proxy + "/arreter", Lang: lang, Cookies: fatima},
		)
	}
	return pages
}

// TestHomeAndSpaceWaysInInABrowser audits the pages of the ways in with
// axe-core, Tab reach, visible focus and reflow, in French and English, at
// 320 and 1280 px.
func TestHomeAndSpaceWaysInInABrowser(t *testing.T) {
	w := newAccessWorld(t)
	pages := wayInPages(t, w)
	h := browsertest.Start(t, w.app.handler)
	h.Check(t, pages...)
}

// targetProblems measures, on the page in the tab, every control a person
// taps: each at least 44 px high (WCAG 2.5.5), and at least 8 px from the
// next one (issue 17: a link touched the buttons beside it). A link inside
// a sentence is left out, as WCAG 2.5.8 leaves it: its line's height is
// the text's. Skip links show only with the focus, at the top, over the
// page: they are left out too (the stylesheet gives them 44 px). A check
// box or a radio button is tapped on its label as well: its target is the
// box that holds both.
const targetProblems = `(() => {
	window.scrollTo(0, 0);
	const describe = (el) => el.localName + (el.getAttribute('href') ? '[href="' + el.getAttribute('href') + '"]' : '') +
		' "' + (el.innerText || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 50) + '"';
	const inSentence = (el) => el.localName === 'a' && [...el.parentElement.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
	const boxes = [];
	for (const el of document.querySelectorAll('a[href], button, input:not([type="hidden"]), select, textarea, summary')) {
		if (!el.checkVisibility({ visibilityProperty: true }) || el.closest('.skiplinks') || inSentence(el)) continue;
		let r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		if (el.type === 'checkbox' || el.type === 'radio') {
			for (const l of el.labels) {
				const lr = l.getBoundingClientRect();
				const left = Math.min(r.left, lr.left), top = Math.min(r.top, lr.top);
				r = { left, top, right: Math.max(r.right, lr.right), bottom: Math.max(r.bottom, lr.bottom),
					height: Math.max(r.bottom, lr.bottom) - top };
			}
		}
		boxes.push({ el, r });
	}
	const out = [];
	for (const { el, r } of boxes) {
		if (r.height < 44) out.push(describe(el) + ' is ' + r.height.toFixed(1) + ' px high, want 44');
	}
	for (let i = 0; i < boxes.length; i++) {
		for (let j = i + 1; j < boxes.length; j++) {
			const a = boxes[i], b = boxes[j];
			if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
			const gap = Math.max(b.r.left - a.r.right, a.r.left - b.r.right, b.r.top - a.r.bottom, a.r.top - b.r.bottom);
			if (gap < 8) out.push(describe(a.el) + ' and ' + describe(b.el) + ' are ' + gap.toFixed(1) + ' px apart, want 8');
		}
	}
	return { count: boxes.length, problems: out };
})()`

// TestHomeAndSpaceControlsAreLargeEnoughAt320 measures the rendered
// controls of the pages of the ways in at 320 px, in French and English:
// each at least 44 px high, with space between them.
func TestHomeAndSpaceControlsAreLargeEnoughAt320(t *testing.T) {
	w := newAccessWorld(t)
	pages := wayInPages(t, w)
	h := browsertest.Start(t, w.app.handler)
	for _, p := range pages {
		t.Run(p.Name+"/"+p.Lang, func(t *testing.T) {
			tab := h.Tab(t, 320)
			ctx, cancel := context.WithTimeout(tab, 60*time.Second)
			defer cancel()
			cookies := map[string]string{browsertest.LangCookie: p.Lang}
			for k, v := range p.Cookies {
				cookies[k] = v
			}
			for name, value := range cookies {
				if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := chromedp.RunResponse(ctx, chromedp.Navigate(h.URL(p.Path)))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusOK {
				t.Fatalf("%s: HTTP %d", p.Path, res.Status)
			}
			checkTargets(t, ctx, p.Path)
		})
	}
}

// checkTargets measures the controls of the page open in ctx with
// targetProblems and reports each one too small or too close.
func checkTargets(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	type measured struct {
		Count    int
		Problems []string
	}
	m, err := chromedp.Run(ctx, chromedp.Evaluate[measured](targetProblems))
	if err != nil {
		t.Fatal(err)
	}
	// The header's name, the language switch and the footer's link at
	// least: a page where nothing is measured measures nothing.
	if m.Count < 3 {
		t.Fatalf("only %d controls measured on %s", m.Count, path)
	}
	for _, msg := range m.Problems {
		t.Error(msg)
	}
}
