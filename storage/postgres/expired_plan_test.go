package postgres

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/storage/postgres/pgtest"
)

// indexScan is a step that searches an index, alone or for a bitmap.
var indexScan = regexp.MustCompile(`(Index Scan|Index Only Scan|Bitmap Index Scan) (using|on) \w+`)

// TestDeletingExpiredRecordsReadsAnIndex: each batch of the cleanup can
// find its rows by an index on their expiry (migration 00037 added those
// missing). Sequential scans are turned off for the EXPLAIN: on the empty
// tables of a test the planner would rightly prefer them, and the
// question is whether an index serves the condition at all.
func TestDeletingExpiredRecordsReadsAnIndex(t *testing.T) {
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
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	for kind, q := range expiredTables {
		t.Run(string(kind), func(t *testing.T) {
			rows, err := conn.Query(ctx, "EXPLAIN "+deleteExpiredSQL(q.table, q.where), time.Now().UTC(), 1000)
			if err != nil {
				t.Fatal(err)
			}
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
			plan := strings.Join(lines, "\n")
			// With sequential scans off, PostgreSQL still scans the table
			// when no index serves the condition.
			if !indexScan.MatchString(plan) || strings.Contains(plan, "Seq Scan") {
				t.Errorf("plan of the deletion of expired %s:\n%s\nwant a search of an index on %s", kind, plan, q.table)
			}
		})
	}
}
