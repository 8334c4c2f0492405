package journal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kind says how a journal was tampered with.
type Kind string

const (
	Edited           Kind = "edited"    // an entry's content or detail no longer matches its hash, or was rewritten
	Deleted          Kind = "deleted"   // an entry is missing from the middle of its chain
	Reordered        Kind = "reordered" // two entries swapped places
	Inserted         Kind = "inserted"  // an entry was added inside the chain
	Truncated        Kind = "truncated" // a chain lost entries a checkpoint covered
	ChainDropped     Kind = "chain dropped"
	BadSignature     Kind = "bad signature"
	CheckpointEdited Kind = "checkpoint edited" // a checkpoint's row or heads differ from what was signed
	CheckpointLost   Kind = "checkpoint deleted"
	NotCovered       Kind = "not covered" // an export's checkpoint does not cover its chain
	// Restarted: a checkpoint the journal keys' history names is gone
	// or replaced: the checkpoints were deleted, and numbered again.
	Restarted Kind = "checkpoints restarted"
)

// Failure is the first thing verification found wrong: the chain and
// entry (Seq) or the checkpoint, what happened and why it is believed.
type Failure struct {
	Chain      string
	Seq        int64 // 0 when the failure is about a whole chain or a checkpoint
	Checkpoint int64 // the checkpoint involved, 0 if none
	Kind       Kind
	Reason     string
}

func (f *Failure) Error() string {
	var where []string
	if f.Chain != "" {
		where = append(where, "chain "+f.Chain)
	}
	if f.Seq != 0 {
		where = append(where, fmt.Sprintf("entry %d", f.Seq))
	}
	if f.Checkpoint != 0 {
		where = append(where, fmt.Sprintf("checkpoint %d", f.Checkpoint))
	}
	return fmt.Sprintf("%s: %s: %s", strings.Join(where, ", "), f.Kind, f.Reason)
}

// Report is what verification checked, and the first failure if any.
type Report struct {
	Chains      int64
	Entries     int64
	Erased      int64 // entries whose detail was erased
	Checkpoints int64
	// Uncovered counts the entries no checkpoint signs yet: written
	// since the last one, they are only linked (docs/journal.md).
	Uncovered int64
	Failure   *Failure
}

// OK says whether nothing failed.
func (r *Report) OK() bool { return r.Failure == nil }

type covered struct {
	checkpoint int64
	head       Head
}

// errStop ends a scan at the first failure.
var errStop = errors.New("stop")

// Verify checks every chain (or only chain, when not empty) and every
// checkpoint: each entry's hash, the sequence and the links of each
// chain, each detail that was not erased against its hash, each
// checkpoint's signature, its link to the one before and its root, and
// that every head a checkpoint covers is still there, unchanged or
// extended. The error is for failures to read; tampering is in
// Report.Failure, the first one met: chains first, in the store's order,
// then checkpoints, then chains dropped.
func Verify(ctx context.Context, st Reader, v SignatureVerifier, chain string) (Report, error) {
	var rep Report
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify: read checkpoints: %w", err)
	}
	rep.Checkpoints = int64(len(cps))
	cover := map[string][]covered{}
	cpFail := checkCheckpoints(cps, v, func(cp int64, h Head) {
		if chain == "" || h.Chain == chain {
			cover[h.Chain] = append(cover[h.Chain], covered{cp, h})
		}
	})
	if a, ok := v.(Anchored); ok && cpFail == nil {
		cpFail = CheckAnchors(cps, a.Anchors())
	}

	var rows []Stored
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		rep.Chains++
		c := rows[0].Chain
		f := checkChain(rows)
		if f == nil {
			f = checkCovered(rows, cover[c])
		}
		signed := int64(0)
		if cv := cover[c]; len(cv) > 0 {
			signed = cv[len(cv)-1].head.Seq // replayed in order: the latest checkpoint's
		}
		rep.Uncovered += max(int64(len(rows))-signed, 0)
		delete(cover, c)
		rows = rows[:0]
		if f != nil {
			rep.Failure = f
			return errStop
		}
		return nil
	}
	err = st.JournalEntries(ctx, chain, func(s Stored) error {
		if len(rows) > 0 && rows[0].Chain != s.Chain {
			if err := flush(); err != nil {
				return err
			}
		}
		rep.Entries++
		if s.Detail != nil && s.Detail.Erased() {
			rep.Erased++
		}
		rows = append(rows, s)
		return nil
	})
	if err == nil {
		err = flush()
	}
	switch {
	case errors.Is(err, errStop):
		return rep, nil
	case err != nil:
		return rep, fmt.Errorf("verify: read entries: %w", err)
	case cpFail != nil:
		rep.Failure = cpFail
		return rep, nil
	}
	dropped := make([]string, 0, len(cover))
	for c := range cover {
		dropped = append(dropped, c)
	}
	slices.Sort(dropped)
	if len(dropped) > 0 {
		cv := cover[dropped[0]]
		last := cv[len(cv)-1]
		rep.Failure = &Failure{Chain: dropped[0], Checkpoint: last.checkpoint, Kind: ChainDropped,
			Reason: fmt.Sprintf("checkpoint %d covers it up to entry %d; no entry of it remains", last.checkpoint, last.head.Seq)}
	}
	return rep, nil
}

// checkCheckpoints verifies the chain of checkpoints and calls each for
// every head a checkpoint covers; it returns the first failure.
func checkCheckpoints(cps []Checkpoint, v SignatureVerifier, each func(cp int64, h Head)) *Failure {
	var first *Failure
	fail := func(f *Failure) {
		if first == nil {
			first = f
		}
	}
	r := newReplay()
	var prev Hash
	for i := range cps {
		c := &cps[i]
		if want := int64(i + 1); c.Number != want {
			reason := fmt.Sprintf("checkpoint %d follows checkpoint %d", c.Number, want-1)
			if want == 1 {
				reason = fmt.Sprintf("the first stored checkpoint is checkpoint %d", c.Number)
			}
			fail(&Failure{Checkpoint: want, Kind: CheckpointLost, Reason: reason})
		}
		ph, f := checkSigned(c, v)
		if f != nil {
			fail(f)
		} else if c.Prev != prev && first == nil {
			fail(&Failure{Checkpoint: c.Number, Kind: CheckpointLost, Reason: "it does not link to the checkpoint stored before it"})
		}
		prev = ph
		for _, h := range c.Heads {
			if old, ok := r.heads[h.Chain]; ok && old.Seq >= h.Seq {
				fail(&Failure{Chain: h.Chain, Checkpoint: c.Number, Kind: CheckpointEdited,
					Reason: fmt.Sprintf("checkpoint %d lists entry %d after an earlier checkpoint listed entry %d", c.Number, h.Seq, old.Seq)})
			}
			each(c.Number, h)
		}
		r.apply(c)
		tree := NewTree(r.list())
		if tree.Size() != c.TreeSize || tree.Root() != c.Root {
			fail(&Failure{Checkpoint: c.Number, Kind: CheckpointEdited,
				Reason: "the chain heads stored with it do not give its signed root: a covered chain was removed from it or changed"})
		}
	}
	return first
}

// CheckAnchors checks that every checkpoint the keys' history names is
// still stored, with the payload it had.
func CheckAnchors(cps []Checkpoint, anchors []Anchor) *Failure {
	for _, a := range anchors {
		i := a.Number - 1
		if i < 0 || i >= int64(len(cps)) || cps[i].Number != a.Number {
			return &Failure{Checkpoint: a.Number, Kind: Restarted, Reason: fmt.Sprintf(
				"journal key %s names checkpoint %d, which is no longer stored: checkpoints were deleted (and numbered again from 1)", a.KeyID, a.Number)}
		}
		if h, err := cps[i].PayloadHash(); err != nil || h != a.Hash {
			return &Failure{Checkpoint: a.Number, Kind: Restarted, Reason: fmt.Sprintf(
				"it is not the checkpoint %d journal key %s names: it was replaced (checkpoints were deleted and signed again)", a.Number, a.KeyID)}
		}
	}
	return nil
}

// checkChain walks one chain's entries (sorted by seq) and names the first
// that fails, telling a moved entry from an edited one by the sequence
// number its hash was computed under.
func checkChain(rows []Stored) *Failure {
	var prev Hash
	for i := range rows {
		r := &rows[i]
		seq := int64(i + 1)
		fail := func(at int64, kind Kind, format string, args ...any) *Failure {
			return &Failure{Chain: r.Chain, Seq: at, Kind: kind, Reason: fmt.Sprintf(format, args...)}
		}
		if r.Seq != seq {
			return fail(seq, Deleted, "the chain goes from entry %d to entry %d", seq-1, r.Seq)
		}
		if r.ComputeHash() != r.Hash {
			var next *Stored
			if i+1 < len(rows) {
				next = &rows[i+1]
			}
			switch {
			case seq > 1 && r.hashAs(seq-1) == r.Hash:
				return fail(seq-1, Inserted, "entry %d was written as entry %d: an entry was inserted before it", seq, seq-1)
			case next != nil && r.hashAs(seq+1) == r.Hash && next.hashAs(seq) == next.Hash:
				return fail(seq, Reordered, "entries %d and %d were swapped", seq, seq+1)
			case next != nil && next.hashAs(seq) == next.Hash:
				return fail(seq, Inserted, "entry %d was written as entry %d: this one was inserted", seq+1, seq)
			case r.hashAs(seq+1) == r.Hash:
				return fail(seq, Deleted, "it was written as entry %d: the one before it was deleted and the rest renumbered", seq+1)
			}
			return fail(seq, Edited, "its content does not match its hash")
		}
		if r.Prev != prev {
			if i == 0 {
				return fail(seq, Edited, "the first entry does not start a chain")
			}
			return fail(seq-1, Edited, "entry %d does not link to it: it was rewritten with a new hash", seq)
		}
		switch d := r.Detail; {
		case d == nil:
			return fail(seq, Edited, "its detail was removed without being marked erased")
		case !d.Erased() && DetailHash(d.Salt, d.Fields) != r.DetailHash:
			return fail(seq, Edited, "its detail does not match the hash in the chain")
		}
		prev = r.Hash
	}
	return nil
}

// checkCovered checks that every head a checkpoint covered is still in
// the chain.
func checkCovered(rows []Stored, cover []covered) *Failure {
	for _, c := range cover {
		last := int64(len(rows))
		switch {
		case c.head.Seq < 1:
			return &Failure{Chain: c.head.Chain, Checkpoint: c.checkpoint, Kind: CheckpointEdited,
				Reason: fmt.Sprintf("checkpoint %d lists entry %d, which no chain has", c.checkpoint, c.head.Seq)}
		case c.head.Seq > last:
			return &Failure{Chain: c.head.Chain, Seq: last + 1, Checkpoint: c.checkpoint, Kind: Truncated,
				Reason: fmt.Sprintf("checkpoint %d covers entry %d, the chain now ends at entry %d", c.checkpoint, c.head.Seq, last)}
		case rows[c.head.Seq-1].Hash != c.head.Hash:
			return &Failure{Chain: c.head.Chain, Seq: c.head.Seq, Checkpoint: c.checkpoint, Kind: Edited,
				Reason: fmt.Sprintf("it differs from the entry checkpoint %d signed: the chain was rewritten up to here", c.checkpoint)}
		}
	}
	return nil
}
