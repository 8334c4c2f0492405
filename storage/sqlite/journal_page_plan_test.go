package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates/journal"
)

// TestOrganisationJournalPageReadsItsIndex: an organisation's page of
// the journal searches journal_entries_organisation and reads it in the
// page's order (no sort), with or without a position and the other
// filters; migration 00014's Down removes the index, and Up brings it back.
func TestOrganisationJournalPageReadsItsIndex(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "relais.db"), Options{})
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
	before := journal.Position{At: time.Now(), Chain: "0190", Seq: 3}
	queries := map[string]journal.Query{
		"the newest page":            {OrganisationID: "org", Limit: 21},
		"an older page":              {OrganisationID: "org", Before: before, Limit: 21},
		"filtered by actor and site": {OrganisationID: "org", ActorID: "a", ClientID: "caf", Before: before, Limit: 21},
	}
	plan := func(t *testing.T, q journal.Query) string {
		t.Helper()
		text, args := journalPageQuery(q)
		conn, err := s.r.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// EXPLAIN reads no table, so it would not notice a schema changed
		// by another connection: a read first loads the current one.
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
			t.Fatal(err)
		}
		rows, err := conn.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var steps []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, detail)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(steps, "\n")
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			got := plan(t, q)
			if !strings.Contains(got, "SEARCH e USING INDEX journal_entries_organisation (organisation_id=?") || strings.Contains(got, "TEMP B-TREE") {
				t.Errorf("the plan does not read journal_entries_organisation in order:\n%s", got)
			}
		})
	}
	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	if got := plan(t, queries["the newest page"]); strings.Contains(got, "journal_entries_organisation") {
		t.Errorf("after Down, the plan still reads the index:\n%s", got)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := plan(t, queries["the newest page"]); !strings.Contains(got, "journal_entries_organisation") {
		t.Errorf("after Up again, the plan does not read the index:\n%s", got)
	}
}
