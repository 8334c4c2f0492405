package journal_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates/journal"
)

// TestARewriteOfTheNewestCosignedCheckpointIsNotWitnessed: whoever holds
// the store and the journal key deletes the newest cosigned checkpoint
// with its note and cosignature, rewrites the entry only it covered, and
// signs on. The witness refuses the new checkpoint; the offline check
// fails too, because the newest checkpoint must be cosigned.
func TestARewriteOfTheNewestCosignedCheckpointIsNotWitnessed(t *testing.T) {
	st := &memNotes{memStore: newMemStore(), cosigs: map[int64][]journal.NoteSignature{}}
	j := journal.New(st, journal.Options{})
	signer, logKey := newNoteSigner(t)
	seed := sha256.Sum256([]byte("witness"))
	ws := &memWitnessStore{m: map[string]journal.WitnessState{}}
	w, err := journal.NewWitnessing("witness.test/w", ed25519.NewKeyFromSeed(seed[:]), []journal.NoteVerifier{logKey}, ws, func() time.Time { return witnessAt })
	if err != nil {
		t.Fatal(err)
	}
	c := &countingCosigner{w: w}
	step := func(i int) {
		t.Helper()
		if err := j.Emit(t.Context(), event("p", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := journal.MakeCheckpoint(t.Context(), st, hmacSigner{}, journal.CheckpointOptions{}); err != nil {
			t.Fatal(err)
		}
		if out, err := journal.Witness(t.Context(), st, signer, origin, []journal.Cosigner{c}); err != nil || out[0].Err != nil {
			t.Fatalf("witness: %+v %v", out, err)
		}
	}
	witnesses := []journal.NoteVerifier{c.Key()}
	step(0)
	step(1)
	step(2)
	if rep, err := journal.VerifyWitnessed(t.Context(), st, witnesses, 1); err != nil || rep.Behind(0) != nil || rep.Checkpoint != 3 {
		t.Fatalf("every checkpoint cosigned: %+v, %v", rep, err)
	}
	if rep, err := journal.VerifyWitnessed(t.Context(), st, append(witnesses, witnesses...), 2); err != nil || rep.Behind(0) == nil {
		t.Errorf("one witness named twice counted as two: %+v, %v", rep, err)
	}

	st.cps = st.cps[:2]
	st.notes = st.notes[:2]
	delete(st.cosigs, 3)
	st.entries["p"] = st.entries["p"][:2]
	if err := j.Emit(t.Context(), event("p", 99)); err != nil {
		t.Fatal(err)
	}
	if _, err := journal.MakeCheckpoint(t.Context(), st, hmacSigner{}, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, err := journal.Witness(t.Context(), st, signer, origin, []journal.Cosigner{c}); err != nil || out[0].Err == nil {
		t.Errorf("the witness cosigned a second checkpoint 3: %+v, %v", out, err)
	}
	if rep, err := journal.Verify(t.Context(), st, hmacSigner{}, ""); err != nil || rep.Failure != nil {
		t.Fatalf("the rewrite verifies without witnesses (as it should, it was re-signed): %+v, %v", rep.Failure, err)
	}
	rep, err := journal.VerifyWitnessed(t.Context(), st, witnesses, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Behind(0)
	if f == nil || f.Kind != journal.NotWitnessed || f.Checkpoint != 3 {
		t.Errorf("the rewritten checkpoint 3 passes verify --witness: %+v", f)
	}
	if rep.Behind(1) != nil {
		t.Errorf("--max-unwitnessed 1 should accept one checkpoint not yet cosigned: %+v", rep.Behind(1))
	}
}
