package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/mandates"
)

// namedWorld is the access world with the demo's civil identities: several
// given names, a birth name and a nom d'usage, and each person's gender,
// so that a page that names a person another way than
// mandates.DisplayName shows it.
func namedWorld(t *testing.T) *accessWorld {
	t.Helper()
	w := newAccessWorld(t)
	for _, n := range []struct {
		p                        *mandates.Person
		given, family, preferred string
		gender                   mandates.Gender
	}{
		{&w.jeanne, "Jeanne Odette", "Lefèvre", "", mandates.GenderFemale},
		{&w.marie, "Marie Claire", "Lefèvre", "Martin", mandates.GenderFemale},
		{&w.paul, "Paul André", "Durand", "", mandates.GenderMale},
		{&w.lucie, "Lucie Anne", "Moreau", "", mandates.GenderFemale},
		{&w.yvette, "Yvette", "Garnier", "", mandates.GenderFemale},
		{&w.sophie, "Sophie", "Bernard", "", mandates.GenderFemale},
		{&w.fatima, "Fatima Zohra", "Benali", "", mandates.GenderFemale},
		{&w.ahmed, "Ahmed", "Benali", "", mandates.GenderMale},
		{&w.karim, "Karim", "Benali", "", mandates.GenderMale},
	} {
		p, err := w.app.store.UpdatePerson(t.Context(), n.p.ID, func(q *mandates.Person) error {
			q.GivenNames, q.FamilyName, q.PreferredName, q.Gender = n.given, n.family, n.preferred, n.gender
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		*n.p = p
	}
	return w
}

// visibleText is what a page shows and says: its title and its text,
// tags removed and spaces folded (the body is already unescaped).
func visibleText(body string) string {
	body = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>`).ReplaceAllString(body, " ")
	body = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(body, " ")
	return strings.Join(strings.Fields(body), " ")
}

// siteNamed finds the sites a page names: « le site « X » », the site “X”.
var siteNamed = regexp.MustCompile(`(?i)site « ([^»]+?) »|site “([^”]+)”`)

// namePage is one page a demo person sees, read in one language.
type namePage struct {
	name  string
	who   mandates.Person
	amr   []string
	path  string
	own   bool // the reader's own page: « vous », never « la personne »
	names bool // names Marie: only as « Marie Martin »
}

// actingConsentPage is the chooser (« pour qui ? ») and the consent page
// Marie reads when she acts for Jeanne at the caf site, in lang.
func actingConsentPage(t *testing.T, w *accessWorld, lang string) (chooser, consent answer) {
	t.Helper()
	c := withLang(t, w.app, signedIn(t, w.app, w.marie), lang)
	conf := w.app.conf()
	res, err := c.Get(conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, res)
	chooser = answer{status: res.StatusCode, body: strings.ReplaceAll(html.UnescapeString(page), "\u00a0", " ")}
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `value="`+w.tutelle+`"`) {
		t.Fatalf("the chooser does not offer Jeanne: %d\n%.2000s", res.StatusCode, page)
	}
	a := postForm(t, w.app, c, "/pour-qui", url.Values{"request": {htmlUnescape(between(page, `name="request" value="`, `"`))}, "for": {w.tutelle}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("the choice: %d", a.status)
	}
	res, err = c.Get(w.app.srv.URL + a.location)
	if err != nil {
		t.Fatal(err)
	}
	a = answer{status: res.StatusCode, body: strings.ReplaceAll(html.UnescapeString(readBody(t, res)), "\u00a0", " ")}
	if a.status != http.StatusOK || !a.has(`value="accept"`) {
		t.Fatalf("the consent page: %d\n%.2000s", a.status, a.body)
	}
	// Marie accepts: Jeanne's journal says that Marie opened her account.
	if got := postForm(t, w.app, c, "/consent", url.Values{"request": {between(a.body, `name="request" value="`, `"`)},
		"decision": {"accept"}}); got.status != http.StatusSeeOther && got.status != http.StatusFound {
		t.Fatalf("the consent: %d", got.status)
	}
	return chooser, a
}

// Issue 17: one name for a person on every page (mandates.DisplayName),
// one name for a site (its registered name), « vous » on the reader's own
// pages, the person's gender when Relais knows it, and never « né ou
// née », « connecté(e) » or « la double authentification ».
func TestEveryPageNamesPeopleAndSitesOneWay(t *testing.T) {
	w := namedWorld(t)
	forLucie, forPaul, _, _, _ := cosignRequests(t, w)
	// Marie acts for Jeanne at the caf site: Jeanne's journal names her.
	choosers, consents := map[string]answer{}, map[string]answer{}
	for _, lang := range []string{"fr", "en"} {
		choosers[lang], consents[lang] = actingConsentPage(t, w, lang)
	}
	// Sophie, for France Services, asks Fatima for a mandate given on paper.
	mandate, err := w.app.service.StartMandate(t.Context(), mandates.Actor{PersonID: w.sophie.ID, SecondFactor: true},
		mandates.MandateInput{OrganisationID: w.desk, PersonID: w.fatima.ID, Areas: []mandates.Area{"social"}, Duration: mandates.TwelveMonth})
	if err != nil {
		t.Fatal(err)
	}
	// The site checks what Marie may do for Jeanne, and what Jeanne may do
	// alone (refused: her tutrice does it).
	for _, actor := range []mandates.Person{w.marie, w.jeanne} {
		if _, err := w.app.service.Evaluate(t.Context(), mandates.Question{ActorID: actor.ID, PersonID: w.jeanne.ID,
			Action: mandates.Dispose, Area: "argent"}, "caf", ""); err != nil {
			t.Fatal(err)
		}
	}
	otp := []string{"pwd", "otp"}
	pages := []namePage{
		{"Jeanne's space", w.jeanne, nil, "/espace", true, true},
		{"who acts for Jeanne", w.jeanne, nil, "/espace/qui-agit-pour-moi", true, true},
		{"Jeanne's journal", w.jeanne, nil, "/espace/journal", true, true},
		{"Jeanne's agreements", w.jeanne, nil, "/espace/accords", true, false},
		{"Marie's space", w.marie, nil, "/espace", true, true},
		{"for whom Marie acts", w.marie, nil, "/espace/pour-qui-j-agis", true, true},
		{"Marie's journal", w.marie, nil, "/espace/journal", true, true},
		{"Jeanne's journal read by Marie", w.marie, nil, "/espace/journal/" + w.jeanne.ID, true, true},
		{"Paul's space", w.paul, nil, "/espace", true, false},
		{"who acts for Paul", w.paul, nil, "/espace/qui-agit-pour-moi", true, false},
		{"Paul's agreements", w.paul, nil, "/espace/accords", true, false},
		{"Paul's journal", w.paul, nil, "/espace/journal", true, false},
		{"the agreement asked of Paul", w.paul, nil, "/espace/accords/" + forPaul, true, false},
		{"the agreement asked of Lucie for Paul", w.lucie, otp, "/espace/accords/" + forLucie, true, false},
		{"Fatima's space", w.fatima, nil, "/espace", true, false},
		{"who acts for Fatima", w.fatima, nil, "/espace/qui-agit-pour-moi", true, false},
		{"Fatima's journal", w.fatima, nil, "/espace/journal", true, false},
		{"Ahmed's space", w.ahmed, nil, "/espace", true, false},
		{"for whom Ahmed acts", w.ahmed, nil, "/espace/pour-qui-j-agis", true, false},
		{"Yvette's space", w.yvette, nil, "/espace", true, false},
		{"who acts for Yvette", w.yvette, nil, "/espace/qui-agit-pour-moi", true, false},
		{"Lucie's agreements", w.lucie, otp, "/espace/accords", true, false},
		{"Jeanne's code page", w.jeanne, nil, "/compte/double-authentification", true, false},
		{"Sophie's code page", w.sophie, otp, "/compte/double-authentification", true, false},
		{"the attestation Fatima signs", w.sophie, otp, "/aidant/mandats/" + mandate.ID + "/attestation", false, false},
		{"the page where Fatima agrees with her own account", w.sophie, otp, "/aidant/mandats/" + mandate.ID + "/connexion", true, false},
	}
	registered := map[string]bool{w.caf.Name: true, "Impôts": true}
	forbidden := []string{"né ou née", "connecté", "ouble authentification", "Marie Claire", "Claire", "Odette", "Paul André",
		"Lucie Anne", "Fatima Zohra", "Marie Lefèvre", "(Martin)"}
	marieNamed := 0
	for _, lang := range []string{"fr", "en"} {
		for _, p := range pages {
			t.Run(lang+"/"+p.name, func(t *testing.T) {
				a := getPage(t, w.app, withLang(t, w.app, signedIn(t, w.app, p.who, p.amr...), lang), p.path)
				if a.status != http.StatusOK {
					t.Fatalf("GET %s: %d", p.path, a.status)
				}
				checkNames(t, visibleText(a.body), lang, p, registered, forbidden)
				if p.names && strings.Contains(a.body, "Marie Martin") {
					marieNamed++
				}
			})
		}
		t.Run(lang+"/the chooser Marie reads", func(t *testing.T) {
			checkNames(t, visibleText(choosers[lang].body), lang, namePage{own: true}, registered, forbidden)
		})
		t.Run(lang+"/the consent page when Marie acts for Jeanne", func(t *testing.T) {
			text := visibleText(consents[lang].body)
			checkNames(t, text, lang, namePage{own: false}, registered, forbidden)
			want, notWant := "l’identité de Jeanne Lefèvre", "votre identité"
			if lang == "en" {
				want, notWant = "Jeanne Lefèvre’s identity", "your identity"
			}
			if !strings.Contains(text, want) || strings.Contains(text, notWant) {
				t.Errorf("the consent page does not name Jeanne's information (want %q, never %q):\n%s", want, notWant, text)
			}
			if lang == "fr" && !strings.Contains(text, "Votre rôle : Tutrice.") {
				t.Errorf("the consent page does not name Marie's role with her gender:\n%s", text)
			}
		})
	}
	if marieNamed == 0 {
		t.Error("no page names Marie Martin: the test reads no name")
	}
	t.Run("Jeanne's journal names Marie as « Marie Martin » and the site by its name", func(t *testing.T) {
		a := getPage(t, w.app, withLang(t, w.app, signedIn(t, w.app, w.jeanne), "fr"), "/espace/journal")
		text := visibleText(a.body)
		for _, want := range []string{"Marie Martin", "site « " + w.caf.Name + " »"} {
			if !strings.Contains(text, want) {
				t.Errorf("Jeanne's journal does not say %q:\n%s", want, text)
			}
		}
	})
	t.Run("the attestation for a woman says « née le »", func(t *testing.T) {
		a := getPage(t, w.app, withLang(t, w.app, signedIn(t, w.app, w.sophie, otp...), "fr"), "/aidant/mandats/"+mandate.ID+"/attestation")
		if !a.has("Moi, Fatima Benali, née le ") {
			t.Errorf("the attestation does not say « née le »:\n%s", between(a.body, "<main", "</main>"))
		}
	})
	t.Run("Jeanne's pages name Marie as her tutrice, with her gender", func(t *testing.T) {
		a := getPage(t, w.app, withLang(t, w.app, signedIn(t, w.app, w.jeanne), "fr"), "/espace/qui-agit-pour-moi")
		text := visibleText(a.body)
		if !strings.Contains(text, "Tutrice") || strings.Contains(text, "Tuteur ou tutrice") {
			t.Errorf("Jeanne's page names Marie's role without her gender:\n%s", text)
		}
	})
}

// checkNames fails on a page that names someone or a site another way,
// or speaks of the reader as « la personne » on their own page.
func checkNames(t *testing.T, text, lang string, p namePage, registered map[string]bool, forbidden []string) {
	t.Helper()
	for _, f := range forbidden {
		if strings.Contains(text, f) {
			t.Errorf("the page says %q:\n%s", f, text)
		}
	}
	for _, m := range siteNamed.FindAllStringSubmatch(text, -1) {
		if name := m[1] + m[2]; !registered[name] {
			t.Errorf("the page names a site %q, not by its registered name:\n%s", name, text)
		}
	}
	if p.own {
		third := "la personne"
		if lang == "en" {
			third = "the person"
		}
		if strings.Contains(strings.ToLower(text), third) {
			t.Errorf("the reader's own page speaks of them as %q:\n%s", third, text)
		}
	}
}
