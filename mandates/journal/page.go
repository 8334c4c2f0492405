package journal

import (
	"context"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Pager reads a journal for people, newest first, a page at a time.
type Pager interface {
	// JournalPage returns up to q.Limit entries that match q, each with its
	// detail, newest first: by time, then chain, then sequence number, all
	// descending. With q.Chain set, in the chain's own order: by sequence
	// number descending, its order of writing (two writers racing may
	// stamp times a few milliseconds out of that order), which its primary
	// key reads without sorting however long the chain. With q.Before set,
	// only entries older than that position. With q.Scope limited, only
	// the entries it shows (mandates.JournalScope.Shows), filtered in the
	// query so that a page holds q.Limit entries when that many match.
	JournalPage(ctx context.Context, q Query) ([]Stored, error)
}

// Query selects entries for a page. Empty fields select everything.
type Query struct {
	Chain          string             // one chain: a person's id, "admin"…
	OrganisationID string             // entries of people acting for this organisation
	ActorID        string             // entries of one actor
	ClientID       string             // entries about one site
	Type           mandates.EventType // entries of one type
	// NotActorID leaves out the entries of one actor: what others did
	// (« Ce qui a été fait pour moi »).
	NotActorID string
	// Scope is what the reader may see of the entries (the domain says,
	// mandates.Service.JournalScope); its zero value, all of them.
	Scope  mandates.JournalScope
	Before Position
	Limit  int // at most MaxPage; 0 means MaxPage
}

// MaxPage bounds a page.
const MaxPage = 200

// Position is where an entry stands in newest-first order; its zero value
// is before the newest entry.
type Position struct {
	At    time.Time
	Chain string
	Seq   int64
}

// IsZero says whether p is the start.
func (p Position) IsZero() bool { return p.At.IsZero() && p.Chain == "" && p.Seq == 0 }

// Position is where s stands; the next page starts there.
func (s Stored) Position() Position { return Position{At: s.At, Chain: s.Chain, Seq: s.Seq} }

// PageLimit is the number of entries a store returns for q.
func (q Query) PageLimit() int {
	if q.Limit <= 0 || q.Limit > MaxPage {
		return MaxPage
	}
	return q.Limit
}
