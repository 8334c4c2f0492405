package journal

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/relais-fr/relais/mandates"
)

// A witness (relais journal witness) cosigns another Relais deployment's
// checkpoints, in the manner of c2sp.org/tlog-witness: it keeps, per
// origin, the last checkpoint note it cosigned, and cosigns a new one only
// if the journal key it trusts for that origin signed it and it extends
// that history: its number follows, and its prev line is the hash of the
// last note, or of the notes the request carries in between, each linking
// to the one before. A second history (a fork, a rewrite from checkpoint
// 1, a replaced checkpoint) is refused, so not even whoever holds the
// journal key can have it cosigned.

// The HTTP statuses of a refusal, as tlog-witness's add-checkpoint
// answers them.
const (
	StatusBadRequest    = 400 // the request cannot be read
	StatusForbidden     = 403 // no signature of a trusted journal key verifies
	StatusNotFound      = 404 // the origin is unknown
	StatusConflict      = 409 // the old number is not the witness's, or a second note for its number
	StatusUnprocessable = 422 // the notes do not link: a rewritten history
)

// WitnessRefusal is a witness's refusal to cosign: the HTTP status it
// answers, its latest cosigned number for a conflict, and why.
type WitnessRefusal struct {
	Status int
	Latest int64 // with StatusConflict: the number of the witness's latest note
	Reason string
}

func (r *WitnessRefusal) Error() string {
	if r.Status == StatusConflict {
		return fmt.Sprintf("witness refused (%d, its latest is checkpoint %d): %s", r.Status, r.Latest, r.Reason)
	}
	return fmt.Sprintf("witness refused (%d): %s", r.Status, r.Reason)
}

func refuse(status int, format string, args ...any) *WitnessRefusal {
	return &WitnessRefusal{Status: status, Reason: fmt.Sprintf(format, args...)}
}

// AddCheckpoint is an add-checkpoint request: the number of the last note
// the journal believes the witness cosigned (0: none), the note texts
// between that one and the new one, and the new signed note.
type AddCheckpoint struct {
	Old     int64
	Between []string
	Note    Note
}

// Marshal writes the request body: "old N", one line of base64 per note
// between, an empty line, the signed note (the shape of tlog-witness's
// body, with notes in place of a consistency proof).
func (a AddCheckpoint) Marshal() []byte {
	var b strings.Builder
	b.WriteString("old " + strconv.FormatInt(a.Old, 10) + "\n")
	for _, t := range a.Between {
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(t)) + "\n")
	}
	b.WriteString("\n")
	b.WriteString(a.Note.String())
	return []byte(b.String())
}

// ParseAddCheckpoint reads a request body written by Marshal.
func ParseAddCheckpoint(body []byte) (AddCheckpoint, error) {
	var a AddCheckpoint
	head, rest, ok := strings.Cut(string(body), "\n\n")
	if !ok {
		return a, refuse(StatusBadRequest, "no empty line before the checkpoint")
	}
	lines := strings.Split(head, "\n")
	n, ok := strings.CutPrefix(lines[0], "old ")
	old, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || old < 0 || strconv.FormatInt(old, 10) != n {
		return a, refuse(StatusBadRequest, "the first line must be old N")
	}
	if len(lines)-1 > maxBetween {
		return a, refuse(StatusBadRequest, "more than %d notes in between", maxBetween)
	}
	a.Old = old
	for _, l := range lines[1:] {
		t, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil {
			return a, refuse(StatusBadRequest, "a note in between is not base64")
		}
		a.Between = append(a.Between, string(t))
	}
	if a.Note, err = ParseNote([]byte(rest)); err != nil {
		return a, refuse(StatusBadRequest, "the checkpoint is not a signed note")
	}
	return a, nil
}

// WitnessState is the last note a witness cosigned for an origin.
type WitnessState struct {
	Origin string
	Number int64
	Text   string
	At     time.Time
}

// WitnessStore keeps a witness's state.
type WitnessStore interface {
	// WitnessLatest returns the state of origin, mandates.ErrNotFound if
	// the witness never cosigned for it.
	WitnessLatest(ctx context.Context, origin string) (WitnessState, error)
	// AdvanceWitness replaces the state of s.Origin by s if its number is
	// still old (0: no state), in one statement; otherwise it changes
	// nothing and returns mandates.ErrConflict (tlog-witness: the check
	// and the write must be atomic).
	AdvanceWitness(ctx context.Context, old int64, s WitnessState) error
}

// Witnessing cosigns checkpoints of the journals it trusts.
type Witnessing struct {
	name  string
	key   ed25519.PrivateKey
	logs  []NoteVerifier // each named by its origin
	store WitnessStore
	now   func() time.Time
}

// NewWitnessing returns a witness named name (its key name) with key,
// trusting each log key for the origin it is named by.
func NewWitnessing(name string, key ed25519.PrivateKey, logs []NoteVerifier, st WitnessStore, now func() time.Time) (*Witnessing, error) {
	if _, err := CosignerKey(name, key.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Witnessing{name: name, key: key, logs: logs, store: st, now: now}, nil
}

// Key is the witness's verifier key.
func (w *Witnessing) Key() NoteVerifier {
	v, _ := CosignerKey(w.name, w.key.Public().(ed25519.PublicKey)) // checked by NewWitnessing
	return v
}

// AddCheckpoint applies the witness's rule to a request and returns its
// cosignature, or a *WitnessRefusal (or a store error).
func (w *Witnessing) AddCheckpoint(ctx context.Context, req AddCheckpoint) ([]NoteSignature, error) {
	cp, err := ParseCheckpointNote(req.Note.Text)
	if err != nil {
		return nil, refuse(StatusBadRequest, "not a Relais checkpoint note")
	}
	var known []NoteVerifier
	for _, l := range w.logs {
		if l.Name == cp.Origin {
			known = append(known, l)
		}
	}
	if len(known) == 0 {
		return nil, refuse(StatusNotFound, "unknown origin")
	}
	if !signedByOneOf(req.Note, known) {
		return nil, refuse(StatusForbidden, "no signature of a journal key trusted for this origin verifies")
	}
	if req.Old > cp.Number {
		return nil, refuse(StatusBadRequest, "old %d is above the checkpoint's number %d", req.Old, cp.Number)
	}
	st, err := w.store.WitnessLatest(ctx, cp.Origin)
	switch {
	case errors.Is(err, mandates.ErrNotFound):
		st = WitnessState{Origin: cp.Origin}
	case err != nil:
		return nil, err
	}
	conflict := func(reason string) error {
		return &WitnessRefusal{Status: StatusConflict, Latest: st.Number, Reason: reason}
	}
	if st.Number != req.Old {
		return nil, conflict("old is not the number of the witness's latest checkpoint")
	}
	switch {
	case st.Number == cp.Number && st.Text == req.Note.Text:
		return w.cosign(req.Note.Text) // asked again: the same statement
	case st.Number == cp.Number:
		return nil, conflict(fmt.Sprintf("a second checkpoint %d, unlike the one cosigned: a fork or a rewrite", cp.Number))
	case st.Number > 0:
		if err := links(st, append(req.Between, req.Note.Text), cp.Origin); err != nil {
			return nil, err
		}
	}
	next := WitnessState{Origin: cp.Origin, Number: cp.Number, Text: req.Note.Text, At: w.now().UTC().Truncate(time.Millisecond)}
	if err := w.store.AdvanceWitness(ctx, st.Number, next); err != nil {
		if errors.Is(err, mandates.ErrConflict) {
			latest, rerr := w.store.WitnessLatest(ctx, cp.Origin)
			if rerr == nil {
				st = latest
			}
			return nil, conflict("another request advanced the witness meanwhile")
		}
		return nil, err
	}
	return w.cosign(req.Note.Text)
}

func (w *Witnessing) cosign(text string) ([]NoteSignature, error) {
	s, err := Cosign(w.name, w.key, text, w.now())
	if err != nil {
		return nil, err
	}
	return []NoteSignature{s}, nil
}

// signedByOneOf: signed-note's rule: signatures of unknown keys are
// ignored, one of a known key that fails rejects the note, and at least
// one must verify.
func signedByOneOf(n Note, keys []NoteVerifier) bool {
	ok := false
	for _, s := range n.Sigs {
		for _, k := range keys {
			if !k.Matches(s) {
				continue
			}
			if _, good := k.Verify(n.Text, s); !good {
				return false
			}
			ok = true
		}
	}
	return ok
}

// links checks that texts continue the history from st, each numbered
// after the one before and naming its hash.
func links(st WitnessState, texts []string, origin string) error {
	prev, number := NoteHash(st.Text), st.Number
	for _, t := range texts {
		c, err := ParseCheckpointNote(t)
		if err != nil {
			return refuse(StatusBadRequest, "a note in between is not a Relais checkpoint note")
		}
		number++
		switch {
		case c.Origin != origin:
			return refuse(StatusBadRequest, "a note in between is of another origin")
		case c.Number != number:
			return refuse(StatusUnprocessable, "checkpoint %d is missing between the witness's %d and the new one", number, st.Number)
		case c.Prev != prev:
			return refuse(StatusUnprocessable, "checkpoint %d does not link to checkpoint %d as the witness cosigned it: a rewritten history", c.Number, c.Number-1)
		}
		prev = NoteHash(t)
	}
	return nil
}
