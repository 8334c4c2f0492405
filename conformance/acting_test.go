package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// Acting for someone (issue 6): Relais's own rules, checked on its demo
// data. Another issuer has neither, so these cases need the demo.

// demoPerson is a demo account, choosing forWhom on the "for whom?" page.
func (tg *target) demoPerson(t *testing.T, email, forWhom string) Account {
	t.Helper()
	if tg.demo == "" {
		t.Fatal("a case on Relais's demo data ran against another issuer: mark it demo in cases()")
	}
	acc := demoAccount(t, tg.demo, email)
	acc.ForWhom = forWhom
	return acc
}

// loginAs runs a whole code flow for c as acc in a fresh browser.
func (tg *target) loginAs(t *testing.T, c *rp, acc Account, opts ...oauth2.AuthCodeOption) (*flow, *oauth2.Token) {
	t.Helper()
	f := tg.startFlowAs(t, tg.browser(t), c, acc, Accept, opts...)
	if f.code() == "" {
		t.Fatalf("authorization for %s as %s: no code in %v", c.ID, acc.Email, f.callback)
	}
	return f, tg.exchange(t, f)
}

// claimsOfID verifies the ID token and returns its claims.
func (tg *target) claimsOfID(t *testing.T, c *rp, f *flow, tok *oauth2.Token) map[string]any {
	t.Helper()
	var claims map[string]any
	if err := tg.verifyID(t, c, tok, f.nonce).Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func testActingTokens(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	marie := tg.demoPerson(t, "marie.martin@demo.example", "Jeanne")
	f, tok := tg.loginAs(t, web, marie)
	if !f.visit.ForWhomShown {
		t.Error("the tutor was not asked for whom she acts")
	}
	id := tg.claimsOfID(t, web, f, tok)
	_, at := decodeJWT(t, tok.AccessToken)

	// What the same site sees of Jeanne herself, and of Marie acting for
	// herself.
	jf, jtok := tg.loginAs(t, web, tg.demoPerson(t, "jeanne.lefevre@demo.example", ""))
	jeanneSub := tg.claimsOfID(t, web, jf, jtok)["sub"]
	mf, mtok := tg.loginAs(t, web, tg.demoPerson(t, "marie.martin@demo.example", Self))
	marieSub := tg.claimsOfID(t, web, mf, mtok)["sub"]

	for name, claims := range map[string]map[string]any{"ID token": id, "access token": at} {
		if claims["sub"] != jeanneSub {
			t.Errorf("%s: sub %v, want the account's (Jeanne's) %v", name, claims["sub"], jeanneSub)
		}
		act, _ := claims["act"].(map[string]any)
		if act == nil || act["sub"] != marieSub || act["given_name"] == nil || act["family_name"] == nil {
			t.Errorf("%s: act %v, want Marie's sub %v with her names (RFC 8693 §4.1)", name, claims["act"], marieSub)
		}
		rep, _ := claims["representation"].(map[string]any)
		actions, _ := rep["actions"].(map[string]any)
		if rep["kind"] != "tutelle" || rep["role"] != "tuteur" || rep["id"] == nil || actions["consult"] != "allowed" ||
			actions["manage"] != "allowed" || actions["dispose"] != "allowed" || actions["personal"] != "no" {
			t.Errorf("%s: representation %v, want a tutelle's tutor with the default actions", name, claims["representation"])
		}
		if areas := stringList(rep["procedure_areas"]); len(areas) != 10 {
			t.Errorf("%s: a general measure covers every area, got %v", name, areas)
		}
	}
	res, body := tg.get(t, tg.endpoint(t, "userinfo_endpoint"), tok.AccessToken)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"act"`) || !strings.Contains(string(body), `"given_name":"Jeanne`) {
		t.Errorf("userinfo while acting: %d %s, want Jeanne's identity and act", res.StatusCode, body)
	}
}

func testOwnTokenHasNoAct(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	for _, acc := range []Account{tg.demoPerson(t, "jeanne.lefevre@demo.example", ""), tg.demoPerson(t, "marie.martin@demo.example", Self)} {
		f, tok := tg.loginAs(t, web, acc)
		id := tg.claimsOfID(t, web, f, tok)
		_, at := decodeJWT(t, tok.AccessToken)
		for name, claims := range map[string]map[string]any{"ID token": id, "access token": at} {
			if claims["act"] != nil || claims["representation"] != nil {
				t.Errorf("%s acting for themselves: %s has act %v, representation %v", acc.Email, name, claims["act"], claims["representation"])
			}
		}
	}
}

func testActingTokenExchange(t *testing.T, tg *target) {
	ex, api := tg.clients[roleExchanger], tg.clients[roleAPI]
	marie := tg.demoPerson(t, "marie.martin@demo.example", "Jeanne")
	f, tok := tg.loginAs(t, ex, marie)
	before := tg.claimsOfID(t, ex, f, tok)
	res, m := tg.post(t, tg.endpoint(t, "token_endpoint"), ex, url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {tok.AccessToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {api.ID}, "scope": {"openid"}})
	if res.StatusCode != http.StatusOK || m["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" {
		t.Fatalf("token exchange: %d %v", res.StatusCode, m)
	}
	raw, _ := m["access_token"].(string)
	_, after := decodeJWT(t, raw)
	if aud := audience(after["aud"]); len(aud) != 1 || aud[0] != api.ID {
		t.Errorf("aud %v, want only %s", aud, api.ID)
	}
	if after["sub"] == nil || after["sub"] == before["sub"] {
		t.Errorf("sub %v: want Jeanne's sub re-derived for the API's sector, not the site's %v", after["sub"], before["sub"])
	}
	act, _ := after["act"].(map[string]any)
	inner, _ := act["act"].(map[string]any)
	if act["sub"] != ex.ID || inner == nil || inner["given_name"] == nil {
		t.Errorf("act %v: want the calling site acting, with Marie nested in act.act", after["act"])
	}
	if rep, _ := after["representation"].(map[string]any); rep["kind"] != "tutelle" {
		t.Errorf("representation %v, want the tutelle kept", after["representation"])
	}
	if !tg.active(t, tok.AccessToken) {
		t.Error("the subject token is no longer active after the exchange")
	}
	// The exchanged token is not one the site may exchange again towards
	// an audience it was not given.
	res, m = tg.post(t, tg.endpoint(t, "token_endpoint"), ex, url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {tok.AccessToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {tg.clients[roleWeb].ID}})
	wantError(t, "exchange towards an audience not registered", res, m, http.StatusBadRequest, "invalid_target")
	res, m = tg.post(t, tg.endpoint(t, "token_endpoint"), tg.clients[roleFC], url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {tok.AccessToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {api.ID}})
	wantError(t, "exchange by a client without the grant", res, m, http.StatusBadRequest, "unauthorized_client")
}
