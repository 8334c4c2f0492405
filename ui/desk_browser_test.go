package ui_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/letter"
	"github.com/relais-fr/relais/notices/letter/lettertest"
	noticewords "github.com/relais-fr/relais/notices/words"
)

// TestTheDeskPathInABrowser walks issue 16's desk path in chromium, in
// French at 320 px and in English at 1280 px: an operator opens the
// account of Rose Durand, who has no email, after checking her identity
// (a form sent empty first); her activation letter, laid out as the print
// run lays it out and read back with pdftotext, gives her code and her
// login name; on /activer she chooses her password with that code, then
// logs in with her login name; the operator registers a tutelle for her,
// held by Marie, and Marie acts for her at the caf site, choosing her on
// « Pour qui faites-vous cette démarche ? ». Every page met is audited in
// that language at 320 and 1280 px (axe-core, sideways scrolling, the Tab
// key).
func TestTheDeskPathInABrowser(t *testing.T) {
	inEachLanguage(t, newGivingWorld, func(t *testing.T, r *givingRun) {
		// The operator's form: sent empty, then filled.
		op := r.visitor(t, &r.c.operator)
		op.open("/operateur/personnes/nouvelle")
		op.reads(words{"J’ai vérifié une pièce d’identité", "I checked an identity document"})
		op.keep("account-new", http.StatusOK)
		op.click(`main form button[type="submit"]`)
		op.reads(words{"Le compte n’est pas ouvert", "The account is not open"})
		op.keep("account-new-errors", http.StatusBadRequest)
		op.click("#identity_checked")
		op.fill("#given_names", "Rose Marie")
		op.fill("#family_name", "Durand")
		op.click("#gender-female")
		op.fill("#birth_date", "1944-05-02")
		op.fill("#birth_place", "Nantes")
		op.fill("#birth_place_code", "44109")
		op.fill("#address_street", "3 rue des Lilas")
		op.fill("#address_postal_code", "44000")
		op.fill("#address_locality", "Nantes")
		op.click(`main form button[type="submit"]`)
		op.reads(words{"La lettre d’activation part aujourd’hui", "The activation letter goes out today"})
		op.keep("account-person", http.StatusOK)
		loc, err := chromedp.Run(op.tab, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`/operateur/personnes/([0-9a-f-]{36})\?fait=ouvert$`).FindStringSubmatch(loc)
		if m == nil {
			t.Fatalf("after opening, the operator is at %s", loc)
		}
		rose, err := r.app.store.Person(t.Context(), m[1])
		if err != nil {
			t.Fatal(err)
		}

		op.open("/operateur/personnes/nouvelle")
		op.click("#identity_checked")
		op.fill("#given_names", "Rose Marie")
		op.fill("#family_name", "DURAND")
		op.click("#gender-female")
		op.fill("#birth_date", "1944-05-02")
		op.fill("#birth_place_code", "44109")
		op.fill("#address_street", "3 rue des Lilas")
		op.fill("#address_postal_code", "44000")
		op.fill("#address_locality", "Nantes")
		op.click(`main form button[type="submit"]`)
		op.reads(words{"Comptes avec la même identité", "Accounts with the same identity"})
		op.keep("account-new-same", http.StatusBadRequest)
		op.open("/operateur/personnes?nom=durand")
		op.reads(words{"Rose Marie Durand", "Rose Marie Durand"})
		op.keep("account-list", http.StatusOK)

		// The letter, as the print run lays it out.
		code, login := r.activationLetter(t, rose)

		// Rose chooses her password with the code, then logs in with
		// her login name.
		v := r.visitor(t, nil)
		v.open("/activer")
		v.reads(words{"Activer mon compte", "Turn on my account"})
		v.keep("activate", http.StatusOK)
		v.fill("#code", "AAAA-BBBB-CCCC")
		v.fill("#password", "rose aime les lilas")
		v.fill("#password_again", "rose aime les lilas")
		v.click(`main form button[type="submit"]`)
		v.reads(words{"Ce code ne marche pas", "This code does not work"})
		v.keep("activate-errors", http.StatusBadRequest)
		step(t, v.tab, chromedp.Evaluate[chromedp.Void](`document.querySelector("#code").value = ""`))
		v.fill("#code", code)
		v.fill("#password", "rose aime les lilas")
		v.fill("#password_again", "rose aime les lilas")
		v.click(`main form button[type="submit"]`)
		v.reads(words{"Votre compte est activé", "Your account is turned on"}, words{login, login})
		v.keep("activate-done", http.StatusOK)
		v.click(`main a.button`)
		v.reads(words{"Adresse e-mail ou identifiant", "Email address or login name"})
		v.fill("#email", login)
		v.fill("#password", "rose aime les lilas")
		v.click(`main form button[type="submit"]`)
		v.isAt("/espace")
		v.keep("space-rose", http.StatusOK)
		v.open("/activer/sans-code")
		v.reads(words{"Demander une nouvelle lettre", "Ask for a new letter"})
		v.keep("activate-no-code", http.StatusOK)

		// An aidant opens an account too, with her second factor.
		aidant := r.visitor(t, &r.c.aidant, "pwd", "otp")
		aidant.open("/aidant/comptes/nouveau")
		aidant.reads(words{"Ouvrir un compte Relais", "Open a Relais account"})
		aidant.keep("aidant-account-new", http.StatusOK)
		aidant.click("#identity_checked")
		aidant.fill("#given_names", "Léon")
		aidant.fill("#family_name", "Martin")
		aidant.click("#gender-male")
		aidant.fill("#birth_date", "1939-11-20")
		aidant.fill("#address_street", "8 impasse des Mûriers")
		aidant.fill("#address_postal_code", "69008")
		aidant.fill("#address_locality", "Lyon")
		aidant.click("#language-en")
		aidant.click(`main form button[type="submit"]`)
		aidant.reads(words{"Le compte de Léon Martin est ouvert", "The account of Léon Martin is open"}, words{"leon.martin.", "leon.martin."})
		aidant.keep("account-opened", http.StatusCreated)

		// Her tutor acts for her at a site.
		now := time.Now().UTC()
		reps, err := r.app.service.RegisterMeasure(t.Context(), mandates.Actor{PersonID: r.c.operator.ID}, mandates.MeasureInput{Kind: mandates.Tutelle,
			PersonID: rose.ID, Representatives: []mandates.RepresentativeInput{{PersonID: r.c.marie.ID, Role: mandates.RoleTuteur}},
			ValidFrom: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
			Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Nantes", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00091"}})
		if err != nil {
			t.Fatal(err)
		}
		tok := r.visitor(t, &r.c.marie).actsAtTheSiteFor(reps[0], rose)
		if tok.AccessToken == "" {
			t.Fatal("the site got no access token")
		}
		r.subs[rose.ID] = r.app.provider.Subject(r.caf, rose.ID)
		if v := r.evaluates(t, r.c.marie, rose, mandates.Manage, "social", ""); !v.Decision {
			t.Errorf("Marie may not manage Rose's social affairs at the site: %+v", v)
		}
	})
}

// activationLetter lays out the person's activation letter as relais
// notices print does, reads it back with pdftotext, and returns the code
// and the login name it gives.
func (r *givingRun) activationLetter(t *testing.T, p mandates.Person) (code, login string) {
	t.Helper()
	list, err := r.app.store.NoticesOf(t.Context(), p.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var n notices.Notice
	for _, x := range list {
		if x.Kind == mandates.EventActivationSent && x.Channel == notices.Paper {
			n = x
		}
	}
	if n.ID == "" {
		t.Fatalf("no activation letter for %s among %d notices", p.ID, len(list))
	}
	w, err := noticewords.New(r.app.store, noticewords.Options{Sender: "France Services Nantes", Contact: "02 40 41 42 43",
		Site: r.h.URL(""), Codes: r.app.letterCodes})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := w.Write(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	printer, err := letter.NewPrinter(letter.Letterhead{Name: "France Services Nantes", Address: []string{"4 rue de la Maison Neuve", "44000 Nantes"},
		Phone: "02 40 41 42 43"})
	if err != nil {
		t.Fatal(err)
	}
	var pdf bytes.Buffer
	if _, err := printer.Batch(&pdf, []notices.Message{msg}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(file, pdf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	text := lettertest.Run(t, "pdftotext", "-layout", file, "-")
	flat := strings.Join(strings.Fields(text), " ")
	// The code stands alone on its line (the reference, « N-… », does not).
	if m := regexp.MustCompile(`(?m)^\s*([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4})\s*$`).FindStringSubmatch(text); m != nil {
		code = m[1]
	}
	login = regexp.MustCompile(`rose\.durand\.\d{4}`).FindString(flat)
	page := strings.TrimRight(r.h.URL("/activer"), "/")
	if code == "" || login == "" || !strings.Contains(flat, page) || !strings.Contains(flat, "Rose Durand") || !strings.Contains(flat, "44000 Nantes") {
		t.Fatalf("the letter does not give the code, the login name, the page %s and Rose's address:\n%s", page, text)
	}
	if want := r.app.activationCode(t, p.ID); code != want {
		t.Fatalf("the letter gives the code %q, the outbox holds %q:\n%s", code, want, text)
	}
	return code, login
}
