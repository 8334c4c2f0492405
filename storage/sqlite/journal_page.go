package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/relais-fr/relais/mandates/journal"
	"github.com/relais-fr/relais/storage/internal/jsoncol"
)

// JournalPage implements journal.Pager. One chain reads by its primary
// key (chain, seq); an organisation's entries by journal_entries_organisation
// (organisation_id, at, chain, seq), in the page's order; the other filters
// scan by time (journal_entries_at).
func (s *Store) JournalPage(ctx context.Context, q journal.Query) ([]journal.Stored, error) {
	text, args := journalPageQuery(q)
	rows, err := s.reader(ctx).QueryContext(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("journal page: %w", mapErr(err, ""))
	}
	defer rows.Close()
	var out []journal.Stored
	for rows.Next() {
		var has bool
		var salt []byte
		var detail sql.NullString
		var erased sql.NullInt64
		var reason string
		e, err := scanEntry(rows, &has, &salt, &detail, &erased, &reason)
		if err != nil {
			return nil, err
		}
		st := journal.Stored{Entry: e}
		if has {
			d := &journal.Detail{Salt: salt, ErasedAt: fromNullMS(erased), Reason: reason}
			if detail.Valid {
				if err := json.Unmarshal([]byte(detail.String), &d.Fields); err != nil {
					return nil, fmt.Errorf("journal %s detail %d: %w", e.Chain, e.Seq, err)
				}
			}
			st.Detail = d
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal page: %w", mapErr(err, ""))
	}
	return out, nil
}

// journalPageQuery is the statement JournalPage runs for q, and its
// arguments.
func journalPageQuery(q journal.Query) (string, []any) {
	var where []string
	var args []any
	for _, f := range []struct{ col, v string }{{"e.chain", q.Chain}, {"e.organisation_id", q.OrganisationID},
		{"e.actor_id", q.ActorID}, {"e.client_id", q.ClientID}, {"e.type", string(q.Type)}} {
		if f.v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	if q.NotActorID != "" {
		where = append(where, "e.actor_id <> ?")
		args = append(args, q.NotActorID)
	}
	if !q.Scope.Whole() {
		// An entry in the reader's scope names one of its areas.
		where = append(where, "EXISTS (SELECT 1 FROM json_each(e.areas) a WHERE a.value IN (SELECT value FROM json_each(?)))")
		args = append(args, jsoncol.Array(q.Scope.Areas()))
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
		where = append(where, "e.seq < ?")
		args = append(args, q.Before.Seq)
	default:
		// A row value: an index that ends with (at, chain, seq) starts
		// the page at the position, where OR-ed terms would not.
		where = append(where, "(e.at, e.chain, e.seq) < (?, ?, ?)")
		args = append(args, ms(q.Before.At), q.Before.Chain, q.Before.Seq)
	}
	text := `SELECT ` + entryColumns + `, d.chain IS NOT NULL, d.salt, d.detail, d.erased_at, coalesce(d.erasure_reason, '')
		FROM journal_entries e LEFT JOIN journal_details d ON d.chain = e.chain AND d.seq = e.seq`
	if len(where) > 0 {
		text += ` WHERE ` + strings.Join(where, " AND ")
	}
	if q.Chain != "" {
		text += ` ORDER BY e.seq DESC LIMIT ?`
	} else {
		text += ` ORDER BY e.at DESC, e.chain DESC, e.seq DESC LIMIT ?`
	}
	return text, append(args, q.PageLimit())
}
