package ui_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// spaceFixtures are representations in every state the pages show.
type spaceFixtures struct {
	active    mandates.Representation // Ahmed's aidant mandate, consented with an attestation
	withdrawn mandates.Representation // one Ahmed stopped
	proxy     mandates.Representation // Ahmed's proxy waiting for Karim
	accepted  mandates.Representation // one Karim accepted
	forKarim  mandates.Representation // waiting for Karim's consent (Karim has no phone)
	codeSent  mandates.Representation // waiting, a code sent to Ahmed
	noCode    mandates.Representation // waiting, no code sent yet
	tutelle   mandates.Representation
	paul      mandates.Person // an aidant the organisation withdrew
}

func newSpaceFixtures(t *testing.T, app *oidcApp, c *cast) spaceFixtures {
	t.Helper()
	ctx := t.Context()
	var f spaceFixtures
	// One mandate between a person and an organisation at a time: the
	// withdrawn one first, then the one in force; the requests waiting
	// are other people's.
	var err error
	f.withdrawn = activeMandate(t, app, c, c.ahmed, "logement")
	if f.withdrawn, err = app.service.Withdraw(ctx, mandates.Actor{PersonID: c.ahmed.ID}, f.withdrawn.ID); err != nil {
		t.Fatal(err)
	}
	f.active = startMandate(t, app, c, c.ahmed, "papiers", "social")
	text := locales.Attestation(f.active, c.ahmed, c.org, c.aidant, time.Now(), "fr")
	if f.active, err = app.service.RecordInPersonConsent(ctx, aidantActor(c), f.active.ID, []byte(text)); err != nil {
		t.Fatal(err)
	}
	give := func(holder mandates.Person) mandates.Representation {
		p, err := app.service.GiveProxy(ctx, mandates.Actor{PersonID: c.ahmed.ID}, mandates.ProxyInput{HolderID: holder.ID,
			Areas: []mandates.Area{"social", "argent"}, Granted: []mandates.Action{mandates.Consult, mandates.Manage}, Duration: mandates.SixMonths})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.accepted = give(c.karim)
	if f.accepted, err = app.service.AnswerProxy(ctx, mandates.Actor{PersonID: c.karim.ID}, f.accepted.ID, true); err != nil {
		t.Fatal(err)
	}
	// One proxy to a person at a time: the one waiting is to someone else.
	f.proxy = give(newPerson(t, app, "Nora", "Benali", "nora.benali@example.fr", ""))
	f.forKarim = startMandate(t, app, c, c.karim, "travail")
	f.codeSent = startMandate(t, app, c, newPerson(t, app, "Hélène", "Roux", "helene.roux@example.fr", "06 00 00 00 07"), "transports")
	if err := app.service.SendConsentCode(ctx, aidantActor(c), f.codeSent.ID); err != nil {
		t.Fatal(err)
	}
	f.noCode = startMandate(t, app, c, newPerson(t, app, "Inès", "Garnier", "ines.garnier@example.fr", ""), "loisirs")
	f.tutelle = tutelleOf(t, app, c)
	f.paul = newPerson(t, app, "Paul", "Moreau", "paul.moreau@example.fr", "")
	admin := mandates.Actor{PersonID: c.admin.ID}
	app.enrolTOTPOf(t, f.paul.ID)
	if _, err := app.service.Habilitate(ctx, admin, c.org.ID, f.paul.ID, mandates.MemberAidant); err != nil {
		t.Fatal(err)
	}
	if err := app.service.WithdrawMember(ctx, admin, c.org.ID, f.paul.ID); err != nil {
		t.Fatal(err)
	}
	return f
}

// captureSpacePostPages posts the forms that answer with a page of their
// own (errors, a cancelled request…), in lang, and keeps those pages.
func captureSpacePostPages(t *testing.T, app *oidcApp, c *cast, lang string) []snapshot {
	t.Helper()
	var out []snapshot
	client := func(p mandates.Person, amr ...string) *http.Client {
		cl := signedIn(t, app, p, amr...)
		u, _ := url.Parse(app.srv.URL)
		cl.Jar.SetCookies(u, []*http.Cookie{{Name: browsertest.LangCookie, Value: lang, Path: "/"}})
		return cl
	}
	post := func(name string, cl *http.Client, path string, form url.Values, want int) {
		t.Helper()
		res, err := cl.PostForm(app.srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, res)
		if res.StatusCode != want {
			t.Fatalf("%s (%s): %d, want %d\n%.1500s", name, lang, res.StatusCode, want, body)
		}
		out = append(out, snapshot{name: name, status: res.StatusCode, body: []byte(body)})
	}
	ahmed, aidant := client(c.ahmed), client(c.aidant, "pwd", "otp")
	post("space-proxy-errors", ahmed, "/espace/procuration/nouvelle", url.Values{"email": {"inconnu@example.fr"}}, http.StatusBadRequest)
	post("aidant-new-errors", aidant, "/aidant/mandats/nouveau", url.Values{"domaines": {"lune"}}, http.StatusBadRequest)

	// Someone with no mandate yet: a request cancelled by wrong codes
	// leaves room for the next one.
	lina := newPerson(t, app, "Lina", "Morel", "lina.morel."+lang+"@example.fr", "06 00 00 00 08")
	m := startMandate(t, app, c, lina, "justice")
	mp := "/aidant/mandats/" + m.ID
	post("aidant-login-wrong-password", aidant, mp+"/connexion", url.Values{"email": {lina.Email}, "password": {"faux"}}, http.StatusUnauthorized)
	post("aidant-login-other-account", aidant, mp+"/connexion", url.Values{"email": {c.karim.Email}, "password": {testPassword}}, http.StatusForbidden)
	post("aidant-attestation-unticked", aidant, mp+"/attestation", url.Values{}, http.StatusBadRequest)

	if err := app.service.SendConsentCode(t.Context(), aidantActor(c), m.ID); err != nil {
		t.Fatal(err)
	}
	code := c.codes.last[lina.ID]
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	post("aidant-code-wrong", aidant, mp+"/code", url.Values{"etape": {"verifier"}, "code": {wrong}}, http.StatusBadRequest)
	if _, err := app.service.CheckConsentCode(t.Context(), aidantActor(c), m.ID, wrong); err == nil {
		t.Fatal("a wrong code was accepted")
	}
	post("aidant-code-cancelled", aidant, mp+"/code", url.Values{"etape": {"verifier"}, "code": {wrong}}, http.StatusTooManyRequests)

	m = startMandate(t, app, c, lina, "justice")
	mp = "/aidant/mandats/" + m.ID
	if err := app.service.SendConsentCode(t.Context(), aidantActor(c), m.ID); err != nil {
		t.Fatal(err)
	}
	code = c.codes.last[lina.ID]
	if _, err := app.service.CheckConsentCode(t.Context(), aidantActor(c), m.ID, code); err != nil {
		t.Fatal(err)
	}
	post("aidant-code-replayed", aidant, mp+"/code", url.Values{"etape": {"verifier"}, "code": {code}}, http.StatusBadRequest)
	return out
}

// secondary are page states audited in French only: each shares its
// template with a page audited in both languages, and only adds a
// paragraph or a list.
var secondary = map[string]bool{
	"space-of-measure": true, "space-stop-area": true, "space-stop-ended": true, "space-proxy-measure": true,
	"aidant-home-withdrawn": true, "aidant-mandate-waiting": true, "aidant-code-send": true,
	"aidant-login-other-account": true, "aidant-code-replayed": true,
}

// TestSpaceAndAidantPagesInABrowser audits every page of a person's space
// and of the aidant's workspace in French and English, with the pages a
// form post answers with (errors, a cancelled request), and other states
// of those pages in French. To keep the ui suite within go test's
// 10-minute default, the French pages are audited at both widths and the
// English ones and the secondary states at 320 px, the reflow width, where
// longer words break a layout first.
func TestSpaceAndAidantPagesInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	f := newSpaceFixtures(t, app, c)
	ahmed, karim, jeanne := sessionFor(t, app, c.ahmed), sessionFor(t, app, c.karim), sessionFor(t, app, c.jeanne)
	aidant, aidantPwd := sessionFor(t, app, c.aidant, "pwd", "otp"), sessionFor(t, app, c.aidant)
	paul := sessionFor(t, app, f.paul, "pwd", "otp")
	m := func(r mandates.Representation) string { return "/aidant/mandats/" + r.ID }

	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		for _, snap := range captureSpacePostPages(t, app, c, lang) {
			path := "/test/space/" + snap.name + "/" + lang
			app.server.Router().HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(snap.status)
				w.Write(snap.body)
			})
			pages = append(pages, browsertest.Page{Name: snap.name, Path: path, Lang: lang, WantStatus: snap.status, Cookies: aidant})
		}
		pages = append(pages,
			browsertest.Page{Name: "space-home", Path: "/espace", Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "space-of", Path: "/espace/qui-agit-pour-moi?fait=arret&r=" + f.withdrawn.ID, Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "space-of-measure", Path: "/espace/qui-agit-pour-moi", Lang: lang, Cookies: jeanne},
			browsertest.Page{Name: "space-stop", Path: "/espace/representations/" + f.active.ID + "/arreter", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "space-stop-area", Path: "/espace/representations/" + f.active.ID + "/domaines/social/retirer", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "space-stop-measure", Path: "/espace/representations/" + f.tutelle.ID + "/arreter", Lang: lang, Cookies: jeanne,
				WantStatus: http.StatusForbidden},
			browsertest.Page{Name: "space-stop-ended", Path: "/espace/representations/" + f.withdrawn.ID + "/arreter", Lang: lang, Cookies: ahmed,
				WantStatus: http.StatusConflict},
			browsertest.Page{Name: "space-for", Path: "/espace/pour-qui-j-agis?fait=accepte&r=" + f.accepted.ID, Lang: lang, Cookies: karim},
			browsertest.Page{Name: "space-proxy-new", Path: "/espace/procuration/nouvelle", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "space-proxy-measure", Path: "/espace/procuration/nouvelle", Lang: lang, Cookies: jeanne},
			browsertest.Page{Name: "space-proxy-sent", Path: "/espace/procurations/" + f.proxy.ID + "/envoyee", Lang: lang, Cookies: ahmed},
			browsertest.Page{Name: "aidant-second-factor", Path: "/aidant", Lang: lang, Cookies: aidantPwd, WantStatus: http.StatusForbidden},
			browsertest.Page{Name: "aidant-home", Path: "/aidant", Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "aidant-home-withdrawn", Path: "/aidant", Lang: lang, Cookies: paul},
			browsertest.Page{Name: "aidant-new", Path: "/aidant/mandats/nouveau", Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "aidant-mandate", Path: m(f.active) + "?fait=accord", Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "aidant-mandate-waiting", Path: m(f.forKarim), Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "aidant-login", Path: m(f.forKarim) + "/connexion", Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "aidant-attestation", Path: m(f.forKarim) + "/attestation", Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "aidant-print", Path: m(f.active) + "/attestation/imprimer", Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "aidant-code-send", Path: m(f.noCode) + "/code", Lang: lang, Cookies: aidant},
			browsertest.Page{Name: "aidant-code", Path: m(f.codeSent) + "/code", Lang: lang, Cookies: aidant},
		)
	}
	var both, narrow []browsertest.Page
	for _, p := range pages {
		switch {
		case p.Lang == "fr" && !secondary[p.Name]:
			both = append(both, p)
		case p.Lang == "en" && secondary[p.Name]:
		default:
			narrow = append(narrow, p)
		}
	}
	h := browsertest.Start(t, app.handler)
	h.Check(t, both...)
	for _, p := range narrow {
		t.Run(p.Name+"/"+p.Lang+"/320", func(t *testing.T) {
			t.Parallel()
			r, err := h.Audit(t.Context(), p, 320)
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range browsertest.Problems(p, r) {
				t.Error(msg)
			}
			if t.Failed() {
				t.Logf("screenshot: %s", r.Screenshot)
			}
		})
	}
}

// tabAs opens a tab at 320 px, in French, signed in as p; calls on it
// end within a minute and a half.
func tabAs(t *testing.T, h *browsertest.Harness, app *oidcApp, p mandates.Person, amr ...string) context.Context {
	t.Helper()
	tab := h.Tab(t, 320)
	cookies := sessionFor(t, app, p, amr...)
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

// waitText polls the page until its text holds s (no-break spaces read as
// spaces).
func waitText(t *testing.T, tab context.Context, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](`!!document.body && document.body.innerText.replace(/\u00a0/g, ' ').includes(`+jsString(s)+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			text, terr := chromedp.Run(tab, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
			loc, _ := chromedp.Run(tab, chromedp.Location())
			t.Fatalf("the page at %s never said %q (%v); it says (%v):\n%.2000s", loc, s, err, terr, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func step(t *testing.T, tab context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, actions...); err != nil {
		t.Fatal(err)
	}
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

func typeIn(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}

// mandateInURL is the mandate id in the tab's location /aidant/mandats/{id}….
func mandateInURL(t *testing.T, tab context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(tab, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(loc)
	parts := strings.Split(u.Path, "/")
	if len(parts) < 4 || !mandates.IsID(parts[3]) {
		t.Fatalf("no mandate in %s", loc)
	}
	return parts[3]
}

// newMandateInBrowser fills the aidant's form for Ahmed, social and
// papiers, twelve months, with the given way to consent.
func newMandateInBrowser(t *testing.T, tab context.Context, h *browsertest.Harness, c *cast, method string) {
	t.Helper()
	step(t, tab, chromedp.Navigate(h.URL("/aidant")))
	step(t, tab, click(`a[href="/aidant/mandats/nouveau"]`))
	waitText(t, tab, "Créer un mandat avec une personne")
	step(t, tab, typeIn("#email", c.ahmed.Email), click("#domaine-social"), click("#domaine-papiers"), click("#duree-12m"),
		click("#accord-"+method), click(`main form button[type="submit"]`))
}

func checkConsent(t *testing.T, app *oidcApp, c *cast, id string, method mandates.ConsentMethod) mandates.Representation {
	t.Helper()
	r := stored(t, app, id)
	if r.Status != mandates.StatusActive || r.Source.Consent == nil || r.Source.Consent.Method != method || r.Source.Consent.WitnessID != c.aidant.ID {
		t.Fatalf("mandate %s after consent: %s %+v", id, r.Status, r.Source.Consent)
	}
	if r.PersonID != c.ahmed.ID || len(r.Areas) != 2 || !r.ValidUntil.Equal(r.ValidFrom.AddDate(1, 0, 0)) {
		t.Errorf("the mandate is not what the form said: %+v", r)
	}
	if d := decide(t, app, c.aidant, c.ahmed, "social"); d != mandates.Allowed {
		t.Errorf("the aidant may now %s", d)
	}
	return r
}

// The three ways an aidant mandate comes to exist, walked in chromium at
// 320 px as the aidant (and, for a moment, the person) do.
func TestAidantMandateWithThePersonsOwnLoginInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	h := browsertest.Start(t, app.handler)
	tab := tabAs(t, h, app, c.aidant, "pwd", "otp")
	newMandateInBrowser(t, tab, h, c, "connexion")
	waitText(t, tab, "Ahmed Benali, vous êtes d’accord ?")
	id := mandateInURL(t, tab)
	// The person types their own email and password: first a mistake.
	step(t, tab, typeIn("#email", c.ahmed.Email), typeIn("#password", "pas le bon"), click(`main form button[type="submit"]`))
	waitText(t, tab, "ne correspond pas")
	if got := stored(t, app, id).Status; got != mandates.StatusPendingConsent {
		t.Fatalf("after a wrong password: %s", got)
	}
	step(t, tab, typeIn("#password", testPassword), chromedp.KeyEvent(kb.Enter))
	waitText(t, tab, "Ahmed Benali a donné son accord")
	checkConsent(t, app, c, id, mandates.ConsentInPersonLogin)
}

func TestAidantMandateWithAnAttestationInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	h := browsertest.Start(t, app.handler)
	tab := tabAs(t, h, app, c.aidant, "pwd", "otp")
	newMandateInBrowser(t, tab, h, c, "attestation")
	waitText(t, tab, "Enregistrer l’accord d’Ahmed Benali")
	id := mandateInURL(t, tab)
	step(t, tab, click(`main form button[type="submit"]`))
	waitText(t, tab, "Cochez la case")
	step(t, tab, click("#accord"), click(`main form button[type="submit"]`))
	waitText(t, tab, "Attestation d’accord d’Ahmed Benali")
	r := checkConsent(t, app, c, id, mandates.ConsentInPersonAttestation)

	text, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('.printable').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(text)); hex.EncodeToString(sum[:]) != r.Source.Consent.AttestationHash || !strings.Contains(text, "Moi, Ahmed Benali") {
		t.Errorf("the printed attestation is not the recorded text:\n%s", text)
	}
	// On paper: the attestation and its date, without the page around it.
	if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	printed, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.printable, .printable__given, .no-print, .tools, .lang, .footer')]
		.map(e => e.className + ':' + getComputedStyle(e).display)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range printed {
		class, display, _ := strings.Cut(p, ":")
		if hidden := display == "none"; hidden != !strings.HasPrefix(class, "printable") {
			t.Errorf("printing shows or hides the wrong part: %s", p)
		}
	}
}

func TestAidantMandateWithACodeInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	h := browsertest.Start(t, app.handler)
	tab := tabAs(t, h, app, c.aidant, "pwd", "otp")
	newMandateInBrowser(t, tab, h, c, "code")
	waitText(t, tab, "Envoyer le code au numéro qui finit par 05")
	id := mandateInURL(t, tab)
	step(t, tab, click(`main form button[type="submit"]`))
	waitText(t, tab, "Relais a envoyé un code")
	code := c.codes.last[c.ahmed.ID]
	if len(code) != 6 {
		t.Fatalf("no code was sent: %q", code)
	}
	step(t, tab, typeIn("#code", code), chromedp.KeyEvent(kb.Enter))
	waitText(t, tab, "Ahmed Benali a donné son accord")
	checkConsent(t, app, c, id, mandates.ConsentRemoteCode)
}

// Ahmed gives his son a proxy; Karim accepts it on his own page.
func TestProxyGivenAndAcceptedInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	h := browsertest.Start(t, app.handler)
	ahmed := tabAs(t, h, app, c.ahmed)
	step(t, ahmed, chromedp.Navigate(h.URL("/espace")))
	step(t, ahmed, click(`a[href="/espace/procuration/nouvelle"]`))
	waitText(t, ahmed, "Donner une procuration à une personne de confiance")
	step(t, ahmed, typeIn("#email", c.karim.Email), click("#domaine-social"), click("#domaine-logement"), click("#droit-consult"),
		click("#droit-manage"), click("#duree-1m"), click(`main form button[type="submit"]`))
	waitText(t, ahmed, "Votre procuration attend la réponse de Karim Benali")
	views, err := app.service.Of(t.Context(), c.ahmed.ID)
	if err != nil || len(views) != 1 || views[0].Kind != mandates.Proxy || views[0].Status != mandates.StatusPendingConsent {
		t.Fatalf("after giving: %v %+v", err, views)
	}
	if d := decide(t, app, c.karim, c.ahmed, "social"); d != mandates.No {
		t.Errorf("before Karim accepts, he may %s", d)
	}

	karim := tabAs(t, h, app, c.karim)
	step(t, karim, chromedp.Navigate(h.URL("/espace")))
	step(t, karim, click(`a[href="/espace/pour-qui-j-agis"]`))
	waitText(t, karim, "Ahmed Benali vous propose une procuration")
	step(t, karim, click(`form[action$="/accepter"] button`))
	waitText(t, karim, "Vous avez accepté")
	if got := stored(t, app, views[0].ID).Status; got != mandates.StatusActive {
		t.Fatalf("after acceptance: %s", got)
	}
	if d := decide(t, app, c.karim, c.ahmed, "logement"); d != mandates.Allowed {
		t.Errorf("Karim may %s for Ahmed's housing", d)
	}
}

// The person stops an aidant mandate with the keyboard alone: the
// confirmation page, then the aidant can no longer act.
func TestPersonStopsAnAidantMandateInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	rep := activeMandate(t, app, c, c.ahmed, "social")
	if d := decide(t, app, c.aidant, c.ahmed, "social"); d != mandates.Allowed {
		t.Fatalf("before: %s", d)
	}
	h := browsertest.Start(t, app.handler)
	tab := tabAs(t, h, app, c.ahmed)
	step(t, tab, chromedp.Navigate(h.URL("/espace")))
	tabTo(t, tab, `a[href="/espace/qui-agit-pour-moi"]`)
	step(t, tab, chromedp.KeyEvent(kb.Enter))
	waitText(t, tab, "Arrêter l’accès de France Services Lyon 8e")
	tabTo(t, tab, `a[href="/espace/representations/`+rep.ID+`/arreter"]`)
	step(t, tab, chromedp.KeyEvent(kb.Enter))
	waitText(t, tab, "Ce qui va changer")
	if got := stored(t, app, rep.ID).Status; got != mandates.StatusActive {
		t.Fatalf("the confirmation page changed the mandate: %s", got)
	}
	tabTo(t, tab, `main button[type="submit"]`)
	step(t, tab, chromedp.KeyEvent(kb.Enter))
	waitText(t, tab, "Vous avez arrêté l’accès de France Services Lyon 8e")
	if got := stored(t, app, rep.ID).Status; got != mandates.StatusRevoked {
		t.Errorf("after withdrawal: %s", got)
	}
	if d := decide(t, app, c.aidant, c.ahmed, "social"); d != mandates.No {
		t.Errorf("after withdrawal the aidant's manage act answers %s, want no", d)
	}
}
