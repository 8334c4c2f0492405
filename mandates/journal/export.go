package journal

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// ExportFormat names the export's version.
const ExportFormat = "relais-journal-export/1"

// Export is one chain with what proves it: the latest checkpoint and the
// inclusion proof of the chain's head in it.
type Export struct {
	Format     string            `json:"format"`
	Chain      string            `json:"chain"`
	ExportedAt time.Time         `json:"exported_at"`
	Entries    []ExportEntry     `json:"entries"`
	Checkpoint *ExportCheckpoint `json:"checkpoint,omitempty"`
}

// ExportEntry is an entry with its detail, or the mark of its erasure.
type ExportEntry struct {
	Entry
	Detail   map[string]string `json:"detail,omitempty"`
	Salt     string            `json:"salt,omitempty"` // hex
	ErasedAt *time.Time        `json:"erased_at,omitempty"`
	Erasure  string            `json:"erasure_reason,omitempty"`
}

// ExportCheckpoint is the checkpoint and the audit path (RFC 9162
// §2.1.3) from the chain's head, as that checkpoint covers it, to the
// signed root.
type ExportCheckpoint struct {
	Number    int64  `json:"number"`
	KeyID     string `json:"kid"`
	JWS       string `json:"jws"`
	TreeSize  int64  `json:"tree_size"`
	Root      Hash   `json:"root"`
	Head      Head   `json:"head"`
	LeafIndex int64  `json:"leaf_index"`
	Path      []Hash `json:"path"`
	// Note is the checkpoint as a C2SP signed note, with the witnesses'
	// cosignatures (checkpoint_note.go), when the store keeps notes.
	Note string `json:"note,omitempty"`
}

// BuildExport gathers chain's entries, the latest checkpoint and the
// inclusion proof of the chain's head in it.
func BuildExport(ctx context.Context, st Reader, chain string, now time.Time) (Export, error) {
	x := Export{Format: ExportFormat, Chain: chain, ExportedAt: now.UTC().Truncate(time.Millisecond), Entries: []ExportEntry{}}
	err := st.JournalEntries(ctx, chain, func(s Stored) error {
		e := ExportEntry{Entry: s.Entry}
		if d := s.Detail; d != nil {
			if d.Erased() {
				at := d.ErasedAt
				e.ErasedAt, e.Erasure = &at, d.Reason
			} else {
				e.Detail, e.Salt = d.Fields, hex.EncodeToString(d.Salt)
			}
		}
		x.Entries = append(x.Entries, e)
		return nil
	})
	if err != nil {
		return x, fmt.Errorf("export %s: %w", chain, err)
	}
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		return x, fmt.Errorf("export %s: %w", chain, err)
	}
	if len(cps) == 0 {
		return x, nil
	}
	r := newReplay()
	for i := range cps {
		r.apply(&cps[i])
	}
	last := cps[len(cps)-1]
	head, idx, path, ok := NewTree(r.list()).Proof(chain)
	if !ok {
		return x, nil // not checkpointed yet
	}
	x.Checkpoint = &ExportCheckpoint{Number: last.Number, KeyID: last.KeyID, JWS: last.JWS, TreeSize: last.TreeSize,
		Root: last.Root, Head: head, LeafIndex: idx, Path: path}
	return x, attachNote(ctx, st, &x)
}

// ExportReport is what VerifyExport found.
type ExportReport struct {
	Entries    int64
	Erased     int64
	Checkpoint int64 // the checkpoint that signs the chain, 0 if none
	SignedUpTo int64 // the last entry that checkpoint covers
	Uncovered  int64 // entries after SignedUpTo: linked, not yet signed
	Failure    *Failure
}

// ParseExport reads an export, refusing another format.
func ParseExport(b []byte) (Export, error) {
	var x Export
	if err := json.Unmarshal(b, &x); err != nil {
		return x, fmt.Errorf("not a journal export: %w", err)
	}
	if x.Format != ExportFormat {
		return x, fmt.Errorf("not a journal export: format %q, want %q", x.Format, ExportFormat)
	}
	return x, nil
}

// VerifyExport checks an export with only the published journal keys:
// the chain's hashes, links and details, the checkpoint's signature, that
// the head it covers is an entry of the chain, and that the inclusion
// proof leads from that head to the signed root. An export without a
// checkpoint fails (NotCovered): links alone prove nothing, since whoever
// holds the database can compute them again for any history, and
// removing the checkpoint must not turn a failing export into a passing
// one.
func VerifyExport(x Export, v SignatureVerifier) ExportReport {
	var rep ExportReport
	rows := make([]Stored, 0, len(x.Entries))
	for _, e := range x.Entries {
		if e.Chain != x.Chain {
			rep.Failure = &Failure{Chain: x.Chain, Seq: e.Seq, Kind: Inserted, Reason: fmt.Sprintf("it belongs to chain %s", e.Chain)}
			return rep
		}
		s := Stored{Entry: e.Entry, Detail: &Detail{Fields: e.Detail}}
		if e.ErasedAt != nil {
			s.Detail.ErasedAt, s.Detail.Reason = *e.ErasedAt, e.Erasure
			rep.Erased++
		} else {
			salt, err := hex.DecodeString(e.Salt)
			if err != nil {
				rep.Failure = &Failure{Chain: x.Chain, Seq: e.Seq, Kind: Edited, Reason: "its detail's salt is not hex"}
				return rep
			}
			s.Detail.Salt = salt
		}
		rows = append(rows, s)
	}
	rep.Entries = int64(len(rows))
	if f := checkChain(rows); f != nil {
		rep.Failure = f
		return rep
	}
	cp := x.Checkpoint
	if cp == nil {
		rep.Failure = &Failure{Chain: x.Chain, Kind: NotCovered,
			Reason: "cannot be verified: no checkpoint covers it (its links alone can be computed again by whoever holds the database; export it again after the next checkpoint)"}
		return rep
	}
	fail := func(kind Kind, format string, args ...any) ExportReport {
		rep.Failure = &Failure{Chain: x.Chain, Checkpoint: cp.Number, Kind: kind, Reason: fmt.Sprintf(format, args...)}
		return rep
	}
	raw, err := v.VerifyJWS(cp.JWS)
	if err != nil {
		return fail(BadSignature, "the checkpoint's signature does not verify with the published journal keys: %v", err)
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil || p.Typ != PayloadType || p.Version != 1 {
		return fail(BadSignature, "the signed payload is not a version 1 checkpoint")
	}
	if p.Number != cp.Number || p.TreeSize != cp.TreeSize || p.Root != cp.Root {
		return fail(CheckpointEdited, "the checkpoint's number, size or root differ from what was signed")
	}
	if cp.Head.Chain != x.Chain {
		return fail(NotCovered, "the proof is for chain %s", cp.Head.Chain)
	}
	if f := checkCovered(rows, []covered{{cp.Number, cp.Head}}); f != nil {
		rep.Failure = f
		return rep
	}
	if err := VerifyInclusion(cp.LeafIndex, p.TreeSize, LeafHash(LeafBytes(cp.Head)), cp.Path, p.Root); err != nil {
		return fail(NotCovered, "the inclusion proof of entry %d does not lead to the signed root", cp.Head.Seq)
	}
	rep.Checkpoint, rep.SignedUpTo = cp.Number, cp.Head.Seq
	rep.Uncovered = rep.Entries - cp.Head.Seq
	return rep
}
