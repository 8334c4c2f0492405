package storagetest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// WitnessStore is a journal store that also keeps checkpoint notes,
// their cosignatures, and a witness's state.
type WitnessStore interface {
	JournalStore
	journal.NoteStore
	journal.WitnessStore
}

// RunWitnessStore runs the witnesses' part of the suite; newStore as in
// RunJournalStore. Each case that needs a witness opens a second store
// for it, as a second deployment would have.
func RunWitnessStore(t *testing.T, newStore func(t *testing.T) (WitnessStore, SQL)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s WitnessStore, exec SQL, other func(t *testing.T) WitnessStore)
	}{
		{"notes and cosignatures are read back by number; a noted number is taken once", testNotesRoundTrip},
		{"two instances noting the checkpoints at once end with one set of notes", testNotesRace},
		{"a witness advances only from the state it holds, one writer at a time", testWitnessAdvance},
		{"a witness cosigns the journal's history and verify counts it", testWitnessCosigns},
		{"a witness that was down catches up through the notes in between", testWitnessCatchesUp},
		{"a history rewritten and re-signed from checkpoint 1 is refused and does not verify", testWitnessRefusesRewrite},
		{"old cosignatures kept beside a rewritten history do not verify", testWitnessOldCosignaturesKept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, exec := newStore(t)
			tt.fn(t, s, exec, func(t *testing.T) WitnessStore { w, _ := newStore(t); return w })
		})
	}
}

const witnessOrigin = "relais.test/journal"

// witnessKey is a fixed Ed25519 key, so that failures repeat.
func witnessKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("witness " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// localCosigner reaches an in-process witness through the request's wire
// form, and can be down.
type localCosigner struct {
	w    *journal.Witnessing
	down bool
}

func (c *localCosigner) Key() journal.NoteVerifier { return c.w.Key() }

func (c *localCosigner) AddCheckpoint(ctx context.Context, req journal.AddCheckpoint) ([]journal.NoteSignature, error) {
	if c.down {
		return nil, errors.New("connection refused")
	}
	parsed, err := journal.ParseAddCheckpoint(req.Marshal())
	if err != nil {
		return nil, err
	}
	return c.w.AddCheckpoint(ctx, parsed)
}

// newWitness is a witness named name over its own store, trusting the
// journal keys of s for witnessOrigin.
func newWitness(t *testing.T, s WitnessStore, ws journal.WitnessStore, name string) *localCosigner {
	t.Helper()
	keys, _ := journalKeys(t, s)
	logs, err := keys.NoteKeys(t.Context(), witnessOrigin)
	if err != nil {
		t.Fatal(err)
	}
	w, err := journal.NewWitnessing(name, witnessKey(name), logs, ws, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &localCosigner{w: w}
}

// checkpointAndWitness signs a checkpoint and runs one witnessing round.
func checkpointAndWitness(t *testing.T, s WitnessStore, ws ...journal.Cosigner) []journal.WitnessOutcome {
	t.Helper()
	keys, _ := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{Always: true}); err != nil {
		t.Fatal(err)
	}
	out, err := journal.Witness(t.Context(), s, keys.NoteSigner(witnessOrigin), witnessOrigin, ws)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func verifyWitnessed(t *testing.T, s WitnessStore, required int, ws ...*localCosigner) journal.WitnessReport {
	t.Helper()
	var keys []journal.NoteVerifier
	for _, w := range ws {
		keys = append(keys, w.Key())
	}
	rep, err := journal.VerifyWitnessed(t.Context(), s, keys, required)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func testNotesRoundTrip(t *testing.T, s WitnessStore, _ SQL, _ func(*testing.T) WitnessStore) {
	ctx := t.Context()
	j := journal.New(s, journal.Options{})
	keys, _ := journalKeys(t, s)
	emitN(t, j, "p", 2)
	for range 2 {
		if _, err := journal.MakeCheckpoint(ctx, s, keys, journal.CheckpointOptions{Always: true}); err != nil {
			t.Fatal(err)
		}
	}
	_, notes, err := journal.NoteCheckpoints(ctx, s, keys.NoteSigner(witnessOrigin), witnessOrigin)
	if err != nil || len(notes) != 2 {
		t.Fatalf("notes: %v, %v", notes, err)
	}
	sig1 := journal.NoteSignature{Name: "w.test/a", KeyID: 0xfffffffe, Sig: []byte("first")}
	sig2 := journal.NoteSignature{Name: "w.test/a", KeyID: 0xfffffffe, Sig: []byte("again")}
	other := journal.NoteSignature{Name: "w.test/b", KeyID: 7, Sig: []byte("other")}
	for _, add := range []struct {
		n   int64
		sig journal.NoteSignature
	}{{1, sig1}, {2, sig1}, {2, sig2}, {1, other}} {
		if err := s.AddJournalCosignature(ctx, add.n, add.sig); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.JournalNotes(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Number != 2 || got[0].Note.Text != notes[1].Note.Text || len(got[0].Note.Sigs) != 2 ||
		got[0].Note.Sigs[0].Name != witnessOrigin || string(got[0].Note.Sigs[1].Sig) != "again" || got[0].Note.Sigs[1].KeyID != 0xfffffffe {
		t.Errorf("notes from 2: %+v", got)
	}
	if n, err := s.LastJournalCosignature(ctx, "w.test/a", 0xfffffffe); err != nil || n != 2 {
		t.Errorf("last cosignature of a: %d, %v; want 2", n, err)
	}
	if n, err := s.LastJournalCosignature(ctx, "w.test/c", 1); err != nil || n != 0 {
		t.Errorf("last cosignature of an unknown witness: %d, %v; want 0", n, err)
	}
	err = s.CreateJournalNote(ctx, 1, "another text\n", sig1)
	if !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("a second note for checkpoint 1: %v, want ErrAlreadyExists", err)
	}
}

// barrierSigner holds its first signature until the other instance has
// signed too, so that both write the same note number.
type barrierSigner struct {
	journal.NoteSigner
	wg    *sync.WaitGroup
	first bool
}

func (b *barrierSigner) SignNote(ctx context.Context, text string) (journal.NoteSignature, error) {
	sig, err := b.NoteSigner.SignNote(ctx, text)
	if b.first {
		b.first = false
		b.wg.Done()
		b.wg.Wait()
	}
	return sig, err
}

func testNotesRace(t *testing.T, s WitnessStore, _ SQL, _ func(*testing.T) WitnessStore) {
	keys, _ := journalKeys(t, s)
	emitN(t, journal.New(s, journal.Options{}), "p", 1)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	var barrier, done sync.WaitGroup
	barrier.Add(2)
	texts := make([]string, 2)
	for i := range 2 {
		done.Go(func() {
			signer := &barrierSigner{NoteSigner: keys.NoteSigner(witnessOrigin), wg: &barrier, first: true}
			_, notes, err := journal.NoteCheckpoints(t.Context(), s, signer, witnessOrigin)
			if err != nil || len(notes) != 1 {
				t.Errorf("instance %d: %v, %v", i, notes, err)
				return
			}
			texts[i] = notes[0].Note.String()
		})
	}
	done.Wait()
	stored, err := s.JournalNotes(t.Context(), 1)
	if err != nil || len(stored) != 1 || texts[0] != stored[0].Note.String() || texts[1] != texts[0] {
		t.Errorf("stored %v (%v); the instances returned %q", stored, err, texts)
	}
}

func testWitnessAdvance(t *testing.T, s WitnessStore, _ SQL, _ func(*testing.T) WitnessStore) {
	ctx := t.Context()
	at := time.Date(2026, 3, 3, 14, 5, 0, 123e6, time.UTC)
	if _, err := s.WitnessLatest(ctx, "o"); !errors.Is(err, mandates.ErrNotFound) {
		t.Fatalf("no state yet: %v, want ErrNotFound", err)
	}
	if err := s.AdvanceWitness(ctx, 0, journal.WitnessState{Origin: "o", Number: 3, Text: "three\n", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.AdvanceWitness(ctx, 0, journal.WitnessState{Origin: "o", Number: 1, Text: "one\n", At: at}); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("a second first state: %v, want ErrConflict", err)
	}
	if err := s.AdvanceWitness(ctx, 2, journal.WitnessState{Origin: "o", Number: 4, Text: "four\n", At: at}); !errors.Is(err, mandates.ErrConflict) {
		t.Errorf("advance from a state it does not hold: %v, want ErrConflict", err)
	}
	var wg sync.WaitGroup
	wins := make(chan int64, 8)
	for i := range int64(8) {
		wg.Go(func() {
			err := s.AdvanceWitness(ctx, 3, journal.WitnessState{Origin: "o", Number: 4 + i, Text: "next\n", At: at})
			switch {
			case err == nil:
				wins <- 4 + i
			case !errors.Is(err, mandates.ErrConflict):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(wins)
	var won []int64
	for n := range wins {
		won = append(won, n)
	}
	got, err := s.WitnessLatest(ctx, "o")
	if err != nil || len(won) != 1 || got.Number != won[0] || got.Text != "next\n" || !got.At.Equal(at) {
		t.Errorf("eight advances from 3: winners %v, state %+v, %v; want one winner, stored", won, got, err)
	}
}

func testWitnessCosigns(t *testing.T, s WitnessStore, _ SQL, other func(*testing.T) WitnessStore) {
	j := journal.New(s, journal.Options{})
	w1 := newWitness(t, s, other(t), "w1.test/witness")
	w2 := newWitness(t, s, other(t), "w2.test/witness")
	w2.down = true
	emitN(t, j, "p", 3)
	out := checkpointAndWitness(t, s, w1, w2)
	if out[0].Err != nil || out[0].Number != 1 || out[1].Err == nil || out[1].Number != 0 {
		t.Fatalf("outcomes: %+v; want w1 at 1, w2 down", out)
	}
	if rep := verifyWitnessed(t, s, 1, w1, w2); rep.Failure != nil || rep.Checkpoint != 1 || len(rep.Cosigners) != 1 {
		t.Errorf("1 of 2: %+v, want checkpoint 1 cosigned by w1", rep)
	}
	rep := verifyWitnessed(t, s, 2, w1, w2)
	if rep.Failure == nil || rep.Failure.Kind != journal.NotWitnessed {
		t.Errorf("2 of 2 with one down: %+v, want %s", rep, journal.NotWitnessed)
	}
	x, err := journal.BuildExport(t.Context(), s, "p", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if who, f := journal.VerifyExportWitnessed(x, []journal.NoteVerifier{w1.Key()}, 1); f != nil || len(who) != 1 {
		t.Errorf("the export's note: %v, %v; want cosigned by w1", who, f)
	}
	if _, f := journal.VerifyExportWitnessed(x, []journal.NoteVerifier{w2.Key()}, 1); f == nil || f.Kind != journal.NotWitnessed {
		t.Errorf("the export's note against w2: %v, want %s", f, journal.NotWitnessed)
	}
	x.Checkpoint.Note = strings.Replace(x.Checkpoint.Note, "relais-checkpoint 1", "relais-checkpoint 2", 1)
	if _, f := journal.VerifyExportWitnessed(x, []journal.NoteVerifier{w1.Key()}, 1); f == nil || f.Kind != journal.NoteEdited {
		t.Errorf("an export whose note was edited: %v, want %s", f, journal.NoteEdited)
	}
}

func testWitnessCatchesUp(t *testing.T, s WitnessStore, _ SQL, other func(*testing.T) WitnessStore) {
	j := journal.New(s, journal.Options{})
	ws := other(t)
	w := newWitness(t, s, ws, "w1.test/witness")
	emitN(t, j, "p", 1)
	checkpointAndWitness(t, s, w)
	w.down = true
	for range 3 {
		emitN(t, j, "q", 1)
		if out := checkpointAndWitness(t, s, w); out[0].Err == nil {
			t.Fatal("a witness that is down cosigned")
		}
	}
	w.down = false
	out := checkpointAndWitness(t, s, w)
	if out[0].Err != nil || out[0].Number != 5 {
		t.Fatalf("after it came back: %+v, want checkpoint 5 cosigned", out)
	}
	st, err := ws.WitnessLatest(t.Context(), witnessOrigin)
	if err != nil || st.Number != 5 {
		t.Errorf("the witness's state: %+v, %v; want 5", st, err)
	}
	if rep := verifyWitnessed(t, s, 1, w); rep.Failure != nil || rep.Checkpoint != 5 || rep.NotWitnessed != 0 {
		t.Errorf("verify: %+v, want checkpoint 5 witnessed", rep)
	}
}

// rewrite replaces chain p's history and the checkpoints, notes and
// cosignatures, as an operator holding the secret key could: the journal
// itself then verifies.
func rewrite(t *testing.T, s WitnessStore, exec SQL) {
	t.Helper()
	for _, q := range []string{`DELETE FROM journal_cosignatures`, `DELETE FROM journal_notes`, `DELETE FROM journal_checkpoint_heads`,
		`DELETE FROM journal_checkpoints`, `DELETE FROM journal_entries WHERE chain = 'p'`} {
		exec(t, q)
	}
	emitN(t, journal.New(s, journal.Options{}), "p", 2)
	keys, v := journalKeys(t, s)
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := journal.Verify(t.Context(), s, v, ""); err != nil || !rep.OK() {
		t.Fatalf("the rewritten journal should verify without witnesses: %v, %v", rep.Failure, err)
	}
}

func testWitnessRefusesRewrite(t *testing.T, s WitnessStore, exec SQL, other func(*testing.T) WitnessStore) {
	j := journal.New(s, journal.Options{})
	ws := other(t)
	w := newWitness(t, s, ws, "w1.test/witness")
	emitN(t, j, "p", 3)
	emitN(t, j, "q", 1)
	checkpointAndWitness(t, s, w)
	if rep := verifyWitnessed(t, s, 1, w); rep.Failure != nil {
		t.Fatalf("before the rewrite: %v", rep.Failure)
	}
	rewrite(t, s, exec)
	keys, _ := journalKeys(t, s)
	out, err := journal.Witness(t.Context(), s, keys.NoteSigner(witnessOrigin), witnessOrigin, []journal.Cosigner{w})
	var ref *journal.WitnessRefusal
	if err != nil || !errors.As(out[0].Err, &ref) || ref.Status != journal.StatusConflict || ref.Latest != 1 {
		t.Fatalf("the rewritten checkpoint 1: %+v, %v; want a 409 refusal naming checkpoint 1", out, err)
	}
	// A second rewritten checkpoint does not link to the one cosigned.
	if _, err := journal.MakeCheckpoint(t.Context(), s, keys, journal.CheckpointOptions{Always: true}); err != nil {
		t.Fatal(err)
	}
	out, err = journal.Witness(t.Context(), s, keys.NoteSigner(witnessOrigin), witnessOrigin, []journal.Cosigner{w})
	if err != nil || !errors.As(out[0].Err, &ref) || ref.Status != journal.StatusUnprocessable {
		t.Fatalf("the rewritten checkpoint 2: %+v, %v; want a 422 refusal", out, err)
	}
	rep := verifyWitnessed(t, s, 1, w)
	if rep.Failure == nil || rep.Failure.Kind != journal.NotWitnessed {
		t.Errorf("verify after the rewrite: %+v, want %s", rep, journal.NotWitnessed)
	}
	if st, err := ws.WitnessLatest(t.Context(), witnessOrigin); err != nil || st.Number != 1 {
		t.Errorf("the witness's state: %+v, %v; want still 1", st, err)
	}
}

func testWitnessOldCosignaturesKept(t *testing.T, s WitnessStore, exec SQL, other func(*testing.T) WitnessStore) {
	j := journal.New(s, journal.Options{})
	w := newWitness(t, s, other(t), "w1.test/witness")
	emitN(t, j, "p", 3)
	checkpointAndWitness(t, s, w)
	old, err := s.JournalNotes(t.Context(), 1)
	if err != nil || len(old) != 1 || len(old[0].Note.Sigs) != 2 {
		t.Fatalf("the cosigned note: %+v, %v", old, err)
	}
	rewrite(t, s, exec)
	// The operator puts back the old note and its cosignature.
	n := old[0].Note
	if err := s.CreateJournalNote(t.Context(), 1, n.Text, n.Sigs[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.AddJournalCosignature(t.Context(), 1, n.Sigs[1]); err != nil {
		t.Fatal(err)
	}
	rep := verifyWitnessed(t, s, 1, w)
	if rep.Failure == nil || rep.Failure.Kind != journal.NoteEdited || rep.Failure.Checkpoint != 1 {
		t.Errorf("verify: %+v, want %s at checkpoint 1", rep, journal.NoteEdited)
	}
}
