package notices

import (
	"context"
	"slices"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Store is the outbox: what the notifier and the dispatcher need of a
// store. Both stores implement it (storage/sqlite, storage/postgres) with
// plain SQL that stays within what PostgreSQL-compatible distributed
// engines accept: no advisory lock, no LISTEN/NOTIFY, no FOR UPDATE SKIP
// LOCKED. Claims are optimistic: read the due candidates, then for each
// one UPDATE … WHERE id = $1 AND version = $2; a lost race skips it.
type Store interface {
	// InTx runs fn in one transaction (mandates.Transactor); the
	// dispatcher marks a notice failed, writes its paper fallback and
	// journals it in one.
	mandates.Transactor
	// CreateNotice writes n, pending, with Version 1, in the transaction
	// in ctx (the act's, so the act and its notices commit together) or in
	// its own. It refuses an invalid notice (mandates.InvalidError), a
	// notice not pending or holding a lease (InvalidError on status or
	// lease), a taken id and a second fallback of one notice
	// (*mandates.UniqueError on "id" or "fallback_of").
	CreateNotice(ctx context.Context, n Notice) error
	// Notice reads one notice; mandates.ErrNotFound for an unknown id.
	Notice(ctx context.Context, id string) (Notice, error)
	// Claim takes, at most limit, pending notices of the given channels
	// (never paper) whose NextAttemptAt is at or before now and whose lease
	// is free or expired (LeaseUntil at or before now), soonest first,
	// giving each a lease to owner until now+lease (Version+1). Two
	// concurrent claims never both get one notice. Without channels it
	// claims nothing.
	Claim(ctx context.Context, owner string, channels []Channel, now time.Time, lease time.Duration, limit int) ([]Notice, error)
	// Record writes the outcome of a send: it reads the stored notice and
	// applies fn through ApplyRecord, which refuses with ErrLeaseLost when
	// held (the notice as Claim returned it) no longer holds the lease
	// (another dispatcher claimed it since, or it was recorded), and with a
	// *TransitionError an illegal status change. The lease is released.
	// It joins the transaction in ctx. It returns the notice as stored.
	Record(ctx context.Context, held Notice, fn func(*Notice) error) (Notice, error)
	// NoticesOf lists, at most limit, newest first, the notices about the
	// person (PersonID), every status and channel: what operators see.
	NoticesOf(ctx context.Context, personID string, limit int) ([]Notice, error)
	// ToPrint lists, at most limit, oldest first, the pending paper
	// notices: the letters not yet handed to the print service.
	ToPrint(ctx context.Context, limit int) ([]Notice, error)
	// MarkHandedOver marks the pending paper notices ids handed over at
	// `at`, all in one transaction (the one in ctx, or its own): when one
	// cannot be (unknown: ErrNotFound; not a pending paper notice:
	// *TransitionError; changed meanwhile: ErrConflict), none is.
	MarkHandedOver(ctx context.Context, ids []string, at time.Time) error
}

// CheckClaim refuses the arguments of a claim no dispatcher sends: an
// owner that is empty or too long, a lease or a limit that is not
// positive. Both stores call it.
func CheckClaim(owner string, lease time.Duration, limit int) error {
	switch {
	case owner == "" || len(owner) > MaxOwner:
		return &mandates.InvalidError{Field: "owner", Rule: mandates.RuleRequired}
	case lease <= 0:
		return &mandates.InvalidError{Field: "lease", Rule: mandates.RuleRequired}
	case limit <= 0:
		return &mandates.InvalidError{Field: "limit", Rule: mandates.RuleRequired}
	}
	return nil
}

// Electronic is, as the stores write them, the known channels of cs that
// a dispatcher claims: never paper, each once.
func Electronic(cs []Channel) []string {
	var out []string
	for _, c := range cs {
		if c.Valid() && c != Paper && !slices.Contains(out, string(c)) {
			out = append(out, string(c))
		}
	}
	return out
}

// Distinct is ids without repeats, in their order: MarkHandedOver marks a
// letter listed twice once.
func Distinct(ids []string) []string {
	var out []string
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
