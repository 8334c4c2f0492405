package sqlite

import (
	"strings"
	"testing"
	"time"
)

// Each batch of the cleanup finds its rows by an index on their expiry
// (migration 00037 added those missing): a scan of the table would read
// every live session or token once a minute.
func TestDeletingExpiredRecordsReadsAnIndex(t *testing.T) {
	s, _ := migratedForPlans(t)
	for kind, q := range expiredTables {
		t.Run(string(kind), func(t *testing.T) {
			plan := queryPlan(t, s, deleteExpiredSQL(q.table, q.where), ms(time.Now()), 1000)
			indexed := false
			for _, step := range strings.Split(plan, "\n") {
				step = strings.TrimSpace(step)
				indexed = indexed || strings.HasPrefix(step, "SEARCH "+q.table+" USING INDEX") || strings.HasPrefix(step, "SEARCH "+q.table+" USING COVERING INDEX")
				if step == "SCAN "+q.table {
					indexed = false
					break
				}
			}
			if !indexed {
				t.Errorf("plan of the deletion of expired %s:\n%s\nwant a search of an index on %s", kind, plan, q.table)
			}
		})
	}
}
