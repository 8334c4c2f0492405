package browsertest

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// auditTimeout bounds one Audit, tab opening included; a page that never
// finishes loading fails instead of hanging the suite.
const auditTimeout = 60 * time.Second

// viewportHeight is a typical laptop height; the full-page screenshot shows
// the rest.
const viewportHeight = 900

// LangCookie is the cookie by which Relais pages choose their language.
const LangCookie = "relais_lang"

//go:embed audit.js
var auditJS string

// axeRun limits axe-core to the WCAG 2.1 A and AA rules, the level that
// Relais promises; best-practice rules would fail pages on taste.
const axeRun = `axe.run(document, {
	runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
	resultTypes: ['violations'],
}).then(r => r.violations.map(v => ({
	id: v.id,
	impact: v.impact || '',
	help: v.help,
	helpUrl: v.helpUrl,
	targets: v.nodes.map(n => n.target.flat(Infinity).join(' >>> ')),
})))`

// Page is one page to audit.
type Page struct {
	Name       string // short name for subtests and screenshot files, e.g. "home"
	Path       string // path on the test server, e.g. "/" or "/nope"
	Lang       string // sent as the relais_lang cookie and expected in <html lang>; "" sends none and expects nothing
	WantStatus int    // expected HTTP status of the document; 0 means 200
	// Cookies are set on the test server's origin before loading, e.g. a
	// signed-in session for pages behind login.
	Cookies map[string]string
}

func (p Page) wantStatus() int {
	if p.WantStatus == 0 {
		return http.StatusOK
	}
	return p.WantStatus
}

// langLabel names the language in subtests and files; an empty segment would
// make an odd subtest name.
func (p Page) langLabel() string {
	if p.Lang == "" {
		return "nolang"
	}
	return p.Lang
}

// Report is what Audit found on a page at one width.
type Report struct {
	Width        int
	Status       int         // HTTP status of the main document
	Lang         string      // <html lang> as the browser sees it
	Violations   []Violation // WCAG 2.1 A/AA violations found by axe-core
	Overflow     bool        // the page scrolls sideways at this width
	Unreached    []string    // visible controls that the Tab key never focused
	NoFocusStyle []string    // controls focused by Tab with no visible indicator, each with the reason
	Screenshot   string      // path of the full-page PNG
}

// Violation is one failed axe-core rule and the elements that fail it.
type Violation struct {
	ID      string   `json:"id"`     // axe rule id, e.g. "image-alt"
	Impact  string   `json:"impact"` // "minor", "moderate", "serious" or "critical"
	Help    string   `json:"help"`
	HelpURL string   `json:"helpUrl"`
	Targets []string `json:"targets"` // CSS selectors of the failing elements
}

type control struct {
	ID   string `json:"id"`
	Desc string `json:"desc"`
}

type focus struct {
	ID        string `json:"id"`
	Desc      string `json:"desc"`
	Indicator bool   `json:"indicator"`
	Seen      bool   `json:"seen"`
}

// Audit loads the page at the viewport width and reports what it finds. It
// fails no test: an error means the audit itself could not run.
func (h *Harness) Audit(ctx context.Context, p Page, width int) (Report, error) {
	r := Report{Width: width}
	fail := func(step string, err error) (Report, error) {
		return r, fmt.Errorf("browsertest: %s at %d px: %s: %w", p.Path, width, step, err)
	}

	// The tab's context must descend from the browser's, and still end with
	// the caller's context and within auditTimeout.
	tctx, cancel := context.WithTimeout(h.browser, auditTimeout)
	defer cancel()
	if d, ok := ctx.Deadline(); ok {
		tctx, cancel = context.WithDeadline(tctx, d)
		defer cancel()
	}
	defer context.AfterFunc(ctx, cancel)()
	// A new browser context per tab: no cookie or storage leaks from one
	// audit to the next.
	tab, closeTab := chromedp.NewContext(tctx, chromedp.WithNewBrowserContext())
	defer closeTab()

	// The first call opens the tab in its new browser context, which is
	// where the cookie must go.
	cookies := map[string]string{}
	for k, v := range p.Cookies {
		cookies[k] = v
	}
	if p.Lang != "" {
		cookies[LangCookie] = p.Lang
	}
	for name, value := range cookies {
		if _, err := chromedp.Call(tab, network.SetCookie, network.SetCookieParams{
			Name: name, Value: value, URL: h.URL("/"), Path: "/",
		}); err != nil {
			return fail("setting the cookie "+name, err)
		}
	}
	// Not a mobile emulation: at 320 px this is the reflow case of a narrow
	// or zoomed desktop window, which ignores <meta name=viewport>.
	if _, err := chromedp.Call(tab, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(width), Height: viewportHeight, DeviceScaleFactor: 1,
	}); err != nil {
		return fail("setting the viewport", err)
	}
	// A headless tab need not hold the window's focus, and without it
	// neither :focus nor :focus-visible styles would apply.
	if _, err := chromedp.Call(tab, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		return fail("emulating focus", err)
	}

	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(h.URL(p.Path)))
	if err != nil {
		return fail("loading", err)
	}
	if resp == nil {
		return fail("loading", errors.New("no response for the document"))
	}
	r.Status = int(resp.Status)

	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](auditJS)); err != nil {
		return fail("installing the helpers", err)
	}
	if r.Lang, err = chromedp.Run(tab, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil {
		return fail("reading lang", err)
	}
	if r.Overflow, err = chromedp.Run(tab, chromedp.Evaluate[bool](`__relaisBrowsertest.overflow()`)); err != nil {
		return fail("measuring overflow", err)
	}
	// Before the keyboard walk, so the picture shows the page as it loads,
	// with no focus ring and no scrolling.
	if r.Screenshot, err = h.screenshot(tab, p, width); err != nil {
		return fail("taking the screenshot", err)
	}
	if r.Violations, err = h.runAxe(tab); err != nil {
		return fail("running axe-core", err)
	}
	if r.Unreached, r.NoFocusStyle, err = walkKeyboard(tab); err != nil {
		return fail("walking with the Tab key", err)
	}
	return r, nil
}

func (h *Harness) runAxe(tab context.Context) ([]Violation, error) {
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](h.axe)); err != nil {
		return nil, err
	}
	return chromedp.Run(tab, chromedp.Evaluate[[]Violation](axeRun, chromedp.EvalAwaitPromise))
}

func (h *Harness) screenshot(tab context.Context, p Page, width int) (string, error) {
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	dir, err := screenshotDir()
	if err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s-%s-%s-%d.png", fileSafe(h.test), fileSafe(p.Name), fileSafe(p.langLabel()), width)
	file := filepath.Join(dir, name)
	return file, os.WriteFile(file, png, 0o644)
}

// walkKeyboard presses Tab from the top of the page, a few more times than
// there are controls so that positive tabindex orders and the wrap past the
// end are covered, and judges the focus indicator of each control reached.
func walkKeyboard(tab context.Context) (unreached, noFocusStyle []string, err error) {
	controls, err := chromedp.Run(tab, chromedp.Evaluate[[]control](`__relaisBrowsertest.controls()`))
	if err != nil {
		return nil, nil, err
	}
	if len(controls) == 0 {
		return nil, nil, nil
	}
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`__relaisBrowsertest.startFromTop()`)); err != nil {
		return nil, nil, err
	}
	reached := make(map[string]bool, len(controls))
	for i := 0; i < len(controls)+5 && len(reached) < len(controls); i++ {
		// Input.dispatchKeyEvent returns once the page has handled the key,
		// so focus has already moved when we read it.
		if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Tab)); err != nil {
			return nil, nil, err
		}
		f, err := chromedp.Run(tab, chromedp.Evaluate[focus](`__relaisBrowsertest.focused()`))
		if err != nil {
			return nil, nil, err
		}
		if f.ID == "" || reached[f.ID] {
			continue
		}
		reached[f.ID] = true
		switch {
		case !f.Seen:
			noFocusStyle = append(noFocusStyle, f.Desc+": not visible when focused (clipped, off-screen, transparent or covered)")
		case !f.Indicator:
			noFocusStyle = append(noFocusStyle, f.Desc+": no outline and no box-shadow change when focused")
		}
	}
	for _, c := range controls {
		if !reached[c.ID] {
			unreached = append(unreached, c.Desc)
		}
	}
	return unreached, noFocusStyle, nil
}
