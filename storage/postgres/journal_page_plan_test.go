package postgres

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// searchesOrganisation: the index is searched by organisation, alone or
// with the position.
var searchesOrganisation = regexp.MustCompile(`Index Cond: \(+organisation_id = 'org-10'::text\)`)

// TestOrganisationJournalPageReadsItsIndex: on a journal of 100,000
// entries, one in ten by one of 3 aidants for one of 20 organisations, an
// organisation's page of the journal reads journal_entries_organisation
// in the page's order (no sort), with or without a position and the other
// filters; migration 00014's Down removes the index, and Up brings it back.
func TestOrganisationJournalPageReadsItsIndex(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, pgtest.NewDatabase(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := s.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	for _, statement := range []string{
		`INSERT INTO journal_entries (chain, seq, type, at, actor_id, organisation_id, client_id, detail_hash, prev_hash, hash)
		 SELECT 'c' || (i % 2000), i / 2000 + 1, 'token.issued', timestamptz '2027-01-01 00:00:00Z' + i * interval '1 second',
		        CASE WHEN i % 10 = 0 THEN 'aidant-' || (i % 30 / 10) ELSE 'c' || (i % 2000) END,
		        CASE WHEN i % 10 = 0 THEN 'org-' || (i % 200) ELSE '' END, 'caf', '\x00', '\x00', '\x00'
		 FROM generate_series(0, 99999) AS i`,
		`ANALYZE journal_entries`,
	} {
		if _, err := s.pool.Exec(ctx, statement); err != nil {
			t.Fatalf("%s: %v", statement, err)
		}
	}
	before := journal.Position{At: time.Date(2027, 1, 1, 20, 0, 0, 0, time.UTC), Chain: "c10", Seq: 30}
	newest := journal.Query{OrganisationID: "org-10", Limit: 21}
	cases := []struct {
		name string
		q    journal.Query
		// ordered: the page reads the index in its order and stops at
		// its end. A page filtered further may instead read the entries
		// of the organisation from the position on and sort the few the
		// planner expects; either way the index bounds what it reads.
		ordered bool
	}{
		{"the newest page", newest, true},
		{"an older page", journal.Query{OrganisationID: "org-10", Before: before, Limit: 21}, true},
		{"filtered by an aidant and a site", journal.Query{OrganisationID: "org-10", ActorID: "aidant-1", ClientID: "caf", Before: before, Limit: 21}, false},
	}
	plan := func(t *testing.T, q journal.Query) string {
		t.Helper()
		text, args := journalPageQuery(q)
		rows, err := s.pool.Query(ctx, "EXPLAIN "+text, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := plan(t, c.q)
			if !strings.Contains(got, "journal_entries_organisation") || !searchesOrganisation.MatchString(got) {
				t.Errorf("the plan does not search journal_entries_organisation:\n%s", got)
			}
			if !c.q.Before.IsZero() && !strings.Contains(got, "Index Cond: ((organisation_id = 'org-10'::text) AND (ROW(at, (chain)::text, seq) < ROW(") {
				t.Errorf("the plan does not start at the position in the index:\n%s", got)
			}
			if c.ordered && (!strings.Contains(got, "Index Scan Backward using journal_entries_organisation") || strings.Contains(got, "Sort")) {
				t.Errorf("the plan does not read journal_entries_organisation in the page's order:\n%s", got)
			}
		})
	}
	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	if got := plan(t, newest); strings.Contains(got, "journal_entries_organisation") {
		t.Errorf("after Down, the plan still reads the index:\n%s", got)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := plan(t, newest); !strings.Contains(got, "journal_entries_organisation") {
		t.Errorf("after Up again, the plan does not read the index:\n%s", got)
	}
}
