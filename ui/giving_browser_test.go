package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/browsertest"
)

// Issue 12's acceptance, walked in chromium: who gives an aidant mandate
// under each measure, and what the aidant may do with it. Each flow runs
// twice on a world of its own: in French in 320 px tabs, in English in
// 1280 px tabs. Every page a person meets is kept as the browser showed it
// (status and document) and audited once the flow is done, in that
// language at 320 and 1280 px: axe-core, sideways scrolling, the Tab key.
// The site's side is the access evaluation API, with the site's
// credentials.

// words are what a page says, in each language.
type words struct{ fr, en string }

func (w words) in(lang string) string {
	if lang == "en" {
		return w.en
	}
	return w.fr
}

// givingRun is one flow in one language: the world, the browser, the
// pages kept for the audit, and the caf site's subs for the cast.
type givingRun struct {
	*givingWorld
	h     *browsertest.Harness
	lang  string
	width int
	kept  *keptPages
	pages []browsertest.Page
	caf   oauth.Client
	subs  map[string]string // person id → sub at the caf site
	site  string            // the stand-in site's address, where the browser lands after consent
}

// keptPages serves, at /test/giving/{name}, the documents the browser
// showed, so that the audit sees each page as it was at that step.
type keptPages struct {
	mu   sync.Mutex
	docs map[string]snapshot
}

const keptPath = "/test/giving/"

func (k *keptPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	s, ok := k.docs[strings.TrimPrefix(r.URL.Path, keptPath)]
	k.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(s.status)
	w.Write(s.body)
}

// inEachLanguage runs flow in French at 320 px, then in English at
// 1280 px, each on a world of its own, and audits the pages each kept.
func inEachLanguage(t *testing.T, newWorld func(*testing.T) *givingWorld, flow func(*testing.T, *givingRun)) {
	t.Helper()
	for _, run := range []struct {
		lang  string
		width int
	}{{"fr", 320}, {"en", 1280}} {
		t.Run(run.lang, func(t *testing.T) {
			r := newGivingRun(t, newWorld(t), run.lang, run.width)
			flow(t, r)
			r.h.Check(t, r.pages...)
		})
	}
}

func newGivingRun(t *testing.T, w *givingWorld, lang string, width int) *givingRun {
	t.Helper()
	ctx := t.Context()
	r := &givingRun{givingWorld: w, lang: lang, width: width, kept: &keptPages{docs: map[string]snapshot{}}, subs: map[string]string{}}
	w.app.server.Router().PathPrefix(keptPath).Handler(r.kept)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="fr"><title>Site</title><h1>Retour sur le site</h1></html>`))
	}))
	t.Cleanup(site.Close)
	r.site = site.URL
	var err error
	if r.caf, err = w.app.store.UpdateClient(ctx, "caf", func(c *oauth.Client) error {
		c.RedirectURIs = append(c.RedirectURIs, site.URL+"/cb")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The site met everyone of the cast before (each signed in there for
	// themselves), so it names them by the subs Relais gave it.
	for _, p := range []mandates.Person{w.c.aidant, w.c.jeanne, w.c.marie, w.c.ahmed, w.c.karim, w.paul, w.lucie} {
		sub := w.app.provider.Subject(r.caf, p.ID)
		if err := w.app.store.SaveSubject(ctx, r.caf.SectorIdentifier, sub, p.ID); err != nil {
			t.Fatal(err)
		}
		r.subs[p.ID] = sub
	}
	r.h = browsertest.Start(t, w.app.handler)
	return r
}

// visitor is someone at the browser, in a tab of their own, in the run's
// language and width.
type visitor struct {
	r   *givingRun
	t   *testing.T
	tab context.Context
}

// visitor opens a tab signed in as p with amr (pwd when none), or signed
// out when p is nil.
func (r *givingRun) visitor(t *testing.T, p *mandates.Person, amr ...string) *visitor {
	t.Helper()
	tab := r.h.Tab(t, r.width)
	cookies := map[string]string{browsertest.LangCookie: r.lang}
	if p != nil {
		maps.Copy(cookies, sessionFor(t, r.app, *p, amr...))
	}
	for name, value := range cookies {
		if _, err := chromedp.Call(tab, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: r.h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(tab, 2*time.Minute)
	t.Cleanup(cancel)
	return &visitor{r: r, t: t, tab: ctx}
}

func (v *visitor) open(path string) {
	v.t.Helper()
	step(v.t, v.tab, chromedp.Navigate(v.r.h.URL(path)))
}

func (v *visitor) click(sel string) {
	v.t.Helper()
	step(v.t, v.tab, click(sel))
}

func (v *visitor) fill(sel, text string) {
	v.t.Helper()
	step(v.t, v.tab, typeIn(sel, text))
}

// reads waits until the page says each of ws, in the run's language.
func (v *visitor) reads(ws ...words) {
	v.t.Helper()
	for _, w := range ws {
		waitText(v.t, v.tab, w.in(v.r.lang))
	}
}

// offers says whether the page's main part has an element matching sel.
func (v *visitor) offers(sel string) bool {
	v.t.Helper()
	ok, err := chromedp.Run(v.tab, chromedp.Evaluate[bool](`!!document.querySelector("main").querySelector(`+jsString(sel)+`)`))
	if err != nil {
		v.t.Fatal(err)
	}
	return ok
}

// isAt waits until the tab is at path on Relais, whatever the query.
func (v *visitor) isAt(path string) {
	v.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		loc, err := chromedp.Run(v.tab, chromedp.Location())
		if u, perr := url.Parse(loc); err == nil && perr == nil && u.Path == path && strings.HasPrefix(loc, v.r.h.URL("/")) {
			return
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("the tab never went to %s (now at %s, %v)", path, loc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// post sends a form to path from the page, as a page kept open from
// before, or a forged one, would.
func (v *visitor) post(path string, form url.Values) {
	v.t.Helper()
	var fields [][2]string
	for k, vs := range form {
		for _, x := range vs {
			fields = append(fields, [2]string{k, x})
		}
	}
	raw, _ := json.Marshal(fields)
	step(v.t, v.tab, chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.createElement("form");
		f.method = "post";
		f.action = `+jsString(path)+`;
		for (const [name, value] of `+string(raw)+`) {
			const i = document.createElement("input");
			i.type = "hidden"; i.name = name; i.value = value;
			f.append(i);
		}
		document.body.append(f);
		f.submit();
	})()`))
}

// keep checks the page's HTTP status and keeps the document, as the
// browser shows it, for the audit in the run's language at both widths. A
// name kept already (the same page met again) is audited once.
func (v *visitor) keep(name string, status int) {
	v.t.Helper()
	type page struct {
		Ready  bool   `json:"ready"`
		Status int    `json:"status"`
		HTML   string `json:"html"`
	}
	deadline := time.Now().Add(20 * time.Second)
	var p page
	for {
		var err error
		p, err = chromedp.Run(v.tab, chromedp.Evaluate[page](`({
			ready: document.readyState === "complete",
			status: (performance.getEntriesByType("navigation")[0] || {}).responseStatus || 0,
			html: "<!doctype html>\n" + document.documentElement.outerHTML,
		})`))
		if err != nil {
			v.t.Fatal(err)
		}
		if p.Ready {
			break
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("%s never finished loading", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p.Status != status {
		loc, _ := chromedp.Run(v.tab, chromedp.Location())
		v.t.Fatalf("%s: the page at %s answered %d, want %d", name, loc, p.Status, status)
	}
	r := v.r
	r.kept.mu.Lock()
	defer r.kept.mu.Unlock()
	if _, ok := r.kept.docs[name]; ok {
		return
	}
	r.kept.docs[name] = snapshot{name: name, status: p.Status, body: []byte(p.HTML)}
	r.pages = append(r.pages, browsertest.Page{Name: name, Path: keptPath + name, Lang: r.lang, WantStatus: p.Status})
}

// logsIn signs p in on the login page with the password, then the code of
// her second factor, and lands on path.
func (v *visitor) logsIn(p mandates.Person, totpSecret, path string) {
	v.t.Helper()
	v.open("/login?" + url.Values{"return": {path}}.Encode())
	v.reads(words{"Se connecter à Relais", "Sign in to Relais"})
	v.keep("login", http.StatusOK)
	v.fill("#email", p.Email)
	v.fill("#password", testPassword)
	v.click(`main form button[type="submit"]`)
	v.reads(words{"Saisissez le code de votre application", "Enter the code from your app"})
	v.keep("login-code", http.StatusOK)
	v.fill("#code", totpCode(v.t, totpSecret, 1))
	v.click(`main form button[type="submit"]`)
	v.isAt(path)
}

// asksForAMandate fills the aidant's form (open) for person, twelve
// months, with the given way to consent.
func (v *visitor) asksForAMandate(person mandates.Person, method string, areas ...string) {
	v.t.Helper()
	v.fill("#email", person.Email)
	for _, a := range areas {
		v.click("#domaine-" + a)
	}
	v.click("#duree-12m")
	v.click("#accord-" + method)
	v.click(`main form button[type="submit"]`)
}

// offersNoWayToConsent checks that the aidant's page of mandate id links
// to none of the person's ways to consent.
func (v *visitor) offersNoWayToConsent(id string) {
	v.t.Helper()
	for _, way := range []string{"/connexion", "/attestation", "/code"} {
		if v.offers(`a[href="/aidant/mandats/` + id + way + `"]`) {
			v.t.Errorf("the aidant's page offers %s", way)
		}
	}
}

// actsAtTheSiteFor starts a sign-in at the caf site, chooses rep on « Pour
// qui faites-vous cette démarche ? », agrees on the next page, and
// returns the site's tokens.
func (v *visitor) actsAtTheSiteFor(rep mandates.Representation, person mandates.Person) *oauth2.Token {
	v.t.Helper()
	r := v.r
	conf := r.app.conf()
	conf.RedirectURL = r.site + "/cb"
	conf.Endpoint.TokenURL = r.h.URL("/token")
	verifier := oauth2.GenerateVerifier()
	step(v.t, v.tab, chromedp.Navigate(strings.Replace(conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier)), r.app.srv.URL, r.h.URL(""), 1)))
	v.reads(words{"Pour qui faites-vous cette démarche ?", "Who are you doing this for?"},
		words{"Pour " + mandates.DisplayName(person), "For " + mandates.DisplayName(person)})
	v.keep("forwhom", http.StatusOK)
	v.click(`input[name="for"][value="` + rep.ID + `"]`)
	v.click(`form[action="/pour-qui"] button[type="submit"]`)
	v.reads(words{"Vous agissez pour " + mandates.DisplayName(person) + ".", "You are acting for " + mandates.DisplayName(person) + "."})
	v.keep("consent-acting", http.StatusOK)
	v.click(`button[value="accept"]`)
	loc, err := url.Parse(waitFor(v.t, v.tab, r.site+"/cb"))
	if err != nil {
		v.t.Fatal(err)
	}
	if loc.Query().Get("state") != "state-123456" || loc.Query().Get("code") == "" {
		v.t.Fatalf("the site got %s", loc)
	}
	tok, err := conf.Exchange(v.t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		v.t.Fatalf("the site's code does not exchange: %v", err)
	}
	return tok
}

// verdict is the access evaluation API's answer.
type verdict struct {
	Decision bool `json:"decision"`
	Context  struct {
		Answer string            `json:"answer"`
		Reason map[string]string `json:"reason"`
		// Cosignature says how to obtain the agreement a cosign answer
		// needs.
		Cosignature map[string]any `json:"cosignature"`
	} `json:"context"`
}

// is checks the decision and the answer behind it.
func (v verdict) is(t *testing.T, what string, decision bool, answer mandates.Decision) {
	t.Helper()
	if v.Decision != decision || v.Context.Answer != string(answer) {
		t.Errorf("%s: decision %v (%s: %s), want %v (%s)", what, v.Decision, v.Context.Answer, v.Context.Reason["en"], decision, answer)
	}
}

// siteCalls sends body to path on Relais as the caf site, with its
// credentials.
func (r *givingRun) siteCalls(t *testing.T, path string, body any, out any) int {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, r.app.srv.URL+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("caf", url.QueryEscape(r.app.secret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(answer, out); err != nil {
		t.Fatalf("%s: %d, not JSON: %s", path, res.StatusCode, answer)
	}
	return res.StatusCode
}

// act is what the site asks about: actor does action in area of person's
// account, with the agreement cosignID when it has one.
func (r *givingRun) act(actor, person mandates.Person, action mandates.Action, area mandates.Area, cosignID string) map[string]any {
	q := map[string]any{
		"subject":  map[string]any{"type": "user", "id": r.subs[actor.ID]},
		"resource": map[string]any{"type": "account", "id": r.subs[person.ID], "properties": map[string]any{"procedure_area": area}},
		"action":   map[string]any{"name": action},
	}
	if cosignID != "" {
		q["context"] = map[string]any{"cosignature_id": cosignID}
	}
	return q
}

// evaluates asks Relais, as the site, whether actor may do action in area
// for person.
func (r *givingRun) evaluates(t *testing.T, actor, person mandates.Person, action mandates.Action, area mandates.Area, cosignID string) verdict {
	t.Helper()
	var v verdict
	if code := r.siteCalls(t, "/access/v1/evaluation", r.act(actor, person, action, area, cosignID), &v); code != http.StatusOK {
		t.Fatalf("evaluation: %d %+v", code, v)
	}
	return v
}

// mandateWaits checks the mandate is still waiting, for waits.
func (r *givingRun) mandateWaits(t *testing.T, id string, waits mandates.Waiting) {
	t.Helper()
	if got := stored(t, r.app, id); got.Status != mandates.StatusPendingConsent || got.Waits() != waits {
		t.Errorf("the mandate is %s, waiting for %q; want it waiting for %q", got.Status, got.Waits(), waits)
	}
}

// mandateInForce checks the mandate applies, given or agreed to by who.
func (r *givingRun) mandateInForce(t *testing.T, id string, who mandates.Person) {
	t.Helper()
	got := stored(t, r.app, id)
	if got.Status != mandates.StatusActive || got.Source.Measure == nil || got.Source.Measure.AnsweredBy != who.ID {
		t.Errorf("the mandate is %s, answered for by %+v; want it in force after %s's answer", got.Status, got.Source.Measure, who.GivenNames)
	}
}

// TestGivingTheTutorGivesJeannesMandateInABrowser: Sophie, an aidant,
// logs in with her code and asks for a mandate for Jeanne, under tutelle.
// Her page says Marie, the tutor, must agree, and offers no way for
// Jeanne to consent; a consent posted all the same gets a plain refusal,
// and the mandate waits. Marie finds the request in her space and gives
// the agreement. Sophie then acts for Jeanne at a site, within the
// mandate and not beyond it, and Jeanne's journal says Marie agreed.
func TestGivingTheTutorGivesJeannesMandateInABrowser(t *testing.T) {
	inEachLanguage(t, newGivingWorld, func(t *testing.T, r *givingRun) {
		c := r.c
		sophie := r.visitor(t, nil)
		sophie.logsIn(c.aidant, c.aidantTOTP, "/aidant")
		sophie.reads(words{"Mon espace aidant", "My aidant workspace"})
		sophie.keep("aidant-home", http.StatusOK)
		sophie.click(`a[href="/aidant/mandats/nouveau"]`)
		sophie.reads(words{"Créer un mandat avec une personne", "Create a mandate with a person"})
		sophie.keep("aidant-new", http.StatusOK)
		sophie.asksForAMandate(c.jeanne, "connexion", "social", "papiers")
		sophie.reads(words{"Le mandat attend l’accord de Marie Martin", "The mandate is waiting for Marie Martin’s agreement"},
			words{"Marie Martin, tutrice de Jeanne Petit, doit donner son accord.", "Marie Martin, Jeanne Petit’s guardian, must give their agreement."},
			words{"Avec la tutelle, c’est Marie Martin qui donne ce mandat pour Jeanne Petit.", "Under guardianship, Marie Martin gives this mandate on behalf of Jeanne Petit."})
		sophie.keep("aidant-mandate-waits-for-the-tutor", http.StatusOK)
		rep := r.mandateOf(t, c.jeanne)
		page := "/aidant/mandats/" + rep.ID
		sophie.isAt(page)
		sophie.offersNoWayToConsent(rep.ID)

		// Sophie alone cannot start it: the consent page leads back, and
		// Jeanne's login posted all the same is refused, plainly.
		sophie.open(page + "/connexion")
		sophie.isAt(page)
		sophie.post(page+"/connexion", url.Values{"email": {c.jeanne.Email}, "password": {testPassword}})
		sophie.reads(words{"C’est Marie Martin qui donne ce mandat", "Marie Martin gives this mandate"},
			words{"Relais n’a pas enregistré l’accord de Jeanne Petit.", "Relais did not record Jeanne Petit’s agreement."})
		sophie.keep("aidant-consent-refused", http.StatusForbidden)
		r.mandateWaits(t, rep.ID, mandates.WaitingRepresentative)
		r.evaluates(t, c.aidant, c.jeanne, mandates.Manage, "social", "").is(t, "before Marie's agreement", false, mandates.No)

		marie := r.visitor(t, &c.marie)
		marie.open("/espace")
		marie.reads(words{"Demandes pour Jeanne Petit", "Requests for Jeanne Petit"})
		marie.keep("space-home-with-a-request", http.StatusOK)
		marie.click(`a[href="/espace/pour-qui-j-agis#demandes"]`)
		marie.reads(words{"Avec la tutelle, c’est vous qui donnez ce mandat pour Jeanne Petit.", "Under guardianship, you give this mandate on behalf of Jeanne Petit."},
			words{"Donner l’accord pour Jeanne Petit", "Agree on behalf of Jeanne Petit"})
		marie.keep("space-for-the-tutors-request", http.StatusOK)
		marie.click(`form[action="/espace/demandes/` + rep.ID + `/accord"] button`)
		marie.reads(words{"Vous avez donné l’accord pour Jeanne Petit. Le mandat d’aidant de France Services Lyon 8e commence maintenant.",
			"You agreed on behalf of Jeanne Petit. The aidant mandate of France Services Lyon 8e starts now."})
		marie.reads(words{"Ce que vous avez donné pour Jeanne Petit", "What you gave on behalf of Jeanne Petit"})
		marie.keep("space-for-given", http.StatusOK)
		r.mandateInForce(t, rep.ID, c.marie)

		sophie.open(page)
		sophie.reads(words{"Le mandat de Jeanne Petit est en cours", "Jeanne Petit’s mandate is in force"})
		sophie.keep("aidant-mandate-in-force", http.StatusOK)

		// Sophie acts for Jeanne at the site; the tokens say so.
		tok := sophie.actsAtTheSiteFor(rep, c.jeanne)
		claims := claimsOf(t, tok.AccessToken)
		act, _ := claims["act"].(map[string]any)
		representation, _ := claims["representation"].(map[string]any)
		if claims["sub"] != r.subs[c.jeanne.ID] || act["sub"] != r.subs[c.aidant.ID] || representation["id"] != rep.ID {
			t.Errorf("the access token says sub %v, act %v, representation %v; want Jeanne, Sophie acting, the mandate", claims["sub"], act, representation)
		}
		r.evaluates(t, c.aidant, c.jeanne, mandates.Manage, "social", "").is(t, "managing benefits, in the mandate", true, mandates.Allowed)
		r.evaluates(t, c.aidant, c.jeanne, mandates.Manage, "papiers", "").is(t, "managing papers, in the mandate", true, mandates.Allowed)
		r.evaluates(t, c.aidant, c.jeanne, mandates.Manage, "logement", "").is(t, "managing housing, outside the mandate", false, mandates.No)
		r.evaluates(t, c.aidant, c.jeanne, mandates.Dispose, "social", "").is(t, "disposing, which aidants never do", false, mandates.No)

		jeanne := r.visitor(t, &c.jeanne)
		jeanne.open("/espace/journal")
		jeanne.reads(words{"Marie Martin, votre tutrice, a donné l’accord au mandat d’aidant pour vous.",
			"Marie Martin, your guardian, agreed to the aidant mandate on your behalf."})
		jeanne.keep("journal-of-the-person", http.StatusOK)
	})
}

// TestGivingPaulConsentsThenHisCuratorAgreesInABrowser: under curatelle
// renforcée, Paul consents by his own login on Sophie's device; the
// mandate then waits for Lucie, his curator, and the site's evaluation
// answers no. Lucie agrees in her space; the mandate applies, and an act
// that needs Lucie's agreement when Paul does it needs it when Sophie
// does it too.
func TestGivingPaulConsentsThenHisCuratorAgreesInABrowser(t *testing.T) {
	inEachLanguage(t, newGivingWorld, func(t *testing.T, r *givingRun) {
		c := r.c
		sophie := r.visitor(t, &c.aidant, "pwd", "otp")
		sophie.open("/aidant/mandats/nouveau")
		sophie.asksForAMandate(r.paul, "connexion", "social", "papiers")
		sophie.reads(words{"Paul Durand, vous êtes d’accord ?", "Paul Durand, do you agree?"})
		sophie.keep("aidant-the-persons-login", http.StatusOK)
		rep := r.mandateOf(t, r.paul)
		r.mandateWaits(t, rep.ID, mandates.WaitingPerson)

		// Paul types his own email and password on Sophie's device.
		sophie.fill("#email", r.paul.Email)
		sophie.fill("#password", testPassword)
		sophie.click(`main form button[type="submit"]`)
		sophie.reads(words{"L’accord de Paul Durand est enregistré.", "Paul Durand’s agreement is recorded."},
			words{"Le mandat attend l’accord de Lucie Moreau", "The mandate is waiting for Lucie Moreau’s agreement"},
			words{"Lucie Moreau, curatrice de Paul Durand, doit aussi donner son accord.", "Lucie Moreau, Paul Durand’s curator, must agree too."})
		sophie.keep("aidant-mandate-waits-for-the-curator", http.StatusOK)
		sophie.offersNoWayToConsent(rep.ID)
		r.mandateWaits(t, rep.ID, mandates.WaitingRepresentative)
		r.evaluates(t, c.aidant, r.paul, mandates.Consult, "social", "").is(t, "consulting, before Lucie's agreement", false, mandates.No)
		r.evaluates(t, c.aidant, r.paul, mandates.Manage, "social", "").is(t, "managing, before Lucie's agreement", false, mandates.No)

		lucie := r.visitor(t, &r.lucie)
		lucie.open("/espace/pour-qui-j-agis")
		lucie.reads(words{"Demandes pour Paul Durand", "Requests for Paul Durand"},
			words{"Avec la curatelle renforcée, il faut aussi votre accord.", "Under reinforced curatorship, your agreement is needed too."},
			words{"Donner mon accord pour Paul Durand", "Give my agreement for Paul Durand"})
		lucie.keep("space-for-the-curators-request", http.StatusOK)
		lucie.click(`form[action="/espace/demandes/` + rep.ID + `/accord"] button`)
		lucie.reads(words{"Vous avez donné l’accord pour Paul Durand. Le mandat d’aidant de France Services Lyon 8e commence maintenant.",
			"You agreed on behalf of Paul Durand. The aidant mandate of France Services Lyon 8e starts now."})
		r.mandateInForce(t, rep.ID, r.lucie)

		r.evaluates(t, c.aidant, r.paul, mandates.Consult, "social", "").is(t, "consulting, which Paul does alone", true, mandates.Allowed)
		v := r.evaluates(t, c.aidant, r.paul, mandates.Manage, "social", "")
		v.is(t, "managing, which needs Lucie's agreement when Paul does it", false, mandates.Cosign)
		for lang, want := range map[string]string{"fr": "avec la curatelle renforcée, cet acte demande aussi l’accord", "en": "under reinforced curatorship, this act also needs"} {
			if !strings.Contains(v.Context.Reason[lang], want) {
				t.Errorf("the reason (%s) %q does not say %q", lang, v.Context.Reason[lang], want)
			}
		}
		if v.Context.Cosignature == nil {
			t.Error("the cosign answer does not say how to ask for the agreement")
		}
	})
}

// aidantsMayDispose is the default policy with one row changed: an aidant
// under a mandate may dispose.
func aidantsMayDispose(t *testing.T) *mandates.Policy {
	t.Helper()
	row := regexp.MustCompile(`(?m)^(aidant_mandate\s+aidant\s+allowed\s+allowed\s+)no$`)
	file := mandates.DefaultPolicyFile()
	if !row.Match(file) {
		t.Fatal("the default policy has no row aidant_mandate aidant … no")
	}
	p, err := mandates.ParsePolicy(row.ReplaceAll(file, []byte("${1}allowed")))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGivingTheCuratorCosignsTheAidantsDisposeActInABrowser: with a policy
// where aidants may dispose, Sophie's dispose act for Ahmed, under
// curatelle simple, still needs Karim's agreement, his curator: the site
// opens a co-signature, Karim (and not Ahmed) finds it in his agreements
// and accepts it, and the act is allowed once.
func TestGivingTheCuratorCosignsTheAidantsDisposeActInABrowser(t *testing.T) {
	policy := aidantsMayDispose(t)
	world := func(t *testing.T) *givingWorld { return givingWorldOn(t, newOIDCAppWithPolicy(t, policy)) }
	inEachLanguage(t, world, func(t *testing.T, r *givingRun) {
		c, ctx := r.c, t.Context()
		now := time.Now().UTC()
		if _, err := r.app.service.RegisterMeasure(ctx, mandates.Actor{PersonID: c.operator.ID}, mandates.MeasureInput{Kind: mandates.CuratelleSimple,
			PersonID: c.ahmed.ID, Representatives: []mandates.RepresentativeInput{{PersonID: c.karim.ID, Role: mandates.RoleCurateur}},
			ValidFrom: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
			Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00045"}}); err != nil {
			t.Fatal(err)
		}
		// Under curatelle simple, Ahmed gives the mandate alone.
		rep := activeMandate(t, r.app, c, c.ahmed, "argent", "social")
		if got := stored(t, r.app, rep.ID).Status; got != mandates.StatusActive {
			t.Fatalf("Ahmed's consent left the mandate %s", got)
		}

		r.evaluates(t, c.aidant, c.ahmed, mandates.Manage, "argent", "").is(t, "managing money, which Ahmed does alone", true, mandates.Allowed)
		v := r.evaluates(t, c.aidant, c.ahmed, mandates.Dispose, "argent", "")
		v.is(t, "disposing, which needs the curator's agreement", false, mandates.Cosign)
		if v.Context.Cosignature == nil || v.Context.Cosignature["agreement_of"] != "representative" {
			t.Errorf("the cosign answer does not say the curator's agreement is asked: %v", v.Context.Cosignature)
		}
		body := r.act(c.aidant, c.ahmed, mandates.Dispose, "argent", "")
		body["description"] = "Vendre la voiture Clio pour 3 000 euros"
		var opened map[string]any
		if code := r.siteCalls(t, "/access/v1/cosignatures", body, &opened); code != http.StatusCreated || opened["agreement_of"] != "representative" {
			t.Fatalf("opening the co-signature: %d %v, want 201 and the representative's agreement", code, opened)
		}
		id, _ := opened["id"].(string)
		r.evaluates(t, c.aidant, c.ahmed, mandates.Dispose, "argent", id).is(t, "before Karim answers", false, mandates.Cosign)

		// Ahmed is not the one asked: he neither sees it nor answers it.
		ahmed := signedIn(t, r.app, c.ahmed)
		if a := getPage(t, r.app, ahmed, "/espace/accords"); a.has("Vendre la voiture Clio") {
			t.Error("Ahmed's agreements list the act his curator must agree to")
		}
		if a := postForm(t, r.app, ahmed, "/espace/accords/"+id, url.Values{"answer": {"accept"}}); a.status != http.StatusNotFound {
			t.Errorf("Ahmed's answer: %d, want 404", a.status)
		}

		karim := r.visitor(t, &c.karim)
		karim.open("/espace/accords")
		karim.reads(words{"Sophie Bernard demande votre accord", "Sophie Bernard asks for your agreement"}, words{"Vendre la voiture Clio pour 3 000 euros", "Vendre la voiture Clio pour 3 000 euros"})
		karim.keep("cosign-list-of-the-curator", http.StatusOK)
		karim.click(`a[href="/espace/accords/` + id + `"]`)
		karim.reads(words{"Avec la curatelle simple, Sophie Bernard a besoin de votre accord pour cet acte.", "Under simple curatorship, Sophie Bernard needs your agreement for this act."},
			words{"Ahmed Benali", "Ahmed Benali"})
		karim.keep("cosign-request-of-the-aidant", http.StatusOK)
		karim.click(`button[value="accept"]`)
		karim.reads(words{"Vous avez accepté", "You agreed"})
		karim.keep("cosign-approved", http.StatusOK)
		if cs, err := r.app.service.CosignatureOf(ctx, "caf", id); err != nil || cs.Status != mandates.CosignApproved || cs.DecidedBy != c.karim.ID {
			t.Fatalf("after Karim's answer: %+v, %v", cs, err)
		}

		r.evaluates(t, c.aidant, c.ahmed, mandates.Dispose, "argent", id).is(t, "the act Karim agreed to", true, mandates.Allowed)
		r.evaluates(t, c.aidant, c.ahmed, mandates.Dispose, "argent", id).is(t, "the same act again", false, mandates.Cosign)
	})
}
