package conformance

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// The AuthZEN 1.0 search APIs (§8) on Relais's demo data: who may act
// for a person, for whom an actor may act, what an actor may do for a
// person, each result checked against the evaluation endpoint, and
// paging with the next_token the PDP gives.

// authzenMetadata is the PDP metadata (AuthZEN §9), checked against the
// issuer as §9.2.3 asks.
func (tg *target) authzenMetadata(t *testing.T) map[string]any {
	t.Helper()
	res, body := tg.get(t, tg.issuer+"/.well-known/authzen-configuration", "")
	m := map[string]any{}
	if err := json.Unmarshal(body, &m); res.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("authzen-configuration: %d %.300s", res.StatusCode, body)
	}
	if m["policy_decision_point"] != tg.issuer {
		t.Fatalf("policy_decision_point %v, want the issuer %s", m["policy_decision_point"], tg.issuer)
	}
	return m
}

func searchRequest(subject, resource, action, area string) map[string]any {
	s := map[string]any{"type": "user"}
	if subject != "" {
		s["id"] = subject
	}
	r := map[string]any{"type": "account", "properties": map[string]any{"procedure_area": area}}
	if resource != "" {
		r["id"] = resource
	}
	body := map[string]any{"subject": s, "resource": r}
	if action != "" {
		body["action"] = map[string]any{"name": action}
	}
	return body
}

// searchPage posts one search and returns its results' ids (names for
// actions) and its next token, failing on anything but a search response.
func (tg *target) searchPage(t *testing.T, endpoint string, body map[string]any) ([]string, string) {
	t.Helper()
	res, m := tg.postJSON(t, endpoint, tg.clients[roleWeb], body)
	page, _ := m["page"].(map[string]any)
	next, hasNext := page["next_token"].(string)
	results, isList := m["results"].([]any)
	if res.StatusCode != http.StatusOK || !isList || !hasNext {
		t.Fatalf("search %s: %d %v, want 200 with results and page.next_token", endpoint, res.StatusCode, m)
	}
	var out []string
	for _, r := range results {
		e, _ := r.(map[string]any)
		id, _ := e["id"].(string)
		if id == "" {
			id, _ = e["name"].(string)
		}
		out = append(out, id)
	}
	return out, next
}

func (tg *target) decision(t *testing.T, subject, resource, action, area string) bool {
	t.Helper()
	res, m := tg.postJSON(t, stringOf(tg.metadata(t)["access_evaluation_endpoint"]), tg.clients[roleWeb], evaluation(subject, resource, action, area))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("evaluation: %d %v", res.StatusCode, m)
	}
	return m["decision"] == true
}

func testSearches(t *testing.T, tg *target) {
	meta := tg.authzenMetadata(t)
	subjectSearch, resourceSearch, actionSearch := stringOf(meta["search_subject_endpoint"]), stringOf(meta["search_resource_endpoint"]),
		stringOf(meta["search_action_endpoint"])
	if subjectSearch != tg.issuer+"/access/v1/search/subject" || resourceSearch != tg.issuer+"/access/v1/search/resource" ||
		actionSearch != tg.issuer+"/access/v1/search/action" {
		t.Fatalf("authzen-configuration: %v, want the three search endpoints at AuthZEN's default paths", meta)
	}
	marie, jeanne, _ := tg.actingSubs(t, demoActingCases[0]) // Marie, tutor of Jeanne
	// Paul, under curatelle renforcée, logs in for himself (password
	// only). Lucie, his curator, is not logged in here: her second factor
	// takes one login per 30-second step, and the other demo cases
	// already log her in.
	_, tok := tg.loginAs(t, tg.clients[roleWeb], tg.demoPerson(t, "paul.durand@demo.example", ""))
	_, claims := decodeJWT(t, tok.AccessToken)
	paul, _ := claims["sub"].(string)
	if paul == "" || claims["act"] != nil {
		t.Fatalf("Paul's own token: %v", claims)
	}
	known := []string{marie, jeanne, paul}

	// Each search's results evaluate true; what the site knows and a
	// search leaves out evaluates false.
	checkAgainstEvaluation := func(what string, got []string, candidates []string, allowed func(string) bool) {
		t.Helper()
		for _, c := range candidates {
			if in, want := slices.Contains(got, c), allowed(c); in != want {
				t.Errorf("%s: %s is a result: %t; the evaluation endpoint answers %t", what, c, in, want)
			}
		}
	}
	for _, tc := range []struct {
		person, area, action string
		want                 []string
	}{
		{jeanne, "social", "manage", []string{marie}},        // under tutelle, Jeanne does not manage alone
		{jeanne, "social", "consult", sorted(jeanne, marie)}, // both see the account
		{paul, "argent", "dispose", nil},                     // Paul's dispose needs his curator's agreement (cosign): no result
		{paul, "argent", "personal", []string{paul}},         // strictly personal: Paul alone
		{jeanne, "social", "personal", []string{jeanne}},     // a strictly personal act: the person alone
	} {
		got, next := tg.searchPage(t, subjectSearch, searchRequest("", tc.person, tc.action, tc.area))
		if !slices.Equal(got, tc.want) || next != "" {
			t.Errorf("who may %s for %s in %s: %v (next %q), want %v", tc.action, tc.person, tc.area, got, next, tc.want)
		}
		checkAgainstEvaluation("subject search", got, known, func(actor string) bool { return tg.decision(t, actor, tc.person, tc.action, tc.area) })
	}
	for _, tc := range []struct {
		actor, area, action string
		want                []string
	}{
		{marie, "social", "manage", sorted(marie, jeanne)}, // herself, and Jeanne as her tutor
		{marie, "social", "personal", []string{marie}},
		{paul, "argent", "manage", nil}, // Paul manages only with his curator's agreement
		{paul, "argent", "personal", []string{paul}},
		{jeanne, "social", "manage", nil}, // under tutelle: not even herself
	} {
		got, _ := tg.searchPage(t, resourceSearch, searchRequest(tc.actor, "", tc.action, tc.area))
		if !slices.Equal(got, tc.want) {
			t.Errorf("for whom may %s %s in %s: %v, want %v", tc.actor, tc.action, tc.area, got, tc.want)
		}
		checkAgainstEvaluation("resource search", got, known, func(person string) bool { return tg.decision(t, tc.actor, person, tc.action, tc.area) })
	}
	for _, tc := range []struct {
		name          string
		actor, person string
		area          string
		policy        map[string]string
	}{
		{"Marie for Jeanne", marie, jeanne, demoActingCases[0].area, demoActingCases[0].representative},
		{"Jeanne alone", jeanne, jeanne, demoActingCases[0].area, demoActingCases[0].person},
		{"Paul alone", paul, paul, demoActingCases[1].area, demoActingCases[1].person},
	} {
		got, _ := tg.searchPage(t, actionSearch, searchRequest(tc.actor, tc.person, "", tc.area))
		var want []string
		for _, a := range []string{"consult", "dispose", "manage", "personal"} {
			if tc.policy[a] == "allowed" {
				want = append(want, a)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("what may %s do in %s: %v, want %v (the default policy's allowed acts)", tc.name, tc.area, got, want)
		}
		checkAgainstEvaluation("action search", got, []string{"consult", "manage", "dispose", "personal"},
			func(action string) bool { return tg.decision(t, tc.actor, tc.person, action, tc.area) })
	}
	// Where evaluation answers cosign, the act is not a result: the site
	// learns of the agreement it needs from the evaluation.
	res, m := tg.postJSON(t, stringOf(tg.metadata(t)["access_evaluation_endpoint"]), tg.clients[roleWeb], evaluation(paul, paul, "dispose", "argent"))
	if ctx, _ := m["context"].(map[string]any); res.StatusCode != http.StatusOK || m["decision"] != false || ctx["answer"] != "cosign" {
		t.Errorf("Paul disposing alone: %d %v, want false with answer cosign", res.StatusCode, m)
	}

	// Paging: a limit of one walks the results once each; a forged token
	// is bad input.
	body := searchRequest("", jeanne, "consult", "social")
	var paged []string
	body["page"] = map[string]any{"limit": 1}
	for range 5 {
		got, next := tg.searchPage(t, subjectSearch, body)
		if len(got) > 1 {
			t.Fatalf("a page of limit 1 holds %v", got)
		}
		paged = append(paged, got...)
		if next == "" {
			break
		}
		body["page"] = map[string]any{"limit": 1, "token": next}
	}
	if !slices.Equal(paged, sorted(jeanne, marie)) {
		t.Errorf("pages of one: %v, want %v", paged, sorted(jeanne, marie))
	}
	forged := searchRequest("", jeanne, "consult", "social")
	forged["page"] = map[string]any{"limit": 1, "token": "1.c3Vi.Zm9yZ2Vk"}
	res, m = tg.postJSON(t, subjectSearch, tg.clients[roleWeb], forged)
	wantError(t, "a forged page token", res, m, http.StatusBadRequest, "invalid_request")

	// An unknown sub is an empty page, as a person nobody represents is;
	// bad input gets evaluation's error.
	if got, next := tg.searchPage(t, subjectSearch, searchRequest("", "not-a-sub-relais-gave", "consult", "social")); len(got) != 0 || next != "" {
		t.Errorf("who may act for an unknown sub: %v %q, want an empty page", got, next)
	}
	res, m = tg.postJSON(t, subjectSearch, tg.clients[roleWeb], searchRequest("", jeanne, "consult", "impots"))
	wantError(t, "an unknown area", res, m, http.StatusBadRequest, "invalid_request")
	res, m = tg.postJSON(t, resourceSearch, tg.clients[roleWeb], searchRequest("", "", "consult", "social"))
	wantError(t, "a resource search without the actor", res, m, http.StatusBadRequest, "invalid_request")
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
