package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/storage/sqlite"
	"github.com/relais-fr/relais/ui"
)

// accounts wires the desk and /activer as relais serve does: the codes'
// notices go through the person's channel, sealed by a key of their own.
func (a *oidcApp) accounts(st *sqlite.Store, auth *authn.Authenticator, box *keyring.SecretBox) *ui.Accounts {
	a.letterCodes = box.Derive("notice codes")
	codes := authn.NewAccountCodes(st, st, authn.CodeLimits{}, time.Now)
	cn := &notices.CodeNotices{Store: st, Reader: st, Sealer: a.letterCodes, Now: time.Now}
	events := &notices.Notifier{Sink: a.journal, Store: st, Reader: st}
	a.accountsUI = &ui.Accounts{
		Desk: &accounts.Desk{Service: a.service, Tx: st, Events: events, Codes: codes, Notices: cn, Names: st, Persons: st},
		Activation: &accounts.Activation{Service: a.service, Tx: st, Events: events, Codes: codes, Notices: cn, Auth: auth,
			Persons: st, Names: st, Attempts: st, Links: st, Now: time.Now},
	}
	return a.accountsUI
}

// activationCode is the code of the person's latest activation letter.
func (a *oidcApp) activationCode(t *testing.T, personID string) string {
	t.Helper()
	list, err := a.store.NoticesOf(t.Context(), personID, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list { // newest first
		if n.Kind == mandates.EventActivationSent {
			code, _, err := notices.OpenCode(a.letterCodes, n)
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
	}
	t.Fatalf("no activation letter for %s", personID)
	return ""
}

// roseForm is the « Ouvrir un compte » form for Rose Durand, who has no
// email.
// opensRose has the operator op open Rose's account and returns its id.
func opensRose(t *testing.T, op *boUser) string {
	t.Helper()
	_, _, h := op.do(http.MethodPost, "/operateur/personnes/nouvelle", roseForm())
	m := personPathRe.FindStringSubmatch(h.Get("Location"))
	if m == nil {
		t.Fatalf("opening Rose's account went to %q", h.Get("Location"))
	}
	return m[1]
}

func roseForm() url.Values {
	return url.Values{"identity_checked": {"oui"}, "given_names": {"Rose Marie"}, "family_name": {"Durand"}, "gender": {"female"},
		"birth_date": {"1944-05-02"}, "birth_place": {"Nantes"}, "birth_place_code": {"44109"},
		"address_street": {"3 rue des Lilas"}, "address_postal_code": {"44000"}, "address_locality": {"Nantes"}, "language": {"fr"}}
}

var personPathRe = regexp.MustCompile(`^/operateur/personnes/([0-9a-f-]{36})\?fait=ouvert$`)

func TestAnOperatorOpensAnAccountAtTheDesk(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)

	code, page, _ := op.do(http.MethodGet, "/operateur/personnes/nouvelle", nil)
	if code != http.StatusOK || !strings.Contains(page, "J’ai vérifié une pièce d’identité") {
		t.Fatalf("the form: %d\n%.1500s", code, page)
	}
	// Each missing piece is said on its field, and nothing is opened.
	for field, input := range map[string]string{"identity_checked": "identity_checked", "address_street": "address_street",
		"gender": "gender-female", "birth_date": "birth_date"} {
		f := withForm(roseForm(), field, "")
		if field == "birth_date" {
			f.Set(field, "2 mai 1944")
		}
		code, page, _ := op.do(http.MethodPost, "/operateur/personnes/nouvelle", f)
		if code != http.StatusBadRequest || !invalidInput(page, input) || !strings.Contains(page, `href="#`+input+`"`) {
			t.Errorf("without %s: %d, the input %s not marked\n%.3000s", field, code, input, page)
		}
	}
	code, _, h := op.do(http.MethodPost, "/operateur/personnes/nouvelle", roseForm())
	m := personPathRe.FindStringSubmatch(h.Get("Location"))
	if code != http.StatusSeeOther || m == nil {
		t.Fatalf("open: %d to %q", code, h.Get("Location"))
	}
	rose := m[1]
	code, page, _ = op.do(http.MethodGet, h.Get("Location"), nil)
	if code != http.StatusOK || !strings.Contains(page, "La lettre d’activation part aujourd’hui") || !strings.Contains(page, "rose.durand.") ||
		!strings.Contains(page, "Envoyer une nouvelle lettre d’activation") {
		t.Errorf("the person's page: %d\n%.3000s", code, page)
	}

	// The same identity again: refused, the existing account named, and
	// a homonym's box offered; ticked, a second account is opened.
	code, page, _ = op.do(http.MethodPost, "/operateur/personnes/nouvelle", withForm(roseForm(), "given_names", "ROSE-MARIE"))
	if code != http.StatusBadRequest || !strings.Contains(page, `href="/operateur/personnes/`+rose+`"`) || !strings.Contains(page, `id="homonym"`) {
		t.Errorf("the same identity: %d\n%.3000s", code, page)
	}
	code, _, h = op.do(http.MethodPost, "/operateur/personnes/nouvelle", withForm(roseForm(), "homonym", "oui"))
	if code != http.StatusSeeOther || personPathRe.FindStringSubmatch(h.Get("Location")) == nil {
		t.Errorf("a homonym the operator checked: %d to %q", code, h.Get("Location"))
	}

	if code, page, _ := op.do(http.MethodGet, "/operateur/personnes/"+rose+"/courriers", nil); code != http.StatusOK || !strings.Contains(page, "La lettre pour activer le compte") {
		t.Errorf("her letters: %d\n%.3000s", code, page)
	}

	// The operators' list finds her by a part of her name.
	code, page, _ = op.do(http.MethodGet, "/operateur/personnes?nom=MARIE+dur", nil)
	if code != http.StatusOK || !strings.Contains(page, `href="/operateur/personnes/`+rose+`"`) {
		t.Errorf("the list: %d\n%.3000s", code, page)
	}

	// A new letter voids the old code.
	old := app.activationCode(t, rose)
	code, _, h = op.do(http.MethodPost, "/operateur/personnes/"+rose+"/lettre-activation", url.Values{})
	if code != http.StatusSeeOther || h.Get("Location") != "/operateur/personnes/"+rose+"?fait=lettre" {
		t.Fatalf("a new letter: %d to %q", code, h.Get("Location"))
	}
	if app.activationCode(t, rose) == old {
		t.Error("the new letter has the old code")
	}

	// Nobody else sees these pages.
	for _, who := range []*mandates.Person{&c.marie, nil} {
		u := boAs(t, app, who)
		for _, path := range []string{"/operateur/personnes", "/operateur/personnes/nouvelle", "/operateur/personnes/" + rose} {
			if code, _, h := u.do(http.MethodGet, path, nil); code != http.StatusNotFound && !(who == nil && code == http.StatusSeeOther && strings.HasPrefix(h.Get("Location"), "/login")) {
				t.Errorf("%s for %v: %d", path, who, code)
			}
		}
		if code, _, _ := u.do(http.MethodPost, "/operateur/personnes/"+rose+"/lettre-activation", url.Values{}); code == http.StatusSeeOther && who != nil {
			t.Errorf("a new letter sent by %s", who.GivenNames)
		}
	}
}

func TestAnAidantOpensAnAccountWithTheirSecondFactor(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	without := boAs(t, app, &c.aidant)
	if code, page, _ := without.do(http.MethodGet, "/aidant/comptes/nouveau", nil); code != http.StatusForbidden || !strings.Contains(page, "Il faut un code en plus du mot de passe") {
		t.Errorf("an aidant without the second factor: %d\n%.1000s", code, page)
	}
	aidant := boAs(t, app, nil)
	u, _ := url.Parse(app.srv.URL)
	for k, v := range sessionFor(t, app, c.aidant, "pwd", "otp") {
		aidant.c.Jar.SetCookies(u, []*http.Cookie{{Name: k, Value: v, Path: "/"}})
	}
	code, page, _ := aidant.do(http.MethodPost, "/aidant/comptes/nouveau", withForm(roseForm(), "homonym", "oui"))
	if code != http.StatusCreated || !strings.Contains(page, "Le compte de Rose Durand est ouvert") || !strings.Contains(page, "rose.durand.") {
		t.Fatalf("opened by the aidant: %d\n%.2000s", code, page)
	}
	code, page, _ = aidant.do(http.MethodPost, "/aidant/comptes/nouveau", roseForm())
	if code != http.StatusBadRequest || !strings.Contains(page, "Elle n’a pas besoin d’un second compte") || strings.Contains(page, `id="homonym"`) {
		t.Errorf("the same person by an aidant: %d\n%.2000s", code, page)
	}
	if code, _, _ := boAs(t, app, &c.marie).do(http.MethodGet, "/aidant/comptes/nouveau", nil); code != http.StatusForbidden && code != http.StatusNotFound {
		t.Errorf("someone who is not an aidant: %d", code)
	}
}

func TestThePersonActivatesTheirAccountAndLogsInWithTheirLoginName(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	rose := opensRose(t, op)
	code := app.activationCode(t, rose)

	visitor := boAs(t, app, nil)
	if status, page, _ := visitor.do(http.MethodGet, "/activer", nil); status != http.StatusOK || !strings.Contains(page, "Je n’ai pas de code") || strings.Contains(page, "FranceConnect") {
		t.Errorf("/activer: %d\n%.1500s", status, page)
	}
	app.accountsUI.ActivationFranceConnect = "/connexion/franceconnect?activer=1"
	if status, page, _ := visitor.do(http.MethodGet, "/activer", nil); status != http.StatusOK || !strings.Contains(page, `href="/connexion/franceconnect?activer=1"`) {
		t.Errorf("/activer with FranceConnect: %d\n%.1500s", status, page)
	}
	form := url.Values{"code": {code}, "password": {"un bon mot de passe"}, "password_again": {"un autre mot de passe"}}
	if status, page, _ := visitor.do(http.MethodPost, "/activer", form); status != http.StatusBadRequest || !invalidInput(page, "password_again") {
		t.Errorf("two different passwords: %d\n%.1500s", status, page)
	}
	if status, page, _ := visitor.do(http.MethodPost, "/activer", withForm(form, "code", "AAAA-BBBB-CCCC", "password_again", "un bon mot de passe")); status != http.StatusBadRequest || !invalidInput(page, "code") {
		t.Errorf("a wrong code: %d\n%.1500s", status, page)
	}
	status, page, _ := visitor.do(http.MethodPost, "/activer", withForm(form, "code", strings.ToLower(code), "password_again", "un bon mot de passe"))
	login := regexp.MustCompile(`rose\.durand\.\d{4}`).FindString(page)
	if status != http.StatusOK || !strings.Contains(page, "Votre compte est activé") || login == "" {
		t.Fatalf("activated: %d\n%.1500s", status, page)
	}
	if status, page, _ := visitor.do(http.MethodPost, "/activer", withForm(form, "password_again", "un bon mot de passe")); status != http.StatusBadRequest || !invalidInput(page, "code") {
		t.Errorf("the code used twice: %d\n%.1500s", status, page)
	}
	status, _, h := visitor.do(http.MethodPost, "/login", url.Values{"email": {login}, "password": {"un bon mot de passe"}, "return": {"/espace"}})
	if status != http.StatusSeeOther || h.Get("Location") != "/espace" {
		t.Errorf("login with the login name: %d to %q", status, h.Get("Location"))
	}
	if status, page, _ := op.do(http.MethodPost, "/operateur/personnes/"+rose+"/lettre-activation", url.Values{}); status != http.StatusConflict || !strings.Contains(page, "déjà activé") {
		t.Errorf("a new letter after activation: %d\n%.1500s", status, page)
	}
}

func TestAskingForANewLetterAnswersTheSame(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	_, _, h := boAs(t, app, &c.operator).do(http.MethodPost, "/operateur/personnes/nouvelle", roseForm())
	rose := personPathRe.FindStringSubmatch(h.Get("Location"))[1]
	name, err := app.store.LoginName(t.Context(), rose)
	if err != nil {
		t.Fatal(err)
	}
	old := app.activationCode(t, rose)
	visitor := boAs(t, app, nil)
	var pages []string
	for _, login := range []string{"personne.inconnue.1234", c.marie.Email, name} {
		status, page, _ := visitor.do(http.MethodPost, "/activer/sans-code", url.Values{"login": {login}})
		if status != http.StatusOK {
			t.Errorf("%s: %d", login, status)
		}
		pages = append(pages, page)
	}
	if pages[0] != pages[1] || pages[1] != pages[2] || !strings.Contains(pages[0], "une nouvelle lettre part aujourd’hui") {
		t.Errorf("the answers differ, or say nothing:\n%.1500s", pages[0])
	}
	if app.activationCode(t, rose) == old {
		t.Error("Rose got no new letter")
	}
	if status, page, _ := visitor.do(http.MethodPost, "/activer/sans-code", url.Values{"login": {" "}}); status != http.StatusBadRequest || !invalidInput(page, "login") {
		t.Errorf("an empty field: %d", status)
	}
}

func TestTheTutorActivatesTheAccountForThePerson(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	rose := opensRose(t, op)
	now := time.Now().UTC()
	if _, err := app.service.RegisterMeasure(t.Context(), mandates.Actor{PersonID: c.operator.ID}, mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: rose,
		Representatives: []mandates.RepresentativeInput{{PersonID: c.marie.ID, Role: mandates.RoleTuteur}},
		ValidFrom:       now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Nantes", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00077"}}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"code": {app.activationCode(t, rose)}, "password": {"un bon mot de passe"}, "password_again": {"un bon mot de passe"}}
	if status, page, _ := boAs(t, app, &c.karim).do(http.MethodPost, "/activer", form); status != http.StatusBadRequest || !invalidInput(page, "code") {
		t.Errorf("someone who is not her tutor: %d\n%.1500s", status, page)
	}
	status, page, _ := boAs(t, app, &c.marie).do(http.MethodPost, "/activer", form)
	if status != http.StatusOK || !strings.Contains(page, "Le compte de Rose Durand est activé") {
		t.Errorf("her tutor: %d\n%.1500s", status, page)
	}
}

func TestThePersonsAPI(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	body := map[string]any{"identity_checked": true, "given_names": "Rose Marie", "family_name": "Durand", "gender": "female", "birth_date": "1944-05-02",
		"birth_place": map[string]any{"code": "44109", "label": "Nantes"},
		"address":     map[string]any{"street_address": "3 rue des Lilas", "postal_code": "44000", "locality": "Nantes"}}
	code, out := op.api(http.MethodPost, "/api/v1/persons", body)
	person, _ := out["person"].(map[string]any)
	if code != http.StatusCreated || person == nil || person["activated"] != false || !strings.HasPrefix(person["login_name"].(string), "rose.durand.") ||
		out["activation_notice"].(map[string]any)["channel"] != "paper" {
		t.Fatalf("create: %d %v", code, out)
	}
	rose := person["id"].(string)

	refusals := []struct {
		name   string
		as     *mandates.Person
		body   any
		status int
		err    string
	}{
		{"the same identity", &c.operator, body, http.StatusConflict, "already_exists"},
		{"no identity check", &c.operator, with(body, "identity_checked", false), http.StatusBadRequest, "invalid_request"},
		{"no postal code", &c.operator, with(body, "address", map[string]any{"street_address": "3 rue des Lilas", "locality": "Nantes"}), http.StatusBadRequest, "invalid_request"},
		{"a date that is not one", &c.operator, with(body, "birth_date", "02/05/1944"), http.StatusBadRequest, "invalid_request"},
		{"an unknown field", &c.operator, with(body, "nir", "2440544109001"), http.StatusBadRequest, "invalid_request"},
		{"not JSON", &c.operator, "{", http.StatusBadRequest, "invalid_request"},
		{"someone who is not an operator", &c.aidant, with(body, "homonym", true), http.StatusForbidden, "access_denied"},
		{"nobody signed in", nil, body, http.StatusUnauthorized, "login_required"},
	}
	for _, r := range refusals {
		code, out := boAs(t, app, r.as).api(http.MethodPost, "/api/v1/persons", r.body)
		if code != r.status || out["error"] != r.err {
			t.Errorf("%s: %d %v, want %d %s", r.name, code, out, r.status, r.err)
		}
	}
	_, out = op.api(http.MethodPost, "/api/v1/persons", body)
	if ids, _ := out["existing_ids"].([]any); len(ids) != 1 || ids[0] != rose {
		t.Errorf("the same identity names %v, want %s", out["existing_ids"], rose)
	}
	if code, out := op.api(http.MethodPost, "/api/v1/persons", with(body, "homonym", true)); code != http.StatusCreated {
		t.Errorf("a homonym: %d %v", code, out)
	}

	code, out = op.api(http.MethodGet, "/api/v1/persons?name=durand&limit=1", nil)
	list, _ := out["persons"].([]any)
	if code != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["id"] != rose || out["next"] != rose {
		t.Errorf("list: %d %v", code, out)
	}
	code, out = op.api(http.MethodGet, "/api/v1/persons?name=durand&after="+rose, nil)
	if list, _ := out["persons"].([]any); code != http.StatusOK || len(list) != 1 || out["next"] != "" {
		t.Errorf("second page: %d %v", code, out)
	}
	if code, out := op.api(http.MethodGet, "/api/v1/persons?limit=lots", nil); code != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Errorf("a bad limit: %d %v", code, out)
	}
	code, out = op.api(http.MethodGet, "/api/v1/persons/"+rose, nil)
	if code != http.StatusOK || out["family_name"] != "Durand" || out["address"].(map[string]any)["postal_code"] != "44000" {
		t.Errorf("one: %d %v", code, out)
	}
	for _, who := range []*mandates.Person{&c.aidant, &c.marie} {
		if code, out := boAs(t, app, who).api(http.MethodGet, "/api/v1/persons", nil); code != http.StatusForbidden || out["error"] != "access_denied" {
			t.Errorf("list by %s: %d %v", who.GivenNames, code, out)
		}
	}
	if code, out := op.api(http.MethodGet, "/api/v1/persons/"+mandates.NewID(time.Now()), nil); code != http.StatusNotFound || out["error"] != "not_found" {
		t.Errorf("an unknown person: %d %v", code, out)
	}
}

// A letter's code typed after the account got a password another way:
// a plain page that says so and where to sign in, not an error.
func TestAnOldLetterOfAnActiveAccountGetsAPlainPage(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	op := boAs(t, app, &c.operator)
	rose := opensRose(t, op)
	code := app.activationCode(t, rose)
	if _, err := app.store.UpdatePerson(t.Context(), rose, func(p *mandates.Person) error {
		p.PasswordHash = authn.HashPassword("le mot de passe de Rose")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	visitor := boAs(t, app, nil)
	form := url.Values{"code": {code}, "password": {"le mot de passe du voleur"}, "password_again": {"le mot de passe du voleur"}}
	status, page, _ := visitor.do(http.MethodPost, "/activer", form)
	if status != http.StatusConflict || !strings.Contains(page, "Ce compte est déjà activé") || !strings.Contains(page, `href="/mot-de-passe-oublie"`) {
		t.Errorf("an old letter's code: %d\n%.1500s", status, page)
	}
}
