package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// checkWidths are the viewport widths that Check audits: 320 CSS px is the
// reflow width of WCAG 1.4.10, 1280 a common laptop.
var checkWidths = []int{320, 1280}

// startTimeout bounds the browser's start; a hung start would otherwise wait
// for the whole go test timeout.
const startTimeout = 30 * time.Second

// Harness is one test server and one headless browser. Each Audit opens its
// own tab in its own browser context, so audits share no cookies or storage
// and may run in parallel.
type Harness struct {
	srv     *httptest.Server
	browser context.Context // chromedp context that owns the browser process
	axe     string          // source of axe.min.js
	test    string          // name of the test that called Start, for file names
}

// Start serves handler on a free loopback port and starts headless chromium;
// t.Cleanup stops both. Without chromium or npm the test is skipped, or fails
// when the environment variable CI is set.
func Start(t *testing.T, handler http.Handler) *Harness {
	t.Helper()
	exe, err := chromiumPath()
	if err != nil {
		unavailable(t, "%v", err)
	}
	axe := loadAxe(t)

	// httptest listens on 127.0.0.1:0: a free port, reachable from this
	// machine only.
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		// Some of these repeat chromedp's defaults on purpose: the suite
		// depends on them, whatever later chromedp versions choose.
		chromedp.Headless,
		// CI runs as root, where chromium refuses to start with its sandbox.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// The machine reaches no internet; keep the browser from trying, so
		// no background request slows or perturbs a test.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		// No UserDataDir option: chromedp then makes a fresh temporary
		// --user-data-dir and removes it, with retries, once chromium exits.
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	// Registered after srv.Close, so it runs before it: the browser goes
	// first and the server never waits on its connections.
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})

	// The first Run ties the browser's life to its context, so it cannot
	// carry a timeout itself; the timer stops a start that hangs.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browser) }()
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browsertest: starting %s: %v", exe, err)
		}
	case <-timer.C:
		cancelBrowser()
		t.Fatalf("browsertest: %s did not start within %v", exe, startTimeout)
	}

	return &Harness{srv: srv, browser: browser, axe: axe, test: t.Name()}
}

// URL returns the absolute URL of path on the test server.
func (h *Harness) URL(path string) string {
	return h.srv.URL + path
}

// Check audits each page at 320 and 1280 px, in subtests named
// "<name>/<lang>/<width>" (e.g. "home/fr/320"), and fails them on every
// problem that Problems finds. The audits run in parallel (as many at once
// as go test's -parallel), each in its own tab and browser context, once
// the calling test's function has returned: a test must not undo with
// defer what its pages need (t.Cleanup runs after them).
func (h *Harness) Check(t *testing.T, pages ...Page) {
	t.Helper()
	for _, p := range pages {
		for _, w := range checkWidths {
			t.Run(fmt.Sprintf("%s/%s/%d", p.Name, p.langLabel(), w), func(t *testing.T) {
				t.Parallel()
				r, err := h.Audit(t.Context(), p, w)
				if err != nil {
					t.Fatal(err)
				}
				for _, msg := range Problems(p, r) {
					t.Error(msg)
				}
				if t.Failed() {
					t.Logf("screenshot: %s", r.Screenshot)
				}
			})
		}
	}
}

// Problems turns a report into the failures that Check reports, one message
// each, so that tests and tools judge a page the same way.
func Problems(p Page, r Report) []string {
	var msgs []string
	if want := p.wantStatus(); r.Status != want {
		msgs = append(msgs, fmt.Sprintf("HTTP status %d, want %d", r.Status, want))
	}
	if p.Lang != "" && r.Lang != p.Lang {
		msgs = append(msgs, fmt.Sprintf("<html lang=%q>, want %q", r.Lang, p.Lang))
	}
	for _, v := range r.Violations {
		msgs = append(msgs, fmt.Sprintf("axe %s (%s): %s; at %q; see %s", v.ID, v.Impact, v.Help, v.Targets, v.HelpURL))
	}
	if r.Overflow {
		msgs = append(msgs, fmt.Sprintf("page scrolls sideways at %d px (WCAG 1.4.10 Reflow)", r.Width))
	}
	for _, c := range r.Unreached {
		msgs = append(msgs, "Tab never reaches "+c+" (WCAG 2.1.1 Keyboard)")
	}
	for _, c := range r.NoFocusStyle {
		msgs = append(msgs, "no visible focus on "+c+" (WCAG 2.4.7 Focus Visible)")
	}
	return msgs
}

// Tab opens a tab in its own browser context at the given width, for tests
// that drive a flow step by step (typing, pressing keys); t.Cleanup closes
// it. The context carries no deadline: wrap calls in one.
func (h *Harness) Tab(t *testing.T, width int) context.Context {
	t.Helper()
	tab, closeTab := chromedp.NewContext(h.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(closeTab)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(int64(width), viewportHeight)); err != nil {
		t.Fatalf("browsertest: opening a tab: %v", err)
	}
	return tab
}
