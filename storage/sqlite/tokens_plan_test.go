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
	plan := queryPlan(t, s, "UPDATE oauth_tokens SET active = 0 WHERE request_id = ? AND kind = ? AND active = 1", "g", "access")
	if !strings.Contains(plan, "USING INDEX oauth_tokens_active_grant") {
		t.Errorf("plan of a grant's deactivation:\n%s\nwant a search of oauth_tokens_active_grant", plan)
	}
	var n int
	if err := s.r.QueryRowContext(t.Context(), "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'oauth_tokens_grant'").Scan(&n); err != nil || n != 0 {
		t.Errorf("oauth_tokens_grant: %d, %v; want it dropped", n, err)
	}
}
