package conformance

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The rules of representation hold on every path (DESIGN.md §4): a
// measure narrowed by an operator narrows the grants already made under
// it at their next use, and token exchange only narrows. On Relais's demo
// data, through its operator API.

// operatorAPI is the demo operator's browser, logged in, for the
// back-office JSON API (ui/api.go).
type operatorAPI struct {
	tg *target
	b  *Browser
}

func (tg *target) operator(t *testing.T) *operatorAPI {
	t.Helper()
	b := tg.browser(t)
	if err := b.Login(t.Context(), tg.issuer, tg.demoPerson(t, "olivier.roux@demo.example", "")); err != nil {
		t.Fatal(err)
	}
	return &operatorAPI{tg, b}
}

// call sends body as JSON and returns the status and the JSON answer.
func (op *operatorAPI) call(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), method, op.tg.issuer+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := op.b.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]any{}
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// registerTutelle registers a general tutelle of its own for this case:
// Nadia Haddad, whom no other case acts for, with the operator Olivier
// Roux as her tutor, so narrowing it disturbs no other case. It returns
// the representation's id and version.
func (op *operatorAPI) registerTutelle(t *testing.T) (string, any) {
	t.Helper()
	day := func(d time.Time) string { return d.Format("2006-01-02") }
	now := time.Now().UTC()
	status, m := op.call(t, http.MethodPost, "/api/v1/measures", map[string]any{
		"kind": "tutelle", "person_email": "nadia.haddad@demo.example",
		"representatives": []any{map[string]any{"person_email": "olivier.roux@demo.example", "role": "tuteur"}},
		"valid_from":      day(now.AddDate(0, -1, 0)), "valid_until": day(now.AddDate(3, 0, 0)),
		"decision": map[string]any{"jurisdiction": "Tribunal judiciaire de Nantes", "date": day(now.AddDate(0, -1, -7)),
			"reference": "RG conformance " + random()}})
	reps, _ := m["representations"].([]any)
	if status != http.StatusCreated || len(reps) != 1 {
		t.Fatalf("registering a tutelle: %d %v", status, m)
	}
	rep, _ := reps[0].(map[string]any)
	return stringOf(rep["id"]), rep["version"]
}

// detailAreas lists the procedure areas of authorization details that
// allow action.
func detailAreas(details any, action string) []string {
	var out []string
	ds, _ := details.([]any)
	for _, d := range ds {
		m, _ := d.(map[string]any)
		if slices.Contains(stringList(m["actions"]), action) {
			out = append(out, stringList(m["procedure_areas"])...)
		}
	}
	return out
}

// sameSet says whether two lists hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func testNarrowedMeasure(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	op := tg.operator(t)
	repID, version := op.registerTutelle(t)
	details := `[{"type":"public_service_act","actions":["consult","manage","dispose"],"procedure_areas":["social","argent"]}]`
	_, tok := tg.loginAs(t, web, tg.demoPerson(t, "olivier.roux@demo.example", "Nadia"),
		oauth2.SetAuthURLParam("scope", "openid profile offline_access"), oauth2.SetAuthURLParam("authorization_details", details))
	_, at := decodeJWT(t, tok.AccessToken)
	if rep, _ := at["representation"].(map[string]any); rep["id"] != repID || len(stringList(rep["procedure_areas"])) != 10 {
		t.Fatalf("before the change: representation %v, want the new general tutelle", at["representation"])
	}
	if got := detailAreas(at["authorization_details"], "dispose"); !sameSet(got, []string{"social", "argent"}) || tok.RefreshToken == "" {
		t.Fatalf("before the change: dispose in %v (want social and argent), refresh token %t", got, tok.RefreshToken != "")
	}

	// The judge takes argent and the rest away: only social and papiers.
	status, m := op.call(t, http.MethodPatch, "/api/v1/representations/"+repID,
		map[string]any{"version": version, "procedure_areas": []string{"social", "papiers"}, "reason": "jugement qui limite la tutelle"})
	if status != http.StatusOK {
		t.Fatalf("narrowing the measure: %d %v", status, m)
	}
	want := []string{"social", "papiers"}
	check := func(where string, claims map[string]any) {
		t.Helper()
		rep, _ := claims["representation"].(map[string]any)
		if got := stringList(rep["procedure_areas"]); !sameSet(got, want) {
			t.Errorf("%s: representation.procedure_areas %v, want %v", where, got, want)
		}
		if got := detailAreas(claims["authorization_details"], "dispose"); !sameSet(got, []string{"social"}) {
			t.Errorf("%s: dispose allowed in %v by authorization_details, want social only (argent was taken away)", where, got)
		}
	}
	// The access token already issued is read again at each use.
	check("introspection of the token issued before", tg.introspect(t, tok.AccessToken))
	res, body := tg.get(t, tg.endpoint(t, "userinfo_endpoint"), tok.AccessToken)
	var ui map[string]any
	if err := json.Unmarshal(body, &ui); res.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("userinfo: %d %s", res.StatusCode, body)
	}
	rep, _ := ui["representation"].(map[string]any)
	if got := stringList(rep["procedure_areas"]); !sameSet(got, want) {
		t.Errorf("userinfo: representation.procedure_areas %v, want %v", got, want)
	}

	refreshed, err := tg.refresh(t, web, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after the change: %v", err)
	}
	_, at = decodeJWT(t, refreshed.AccessToken)
	check("refreshed access token", at)
	check("refresh response", map[string]any{"representation": at["representation"], "authorization_details": refreshed.Extra("authorization_details")})
	check("introspection of the refreshed token", tg.introspect(t, refreshed.AccessToken))
}

func testExchangeKeepsDetails(t *testing.T, tg *target) {
	ex, api := tg.clients[roleExchanger], tg.clients[roleAPI]
	_, tok := tg.loginAs(t, ex, tg.demoPerson(t, "marie.martin@demo.example", "Jeanne"),
		oauth2.SetAuthURLParam("authorization_details", `[{"type":"public_service_act","actions":["consult"],"procedure_areas":["social"]}]`))
	exchange := func(details string) (*http.Response, map[string]any) {
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {tok.AccessToken},
			"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {api.ID}, "scope": {"openid"}}
		if details != "" {
			form.Set("authorization_details", details)
		}
		return tg.post(t, tg.endpoint(t, "token_endpoint"), ex, form)
	}
	res, m := exchange("")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("token exchange: %d %v", res.StatusCode, m)
	}
	_, after := decodeJWT(t, stringOf(m["access_token"]))
	for where, details := range map[string]any{"exchange response": m["authorization_details"], "exchanged token": after["authorization_details"],
		"introspection of the exchanged token by its API": tg.introspectAs(t, api, stringOf(m["access_token"]))["authorization_details"]} {
		if got := detailAreas(details, "consult"); !sameSet(got, []string{"social"}) || len(detailAreas(details, "manage")) > 0 {
			t.Errorf("%s: authorization_details %v, want the subject token's: consult in social only", where, details)
		}
	}
	res, m = exchange(`[{"type":"public_service_act","actions":["consult","manage"],"procedure_areas":["social"]}]`)
	wantError(t, "an exchange asking for more than the subject token's details", res, m, http.StatusBadRequest, "invalid_authorization_details")
}
