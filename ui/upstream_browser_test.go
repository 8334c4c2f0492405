package ui_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/relais-fr/relais/authn/upstream/upstreamtest"
	"github.com/relais-fr/relais/ui"
	"github.com/relais-fr/relais/ui/browsertest"
)

// TestFranceConnectPagesInABrowser: the login page with the FranceConnect
// button and the refusals' pages, in chromium at 320 and 1280 px, French
// and English: no axe violation, no sideways scroll, every control reached
// with Tab and its focus visible. The browser follows the whole way (to
// the provider the test plays and back) as a person's would.
func TestFranceConnectPagesInABrowser(t *testing.T) {
	// FranceConnect answers for someone Relais does not know.
	fc := upstreamtest.New(t, "relais")
	unknown := newFranceConnectApp(t, fc, false)
	fc.Set(func(s *upstreamtest.Settings) { s.Claims["given_name"] = "Nina" })
	// FranceConnect is down.
	down := upstreamtest.New(t, "relais")
	downApp := newFranceConnectApp(t, down, false)
	down.Close()

	var unknownPages, downPages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		unknownPages = append(unknownPages,
			browsertest.Page{Name: "franceconnect-no-match", Path: "/connexion/franceconnect?return=%2Fespace", Lang: lang, WantStatus: http.StatusForbidden})
		downPages = append(downPages,
			browsertest.Page{Name: "login-franceconnect", Path: "/login?return=%2Fespace", Lang: lang},
			browsertest.Page{Name: "franceconnect-unavailable", Path: "/connexion/franceconnect?return=%2Fespace", Lang: lang,
				WantStatus: http.StatusServiceUnavailable},
			browsertest.Page{Name: "franceconnect-failed", Path: ui.FranceConnectReturnPath + "?state=made-up", Lang: lang, WantStatus: http.StatusBadRequest})
	}
	// « Comment je me connecte », signed in through FranceConnect.
	linked := newFranceConnectApp(t, upstreamtest.New(t, "relais"), false)
	c := browserClient(t)
	if a := franceConnectReturn(t, linked, c, "/espace"); a.status != http.StatusSeeOther {
		t.Fatalf("login through FranceConnect: %d", a.status)
	}
	u, _ := url.Parse(linked.srv.URL)
	session := map[string]string{}
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "relais_session" {
			session[ck.Name] = ck.Value
		}
	}
	var linkedPages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		linkedPages = append(linkedPages, browsertest.Page{Name: "how-i-log-in", Path: "/espace/connexions", Lang: lang, Cookies: session},
			browsertest.Page{Name: "how-i-log-in-removed", Path: "/espace/connexions?fait=retire", Lang: lang, Cookies: session})
	}
	browsertest.Start(t, linked.handler).Check(t, linkedPages...)

	// ProConnect: both buttons; someone who is not a member; an aidant
	// through FranceConnect sent to ProConnect.
	pw := newProConnectWorld(t)
	pw.pc.Set(func(s *upstreamtest.Settings) {
		s.Claims = map[string]any{"email": pw.c.marie.Email, "siret": castSIRET}
	})
	pw.fc.Set(func(s *upstreamtest.Settings) {
		s.Claims = map[string]any{"given_name": "Sophie", "family_name": "Bernard", "birthdate": "1960-04-02"}
	})
	var proPages []browsertest.Page
	for _, lang := range []string{"fr", "en"} {
		proPages = append(proPages, browsertest.Page{Name: "login-both", Path: "/login?return=%2Fespace", Lang: lang},
			browsertest.Page{Name: "proconnect-not-member", Path: "/connexion/proconnect?return=%2Fespace", Lang: lang, WantStatus: http.StatusForbidden},
			browsertest.Page{Name: "proconnect-required", Path: "/connexion/franceconnect?return=%2Fespace", Lang: lang, WantStatus: http.StatusForbidden})
	}
	browsertest.Start(t, pw.app.handler).Check(t, proPages...)
	browsertest.Start(t, unknown.handler).Check(t, unknownPages...)
	browsertest.Start(t, downApp.handler).Check(t, downPages...)
}
