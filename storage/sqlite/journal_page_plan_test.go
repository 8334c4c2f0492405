package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/relais-fr/relais/mandates/journal"
)

// migratedForPlans is a migrated store and its migrations, to read query
// plans.
func migratedForPlans(t *testing.T) (*Store, *goose.Provider) {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "relais.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := s.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, p
}

// pagePlan is SQLite's plan for the page q asks, one step a line.
func pagePlan(t *testing.T, s *Store, q journal.Query) string {
	t.Helper()
	text, args := journalPageQuery(q)
	return queryPlan(t, s, text, args...)
}

// queryPlan is SQLite's plan for the statement text with args, one step a
// line, as a reader connection sees the current schema.
func queryPlan(t *testing.T, s *Store, text string, args ...any) string {
	t.Helper()
	ctx := t.Context()
	conn, err := s.r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// EXPLAIN reads no table, so it would not notice a schema changed by
	// another connection: a read first loads the current one.
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

// TestOrganisationJournalPageReadsItsIndex: an organisation's page of
// the journal searches journal_entries_organisation and reads it in the
// page's order (no sort), with or without a position and the other
// filters; migration 00014's Down removes the index, and Up brings it back.
func TestOrganisationJournalPageReadsItsIndex(t *testing.T) {
	ctx := t.Context()
	s, p := migratedForPlans(t)
	before := journal.Position{At: time.Now(), Chain: "0190", Seq: 3}
	queries := map[string]journal.Query{
		"the newest page":            {OrganisationID: "org", Limit: 21},
		"an older page":              {OrganisationID: "org", Before: before, Limit: 21},
		"filtered by actor and site": {OrganisationID: "org", ActorID: "a", ClientID: "caf", Before: before, Limit: 21},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			got := pagePlan(t, s, q)
			if !strings.Contains(got, "SEARCH e USING INDEX journal_entries_organisation (organisation_id=?") || strings.Contains(got, "TEMP B-TREE") {
				t.Errorf("the plan does not read journal_entries_organisation in order:\n%s", got)
			}
		})
	}
	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	if got := pagePlan(t, s, queries["the newest page"]); strings.Contains(got, "journal_entries_organisation") {
		t.Errorf("after Down, the plan still reads the index:\n%s", got)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pagePlan(t, s, queries["the newest page"]); !strings.Contains(got, "journal_entries_organisation") {
		t.Errorf("after Up again, the plan does not read the index:\n%s", got)
	}
}

// TestChainJournalPageReadsItsPrimaryKey: a person's journal page reads
// their chain by its primary key, newest first, without sorting: a chain
// that every access evaluation lengthens costs a page the same whatever
// its length.
func TestChainJournalPageReadsItsPrimaryKey(t *testing.T) {
	s, _ := migratedForPlans(t)
	before := journal.Position{At: time.Now(), Chain: "0190", Seq: 3}
	for name, q := range map[string]journal.Query{
		"the newest page":            {Chain: "0190", Limit: 21},
		"an older page":              {Chain: "0190", Before: before, Limit: 21},
		"filtered by actor and site": {Chain: "0190", ActorID: "a", ClientID: "caf", Before: before, Limit: 21},
	} {
		t.Run(name, func(t *testing.T) {
			got := pagePlan(t, s, q)
			if !strings.Contains(got, "SEARCH e USING PRIMARY KEY (chain=?") || strings.Contains(got, "TEMP B-TREE") {
				t.Errorf("the plan does not read the chain by its primary key in order:\n%s", got)
			}
		})
	}
}
