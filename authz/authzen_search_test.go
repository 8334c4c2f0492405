package authz_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// searchFlow is the acting flow (Marie, tutor of Jeanne, the flow's
// person) with Karim, Jeanne's subrogé tuteur, and Paul, a second tutor
// the caf site was never given; the site has Jeanne's, Marie's and
// Karim's subs.
type searchFlow struct {
	*actingFlow
	marie, karim, paul string
	subs               map[string]string // person id → sub at caf
}

func newSearchFlow(t *testing.T) *searchFlow {
	t.Helper()
	a := newActingFlow(t)
	s := &searchFlow{actingFlow: a, marie: a.login.PersonID, subs: map[string]string{}}
	ctx := t.Context()
	now := time.Now().UTC()
	for i, id := range []*string{&s.karim, &s.paul} {
		p := mandates.Person{ID: mandates.NewID(now), GivenNames: []string{"Karim", "Paul"}[i], FamilyName: "Benali",
			BirthDate: mandates.Date(1970, 1, 1), Email: []string{"karim@example.fr", "paul@example.fr"}[i], Language: "fr"}
		if err := a.store.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
		*id = p.ID
	}
	in := mandates.MeasureInput{Kind: mandates.Tutelle, PersonID: a.person.ID,
		Representatives: []mandates.RepresentativeInput{{PersonID: s.karim, Role: mandates.RoleSubrogeTuteur}, {PersonID: s.paul, Role: mandates.RoleTuteur}},
		ValidFrom:       now.AddDate(0, -1, 0), ValidUntil: now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -1, -10), Reference: "RG 26/00043"}}
	if _, err := a.service.RegisterMeasure(ctx, a.operator, in); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.person.ID, s.marie, s.karim} {
		sub := a.provider.Subject(a.client, id)
		if err := a.store.SaveSubject(ctx, "caf.example.fr", sub, id); err != nil {
			t.Fatal(err)
		}
		s.subs[id] = sub
	}
	return s
}

// post sends body as JSON to path, authenticated as the caf site unless
// auth is false.
func (s *searchFlow) post(t *testing.T, path string, body any, auth bool) (int, map[string]any) {
	t.Helper()
	if !auth {
		return s.postAs(t, "", "", path, body)
	}
	return s.postAs(t, "caf", s.secret, path, body)
}

// postAs sends body as JSON to path, authenticated as client id when id
// is not empty.
func (s *searchFlow) postAs(t *testing.T, id, secret, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if raw, ok := body.(string); ok {
		r = strings.NewReader(raw)
	} else {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.srv.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	m := map[string]any{}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %d, not JSON: %s", path, res.StatusCode, raw)
	}
	return res.StatusCode, m
}

func searchBody(subject, resource, action, area string) map[string]any {
	b := map[string]any{
		"subject":  map[string]any{"type": "user"},
		"resource": map[string]any{"type": "account", "properties": map[string]any{"procedure_area": area}},
	}
	if subject != "" {
		b["subject"].(map[string]any)["id"] = subject
	}
	if resource != "" {
		b["resource"].(map[string]any)["id"] = resource
	}
	if action != "" {
		b["action"] = map[string]any{"name": action}
	}
	return b
}

// ids are the results' ids (names, for actions), and the next token.
func ids(t *testing.T, m map[string]any) ([]string, string) {
	t.Helper()
	page, _ := m["page"].(map[string]any)
	next, ok := page["next_token"].(string)
	results, isList := m["results"].([]any)
	if !ok || !isList || page["count"] != float64(len(results)) {
		t.Fatalf("not a search response with page.next_token, page.count and results: %v", m)
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

func (s *searchFlow) evaluate(t *testing.T, actorSub, personSub, action, area string) bool {
	t.Helper()
	code, m := s.post(t, "/access/v1/evaluation", map[string]any{
		"subject":  map[string]any{"type": "user", "id": actorSub},
		"resource": map[string]any{"type": "account", "id": personSub, "properties": map[string]any{"procedure_area": area}},
		"action":   map[string]any{"name": action},
	}, true)
	if code != http.StatusOK {
		t.Fatalf("evaluation: %d %v", code, m)
	}
	return m["decision"] == true
}

func TestAuthZENConfigurationAdvertisesTheSearches(t *testing.T) {
	s := newSearchFlow(t)
	res, err := http.Get(s.srv.URL + "/.well-known/authzen-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	for key, path := range map[string]string{"search_subject_endpoint": "/access/v1/search/subject",
		"search_resource_endpoint": "/access/v1/search/resource", "search_action_endpoint": "/access/v1/search/action"} {
		if m[key] != s.srv.URL+path {
			t.Errorf("%s = %v, want %s", key, m[key], s.srv.URL+path)
		}
	}
}

// TestSearchResultsEvaluateTrueAndTheRestFalse: each search's results
// evaluate true at the evaluation endpoint, and the people the site can
// name that a search leaves out evaluate false; Paul, whom the site was
// never given, is never a result although he is Jeanne's tutor too.
func TestSearchResultsEvaluateTrueAndTheRestFalse(t *testing.T) {
	s := newSearchFlow(t)
	jeanne := s.person.ID
	named := []string{jeanne, s.marie, s.karim}
	for _, area := range []string{"social", "argent"} {
		for _, action := range []string{"consult", "manage", "dispose", "personal"} {
			code, m := s.post(t, "/access/v1/search/subject", searchBody("", s.subs[jeanne], action, area), true)
			if code != http.StatusOK {
				t.Fatalf("subject search: %d %v", code, m)
			}
			who, next := ids(t, m)
			if next != "" {
				t.Errorf("subject search %s %s: next_token %q on the only page", action, area, next)
			}
			for _, id := range named {
				if got, want := slices.Contains(who, s.subs[id]), s.evaluate(t, s.subs[id], s.subs[jeanne], action, area); got != want {
					t.Errorf("who may %s for Jeanne in %s: %s returned %t, evaluation %t", action, area, id, got, want)
				}
			}
			for _, id := range named {
				code, m := s.post(t, "/access/v1/search/resource", searchBody(s.subs[id], "", action, area), true)
				if code != http.StatusOK {
					t.Fatalf("resource search: %d %v", code, m)
				}
				forWhom, _ := ids(t, m)
				for _, p := range named {
					if got, want := slices.Contains(forWhom, s.subs[p]), s.evaluate(t, s.subs[id], s.subs[p], action, area); got != want {
						t.Errorf("for whom may %s %s in %s: %s returned %t, evaluation %t", id, action, area, p, got, want)
					}
				}
			}
		}
		for _, actor := range named {
			code, m := s.post(t, "/access/v1/search/action", searchBody(s.subs[actor], s.subs[jeanne], "", area), true)
			if code != http.StatusOK {
				t.Fatalf("action search: %d %v", code, m)
			}
			what, _ := ids(t, m)
			for _, action := range []string{"consult", "manage", "dispose", "personal"} {
				if got, want := slices.Contains(what, action), s.evaluate(t, s.subs[actor], s.subs[jeanne], action, area); got != want {
					t.Errorf("what may %s do for Jeanne in %s: %s returned %t, evaluation %t", actor, area, action, got, want)
				}
			}
		}
	}
	// The tutors who may manage: Marie only, with the representation
	// evaluation would name; never Paul, whom the site cannot name.
	_, m := s.post(t, "/access/v1/search/subject", searchBody("", s.subs[jeanne], "manage", "argent"), true)
	results, _ := m["results"].([]any)
	if len(results) != 1 {
		t.Fatalf("who may manage for Jeanne: %v, want Marie alone", m)
	}
	r := results[0].(map[string]any)
	props, _ := r["properties"].(map[string]any)
	rep, _ := props["representation"].(map[string]any)
	if r["type"] != "user" || r["id"] != s.subs[s.marie] || rep["id"] != s.repID || rep["kind"] != "tutelle" {
		t.Errorf("result %v, want Marie's sub with the tutelle %s", r, s.repID)
	}
	if strings.Contains(mustJSON(m), s.paul) || strings.Contains(mustJSON(m), s.provider.Subject(s.client, s.paul)) {
		t.Errorf("the search names Paul, whom the site was never given: %v", m)
	}
	// Resource results are accounts in the area asked about: Marie's own,
	// and Jeanne's under the tutelle.
	_, m = s.post(t, "/access/v1/search/resource", searchBody(s.subs[s.marie], "", "manage", "argent"), true)
	results, _ = m["results"].([]any)
	var found bool
	for _, r := range results {
		e := r.(map[string]any)
		props, _ := e["properties"].(map[string]any)
		rep, _ := props["representation"].(map[string]any)
		if e["type"] != "account" || props["procedure_area"] != "argent" {
			t.Errorf("resource result %v, want an account in argent", e)
		}
		found = found || (e["id"] == s.subs[jeanne] && rep["id"] == s.repID)
	}
	if len(results) != 2 || !found {
		t.Errorf("for whom may Marie manage in argent: %v, want herself and Jeanne's account under the tutelle", m)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSearchPagesWithASignedToken: a limit of one pages through the
// results once each; a forged, altered or reused-elsewhere token gets a
// 400 invalid_request, as bad input at evaluation does.
func TestSearchPagesWithASignedToken(t *testing.T) {
	s := newSearchFlow(t)
	jeanne := s.subs[s.person.ID]
	body := searchBody("", jeanne, "consult", "social")
	_, m := s.post(t, "/access/v1/search/subject", body, true)
	all, _ := ids(t, m)
	if len(all) != 3 {
		t.Fatalf("who may consult Jeanne's account: %v, want Jeanne, Marie and Karim", all)
	}
	var paged []string
	var tokens []string
	body["page"] = map[string]any{"limit": 1}
	for range 10 {
		code, m := s.post(t, "/access/v1/search/subject", body, true)
		got, next := ids(t, m)
		if code != http.StatusOK || len(got) > 1 {
			t.Fatalf("page: %d %v", code, m)
		}
		paged = append(paged, got...)
		if next == "" {
			break
		}
		tokens = append(tokens, next)
		body["page"] = map[string]any{"limit": 1, "token": next}
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("pages %v, want %v", paged, all)
	}
	token := tokens[0]
	version, sealed, _ := strings.Cut(token, ".")
	altered := []byte(sealed)
	altered[len(altered)/2] ^= 1
	for _, p := range tokens {
		for _, sub := range all {
			if strings.Contains(p, base64.RawURLEncoding.EncodeToString([]byte(sub))) || strings.Contains(p, sub) {
				t.Errorf("page token %s shows the sub %s", p, sub)
			}
		}
	}
	tests := []struct {
		name string
		body map[string]any
	}{
		{"a forged token", withPage(searchBody("", jeanne, "consult", "social"), 1, "1.c3ViLXg.AAAA")},
		{"a token that is not Relais's at all", withPage(searchBody("", jeanne, "consult", "social"), 1, "a3M9NDU2O3N6PTI=")},
		{"a token whose sealed position was altered", withPage(searchBody("", jeanne, "consult", "social"), 1, version+"."+string(altered))},
		{"a version 1 token", withPage(searchBody("", jeanne, "consult", "social"), 1, "1."+sealed)},
		{"a token with another action", withPage(searchBody("", jeanne, "manage", "social"), 1, token)},
		{"a token with another area", withPage(searchBody("", jeanne, "consult", "argent"), 1, token)},
		{"a token with another limit", withPage(searchBody("", jeanne, "consult", "social"), 2, token)},
		{"a token with another person", withPage(searchBody("", s.subs[s.marie], "consult", "social"), 1, token)},
	}
	for _, tt := range tests {
		code, m := s.post(t, "/access/v1/search/subject", tt.body, true)
		if code != http.StatusBadRequest || m["error"] != "invalid_request" || m["error_description"] == "" {
			t.Errorf("%s: %d %v, want 400 invalid_request", tt.name, code, m)
		}
	}
	// Another site of the same sector names Jeanne by the same sub, and
	// still cannot use the caf's token.
	secret, hash := oauth.NewClientSecret()
	s.addClient(t, oauth.Client{ID: "cnav", Name: "Retraite", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"authorization_code"}, SectorIdentifier: "caf.example.fr", SecretHash: hash})
	code, m := s.postAs(t, "cnav", secret, "/access/v1/search/subject", withPage(searchBody("", jeanne, "consult", "social"), 1, ""))
	if got, _ := ids(t, m); code != http.StatusOK || len(got) != 1 {
		t.Fatalf("the other site's first page: %d %v", code, m)
	}
	code, m = s.postAs(t, "cnav", secret, "/access/v1/search/subject", withPage(searchBody("", jeanne, "consult", "social"), 1, token))
	if code != http.StatusBadRequest || m["error"] != "invalid_request" {
		t.Errorf("the caf's token used by another site: %d %v, want 400 invalid_request", code, m)
	}
	// A token of the subject search does not open the resource search.
	code, m = s.post(t, "/access/v1/search/resource", withPage(searchBody(s.subs[s.marie], "", "consult", "social"), 1, token), true)
	if code != http.StatusBadRequest || m["error"] != "invalid_request" {
		t.Errorf("a subject search's token at the resource search: %d %v", code, m)
	}
}

func withPage(b map[string]any, limit int, token string) map[string]any {
	b["page"] = map[string]any{"limit": limit, "token": token}
	return b
}

// TestSearchLimit: no limit gives the default, a limit above the maximum
// gives the maximum, a negative one is refused.
func TestSearchLimit(t *testing.T) {
	s := newSearchFlow(t)
	jeanne := s.subs[s.person.ID]
	for _, tt := range []struct {
		name  string
		limit any
		code  int
	}{
		{"a limit above the maximum is lowered to it", 100000, http.StatusOK},
		{"a limit of zero is the default", 0, http.StatusOK},
		{"a negative limit", -1, http.StatusBadRequest},
		{"a fractional limit", 1.5, http.StatusBadRequest},
		{"a limit that is text", "10", http.StatusBadRequest},
	} {
		body := searchBody("", jeanne, "consult", "social")
		body["page"] = map[string]any{"limit": tt.limit}
		code, m := s.post(t, "/access/v1/search/subject", body, true)
		if code != tt.code {
			t.Errorf("%s: %d %v, want %d", tt.name, code, m, tt.code)
		}
		if code == http.StatusOK {
			if got, _ := ids(t, m); len(got) != 3 {
				t.Errorf("%s: %v, want the three results", tt.name, got)
			}
		}
	}
}

// TestSearchUnknownSubjectIsAnEmptyPage: a sub Relais never gave the site
// gets the same answer as a person nobody represents, so a search tells
// no one whether a sub exists.
func TestSearchUnknownSubjectIsAnEmptyPage(t *testing.T) {
	s := newSearchFlow(t)
	empty := `{"page":{"count":0,"next_token":""},"results":[]}` // as mustJSON writes it
	paulSub := s.provider.Subject(s.client, s.paul)              // Paul's sub, never given to the site
	for _, tt := range []struct {
		name string
		path string
		body map[string]any
	}{
		{"who may act for an unknown sub", "/access/v1/search/subject", searchBody("", "not-a-sub", "consult", "social")},
		{"who may act for Paul, whose sub the site was never given", "/access/v1/search/subject", searchBody("", paulSub, "consult", "social")},
		{"for whom may an unknown sub act", "/access/v1/search/resource", searchBody("not-a-sub", "", "consult", "social")},
		{"for whom may a sub with a NUL byte act", "/access/v1/search/resource", searchBody("sub\x00x", "", "consult", "social")},
		{"for whom may a very long sub act", "/access/v1/search/resource", searchBody(strings.Repeat("a", 5000), "", "consult", "social")},
		{"for whom may Paul act", "/access/v1/search/resource", searchBody(paulSub, "", "consult", "social")},
		{"what may an unknown sub do for Jeanne", "/access/v1/search/action", searchBody("not-a-sub", s.subs[s.person.ID], "", "social")},
		{"what may Marie do for an unknown sub", "/access/v1/search/action", searchBody(s.subs[s.marie], "not-a-sub", "", "social")},
		{"for whom may Jeanne manage: nobody, not even herself under tutelle (a known sub)", "/access/v1/search/resource", searchBody(s.subs[s.person.ID], "", "manage", "social")},
	} {
		code, m := s.post(t, tt.path, tt.body, true)
		if code != http.StatusOK || mustJSON(m) != empty {
			t.Errorf("%s: %d %s, want 200 %s", tt.name, code, mustJSON(m), empty)
		}
	}
}

// TestSearchBadInput: bad input gets evaluation's 400 invalid_request
// (or 401 invalid_client), never a 500.
func TestSearchBadInput(t *testing.T) {
	s := newSearchFlow(t)
	jeanne, marie := s.subs[s.person.ID], s.subs[s.marie]
	noArea := searchBody("", jeanne, "consult", "social")
	delete(noArea["resource"].(map[string]any), "properties")
	wrongSubjectType := searchBody("", jeanne, "consult", "social")
	wrongSubjectType["subject"] = map[string]any{"type": "group"}
	wrongResourceType := searchBody(marie, "", "consult", "social")
	wrongResourceType["resource"].(map[string]any)["type"] = "document"
	noSubject := searchBody("", jeanne, "consult", "social")
	delete(noSubject, "subject")
	areaNumber := searchBody("", jeanne, "consult", "social")
	areaNumber["resource"].(map[string]any)["properties"] = map[string]any{"procedure_area": 3}
	tests := []struct {
		name string
		path string
		body any
		code int
	}{
		{"no subject", "/access/v1/search/subject", noSubject, 400},
		{"a subject of another type", "/access/v1/search/subject", wrongSubjectType, 400},
		{"a resource of another type", "/access/v1/search/resource", wrongResourceType, 400},
		{"a subject search without the person", "/access/v1/search/subject", searchBody("", "", "consult", "social"), 400},
		{"a resource search without the actor", "/access/v1/search/resource", searchBody("", "", "consult", "social"), 400},
		{"an action search without the actor", "/access/v1/search/action", searchBody("", jeanne, "", "social"), 400},
		{"an action search without the person", "/access/v1/search/action", searchBody(marie, "", "", "social"), 400},
		{"a subject search without an action", "/access/v1/search/subject", searchBody("", jeanne, "", "social"), 400},
		{"an unknown action", "/access/v1/search/resource", searchBody(marie, "", "sell", "social"), 400},
		{"no procedure area", "/access/v1/search/subject", noArea, 400},
		{"an unknown procedure area", "/access/v1/search/subject", searchBody("", jeanne, "consult", "impots"), 400},
		{"a procedure area that is a number", "/access/v1/search/subject", areaNumber, 400},
		{"not JSON", "/access/v1/search/subject", "{subject", 400},
		{"an array", "/access/v1/search/subject", "[]", 400},
	}
	for _, tt := range tests {
		code, m := s.post(t, tt.path, tt.body, true)
		if code != tt.code || m["error"] != "invalid_request" || m["error_description"] == "" {
			t.Errorf("%s: %d %v, want %d invalid_request with a description", tt.name, code, m, tt.code)
		}
	}
	code, m := s.post(t, "/access/v1/search/subject", searchBody("", jeanne, "consult", "social"), false)
	if code != http.StatusUnauthorized || m["error"] != "invalid_client" {
		t.Errorf("without client authentication: %d %v, want 401 invalid_client", code, m)
	}
}

// TestSearchKeepsToTheSiteAreas: a site registered for some procedure
// areas searches only in those, as it evaluates only in those.
func TestSearchKeepsToTheSiteAreas(t *testing.T) {
	s := newSearchFlow(t)
	if _, err := s.store.UpdateClient(t.Context(), "caf", func(c *oauth.Client) error {
		c.ProcedureAreas = []string{"social"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	jeanne := s.subs[s.person.ID]
	code, m := s.post(t, "/access/v1/search/subject", searchBody("", jeanne, "consult", "argent"), true)
	if code != http.StatusBadRequest || m["error"] != "invalid_request" {
		t.Errorf("a search outside the site's areas: %d %v, want 400", code, m)
	}
}

// TestPublicSubjectsAreRecorded: a public-subject client is given local
// ids, and they are recorded like pairwise subs, so its searches too name
// only people it was given.
func TestPublicSubjectsAreRecorded(t *testing.T) {
	f := newServiceFlow(t).flow
	_, hash := oauth.NewClientSecret()
	pub := f.addClient(t, oauth.Client{ID: "mairie", Name: "Mairie", RedirectURIs: []string{"http://127.0.0.1/cb"}, Scopes: []string{"openid"},
		GrantTypes: []string{"authorization_code"}, SubjectType: oauth.SubjectPublic, SectorIdentifier: "mairie.example.fr", SecretHash: hash})
	if got, _ := f.store.IssuedSubjects(t.Context(), "mairie.example.fr", []string{f.person.ID}); len(got) != 0 {
		t.Fatalf("recorded before any token: %v", got)
	}
	// The sub is decided, and recorded, when the authorization endpoint
	// issues the code.
	f.codeFor(t, pub.ID, []string{"openid"})
	got, err := f.store.IssuedSubjects(t.Context(), "mairie.example.fr", []string{f.person.ID})
	if err != nil || got[f.person.ID] != f.person.ID {
		t.Errorf("after a login at a public-subject site: %v, %v; want the local id recorded", got, err)
	}
}
