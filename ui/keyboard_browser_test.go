package ui_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/ui/browsertest"
)

// tabTo presses Tab until the element matching selector has the focus, as
// a keyboard user does, and fails if it never comes.
func tabTo(t *testing.T, tab context.Context, selector string) {
	t.Helper()
	for range 30 {
		if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.activeElement && document.activeElement.matches(`+jsString(selector)+`)`))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
	}
	t.Fatalf("the Tab key never reached %s", selector)
}

func jsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// waitFor polls the tab's location until it starts with prefix.
func waitFor(t *testing.T, tab context.Context, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc, err := chromedp.Run(tab, chromedp.Location())
		if err == nil && strings.HasPrefix(loc, prefix) {
			return loc
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never went to %s (now at %s, %v)", prefix, loc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keyboardRun is a sign-in in chromium at 320 px, done with the keyboard
// alone, from a stand-in site's authorization request.
type keyboardRun struct {
	h        *browsertest.Harness
	ctx      context.Context
	conf     *oauth2.Config
	verifier string
	site     string
}

// signInWithKeyboard adds a stand-in site's callback to the client, opens
// its authorization request and types the email and password.
func signInWithKeyboard(t *testing.T, app *oidcApp) *keyboardRun {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="fr"><title>Site</title><h1>Retour sur le site</h1></html>`))
	}))
	t.Cleanup(site.Close)
	if _, err := app.store.UpdateClient(t.Context(), "caf", func(c *oauth.Client) error {
		c.RedirectURIs = append(c.RedirectURIs, site.URL+"/cb")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	k := &keyboardRun{h: browsertest.Start(t, app.handler), verifier: oauth2.GenerateVerifier(), site: site.URL}
	ctx, cancel := context.WithTimeout(k.h.Tab(t, 320), 60*time.Second)
	t.Cleanup(cancel)
	k.ctx = ctx
	k.conf = app.conf()
	k.conf.RedirectURL = site.URL + "/cb"
	authURL := strings.Replace(k.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(k.verifier)), app.srv.URL, k.h.URL(""), 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(authURL)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, k.h.URL("/login"))
	tabTo(t, ctx, "#email")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(testEmail)); err != nil {
		t.Fatal(err)
	}
	tabTo(t, ctx, "#password")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(testPassword), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	return k
}

// finish waits until the browser is back on the site with a code, and
// exchanges it.
func (k *keyboardRun) finish(t *testing.T) *oauth2.Token {
	t.Helper()
	loc, err := url.Parse(waitFor(t, k.ctx, k.site+"/cb"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Query().Get("state") != "state-123456" || loc.Query().Get("code") == "" {
		t.Fatalf("the site got %s", loc)
	}
	k.conf.Endpoint.TokenURL = k.h.URL("/token")
	tok, err := k.conf.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(k.verifier))
	if err != nil {
		t.Fatalf("the code from the keyboard flow does not exchange: %v", err)
	}
	return tok
}

// TestCodeFlowWithTheKeyboardAlone: a person who uses only the keyboard
// signs in, agrees to share, and the site receives its code, at 320 px.
func TestCodeFlowWithTheKeyboardAlone(t *testing.T) {
	k := signInWithKeyboard(t, newOIDCApp(t))
	waitFor(t, k.ctx, k.h.URL("/authorize"))
	tabTo(t, k.ctx, `button[value="accept"]`)
	if err := chromedp.Do(k.ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	k.finish(t)
}
