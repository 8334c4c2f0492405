package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui/plainwords"
)

// plainPage is one page a person under protection may see, as Relais
// answered it, with the number of refusals its templates must mark.
type plainPage struct {
	name     string
	status   int
	body     string
	refusals int // at least this many elements marked data-refusal
}

// plainPages walks the demo people through every page a person under
// protection may see, in French, and keeps each answer: Jeanne under
// tutelle and Marie her tutor, Paul under curatelle renforcée and Lucie
// his curator, Ahmed who gives Karim a proxy, Sophie the aidant with
// whom a person signs a mandate.
func plainPages(t *testing.T, lang string) []plainPage {
	t.Helper()
	w := newGivingWorld(t)
	app, c := w.app, w.c
	ctx := t.Context()
	if _, err := app.store.UpdateClient(ctx, "caf", func(cl *oauth.Client) error {
		cl.GrantTypes = []string{"authorization_code", "refresh_token"}
		cl.Scopes = append(cl.Scopes, "offline_access", "protection")
		cl.ProcedureAreas = []string{"social", "famille", "argent"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var pages []plainPage
	inLang := func(cl *http.Client) *http.Client { return withLang(t, app, cl, lang) }
	keep := func(name string, a answer, want, refusals int) {
		t.Helper()
		if a.status != want {
			t.Errorf("%s: %d, want %d\n%.300s", name, a.status, want, between(a.body, "<main", "</main>"))
		}
		pages = append(pages, plainPage{name: name, status: a.status, body: a.body, refusals: refusals})
	}
	// The body is kept as sent (not unescaped like getPage's), so that
	// plainwords parses the HTML the browser parses.
	raw := func(cl *http.Client, method, path string, form url.Values) answer {
		t.Helper()
		if !strings.HasPrefix(path, "http") {
			path = app.srv.URL + path
		}
		var res *http.Response
		var err error
		if method == http.MethodPost {
			res, err = inLang(cl).PostForm(path, form)
		} else {
			res, err = inLang(cl).Get(path)
		}
		if err != nil {
			t.Fatal(err)
		}
		return answer{status: res.StatusCode, body: readBody(t, res), location: res.Header.Get("Location")}
	}
	get := func(name string, cl *http.Client, path string, want, refusals int) answer {
		t.Helper()
		a := raw(cl, http.MethodGet, path, nil)
		keep(name, a, want, refusals)
		return a
	}
	post := func(name string, cl *http.Client, path string, form url.Values, want, refusals int) answer {
		t.Helper()
		a := raw(cl, http.MethodPost, path, form)
		keep(name, a, want, refusals)
		return a
	}
	jeanne, marie, paul, ahmed := signedIn(t, app, c.jeanne), signedIn(t, app, c.marie), signedIn(t, app, w.paul), signedIn(t, app, c.ahmed)
	aidant := signedIn(t, app, c.aidant, "pwd", "otp")

	// Ways in, and out.
	get("home, signed out", browserClient(t), "/", http.StatusOK, 0)
	get("home, signed in", jeanne, "/", http.StatusOK, 0)
	get("login", browserClient(t), "/login?return=%2Fespace", http.StatusOK, 0)
	post("login with nothing typed", browserClient(t), "/login", url.Values{"return": {"/espace"}}, http.StatusBadRequest, 1)
	post("login with a wrong password", browserClient(t), "/login", url.Values{"return": {"/espace"}, "email": {c.jeanne.Email},
		"password": {"pas le bon mot de passe"}}, http.StatusUnauthorized, 1)
	sophie := inLang(browserClient(t))
	a := postForm(t, app, sophie, "/login", url.Values{"return": {"/aidant"}, "email": {c.aidant.Email}, "password": {testPassword}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/login/code") {
		t.Fatalf("the aidant's login: %d to %q", a.status, a.location)
	}
	get("second factor: the code", sophie, a.location, http.StatusOK, 0)
	post("second factor: a wrong code", sophie, "/login/code", url.Values{"code": {"000000"}, "return": {"/aidant"}}, http.StatusUnauthorized, 1)
	get("second factor: a recovery code", sophie, strings.Replace(a.location, "/login/code", "/login/recovery", 1), http.StatusOK, 0)
	get("log out", jeanne, "/logout", http.StatusOK, 0)
	get("logged out", browserClient(t), "/logout", http.StatusOK, 0)

	// A forgotten password (recovery.go): the request, its one answer, the
	// code's page, its refusals, the new password; and after FranceConnect.
	get("forgotten password", browserClient(t), "/mot-de-passe-oublie", http.StatusOK, 0)
	post("forgotten password with nothing typed", browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {""}}, http.StatusBadRequest, 1)
	post("forgotten password: the code is sent", browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {c.karim.Email}}, http.StatusOK, 0)
	get("new password: the code's page", browserClient(t), "/nouveau-mot-de-passe", http.StatusOK, 0)
	post("new password with problems", browserClient(t), "/nouveau-mot-de-passe", url.Values{"code": {"ABCD"}, "password": {"court"}, "again": {"x"}},
		http.StatusBadRequest, 1)
	post("new password: a wrong code", browserClient(t), "/nouveau-mot-de-passe", url.Values{"code": {"ABCD-EFGH-JKMN"},
		"password": {recoveredPassword}, "again": {recoveredPassword}}, http.StatusBadRequest, 1)
	post("new password: done", browserClient(t), "/nouveau-mot-de-passe", url.Values{"code": {app.resetCode(t, c.karim.ID)},
		"password": {recoveredPassword}, "again": {recoveredPassword}}, http.StatusOK, 0)
	get("new password after FranceConnect", franceConnectSession(t, app, c.karim, time.Minute), "/espace/mot-de-passe", http.StatusOK, 0)
	get("new password: log in with FranceConnect again", signedIn(t, app, c.karim), "/espace/mot-de-passe", http.StatusOK, 1)

	// A site sends the person to Relais: for whom, then the consent.
	reps, err := app.store.RepresentationsOf(ctx, c.jeanne.ID)
	if err != nil || len(reps) != 1 {
		t.Fatalf("Jeanne's representations: %v %v", reps, err)
	}
	run := &actingRun{app: app, cast: c, c: inLang(signedInClient(t, app, c.marie)), conf: app.conf(), verifier: oauth2.GenerateVerifier(), repID: reps[0].ID}
	run.conf.Scopes = []string{"openid", "identite_pivot", "offline_access"}
	chooser := get("for whom (the chooser)", run.c, run.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(run.verifier)), http.StatusOK, 0)
	a = raw(run.c, http.MethodPost, "/pour-qui", url.Values{"request": {htmlUnescape(between(chooser.body, `name="request" value="`, `"`))},
		"for": {run.repID}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("the choice: %d", a.status)
	}
	get("consent, acting for Jeanne", run.c, a.location, http.StatusOK, 0)
	self := &actingRun{app: app, cast: c, c: inLang(signedInClient(t, app, c.jeanne)), conf: app.conf(), verifier: oauth2.GenerateVerifier()}
	self.conf.Scopes = []string{"openid", "identite_pivot"}
	get("consent, for oneself", self.c, self.conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(self.verifier)), http.StatusOK, 0)

	// The space: what waits, who acts for me, for whom I act, proxies.
	ask := func(actor mandates.Person, what string) string {
		cs, err := app.service.RequestCosignature(ctx, mandates.CosignatureRequest{ClientID: "caf", PersonID: w.paul.ID, ActorID: actor.ID,
			Action: mandates.Dispose, Area: "argent", Description: what})
		if err != nil {
			t.Fatal(err)
		}
		return cs.ID
	}
	waiting := ask(w.lucie, "Résilier le contrat d’assurance habitation")
	refused := ask(w.lucie, "Donner 500 euros à un voisin")
	if _, err := app.service.AnswerCosignature(ctx, mandates.Actor{PersonID: w.paul.ID}, refused, false); err != nil {
		t.Fatal(err)
	}
	get("space, Jeanne", jeanne, "/espace", http.StatusOK, 0)
	get("space, Paul with an agreement waiting", paul, "/espace", http.StatusOK, 0)
	get("space, Marie", marie, "/espace", http.StatusOK, 0)
	get("who may act for me, Jeanne", jeanne, ofPathT, http.StatusOK, 0)
	get("who may act for me, Paul", paul, ofPathT, http.StatusOK, 0)
	get("for whom I act, Marie", marie, forPathT, http.StatusOK, 0)
	get("agreements, Paul", paul, "/espace/accords", http.StatusOK, 0)
	get("an agreement asked of Paul", paul, "/espace/accords/"+waiting, http.StatusOK, 0)
	get("an agreement refused", paul, "/espace/accords/"+refused, http.StatusOK, 1)
	get("a new proxy, Ahmed", ahmed, "/espace/procuration/nouvelle", http.StatusOK, 0)
	post("a new proxy with nothing chosen", ahmed, "/espace/procuration/nouvelle", url.Values{}, http.StatusBadRequest, 1)
	a = postForm(t, app, inLang(ahmed), "/espace/procuration/nouvelle", url.Values{"email": {c.karim.Email}, "domaines": {"social"},
		"droits": {"consult"}, "duree": {"1m"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("Ahmed's proxy: %d\n%.1500s", a.status, a.body)
	}
	get("the proxy sent", ahmed, a.location, http.StatusOK, 0)
	ahmeds, err := app.store.RepresentationsOf(ctx, c.ahmed.ID)
	if err != nil || len(ahmeds) == 0 {
		t.Fatalf("Ahmed's proxy: %v %v", ahmeds, err)
	}
	get("stop a proxy", ahmed, "/espace/representations/"+ahmeds[len(ahmeds)-1].ID+"/arreter", http.StatusOK, 0)
	get("stop the tutelle, Jeanne: only a judge may", jeanne, "/espace/representations/"+reps[0].ID+"/arreter", http.StatusForbidden, 1)
	get("a new proxy, Jeanne under tutelle", jeanne, "/espace/procuration/nouvelle", http.StatusOK, 0)
	post("a proxy refused, Jeanne under tutelle", jeanne, "/espace/procuration/nouvelle", url.Values{"email": {c.karim.Email},
		"domaines": {"social"}, "droits": {"consult"}, "duree": {"1m"}}, http.StatusForbidden, 1)

	// The journal, with Marie's act, the site's checks and a check refused.
	q := mandates.Question{ActorID: c.marie.ID, PersonID: c.jeanne.ID, Action: mandates.Manage, Area: "social"}
	if ans, err := app.service.Evaluate(ctx, q, "caf", ""); err != nil || ans.Decision != mandates.Allowed {
		t.Fatalf("Evaluate = %v, %v", ans.Decision, err)
	}
	if ans, err := app.service.ReportAct(ctx, mandates.ActReport{Question: q, ClientID: "caf",
		Label: "Déclaration de changement de situation envoyée", Reference: "2026-1187"}); err != nil || ans.Decision != mandates.Allowed {
		t.Fatalf("ReportAct = %v, %v", ans.Decision, err)
	}
	if ans, err := app.service.Evaluate(ctx, mandates.Question{ActorID: c.jeanne.ID, PersonID: c.jeanne.ID, Action: mandates.Dispose,
		Area: "argent"}, "caf", ""); err != nil || ans.Decision == mandates.Allowed {
		t.Fatalf("Jeanne's own dispose = %v, %v, want a refusal", ans.Decision, err)
	}
	get("journal, Jeanne", jeanne, "/espace/journal", http.StatusOK, 1)
	get("journal, what was done for me", jeanne, "/espace/journal?pour=moi", http.StatusOK, 0)
	get("journal printed, Jeanne", jeanne, "/espace/journal/imprimer", http.StatusOK, 1)
	get("journal of Jeanne, read by Marie", marie, "/espace/journal/"+c.jeanne.ID, http.StatusOK, 1)

	// How I receive my letters: the choice, a number refused, the code, a
	// wrong code, the channel confirmed, a date refused; and for the tutor.
	get("my letters, Jeanne", jeanne, "/espace/courriers", http.StatusOK, 0)
	get("my letters by SMS: the number", jeanne, "/espace/courriers/sms", http.StatusOK, 0)
	post("my letters by SMS: a landline refused", jeanne, "/espace/courriers/sms", url.Values{"sms": {"01 23 45 67 89"}}, http.StatusBadRequest, 1)
	post("my letters by email: an address refused", jeanne, "/espace/courriers/email", url.Values{"email": {"jeanne@"}}, http.StatusBadRequest, 1)
	if a = raw(jeanne, http.MethodPost, "/espace/courriers/sms", url.Values{"sms": {"06 12 34 56 78"}}); a.status != http.StatusSeeOther {
		t.Fatalf("Jeanne's number: %d", a.status)
	}
	get("my letters: the code", jeanne, "/espace/courriers/code", http.StatusOK, 0)
	_, code := app.sent.code(t)
	post("my letters: a wrong code", jeanne, "/espace/courriers/code", url.Values{"code": {"12"}}, http.StatusBadRequest, 1)
	if a = raw(jeanne, http.MethodPost, "/espace/courriers/code", url.Values{"code": {code}}); a.status != http.StatusSeeOther {
		t.Fatalf("Jeanne's code: %d", a.status)
	}
	get("my letters by SMS, confirmed", jeanne, a.location, http.StatusOK, 0)
	post("back to paper: a date refused", jeanne, "/espace/courriers/papier", url.Values{"quand": {"date"}, "date": {"hier"}}, http.StatusBadRequest, 1)
	get("Jeanne's letters, for Marie", marie, "/espace/pour/"+c.jeanne.ID+"/courriers", http.StatusOK, 0)

	// A mandate signed with an aidant: the attestation, a refusal.
	a = postForm(t, app, aidant, "/aidant/mandats/nouveau", url.Values{"email": {c.ahmed.Email}, "domaines": {"social"},
		"duree": {"12m"}, "accord": {"attestation"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("the aidant's mandate for Ahmed: %d\n%.1500s", a.status, a.body)
	}
	get("the attestation to sign", aidant, a.location, http.StatusOK, 0)
	mandate := strings.TrimSuffix(a.location, "/attestation")
	if signed := raw(aidant, http.MethodPost, a.location, url.Values{"accord": {"oui"}}); signed.status != http.StatusSeeOther {
		t.Fatalf("the attestation signed: %d", signed.status)
	}
	get("the attestation printed", aidant, mandate+"/attestation/imprimer", http.StatusOK, 0)
	w.aidantAsks(t, aidant, c.jeanne, "social")
	jm := w.mandateOf(t, c.jeanne)
	post("a consent refused: the tutor gives it", aidant, "/aidant/mandats/"+jm.ID+"/connexion", url.Values{"email": {c.jeanne.Email},
		"password": {testPassword}}, http.StatusForbidden, 1)

	// The session ended: the next page asked for is the login page again.
	ended := browserClient(t)
	u, _ := url.Parse(app.srv.URL)
	ended.Jar.SetCookies(u, []*http.Cookie{{Name: "relais_session", Value: "une-session-finie", Path: "/"}})
	if a = raw(ended, http.MethodGet, "/espace/journal", nil); a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/login?") {
		t.Fatalf("a page after the session ended: %d to %q", a.status, a.location)
	}
	get("session ended: the login page", ended, a.location, http.StatusOK, 0)

	// An account opened at a desk: the person activates it with the code
	// of the letter, or asks for a new letter (accounts_test.go).
	if a = raw(signedIn(t, app, c.operator), http.MethodPost, "/operateur/personnes/nouvelle", roseForm()); a.status != http.StatusSeeOther {
		t.Fatalf("Rose's account: %d", a.status)
	}
	rose := strings.TrimSuffix(strings.TrimPrefix(a.location, "/operateur/personnes/"), "?fait=ouvert")
	get("activate an account", browserClient(t), "/activer", http.StatusOK, 0)
	post("activate: a wrong code", browserClient(t), "/activer", url.Values{"code": {"AAAA-BBBB-CCCC"}, "password": {"court"}}, http.StatusBadRequest, 1)
	post("activate: done", browserClient(t), "/activer", url.Values{"code": {app.activationCode(t, rose)}, "password": {testPassword},
		"password_again": {testPassword}}, http.StatusOK, 0)
	get("activate: no code", browserClient(t), "/activer/sans-code", http.StatusOK, 0)
	post("activate: a new letter asked", browserClient(t), "/activer/sans-code", url.Values{"login": {"rose.durand.1234"}}, http.StatusOK, 0)

	// Errors.
	get("error 404", jeanne, "/cette-page-n-existe-pas", http.StatusNotFound, 1)
	get("error 404, an agreement asked of someone else", signedIn(t, app, c.karim), "/espace/accords/"+waiting, http.StatusNotFound, 1)
	get("error 400, an unknown site", browserClient(t), "/authorize?client_id=nope&response_type=code", http.StatusBadRequest, 1)
	// A form sent from another site (or a page too old) is refused.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, app.srv.URL+"/logout", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := inLang(jeanne).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	keep("error 403, a form from another site", answer{status: res.StatusCode, body: readBody(t, res)}, http.StatusForbidden, 1)
	// The login through FranceConnect, on a deployment that offers it
	// (upstream_test.go).
	return append(pages, franceConnectPlainPages(t, lang)...)
}

// TestEveryPageAPersonMaySeeIsInPlainWords reads each page a person under
// protection may see as a screen reader would and checks it against the
// rule book (PLAIN-LANGUAGE.md): no sentence over plainwords.MaxWords
// words, an average under plainwords.MaxAverage, the words of
// plainwords/words.fr.txt explained on the spot or avoided, and a next
// step in every refusal. Every breach is listed, with its page and its
// sentence.
func TestEveryPageAPersonMaySeeIsInPlainWords(t *testing.T) {
	for _, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) {
			rules, err := plainwords.For(lang)
			if err != nil {
				t.Fatal(err)
			}
			checkPlainWords(t, rules, plainPages(t, lang))
		})
	}
}

func checkPlainWords(t *testing.T, rules plainwords.Rules, pages []plainPage) {
	t.Helper()
	sentences, longest, worst, worstPage := 0, 0, 0.0, ""
	var breaches []string
	for _, p := range pages {
		// The attestation keeps its line breaks on screen and on paper
		// (.printable is white-space: pre-wrap): each line is read apart.
		page, err := plainwords.Read(strings.NewReader(p.body), "printable")
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if len(page.Sentences) == 0 {
			t.Errorf("%s: no text read", p.name)
		}
		sentences += len(page.Sentences)
		words := 0
		for _, s := range page.Sentences {
			words += s.Words
			longest = max(longest, s.Words)
		}
		if avg := float64(words) / float64(max(1, len(page.Sentences))); avg > worst {
			worst, worstPage = avg, p.name
		}
		if len(page.Refusals) < p.refusals {
			breaches = append(breaches, fmt.Sprintf("%s: %d refusals marked data-refusal, want at least %d", p.name, len(page.Refusals), p.refusals))
		}
		for _, b := range rules.Check(page) {
			breaches = append(breaches, p.name+": "+b.String())
		}
	}
	if len(breaches) > 0 {
		t.Errorf("%d breaches of the plain-words rules:\n%s", len(breaches), strings.Join(breaches, "\n"))
	}
	t.Logf("%d pages, %d sentences checked; the longest has %d words; the highest average is %.1f words (%s)",
		len(pages), sentences, longest, worst, worstPage)
}

// TestTheAgreementPageExplainsEachTimeLimitOnce: Paul's agreement page
// meets two time limits, until when he may answer and how long his
// agreement lasts; each is said once, in one sentence that says what
// ends (issue 17, point 6: « pendant 15 minutes » and « jusqu'au 13
// décembre » seemed to clash).
func TestTheAgreementPageExplainsEachTimeLimitOnce(t *testing.T) {
	var page plainwords.Page
	for _, p := range plainPages(t, "fr") {
		if p.name == "an agreement asked of Paul" {
			var err error
			if page, err = plainwords.Read(strings.NewReader(p.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	limits := []struct {
		name  string
		marks string   // how the limit shows in a sentence
		says  []string // what the one sentence must say
	}{
		{"the answer's deadline", "jusqu’au", []string{"Vous pouvez répondre jusqu’au", " à "}},
		{"how long the agreement lasts", "minutes", []string{"Si vous acceptez", fmt.Sprintf("%d minutes", int(mandates.CosignatureTTL/time.Minute)),
			"pour faire l’acte"}},
	}
	for _, l := range limits {
		t.Run(l.name, func(t *testing.T) {
			var found []string
			for _, s := range page.Sentences {
				if strings.Contains(s.Text, l.marks) {
					found = append(found, s.Text)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%d sentences with « %s », want 1: %q", len(found), l.marks, found)
			}
			for _, w := range l.says {
				if !strings.Contains(found[0], w) {
					t.Errorf("%q does not say %q", found[0], w)
				}
			}
		})
	}
}
