package journal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// Store keeps the journal. Stores report mandates.ErrNotFound and
// mandates.ErrUnavailable as elsewhere.
type Store interface {
	Reader
	Pager
	// JournalHead returns the chain, sequence number and hash of the last
	// entry of chain (what the next entry links to; the other fields may
	// be left empty: the token endpoint pays for each column),
	// mandates.ErrNotFound for a chain with none. Inside a transaction it
	// reads what the transaction sees.
	JournalHead(ctx context.Context, chain string) (Entry, error)
	// AppendJournal writes e and its detail, in the transaction in ctx or
	// in its own. When the chain already holds e.Seq it writes nothing and
	// returns ErrSeqTaken, leaving the transaction usable: another writer
	// got there first.
	AppendJournal(ctx context.Context, e Entry, d Detail) error
	// JournalHeads returns the last entry of every chain.
	JournalHeads(ctx context.Context) ([]Head, error)
	// EraseJournalDetails erases, in chain ("" for every chain), the
	// details of entries written before before and not yet erased, marking
	// them erased at at for reason; it returns how many it erased.
	EraseJournalDetails(ctx context.Context, chain string, before, at time.Time, reason string) (int64, error)
	// CreateCheckpoint writes a checkpoint and the heads it lists; a taken
	// number is a *mandates.UniqueError.
	CreateCheckpoint(ctx context.Context, c Checkpoint) error
	// AcquireJournalLease takes the journal's background-work lease for
	// holder until until, if it is free or expired at now or already
	// holder's, and says whether it did.
	AcquireJournalLease(ctx context.Context, holder string, now, until time.Time) (bool, error)
}

// Reader is what verification reads.
type Reader interface {
	// JournalEntries calls fn with the entries of chain ("" for all),
	// ordered by chain then seq, each with its detail.
	JournalEntries(ctx context.Context, chain string, fn func(Stored) error) error
	// Checkpoints returns every checkpoint with the heads it lists, by
	// number.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
}

// BatchAppender is what a store adds to write many entries in few round
// trips; EmitBatch uses it when the store has it.
type BatchAppender interface {
	// AppendJournalBatch writes entries, details[i] being entries[i]'s, in
	// the transaction in ctx or in its own. When the store already holds
	// one of the (chain, seq) it returns an error wrapping ErrSeqTaken;
	// what it wrote before noticing is then still in the transaction,
	// which the caller must roll back.
	AppendJournalBatch(ctx context.Context, entries []Entry, details []Detail) error
}

// HeadsReader is what a store adds to read the heads of several chains in
// one round trip; EmitBatch uses it when the store has it.
type HeadsReader interface {
	// JournalHeadsOf returns, by chain, the last entry of each of chains
	// that has one, as JournalHead does; a chain without entries is not in
	// the map.
	JournalHeadsOf(ctx context.Context, chains []string) (map[string]Entry, error)
}

// ErrSeqTaken: another writer appended that sequence number first.
var ErrSeqTaken = errors.New("journal: sequence number taken by another writer")

// maxAppendAttempts bounds how often Emit re-reads the head after losing a
// race for the next sequence number. Each lost race waited for the
// winner's commit, so this is no busy loop; it only stops a writer that
// loses every time (with eight writers on one chain, the chance of losing
// a hundred races in a row is below 2 in a million).
const maxAppendAttempts = 100

// Options tune a Journal; zero fields take the defaults.
type Options struct {
	Now func() time.Time // for events without a time; default time.Now
}

// Journal records domain events in per-person chains. It implements
// mandates.EventSink.
type Journal struct {
	store Store
	now   func() time.Time
}

var _ mandates.EventSink = (*Journal)(nil)

// New returns a journal over a store.
func New(st Store, opt Options) *Journal {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Journal{store: st, now: opt.Now}
}

// Emit appends e to its chain inside the transaction in ctx, so the change
// it records and the entry commit together. Two writers racing on one
// chain both succeed, one after the other: the loser of a sequence number
// reads the new head and tries the next. Writers on different chains never
// touch the same row.
func (j *Journal) Emit(ctx context.Context, e mandates.Event) error {
	if e.Type == "" {
		return &mandates.InvalidError{Field: "type", Rule: mandates.RuleRequired}
	}
	if e.At.IsZero() {
		e.At = j.now()
	}
	chain := ChainOf(e)
	d := NewDetail(e.Detail)
	dh := DetailHash(d.Salt, d.Fields)
	for range maxAppendAttempts {
		if err := ctx.Err(); err != nil {
			return err
		}
		var head *Entry
		h, err := j.store.JournalHead(ctx, chain)
		switch {
		case err == nil:
			head = &h
		case !errors.Is(err, mandates.ErrNotFound):
			return fmt.Errorf("journal %s: read head: %w", chain, err)
		}
		entry := Next(head, chain, e, dh)
		err = j.store.AppendJournal(ctx, entry, d)
		if errors.Is(err, ErrSeqTaken) {
			continue
		}
		if err != nil {
			return fmt.Errorf("journal %s: append %d: %w", chain, entry.Seq, err)
		}
		return nil
	}
	return fmt.Errorf("journal %s: %d writers in a row took the next entry: %w", chain, maxAppendAttempts, mandates.ErrConflict)
}

// EmitBatch appends events inside the transaction in ctx, as Emit would
// one after the other, but reading each chain's head once and writing all
// entries together when the store is a BatchAppender. Each chain's entries
// follow the order of events; chains are written in byte order, so that
// two instances' transactions take their rows' locks in one order. Unlike
// Emit it does not retry: when another writer appended to one of the
// chains since its head was read, it returns an error wrapping
// ErrSeqTaken and the caller must roll the transaction back, since part of
// the batch may be written.
func (j *Journal) EmitBatch(ctx context.Context, events []mandates.Event) error {
	if len(events) == 0 {
		return nil
	}
	byChain := map[string][]mandates.Event{}
	for _, e := range events {
		if e.Type == "" {
			return &mandates.InvalidError{Field: "type", Rule: mandates.RuleRequired}
		}
		if e.At.IsZero() {
			e.At = j.now()
		}
		c := ChainOf(e)
		byChain[c] = append(byChain[c], e)
	}
	chains := slices.Sorted(maps.Keys(byChain))
	heads, err := Heads(ctx, j.store, chains)
	if err != nil {
		return err
	}
	entries := make([]Entry, 0, len(events))
	details := make([]Detail, 0, len(events))
	for _, c := range chains {
		var head *Entry
		if h, ok := heads[c]; ok {
			head = &h
		}
		for _, e := range byChain[c] {
			d := NewDetail(e.Detail)
			n := Next(head, c, e, DetailHash(d.Salt, d.Fields))
			entries, details = append(entries, n), append(details, d)
			head = &n
		}
	}
	if ba, ok := j.store.(BatchAppender); ok {
		if err := ba.AppendJournalBatch(ctx, entries, details); err != nil {
			return fmt.Errorf("journal: append %d entries of %d chains: %w", len(entries), len(chains), err)
		}
		return nil
	}
	for i, e := range entries {
		if err := j.store.AppendJournal(ctx, e, details[i]); err != nil {
			return fmt.Errorf("journal %s: append %d: %w", e.Chain, e.Seq, err)
		}
	}
	return nil
}

// Heads reads the head of each of chains in st, in one round trip when
// st is a HeadsReader; a chain without entries is not in the map.
func Heads(ctx context.Context, st Store, chains []string) (map[string]Entry, error) {
	if hr, ok := st.(HeadsReader); ok {
		heads, err := hr.JournalHeadsOf(ctx, chains)
		if err != nil {
			return nil, fmt.Errorf("journal: read %d heads: %w", len(chains), err)
		}
		return heads, nil
	}
	heads := make(map[string]Entry, len(chains))
	for _, c := range chains {
		h, err := st.JournalHead(ctx, c)
		switch {
		case err == nil:
			heads[c] = h
		case !errors.Is(err, mandates.ErrNotFound):
			return nil, fmt.Errorf("journal %s: read head: %w", c, err)
		}
	}
	return heads, nil
}

// Erase removes the details of chain's entries written before before
// (lawful erasure); the chain still verifies and each entry shows as
// erased.
func (j *Journal) Erase(ctx context.Context, chain string, before time.Time) (int64, error) {
	if chain == "" {
		return 0, &mandates.InvalidError{Field: "chain", Rule: mandates.RuleRequired}
	}
	n, err := j.store.EraseJournalDetails(ctx, chain, before, j.now(), ReasonErasure)
	if err != nil {
		return n, fmt.Errorf("erase journal %s: %w", chain, err)
	}
	return n, nil
}

// Expire erases, in every chain, the details older than retention.
func (j *Journal) Expire(ctx context.Context, retention time.Duration) (int64, error) {
	now := j.now()
	n, err := j.store.EraseJournalDetails(ctx, "", now.Add(-retention), now, ReasonRetention)
	if err != nil {
		return n, fmt.Errorf("journal retention: %w", err)
	}
	return n, nil
}
