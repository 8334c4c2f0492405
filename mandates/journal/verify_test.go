package journal_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates/journal"
)

// filled is a store with three chains of five entries and one checkpoint.
func filled(t *testing.T) (*memStore, *journal.Journal, hmacSigner) {
	t.Helper()
	st := newMemStore()
	j := journal.New(st, journal.Options{})
	for _, p := range []string{"p1", "p2", "p3"} {
		for i := range 5 {
			if err := j.Emit(t.Context(), event(p, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	signer := hmacSigner{kid: "journal-test", key: []byte("secret")}
	if _, err := journal.MakeCheckpoint(t.Context(), st, signer, journal.CheckpointOptions{Now: func() time.Time { return t0.Add(time.Hour) }}); err != nil {
		t.Fatal(err)
	}
	return st, j, signer
}

// rehash recomputes an entry's hash, as a careful forger would.
func rehash(s *journal.Stored) { s.Hash = s.ComputeHash() }

func TestVerifyNamesEachKindOfTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(st *memStore)
		want   journal.Failure // Chain, Seq, Kind compared; Checkpoint when set
	}{
		{"an edited field", func(st *memStore) { st.entries["p2"][2].ActorID = "someone else" },
			journal.Failure{Chain: "p2", Seq: 3, Kind: journal.Edited}},
		{"an edited field with its hash recomputed", func(st *memStore) {
			st.entries["p2"][2].ActorID = "someone else"
			rehash(&st.entries["p2"][2])
		}, journal.Failure{Chain: "p2", Seq: 3, Kind: journal.Edited}},
		{"an edited detail", func(st *memStore) { st.entries["p1"][1].Detail.Fields = map[string]string{"n": "forged"} },
			journal.Failure{Chain: "p1", Seq: 2, Kind: journal.Edited}},
		{"a deleted entry", func(st *memStore) {
			r := st.entries["p2"]
			st.entries["p2"] = append(r[:2:2], r[3:]...)
		}, journal.Failure{Chain: "p2", Seq: 3, Kind: journal.Deleted}},
		{"a deleted entry with the rest renumbered", func(st *memStore) {
			r := st.entries["p2"]
			r = append(r[:2:2], r[3:]...)
			for i := 2; i < len(r); i++ {
				r[i].Seq--
			}
			st.entries["p2"] = r
		}, journal.Failure{Chain: "p2", Seq: 3, Kind: journal.Deleted}},
		{"two entries swapped", func(st *memStore) {
			r := st.entries["p3"]
			r[1].Seq, r[2].Seq = 3, 2
		}, journal.Failure{Chain: "p3", Seq: 2, Kind: journal.Reordered}},
		{"an entry inserted with a hash computed in place", func(st *memStore) {
			r := st.entries["p1"]
			forged := journal.Next(&r[1].Entry, "p1", event("p1", 42), journal.Hash{})
			for i := 2; i < len(r); i++ {
				r[i].Seq++
			}
			st.entries["p1"] = append(r, journal.Stored{Entry: forged, Detail: &journal.Detail{ErasedAt: t0, Reason: "erasure"}})
		}, journal.Failure{Chain: "p1", Seq: 3, Kind: journal.Inserted}},
		{"an entry inserted carelessly", func(st *memStore) {
			r := st.entries["p1"]
			for i := 2; i < len(r); i++ {
				r[i].Seq++
			}
			forged := r[0]
			forged.Seq, forged.ActorID = 3, "ghost"
			st.entries["p1"] = append(r, forged)
		}, journal.Failure{Chain: "p1", Seq: 3, Kind: journal.Inserted}},
		{"a truncated tail", func(st *memStore) { st.entries["p3"] = st.entries["p3"][:3] },
			journal.Failure{Chain: "p3", Seq: 4, Kind: journal.Truncated, Checkpoint: 1}},
		{"a whole chain dropped", func(st *memStore) { delete(st.entries, "p2") },
			journal.Failure{Chain: "p2", Kind: journal.ChainDropped, Checkpoint: 1}},
		{"a whole chain rewritten consistently", func(st *memStore) {
			r := st.entries["p1"]
			r[0].ActorID = "ghost"
			rehash(&r[0])
			for i := 1; i < len(r); i++ {
				r[i].Prev = r[i-1].Hash
				rehash(&r[i])
			}
		}, journal.Failure{Chain: "p1", Seq: 5, Kind: journal.Edited, Checkpoint: 1}},
		{"a detail removed without an erasure mark", func(st *memStore) { st.entries["p1"][0].Detail = nil },
			journal.Failure{Chain: "p1", Seq: 1, Kind: journal.Edited}},
		{"a forged checkpoint signature", func(st *memStore) {
			st.cps[0].JWS = st.cps[0].JWS[:len(st.cps[0].JWS)-2] + "AA"
		}, journal.Failure{Kind: journal.BadSignature, Checkpoint: 1}},
		{"a checkpoint's stored root edited", func(st *memStore) { st.cps[0].Root[0] ^= 1 },
			journal.Failure{Kind: journal.CheckpointEdited, Checkpoint: 1}},
		{"a chain removed from a checkpoint's heads and from the journal", func(st *memStore) {
			st.cps[0].Heads = st.cps[0].Heads[1:]
			delete(st.entries, "p1")
		}, journal.Failure{Kind: journal.CheckpointEdited, Checkpoint: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _, signer := filled(t)
			tt.tamper(st)
			rep, err := journal.Verify(t.Context(), st, signer, "")
			if err != nil {
				t.Fatal(err)
			}
			f := rep.Failure
			if f == nil {
				t.Fatal("verification passed")
			}
			if f.Chain != tt.want.Chain || f.Seq != tt.want.Seq || f.Kind != tt.want.Kind || (tt.want.Checkpoint != 0 && f.Checkpoint != tt.want.Checkpoint) {
				t.Errorf("failure %q\nwant chain %q entry %d kind %q checkpoint %d", f, tt.want.Chain, tt.want.Seq, tt.want.Kind, tt.want.Checkpoint)
			}
		})
	}
}

func TestAnUntouchedJournalVerifies(t *testing.T) {
	st, j, signer := filled(t)
	// Chains grow after a checkpoint, and new ones start.
	for i := range 3 {
		if err := j.Emit(t.Context(), event("p1", 10+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Emit(t.Context(), event("p4", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := journal.MakeCheckpoint(t.Context(), st, signer, journal.CheckpointOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(st.cps[1].Heads) != 2 {
		t.Errorf("second checkpoint lists %d changed heads, want 2 (p1 and p4)", len(st.cps[1].Heads))
	}
	rep, err := journal.Verify(t.Context(), st, signer, "")
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v, %v", rep.Failure, err)
	}
	if rep.Chains != 4 || rep.Entries != 19 || rep.Checkpoints != 2 {
		t.Errorf("report %+v, want 4 chains, 19 entries, 2 checkpoints", rep)
	}
	rep, err = journal.Verify(t.Context(), st, signer, "p1")
	if err != nil || !rep.OK() || rep.Chains != 1 || rep.Entries != 8 {
		t.Errorf("verify p1: %+v, %v", rep, err)
	}
	if _, err := journal.MakeCheckpoint(t.Context(), st, signer, journal.CheckpointOptions{}); err != journal.ErrNothingNew {
		t.Errorf("checkpoint with nothing new: %v, want ErrNothingNew", err)
	}
}

func TestACheckpointIsRefusedOverATamperedJournal(t *testing.T) {
	st, _, signer := filled(t)
	delete(st.entries, "p2")
	_, err := journal.MakeCheckpoint(t.Context(), st, signer, journal.CheckpointOptions{Always: true})
	f, ok := err.(*journal.Failure)
	if !ok || f.Kind != journal.ChainDropped || f.Chain != "p2" {
		t.Errorf("checkpoint over a dropped chain: %v", err)
	}
	if len(st.cps) != 1 {
		t.Errorf("%d checkpoints stored, want 1", len(st.cps))
	}
}

func TestErasureKeepsTheChainVerifiable(t *testing.T) {
	st, j, signer := filled(t)
	n, err := j.Erase(t.Context(), "p1", t0.Add(3*time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("erase: %d, %v; want 3", n, err)
	}
	if d := st.entries["p1"][0].Detail; !d.Erased() || d.Fields != nil || d.Salt != nil || d.Reason != journal.ReasonErasure {
		t.Errorf("erased detail: %+v", d)
	}
	rep, err := journal.Verify(t.Context(), st, signer, "")
	if err != nil || !rep.OK() || rep.Erased != 3 {
		t.Errorf("verify after erasure: %+v, %v", rep, err)
	}
	x, err := journal.BuildExport(t.Context(), st, "p1", t0)
	if err != nil {
		t.Fatal(err)
	}
	if xr := journal.VerifyExport(x, signer); xr.Failure != nil || xr.Erased != 3 {
		t.Errorf("export after erasure: %+v", xr)
	}
	if _, err := j.Expire(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if rep, _ := journal.Verify(t.Context(), st, signer, ""); !rep.OK() || rep.Erased != 15 {
		t.Errorf("verify after retention: %+v", rep)
	}
}

func TestAnExportVerifiesOfflineAndAForgeryIsRejected(t *testing.T) {
	st, j, signer := filled(t)
	if err := j.Emit(t.Context(), event("p2", 9)); err != nil { // after the checkpoint
		t.Fatal(err)
	}
	x, err := journal.BuildExport(t.Context(), st, "p2", t0)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := journal.ParseExport(raw)
	if err != nil {
		t.Fatal(err)
	}
	rep := journal.VerifyExport(parsed, signer)
	if rep.Failure != nil || rep.Entries != 6 || rep.Checkpoint != 1 || rep.SignedUpTo != 5 || rep.Uncovered != 1 {
		t.Fatalf("export: %+v", rep)
	}
	forgeries := []struct {
		name   string
		forge  func(x *journal.Export)
		kind   journal.Kind
		reason string
	}{
		{"an entry's actor changed", func(x *journal.Export) { x.Entries[1].ActorID = "ghost" }, journal.Edited, "entry 2"},
		{"an entry's detail changed", func(x *journal.Export) { x.Entries[0].Detail["n"] = "forged" }, journal.Edited, "entry 1"},
		{"an entry left out", func(x *journal.Export) { x.Entries = append(x.Entries[:1], x.Entries[2:]...) }, journal.Deleted, "entry 2"},
		{"the tail left out", func(x *journal.Export) { x.Entries = x.Entries[:3] }, journal.Truncated, "entry 4"},
		{"signed by another key", func(x *journal.Export) {
			x.Checkpoint.JWS, _ = hmacSigner{kid: "journal-test", key: []byte("forger")}.Sign(t.Context(), []byte(`{}`))
		}, journal.BadSignature, "checkpoint 1"},
		{"a proof for another chain", func(x *journal.Export) {
			other, _ := journal.BuildExport(t.Context(), st, "p1", t0)
			x.Checkpoint.Path = other.Checkpoint.Path
		}, journal.NotCovered, "checkpoint 1"},
		{"its checkpoint removed", func(x *journal.Export) { x.Checkpoint = nil }, journal.NotCovered, "cannot be verified: no checkpoint covers it"},
		{"a rewritten chain with a fresh hash for each entry", func(x *journal.Export) {
			for i := range x.Entries {
				e := &x.Entries[i].Entry
				e.ActorID = "ghost"
				if i > 0 {
					e.Prev = x.Entries[i-1].Hash
				}
				e.Hash = e.ComputeHash()
			}
		}, journal.Edited, "entry 5"},
	}
	for _, tt := range forgeries {
		t.Run(tt.name, func(t *testing.T) {
			x, _ := journal.ParseExport(raw)
			tt.forge(&x)
			rep := journal.VerifyExport(x, signer)
			if rep.Failure == nil || rep.Failure.Kind != tt.kind || !strings.Contains(rep.Failure.Error(), tt.reason) {
				t.Errorf("forgery: %v, want %s naming %s", rep.Failure, tt.kind, tt.reason)
			}
		})
	}
}

// anchoredSigner is a verifier that knows the checkpoints the keys'
// history names, as keyring.JournalVerifier does.
type anchoredSigner struct {
	hmacSigner
	anchors []journal.Anchor
}

func (a anchoredSigner) Anchors() []journal.Anchor { return a.anchors }

func TestCheckpointsDeletedAndSignedAgainFromOneDoNotVerify(t *testing.T) {
	st, j, signer := filled(t)
	first, _ := st.Checkpoints(t.Context())
	h, err := first[0].PayloadHash()
	if err != nil {
		t.Fatal(err)
	}
	v := anchoredSigner{signer, []journal.Anchor{{KeyID: "journal-test", Number: 1, Hash: h}}}
	if err := j.Emit(t.Context(), event("p1", 9)); err != nil {
		t.Fatal(err)
	}
	if rep, err := journal.Verify(t.Context(), st, v, ""); err != nil || !rep.OK() || rep.Uncovered != 1 {
		t.Fatalf("before: %+v, %v; want it to verify with 1 entry not covered", rep, err)
	}
	tests := []struct {
		name   string
		tamper func(st *memStore)
		reason string
	}{
		{"every checkpoint deleted", func(st *memStore) { st.cps = nil }, "no longer stored"},
		{"every checkpoint deleted and a new one signed", func(st *memStore) {
			st.cps = nil
			if _, err := journal.MakeCheckpoint(t.Context(), st, signer, journal.CheckpointOptions{}); err != nil {
				t.Fatal(err)
			}
		}, "it was replaced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _, _ := filled(t)
			st.cps = first // the same checkpoint 1 the anchor names
			tt.tamper(st)
			rep, err := journal.Verify(t.Context(), st, v, "")
			if err != nil || rep.Failure == nil || rep.Failure.Kind != journal.Restarted || rep.Failure.Checkpoint != 1 ||
				!strings.Contains(rep.Failure.Reason, tt.reason) {
				t.Errorf("verify: %v, %v; want checkpoints restarted at checkpoint 1, naming %q", rep.Failure, err, tt.reason)
			}
			if rep, _ := journal.Verify(t.Context(), st, signer, ""); !rep.OK() {
				t.Errorf("without the keys' history: %v (only the history can tell)", rep.Failure)
			}
		})
	}
}
