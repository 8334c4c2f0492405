package ui_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// updateAXTree rewrites the golden files of TestAccessibilityTree instead
// of comparing them: see regenerateAXTree.
var updateAXTree = flag.Bool("update-axtree", false, "rewrite ui/testdata/axtree/*.txt from the pages (TestAccessibilityTree)")

// regenerateAXTree is the one command that rewrites every golden file of
// the accessibility tree; docs/accessibility.md says how to review it.
const regenerateAXTree = "CI=1 go test ./ui -run TestAccessibilityTree -update-axtree"

// axtreeWidth is the window the tree is read at: a desktop, where most
// screen-reader users are. The controls are measured at 320 px instead
// (TestKeyPagesControlsAreLargeEnoughAt320).
const axtreeWidth = 1280

// keyPages are the pages issue 17 names, each as the person who meets it
// sees it, in lang: the home page, the login and its second-factor step,
// the "for whom?" chooser, the consent for oneself and when acting for
// someone, the space, « qui peut agir pour moi », a new proxy, the stop of
// a proxy, Jeanne's journal after her tutor's refund, the agreements and
// one agreement, a refusal, an error page, three forms sent with errors,
// « Comment je reçois mes courriers »,
// and the attestation an aidant reads with the person. Pages a form post
// answers with are kept and served at /test/key/<name>/<lang>.
func keyPages(t *testing.T) (*oidcApp, func(lang string) []browsertest.Page) {
	t.Helper()
	a := newJournalRun(t)
	app, c, ctx := a.app, a.cast, t.Context()
	// Jeanne's journal: her tutor Marie's refund at the caf site.
	marieRefunds(t, a)

	// Ahmed's proxy to his brother Karim, accepted.
	proxy, err := app.service.GiveProxy(ctx, mandates.Actor{PersonID: c.ahmed.ID}, mandates.ProxyInput{HolderID: c.karim.ID,
		Areas: []mandates.Area{"social", "logement"}, Granted: []mandates.Action{mandates.Consult, mandates.Manage}, Duration: mandates.SixMonths})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.service.AnswerProxy(ctx, mandates.Actor{PersonID: c.karim.ID}, proxy.ID, true); err != nil {
		t.Fatal(err)
	}

	// Paul under curatelle renforcée, his curator Lucie; Lucie's act
	// waits for Paul's agreement.
	paul := newPerson(t, app, "Paul", "Durand", "paul.durand@example.fr", "")
	lucie := newPerson(t, app, "Lucie", "Moreau", "lucie.moreau@example.fr", "")
	now := time.Now().UTC()
	if _, err := app.service.RegisterMeasure(ctx, mandates.Actor{PersonID: c.operator.ID}, mandates.MeasureInput{Kind: mandates.CuratelleRenforcee,
		PersonID: paul.ID, Representatives: []mandates.RepresentativeInput{{PersonID: lucie.ID, Role: mandates.RoleCurateur}},
		ValidFrom: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00043"}}); err != nil {
		t.Fatal(err)
	}
	agreement, err := app.service.RequestCosignature(ctx, mandates.CosignatureRequest{ClientID: "caf", PersonID: paul.ID, ActorID: lucie.ID,
		Action: mandates.Dispose, Area: "social", Description: "Résilier le contrat d’assurance habitation"})
	if err != nil {
		t.Fatal(err)
	}

	// Yvette's aidant mandate waits for her consent: the attestation.
	yvette := newPerson(t, app, "Yvette", "Garnier", "yvette.garnier@example.fr", "")
	attestation := startMandate(t, app, c, yvette, "papiers", "social")

	// The aidant's login waits for her code.
	pending, err := app.totp.StartLogin(ctx, c.aidant.ID, []string{"pwd"})
	if err != nil {
		t.Fatal(err)
	}

	// The site's requests: Marie chooses for whom; Marie acting for
	// Jeanne with acts the site asks for; Jeanne for herself.
	marie, marieSession := sessionWithID(t, app, c.marie)
	jeanne, jeanneSession := sessionWithID(t, app, c.jeanne)
	details, _ := json.Marshal([]authz.AuthorizationDetail{{Type: "public_service_act", Actions: []string{"consult", "manage"}, ProcedureAreas: []string{"social"}}})
	authorize := cafAuthorizePath
	acting := authorize(url.Values{"relais_for": {app.provider.SealChoice(marieSession, "caf", a.repID)}, "authorization_details": {string(details)}})
	self := authorize(url.Values{"relais_for": {app.provider.SealChoice(jeanneSession, "caf", authz.ActingSelf)}})

	ahmed, paulC, aidant := sessionFor(t, app, c.ahmed), sessionFor(t, app, paul), sessionFor(t, app, c.aidant, "pwd", "otp")
	jeanneC := map[string]string{"relais_session": jeanne}
	return app, func(lang string) []browsertest.Page {
		client := func(cookies map[string]string) *http.Client {
			cl := browserClient(t)
			u, _ := url.Parse(app.srv.URL)
			cl.Jar.SetCookies(u, []*http.Cookie{{Name: browsertest.LangCookie, Value: lang, Path: "/"}})
			for k, v := range cookies {
				cl.Jar.SetCookies(u, []*http.Cookie{{Name: k, Value: v, Path: "/"}})
			}
			return cl
		}
		var pages []browsertest.Page
		// kept posts form and serves the page it answers with.
		kept := func(name string, cookies map[string]string, path string, form url.Values, want int) {
			t.Helper()
			res, err := client(cookies).PostForm(app.srv.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, res)
			if res.StatusCode != want {
				t.Fatalf("%s (%s): %d, want %d\n%.1500s", name, lang, res.StatusCode, want, body)
			}
			at := "/test/key/" + name + "/" + lang
			app.server.Router().HandleFunc(at, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(want)
				w.Write([]byte(body))
			})
			pages = append(pages, browsertest.Page{Name: name, Path: at, Lang: lang, WantStatus: want, Cookies: cookies})
		}
		kept("login-errors", nil, "/login", url.Values{"email": {""}, "password": {""}, "return": {"/espace"}}, http.StatusBadRequest)
		kept("proxy-new-errors", ahmed, "/espace/procuration/nouvelle", url.Values{"email": {"inconnu@example.fr"}}, http.StatusBadRequest)
		kept("refusal", ahmed, "/espace/procuration/nouvelle", url.Values{"email": {c.karim.Email}, "domaines": {"social"},
			"droits": {"consult"}, "duree": {string(mandates.SixMonths)}}, http.StatusConflict)
		kept("letters-number-errors", jeanneC, "/espace/courriers/sms", url.Values{"sms": {"01 23 45 67 89"}}, http.StatusBadRequest)
		return append(pages,
			browsertest.Page{Name: "home", Path: "/", Lang: lang},
			browsertest.Page{Name: "login", Path: "/login?" + url.Values{"return": {"/espace"}}.Encode(), Lang: lang},
			browsertest.Page{Name: "login-code", Path: "/login/code?" + url.Values{"return": {"/aidant"}}.Encode(), Lang: lang,
				Cookies: map[string]string{"relais_pending_login": pending}},
			browsertest.Page{Name: "forwhom", Path: authorize(nil), Lang: lang, Cookies: map[string]string{"relais_session": marie}},
			browsertest.Page{Name: "consent-self", Path: self, Lang: lang, Cookies: jeanneC},
			browsertest.Page{Name: "consent-acting", Path: acting, Lang: lang, Cookies: map[string]string{"relais_session": marie}},
			browsertest.Page{Name: "space-home", Path: "/espace", Lang: lang, Cookies: jeanneC},
			browsertest.Page{Name: "space-of", Path: "/espace/qui-agit-pour-moi", Lang: lang, Cookies: jeanneC},
			browsertest.Page{Name: "letters", Path: "/espace/courriers", Lang: lang, Cookies: jeanneC},
			browsertest.Page{Name: "proxy-new", Path: "/espace/procuration/nouvelle", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "proxy-stop", Path: "/espace/representations/" + proxy.ID + "/arreter", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "journal-act", Path: "/espace/journal", Lang: lang, Cookies: jeanneC},
			browsertest.Page{Name: "agreements", Path: "/espace/accords", Lang: lang, Cookies: paulC},
			browsertest.Page{Name: "agreement", Path: "/espace/accords/" + agreement.ID, Lang: lang, Cookies: paulC},
			browsertest.Page{Name: "error-404", Path: "/cette-page-n-existe-pas", Lang: lang, WantStatus: http.StatusNotFound, Cookies: jeanneC},
			browsertest.Page{Name: "attestation", Path: "/aidant/mandats/" + attestation.ID + "/attestation", Lang: lang, Cookies: aidant},
		)
	}
}

// sessionWithID signs p in as the login page would and returns the
// session's cookie value and its id (which a sealed choice names).
func sessionWithID(t *testing.T, app *oidcApp, p mandates.Person) (token, id string) {
	t.Helper()
	token, id = authn.NewSessionToken()
	now := time.Now()
	if err := app.store.CreateSession(t.Context(), authn.BrowserSession{ID: id, PersonID: p.ID, AuthTime: now, AMR: []string{"pwd"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return token, id
}

// openKeyPage loads p in a tab of its own at width, with its cookies and
// its language, the window's focus emulated (so focus states are those of
// a person's browser), and fails unless the page answers p's status.
func openKeyPage(t *testing.T, h *browsertest.Harness, p browsertest.Page, width int) context.Context {
	t.Helper()
	tab := h.Tab(t, width)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	t.Cleanup(cancel)
	cookies := map[string]string{browsertest.LangCookie: p.Lang}
	for k, v := range p.Cookies {
		cookies[k] = v
	}
	for name, value := range cookies {
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.RunResponse(ctx, chromedp.Navigate(h.URL(p.Path)))
	if err != nil {
		t.Fatal(err)
	}
	want := p.WantStatus
	if want == 0 {
		want = http.StatusOK
	}
	if int(res.Status) != want {
		t.Fatalf("%s: HTTP %d, want %d", p.Path, res.Status, want)
	}
	// Browsers run autofocus at the first rendering after the load: read
	// the tree once it ran, or the focused state depends on timing.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const a = document.querySelector('[autofocus]'); return !a || document.activeElement === a; })()`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("%s: autofocus did not run: %v", p.Path, err)
	}
	return ctx
}

// Only what changes from one run to the next is replaced, so that two
// runs write the same files and a reviewer still reads every word: ids,
// an error's reference, times of day, and dates near today (a measure's end, a proxy's end, a
// journal's day). A date far from today (a birth date) stays.
var (
	axID       = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	axCode     = regexp.MustCompile(`\b[0-9a-f]{24}\b`) // an error page's reference (the request's id)
	axWeekday  = `(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),? )?`
	axMonthsFR = `janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre`
	axMonthsEN = `January|February|March|April|May|June|July|August|September|October|November|December`
	axDate     = regexp.MustCompile(axWeekday + `(?:(?:\d{1,2}(?:er)?|1st|2nd|3rd|\d{1,2}th) (?:` + axMonthsFR + `|` + axMonthsEN + `)(?: (\d{4}))?` +
		`|(?:` + axMonthsEN + `) \d{1,2}(?:, (\d{4}))?|(\d{2})/\d{2}/(\d{4}))`)
	axTime = regexp.MustCompile(`\b\d{1,2} h \d{2}\b|\b\d{1,2}:\d{2}(?: ?[AaPp]\.?[Mm]\.?)?`)
)

func normalizeAXTree(s string, now time.Time) string {
	s = axID.ReplaceAllString(s, "<id>")
	s = axCode.ReplaceAllString(s, "<code>")
	s = axDate.ReplaceAllStringFunc(s, func(m string) string {
		for _, y := range axDate.FindStringSubmatch(m)[1:] {
			if n, err := strconv.Atoi(y); err == nil && len(y) == 4 && (n < now.Year()-2 || n > now.Year()+6) {
				return m
			}
		}
		return "<date>"
	})
	return axTime.ReplaceAllString(s, "<time>")
}

// TestAccessibilityTree keeps, for each key page in French and English,
// what chromium gives a screen reader (roles, names, states), in
// ui/testdata/axtree/<page>.<lang>.txt: a change in what a screen reader
// says shows in review as a change of these files. A difference fails
// with a unified diff; regenerateAXTree rewrites the files.
func TestAccessibilityTree(t *testing.T) {
	app, pagesIn := keyPages(t)
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		pages = append(pages, pagesIn(lang)...)
	}
	h := browsertest.Start(t, app.handler)
	now := time.Now()
	for _, p := range pages {
		t.Run(p.Name+"/"+p.Lang, func(t *testing.T) {
			ctx := openKeyPage(t, h, p, axtreeWidth)
			tree, err := browsertest.AXTree(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tree, "RootWebArea ") || strings.Count(tree, "\n") < 10 {
				t.Fatalf("the tree of %s is not a page's:\n%s", p.Path, tree)
			}
			browsertest.Golden(t, filepath.Join("testdata", "axtree", p.Name+"."+p.Lang+".txt"), normalizeAXTree(tree, now), *updateAXTree, regenerateAXTree)
		})
	}
}

// TestKeyPagesControlsAreLargeEnoughAt320 measures, at 320 px in French
// and English, the controls of every key page a person under protection
// may see, with the rule of targetProblems: each control at least 44 px
// high (WCAG 2.5.5) and 8 px from the next; a link inside a sentence is
// exempt, as WCAG 2.5.8 exempts inline targets.
func TestKeyPagesControlsAreLargeEnoughAt320(t *testing.T) {
	app, pagesIn := keyPages(t)
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		pages = append(pages, pagesIn(lang)...)
	}
	h := browsertest.Start(t, app.handler)
	for _, p := range pages {
		t.Run(p.Name+"/"+p.Lang, func(t *testing.T) {
			ctx := openKeyPage(t, h, p, 320)
			checkTargets(t, ctx, p.Path)
		})
	}
}
