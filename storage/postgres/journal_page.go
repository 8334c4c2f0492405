package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates/journal"
)

// JournalPage implements journal.Pager. One chain reads by its primary
// key (chain, seq); an organisation's entries by journal_entries_organisation
// (organisation_id, at, chain COLLATE "C", seq), in the page's order; the
// other filters scan by time (journal_entries_at). Chains compare in byte
// order (COLLATE "C"), as everywhere in the journal.
func (s *Store) JournalPage(ctx context.Context, q journal.Query) ([]journal.Stored, error) {
	text, args := journalPageQuery(q)
	var out []journal.Stored
	err := s.readTx(ctx, func(tx querier) error {
		rows, err := tx.Query(ctx, text, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var has bool
			var salt []byte
			var detail *string
			var erased *time.Time
			var reason string
			e, err := scanEntry(rows, &has, &salt, &detail, &erased, &reason)
			if err != nil {
				return err
			}
			st := journal.Stored{Entry: e}
			if has {
				d := &journal.Detail{Salt: salt, Reason: reason}
				if detail != nil {
					if err := json.Unmarshal([]byte(*detail), &d.Fields); err != nil {
						return fmt.Errorf("journal %s detail %d: %w", e.Chain, e.Seq, err)
					}
				}
				if erased != nil {
					d.ErasedAt = erased.UTC()
				}
				st.Detail = d
			}
			out = append(out, st)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("journal page: %w", mapErr(err, ""))
	}
	return out, nil
}

// journalPageQuery is the statement JournalPage runs for q, and its
// arguments.
func journalPageQuery(q journal.Query) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	for _, f := range []struct{ col, v string }{{"e.chain", q.Chain}, {"e.organisation_id", q.OrganisationID},
		{"e.actor_id", q.ActorID}, {"e.client_id", q.ClientID}, {"e.type", string(q.Type)}} {
		if f.v != "" {
			where = append(where, f.col+" = "+arg(f.v))
		}
	}
	if q.NotActorID != "" {
		where = append(where, "e.actor_id <> "+arg(q.NotActorID))
	}
	if !q.Scope.Whole() {
		// An entry in the reader's scope names one of its areas.
		where = append(where, "e.areas && "+arg(texts(q.Scope.Areas()))+"::text[]")
	}
	if q.OrganisationID != "" {
		// The term of journal_entries_organisation's WHERE, so that the
		// planner knows the partial index holds every row asked for.
		where = append(where, "e.organisation_id <> ''")
	}
	switch {
	case q.Before.IsZero():
	case q.Chain != "":
		// One chain reads by its primary key, in the chain's order.
		where = append(where, "e.seq < "+arg(q.Before.Seq))
	default:
		// A row comparison: an index that ends with (at, chain COLLATE "C",
		// seq) starts the page at the position, where OR-ed terms would not.
		where = append(where, fmt.Sprintf(`(e.at, e.chain COLLATE "C", e.seq) < (%s, %s, %s)`,
			arg(q.Before.At.UTC()), arg(q.Before.Chain), arg(q.Before.Seq)))
	}
	text := `SELECT ` + entryColumns + `, d.chain IS NOT NULL, d.salt, d.detail, d.erased_at, coalesce(d.erasure_reason, '')
		FROM journal_entries e LEFT JOIN journal_details d ON d.chain = e.chain AND d.seq = e.seq`
	if len(where) > 0 {
		text += ` WHERE ` + strings.Join(where, " AND ")
	}
	if q.Chain != "" {
		text += ` ORDER BY e.seq DESC LIMIT ` + arg(q.PageLimit())
	} else {
		text += ` ORDER BY e.at DESC, e.chain COLLATE "C" DESC, e.seq DESC LIMIT ` + arg(q.PageLimit())
	}
	return text, args
}
