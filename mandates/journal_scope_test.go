package mandates

import (
	"slices"
	"testing"
)

func TestJournalScopeShows(t *testing.T) {
	tests := []struct {
		name  string
		scope JournalScope
		areas []Area
		want  bool
	}{
		{"the whole journal shows an entry of any area", JournalScope{}, []Area{"sante"}, true},
		{"the whole journal shows an entry of no area", JournalScope{}, nil, true},
		{"a limited scope shows an entry of one of its areas", JournalWithin([]Area{"social", "papiers"}), []Area{"argent", "papiers"}, true},
		{"a limited scope hides an entry of other areas", JournalWithin([]Area{"social"}), []Area{"argent", "papiers"}, false},
		{"a limited scope hides an entry about the whole account", JournalWithin([]Area{"social"}), nil, false},
		{"a scope of no area shows nothing", JournalWithin(nil), []Area{"social"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.scope.Shows(tt.areas); got != tt.want {
				t.Errorf("Shows(%v) = %v, want %v", tt.areas, got, tt.want)
			}
		})
	}
}

func TestJournalScopeAreas(t *testing.T) {
	in := []Area{"social", "argent", "social"}
	s := JournalWithin(in)
	if s.Whole() {
		t.Error("a scope within areas is whole")
	}
	if got := s.Areas(); !slices.Equal(got, []Area{"argent", "social"}) {
		t.Errorf("Areas() = %v, want argent, social once each, sorted", got)
	}
	s.Areas()[0] = "sante"
	in[1] = "sante"
	if got := s.Areas(); got[0] != "argent" {
		t.Errorf("the scope shares its areas with a caller: %v", got)
	}
	if w := (JournalScope{}); !w.Whole() || w.Areas() != nil {
		t.Errorf("the zero scope: whole %v, areas %v; want whole, nil", w.Whole(), w.Areas())
	}
}
