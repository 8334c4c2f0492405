package mandates

import (
	"errors"
	"slices"
	"testing"
)

// searchWorld: Jeanne under tutelle (tutor Marie); a desk holding an
// aidant mandate for Jeanne in social, followed by two aidants; Paul,
// whom Marie also represents, under curatelle simple.
type searchWorld struct {
	*aidantWorld
	tutor, paul, other string
	names              memNamer
}

func newSearchWorld(t *testing.T) *searchWorld {
	w := &searchWorld{aidantWorld: newAidantWorld(t, ServiceConfig{})}
	w.tutor, w.paul = w.person("Marie", "Martin"), w.person("Paul", "Durand")
	w.measure(Tutelle, w.jane, w.tutor, RoleTuteur)
	w.measure(CuratelleSimple, w.paul, w.tutor, RoleCurateur)
	w.other = w.member(w.desk, w.person("Olga", "Autre"), MemberAidant, true).PersonID
	r := w.start(w.jane, "social")
	if _, err := w.svc.AnswerForPerson(w.ctx, Actor{PersonID: w.tutor}, r.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	w.names = memNamer{w.jane: "sub-jeanne", w.tutor: "sub-marie", w.paul: "sub-paul", w.aidant.PersonID: "sub-sophie"}
	return w
}

func foundNames(p SearchPage) []string {
	out := make([]string, len(p.Results))
	for i, f := range p.Results {
		out[i] = f.Name
	}
	return out
}

func TestSearchesAnswerWhatEvaluationWouldAllow(t *testing.T) {
	w := newSearchWorld(t)
	tests := []struct {
		name string
		in   func(w *searchWorld) Search
		want []string
	}{
		{"what the tutor may do for the person", func(w *searchWorld) Search {
			return Search{Kind: SearchActions, ActorID: w.tutor, PersonID: w.jane, Area: "argent", Limit: 10}
		}, []string{"consult", "dispose", "manage"}},
		{"what the person under tutelle may do alone", func(w *searchWorld) Search {
			return Search{Kind: SearchActions, ActorID: w.jane, PersonID: w.jane, Area: "argent", Limit: 10}
		}, []string{"consult", "personal"}},
		{"who may manage the person's benefits: the tutor and the named aidant, not the person nor the unnamed one", func(w *searchWorld) Search {
			return Search{Kind: SearchActors, PersonID: w.jane, Action: Manage, Area: "social", Limit: 10}
		}, []string{"sub-marie", "sub-sophie"}},
		{"who may manage the person's money: the tutor only", func(w *searchWorld) Search {
			return Search{Kind: SearchActors, PersonID: w.jane, Action: Manage, Area: "argent", Limit: 10}
		}, []string{"sub-marie"}},
		{"for whom the tutor may consult: both people and herself", func(w *searchWorld) Search {
			return Search{Kind: SearchPersons, ActorID: w.tutor, Action: Consult, Area: "social", Limit: 10}
		}, []string{"sub-jeanne", "sub-marie", "sub-paul"}},
		{"for whom the aidant may manage, in an area of the mandate", func(w *searchWorld) Search {
			return Search{Kind: SearchPersons, ActorID: w.aidant.PersonID, Action: Manage, Area: "social", Limit: 10}
		}, []string{"sub-jeanne", "sub-sophie"}},
		{"for whom the aidant may manage, outside it: only herself", func(w *searchWorld) Search {
			return Search{Kind: SearchPersons, ActorID: w.aidant.PersonID, Action: Manage, Area: "papiers", Limit: 10}
		}, []string{"sub-sophie"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := len(w.st.events)
			p, err := w.svc.Search(w.ctx, tt.in(w), "caf", w.names)
			if err != nil {
				t.Fatal(err)
			}
			if got := foundNames(p); !slices.Equal(got, tt.want) || p.Next != "" {
				t.Errorf("found %v, next %q; want %v, no next page", got, p.Next, tt.want)
			}
			for _, f := range p.Results {
				if f.Answer.Decision != Allowed {
					t.Errorf("%s answered %s, want only allowed results", f.Name, f.Answer.Decision)
				}
			}
			for _, e := range w.st.events[events:] {
				if e.Type != EventAccessEvaluated || e.Detail["search"] != string(tt.in(w).Kind) || e.ClientID != "caf" {
					t.Errorf("event %+v, want each decision journaled as an evaluation of the search", e)
				}
			}
			if len(w.st.events) == events {
				t.Error("no decision journaled")
			}
		})
	}
}

func TestASearchNeverDecidesForPeopleTheSiteCannotName(t *testing.T) {
	w := newSearchWorld(t)
	events := len(w.st.events)
	p, err := w.svc.Search(w.ctx, Search{Kind: SearchPersons, ActorID: w.tutor, Action: Consult, Area: "social", Limit: 10}, "caf",
		memNamer{w.tutor: "sub-marie"})
	if err != nil {
		t.Fatal(err)
	}
	if got := foundNames(p); !slices.Equal(got, []string{"sub-marie"}) {
		t.Errorf("found %v, want only the person the site knows", got)
	}
	for _, e := range w.st.events[events:] {
		if e.PersonID != w.tutor {
			t.Errorf("a decision about %s was journaled, whom the site cannot name", e.PersonID)
		}
	}
}

func TestASearchIsReadPageByPage(t *testing.T) {
	w := newSearchWorld(t)
	in := Search{Kind: SearchPersons, ActorID: w.tutor, Action: Consult, Area: "social", Limit: 1}
	var all []string
	for page := 0; page < 5; page++ {
		p, err := w.svc.Search(w.ctx, in, "caf", w.names)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, foundNames(p)...)
		if p.Next == "" {
			break
		}
		in.After = p.Next
	}
	if !slices.Equal(all, []string{"sub-jeanne", "sub-marie", "sub-paul"}) {
		t.Errorf("pages gave %v, want each person once, in order", all)
	}
}

func TestMalformedSearchesAreInvalid(t *testing.T) {
	w := newSearchWorld(t)
	ok := Search{Kind: SearchActors, PersonID: w.jane, Action: Consult, Area: "social", Limit: 10}
	tests := []struct {
		name   string
		change func(s *Search)
	}{
		{"an unknown kind", func(s *Search) { s.Kind = "everything" }},
		{"a person search without an actor", func(s *Search) { s.Kind = SearchPersons }},
		{"an actor search without a person", func(s *Search) { s.PersonID = "" }},
		{"an unknown action", func(s *Search) { s.Action = "vote" }},
		{"an unknown area", func(s *Search) { s.Area = "lune" }},
		{"a limit of zero", func(s *Search) { s.Limit = 0 }},
		{"a limit over the maximum", func(s *Search) { s.Limit = MaxSearchLimit + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.change(&in)
			if _, err := w.svc.Search(w.ctx, in, "caf", w.names); !errors.Is(err, ErrInvalid) {
				t.Errorf("Search = %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("a store failure is not an empty answer", func(t *testing.T) {
		for _, method := range []string{"DecisionFacts", "Members"} {
			w.st.failOn(method, ErrUnavailable)
			if _, err := w.svc.Search(w.ctx, ok, "caf", w.names); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Search when %s fails = %v, want ErrUnavailable", method, err)
			}
			w.st.failOn(method, nil)
		}
		for _, method := range []string{"MembershipsOf", "RepresentationsBy"} {
			w.st.failOn(method, ErrUnavailable)
			in := Search{Kind: SearchPersons, ActorID: w.tutor, Action: Consult, Area: "social", Limit: 10}
			if _, err := w.svc.Search(w.ctx, in, "caf", w.names); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Search when %s fails = %v, want ErrUnavailable", method, err)
			}
			w.st.failOn(method, nil)
		}
	})
}
