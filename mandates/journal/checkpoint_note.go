package journal

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/relais-fr/relais/mandates"
)

// NotWitnessed: no checkpoint the verification relies on carries the
// cosignatures it asks for.
const NotWitnessed Kind = "not witnessed"

// NoteEdited: a checkpoint's signed note is missing, or says other than
// the checkpoint, or does not link to the note before it.
const NoteEdited Kind = "note edited"

// CheckpointNote is a checkpoint in the C2SP tlog-checkpoint format
// (c2sp.org/tlog-checkpoint): origin, tree size, base64 root, then two
// extension lines of Relais's own, the checkpoint's number and the
// SHA-256 of the previous checkpoint's note text (32 zero bytes for the
// first). The tree is over chain heads, not an append-only log, so there
// is no consistency proof between two sizes: the note's own chain (number
// and prev) is what a witness checks.
type CheckpointNote struct {
	Origin string
	Size   int64
	Root   Hash
	Number int64
	Prev   Hash
}

const (
	numberLine = "relais-checkpoint "
	prevLine   = "prev "
)

// Text is the note text, each line ending in a newline.
func (c CheckpointNote) Text() string {
	return c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n" +
		numberLine + strconv.FormatInt(c.Number, 10) + "\n" + prevLine + base64.StdEncoding.EncodeToString(c.Prev[:]) + "\n"
}

// ParseCheckpointNote reads a note text written by Text, and nothing else.
func ParseCheckpointNote(text string) (CheckpointNote, error) {
	bad := func(what string) (CheckpointNote, error) {
		return CheckpointNote{}, fmt.Errorf("checkpoint note: %s: %w", what, &mandates.InvalidError{Field: "checkpoint_note", Rule: mandates.RuleFormat})
	}
	lines := strings.Split(text, "\n")
	if len(lines) != 6 || lines[5] != "" {
		return bad("want five lines: origin, size, root, number, prev")
	}
	var c CheckpointNote
	c.Origin = lines[0]
	if c.Origin == "" || strings.ContainsFunc(c.Origin, func(r rune) bool { return r == ' ' || r == '+' || r < 0x20 }) {
		return bad("the origin must be a name without spaces")
	}
	var err error
	if c.Size, err = strconv.ParseInt(lines[1], 10, 64); err != nil || c.Size < 0 || strconv.FormatInt(c.Size, 10) != lines[1] {
		return bad("the size is not a decimal")
	}
	if c.Root, err = hashB64(lines[2]); err != nil {
		return bad("the root is not base64 of 32 bytes")
	}
	n, ok := strings.CutPrefix(lines[3], numberLine)
	if c.Number, err = strconv.ParseInt(n, 10, 64); !ok || err != nil || c.Number < 1 || strconv.FormatInt(c.Number, 10) != n {
		return bad("the fourth line must be " + numberLine + "N")
	}
	p, ok := strings.CutPrefix(lines[4], prevLine)
	if c.Prev, err = hashB64(p); !ok || err != nil {
		return bad("the fifth line must be " + prevLine + "base64 of 32 bytes")
	}
	return c, nil
}

func hashB64(s string) (Hash, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return Hash{}, err
	}
	return HashOf(b)
}

// NoteHash is what the next checkpoint note's prev line holds.
func NoteHash(text string) Hash { return sha256.Sum256([]byte(text)) }

// matches says whether the note says what checkpoint c signed.
func (c CheckpointNote) matches(cp *Checkpoint) bool {
	return c.Number == cp.Number && c.Size == cp.TreeSize && c.Root == cp.Root
}

// NumberedNote is the signed note of checkpoint Number: the journal key's
// signature first, then the witnesses' cosignatures.
type NumberedNote struct {
	Number int64
	Note   Note
}

// NoteReader reads the checkpoints' signed notes.
type NoteReader interface {
	// JournalNotes returns the notes of checkpoints from number from on,
	// by number, each with the journal key's signature then every
	// cosignature stored for it.
	JournalNotes(ctx context.Context, from int64) ([]NumberedNote, error)
}

// NoteStore keeps the checkpoints' signed notes and their cosignatures.
type NoteStore interface {
	NoteReader
	// CreateJournalNote writes the note of a checkpoint with the journal
	// key's signature; a number already noted is a *mandates.UniqueError.
	CreateJournalNote(ctx context.Context, number int64, text string, sig NoteSignature) error
	// AddJournalCosignature keeps a witness's cosignature of the note of
	// checkpoint number; the same witness key cosigning again replaces it.
	AddJournalCosignature(ctx context.Context, number int64, sig NoteSignature) error
	// LastJournalCosignature is the number of the newest checkpoint that
	// the witness key (name, key ID) cosigned, 0 if none.
	LastJournalCosignature(ctx context.Context, name string, keyID uint32) (int64, error)
}

// NoteSigner signs a note text with the journal key (keyring implements
// it with the newest journal key).
type NoteSigner interface {
	SignNote(ctx context.Context, text string) (NoteSignature, error)
}

// Cosigner is a witness as the journal reaches it: its key, and its
// add-checkpoint call. The call reports the witness's refusals as
// *WitnessRefusal.
type Cosigner interface {
	Key() NoteVerifier
	AddCheckpoint(ctx context.Context, req AddCheckpoint) ([]NoteSignature, error)
}

// maxBetween bounds the notes one add-checkpoint request carries between
// the witness's latest and the new one (a day of checkpoints a minute
// apart, with room).
const maxBetween = 4096

// WitnessOutcome is what one witness did with the latest checkpoint.
type WitnessOutcome struct {
	Witness string
	Number  int64 // the checkpoint it now has cosigned, 0 if none
	Err     error // nil, or why it did not cosign (the next round retries)
}

// NoteCheckpoints writes the signed note of every checkpoint that has
// none yet, in order, each linking to the one before, and returns every
// note by number. A stored note that does not say what its checkpoint
// signed is tampering (a *Failure). Two instances noting at once both
// end with the notes one of them wrote.
func NoteCheckpoints(ctx context.Context, st interface {
	Reader
	NoteStore
}, signer NoteSigner, origin string) ([]Checkpoint, []NumberedNote, error) {
	cps, notes, err := noteCheckpoints(ctx, st, signer, origin)
	if errors.Is(err, mandates.ErrAlreadyExists) {
		return noteCheckpoints(ctx, st, signer, origin)
	}
	return cps, notes, err
}

func noteCheckpoints(ctx context.Context, st interface {
	Reader
	NoteStore
}, signer NoteSigner, origin string) ([]Checkpoint, []NumberedNote, error) {
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("note checkpoints: %w", err)
	}
	notes, err := st.JournalNotes(ctx, 1)
	if err != nil {
		return nil, nil, fmt.Errorf("note checkpoints: %w", err)
	}
	byNumber := make(map[int64]NumberedNote, len(notes))
	for _, n := range notes {
		byNumber[n.Number] = n
	}
	out := make([]NumberedNote, 0, len(cps))
	var prev Hash
	for i := range cps {
		cp := &cps[i]
		if n, ok := byNumber[cp.Number]; ok {
			parsed, err := ParseCheckpointNote(n.Note.Text)
			if err != nil || !parsed.matches(cp) || parsed.Prev != prev {
				return nil, nil, &Failure{Checkpoint: cp.Number, Kind: NoteEdited, Reason: "its signed note does not say what the checkpoint signed, or does not link to the note before it"}
			}
			out = append(out, n)
			prev = NoteHash(n.Note.Text)
			continue
		}
		text := CheckpointNote{Origin: origin, Size: cp.TreeSize, Root: cp.Root, Number: cp.Number, Prev: prev}.Text()
		sig, err := signer.SignNote(ctx, text)
		if err != nil {
			return nil, nil, fmt.Errorf("note checkpoint %d: %w", cp.Number, err)
		}
		if err := st.CreateJournalNote(ctx, cp.Number, text, sig); err != nil {
			return nil, nil, fmt.Errorf("note checkpoint %d: %w", cp.Number, err)
		}
		out = append(out, NumberedNote{Number: cp.Number, Note: Note{Text: text, Sigs: []NoteSignature{sig}}})
		prev = NoteHash(text)
	}
	return cps, out, nil
}

// Witness asks each witness that has not cosigned the latest checkpoint
// to cosign it, sending the notes between the last one it cosigned (as
// the store remembers) and the latest, and keeps the cosignatures that
// verify. A witness that is down or refuses is reported, never fatal: the
// next round asks again. The error is for the store.
func Witness(ctx context.Context, st interface {
	Reader
	NoteStore
}, signer NoteSigner, origin string, witnesses []Cosigner) ([]WitnessOutcome, error) {
	return witness(ctx, st, signer, origin, witnesses, maxBetween)
}

// maxSteps bounds the requests one round makes to a witness that is far
// behind; the next round goes on.
const maxSteps = 16

func witness(ctx context.Context, st interface {
	Reader
	NoteStore
}, signer NoteSigner, origin string, witnesses []Cosigner, limit int64) ([]WitnessOutcome, error) {
	if len(witnesses) == 0 {
		return nil, nil
	}
	_, notes, err := NoteCheckpoints(ctx, st, signer, origin)
	if err != nil || len(notes) == 0 {
		return nil, err
	}
	byNumber := make(map[int64]Note, len(notes))
	for _, n := range notes {
		byNumber[n.Number] = n.Note
	}
	latest := notes[len(notes)-1].Number
	// request asks a witness whose latest is old for the furthest note it
	// can take in one request: the latest, or, for a witness far behind,
	// the one limit notes after its own.
	request := func(old int64) (int64, AddCheckpoint) {
		_, known := byNumber[old]
		if !known || old >= latest {
			return latest, AddCheckpoint{Old: old, Note: byNumber[latest]} // first contact, or asked again
		}
		target := min(latest, old+limit+1)
		req := AddCheckpoint{Old: old, Note: byNumber[target]}
		for n := old + 1; n < target; n++ {
			req.Between = append(req.Between, byNumber[n].Text)
		}
		return target, req
	}
	out := make([]WitnessOutcome, 0, len(witnesses))
	for _, w := range witnesses {
		key := w.Key()
		o := WitnessOutcome{Witness: key.Name}
		if o.Number, err = st.LastJournalCosignature(ctx, key.Name, key.KeyID); err != nil {
			return out, err
		}
		old, retried := o.Number, false
		for step := 0; o.Number < latest && o.Err == nil; step++ {
			if step == maxSteps {
				o.Err = fmt.Errorf("witness %s is still %d checkpoints behind; the next round goes on", key.Name, latest-o.Number)
				break
			}
			target, req := request(old)
			sigs, err := w.AddCheckpoint(ctx, req)
			var ref *WitnessRefusal
			if errors.As(err, &ref) && ref.Status == StatusConflict && ref.Latest != old && ref.Latest <= latest && !retried {
				// The witness cosigned checkpoints this store never
				// kept (an answer lost on the way): it says which, and
				// the request is made once more from there.
				old, retried = ref.Latest, true
				continue
			}
			if err != nil {
				o.Err = err
				break
			}
			o.Err = fmt.Errorf("witness %s answered no cosignature of its key that verifies", key.Name)
			for _, s := range sigs {
				if _, ok := key.Verify(req.Note.Text, s); ok {
					if err := st.AddJournalCosignature(ctx, target, s); err != nil {
						return out, err
					}
					o.Number, o.Err, old = target, nil, target
					break
				}
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// WitnessReport is what VerifyWitnessed found.
type WitnessReport struct {
	Checkpoint   int64    // the newest checkpoint with enough cosignatures
	Cosigners    []string // the witnesses that cosigned it
	NotWitnessed int64    // checkpoints after it
	Failure      *Failure
}

// VerifyWitnessed checks, after Verify, that the checkpoints' notes say
// what the checkpoints signed and link one to the next, and finds the
// newest checkpoint that at least required of witnesses cosigned. Since
// each note commits to the one before it, that checkpoint's cosignatures
// vouch for every checkpoint up to it: rewriting one of them changes every
// later note, and the witnesses refuse to cosign a second history.
func VerifyWitnessed(ctx context.Context, st interface {
	Reader
	NoteReader
}, witnesses []NoteVerifier, required int) (WitnessReport, error) {
	var rep WitnessReport
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify witnesses: %w", err)
	}
	notes, err := st.JournalNotes(ctx, 1)
	if err != nil {
		return rep, fmt.Errorf("verify witnesses: %w", err)
	}
	byNumber := make(map[int64]Note, len(notes))
	for _, n := range notes {
		byNumber[n.Number] = n.Note
	}
	var prev Hash
	missing := int64(0)
	for i := range cps {
		cp := &cps[i]
		n, ok := byNumber[cp.Number]
		if !ok {
			if missing == 0 {
				missing = cp.Number
			}
			continue
		}
		if missing != 0 {
			rep.Failure = &Failure{Checkpoint: missing, Kind: NoteEdited, Reason: fmt.Sprintf("its signed note is missing, and checkpoint %d's is not", cp.Number)}
			return rep, nil
		}
		parsed, err := ParseCheckpointNote(n.Text)
		switch {
		case err != nil || !parsed.matches(cp):
			rep.Failure = &Failure{Checkpoint: cp.Number, Kind: NoteEdited, Reason: "its signed note does not say what the checkpoint signed"}
			return rep, nil
		case parsed.Prev != prev:
			rep.Failure = &Failure{Checkpoint: cp.Number, Kind: NoteEdited, Reason: "its signed note does not link to the note of the checkpoint before it"}
			return rep, nil
		}
		prev = NoteHash(n.Text)
		if who := cosigners(n, witnesses); len(who) >= required {
			rep.Checkpoint, rep.Cosigners = cp.Number, who
		}
	}
	if len(cps) > 0 {
		rep.NotWitnessed = cps[len(cps)-1].Number - rep.Checkpoint
	}
	if rep.Checkpoint == 0 {
		rep.Failure = &Failure{Kind: NotWitnessed, Reason: fmt.Sprintf("no checkpoint carries the cosignatures of %d of the %d witnesses named", required, len(witnesses))}
	}
	return rep, nil
}

// Behind fails when more than max checkpoints follow the newest one the
// witnesses cosigned. A store alone cannot show that a checkpoint was once
// cosigned: whoever holds the database and the journal key can delete the
// newest cosigned checkpoints with their notes and cosignatures, rewrite
// what only they covered, and sign on; the witnesses refuse the new
// history, but an offline check only sees checkpoints not yet cosigned.
// So the safe rule is that the newest checkpoint is cosigned (max 0), and
// a wider max is a choice to trust the tail.
func (r WitnessReport) Behind(max int64) *Failure {
	if r.Failure != nil || r.NotWitnessed <= max {
		return r.Failure
	}
	return &Failure{Checkpoint: r.Checkpoint + 1, Kind: NotWitnessed, Reason: fmt.Sprintf(
		"%d checkpoints after checkpoint %d are not cosigned (at most %d allowed): the witnesses have not seen them, or refused them as a second history",
		r.NotWitnessed, r.Checkpoint, max)}
}

// cosigners names the witnesses whose cosignature of n verifies, each
// once: a key named twice counts once.
func cosigners(n Note, witnesses []NoteVerifier) []string {
	var who []string
	for _, w := range witnesses {
		if slices.Contains(who, w.String()) {
			continue
		}
		for _, s := range n.Sigs {
			if _, ok := w.Verify(n.Text, s); ok {
				who = append(who, w.String())
				break
			}
		}
	}
	return who
}

// VerifyExportWitnessed checks that an export's checkpoint (already
// checked by VerifyExport) comes with its signed note, that the note says
// what the checkpoint signed, and that at least required of witnesses
// cosigned it. It returns the cosigners.
func VerifyExportWitnessed(x Export, witnesses []NoteVerifier, required int) ([]string, *Failure) {
	cp := x.Checkpoint
	if cp == nil {
		return nil, &Failure{Chain: x.Chain, Kind: NotWitnessed, Reason: "no checkpoint covers it, so no witness vouches for it"}
	}
	fail := func(kind Kind, reason string) ([]string, *Failure) {
		return nil, &Failure{Chain: x.Chain, Checkpoint: cp.Number, Kind: kind, Reason: reason}
	}
	if cp.Note == "" {
		return fail(NotWitnessed, "the export carries no signed note of its checkpoint")
	}
	n, err := ParseNote([]byte(cp.Note))
	if err != nil {
		return fail(NoteEdited, "its signed note cannot be read")
	}
	parsed, err := ParseCheckpointNote(n.Text)
	if err != nil || parsed.Number != cp.Number || parsed.Size != cp.TreeSize || parsed.Root != cp.Root {
		return fail(NoteEdited, "its signed note does not say what the checkpoint signed")
	}
	who := cosigners(n, witnesses)
	if len(who) < required {
		return fail(NotWitnessed, fmt.Sprintf("%d of the %d witnesses named cosigned it, %d required", len(who), len(witnesses), required))
	}
	return who, nil
}

// attachNote adds the signed note of the export's checkpoint when the
// store keeps notes.
func attachNote(ctx context.Context, st Reader, x *Export) error {
	nr, ok := st.(NoteReader)
	if !ok || x.Checkpoint == nil {
		return nil
	}
	notes, err := nr.JournalNotes(ctx, x.Checkpoint.Number)
	if err != nil {
		return fmt.Errorf("export %s: %w", x.Chain, err)
	}
	if len(notes) > 0 && notes[0].Number == x.Checkpoint.Number {
		x.Checkpoint.Note = notes[0].Note.String()
	}
	return nil
}
