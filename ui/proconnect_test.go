package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authn/upstream"
	"github.com/relais-fr/relais/authn/upstream/upstreamtest"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui"
)

const castSIRET = "73282932000074"

// proConnectWorld is the app with FranceConnect (fc) and ProConnect (pc),
// ProConnect required of professionals, and the cast, whose organisation
// has a SIRET.
type proConnectWorld struct {
	app    *oidcApp
	c      *cast
	fc, pc *upstreamtest.Provider
}

func newProConnectWorld(t *testing.T) *proConnectWorld {
	t.Helper()
	w := &proConnectWorld{fc: upstreamtest.New(t, "relais"), pc: upstreamtest.New(t, "relais")}
	w.app = newOIDCAppWithUpstream(t, nil, func(app *oidcApp) *ui.Upstream {
		stores := upstream.Stores{Logins: app.store, Links: app.store, Persons: app.store, Pivots: app.store, Tx: app.store,
			Events: app.journal, Orgs: app.store}
		fc, err := upstream.New(upstream.Config{Name: authn.UpstreamFranceConnect, Issuer: w.fc.URL, ClientID: "relais", ClientSecret: "s",
			Scopes: []string{"openid"}, RedirectURL: app.srv.URL + ui.FranceConnectReturnPath}, stores)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := upstream.New(upstream.Config{Name: authn.UpstreamProConnect, Issuer: w.pc.URL, ClientID: "relais", ClientSecret: "s",
			Scopes: []string{"openid"}, RedirectURL: app.srv.URL + ui.ProConnectReturnPath, LogoutReturnURL: app.srv.URL + ui.ProConnectLogoutPath}, stores)
		if err != nil {
			t.Fatal(err)
		}
		return &ui.Upstream{FranceConnect: fc, ProConnect: pc, RequireProConnect: true}
	})
	w.c = newCast(t, w.app)
	if _, err := w.app.store.UpdateOrganisation(t.Context(), w.c.org.ID, func(o *mandates.Organisation) error {
		o.SIRET = castSIRET
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return w
}

// upstreamReturn presses the button of provider name in c and comes back.
func upstreamReturn(t *testing.T, app *oidcApp, c *http.Client, name, ret string) answer {
	t.Helper()
	start := getPage(t, app, c, "/connexion/"+name+"?"+url.Values{"return": {ret}}.Encode())
	if start.status != http.StatusSeeOther {
		return start
	}
	res := mustGet(t, c, start.location)
	return getPage(t, app, c, strings.TrimPrefix(res.Header.Get("Location"), app.srv.URL))
}

func TestProConnect(t *testing.T) {
	w := newProConnectWorld(t)
	app, c := w.app, w.c
	t.Run("the login page offers FranceConnect and ProConnect", func(t *testing.T) {
		p := getPage(t, app, browserClient(t), "/login?return=%2Fespace")
		if !p.has("S’identifier avec ProConnect") || !p.has("Qu’est-ce que ProConnect ?") || !p.has(`href="/connexion/proconnect?return=%2Fespace"`) ||
			!p.has("S’identifier avec FranceConnect") {
			t.Errorf("the login page:\n%s", between(p.body, "<main", "</main>"))
		}
	})
	t.Run("an aidant of the organisation with that SIRET logs in", func(t *testing.T) {
		w.pc.Set(func(s *upstreamtest.Settings) { s.Claims = map[string]any{"email": c.aidant.Email, "siret": castSIRET} })
		cl := browserClient(t)
		// Her second factor is on: ProConnect leads to the code page, as
		// her password would.
		if a := upstreamReturn(t, app, cl, "proconnect", "/espace"); a.status != http.StatusSeeOther || a.location != "/login/code?return=%2Fespace" {
			t.Fatalf("the return: %d to %q\n%s", a.status, a.location, between(a.body, "<main", "</main>"))
		}
		if res, page := app.codeStep(t, cl, "/login/code", totpCode(t, c.aidantTOTP, 1), "/espace"); res.StatusCode != http.StatusSeeOther ||
			res.Header.Get("Location") != "/espace" {
			t.Fatalf("the code: %d to %q\n%.1500s", res.StatusCode, res.Header.Get("Location"), page)
		}
		if p := getPage(t, app, cl, "/espace"); p.status != http.StatusOK {
			t.Errorf("the aidant's space: %d", p.status)
		}
		ev := ofType(chainOf(t, app, c.aidant.ID), mandates.EventLoginSucceeded)
		if len(ev) == 0 || ev[len(ev)-1].Detail == nil || ev[len(ev)-1].Detail.Fields["method"] != "proconnect" {
			t.Errorf("the aidant's last login is not journaled as proconnect")
		}
	})
	t.Run("someone who is not a member of that organisation is refused", func(t *testing.T) {
		w.pc.Set(func(s *upstreamtest.Settings) { s.Claims = map[string]any{"email": c.marie.Email, "siret": castSIRET} })
		a := upstreamReturn(t, app, browserClient(t), "proconnect", "/espace")
		if a.status != http.StatusForbidden || !a.has("Relais ne vous connaît pas dans cette structure") || !a.has(`href="/login?return=%2Fespace"`) {
			t.Errorf("answered %d\n%s", a.status, between(a.body, "<main", "</main>"))
		}
		if ev := ofType(chainOf(t, app, c.marie.ID), mandates.EventUpstreamRefused); len(ev) != 1 || ev[0].Detail.Fields["reason"] != "not_member" {
			t.Errorf("Marie's journal has %d refusals, want one not_member", len(ev))
		}
	})
	t.Run("ProConnect required: the operator's password sends him to ProConnect", func(t *testing.T) {
		a := postForm(t, app, browserClient(t), "/login", url.Values{"email": {c.operator.Email}, "password": {testPassword}, "return": {"/operateur"}})
		if a.status != http.StatusForbidden || !a.has("Connectez-vous avec ProConnect") || !a.has(`href="/connexion/proconnect?return=%2Foperateur"`) {
			t.Errorf("answered %d to %q\n%s", a.status, a.location, between(a.body, "<main", "</main>"))
		}
	})
	t.Run("ProConnect required: the aidant through FranceConnect is sent to ProConnect", func(t *testing.T) {
		w.fc.Set(func(s *upstreamtest.Settings) {
			s.Claims = map[string]any{"given_name": "Sophie", "family_name": "Bernard", "birthdate": "1960-04-02"}
		})
		cl := browserClient(t)
		a := upstreamReturn(t, app, cl, "franceconnect", "/espace")
		if a.status != http.StatusForbidden || !a.has("Connectez-vous avec ProConnect") {
			t.Errorf("answered %d\n%s", a.status, between(a.body, "<main", "</main>"))
		}
		if p := getPage(t, app, cl, "/espace"); p.status != http.StatusSeeOther {
			t.Errorf("the aidant has a session: /espace answered %d", p.status)
		}
	})
	t.Run("ProConnect required: a person's password still works", func(t *testing.T) {
		a := postForm(t, app, browserClient(t), "/login", url.Values{"email": {c.jeanne.Email}, "password": {testPassword}, "return": {"/espace"}})
		if a.status != http.StatusSeeOther || a.location != "/espace" {
			t.Errorf("answered %d to %q", a.status, a.location)
		}
	})
}
