package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// testJournalPage: pages come newest first, filtered, and a page read
// from the last entry's position goes on without a gap or a repeat, across
// chains and entries written in the same millisecond.
func testJournalPage(t *testing.T, s JournalStore, _ SQL) {
	ctx := t.Context()
	j := journal.New(s, journal.Options{})
	anne, paul, org := mandates.NewID(journalT0), mandates.NewID(journalT0), mandates.NewID(journalT0)
	aidant := mandates.NewID(journalT0)

	emit := func(person string, i int, e mandates.Event) {
		e.PersonID, e.Type = person, mandates.EventTokenIssued
		e.At = journalT0.Add(time.Duration(i/2) * time.Second) // two entries share each instant
		if err := j.Emit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 9 {
		person := anne
		if i%2 == 1 {
			person = paul
		}
		e := mandates.Event{ActorID: person, ClientID: "caf"}
		if i%3 == 0 {
			e.ActorID, e.OrganisationID, e.ClientID = aidant, org, "impots"
		}
		emit(person, i, e)
	}
	all, err := s.JournalPage(ctx, journal.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 9 {
		t.Fatalf("%d entries, want 9", len(all))
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.At.Before(b.At) {
			t.Errorf("entry %d (%v) is older than entry %d (%v)", i-1, a.At, i, b.At)
		}
	}
	if all[0].Detail == nil {
		t.Error("a page's entries come without their detail")
	}
	// Paging by three goes through the same entries in the same order.
	var paged []journal.Stored
	q := journal.Query{Limit: 3}
	for {
		p, err := s.JournalPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		paged = append(paged, p...)
		q.Before = p[len(p)-1].Position()
	}
	if !slices.Equal(positions(paged), positions(all)) {
		t.Errorf("paging by three gives %v, want %v", positions(paged), positions(all))
	}
	for _, c := range []struct {
		name string
		q    journal.Query
		want int
	}{
		{"one chain", journal.Query{Chain: anne}, 5},
		{"one organisation's aidants", journal.Query{OrganisationID: org}, 3},
		{"one actor", journal.Query{ActorID: paul}, 3},
		{"one site", journal.Query{ClientID: "impots"}, 3},
		{"what others did in one chain", journal.Query{Chain: anne, NotActorID: anne}, 2},
		{"one type", journal.Query{Type: mandates.EventTokenIssued}, 9},
		{"a type nobody wrote", journal.Query{Chain: anne, Type: mandates.EventActReported}, 0},
		{"one chain and one site", journal.Query{Chain: anne, ClientID: "caf"}, 3},
		{"nobody", journal.Query{Chain: mandates.NewID(journalT0)}, 0},
	} {
		got, err := s.JournalPage(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want {
			t.Errorf("%s: %d entries, want %d", c.name, len(got), c.want)
		}
		for _, e := range got {
			if c.q.Chain != "" && e.Chain != c.q.Chain || c.q.OrganisationID != "" && e.OrganisationID != c.q.OrganisationID ||
				c.q.ActorID != "" && e.ActorID != c.q.ActorID || c.q.ClientID != "" && e.ClientID != c.q.ClientID {
				t.Errorf("%s: entry %+v does not match", c.name, e.Entry)
			}
		}
	}
}

// testJournalPageScope: a reader limited to some procedure areas
// (mandates.JournalScope) gets, from the store's query itself, only the
// entries that name one of them: never one outside, pages full until the
// last, and a page read from the last entry's position goes on without a
// gap or a repeat. Whatever the query reads by: one chain, an
// organisation, an actor.
func testJournalPageScope(t *testing.T, s JournalStore, _ SQL) {
	ctx := t.Context()
	j := journal.New(s, journal.Options{})
	anne, paul, org, aidant := mandates.NewID(journalT0), mandates.NewID(journalT0), mandates.NewID(journalT0), mandates.NewID(journalT0)
	areas := [][]mandates.Area{{"social"}, {"argent", "papiers"}, nil, {"sante"}}
	for i := range 24 {
		person := anne
		if i%5 == 4 {
			person = paul
		}
		e := mandates.Event{Type: mandates.EventTokenIssued, PersonID: person, ActorID: aidant, OrganisationID: org,
			At: journalT0.Add(time.Duration(i/2) * time.Second), Areas: areas[i%len(areas)]}
		if err := j.Emit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	read := func(q journal.Query) []journal.Stored {
		t.Helper()
		var out []journal.Stored
		for {
			p, err := s.JournalPage(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p...)
			if len(p) < q.PageLimit() {
				return out
			}
			if len(p) != q.PageLimit() {
				t.Fatalf("a page of %d entries, want at most %d", len(p), q.PageLimit())
			}
			q.Before = p[len(p)-1].Position()
		}
	}
	scopes := []struct {
		name  string
		scope mandates.JournalScope
		none  bool // the scope shows none of the entries written
	}{
		{"social and papiers", mandates.JournalWithin([]mandates.Area{"papiers", "social"}), false},
		{"argent only", mandates.JournalWithin([]mandates.Area{"argent"}), false},
		{"an area no entry names", mandates.JournalWithin([]mandates.Area{"logement"}), true},
		{"no area at all", mandates.JournalWithin(nil), true},
		{"the whole journal", mandates.JournalScope{}, false},
	}
	queries := []struct {
		name string
		q    journal.Query
	}{
		{"one chain", journal.Query{Chain: anne}},
		{"one organisation", journal.Query{OrganisationID: org}},
		{"one actor", journal.Query{ActorID: aidant}},
	}
	for _, qc := range queries {
		every := read(qc.q)
		for _, sc := range scopes {
			var want []journal.Stored
			for _, e := range every {
				if sc.scope.Shows(e.Areas) {
					want = append(want, e)
				}
			}
			if sc.none != (len(want) == 0) {
				t.Fatalf("%s, %s: the fixture shows %d entries", qc.name, sc.name, len(want))
			}
			if sc.scope.Whole() && len(want) != len(every) {
				t.Errorf("%s: the whole journal shows %d of %d entries", qc.name, len(want), len(every))
			}
			q := qc.q
			q.Scope = sc.scope
			// One page as large as can be, then pages of three.
			whole, err := s.JournalPage(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			q.Limit = 3
			paged := read(q)
			for name, got := range map[string][]journal.Stored{"one page": whole, "pages of three": paged} {
				for _, e := range got {
					if !sc.scope.Shows(e.Areas) {
						t.Errorf("%s, %s, %s: entry %s/%d names %v, outside the scope", qc.name, sc.name, name, e.Chain, e.Seq, e.Areas)
					}
				}
				if !slices.Equal(positions(got), positions(want)) {
					t.Errorf("%s, %s, %s: %v, want %v", qc.name, sc.name, name, positions(got), positions(want))
				}
			}
		}
	}
}

// positions are where the entries stand, to compare pages.
func positions(es []journal.Stored) []journal.Position {
	var out []journal.Position
	for _, e := range es {
		out = append(out, e.Position())
	}
	return out
}
