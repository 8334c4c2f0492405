package ui_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
	"github.com/relais-fr/relais/notices/letter/lettertest"
	"github.com/relais-fr/relais/notices/prefs"
	noticewords "github.com/relais-fr/relais/notices/words"
	"github.com/relais-fr/relais/ui/browsertest"
)

// resetCodeText is a reset code as a letter, an email or an SMS writes it;
// not the notice's reference (« N-0A1B-… »), which a hyphen precedes.
var resetCodeText = regexp.MustCompile(`(?:^|[^-A-Z0-9])([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})(?:$|[^-A-Z0-9])`)

// outbox stands for the email server and the SMS gateway of the
// dispatcher: it keeps what it is given.
type outbox struct {
	mu   sync.Mutex
	sent map[notices.Channel][]notices.Message
}

type outboxChannel struct {
	box *outbox
	ch  notices.Channel
}

func (o outboxChannel) Send(_ context.Context, m notices.Message) error {
	o.box.mu.Lock()
	defer o.box.mu.Unlock()
	o.box.sent[o.ch] = append(o.box.sent[o.ch], m)
	return nil
}

// recoveryPost is the post office of the recovery's tests: the words
// (which open the codes with the deployment's key), the dispatcher with
// fake email and SMS senders, and the letters' printer.
type recoveryPost struct {
	app    *oidcApp
	words  *noticewords.Writer
	out    *outbox
	disp   *notices.Dispatcher
	letter *letter.Printer
}

func newRecoveryPost(t *testing.T, app *oidcApp, site string) *recoveryPost {
	t.Helper()
	w, err := noticewords.New(app.store, noticewords.Options{Sender: "France Services Lyon 8e", Contact: "04 72 00 00 00",
		Contacts: prefs.Lookup{Store: app.store}, Site: site, Codes: app.reset.sealer})
	if err != nil {
		t.Fatal(err)
	}
	out := &outbox{sent: map[notices.Channel][]notices.Message{}}
	p, err := letter.NewPrinter(letter.Letterhead{Name: "France Services Lyon 8e", Address: []string{"12 rue Pierre Delore", "69008 Lyon"}, Phone: "04 72 00 00 00"})
	if err != nil {
		t.Fatal(err)
	}
	return &recoveryPost{app: app, words: w, out: out, letter: p, disp: &notices.Dispatcher{Store: app.store, Writer: w, Events: app.journal, Owner: "recovery-test",
		Senders: map[notices.Channel]notices.Sender{notices.Email: outboxChannel{out, notices.Email}, notices.SMS: outboxChannel{out, notices.SMS}}}}
}

// codeBy is the reset code the person received by ch: the email's or the
// SMS's, sent by the dispatcher; or the letter's, rendered as PDF and read
// back with pdftotext.
func (p *recoveryPost) codeBy(t *testing.T, personID string, ch notices.Channel) string {
	t.Helper()
	n := p.app.resetNotice(t, personID, mandates.EventPasswordResetRequested)
	if n.Channel != ch {
		t.Fatalf("the reset code went by %s, want %s", n.Channel, ch)
	}
	var text string
	switch ch {
	case notices.Paper:
		m, err := p.words.Write(t.Context(), n)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := p.letter.Render(&buf, m); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "reset.pdf")
		if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		text = lettertest.Run(t, "pdftotext", "-raw", "-enc", "UTF-8", file, "-")
		if !strings.Contains(text, "/nouveau-mot-de-passe") {
			t.Errorf("the letter does not name the page to type the code on:\n%s", text)
		}
	default:
		if sent, _, err := p.disp.RunOnce(t.Context()); err != nil || sent != 1 {
			t.Fatalf("the dispatcher sent %d, %v; want the code's message", sent, err)
		}
		p.out.mu.Lock()
		msgs := p.out.sent[ch]
		m := msgs[len(msgs)-1]
		p.out.mu.Unlock()
		text = m.Short
		if ch == notices.Email {
			text = strings.Join(m.Lines, "\n")
		}
	}
	m := resetCodeText.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no code in the %s:\n%s", ch, text)
	}
	if want := p.app.resetCode(t, personID); m[1] != want {
		t.Fatalf("the %s says the code %s, the notice holds %s", ch, m[1], want)
	}
	return m[1]
}

// follow goes where the page's link to path leads, once the link is
// there; by navigation, which waits for the page to load, so that typing
// never meets the page before.
func follow(t *testing.T, ctx context.Context, h *browsertest.Harness, path string) {
	t.Helper()
	sel := `main a[href="` + path + `"]`
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector(`+jsString(sel)+`)`))
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never had a link to %s (%v)", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	step(t, ctx, chromedp.Navigate(h.URL(path)))
}

// chooseChannel confirms p's choice of ch (email or SMS) as « Comment je
// reçois mes courriers » does: a code to the new address, typed back.
func chooseChannel(t *testing.T, app *oidcApp, p mandates.Person, ch notices.Channel, to string) {
	t.Helper()
	a := mandates.Actor{PersonID: p.ID}
	if err := app.sent.svc.Request(t.Context(), a, p.ID, ch, to, "fr"); err != nil {
		t.Fatal(err)
	}
	_, code := app.sent.code(t)
	if _, err := app.sent.svc.Confirm(t.Context(), a, p.ID, code); err != nil {
		t.Fatal(err)
	}
}

// recoveryPerson adds a person with a postal address, so their letters
// can be printed.
func recoveryPerson(t *testing.T, app *oidcApp, given, email string) mandates.Person {
	t.Helper()
	p := mandates.Person{ID: mandates.NewID(time.Now()), GivenNames: given, FamilyName: "Moreau", BirthDate: mandates.Date(1952, 6, 1),
		Email: email, PasswordHash: authn.HashPassword(testPassword),
		Address: mandates.Address{Street: "3 rue Garibaldi", PostalCode: "69006", Locality: "Lyon", Country: "France"}}
	if err := app.store.CreatePerson(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAPasswordIsRecoveredByLetterEmailAndSMS is the acceptance test of
// « Mot de passe oublié », in chromium: three people, one whose letters
// go on paper, one who chose email, one who chose SMS, each follows the
// link on the login page, types their address, reads the code where it
// arrived (the letter as printed, read back with pdftotext; the email and
// the SMS as the dispatcher sent them), types it with a new password,
// then logs in with that password and reaches « Mon espace ».
func TestAPasswordIsRecoveredByLetterEmailAndSMS(t *testing.T) {
	app := newOIDCApp(t)
	h := browsertest.Start(t, app.handler)
	post := newRecoveryPost(t, app, h.URL(""))
	paper := recoveryPerson(t, app, "Louise", "louise.moreau@example.fr")
	email := recoveryPerson(t, app, "Hugo", "hugo.moreau@example.fr")
	sms := recoveryPerson(t, app, "Inès", "ines.moreau@example.fr")
	chooseChannel(t, app, email, notices.Email, "hugo.m@exemple.fr")
	chooseChannel(t, app, sms, notices.SMS, "06 98 76 54 32")

	for _, tt := range []struct {
		p        mandates.Person
		ch       notices.Channel
		password string
	}{
		{paper, notices.Paper, "la lettre est bien arrivée"},
		{email, notices.Email, "un e-mail pour mon code"},
		{sms, notices.SMS, "un SMS sur mon portable"},
	} {
		t.Run(string(tt.ch), func(t *testing.T) {
			tab := h.Tab(t, 1280)
			ctx, cancel := context.WithTimeout(tab, 90*time.Second)
			defer cancel()
			if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: browsertest.LangCookie, Value: "fr", URL: h.URL("/"), Path: "/"}); err != nil {
				t.Fatal(err)
			}
			step(t, ctx, chromedp.Navigate(h.URL("/login")))
			waitText(t, ctx, "Mot de passe oublié ?")
			follow(t, ctx, h, "/mot-de-passe-oublie")
			waitText(t, ctx, "Recevoir un code")
			step(t, ctx, typeIn("#email", tt.p.Email), click(`main form button[type="submit"]`))
			waitText(t, ctx, "Si ce compte existe, nous avons envoyé un code")

			code := post.codeBy(t, tt.p.ID, tt.ch)
			follow(t, ctx, h, "/nouveau-mot-de-passe")
			waitText(t, ctx, "Code reçu")
			step(t, ctx, typeIn("#code", code), typeIn("#password", tt.password), typeIn("#again", tt.password),
				click(`main form button[type="submit"]`))
			waitText(t, ctx, "Votre mot de passe est changé")

			follow(t, ctx, h, "/login")
			waitText(t, ctx, "Se connecter à Relais")
			step(t, ctx, typeIn("#email", tt.p.Email), typeIn("#password", tt.password), click(`main form button[type="submit"]`))
			waitText(t, ctx, "Me déconnecter")
			step(t, ctx, chromedp.Navigate(h.URL("/espace")))
			waitText(t, ctx, "Bonjour "+tt.p.GivenNames+" Moreau")

			// Told on paper, whatever channel the person chose.
			if n := app.resetNotice(t, tt.p.ID, mandates.EventPasswordReset); n.Channel != notices.Paper {
				t.Errorf("the new password is told by %s, want a letter", n.Channel)
			}
		})
	}
}

// TestAnOperatorRemovesASecondFactorInABrowser: Olivier, an operator
// logged in with his own second factor, opens Jeanne's page, chooses the
// document he saw, ticks the check and removes her lost second factor.
func TestAnOperatorRemovesASecondFactorInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	app.enrolTOTPOf(t, c.jeanne.ID)
	h := browsertest.Start(t, app.handler)
	tab := h.Tab(t, 320)
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	cookies := sessionFor(t, app, c.operator, "pwd", "otp")
	cookies[browsertest.LangCookie] = "fr"
	for name, value := range cookies {
		if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: h.URL("/"), Path: "/"}); err != nil {
			t.Fatal(err)
		}
	}
	path := "/operateur/personnes/" + c.jeanne.ID + "/code-de-securite"
	step(t, ctx, chromedp.Navigate(h.URL(path)))
	waitText(t, ctx, "Le code de sécurité de Jeanne Petit")
	checkTargets(t, ctx, path)
	step(t, ctx, chromedp.SetValue(chromedp.CSS("#document"), "id_card"), click("#identity_checked"), click(`main form button[type="submit"]`))
	waitText(t, ctx, "Le code de sécurité de Jeanne Petit est retiré.")
	if on, err := app.totp.Active(t.Context(), c.jeanne.ID); err != nil || on {
		t.Errorf("Jeanne's second factor after the reset: %v, %v", on, err)
	}
}

// TestRecoveryPagesInABrowser: every page of the recovery passes axe with
// zero violations, in French and English, at 320 and 1280 px, every
// control reached with Tab with a visible focus: « Mot de passe oublié »
// (empty, refused for too many requests, answered), the code's page
// (empty, with problems, a wrong code, the password changed), the new
// password after FranceConnect (fresh, too old), and the operator's page
// (the form, its problems, done, nothing to remove).
func TestRecoveryPagesInABrowser(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	app.enrolTOTPOf(t, c.jeanne.ID)
	app.enrolTOTPOf(t, c.marie.ID)
	kept := &lettersKept{next: app.handler, docs: map[string]answer{}}
	h := browsertest.Start(t, kept)
	opCookies := sessionFor(t, app, c.operator, "pwd", "otp")
	var pages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		post := func(name string, cl *http.Client, path string, form url.Values, want int) {
			t.Helper()
			res, err := withLang(t, app, cl, lang).PostForm(app.srv.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			a := answer{status: res.StatusCode, body: readBody(t, res)}
			if a.status != want {
				t.Fatalf("%s: %d, want %d\n%s", name, a.status, want, between(a.body, "<main", "</main>"))
			}
			kept.mu.Lock()
			kept.docs[name+"-"+lang] = a
			kept.mu.Unlock()
			pages = append(pages, browsertest.Page{Name: name, Path: "/test/courriers/" + name + "-" + lang, Lang: lang, WantStatus: want})
		}
		busy := "trop-" + lang + "@example.fr"
		post("forgot-empty", browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {""}}, http.StatusBadRequest)
		post("forgot-sent", browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {c.karim.Email}}, http.StatusOK)
		for range 3 {
			postForm(t, app, browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {busy}})
		}
		post("forgot-too-many", browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {busy}}, http.StatusTooManyRequests)
		post("reset-empty", browserClient(t), "/nouveau-mot-de-passe", url.Values{}, http.StatusBadRequest)
		post("reset-problems", browserClient(t), "/nouveau-mot-de-passe", url.Values{"code": {"ABCD"}, "password": {"court"}, "again": {"autre"}}, http.StatusBadRequest)
		post("reset-wrong-code", browserClient(t), "/nouveau-mot-de-passe", url.Values{"code": {"ABCD-EFGH-JKMN"}, "password": {recoveredPassword}, "again": {recoveredPassword}}, http.StatusBadRequest)
		code := app.resetCode(t, c.karim.ID)
		post("reset-done", browserClient(t), "/nouveau-mot-de-passe", url.Values{"code": {code}, "password": {recoveredPassword}, "again": {recoveredPassword}}, http.StatusOK)
		post("space-password-problems", franceConnectSession(t, app, c.ahmed, time.Minute), "/espace/mot-de-passe", url.Values{"password": {"court"}, "again": {"court"}}, http.StatusBadRequest)
		post("space-password-done", franceConnectSession(t, app, c.ahmed, time.Minute), "/espace/mot-de-passe", url.Values{"password": {recoveredPassword}, "again": {recoveredPassword}}, http.StatusOK)
		post("operator-second-factor-problems", signedIn(t, app, c.operator, "pwd", "otp"), "/operateur/personnes/"+c.jeanne.ID+"/code-de-securite", url.Values{}, http.StatusBadRequest)
	}
	// Sessions made after every new password above, which ends the others.
	removeSecondFactor(t, app, c.operator, c.marie)
	for _, lang := range []string{"fr", "en"} {
		fresh := franceConnectCookies(t, app, c.ahmed)
		pages = append(pages,
			browsertest.Page{Name: "forgot", Path: "/mot-de-passe-oublie", Lang: lang},
			browsertest.Page{Name: "reset", Path: "/nouveau-mot-de-passe", Lang: lang},
			browsertest.Page{Name: "space-password", Path: "/espace/mot-de-passe", Lang: lang, Cookies: fresh},
			browsertest.Page{Name: "space-password-again", Path: "/espace/mot-de-passe", Lang: lang, Cookies: sessionFor(t, app, c.ahmed)},
			browsertest.Page{Name: "operator-second-factor", Path: "/operateur/personnes/" + c.jeanne.ID + "/code-de-securite", Lang: lang, Cookies: opCookies},
			browsertest.Page{Name: "operator-second-factor-none", Path: "/operateur/personnes/" + c.karim.ID + "/code-de-securite", Lang: lang, Cookies: opCookies},
			browsertest.Page{Name: "operator-second-factor-done", Path: "/operateur/personnes/" + c.marie.ID + "/code-de-securite?fait=retire",
				Lang: lang, Cookies: opCookies},
		)
	}
	h.Check(t, pages...)
}

// franceConnectCookies signs p in through FranceConnect just now, for the
// harness.
func franceConnectCookies(t *testing.T, app *oidcApp, p mandates.Person) map[string]string {
	t.Helper()
	token, id := authn.NewSessionToken()
	now := time.Now()
	if err := app.store.CreateSession(t.Context(), authn.BrowserSession{ID: id, PersonID: p.ID, AuthTime: now, AMR: []string{"fc"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), Upstream: authn.UpstreamFranceConnect}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"relais_session": token}
}

// removeSecondFactor removes p's second factor by the operator op,
// through the page, as the desk does.
func removeSecondFactor(t *testing.T, app *oidcApp, op, p mandates.Person) {
	t.Helper()
	res := postForm(t, app, signedIn(t, app, op, "pwd", "otp"), "/operateur/personnes/"+p.ID+"/code-de-securite",
		url.Values{"identity_checked": {"oui"}, "document": {"passport"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("the reset of %s: %d", p.ID, res.status)
	}
}
