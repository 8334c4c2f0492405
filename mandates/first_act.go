package mandates

import (
	"context"
	"time"
)

// FirstAct is the first time an actor acted for a person at a site: the
// first token the site got for the person with the actor acting
// (EventSiteFirstAct).
type FirstAct struct {
	PersonID         string
	ActorID          string
	ClientID         string
	RepresentationID string // the representation used that first time
	At               time.Time
}

// FirstActStore remembers, once per person, actor and site, that the
// actor acted for the person there.
type FirstActStore interface {
	// RecordFirstAct, in the transaction in ctx or in its own, records a
	// unless the store holds an act of the same person, actor and site,
	// and says whether it did. Of two transactions recording the same
	// three at once, one records and the other records nothing (a unique
	// key), so the event that goes with it is written once.
	RecordFirstAct(ctx context.Context, a FirstAct) (bool, error)
}
