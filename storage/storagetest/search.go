package storagetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// SearchStore is what RunSearch needs: the representation service's store
// and the record of the subs issued to sites.
type SearchStore interface {
	ServiceStore
	oauth.SubjectStore
	oauth.SubjectLister
}

// RunSearch runs the AuthZEN searches (mandates.Service.Search) on a real
// store: each result is what evaluation allows, each candidate left out
// is what it refuses, a person the site cannot name is never told, pages
// cover the results once each, and every decision is journaled.
func RunSearch(t *testing.T, newStore func(t *testing.T) SearchStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, w *searchWorld)
	}{
		{"the subs issued in a sector are listed, and no others", testIssuedSubjects},
		{"every result is what evaluation allows, and every candidate left out is what it refuses", testSearchIsEvaluation},
		{"who may act for Jeanne, for Fatima, and for whom Sophie and Marie may act", testSearchAnswers},
		{"a person the site was never given is never a result, and nothing is journaled of them", testSearchNamesOnlyKnownPeople},
		{"pages of one result cover the results once each, in order, and end with no next", testSearchPages},
		{"each decision of a search is journaled on the person's chain as an evaluation", testSearchJournal},
		{"a malformed search is refused", testSearchInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t)
			tt.fn(t, newSearchWorld(t, st))
		})
	}
}

// searchWorld is the service's world with a few representations: Jeanne
// under tutelle (Marie her tutor, Karim her subrogé tuteur), Karim under
// curatelle renforcée (Marie his curator), and an aidant mandate of the
// organisation for Fatima in social and papiers (Sophie its aidant, with
// a second factor; Nadia its admin, without one).
type searchWorld struct {
	*world
	st    SearchStore
	names fakeNames // what the site can name: every person, as "sub-" and their id
}

// fakeNames names the people in it, and no one else.
type fakeNames map[string]string

func (n fakeNames) Names(_ context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if name, ok := n[id]; ok {
			out[id] = name
		}
	}
	return out, nil
}

func newSearchWorld(t *testing.T, st SearchStore) *searchWorld {
	t.Helper()
	w := &searchWorld{world: newWorld(t, st), st: st, names: fakeNames{}}
	ctx := t.Context()
	in := w.tutelle(t, "RG 26/00100")
	in.Representatives = append(in.Representatives, mandates.RepresentativeInput{PersonID: w.karim, Role: mandates.RoleSubrogeTuteur})
	if _, err := w.svc.RegisterMeasure(ctx, w.op(), in); err != nil {
		t.Fatal(err)
	}
	curatelle := mandates.MeasureInput{Kind: mandates.CuratelleRenforcee, PersonID: w.karim,
		Representatives: []mandates.RepresentativeInput{{PersonID: w.marie, Role: mandates.RoleCurateur}},
		ValidFrom:       w.now.AddDate(0, -1, 0), ValidUntil: w.now.AddDate(4, 0, 0),
		Decision: mandates.CourtDecision{Jurisdiction: "Tribunal judiciaire de Lyon", Date: w.now.AddDate(0, -1, -10), Reference: "RG 26/00101"}}
	if _, err := w.svc.RegisterMeasure(ctx, w.op(), curatelle); err != nil {
		t.Fatal(err)
	}
	mandate := mandates.Representation{ID: mandates.NewID(w.now), Kind: mandates.AidantMandate, PersonID: w.fatima,
		Representative: mandates.Representative{OrganisationID: w.org}, Role: mandates.RoleAidant, Areas: []mandates.Area{"papiers", "social"},
		ValidFrom: w.now, ValidUntil: mandates.TwelveMonth.End(w.now), Status: mandates.StatusActive,
		Source: mandates.Source{Consent: &mandates.ConsentRecord{Method: mandates.ConsentInPersonAttestation, GivenAt: w.now, WitnessID: w.aidant}}}
	if err := st.CreateRepresentation(ctx, mandate, mandates.Change{Seq: 1, At: w.now, ActorID: w.aidant, Type: mandates.EventCreated, To: mandate.Status}); err != nil {
		t.Fatal(err)
	}
	for _, id := range w.people() {
		w.names[id] = "sub-" + id
	}
	return w
}

func (w *searchWorld) people() []string {
	return []string{w.operator, w.admin, w.aidant, w.jeanne, w.marie, w.fatima, w.karim}
}

var searchAreas = []mandates.Area{"social", "argent"}

func (w *searchWorld) search(t *testing.T, in mandates.Search) mandates.SearchPage {
	t.Helper()
	if in.Limit == 0 {
		in.Limit = mandates.MaxSearchLimit
	}
	in.At = w.now
	page, err := w.svc.Search(t.Context(), in, "caf", w.names)
	if err != nil {
		t.Fatalf("Search(%+v): %v", in, err)
	}
	return page
}

func namesOf(page mandates.SearchPage) []string {
	var out []string
	for _, f := range page.Results {
		out = append(out, f.Name)
	}
	return out
}

func testIssuedSubjects(t *testing.T, w *searchWorld) {
	ctx := t.Context()
	for _, sv := range []struct{ sector, sub, person string }{
		{"caf.example.fr", "sub-jeanne", w.jeanne}, {"caf.example.fr", "sub-marie", w.marie}, {"impots.example.fr", "sub-karim", w.karim},
	} {
		if err := w.st.SaveSubject(ctx, sv.sector, sv.sub, sv.person); err != nil {
			t.Fatal(err)
		}
	}
	many := []string{"sub-jeanne", "sub-karim", "sub-nobody"}
	for i := range 1200 { // more than one statement's worth
		many = append(many, "sub-x"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	tests := []struct {
		name   string
		sector string
		subs   []string
		want   map[string]string
	}{
		{"the issued ones of a list", "caf.example.fr", []string{"sub-jeanne", "sub-marie", "sub-nobody"}, map[string]string{"sub-jeanne": w.jeanne, "sub-marie": w.marie}},
		{"none of another sector", "impots.example.fr", []string{"sub-jeanne", "sub-marie"}, map[string]string{}},
		{"a long list", "caf.example.fr", many, map[string]string{"sub-jeanne": w.jeanne}},
		{"an empty list", "caf.example.fr", nil, map[string]string{}},
	}
	for _, tt := range tests {
		got, err := w.st.IssuedSubjects(ctx, tt.sector, tt.subs)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !maps.Equal(got, tt.want) {
			t.Errorf("%s: IssuedSubjects = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// testSearchIsEvaluation runs every search of the world and checks each
// against Decide, question by question: a name is a result exactly when
// the evaluation of its question is allowed.
func testSearchIsEvaluation(t *testing.T, w *searchWorld) {
	allowed := func(actor, person string, a mandates.Action, area mandates.Area) bool {
		return w.decide(t, actor, person, a, area).Decision == mandates.Allowed
	}
	checked, results := 0, 0
	for _, area := range searchAreas {
		for _, x := range w.people() {
			for _, a := range mandates.Actions {
				who := w.search(t, mandates.Search{Kind: mandates.SearchActors, PersonID: x, Action: a, Area: area})
				forWhom := w.search(t, mandates.Search{Kind: mandates.SearchPersons, ActorID: x, Action: a, Area: area})
				results += len(who.Results) + len(forWhom.Results)
				for _, y := range w.people() {
					if got, want := slices.Contains(namesOf(who), w.names[y]), allowed(y, x, a, area); got != want {
						t.Errorf("who may %s for %s in %s: %s returned %t, evaluation allows %t", a, x, area, y, got, want)
					}
					if got, want := slices.Contains(namesOf(forWhom), w.names[y]), allowed(x, y, a, area); got != want {
						t.Errorf("for whom may %s %s in %s: %s returned %t, evaluation allows %t", x, a, area, y, got, want)
					}
					checked += 2
				}
			}
			for _, y := range w.people() {
				what := w.search(t, mandates.Search{Kind: mandates.SearchActions, ActorID: x, PersonID: y, Area: area})
				for _, a := range mandates.Actions {
					if got, want := slices.Contains(namesOf(what), string(a)), allowed(x, y, a, area); got != want {
						t.Errorf("what may %s do for %s in %s: %s returned %t, evaluation allows %t", x, y, area, a, got, want)
					}
					checked++
				}
				for _, f := range what.Results {
					if f.Answer.Decision != mandates.Allowed {
						t.Errorf("result %s answers %s", f.Name, f.Answer.Decision)
					}
				}
			}
		}
	}
	if results == 0 || checked == 0 {
		t.Fatalf("%d results over %d checks: the world allows nothing", results, checked)
	}
}

func testSearchAnswers(t *testing.T, w *searchWorld) {
	n := w.names
	tests := []struct {
		name string
		in   mandates.Search
		want []string
	}{
		{"who may manage for Jeanne: her tutor, not her subrogé tuteur, not Jeanne herself", mandates.Search{Kind: mandates.SearchActors, PersonID: w.jeanne, Action: mandates.Manage, Area: "argent"}, []string{n[w.marie]}},
		{"who may consult Jeanne's account: Jeanne, her tutor and her subrogé tuteur", mandates.Search{Kind: mandates.SearchActors, PersonID: w.jeanne, Action: mandates.Consult, Area: "argent"}, sorted(n[w.jeanne], n[w.marie], n[w.karim])},
		{"who may dispose for Karim: nobody alone (the curator needs his agreement)", mandates.Search{Kind: mandates.SearchActors, PersonID: w.karim, Action: mandates.Dispose, Area: "argent"}, nil},
		{"who may manage for Fatima in social: Fatima and the aidant with a second factor, not the admin without one", mandates.Search{Kind: mandates.SearchActors, PersonID: w.fatima, Action: mandates.Manage, Area: "social"}, sorted(n[w.fatima], n[w.aidant])},
		{"who may manage for Fatima in argent: Fatima alone (the mandate does not cover it)", mandates.Search{Kind: mandates.SearchActors, PersonID: w.fatima, Action: mandates.Manage, Area: "argent"}, []string{n[w.fatima]}},
		{"for whom may Sophie manage in social: herself and Fatima", mandates.Search{Kind: mandates.SearchPersons, ActorID: w.aidant, Action: mandates.Manage, Area: "social"}, sorted(n[w.aidant], n[w.fatima])},
		{"for whom may Sophie dispose in social: herself only", mandates.Search{Kind: mandates.SearchPersons, ActorID: w.aidant, Action: mandates.Dispose, Area: "social"}, []string{n[w.aidant]}},
		{"for whom may Marie manage in argent: herself, Jeanne and Karim", mandates.Search{Kind: mandates.SearchPersons, ActorID: w.marie, Action: mandates.Manage, Area: "argent"}, sorted(n[w.marie], n[w.jeanne], n[w.karim])},
		{"for whom may Marie do a personal act: herself only", mandates.Search{Kind: mandates.SearchPersons, ActorID: w.marie, Action: mandates.Personal, Area: "argent"}, []string{n[w.marie]}},
		{"what may Marie do for Karim: consult and manage (dispose needs Karim's agreement)", mandates.Search{Kind: mandates.SearchActions, ActorID: w.marie, PersonID: w.karim, Area: "argent"}, []string{"consult", "manage"}},
		{"what may Karim, subrogé tuteur, do for Jeanne: consult", mandates.Search{Kind: mandates.SearchActions, ActorID: w.karim, PersonID: w.jeanne, Area: "argent"}, []string{"consult"}},
		{"what may Jeanne do alone: consult and personal acts", mandates.Search{Kind: mandates.SearchActions, ActorID: w.jeanne, PersonID: w.jeanne, Area: "argent"}, []string{"consult", "personal"}},
	}
	for _, tt := range tests {
		page := w.search(t, tt.in)
		if got := namesOf(page); !slices.Equal(got, tt.want) || page.Next != "" {
			t.Errorf("%s: %v (next %q), want %v", tt.name, got, page.Next, tt.want)
		}
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func testSearchNamesOnlyKnownPeople(t *testing.T, w *searchWorld) {
	delete(w.names, w.marie) // the site was never given Marie
	before := len(w.events.types())
	if got := namesOf(w.search(t, mandates.Search{Kind: mandates.SearchActors, PersonID: w.jeanne, Action: mandates.Manage, Area: "argent"})); len(got) != 0 {
		t.Errorf("who may manage for Jeanne: %v, want no one the site can name", got)
	}
	if got := namesOf(w.search(t, mandates.Search{Kind: mandates.SearchActors, PersonID: w.karim, Action: mandates.Manage, Area: "argent"})); len(got) != 0 {
		t.Errorf("who may manage for Karim: %v, want no one the site can name (Karim needs his curator's agreement)", got)
	}
	if got := namesOf(w.search(t, mandates.Search{Kind: mandates.SearchPersons, ActorID: w.karim, Action: mandates.Consult, Area: "argent"})); !slices.Equal(got, sorted(w.names[w.karim], w.names[w.jeanne])) {
		t.Errorf("for whom may Karim consult: %v, want himself and Jeanne", got)
	}
	for _, e := range w.events.events[before:] {
		if e.ActorID == w.marie || e.PersonID == w.marie {
			t.Errorf("a search journaled a decision about Marie, whom the site cannot name: %+v", e)
		}
	}
}

func testSearchPages(t *testing.T, w *searchWorld) {
	for _, in := range []mandates.Search{
		{Kind: mandates.SearchPersons, ActorID: w.marie, Action: mandates.Consult, Area: "argent"},
		{Kind: mandates.SearchActors, PersonID: w.fatima, Action: mandates.Consult, Area: "social"},
		{Kind: mandates.SearchActions, ActorID: w.marie, PersonID: w.jeanne, Area: "argent"},
	} {
		all := namesOf(w.search(t, in))
		if len(all) < 2 {
			t.Fatalf("%s search: %v, want at least two results to page", in.Kind, all)
		}
		var paged []string
		in.Limit = 1
		for range 20 {
			page := w.search(t, in)
			if len(page.Results) > 1 {
				t.Fatalf("%s search: %d results for a limit of 1", in.Kind, len(page.Results))
			}
			paged = append(paged, namesOf(page)...)
			if page.Next == "" {
				break
			}
			if page.Next <= in.After {
				t.Fatalf("%s search: next %q does not move on from %q", in.Kind, page.Next, in.After)
			}
			in.After = page.Next
		}
		if !slices.Equal(paged, all) || !slices.IsSorted(paged) {
			t.Errorf("%s search: pages %v, want %v in order", in.Kind, paged, all)
		}
	}
}

func testSearchJournal(t *testing.T, w *searchWorld) {
	before := len(w.events.events)
	page := w.search(t, mandates.Search{Kind: mandates.SearchActors, PersonID: w.jeanne, Action: mandates.Manage, Area: "argent"})
	got := w.events.events[before:]
	// Decided: Jeanne herself (no), Marie (allowed), Karim (no).
	decisions := map[string]string{}
	for _, e := range got {
		if e.Type != mandates.EventAccessEvaluated || e.PersonID != w.jeanne || e.ClientID != "caf" || e.Detail["search"] != "subject" ||
			e.Detail["action"] != "manage" || !slices.Equal(e.Areas, []mandates.Area{"argent"}) {
			t.Errorf("journaled %+v, want an evaluation of managing for Jeanne in argent by the caf's subject search", e)
		}
		decisions[e.ActorID] = e.Detail["decision"]
	}
	want := map[string]string{w.jeanne: "refused", w.marie: "allowed", w.karim: "refused"}
	if !maps.Equal(decisions, want) || len(got) != 3 || len(page.Results) != 1 {
		t.Errorf("journaled decisions %v (%d entries), want %v, one each", decisions, len(got), want)
	}
	if r := page.Results[0]; r.Answer.Representation == nil || r.Answer.Representation.Kind != mandates.Tutelle {
		t.Errorf("the result rests on %+v, want the tutelle", r.Answer.Representation)
	}
}

func testSearchInvalid(t *testing.T, w *searchWorld) {
	tests := []struct {
		name string
		in   mandates.Search
	}{
		{"an unknown kind", mandates.Search{Kind: "everyone", PersonID: w.jeanne, Action: mandates.Manage, Area: "argent", Limit: 1}},
		{"a subject search without a person", mandates.Search{Kind: mandates.SearchActors, Action: mandates.Manage, Area: "argent", Limit: 1}},
		{"a resource search without an actor", mandates.Search{Kind: mandates.SearchPersons, Action: mandates.Manage, Area: "argent", Limit: 1}},
		{"an action search without a person", mandates.Search{Kind: mandates.SearchActions, ActorID: w.marie, Area: "argent", Limit: 1}},
		{"an unknown action", mandates.Search{Kind: mandates.SearchActors, PersonID: w.jeanne, Action: "sell", Area: "argent", Limit: 1}},
		{"an unknown area", mandates.Search{Kind: mandates.SearchActors, PersonID: w.jeanne, Action: mandates.Manage, Area: "impots", Limit: 1}},
		{"no limit", mandates.Search{Kind: mandates.SearchActors, PersonID: w.jeanne, Action: mandates.Manage, Area: "argent"}},
		{"a limit above the maximum", mandates.Search{Kind: mandates.SearchActors, PersonID: w.jeanne, Action: mandates.Manage, Area: "argent", Limit: mandates.MaxSearchLimit + 1}},
	}
	for _, tt := range tests {
		if _, err := w.svc.Search(t.Context(), tt.in, "caf", w.names); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
}
