package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/relais-fr/relais/mandates"
)

// Forms that keep people's work (docs/forms.md): the error title and the
// focused summary, a message per empty field, the language switch and
// the session's end that keep what was typed.

const proxyNew = "/espace/procuration/nouvelle"

var titleRe = regexp.MustCompile(`<title>([^<]*)</title>`)

func pageTitle(a answer) string {
	m := titleRe.FindStringSubmatch(a.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestAPageWithProblemsSaysErrorFirstAndFocusesTheSummary(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	ahmed := signedIn(t, app, c.ahmed)
	out := browserClient(t)
	tests := []struct {
		name      string
		client    *http.Client
		method    string
		path      string
		form      url.Values
		wantError bool
	}{
		{"an empty login", out, http.MethodPost, "/login", url.Values{}, true},
		{"a wrong password", out, http.MethodPost, "/login", url.Values{"email": {c.ahmed.Email}, "password": {"pas le bon"}}, true},
		{"a proxy form sent empty", ahmed, http.MethodPost, proxyNew, url.Values{}, true},
		{"the login page before any answer", out, http.MethodGet, "/login", nil, false},
		{"the proxy form before any answer", ahmed, http.MethodGet, proxyNew, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := spaceDo(t, app, tt.client, tt.method, tt.path, tt.form)
			title := pageTitle(a)
			if got := strings.HasPrefix(title, "Erreur : "); got != tt.wantError {
				t.Errorf("title %q: begins with « Erreur : » = %v, want %v", title, got, tt.wantError)
			}
			summary := regexp.MustCompile(`<div class="alert" role="alert" id="probleme" tabindex="-1" autofocus[ >]`)
			if got := summary.MatchString(a.body); got != tt.wantError {
				t.Errorf("a focused summary: %v, want %v", got, tt.wantError)
			}
		})
	}
}

func TestAnErrorTitleIsInThePagesLanguage(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/login", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "en")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if title := pageTitle(answer{body: readBody(t, res)}); !strings.HasPrefix(title, "Error: Sign in") {
		t.Errorf("title %q, want « Error: Sign in… »", title)
	}
}

func TestAnEmptyLoginFieldGetsItsOwnMessageNextToIt(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	const (
		emailMsg    = "Écrivez votre adresse e-mail."
		passwordMsg = "Écrivez votre mot de passe."
	)
	tests := []struct {
		name          string
		form          url.Values
		email, passwd bool // the message expected next to each field
	}{
		{"both fields empty", url.Values{"email": {" "}, "password": {""}}, true, true},
		{"the email empty", url.Values{"password": {testPassword}}, true, false},
		{"the password empty", url.Values{"email": {testEmail}}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := postForm(t, app, c, "/login", tt.form)
			if a.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", a.status)
			}
			if a.has("ne correspond pas") {
				t.Error("an empty form is told the password does not match")
			}
			if got := a.has(`<p class="error-text" id="email-error">` + emailMsg); got != tt.email {
				t.Errorf("email message next to the field: %v, want %v", got, tt.email)
			}
			if got := a.has(`<p class="error-text" id="password-error">` + passwordMsg); got != tt.passwd {
				t.Errorf("password message next to the field: %v, want %v", got, tt.passwd)
			}
			if got := a.has(`aria-describedby="email-hint email-error" aria-invalid="true"`); got != tt.email {
				t.Errorf("email field tied to its message: %v, want %v", got, tt.email)
			}
			if got := a.has(`aria-describedby="password-error" aria-invalid="true"`); got != tt.passwd {
				t.Errorf("password field tied to its message: %v, want %v", got, tt.passwd)
			}
			if got := a.has(`<a href="#email">` + emailMsg); got != tt.email {
				t.Errorf("summary links to the email field: %v, want %v", got, tt.email)
			}
		})
	}
	// An empty form is no attempt: the right password still works after many.
	for range 12 {
		postForm(t, app, c, "/login", url.Values{"email": {testEmail}})
	}
	if a := postForm(t, app, c, "/login", url.Values{"email": {testEmail}, "password": {testPassword}}); a.status != http.StatusSeeOther {
		t.Errorf("login after empty forms: %d, want 303", a.status)
	}
}

// checked says whether the proxy form's box or radio of value is checked.
func checked(a answer, id string) bool {
	re := regexp.MustCompile(`<input [^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	return strings.Contains(re.FindString(a.body), " checked")
}

func TestTheLanguageSwitchKeepsWhatWasTyped(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	ahmed := signedIn(t, app, c.ahmed)
	typed := url.Values{"email": {"karim.benali@example.fr"}, "domaines": {"social", "logement"}, "duree": {"1m"}, "password": {"jamais gardé"}}

	// Sent without what it may do: the page comes back with an error and,
	// for the switch, a button of the form.
	a := postForm(t, app, ahmed, proxyNew, typed)
	if a.status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", a.status)
	}
	want := `<button type="submit" form="saisie" formaction="/lang/en?next=` + url.QueryEscape(proxyNew) + `" formmethod="post" formnovalidate`
	if !a.has(want) || !a.has(`id="saisie"`) {
		t.Fatalf("the switch is not a button of the form:\n%s", a.body)
	}
	// Enter in a field sends the form: its default button, the first of
	// its submit buttons in the page, comes before the switch.
	if def := strings.Index(a.body, `<button type="submit" form="saisie" hidden></button>`); def < 0 || def > strings.Index(a.body, want) {
		t.Errorf("the form's default button is not before the switch")
	}

	a = postForm(t, app, ahmed, "/lang/en?next="+url.QueryEscape(proxyNew), typed)
	if a.status != http.StatusSeeOther || a.location != proxyNew {
		t.Fatalf("switch: %d to %q, want 303 to the form", a.status, a.location)
	}
	if n := countOf(t, app, c.ahmed); n != 0 {
		t.Fatalf("the switch gave a proxy: %d", n)
	}
	a = getPage(t, app, ahmed, proxyNew)
	if !a.has(`lang="en"`) || !a.has("Give a proxy") {
		t.Errorf("the form is not in English")
	}
	if !a.has(`value="karim.benali@example.fr"`) || !checked(a, "domaine-social") || !checked(a, "domaine-logement") ||
		checked(a, "domaine-travail") || !checked(a, "duree-1m") {
		t.Errorf("what was typed is not back:\n%s", a.body)
	}
	if a.has("We kept what you wrote") {
		t.Error("a switch of language is announced as a session's end")
	}
	// Used once: shown again, the form is empty.
	if a = getPage(t, app, ahmed, proxyNew); a.has(`value="karim.benali@example.fr"`) {
		t.Error("the kept form fills the page a second time")
	}
	// Under a measure, the page shows no form: the switch stays a link.
	a = getPage(t, app, signedIn(t, app, c.jeanne), proxyNew)
	if a.has(`form="saisie"`) || !a.has(`<a href="/lang/en?next=`+url.QueryEscape(proxyNew)+`"`) {
		t.Errorf("a page without the form has the switch of a form:\n%s", a.body)
	}
}

func TestAFormSentAfterTheSessionEndedComesBackFilledAfterLogin(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	browser := browserClient(t) // its session has ended: no cookie the store knows
	typed := url.Values{"email": {"karim.benali@example.fr"}, "domaines": {"social"}, "droits": {"consult"}, "duree": {"1m"}}

	a := postForm(t, app, browser, proxyNew, typed)
	toLogin := "/login?" + url.Values{"return": {proxyNew}}.Encode()
	if a.status != http.StatusSeeOther || a.location != toLogin {
		t.Fatalf("sent after the session ended: %d to %q, want the login, then the form", a.status, a.location)
	}
	if n := countOf(t, app, c.ahmed); n != 0 {
		t.Fatalf("a proxy was given without a session: %d", n)
	}
	a = getPage(t, app, browser, a.location)
	if !a.has("Connectez-vous pour retrouver ce que vous aviez écrit.") {
		t.Error("the login page does not say the form waits")
	}
	a = postForm(t, app, browser, "/login", url.Values{"email": {c.ahmed.Email}, "password": {testPassword}, "return": {proxyNew}})
	if a.status != http.StatusSeeOther || a.location != proxyNew {
		t.Fatalf("login: %d to %q, want the form", a.status, a.location)
	}
	a = getPage(t, app, browser, proxyNew)
	if !a.has("Nous avons gardé ce que vous aviez écrit. Vérifiez et envoyez.") {
		t.Error("the form does not say it was kept")
	}
	if !a.has(`value="karim.benali@example.fr"`) || !checked(a, "domaine-social") || !checked(a, "droit-consult") || !checked(a, "duree-1m") {
		t.Errorf("the form is not filled:\n%s", a.body)
	}
	// Only filled, never sent: the person sends it.
	if n := countOf(t, app, c.ahmed); n != 0 {
		t.Fatalf("the kept form was acted on: %d proxies", n)
	}
}

// keptCookieOf is the cookie a browser holds for a form kept on one page
// (relais_kept_…) after it sent the form at path without a session.
func keptCookieOf(t *testing.T, app *oidcApp, path string, form url.Values) *http.Cookie {
	t.Helper()
	browser := browserClient(t)
	postForm(t, app, browser, path, form)
	srv, _ := url.Parse(app.srv.URL)
	for _, ck := range browser.Jar.Cookies(srv) {
		if strings.HasPrefix(ck.Name, "relais_kept_") {
			return ck
		}
	}
	t.Fatalf("no form kept for %s", path)
	return nil
}

func TestAKeptFormThatDoesNotOpenIsDroppedWithAPlainMessage(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	srv, _ := url.Parse(app.srv.URL)
	proxy := keptCookieOf(t, app, proxyNew, url.Values{"email": {"karim.benali@example.fr"}})
	aidant := keptCookieOf(t, app, "/aidant/mandats/nouveau", url.Values{"email": {"karim.benali@example.fr"}})
	if proxy.Name == aidant.Name {
		t.Fatal("two pages keep their forms in one cookie")
	}
	tests := []struct {
		name, cookie, value string
		message             bool // the page says what was written is lost
	}{
		{"an altered form", proxy.Name, proxy.Value[:len(proxy.Value)-3] + "AAA", true},
		{"a form cut short", proxy.Name, proxy.Value[:len(proxy.Value)/2], true},
		{"another page's form moved to this page's cookie", proxy.Name, aidant.Value, true},
		{"a value that is no kept form", proxy.Name, "nimportequoi", true},
		{"a form kept for another page", aidant.Name, aidant.Value, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed := signedIn(t, app, c.ahmed)
			signed.Jar.SetCookies(srv, []*http.Cookie{{Name: tt.cookie, Value: tt.value, Path: "/"}})
			a := getPage(t, app, signed, proxyNew)
			if a.status != http.StatusOK {
				t.Fatalf("status %d, want 200", a.status)
			}
			if a.has(`value="karim.benali@example.fr"`) {
				t.Error("the form is filled from a form that does not open")
			}
			if got := a.has("Ce que vous aviez écrit est perdu."); got != tt.message {
				t.Errorf("message that it is lost: %v, want %v", got, tt.message)
			}
		})
	}
}

func TestTheLoginKeepsTheAddressAndTheWayBackAcrossTheLanguageSwitch(t *testing.T) {
	app := newOIDCApp(t)
	c := browserClient(t)
	a := postForm(t, app, c, "/login", url.Values{"email": {testEmail}, "return": {"/espace"}})
	if !a.has(`<button type="submit" form="saisie" formaction="/lang/en?next=%2Flogin"`) {
		t.Fatalf("the login's switch is not a button of its form:\n%s", a.body)
	}
	a = postForm(t, app, c, "/lang/en?next=%2Flogin", url.Values{"email": {testEmail}, "return": {"/espace"}, "password": {"secret"}})
	if a.location != "/login" {
		t.Fatalf("switch: %d to %q", a.status, a.location)
	}
	a = getPage(t, app, c, "/login")
	if !a.has(`value="`+testEmail+`"`) || !a.has(`name="return" value="/espace"`) || !a.has("Sign in") {
		t.Errorf("the login in English lost what was typed:\n%s", a.body)
	}
	if a.has("secret") {
		t.Error("the password came back")
	}
}

func TestEveryPageOffersToSignInWhenNobodyIs(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	out := browserClient(t)
	// From home, to « Mon espace », as the home page's own link; from any
	// other page, back to it.
	for path, back := range map[string]string{"/": "/espace", "/page-inconnue": "/page-inconnue"} {
		a := getPage(t, app, out, path)
		want := `<a href="/login?return=` + url.QueryEscape(back) + `">Se connecter</a>`
		if !a.has(want) {
			t.Errorf("%s signed out: no %s", path, want)
		}
	}
	if a := getPage(t, app, out, "/login"); a.has(`<a href="/login?return=`) {
		t.Error("the login page links to itself")
	}
	if a := getPage(t, app, signedIn(t, app, c.ahmed), "/espace"); a.has(`<a href="/login?return=`) {
		t.Error("a signed-in person is offered to sign in")
	}
}

func TestAFormPageSaysWhenTheSessionEnds(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	a := getPage(t, app, signedIn(t, app, c.ahmed), proxyNew)
	if !regexp.MustCompile(`Votre session se termine à \d{1,2} h \d\d\.`).MatchString(a.body) ||
		!a.has("Nous gardons ce que vous avez écrit.") {
		t.Errorf("the proxy form does not say when the session ends:\n%s", a.body)
	}
}

func TestEachKeptFormComesBackFilledOnItsPage(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	srv, _ := url.Parse(app.srv.URL)
	tests := []struct {
		name   string
		path   string
		who    mandates.Person
		amr    []string
		form   url.Values
		filled string // what the page shows once filled
	}{
		{"a person's new proxy", proxyNew, c.ahmed, nil, url.Values{"email": {"nora.roux@example.fr"}}, `value="nora.roux@example.fr"`},
		{"an aidant's new mandate", "/aidant/mandats/nouveau", c.aidant, []string{"pwd", "otp"},
			url.Values{"email": {"nora.roux@example.fr"}}, `value="nora.roux@example.fr"`},
		{"an operator's new measure", "/operateur/mesures/nouvelle", c.operator, nil,
			url.Values{"person_email": {"nora.roux@example.fr"}, "reference": {"RG 26/4242"}}, `value="nora.roux@example.fr"`},
		{"the address of « Comment je reçois mes courriers »", "/espace/courriers/email", c.jeanne, nil,
			url.Values{"email": {"jeanne@exemple.fr"}}, `value="jeanne@exemple.fr"`},
		{"the number a tutor gives for the person", "/espace/pour/" + c.jeanne.ID + "/courriers/sms", c.marie, nil,
			url.Values{"sms": {"06 12 34 56 78"}}, `value="06 12 34 56 78"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ended := browserClient(t)
			a := postForm(t, app, ended, tt.path, tt.form)
			want := "/login?" + url.Values{"return": {tt.path}}.Encode()
			if a.location != want {
				t.Fatalf("sent after the session ended: %d to %q", a.status, a.location)
			}
			back := signedIn(t, app, tt.who, tt.amr...)
			back.Jar.SetCookies(srv, ended.Jar.Cookies(srv))
			a = getPage(t, app, back, tt.path)
			if a.status != http.StatusOK || !a.has(tt.filled) || !a.has("Nous avons gardé ce que vous aviez écrit.") {
				t.Errorf("%s after login: %d, filled %v\n%.3000s", tt.path, a.status, a.has(tt.filled), a.body)
			}
		})
	}
}

// Signing out forgets the forms the browser kept, so the next person on
// this browser finds none (found by the fresh-eyes review).
func TestSigningOutForgetsTheKeptForms(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	ahmed := signedIn(t, app, c.ahmed)
	typed := url.Values{"email": {"karim.benali@example.fr"}, "domaines": {"social"}}
	postForm(t, app, ahmed, "/lang/en?next="+url.QueryEscape(proxyNew), typed)
	srv, _ := url.Parse(app.srv.URL)
	kept := func() (n int) {
		for _, ck := range ahmed.Jar.Cookies(srv) {
			if strings.HasPrefix(ck.Name, "relais_kept_") {
				n++
			}
		}
		return n
	}
	if kept() != 1 {
		t.Fatalf("%d forms kept before signing out, want 1", kept())
	}
	if a := postForm(t, app, ahmed, "/logout", url.Values{}); a.status >= 500 {
		t.Fatalf("sign out: %d", a.status)
	}
	if n := kept(); n != 0 {
		t.Errorf("%d forms kept after signing out, want none", n)
	}
}
