package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-fr/relais/accounts"
	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/notices"
	"github.com/relais-fr/relais/notices/prefs"
	"github.com/relais-fr/relais/storage/sqlite"
)

// resetBox holds what the tests of the recovery need: the key that opens
// the codes in the notices, and the recovery's clock, which tests move
// forward (safely while the server serves).
type resetBox struct {
	sealer notices.Sealer
	later  atomic.Int64
}

func (b *resetBox) now() time.Time { return time.Now().Add(time.Duration(b.later.Load())) }

// notifier is the notices' sink around the journal, as relais serve has
// it: a new password and a removed second factor write their letter with
// the entry.
func (a *oidcApp) notifier(st *sqlite.Store) *notices.Notifier {
	return &notices.Notifier{Sink: a.journal, Store: st, Reader: st, Channels: prefs.Lookup{Store: st}}
}

// recovery is « Mot de passe oublié » as relais serve builds it: codes
// sealed in their notices with a key of their own, through the person's
// channel, hashed in the logins' pool.
func (a *oidcApp) recovery(st *sqlite.Store, box *keyring.SecretBox, auth *authn.Authenticator) *accounts.Recovery {
	a.reset = &resetBox{sealer: box.Derive("notice codes")}
	codes := authn.NewAccountCodes(st, st, authn.CodeLimits{}, a.reset.now)
	codeNotices := &notices.CodeNotices{Store: st, Reader: st, Channels: prefs.Lookup{Store: st}, Sealer: a.reset.sealer, Now: a.reset.now}
	return accounts.NewRecovery(st, codes, codeNotices, a.notifier(st), auth.HashPool(), accounts.RecoveryLimits{}, a.reset.now)
}

// resetNotice is the person's newest notice of kind.
func (a *oidcApp) resetNotice(t *testing.T, personID string, kind mandates.EventType) notices.Notice {
	t.Helper()
	list, err := a.store.NoticesOf(t.Context(), personID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		if n.Kind == kind {
			return n
		}
	}
	t.Fatalf("no notice %s for %s", kind, personID)
	return notices.Notice{}
}

// resetCode is the code of the person's newest reset notice, read as the
// words will: opened with the deployment's key.
func (a *oidcApp) resetCode(t *testing.T, personID string) string {
	t.Helper()
	code, _, err := notices.OpenCode(a.reset.sealer, a.resetNotice(t, personID, mandates.EventPasswordResetRequested))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (a *oidcApp) countNotices(t *testing.T, personID string) int {
	t.Helper()
	list, err := a.store.NoticesOf(t.Context(), personID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

const recoveredPassword = "une phrase que je retiens"

func TestTheLoginPageOffersForgotPassword(t *testing.T) {
	app := newOIDCApp(t)
	a := getPage(t, app, browserClient(t), "/login")
	if !a.has(`href="/mot-de-passe-oublie"`) || !a.has("Mot de passe oublié ?") {
		t.Errorf("the login page has no « Mot de passe oublié ? » link:\n%s", between(a.body, "<main", "</main>"))
	}
}

func TestForgotPasswordAnswersTheSameWhateverIsTyped(t *testing.T) {
	app := newOIDCApp(t)
	ask := func(email string) answer {
		return postForm(t, app, browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {email}})
	}
	known, unknown := ask(testEmail), ask("personne@example.fr")
	if known.status != http.StatusOK || unknown.status != known.status || unknown.body != known.body {
		t.Fatalf("known: %d, unknown: %d; the bodies differ: %v", known.status, unknown.status, unknown.body != known.body)
	}
	if !known.has("Si ce compte existe, nous avons envoyé un code") {
		t.Errorf("the answer does not say a code was sent if an account exists:\n%s", between(known.body, "<main", "</main>"))
	}
	if app.countNotices(t, app.person.ID) != 1 {
		t.Error("no code notice for Jeanne")
	}
	// An empty field is asked for, not answered.
	if a := ask(""); a.status != http.StatusBadRequest || !a.has("Tapez l’adresse e-mail ou l’identifiant de votre compte.") {
		t.Errorf("empty: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	// Three requests for one address an hour, known or not: the fourth is
	// refused alike.
	ask(testEmail)
	ask(testEmail)
	ask("personne@example.fr")
	ask("personne@example.fr")
	k, u := ask(testEmail), ask("personne@example.fr")
	// The form gives back what was typed, and nothing else differs.
	k.body, u.body = strings.ReplaceAll(k.body, testEmail, "…"), strings.ReplaceAll(u.body, "personne@example.fr", "…")
	if k.status != http.StatusTooManyRequests || u.status != k.status || u.body != k.body {
		t.Errorf("the fourth request: known %d, unknown %d, same body %v; want the same 429", k.status, u.status, u.body == k.body)
	}
}

func TestANewPasswordWithTheCodeThenALogin(t *testing.T) {
	app := newOIDCApp(t)
	other := signedIn(t, app, app.person)
	postForm(t, app, browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {testEmail}})
	code := app.resetCode(t, app.person.ID)
	n := app.resetNotice(t, app.person.ID, mandates.EventPasswordResetRequested)
	if n.Channel != notices.Paper {
		t.Errorf("Jeanne chose nothing: the code goes by %s, want a letter", n.Channel)
	}
	cl := browserClient(t)
	if a := getPage(t, app, cl, "/nouveau-mot-de-passe"); a.status != http.StatusOK || !a.has(`name="code"`) {
		t.Fatalf("the code's page: %d", a.status)
	}
	form := func(code, password, again string) url.Values {
		return url.Values{"code": {code}, "password": {password}, "again": {again}}
	}
	for _, tt := range []struct {
		name       string
		form       url.Values
		status     int
		want, none string
	}{
		{"nothing typed", form("", "", ""), http.StatusBadRequest, "Tapez le code reçu par lettre, par e-mail ou par SMS.", ""},
		{"a short password", form(code, "court", "court"), http.StatusBadRequest, "Le mot de passe est trop court. Tapez au moins 12 caractères.", ""},
		{"two passwords", form(code, recoveredPassword, "autre chose ici"), http.StatusBadRequest, "Les deux mots de passe ne sont pas pareils.", ""},
		{"a wrong code", form("ABCD-EFGH-JKMN", recoveredPassword, recoveredPassword), http.StatusBadRequest, "Ce code ne marche pas.", `name="password"`},
	} {
		a := postForm(t, app, cl, "/nouveau-mot-de-passe", tt.form)
		if a.status != tt.status || !a.has(tt.want) || tt.none != "" && a.has(tt.none) {
			t.Errorf("%s: %d\n%s", tt.name, a.status, between(a.body, "<main", "</main>"))
		}
	}
	a := postForm(t, app, cl, "/nouveau-mot-de-passe", form(strings.ToLower(code), recoveredPassword, recoveredPassword))
	if a.status != http.StatusOK || !a.has("Votre mot de passe est changé") {
		t.Fatalf("the right code: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	// Jeanne's other session ended; the letter tells her.
	if s := getPage(t, app, other, "/espace"); s.status != http.StatusSeeOther || !strings.HasPrefix(s.location, "/login") {
		t.Errorf("Jeanne's other browser after the reset: %d %s, want the login page", s.status, s.location)
	}
	if n := app.resetNotice(t, app.person.ID, mandates.EventPasswordReset); n.Channel != notices.Paper {
		t.Errorf("the reset is told by %s, want a letter", n.Channel)
	}
	// The old password is gone, the new one logs in.
	login := func(password string) int {
		return postForm(t, app, browserClient(t), "/login", url.Values{"email": {testEmail}, "password": {password}, "return": {"/"}}).status
	}
	if got := login(testPassword); got != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", got)
	}
	if got := login(recoveredPassword); got != http.StatusSeeOther {
		t.Errorf("the new password: %d, want 303", got)
	}
	// Journaled in Jeanne's chain: a request by nobody known, then her new
	// password, by code; neither holds the code.
	chain := chainOf(t, app, app.person.ID)
	asked, reset := ofType(chain, mandates.EventPasswordResetRequested), ofType(chain, mandates.EventPasswordReset)
	if len(asked) != 1 || asked[0].ActorID != "" || asked[0].Detail == nil || asked[0].Detail.Fields["channel"] != "paper" {
		t.Errorf("the request journaled: %+v", asked)
	}
	if len(reset) != 1 || reset[0].ActorID != app.person.ID || reset[0].Detail == nil || reset[0].Detail.Fields["by"] != "code" {
		t.Errorf("the reset journaled: %+v", reset)
	}
	for _, e := range append(asked, reset...) {
		for k, v := range e.Detail.Fields {
			if strings.Contains(v, code) {
				t.Errorf("the journal's %s holds the code", k)
			}
		}
	}
	// The code was used once.
	if a := postForm(t, app, cl, "/nouveau-mot-de-passe", form(code, recoveredPassword, recoveredPassword)); a.status != http.StatusBadRequest || !a.has("déjà utilisé") {
		t.Errorf("the code again: %d", a.status)
	}
}

func TestAnExpiredCodeSaysToAskAgain(t *testing.T) {
	app := newOIDCApp(t)
	postForm(t, app, browserClient(t), "/mot-de-passe-oublie", url.Values{"email": {testEmail}})
	code := app.resetCode(t, app.person.ID)
	app.reset.later.Store(int64(16 * 24 * time.Hour))
	a := postForm(t, app, browserClient(t), "/nouveau-mot-de-passe", url.Values{"code": {code}, "password": {recoveredPassword}, "again": {recoveredPassword}})
	if a.status != http.StatusBadRequest || !a.has("Ce code ne marche plus : sa date est passée. Demandez un nouveau code.") || !a.has(`href="/mot-de-passe-oublie"`) {
		t.Errorf("an expired code: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
}

// franceConnectSession signs p in as FranceConnect would, authTime ago.
func franceConnectSession(t *testing.T, app *oidcApp, p mandates.Person, ago time.Duration) *http.Client {
	t.Helper()
	token, id := authn.NewSessionToken()
	at := time.Now().Add(-ago)
	if err := app.store.CreateSession(t.Context(), authn.BrowserSession{ID: id, PersonID: p.ID, AuthTime: at, AMR: []string{"fc"},
		CreatedAt: at, ExpiresAt: at.Add(time.Hour), Upstream: authn.UpstreamFranceConnect, ACR: "eidas1"}); err != nil {
		t.Fatal(err)
	}
	c := browserClient(t)
	u, _ := url.Parse(app.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "relais_session", Value: token, Path: "/"}})
	return c
}

func TestAFreshFranceConnectLoginChoosesANewPassword(t *testing.T) {
	app := newOIDCApp(t)
	fresh, stale, pwd := franceConnectSession(t, app, app.person, 2*time.Minute), franceConnectSession(t, app, app.person, 11*time.Minute),
		signedIn(t, app, app.person)
	if a := getPage(t, app, browserClient(t), "/espace/mot-de-passe"); a.status != http.StatusSeeOther {
		t.Errorf("signed out: %d, want the login page", a.status)
	}
	for name, cl := range map[string]*http.Client{"eleven minutes after": stale, "a password login": pwd} {
		a := getPage(t, app, cl, "/espace/mot-de-passe")
		if a.status != http.StatusOK || a.has(`name="password"`) || !a.has(`href="/connexion/franceconnect?return=%2Fespace%2Fmot-de-passe"`) {
			t.Errorf("%s: %d; want no form and the way to FranceConnect\n%s", name, a.status, between(a.body, "<main", "</main>"))
		}
		if a := postForm(t, app, cl, "/espace/mot-de-passe", url.Values{"password": {recoveredPassword}, "again": {recoveredPassword}}); a.status != http.StatusForbidden {
			t.Errorf("%s, sent anyway: %d, want 403", name, a.status)
		}
	}
	if a := getPage(t, app, fresh, "/espace/mot-de-passe"); a.status != http.StatusOK || !a.has(`name="password"`) || a.has(`name="code"`) {
		t.Fatalf("two minutes after: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	if a := postForm(t, app, fresh, "/espace/mot-de-passe", url.Values{"password": {"court"}, "again": {"court"}}); a.status != http.StatusBadRequest {
		t.Errorf("a short password: %d", a.status)
	}
	a := postForm(t, app, fresh, "/espace/mot-de-passe", url.Values{"password": {recoveredPassword}, "again": {recoveredPassword}})
	if a.status != http.StatusOK || !a.has("Votre mot de passe est changé") {
		t.Fatalf("the new password: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	if s := getPage(t, app, fresh, "/espace"); s.status != http.StatusOK {
		t.Errorf("the FranceConnect session after: %d, want it kept", s.status)
	}
	if s := getPage(t, app, pwd, "/espace"); s.status != http.StatusSeeOther {
		t.Errorf("the other session after: %d, want it ended", s.status)
	}
	if got := postForm(t, app, browserClient(t), "/login", url.Values{"email": {testEmail}, "password": {recoveredPassword}, "return": {"/"}}); got.status != http.StatusSeeOther {
		t.Errorf("the new password logs in: %d", got.status)
	}
}

func TestAnOperatorRemovesALostSecondFactorAtTheDesk(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	app.enrolTOTPOf(t, c.jeanne.ID)
	path := "/operateur/personnes/" + c.jeanne.ID + "/code-de-securite"
	op, opOTP := signedIn(t, app, c.operator), signedIn(t, app, c.operator, "pwd", "otp")
	app.enrolTOTPOf(t, c.operator.ID)
	checked := url.Values{"identity_checked": {"oui"}, "document": {"passport"}}
	on := func() bool {
		ok, err := app.totp.Active(t.Context(), c.jeanne.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if a := getPage(t, app, signedIn(t, app, c.marie), path); a.status != http.StatusNotFound {
		t.Errorf("not an operator: %d, want 404", a.status)
	}
	if a := getPage(t, app, op, "/operateur/personnes/"+c.jeanne.ID+"/courriers"); !a.has(`href="` + path + `"`) {
		t.Errorf("the person's notices page does not link to the second factor's")
	}
	if a := getPage(t, app, opOTP, path); a.status != http.StatusOK || !a.has("J’ai vérifié une pièce d’identité") {
		t.Fatalf("the operator's page: %d\n%s", a.status, between(a.body, "<main", "</main>"))
	}
	if a := postForm(t, app, op, path, checked); a.status != http.StatusForbidden || !on() {
		t.Errorf("an operator logged in with a password alone: %d, want the second-factor page and nothing removed", a.status)
	}
	for name, form := range map[string]url.Values{
		"not ticked":      {"document": {"passport"}},
		"no document":     {"identity_checked": {"oui"}},
		"a made-up paper": {"identity_checked": {"oui"}, "document": {"carte de bibliothèque"}},
	} {
		if a := postForm(t, app, opOTP, path, form); a.status != http.StatusBadRequest || !a.has("Le code de sécurité n’est pas retiré") || !on() {
			t.Errorf("%s: %d\n%s", name, a.status, between(a.body, "<main", "</main>"))
		}
	}
	a := postForm(t, app, opOTP, path, checked)
	if a.status != http.StatusSeeOther || a.location != path+"?fait=retire" || on() {
		t.Fatalf("checked: %d %s, second factor on: %v", a.status, a.location, on())
	}
	if n := app.resetNotice(t, c.jeanne.ID, mandates.EventSecondFactorReset); n.Channel != notices.Paper || n.Data["actor_id"] != c.operator.ID {
		t.Errorf("the notice: %+v; want a letter naming the operator", n)
	}
	if a := getPage(t, app, opOTP, "/operateur/personnes/"+c.jeanne.ID+"/courriers"); !a.has("Un code de sécurité retiré au guichet") {
		t.Errorf("the person's notices do not name the letter about the reset")
	}
	if a := getPage(t, app, opOTP, path+"?fait=retire"); !a.has("Le code de sécurité de Jeanne Petit est retiré.") {
		t.Errorf("done: %s", between(a.body, "<main", "</main>"))
	}
	if a := postForm(t, app, opOTP, path, checked); a.status != http.StatusConflict || !a.has("n’a pas de code de sécurité") {
		t.Errorf("again: %d", a.status)
	}
}

func TestTheSecondFactorResetAPI(t *testing.T) {
	app := newOIDCApp(t)
	c := newCast(t, app)
	app.enrolTOTPOf(t, c.jeanne.ID)
	call := func(cl *http.Client, personID, body string) (int, map[string]string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, app.srv.URL+"/api/v1/persons/"+personID+"/second-factor/reset", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]string
		if err := json.Unmarshal([]byte(readBody(t, res)), &out); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		return res.StatusCode, out
	}
	opOTP := signedIn(t, app, c.operator, "pwd", "otp")
	good := `{"identity_checked": true, "document": "id_card"}`
	for _, tt := range []struct {
		name   string
		cl     *http.Client
		person string
		body   string
		status int
		code   string
	}{
		{"signed out", browserClient(t), c.jeanne.ID, good, http.StatusUnauthorized, "login_required"},
		{"not an operator", signedIn(t, app, c.marie, "pwd", "otp"), c.jeanne.ID, good, http.StatusForbidden, "access_denied"},
		{"without the operator's second factor", signedIn(t, app, c.operator), c.jeanne.ID, good, http.StatusForbidden, "second_factor_required"},
		{"not checked", opOTP, c.jeanne.ID, `{"document": "id_card"}`, http.StatusBadRequest, "invalid_request"},
		{"an unknown document", opOTP, c.jeanne.ID, `{"identity_checked": true, "document": "badge"}`, http.StatusBadRequest, "invalid_request"},
		{"an unknown field", opOTP, c.jeanne.ID, `{"identity_checked": true, "document": "id_card", "number": "123"}`, http.StatusBadRequest, "invalid_request"},
		{"not JSON", opOTP, c.jeanne.ID, `oui`, http.StatusBadRequest, "invalid_request"},
		{"an unknown person", opOTP, mandates.NewID(time.Now()), good, http.StatusNotFound, "not_found"},
		{"the operator themselves", opOTP, c.operator.ID, good, http.StatusBadRequest, "invalid_request"},
		{"a person without one", opOTP, c.karim.ID, good, http.StatusConflict, "second_factor_not_enrolled"},
		{"checked", opOTP, c.jeanne.ID, good, http.StatusOK, ""},
		{"again", opOTP, c.jeanne.ID, good, http.StatusConflict, "second_factor_not_enrolled"},
	} {
		status, out := call(tt.cl, tt.person, tt.body)
		if status != tt.status || out["error"] != tt.code {
			t.Errorf("%s: %d %v; want %d %q", tt.name, status, out, tt.status, tt.code)
		}
	}
}
