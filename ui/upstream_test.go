package ui_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/relais-fr/relais/authn"
	"github.com/relais-fr/relais/authn/upstream"
	"github.com/relais-fr/relais/authn/upstream/upstreamtest"
	"github.com/relais-fr/relais/locales"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/ui"
)

// newFranceConnectApp is the app with FranceConnect played by fc; its
// Jeanne has the pivot identity fc gives by default.
func newFranceConnectApp(t *testing.T, fc *upstreamtest.Provider, selfSignUp bool) *oidcApp {
	t.Helper()
	fc.Set(func(s *upstreamtest.Settings) {
		s.Claims = map[string]any{"given_name": "Jeanne", "family_name": "LEFEVRE", "birthdate": "1941-03-12"}
	})
	return newOIDCAppWithUpstream(t, nil, func(app *oidcApp) *ui.Upstream {
		c, err := upstream.New(upstream.Config{Name: authn.UpstreamFranceConnect, Issuer: fc.URL, ClientID: "relais", ClientSecret: "s",
			Scopes: []string{"openid"}, ACRValues: "eidas1", SelfSignUp: selfSignUp,
			RedirectURL: app.srv.URL + ui.FranceConnectReturnPath, LogoutReturnURL: app.srv.URL + ui.FranceConnectLogoutPath},
			upstream.Stores{Logins: app.store, Links: app.store, Persons: app.store, Pivots: app.store, Tx: app.store, Events: app.journal})
		if err != nil {
			t.Fatal(err)
		}
		return &ui.Upstream{FranceConnect: c, Contact: ui.Contact{Name: "France Services Nantes", Address: "4 rue de la Maison Neuve; 44000 Nantes",
			Phone: "02 40 41 42 43"}}
	})
}

// franceConnectReturn presses the button in c, follows the provider's
// answer and returns Relais's answer to the way back.
func franceConnectReturn(t *testing.T, app *oidcApp, c *http.Client, ret string) answer {
	t.Helper()
	start := getPage(t, app, c, "/connexion/franceconnect?"+url.Values{"return": {ret}}.Encode())
	if start.status != http.StatusSeeOther {
		return start
	}
	res, err := c.Get(start.location)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back := res.Header.Get("Location")
	if !strings.HasPrefix(back, app.srv.URL+ui.FranceConnectReturnPath) {
		t.Fatalf("the provider sent the browser to %q", back)
	}
	return getPage(t, app, c, strings.TrimPrefix(back, app.srv.URL))
}

func TestLoginPageOffersFranceConnectOnlyWhenConfigured(t *testing.T) {
	without := newOIDCApp(t)
	if p := getPage(t, without, browserClient(t), "/login"); strings.Contains(p.body, "FranceConnect") {
		t.Error("the login page of a deployment without FranceConnect names it")
	}
	app := newFranceConnectApp(t, upstreamtest.New(t, "relais"), false)
	p := getPage(t, app, browserClient(t), "/login?return=%2Fespace")
	if !p.has("S’identifier avec FranceConnect") || !p.has("Qu’est-ce que FranceConnect ?") || !p.has(`href="/connexion/franceconnect?return=%2Fespace"`) ||
		!p.has(`href="https://franceconnect.gouv.fr/"`) || !p.has(`action="/login"`) {
		t.Errorf("the login page lacks the FranceConnect button, its explanation or the password form:\n%s", between(p.body, "<main", "</main>"))
	}
}

// TestFranceConnectLoginCarriesACRAndAMRIntoRelaisTokens: Jeanne found by
// her identité pivot, linked, signed in; the site's ID token says how
// FranceConnect logged her in.
func TestFranceConnectLoginCarriesACRAndAMRIntoRelaisTokens(t *testing.T) {
	fc := upstreamtest.New(t, "relais")
	app := newFranceConnectApp(t, fc, false)
	c := browserClient(t)
	conf := app.conf()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123456", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-123456"))
	res := mustGet(t, c, authURL)
	login, _ := url.Parse(res.Header.Get("Location"))
	ret := login.Query().Get("return")
	back := franceConnectReturn(t, app, c, ret)
	if back.status != http.StatusSeeOther || back.location != ret {
		t.Fatalf("the way back answered %d to %q, want the authorization request: %.500s", back.status, back.location, back.body)
	}
	if links := ofType(chainOf(t, app, app.person.ID), mandates.EventUpstreamLinked); len(links) != 1 {
		t.Errorf("Jeanne's journal has %d login.upstream_linked, want 1", len(links))
	}
	res = mustGet(t, c, app.srv.URL+back.location)
	if res.StatusCode == http.StatusOK {
		// The consent page: accept.
		res, _ = c.PostForm(app.srv.URL+"/consent", url.Values{"request": {strings.TrimPrefix(back.location, "/authorize?")}, "decision": {"accept"}})
		res.Body.Close()
		res = mustGet(t, c, app.srv.URL+res.Header.Get("Location"))
	}
	cb, err := url.Parse(res.Header.Get("Location"))
	if err != nil || cb.Query().Get("code") == "" {
		t.Fatalf("no code: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok, err := conf.Exchange(context.Background(), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	p, err := oidc.NewProvider(t.Context(), app.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: "caf"}).Verify(t.Context(), tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		ACR string   `json:"acr"`
		AMR []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.ACR != "eidas2" || !slices.Contains(claims.AMR, "mfa") || !slices.Contains(claims.AMR, "pwd") {
		t.Errorf("Relais's ID token says acr %q amr %v, want FranceConnect's eidas2 and [pwd mfa]", claims.ACR, claims.AMR)
	}
}

// TestFranceConnectRefusals: each refusal is a plain page that keeps the
// password login, with the right status, and is journaled.
func TestFranceConnectRefusals(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, app *oidcApp, fc *upstreamtest.Provider)
		status  int
		words   []string
		journal func(app *oidcApp) string // the chain the refusal is in
	}{
		{"nobody with the pivot, without self sign-up: where to go", func(t *testing.T, app *oidcApp, fc *upstreamtest.Provider) {
			fc.Set(func(s *upstreamtest.Settings) { s.Claims["given_name"] = "Nina" })
		}, http.StatusForbidden, []string{"Nous n’avons pas trouvé votre compte", "France Services Nantes", "02 40 41 42 43"}, nil},
		{"two persons with the pivot: refused, in each one's journal", func(t *testing.T, app *oidcApp, fc *upstreamtest.Provider) {
			homonym := app.person
			homonym.ID, homonym.Email = mandates.NewID(time.Now()), "jeanne.homonyme@example.fr"
			if err := app.store.CreatePerson(t.Context(), homonym); err != nil {
				t.Fatal(err)
			}
		}, http.StatusConflict, []string{"Plusieurs comptes Relais"}, func(app *oidcApp) string { return app.person.ID }},
		{"a forged ID token", func(t *testing.T, app *oidcApp, fc *upstreamtest.Provider) {
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			fc.Set(func(s *upstreamtest.Settings) { s.SignWith = other })
		}, http.StatusBadRequest, []string{"FranceConnect n’a pas marché"}, nil},
		{"an expired ID token", func(t *testing.T, app *oidcApp, fc *upstreamtest.Provider) {
			fc.Set(func(s *upstreamtest.Settings) {
				s.Tweak = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
			})
		}, http.StatusBadRequest, []string{"Le temps est dépassé"}, nil},
		{"an ID token of another login (nonce)", func(t *testing.T, app *oidcApp, fc *upstreamtest.Provider) {
			fc.Set(func(s *upstreamtest.Settings) { s.Tweak = func(c map[string]any) { c["nonce"] = "another" } })
		}, http.StatusBadRequest, []string{"FranceConnect n’a pas marché"}, nil},
		{"an ID token of another issuer", func(t *testing.T, app *oidcApp, fc *upstreamtest.Provider) {
			fc.Set(func(s *upstreamtest.Settings) {
				s.Tweak = func(c map[string]any) { c["iss"] = "https://attacker.example" }
			})
		}, http.StatusBadRequest, []string{"FranceConnect n’a pas marché"}, nil},
		{"FranceConnect down", func(t *testing.T, app *oidcApp, fc *upstreamtest.Provider) { fc.Close() },
			http.StatusServiceUnavailable, []string{"FranceConnect ne répond pas"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := upstreamtest.New(t, "relais")
			app := newFranceConnectApp(t, fc, false)
			tt.setup(t, app, fc)
			c := browserClient(t)
			a := franceConnectReturn(t, app, c, "/espace")
			if a.status != tt.status || !a.has("data-refusal") || !a.has(`href="/login?return=%2Fespace"`) {
				t.Fatalf("answered %d, want %d with a refusal and the password login:\n%s", a.status, tt.status, between(a.body, "<main", "</main>"))
			}
			for _, w := range tt.words {
				if !a.has(w) {
					t.Errorf("the page does not say %q:\n%s", w, between(a.body, "<main", "</main>"))
				}
			}
			if p := getPage(t, app, c, "/espace"); p.status != http.StatusSeeOther {
				t.Errorf("after the refusal, /espace answered %d: the browser has a session", p.status)
			}
			chain := ""
			if tt.journal != nil {
				chain = tt.journal(app)
			}
			if ev := ofType(chainOf(t, app, orAdmin(chain)), mandates.EventUpstreamRefused); len(ev) != 1 {
				t.Errorf("%d login.upstream_refused in chain %q, want 1", len(ev), orAdmin(chain))
			}
		})
	}
}

func orAdmin(chain string) string {
	if chain == "" {
		return "admin"
	}
	return chain
}

func TestFranceConnectReturnsRefused(t *testing.T) {
	fc := upstreamtest.New(t, "relais")
	app := newFranceConnectApp(t, fc, false)
	t.Run("an unknown state", func(t *testing.T) {
		a := getPage(t, app, browserClient(t), ui.FranceConnectReturnPath+"?state=made-up&code=x")
		if a.status != http.StatusBadRequest || !a.has("data-refusal") || !a.has(`href="/login?return=%2F"`) {
			t.Errorf("answered %d:\n%s", a.status, between(a.body, "<main", "</main>"))
		}
	})
	t.Run("a return replayed", func(t *testing.T) {
		c := browserClient(t)
		start := getPage(t, app, c, "/connexion/franceconnect")
		res := mustGet(t, c, start.location)
		back := strings.TrimPrefix(res.Header.Get("Location"), app.srv.URL)
		if first := getPage(t, app, c, back); first.status != http.StatusSeeOther {
			t.Fatalf("first return: %d", first.status)
		}
		if again := getPage(t, app, c, back); again.status != http.StatusBadRequest || !again.has("data-refusal") {
			t.Errorf("the same return again answered %d, want 400 with a refusal", again.status)
		}
	})
	t.Run("the person stopped at FranceConnect", func(t *testing.T) {
		c := browserClient(t)
		start := getPage(t, app, c, "/connexion/franceconnect")
		u, _ := url.Parse(start.location)
		a := getPage(t, app, c, ui.FranceConnectReturnPath+"?"+url.Values{"state": {u.Query().Get("state")}, "error": {"access_denied"}}.Encode())
		if a.status != http.StatusOK || !a.has("Vous avez quitté FranceConnect") || !a.has("Essayer encore avec FranceConnect") {
			t.Errorf("answered %d:\n%s", a.status, between(a.body, "<main", "</main>"))
		}
	})
}

// TestLogoutGoesThroughFranceConnect: a session opened through
// FranceConnect ends at Relais, then at FranceConnect, then comes back.
func TestLogoutGoesThroughFranceConnect(t *testing.T) {
	fc := upstreamtest.New(t, "relais")
	app := newFranceConnectApp(t, fc, false)
	c := browserClient(t)
	if a := franceConnectReturn(t, app, c, "/espace"); a.status != http.StatusSeeOther {
		t.Fatalf("login: %d", a.status)
	}
	out := postForm(t, app, c, "/logout", url.Values{"request": {""}})
	u, err := url.Parse(out.location)
	if out.status != http.StatusSeeOther || err != nil || !strings.HasPrefix(out.location, fc.URL+"/logout?") || u.Query().Get("id_token_hint") == "" {
		t.Fatalf("logout answered %d to %q, want FranceConnect's logout with id_token_hint", out.status, out.location)
	}
	res := mustGet(t, c, out.location)
	back := strings.TrimPrefix(res.Header.Get("Location"), app.srv.URL)
	if !strings.HasPrefix(back, ui.FranceConnectLogoutPath+"?state=") || fc.LoggedOut() != 1 {
		t.Fatalf("FranceConnect sent the browser to %q (logouts %d)", back, fc.LoggedOut())
	}
	if a := getPage(t, app, c, back); a.status != http.StatusOK {
		t.Errorf("the page after FranceConnect's logout: %d", a.status)
	}
	if a := getPage(t, app, c, "/espace"); a.status != http.StatusSeeOther {
		t.Errorf("after the logout, /espace answered %d: the session is still there", a.status)
	}
}

// franceConnectPlainPages are the pages of the login through FranceConnect
// a person may see, in lang, for TestEveryPageAPersonMaySeeIsInPlainWords:
// the login page with its button, and each refusal.
func franceConnectPlainPages(t *testing.T, lang string) []plainPage {
	t.Helper()
	var pages []plainPage
	keep := func(name string, a answer, want int) {
		t.Helper()
		if a.status != want {
			t.Errorf("%s: %d, want %d", name, a.status, want)
		}
		pages = append(pages, plainPage{name: name, status: a.status, body: a.body, refusals: 1})
	}
	raw := func(app *oidcApp, c *http.Client, path string) answer {
		t.Helper()
		res, err := c.Get(app.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return answer{status: res.StatusCode, body: readBody(t, res), location: res.Header.Get("Location")}
	}
	// refused runs a login whose return is refused, after setup.
	refused := func(name string, want int, setup func(app *oidcApp, fc *upstreamtest.Provider)) {
		t.Helper()
		fc := upstreamtest.New(t, "relais")
		app := newFranceConnectApp(t, fc, false)
		setup(app, fc)
		c := withLang(t, app, browserClient(t), lang)
		start := raw(app, c, "/connexion/franceconnect?return=%2Fespace")
		if start.status != http.StatusSeeOther {
			keep(name, start, want)
			return
		}
		res, err := c.Get(start.location)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		keep(name, raw(app, c, strings.TrimPrefix(res.Header.Get("Location"), app.srv.URL)), want)
	}
	fc := upstreamtest.New(t, "relais")
	app := newFranceConnectApp(t, fc, false)
	login := raw(app, withLang(t, app, browserClient(t), lang), "/login?return=%2Fespace")
	if login.status != http.StatusOK {
		t.Errorf("login with FranceConnect: %d", login.status)
	}
	pages = append(pages, plainPage{name: "login with FranceConnect", status: login.status, body: login.body})
	c := withLang(t, app, browserClient(t), lang)
	start := raw(app, c, "/connexion/franceconnect")
	u, _ := url.Parse(start.location)
	keep("FranceConnect: stopped at FranceConnect", raw(app, c, ui.FranceConnectReturnPath+"?"+url.Values{"state": {u.Query().Get("state")},
		"error": {"access_denied"}}.Encode()), http.StatusOK)
	keep("FranceConnect: an unknown return", raw(app, withLang(t, app, browserClient(t), lang), ui.FranceConnectReturnPath+"?state=x"), http.StatusBadRequest)
	refused("FranceConnect: nobody has the identity", http.StatusForbidden, func(app *oidcApp, fc *upstreamtest.Provider) {
		fc.Set(func(s *upstreamtest.Settings) { s.Claims["given_name"] = "Nina" })
	})
	refused("FranceConnect: two accounts have the identity", http.StatusConflict, func(app *oidcApp, fc *upstreamtest.Provider) {
		homonym := app.person
		homonym.ID, homonym.Email = mandates.NewID(time.Now()), "jeanne.homonyme@example.fr"
		if err := app.store.CreatePerson(t.Context(), homonym); err != nil {
			t.Fatal(err)
		}
	})
	refused("FranceConnect: an expired answer", http.StatusBadRequest, func(app *oidcApp, fc *upstreamtest.Provider) {
		fc.Set(func(s *upstreamtest.Settings) {
			s.Tweak = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
		})
	})
	refused("FranceConnect: down", http.StatusServiceUnavailable, func(app *oidcApp, fc *upstreamtest.Provider) { fc.Close() })

	// « Comment je me connecte »: Jeanne, with her password, then a
	// person whose only way in is FranceConnect.
	jeanne := withLang(t, app, browserClient(t), lang)
	if a := franceConnectReturn(t, app, jeanne, "/espace"); a.status != http.StatusSeeOther {
		t.Fatalf("login through FranceConnect: %d", a.status)
	}
	pages = append(pages, plainPage{name: "how I log in", status: http.StatusOK, body: raw(app, jeanne, "/espace/connexions").body})
	removed := raw(app, jeanne, "/espace/connexions?fait=retire")
	pages = append(pages, plainPage{name: "how I log in, FranceConnect removed", status: removed.status, body: removed.body})
	only := upstreamtest.New(t, "relais")
	onlyApp := newFranceConnectApp(t, only, true)
	only.Set(func(s *upstreamtest.Settings) { s.Claims["given_name"] = "Nina" })
	nina := withLang(t, onlyApp, browserClient(t), lang)
	if a := franceConnectReturn(t, onlyApp, nina, "/espace"); a.status != http.StatusSeeOther {
		t.Fatalf("self sign-up through FranceConnect: %d", a.status)
	}
	pages = append(pages, plainPage{name: "how I log in, FranceConnect only", status: http.StatusOK, body: raw(onlyApp, nina, "/espace/connexions").body})
	res, err := nina.PostForm(onlyApp.srv.URL+"/espace/connexions/franceconnect/retirer", nil)
	if err != nil {
		t.Fatal(err)
	}
	keep("how I log in: the last way in stays", answer{status: res.StatusCode, body: readBody(t, res)}, http.StatusConflict)

	// ProConnect (proconnect_test.go): both buttons, someone who is not a
	// member, and a professional sent to ProConnect.
	pw := newProConnectWorld(t)
	both := raw(pw.app, withLang(t, pw.app, browserClient(t), lang), "/login?return=%2Fespace")
	pages = append(pages, plainPage{name: "login with FranceConnect and ProConnect", status: both.status, body: both.body})
	pw.pc.Set(func(s *upstreamtest.Settings) {
		s.Claims = map[string]any{"email": pw.c.marie.Email, "siret": castSIRET}
	})
	keep("ProConnect: not a member", upstreamReturn(t, pw.app, withLang(t, pw.app, browserClient(t), lang), "proconnect", "/espace"), http.StatusForbidden)
	res, err = withLang(t, pw.app, browserClient(t), lang).PostForm(pw.app.srv.URL+"/login",
		url.Values{"email": {pw.c.operator.Email}, "password": {testPassword}, "return": {"/operateur"}})
	if err != nil {
		t.Fatal(err)
	}
	keep("ProConnect required of the operator", answer{status: res.StatusCode, body: readBody(t, res)}, http.StatusForbidden)
	return pages
}

// TestLoginWaysInMySpace: « Comment je me connecte » lists the password
// and FranceConnect with the day it was linked; FranceConnect is removed
// when a password is left, never when it is the last way in.
func TestLoginWaysInMySpace(t *testing.T) {
	t.Run("Jeanne has a password: FranceConnect may go", func(t *testing.T) {
		fc := upstreamtest.New(t, "relais")
		app := newFranceConnectApp(t, fc, false)
		c := browserClient(t)
		if a := franceConnectReturn(t, app, c, "/espace"); a.status != http.StatusSeeOther {
			t.Fatalf("login: %d", a.status)
		}
		if home := getPage(t, app, c, "/espace"); !home.has(`href="/espace/connexions"`) {
			t.Errorf("« Mon espace » has no link to « Comment je me connecte »")
		}
		p := getPage(t, app, c, "/espace/connexions")
		today := locales.FormatDate(time.Now(), "fr")
		if p.status != http.StatusOK || !p.has("Oui, vous avez un mot de passe.") || !p.has("Vous l’avez relié à Relais le "+today) ||
			!p.has("Retirer FranceConnect") {
			t.Fatalf("the page: %d\n%s", p.status, between(p.body, "<main", "</main>"))
		}
		out := postForm(t, app, c, "/espace/connexions/franceconnect/retirer", nil)
		if out.status != http.StatusSeeOther || out.location != "/espace/connexions?fait=retire" {
			t.Fatalf("removing: %d to %q", out.status, out.location)
		}
		if p := getPage(t, app, c, out.location); !p.has("FranceConnect est retiré.") || !p.has("Vous ne l’avez pas relié à Relais.") {
			t.Errorf("after the removal:\n%s", between(p.body, "<main", "</main>"))
		}
		if ev := ofType(chainOf(t, app, app.person.ID), mandates.EventUpstreamUnlinked); len(ev) != 1 || ev[0].Detail == nil || ev[0].Detail.Fields["provider"] != "franceconnect" {
			t.Errorf("journaled %d login.upstream_unlinked, want 1 for franceconnect", len(ev))
		}
	})
	t.Run("an account opened through FranceConnect: it stays, its last way in", func(t *testing.T) {
		fc := upstreamtest.New(t, "relais")
		app := newFranceConnectApp(t, fc, true)
		fc.Set(func(s *upstreamtest.Settings) { s.Claims["given_name"] = "Nina" })
		c := browserClient(t)
		if a := franceConnectReturn(t, app, c, "/espace"); a.status != http.StatusSeeOther {
			t.Fatalf("login: %d", a.status)
		}
		p := getPage(t, app, c, "/espace/connexions")
		if !p.has("Non, vous n’avez pas de mot de passe.") || p.has("Retirer FranceConnect") || !p.has("votre seule façon") {
			t.Errorf("the page offers to remove the last way in:\n%s", between(p.body, "<main", "</main>"))
		}
		out := postForm(t, app, c, "/espace/connexions/franceconnect/retirer", nil)
		if out.status != http.StatusConflict || !out.has("data-refusal") || !out.has("FranceConnect reste relié") {
			t.Errorf("removing the last way in: %d\n%s", out.status, between(out.body, "<main", "</main>"))
		}
		if p := getPage(t, app, c, "/espace/connexions"); !p.has("Vous l’avez relié à Relais le") {
			t.Error("the link is gone after the refusal")
		}
	})
	t.Run("signed out: the login page", func(t *testing.T) {
		app := newFranceConnectApp(t, upstreamtest.New(t, "relais"), false)
		if p := getPage(t, app, browserClient(t), "/espace/connexions"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/login") {
			t.Errorf("signed out: %d to %q", p.status, p.location)
		}
	})
}

// TestFranceConnectLoginAsksForTheCodeOfAPersonWhoTurnedItOn: FranceConnect
// proves who Jeanne is, not that she holds the phone she tied to her
// account: with her second factor on, the way back leads to the code
// page, as the password does, and no session opens before the code. After
// the right code the session has Relais's "otp" and still knows it came
// through FranceConnect (the logout goes through it).
func TestFranceConnectLoginAsksForTheCodeOfAPersonWhoTurnedItOn(t *testing.T) {
	fc := upstreamtest.New(t, "relais")
	app := newFranceConnectApp(t, fc, false)
	secret, _ := app.enrolTOTP(t)
	c := browserClient(t)
	back := franceConnectReturn(t, app, c, "/espace")
	u, err := url.Parse(back.location)
	if back.status != http.StatusSeeOther || err != nil || u.Path != "/login/code" || u.Query().Get("return") != "/espace" {
		t.Fatalf("the way back answered %d to %q, want the code page", back.status, back.location)
	}
	if a := getPage(t, app, c, "/espace"); a.status != http.StatusSeeOther || !strings.HasPrefix(a.location, "/login?") {
		t.Fatalf("before the code, /espace answered %d to %q: a session opened", a.status, a.location)
	}
	if a := getPage(t, app, c, back.location); a.status != http.StatusOK || !a.has(`autocomplete="one-time-code"`) {
		t.Fatalf("the code page answered %d:\n%.1500s", a.status, a.body)
	}
	res, page := app.codeStep(t, c, "/login/code", totpCode(t, secret, 1), "/espace")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/espace" {
		t.Fatalf("right code: %d to %q\n%.1500s", res.StatusCode, res.Header.Get("Location"), page)
	}
	if a := getPage(t, app, c, "/espace"); a.status != http.StatusOK {
		t.Fatalf("after the code, /espace answered %d", a.status)
	}
	// The session has the second factor: the code page sends it straight
	// back (stepUp asks for the code again of a session without it).
	if a := getPage(t, app, c, "/login/code?return=%2Fespace"); a.status != http.StatusSeeOther || a.location != "/espace" {
		t.Errorf("the code page answered a session after the code %d to %q, want back to /espace", a.status, a.location)
	}
	out := postForm(t, app, c, "/logout", url.Values{"request": {""}})
	lo, err := url.Parse(out.location)
	if out.status != http.StatusSeeOther || err != nil || !strings.HasPrefix(out.location, fc.URL+"/logout?") || lo.Query().Get("id_token_hint") == "" {
		t.Errorf("logout answered %d to %q, want FranceConnect's logout with id_token_hint", out.status, out.location)
	}
}

// TestAnUpstreamOTPIsNotRelaisSecondFactor: FranceConnect's amr "otp" says
// how FranceConnect logged Jeanne in, not that she gave Relais the code of
// the app she tied to her account: her session has no second factor.
func TestAnUpstreamOTPIsNotRelaisSecondFactor(t *testing.T) {
	fc := upstreamtest.New(t, "relais")
	app := newFranceConnectApp(t, fc, false)
	fc.Set(func(s *upstreamtest.Settings) {
		s.Tweak = func(c map[string]any) { c["amr"] = []string{"pwd", "otp"} }
	})
	c := browserClient(t)
	if a := franceConnectReturn(t, app, c, "/espace"); a.status != http.StatusSeeOther || a.location != "/espace" {
		t.Fatalf("login: %d to %q", a.status, a.location)
	}
	// stepUp sends a session with the second factor back to where it was
	// going; one without it, of a person who has none, to the page to
	// turn it on.
	if a := getPage(t, app, c, "/login/code?return=%2Fespace"); a.status != http.StatusSeeOther || a.location != "/compte/double-authentification" {
		t.Errorf("the code page answered %d to %q, want the page to turn the second factor on: the upstream's otp counted as Relais's", a.status, a.location)
	}
}
