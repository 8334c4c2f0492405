package conformance

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// The access evaluation endpoint (OpenID AuthZEN 1.0) and co-signatures,
// on Relais's demo data: each demo case's actor and person, as the demo
// site knows them by their subs.

// postJSON posts body as JSON, authenticated as c.
func (tg *target) postJSON(t testing.TB, u string, c *rp, body map[string]any) (*http.Response, map[string]any) {
	t.Helper()
	if c.AuthStyle != oauth2.AuthStyleInHeader {
		body["client_id"], body["client_secret"] = c.ID, c.Secret
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.AuthStyle == oauth2.AuthStyleInHeader {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	res, raw := tg.do(t, req)
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	return res, m
}

// actingCase is one demo case: who acts, for whom (a word of their name
// on the for-whom page), in an area of the case, and what the default
// policy answers for the representative and for the person alone.
type actingCase struct {
	name           string
	actor          string
	forWhom        string
	area           string
	representative map[string]string // action → allowed | cosign | no
	person         map[string]string
}

var demoActingCases = []actingCase{
	{"tutelle: Marie, tutor of Jeanne", "marie.martin@demo.example", "Jeanne", "social",
		map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "allowed", "personal": "no"},
		map[string]string{"consult": "allowed", "manage": "no", "dispose": "no", "personal": "allowed"}},
	{"curatelle renforcée: Lucie, the MJPM service's delegate for Paul", "lucie.moreau@demo.example", "Paul", "argent",
		map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "cosign", "personal": "no"},
		map[string]string{"consult": "allowed", "manage": "cosign", "dispose": "cosign", "personal": "allowed"}},
	{"aidant mandate: Sophie, aidant for Yvette", "sophie.bernard@demo.example", "Yvette", "social",
		map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "no", "personal": "no"},
		map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "allowed", "personal": "allowed"}},
	{"proxy: Ahmed, trusted by his mother Fatima", "ahmed.benali@demo.example", "Fatima", "logement",
		map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "no", "personal": "no"},
		map[string]string{"consult": "allowed", "manage": "allowed", "dispose": "allowed", "personal": "allowed"}},
}

// actingSubs logs the case's actor in at the demo site, acting for the
// person, and returns the actor's and the person's subs there.
func (tg *target) actingSubs(t *testing.T, c actingCase, opts ...oauth2.AuthCodeOption) (actor, person string, tok *oauth2.Token) {
	t.Helper()
	acc := tg.demoPerson(t, c.actor, c.forWhom)
	_, tok = tg.loginAs(t, tg.clients[roleWeb], acc, opts...)
	_, claims := decodeJWT(t, tok.AccessToken)
	act, _ := claims["act"].(map[string]any)
	actor, _ = act["sub"].(string)
	person, _ = claims["sub"].(string)
	if actor == "" || person == "" || actor == person {
		t.Fatalf("%s: the token does not say who acts for whom: %v", c.name, claims)
	}
	return actor, person, tok
}

func evaluation(subject, resource, action, area string) map[string]any {
	return map[string]any{
		"subject":  map[string]any{"type": "user", "id": subject},
		"resource": map[string]any{"type": "account", "id": resource, "properties": map[string]any{"procedure_area": area}},
		"action":   map[string]any{"name": action},
	}
}

func testEvaluationMatchesThePolicy(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	u := tg.metadata(t)["access_evaluation_endpoint"]
	endpoint, _ := u.(string)
	if endpoint == "" {
		t.Fatal("discovery does not advertise access_evaluation_endpoint")
	}
	for _, c := range demoActingCases {
		actor, person, _ := tg.actingSubs(t, c)
		for who, table := range map[string]map[string]string{"the representative": c.representative, "the person alone": c.person} {
			subject := actor
			if who == "the person alone" {
				subject = person
			}
			for action, want := range table {
				res, m := tg.postJSON(t, endpoint, web, evaluation(subject, person, action, c.area))
				ctx, _ := m["context"].(map[string]any)
				reason, _ := ctx["reason"].(map[string]any)
				if res.StatusCode != http.StatusOK || m["decision"] != (want == "allowed") || ctx["answer"] != want || reason["fr"] == nil || reason["en"] == nil {
					t.Errorf("%s, %s, %s in %s: %d %v, want answer %s with a reason in both languages", c.name, who, action, c.area, res.StatusCode, m, want)
				}
			}
		}
	}
	// The batch form answers each in order.
	actor, person, _ := tg.actingSubs(t, demoActingCases[0])
	batch := evaluation(actor, person, "", "social")
	delete(batch, "action")
	batch["evaluations"] = []any{map[string]any{"action": map[string]any{"name": "consult"}}, map[string]any{"action": map[string]any{"name": "personal"}}}
	res, m := tg.postJSON(t, stringOf(tg.metadata(t)["access_evaluations_endpoint"]), web, batch)
	list, _ := m["evaluations"].([]any)
	if res.StatusCode != http.StatusOK || len(list) != 2 || list[0].(map[string]any)["decision"] != true || list[1].(map[string]any)["decision"] != false {
		t.Errorf("batch evaluation: %d %v", res.StatusCode, m)
	}
	// Bad input gets the protocol's error.
	res, m = tg.postJSON(t, endpoint, web, evaluation(actor, "not-a-sub-relais-gave", "consult", "social"))
	wantError(t, "an unknown person", res, m, http.StatusBadRequest, "invalid_request")
	res, m = tg.postJSON(t, endpoint, web, evaluation(actor, person, "consult", "impots"))
	wantError(t, "an unknown area", res, m, http.StatusBadRequest, "invalid_request")
	res, m = tg.postJSON(t, endpoint, &rp{ID: web.ID, Secret: "wrong", AuthStyle: oauth2.AuthStyleInHeader}, evaluation(actor, person, "consult", "social"))
	wantError(t, "a wrong client secret", res, m, http.StatusUnauthorized, "invalid_client")
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func testCosignedDisposeEvaluatesTrueOnce(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	endpoint := stringOf(tg.metadata(t)["access_evaluation_endpoint"])
	c := demoActingCases[1] // Lucie, curator of Paul: disposing needs Paul's agreement
	actor, person, _ := tg.actingSubs(t, c)
	res, m := tg.postJSON(t, endpoint, web, evaluation(actor, person, "dispose", "argent"))
	if ctx, _ := m["context"].(map[string]any); m["decision"] != false || ctx["answer"] != "cosign" {
		t.Fatalf("dispose before agreement: %d %v, want false with answer cosign", res.StatusCode, m)
	}
	open := evaluation(actor, person, "dispose", "argent")
	open["description"] = "Résilier le contrat d’assurance habitation de Paul Durand"
	res, cs := tg.postJSON(t, tg.issuer+"/access/v1/cosignatures", web, open)
	id, _ := cs["id"].(string)
	approve, _ := cs["approve_url"].(string)
	if res.StatusCode != http.StatusCreated || id == "" || approve == "" || cs["agreement_of"] != "represented_person" {
		t.Fatalf("opening a co-signature: %d %v", res.StatusCode, cs)
	}
	// Paul agrees in his space.
	paul := tg.browser(t)
	if err := paul.Login(t.Context(), tg.issuer, tg.demoPerson(t, "paul.durand@demo.example", "")); err != nil {
		t.Fatal(err)
	}
	if status, _, err := paul.Submit(t.Context(), approve, "/espace/accords/"+id, url.Values{"answer": {"accept"}}); err != nil || status >= 400 {
		t.Fatalf("Paul's agreement: %d %v", status, err)
	}
	with := evaluation(actor, person, "dispose", "argent")
	with["context"] = map[string]any{"cosignature_id": id}
	res, m = tg.postJSON(t, endpoint, web, with)
	if res.StatusCode != http.StatusOK || m["decision"] != true {
		t.Errorf("dispose with the agreement: %d %v, want true", res.StatusCode, m)
	}
	res, m = tg.postJSON(t, endpoint, web, with)
	if res.StatusCode != http.StatusOK || m["decision"] != false {
		t.Errorf("dispose with the agreement a second time: %d %v, want false: it is good for one act", res.StatusCode, m)
	}
	// Paul cannot agree twice.
	if status, _, err := paul.Submit(t.Context(), approve, "/espace/accords/"+id, url.Values{"answer": {"accept"}}); err == nil && status < 400 {
		t.Errorf("a second agreement to a used request: %d", status)
	}
}

// testEvaluationThenSuspension runs the two in turn: the suspension
// changes a demo case the evaluation checks.
func testEvaluationThenSuspension(t *testing.T, tg *target) {
	t.Run("evaluation", func(t *testing.T) { testEvaluationMatchesThePolicy(t, tg) })
	t.Run("suspension", func(t *testing.T) { testSuspensionStopsTokensAtOnce(t, tg) })
}

func testSuspensionStopsTokensAtOnce(t *testing.T, tg *target) {
	web := tg.clients[roleWeb]
	c := demoActingCases[3] // Ahmed for Fatima
	_, _, tok := tg.actingSubs(t, c, oauth2.SetAuthURLParam("scope", "openid profile offline_access"))
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	_, claims := decodeJWT(t, tok.AccessToken)
	rep, _ := claims["representation"].(map[string]any)
	repID, _ := rep["id"].(string)
	if !tg.active(t, tok.AccessToken) {
		t.Fatal("the access token is not active to begin with")
	}
	// An operator pauses the proxy through the back-office API.
	op := tg.browser(t)
	if err := op.Login(t.Context(), tg.issuer, tg.demoPerson(t, "olivier.roux@demo.example", "")); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, tg.issuer+"/api/v1/representations/"+repID, nil)
	req.Header.Set("Accept", "application/json")
	res, err := op.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var current map[string]any
	json.NewDecoder(res.Body).Decode(&current)
	res.Body.Close()
	body, _ := json.Marshal(map[string]any{"version": current["version"], "reason": "conformance"})
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, tg.issuer+"/api/v1/representations/"+repID+"/suspend", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err = op.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("suspending the proxy: %d", res.StatusCode)
	}
	if tg.active(t, tok.AccessToken) {
		t.Error("introspection still says active once the representation is suspended")
	}
	if _, err := tg.refresh(t, web, tok.RefreshToken); oauthError(err) != "invalid_grant" {
		t.Errorf("refresh once the representation is suspended: %v, want invalid_grant", err)
	}
	res2, _ := tg.get(t, tg.endpoint(t, "userinfo_endpoint"), tok.AccessToken)
	if res2.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo once the representation is suspended: %d, want 401", res2.StatusCode)
	}
	// Resume it, so the other cases' data stays as the demo made it.
	body, _ = json.Marshal(map[string]any{"version": toInt(current["version"]) + 1})
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, tg.issuer+"/api/v1/representations/"+repID+"/resume", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if res, err = op.HTTPClient().Do(req); err == nil {
		res.Body.Close()
	}
}

func toInt(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}
