package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// visible is a page's visible words, tags removed and spaces folded, for
// assertions that read like the page.
func visible(page string) string {
	page = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(html.UnescapeString(page)), " ")
}

func TestTheAccountPageSaysWhoseAccountAndWhoActs(t *testing.T) {
	tests := []struct {
		name    string
		as      func(*fakeOP)
		lang    string
		want    []string
		notWant []string
	}{
		{"a tutor acting for the person she represents", (*fakeOP).asMarieForJeanne, "fr",
			[]string{"Compte de Jeanne Lefèvre", "Marie Martin, tuteur ou tutrice, pour Jeanne Lefèvre", "Vous agissez au titre de : Tutelle.",
				"Vous pouvez : Voir le dossier Faire les démarches courantes Faire les actes importants",
				"Vous ne pouvez pas : Actes personnels", "Ce droit dure jusqu’au 1er mars 2031.", "Social, santé", "Argent, impôts, consommation"},
			[]string{"Compte de Marie", "en votre nom"}},
		{"the same, in English", (*fakeOP).asMarieForJeanne, "en",
			[]string{"Jeanne Lefèvre’s account", "Marie Martin, guardian, for Jeanne Lefèvre", "You may not: Personal acts", "until 1 March 2031"},
			nil},
		{"a delegate of an MJPM service, whose disposing needs agreement", (*fakeOP).asLucieForPaul, "fr",
			[]string{"Compte de Paul Durand", "Lucie Moreau, curateur ou curatrice (Service mandataire Entraide Nord), pour Paul Durand",
				"Avec l’accord de Paul Durand, vous pouvez : Faire les actes importants", "Curatelle renforcée"},
			[]string{"Compte de Lucie"}},
		{"a person acting for herself has no act", (*fakeOP).asJeanneHerself, "fr",
			[]string{"Compte de Jeanne Lefèvre", "Vous agissez en votre nom."},
			[]string{"pour Jeanne", "Vous pouvez :"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := newSiteRun(t)
			tt.as(run.op)
			if tt.lang == "en" {
				run.do(t, http.MethodGet, "/langue?l=en&retour=/")
			}
			res, page := run.signIn(t)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("account page: %d", res.StatusCode)
			}
			got := visible(page)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("the page does not say %q:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("the page says %q:\n%s", w, got)
				}
			}
			if n := strings.Count(page, "<h1"); n != 1 {
				t.Errorf("%d h1 on the page, want 1", n)
			}
			if !strings.Contains(page, `<html lang="`+tt.lang+`">`) {
				t.Errorf("the page's lang is not %s", tt.lang)
			}
		})
	}
}

func TestEachActIsEvaluatedBeforeItIsDone(t *testing.T) {
	run := newSiteRun(t)
	run.op.asMarieForJeanne()
	run.op.answers["dispose"] = "no"
	run.signIn(t)

	res, page := run.post(t, "/actes/declarer")
	got := visible(page)
	if res.StatusCode != 200 || !strings.Contains(got, "C’est fait.") || !strings.Contains(got, "Le changement de situation de Jeanne Lefèvre est déclaré") ||
		!strings.Contains(got, "Réponse de Relais : autorisé : la tutelle le permet.") {
		t.Errorf("the allowed manage act: %d\n%s", res.StatusCode, got)
	}
	if len(run.op.evaluations) != 1 {
		t.Fatalf("%d evaluations, want 1", len(run.op.evaluations))
	}
	// The act done is reported with Marie's access token.
	if len(run.op.reports) != 1 || run.op.reports[0]["action"] != "manage" || run.op.reports[0]["procedure_area"] != "social" ||
		run.op.reports[0]["label"] != "Déclaration de changement de situation envoyée" || run.op.reports[0]["authorization"] != "Bearer at-1" {
		t.Fatalf("reports %v, want the declaration, with the access token", run.op.reports)
	}
	// The subject is the actor (act.sub), the resource the account (sub)
	// in the act's procedure area.
	q := run.op.evaluations[0]
	subject := q["subject"].(map[string]any)
	resource := q["resource"].(map[string]any)
	if subject["type"] != "user" || subject["id"] != "sub-marie" || resource["type"] != "account" || resource["id"] != "sub-jeanne" ||
		resource["properties"].(map[string]any)["procedure_area"] != "social" || q["action"].(map[string]any)["name"] != "manage" {
		t.Errorf("the evaluation asked %v", q)
	}

	res, page = run.post(t, "/actes/rembourser")
	got = visible(page)
	if res.StatusCode != 200 || !strings.Contains(got, "Cette démarche n’est pas possible.") || strings.Contains(got, "C’est fait") ||
		!strings.Contains(got, "refusé : la tutelle ne le permet pas") {
		t.Errorf("the refused dispose act: %d\n%s", res.StatusCode, got)
	}
	if len(run.op.reports) != 1 {
		t.Errorf("the refused act was reported: %v", run.op.reports)
	}
	if a := run.op.evaluations[1]; a["resource"].(map[string]any)["properties"].(map[string]any)["procedure_area"] != "argent" {
		t.Errorf("the dispose act is evaluated in %v, want argent", a["resource"])
	}

	// In English, the reason is Relais's English one.
	run.do(t, http.MethodGet, "/langue?l=en&retour=/compte")
	_, page = run.do(t, http.MethodGet, "/actes/rembourser")
	if got := visible(page); !strings.Contains(got, "This procedure is not possible.") || !strings.Contains(got, "Relais’s answer: refused: the guardianship") {
		t.Errorf("in English:\n%s", got)
	}

	// For herself, the subject and the resource are both her sub.
	self := newSiteRun(t)
	self.op.asJeanneHerself()
	self.signIn(t)
	self.do(t, http.MethodPost, "/actes/consulter")
	if q := self.op.evaluations[0]; q["subject"].(map[string]any)["id"] != "sub-jeanne" || q["resource"].(map[string]any)["id"] != "sub-jeanne" {
		t.Errorf("acting for herself, the evaluation asked %v", q)
	}
}

func TestACosignedActIsDoneOnceAfterTheAgreement(t *testing.T) {
	run := newSiteRun(t)
	run.op.asLucieForPaul()
	run.signIn(t)

	_, page := run.post(t, "/actes/rembourser")
	got := visible(page)
	if !strings.Contains(got, "Cette démarche demande un accord.") || !strings.Contains(got, "Paul Durand doit donner son accord.") ||
		!strings.Contains(page, `action="/actes/rembourser/accord"`) || strings.Contains(got, "C’est fait") {
		t.Fatalf("the cosign answer:\n%s", got)
	}
	_, page = run.post(t, "/actes/rembourser/accord")
	got = visible(page)
	if !strings.Contains(got, "La demande d’accord est envoyée.") || !strings.Contains(got, "Paul Durand doit donner son accord. La demande l’attend dans son espace Relais.") ||
		!strings.Contains(page, `action="/actes/rembourser/verifier"`) {
		t.Fatalf("after asking for agreement:\n%s", got)
	}
	if len(run.op.cosigns) != 1 {
		t.Fatalf("%d co-signature requests, want 1", len(run.op.cosigns))
	}
	var id string
	for k, c := range run.op.cosigns {
		id = k
		if c.body["subject"].(map[string]any)["id"] != "sub-lucie" || c.body["resource"].(map[string]any)["id"] != "sub-paul" ||
			c.body["action"].(map[string]any)["name"] != "dispose" || !strings.Contains(c.body["description"].(string), "Paul Durand") {
			t.Errorf("the co-signature request: %v", c.body)
		}
	}

	// Checked before the agreement: nothing is done.
	_, page = run.post(t, "/actes/rembourser/verifier")
	if got := visible(page); !strings.Contains(got, "L’accord n’est pas encore donné.") || strings.Contains(got, "C’est fait") {
		t.Errorf("checked while pending:\n%s", got)
	}
	evaluations := len(run.op.evaluations)

	run.op.setStatus(id, "approved")
	_, page = run.post(t, "/actes/rembourser/verifier")
	if got := visible(page); !strings.Contains(got, "C’est fait.") || !strings.Contains(got, "La demande de remboursement pour Paul Durand est envoyée") {
		t.Errorf("checked after the agreement:\n%s", got)
	}
	if len(run.op.evaluations) != evaluations+1 {
		t.Fatalf("%d evaluations after the agreement, want one more than %d", len(run.op.evaluations), evaluations)
	}
	last := run.op.evaluations[len(run.op.evaluations)-1]
	if last["context"].(map[string]any)["cosignature_id"] != id {
		t.Errorf("the evaluation after the agreement does not name the co-signature: %v", last)
	}
	if len(run.op.reports) != 1 || run.op.reports[0]["cosignature_id"] != id || run.op.reports[0]["action"] != "dispose" {
		t.Errorf("reports %v, want the refund once, with its agreement", run.op.reports)
	}

	// The agreement served once: doing the act again asks for a new one.
	_, page = run.post(t, "/actes/rembourser")
	if got := visible(page); !strings.Contains(got, "Cette démarche demande un accord.") {
		t.Errorf("the act again:\n%s", got)
	}

	// A refused agreement says so, and nothing is done.
	run.post(t, "/actes/rembourser/accord")
	for k, c := range run.op.cosigns {
		if c.status == "pending" {
			run.op.setStatus(k, "refused")
		}
	}
	_, page = run.post(t, "/actes/rembourser/verifier")
	if got := visible(page); !strings.Contains(got, "L’accord a été refusé.") || strings.Contains(got, "C’est fait") {
		t.Errorf("refused:\n%s", got)
	}
}

func TestABadLoginShowsAClearPage(t *testing.T) {
	tests := []struct {
		name   string
		query  func(code, state, iss string) url.Values
		status int
		want   string
	}{
		{"another state", func(code, _, iss string) url.Values {
			return url.Values{"code": {code}, "state": {"forged"}, "iss": {iss}}
		}, 400, "Cette connexion n’est plus valable"},
		{"no state", func(code, _, iss string) url.Values { return url.Values{"code": {code}, "iss": {iss}} }, 400, "Cette connexion n’est plus valable"},
		{"a code the OP never gave", func(_, state, iss string) url.Values {
			return url.Values{"code": {"made-up"}, "state": {state}, "iss": {iss}}
		}, 400, "La connexion n’a pas abouti"},
		{"no code", func(_, state, iss string) url.Values { return url.Values{"state": {state}, "iss": {iss}} }, 400, "La connexion n’a pas abouti"},
		{"another issuer (RFC 9207 mix-up)", func(code, state, _ string) url.Values {
			return url.Values{"code": {code}, "state": {state}, "iss": {"https://attacker.example"}}
		}, 400, "La connexion n’a pas abouti"},
		{"the person refused to share", func(_, state, iss string) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {state}, "iss": {iss}}
		}, 403, "Connexion annulée"},
		{"another error from Relais", func(_, state, iss string) url.Values {
			return url.Values{"error": {"invalid_authorization_details"}, "state": {state}, "iss": {iss}}
		}, 400, "La connexion n’a pas abouti"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := newSiteRun(t)
			run.op.asMarieForJeanne()
			res, _ := run.do(t, http.MethodGet, "/connexion")
			code, state := run.op.authorize(res.Header.Get("Location"))
			res, page := run.do(t, http.MethodGet, "/callback?"+tt.query(code, state, run.op.srv.URL).Encode())
			if res.StatusCode != tt.status || !strings.Contains(visible(page), tt.want) || !strings.Contains(page, `href="/connexion"`) {
				t.Errorf("%d, want %d with %q and a way to sign in again:\n%s", res.StatusCode, tt.status, tt.want, visible(page))
			}
			// Nothing is signed in, and the state cannot be tried again.
			if res, _ := run.do(t, http.MethodGet, "/compte"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("the account after a failed login: %d", res.StatusCode)
			}
			res, _ = run.do(t, http.MethodGet, "/callback?"+url.Values{"code": {code}, "state": {state}, "iss": {run.op.srv.URL}}.Encode())
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("the state used again: %d", res.StatusCode)
			}
		})
	}
	for name, tamper := range map[string]func(map[string]any){
		"an ID token with another login's nonce": func(c map[string]any) { c["nonce"] = "another" },
		"an ID token for another site":           func(c map[string]any) { c["aud"] = "another-site" },
		"an ID token from another issuer":        func(c map[string]any) { c["iss"] = "https://attacker.example" },
		"an expired ID token":                    func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() },
	} {
		t.Run(name, func(t *testing.T) {
			run := newSiteRun(t)
			run.op.asMarieForJeanne()
			run.op.tamper = tamper
			res, _ := run.do(t, http.MethodGet, "/connexion")
			code, state := run.op.authorize(res.Header.Get("Location"))
			res, page := run.do(t, http.MethodGet, "/callback?"+url.Values{"code": {code}, "state": {state}, "iss": {run.op.srv.URL}}.Encode())
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(visible(page), "La connexion n’a pas abouti") {
				t.Errorf("%d\n%s", res.StatusCode, visible(page))
			}
			if res, _ := run.do(t, http.MethodGet, "/compte"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("the account after a bad ID token: %d", res.StatusCode)
			}
		})
	}
	t.Run("a callback without any login started", func(t *testing.T) {
		run := newSiteRun(t)
		res, page := run.do(t, http.MethodGet, "/callback?code=x&state=y")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(visible(page), "Cette connexion n’est plus valable") {
			t.Errorf("%d\n%s", res.StatusCode, visible(page))
		}
	})
}

func TestAnExpiredSessionAsksToSignInAgain(t *testing.T) {
	run := newSiteRun(t)
	run.op.asMarieForJeanne()
	run.signIn(t)
	later := time.Now().Add(11 * time.Minute) // the access token lives 10
	run.site.now = func() time.Time { return later }
	for _, tc := range []struct{ method, path string }{{"GET", "/compte"}, {"POST", "/actes/declarer"}} {
		res, page := run.do(t, tc.method, tc.path)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(visible(page), "Votre session est terminée") || !strings.Contains(page, `href="/connexion"`) {
			t.Errorf("%s %s: %d\n%s", tc.method, tc.path, res.StatusCode, visible(page))
		}
	}
	if len(run.op.evaluations) != 0 {
		t.Errorf("an expired session asked for %d evaluations", len(run.op.evaluations))
	}
}

func TestAFailedEvaluationDoesNothing(t *testing.T) {
	run := newSiteRun(t)
	run.op.asMarieForJeanne()
	run.signIn(t)
	run.op.failEvaluations = true
	res, page := run.do(t, http.MethodPost, "/actes/declarer")
	if got := visible(page); res.StatusCode != http.StatusBadGateway || !strings.Contains(got, "Nous n’avons pas pu vérifier cette démarche") ||
		!strings.Contains(got, "Rien n’a été fait.") {
		t.Errorf("%d\n%s", res.StatusCode, got)
	}
	// A wrong secret is refused by Relais: the same page, nothing done.
	run.op.failEvaluations = false
	run.site.cfg.ClientSecret = "wrong"
	if res, _ := run.do(t, http.MethodPost, "/actes/declarer"); res.StatusCode != http.StatusBadGateway {
		t.Errorf("with a wrong secret: %d", res.StatusCode)
	}
}

func TestAFormFromAnotherSiteIsRefused(t *testing.T) {
	run := newSiteRun(t)
	run.op.asMarieForJeanne()
	run.signIn(t)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, run.srv.URL+"/actes/declarer", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := run.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || len(run.op.evaluations) != 0 {
		t.Errorf("a cross-site POST: %d, %d evaluations", res.StatusCode, len(run.op.evaluations))
	}
}

func TestSignOutGoesThroughRelais(t *testing.T) {
	run := newSiteRun(t)
	run.op.asMarieForJeanne()
	run.signIn(t)
	res, _ := run.do(t, http.MethodPost, "/deconnexion")
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), run.op.srv.URL+"/logout?") ||
		loc.Query().Get("id_token_hint") == "" || loc.Query().Get("post_logout_redirect_uri") != run.srv.URL+"/" {
		t.Errorf("sign-out: %d to %s", res.StatusCode, loc)
	}
	if res, _ := run.do(t, http.MethodGet, "/compte"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the account after sign-out: %d", res.StatusCode)
	}
}

func TestEveryPhraseExistsInBothLanguages(t *testing.T) {
	verbs := regexp.MustCompile(`%[sdv]`)
	for k, w := range words {
		if w.FR == "" || w.EN == "" {
			t.Errorf("%s: missing in a language: %+v", k, w)
		}
		if len(verbs.FindAllString(w.FR, -1)) != len(verbs.FindAllString(w.EN, -1)) {
			t.Errorf("%s: the two languages take a different number of values", k)
		}
	}
	for _, m := range []map[string]text{actionWords, kindWords, areaWords} {
		for k, w := range m {
			if w.FR == "" || w.EN == "" {
				t.Errorf("%s: missing in a language", k)
			}
		}
	}
}

func TestTheLanguageSwitchStaysOnTheSite(t *testing.T) {
	run := newSiteRun(t)
	for back, want := range map[string]string{"/compte": "/compte", "https://evil.example/": "/", "//evil.example": "/", `/\evil.example`: "/"} {
		res, _ := run.do(t, http.MethodGet, "/langue?"+url.Values{"l": {"en"}, "retour": {back}}.Encode())
		if res.Header.Get("Location") != want {
			t.Errorf("retour=%s goes to %q, want %q", back, res.Header.Get("Location"), want)
		}
	}
	_, page := run.do(t, http.MethodGet, "/")
	if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "Sign in with Relais") {
		t.Errorf("the home page after choosing English:\n%s", visible(page))
	}
}

// Every page of a signed-in person links to their own space at Relais
// (issuer + /espace), where they see who may act for them and stop a
// proxy; a signed-out visitor's home page does not.
func TestSignedInPagesLinkToThePersonsSpaceAtRelais(t *testing.T) {
	run := newSiteRun(t)
	run.op.asMarieForJeanne()
	space := `href="` + run.op.srv.URL + `/espace"`
	if _, page := run.do(t, http.MethodGet, "/"); strings.Contains(page, space) {
		t.Errorf("the signed-out home page links to a Relais space")
	}
	res, page := run.signIn(t)
	if res.StatusCode != http.StatusOK || !strings.Contains(page, space) || !strings.Contains(visible(page), "Aller dans mon espace Relais") ||
		!strings.Contains(visible(page), "vous voyez qui peut agir pour vous") {
		t.Errorf("the account page: %d, no link to %s:\n%s", res.StatusCode, space, visible(page))
	}
	if _, page := run.do(t, http.MethodGet, "/"); !strings.Contains(page, space) {
		t.Errorf("the signed-in home page: no link to %s:\n%s", space, visible(page))
	}
	if _, page := run.post(t, "/actes/declarer"); !strings.Contains(page, space) || !strings.Contains(visible(page), "C’est fait.") {
		t.Errorf("the act's page: no link to %s:\n%s", space, visible(page))
	}
	run.do(t, http.MethodGet, "/langue?l=en&retour=/compte")
	if _, page := run.do(t, http.MethodGet, "/compte"); !strings.Contains(page, space) || !strings.Contains(visible(page), "Go to my Relais space") {
		t.Errorf("in English, the account page:\n%s", visible(page))
	}
}

func TestTheAccountPageStopsShowingRightsOnceRelaisStoppedThem(t *testing.T) {
	run := newSiteRun(t)
	run.op.asMarieForJeanne()
	run.signIn(t)
	if res, page := run.do(t, "GET", "/compte"); res.StatusCode != http.StatusOK {
		t.Fatalf("before: %d\n%s", res.StatusCode, visible(page))
	}
	run.op.mu.Lock()
	for tok := range run.op.tokens {
		run.op.tokens[tok] = false // Relais answers 401 at userinfo: the representation or the grant ended
	}
	run.op.mu.Unlock()
	res, page := run.do(t, "GET", "/compte")
	text := visible(page)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(text, "Ces droits ont été arrêtés") || !strings.Contains(page, `href="/connexion"`) {
		t.Errorf("after Relais stopped the rights: %d\n%s", res.StatusCode, text)
	}
	if strings.Contains(text, "Déclarer") {
		t.Errorf("the stopped rights' acts are still offered:\n%s", text)
	}
	if res, _ := run.do(t, "GET", "/compte"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the site kept the session: %d", res.StatusCode)
	}
}

// Issue 17: the site shows the name Relais's pages give (the name claim),
// and builds the same one from FranceConnect's claims when it is absent.
func TestTheSiteNamesPeopleAsRelaisDoes(t *testing.T) {
	tests := []struct {
		name                            string
		claim, given, family, preferred string
		want                            string
	}{
		{"Relais's name claim comes first", "Marie Martin", "Marie Claire", "Lefèvre", "Martin", "Marie Martin"},
		{"without it, the first given name and the nom d'usage", "", "Marie Claire", "Lefèvre", "Martin", "Marie Martin"},
		{"without a nom d'usage, the birth name", "", "Paul André", "Durand", "", "Paul Durand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayName(tt.claim, tt.given, tt.family, tt.preferred); got != tt.want {
				t.Errorf("displayName = %q, want %q", got, tt.want)
			}
		})
	}
}
