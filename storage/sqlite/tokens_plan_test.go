package sqlite

import (
	"strings"
	"testing"
)

// A grant's active records are found by the partial index alone: the full
// index of request_id is gone (migration 00035), and rotating or revoking
// a grant must still not scan the table.
func TestDeactivatingAGrantReadsTheActiveGrantIndex(t *testing.T) {
	s, _ := migratedForPlans(t)
	ctx := t.Context()
	conn, err := s.r.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A read first, so that the connection loads the migrated schema (see
	// pagePlan); the grant's full index must be gone.
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'oauth_tokens_grant'").Scan(&n); err != nil || n != 0 {
		t.Errorf("oauth_tokens_grant: %d, %v; want it dropped", n, err)
	}
	rows, err := conn.QueryContext(ctx, "EXPLAIN QUERY PLAN UPDATE oauth_tokens SET active = 0 WHERE request_id = ? AND kind = ? AND active = 1", "g", "access")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan, "\n"); !strings.Contains(got, "USING INDEX oauth_tokens_active_grant") {
		t.Errorf("plan of a grant's deactivation:\n%s\nwant a search of oauth_tokens_active_grant", got)
	}
}
