package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/ui/browsertest"
)

// TestATutorCompletesTheManageActWithTheKeyboardAlone is issue 6's
// acceptance test: in chromium at 320 px, with the keyboard alone, Marie
// Martin signs in at the demo site through a real `relais serve --demo`,
// chooses Jeanne on "Pour qui faites-vous cette démarche ?", agrees, reads
// on the site that she acts for Jeanne as her tutor, and declares a change
// of situation, which Relais evaluates as allowed. Then axe-core audits
// the site's pages. Without chromium it is skipped, or fails when CI is
// set (ui/browsertest's rule).
func TestATutorCompletesTheManageActWithTheKeyboardAlone(t *testing.T) {
	// The harness serves the site on a free port; the site is built once
	// that address is known, as it is the redirect URI.
	var site *Site
	h := browsertest.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { site.ServeHTTP(w, r) }))
	siteURL := h.URL("")

	// The demo client's redirect URIs are on port 8081, which another
	// program may hold: the test registers the same site on its own port,
	// with the demo client's procedure areas.
	r := startRelais(t, []string{"--id", "demo-site-test", "--name", "Caisse d’allocations de démonstration",
		"--redirect-uri", siteURL + "/callback", "--post-logout-redirect-uri", siteURL + "/",
		"--scope", "openid identite_pivot", "--procedure-area", "social,papiers,argent,logement"})
	site = newSite(config{Issuer: r.issuer, ClientID: "demo-site-test", ClientSecret: r.secret,
		RedirectURL: siteURL + "/callback", PostLogoutURL: siteURL + "/"}, slog.New(slog.NewTextHandler(testWriter{t}, nil)))

	tab := h.Tab(t, 320)
	ctx, cancel := context.WithTimeout(tab, 2*time.Minute)
	defer cancel()
	// Relais's pages in French, as for a person whose browser asks for it.
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: browsertest.LangCookie, Value: "fr",
		URL: r.issuer + "/", Path: "/"}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(siteURL+"/")); err != nil {
		t.Fatal(err)
	}

	// Home page: "Se connecter avec Relais".
	tabTo(t, ctx, `a[href="/connexion"]`)
	press(t, ctx, kb.Enter)
	waitFor(t, ctx, r.issuer+"/login")
	tabTo(t, ctx, "#email")
	press(t, ctx, "marie.martin@demo.example")
	tabTo(t, ctx, "#password")
	press(t, ctx, r.password("marie.martin@demo.example"), kb.Enter)

	// "Pour qui faites-vous cette démarche ?": the first radio is "for
	// myself"; the arrow key moves to Jeanne and chooses her.
	waitUntil(t, ctx, `!!document.querySelector('form[action="/pour-qui"]')`)
	if body := bodyText(t, ctx); !strings.Contains(body, "Pour qui faites-vous cette démarche") || !strings.Contains(body, "Jeanne") {
		t.Fatalf("the for-whom page:\n%s", body)
	}
	tabTo(t, ctx, "#for-self")
	press(t, ctx, kb.ArrowDown)
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(() => { const c = document.querySelector('input[name="for"]:checked'); return c ? c.labels[0].innerText : ""; })()`))
	if err != nil || !strings.Contains(label, "Jeanne") {
		t.Fatalf("the arrow key chose %q (%v), want Jeanne", label, err)
	}
	tabTo(t, ctx, `form[action="/pour-qui"] button[type="submit"]`)
	press(t, ctx, kb.Enter)

	// The consent page, then back at the site.
	waitUntil(t, ctx, `!!document.querySelector('button[value="accept"]')`)
	tabTo(t, ctx, `button[value="accept"]`)
	press(t, ctx, kb.Enter)
	waitFor(t, ctx, siteURL+"/compte")
	body := bodyText(t, ctx)
	for _, want := range []string{"Compte de Jeanne Lefèvre", "Marie Martin, tuteur ou tutrice, pour Jeanne Lefèvre", "Vous agissez au titre de : Tutelle."} {
		if !strings.Contains(body, want) {
			t.Errorf("the account page does not say %q:\n%s", want, body)
		}
	}

	// The manage act, evaluated by Relais as allowed, then done.
	tabTo(t, ctx, `form[action="/actes/declarer"] button`)
	press(t, ctx, kb.Enter)
	waitFor(t, ctx, siteURL+"/actes/declarer")
	body = bodyText(t, ctx)
	for _, want := range []string{"C’est fait.", "Le changement de situation de Jeanne Lefèvre est déclaré", "Réponse de Relais : autorisé"} {
		if !strings.Contains(body, want) {
			t.Errorf("the manage act's page does not say %q:\n%s", want, body)
		}
	}
	if t.Failed() {
		return
	}

	// axe-core, reflow at 320 px, Tab reach and visible focus, on each page
	// of the site, in both languages: Marie's own session, and made-up
	// sessions for the co-signature pages (Marie's acts need none).
	var session string
	got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{siteURL + "/"}})
	for _, c := range got.Cookies {
		if c.Name == sessionCookie {
			session = c.Value
		}
	}
	if err != nil || session == "" {
		t.Fatalf("the site's session cookie: %q %v", session, err)
	}
	cosign, pending := cosignSessions(site, r.issuer)
	var pages []browsertest.Page
	for _, l := range []string{"fr", "en"} {
		with := func(id string) map[string]string { return map[string]string{langCookie: l, sessionCookie: id} }
		pages = append(pages,
			browsertest.Page{Name: "home", Path: "/", Lang: l, Cookies: with("")},
			browsertest.Page{Name: "account", Path: "/compte", Lang: l, Cookies: with(session)},
			browsertest.Page{Name: "act-done", Path: "/actes/declarer", Lang: l, Cookies: with(session)},
			browsertest.Page{Name: "act-cosign", Path: "/actes/rembourser", Lang: l, Cookies: with(cosign)},
			browsertest.Page{Name: "act-pending", Path: "/actes/rembourser", Lang: l, Cookies: with(pending)},
			browsertest.Page{Name: "session-ended", Path: "/compte", Lang: l, Cookies: with(""), WantStatus: http.StatusUnauthorized},
			browsertest.Page{Name: "bad-state", Path: "/callback?code=x&state=y", Lang: l, Cookies: with(""), WantStatus: http.StatusBadRequest},
			browsertest.Page{Name: "not-found", Path: "/nulle-part", Lang: l, Cookies: with(""), WantStatus: http.StatusNotFound},
		)
	}
	h.Check(t, pages...)
}

// cosignSessions makes two signed-in sessions of Lucie acting for Paul:
// one told that the dispose act needs agreement, one that asked for it.
func cosignSessions(site *Site, issuer string) (cosign, pending string) {
	now := time.Now()
	a := &account{Sub: "paul", Person: "Paul Durand",
		Actor: &actClaim{Sub: "lucie", GivenName: "Lucie", FamilyName: "Moreau"},
		Representation: &representationClaim{Kind: "curatelle_renforcee", Role: "curateur",
			RoleLabel: map[string]string{"fr": "Curateur ou curatrice", "en": "curator"},
			Actions:   map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "cosign", "personal": "no"}},
		Expires: now.Add(time.Hour)}
	reason := map[string]string{"fr": "accord nécessaire : la curatelle renforcée demande l’accord de la personne.",
		"en": "agreement needed: reinforced curatorship asks for the person’s agreement."}
	newSession := func(c *cosignState) string {
		s := site.sessions.create(httptest.NewRecorder(), false, time.Hour)
		defer s.mu.Unlock()
		s.account = a
		s.acts["rembourser"] = &actState{Answer: "cosign", Reason: reason, CheckedAt: now, CosignEndpoint: issuer + "/access/v1/cosignatures",
			AgreementOf: "represented_person", Cosign: c}
		return s.id
	}
	return newSession(nil), newSession(&cosignState{ID: "0193b000-0000-7000-8000-000000000001", Status: "pending", ExpiresAt: now.Add(7 * 24 * time.Hour),
		StatusURL: issuer + "/access/v1/cosignatures/0193b000-0000-7000-8000-000000000001"})
}

// tabTo presses Tab until the element matching selector has the focus, as
// a keyboard user does, and fails if it never comes.
func tabTo(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	for range 40 {
		press(t, ctx, kb.Tab)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+strconv.Quote(selector)+`)`))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
	}
	t.Fatalf("the Tab key never reached %s on:\n%s", selector, bodyText(t, ctx))
}

// press types keys: text, or kb's named keys.
func press(t *testing.T, ctx context.Context, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls the tab's location until it starts with prefix; only
// browser tests poll, with a deadline.
func waitFor(t *testing.T, ctx context.Context, prefix string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && strings.HasPrefix(loc, prefix) {
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete"`)); err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never went to %s (now at %s, %v):\n%s", prefix, loc, err, bodyText(t, ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitUntil polls a JavaScript condition on the page.
func waitUntil(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("never true: %s (at %s):\n%s", js, loc, bodyText(t, ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return fmt.Sprintf("(no text: %v)", err)
	}
	return strings.Join(strings.Fields(s), " ")
}
