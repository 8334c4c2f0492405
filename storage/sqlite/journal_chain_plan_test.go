package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates/journal"
)

// TestChainJournalPageReadsItsPrimaryKey: a person's journal page reads
// their chain by its primary key, newest first, without sorting: a chain
// that every access evaluation lengthens costs a page the same whatever
// its length.
func TestChainJournalPageReadsItsPrimaryKey(t *testing.T) {
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
	for name, q := range map[string]journal.Query{
		"the newest page":            {Chain: "0190", Limit: 21},
		"an older page":              {Chain: "0190", Before: before, Limit: 21},
		"filtered by actor and site": {Chain: "0190", ActorID: "a", ClientID: "caf", Before: before, Limit: 21},
	} {
		t.Run(name, func(t *testing.T) {
			text, args := journalPageQuery(q)
			rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+text, args...)
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
			got := strings.Join(steps, "\n")
			if !strings.Contains(got, "SEARCH e USING PRIMARY KEY (chain=?") || strings.Contains(got, "TEMP B-TREE") {
				t.Errorf("the plan does not read the chain by its primary key in order:\n%s", got)
			}
		})
	}
}
