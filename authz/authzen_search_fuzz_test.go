package authz_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/mandatestest"
	"github.com/relais-fr/relais/storage/sqlite"
)

var fuzzSearchPaths = []string{"/access/v1/search/subject", "/access/v1/search/resource", "/access/v1/search/action"}

// FuzzSearchEndpoints sends arbitrary bodies to the three search
// endpoints, authenticated as the caf site or not: never a 5xx, never
// internal text; a 200 is a search response, anything else evaluation's
// error JSON. The handlers are called in process, as the other fuzz
// targets are, so a panic reaches the fuzzer.
func FuzzSearchEndpoints(f *testing.F) {
	var service *mandates.Service
	fl := newFlowStores(f, nil, func(st *sqlite.Store, s *authz.Stores) {
		service = mandates.NewService(st, mandatestest.Discard{}, mandates.ServiceConfig{})
		s.Delegation, s.Subjects = service, st
	})
	ctx := f.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	marie := mandates.Person{ID: mandates.NewID(now), GivenNames: "Marie", FamilyName: "Martin", BirthDate: mandates.Date(1968, 5, 2), Email: "marie@example.fr", Language: "fr"}
	if err := fl.store.CreatePerson(ctx, marie); err != nil {
		f.Fatal(err)
	}
	tutelle := mandates.Representation{ID: mandates.NewID(now), Kind: mandates.Tutelle, PersonID: fl.person.ID,
		Representative: mandates.Representative{PersonID: marie.ID}, Role: mandates.RoleTuteur, ValidFrom: now.AddDate(0, -1, 0),
		ValidUntil: now.AddDate(4, 0, 0), Status: mandates.StatusActive, Source: mandates.Source{Decision: &mandates.CourtDecision{
			Jurisdiction: "Tribunal judiciaire de Lyon", Date: now.AddDate(0, -2, 0), Reference: "RG 26/9", RegisteredBy: marie.ID, RegisteredAt: now}}}
	if err := fl.store.CreateRepresentation(ctx, tutelle, mandates.Change{Seq: 1, At: now, ActorID: marie.ID, Type: mandates.EventCreated, To: tutelle.Status}); err != nil {
		f.Fatal(err)
	}
	subs := map[string]string{}
	for _, id := range []string{fl.person.ID, marie.ID} {
		subs[id] = fl.provider.Subject(fl.client, id)
		if err := fl.store.SaveSubject(ctx, "caf.example.fr", subs[id], id); err != nil {
			f.Fatal(err)
		}
	}
	handler := fl.srv.Config.Handler
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("caf:"+fl.secret))
	serve := func(path, body string, authenticated bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if authenticated {
			r.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		return rec
	}
	jeanne, marieSub := subs[fl.person.ID], subs[marie.ID]
	first := `{"subject":{"type":"user"},"resource":{"type":"account","id":"` + jeanne + `","properties":{"procedure_area":"social"}},"action":{"name":"consult"},"page":{"limit":1}}`
	var page struct {
		Page struct {
			NextToken string `json:"next_token"`
		} `json:"page"`
	}
	if rec := serve(fuzzSearchPaths[0], first, true); rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil || page.Page.NextToken == "" {
		f.Fatalf("first page: %d %s", rec.Code, rec.Body)
	}
	for _, seed := range []struct {
		endpoint uint8
		body     string
	}{
		{0, first},
		{0, strings.Replace(first, `"limit":1}`, `"limit":1,"token":"`+page.Page.NextToken+`"}`, 1)},
		{1, `{"subject":{"type":"user","id":"` + marieSub + `"},"resource":{"type":"account","properties":{"procedure_area":"argent"}},"action":{"name":"manage"}}`},
		{2, `{"subject":{"type":"user","id":"` + marieSub + `"},"resource":{"type":"account","id":"` + jeanne + `","properties":{"procedure_area":"argent"}}}`},
		{2, `{"subject":{"type":"user","id":"` + marieSub + `"},"resource":{"type":"account","id":"` + jeanne + `","properties":{"procedure_area":"argent"}},"page":{"token":"1.x.y","limit":-3}}`},
		{1, `{"subject":{"type":"user","id":"\u0000"},"resource":{"type":"account","properties":{"procedure_area":7}},"action":{"name":""}}`},
		{0, `{"page":{"limit":1e400}}`},
		{0, `[]`},
		{0, ``},
	} {
		f.Add(seed.endpoint, seed.body, true)
		f.Add(seed.endpoint, seed.body, false)
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, body string, authenticated bool) {
		path := fuzzSearchPaths[int(endpoint)%len(fuzzSearchPaths)]
		rec := serve(path, body, authenticated)
		out := rec.Body.String()
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d: %.500s", path, rec.Code, out)
		}
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Fatalf("%s answered with internal text %q: %.500s", path, leak, out)
			}
		}
		if rec.Code == http.StatusOK {
			var m struct {
				Page *struct {
					NextToken *string `json:"next_token"`
					Count     int     `json:"count"`
				} `json:"page"`
				Results []json.RawMessage `json:"results"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.Page == nil || m.Page.NextToken == nil || m.Results == nil ||
				m.Page.Count != len(m.Results) {
				t.Fatalf("%s answered 200 with no search response: %.500s", path, out)
			}
			return
		}
		var m map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m["error"] == "" {
			t.Fatalf("%s answered %d without an error object: %.500s", path, rec.Code, out)
		}
	})
}
