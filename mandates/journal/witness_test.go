package journal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

const origin = "relais.test/journal"

var witnessAt = time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC)

// ecdsaNoteSigner signs notes with a P-256 key, as authz's NoteSigner.
type ecdsaNoteSigner struct{ key *ecdsa.PrivateKey }

func newNoteSigner(t *testing.T) (ecdsaNoteSigner, journal.NoteVerifier) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	v, err := journal.ECDSANoteKey(origin, &k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return ecdsaNoteSigner{k}, v
}

func (s ecdsaNoteSigner) SignNote(_ context.Context, text string) (journal.NoteSignature, error) {
	v, _ := journal.ECDSANoteKey(origin, &s.key.PublicKey)
	sum := sha256.Sum256([]byte(text))
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, sum[:])
	return journal.NoteSignature{Name: v.Name, KeyID: v.KeyID, Sig: sig}, err
}

func TestASignedNoteReadsBackAsWritten(t *testing.T) {
	s, v := newNoteSigner(t)
	text := journal.CheckpointNote{Origin: origin, Size: 3, Root: journal.Hash{1}, Number: 7, Prev: journal.Hash{2}}.Text()
	sig, err := s.SignNote(t.Context(), text)
	if err != nil {
		t.Fatal(err)
	}
	n := journal.Note{Text: text, Sigs: []journal.NoteSignature{sig}}
	got, err := journal.ParseNote([]byte(n.String()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != text || len(got.Sigs) != 1 || !strings.HasPrefix(n.String(), text+"\n— "+origin+" ") {
		t.Fatalf("round trip: %q", n.String())
	}
	if _, ok := v.Verify(got.Text, got.Sigs[0]); !ok {
		t.Error("the journal key's signature does not verify after the round trip")
	}
	c, err := journal.ParseCheckpointNote(got.Text)
	if err != nil || c.Number != 7 || c.Size != 3 || c.Root != (journal.Hash{1}) || c.Prev != (journal.Hash{2}) || c.Origin != origin {
		t.Errorf("checkpoint note: %+v, %v", c, err)
	}
	if _, ok := v.Verify(strings.Replace(got.Text, "\n3\n", "\n4\n", 1), got.Sigs[0]); ok {
		t.Error("the signature verifies over another size")
	}
}

// TestACosignatureIsWhatTlogCosignatureSays recomputes a cosignature's
// key ID and signed message from the specification's words
// (c2sp.org/tlog-cosignature), apart from the code under test.
func TestACosignatureIsWhatTlogCosignatureSays(t *testing.T) {
	seed := sha256.Sum256([]byte("seed"))
	key := ed25519.NewKeyFromSeed(seed[:])
	pub := key.Public().(ed25519.PublicKey)
	text := "example.com/log\n5\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	sig, err := journal.Cosign("witness.example/w1", key, text, witnessAt)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(append([]byte("witness.example/w1\n\x04"), pub...))
	if sig.KeyID != binary.BigEndian.Uint32(h[:4]) {
		t.Errorf("key ID %08x, want SHA-256(name || \\n || 0x04 || key)[:4] = %x", sig.KeyID, h[:4])
	}
	if len(sig.Sig) != 72 || binary.BigEndian.Uint64(sig.Sig) != uint64(witnessAt.Unix()) {
		t.Fatalf("signature: %d bytes, want the 8-byte timestamp then 64 bytes", len(sig.Sig))
	}
	msg := "cosignature/v1\ntime 1772546700\n" + text
	if !ed25519.Verify(pub, []byte(msg), sig.Sig[8:]) {
		t.Error("the Ed25519 signature is not over cosignature/v1, the time line and the note text")
	}
	v, err := journal.ParseNoteKey("witness.example/w1+" + strings.ToLower(base64Hex(h[:4])) + "+" +
		base64.StdEncoding.EncodeToString(append([]byte{0x04}, pub...)))
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := v.Verify(text, sig); !ok || !at.Equal(witnessAt) {
		t.Errorf("verify: %v %v", at, ok)
	}
}

func base64Hex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestBadNotesAndKeysAreRefused(t *testing.T) {
	_, v := newNoteSigner(t)
	good := journal.CheckpointNote{Origin: origin, Size: 1, Number: 1}.Text()
	notes := []struct{ name, note string }{
		{"no signature", good + "\n"},
		{"no empty line", good + "— a AAAAAAA=\n"},
		{"a control character", "a\tb\n\n— a AAAAAAAA\n"},
		{"a signature not base64", good + "\n— a !!!\n"},
		{"a signature line without name", good + "\n—  AAAAAAAA\n"},
		{"a signature shorter than its key ID", good + "\n— a AAAA\n"},
	}
	for _, tt := range notes {
		if _, err := journal.ParseNote([]byte(tt.note)); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
	texts := []struct{ name, text string }{
		{"a size with a leading zero", strings.Replace(good, "\n1\n", "\n01\n", 1)},
		{"number 0", strings.Replace(good, "relais-checkpoint 1", "relais-checkpoint 0", 1)},
		{"a missing prev line", strings.Join(strings.SplitAfter(good, "\n")[:4], "")},
		{"an extra line", good + "more\n"},
		{"an origin with a space", strings.Replace(good, origin, "a b", 1)},
	}
	for _, tt := range texts {
		if _, err := journal.ParseCheckpointNote(tt.text); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
	vk := v.String()
	keys := []struct{ name, vkey string }{
		{"a key ID that does not match", origin + "+00000000+" + vk[len(origin)+10:]},
		{"no key ID", origin + "+" + vk[len(origin)+10:]},
		{"an unknown type", origin + "+00000000+" + base64.StdEncoding.EncodeToString([]byte{0x01, 1, 2})},
		{"a name with a space", "a b" + vk[len(origin):]},
	}
	for _, tt := range keys {
		if _, err := journal.ParseNoteKey(tt.vkey); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
	if got, err := journal.ParseNoteKey(vk); err != nil || got.String() != vk {
		t.Errorf("the journal key's vkey reads back as %v, %v", got, err)
	}
}

// memWitnessStore is an in-memory journal.WitnessStore.
type memWitnessStore struct {
	mu sync.Mutex
	m  map[string]journal.WitnessState
}

func (m *memWitnessStore) WitnessLatest(_ context.Context, origin string) (journal.WitnessState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[origin]
	if !ok {
		return s, mandates.ErrNotFound
	}
	return s, nil
}

func (m *memWitnessStore) AdvanceWitness(_ context.Context, old int64, s journal.WitnessState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m[s.Origin].Number != old {
		return mandates.ErrConflict
	}
	m.m[s.Origin] = s
	return nil
}

// history is a run of signed checkpoint notes, each linking to the one
// before.
func history(t *testing.T, s journal.NoteSigner, n int, seed byte) []journal.Note {
	t.Helper()
	var out []journal.Note
	var prev journal.Hash
	for i := 1; i <= n; i++ {
		text := journal.CheckpointNote{Origin: origin, Size: int64(i), Root: journal.Hash{seed, byte(i)}, Number: int64(i), Prev: prev}.Text()
		sig, err := s.SignNote(t.Context(), text)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, journal.Note{Text: text, Sigs: []journal.NoteSignature{sig}})
		prev = journal.NoteHash(text)
	}
	return out
}

func texts(ns []journal.Note) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Text
	}
	return out
}

func TestTheWitnessRule(t *testing.T) {
	signer, logKey := newNoteSigner(t)
	other, _ := newNoteSigner(t)
	h := history(t, signer, 4, 'a')
	fork := history(t, signer, 4, 'b') // the same key, another history
	foreign := history(t, other, 1, 'a')
	forged := journal.Note{Text: h[0].Text, Sigs: []journal.NoteSignature{{Name: origin, KeyID: logKey.KeyID, Sig: []byte("not a signature")}}}
	unknownOrigin := journal.CheckpointNote{Origin: "elsewhere.test/journal", Size: 1, Number: 1}.Text()
	unknown := journal.Note{Text: unknownOrigin, Sigs: h[0].Sigs}

	tests := []struct {
		name   string
		before []journal.AddCheckpoint // accepted first
		req    journal.AddCheckpoint
		status int   // 0: cosigned
		latest int64 // with 409
	}{
		{"the first checkpoint is taken as it comes", nil, journal.AddCheckpoint{Note: h[1]}, 0, 0},
		{"the next checkpoint is cosigned", []journal.AddCheckpoint{{Note: h[0]}}, journal.AddCheckpoint{Old: 1, Note: h[1]}, 0, 0},
		{"checkpoints in between are carried", []journal.AddCheckpoint{{Note: h[0]}}, journal.AddCheckpoint{Old: 1, Between: texts(h[1:3]), Note: h[3]}, 0, 0},
		{"the same checkpoint again is cosigned again", []journal.AddCheckpoint{{Note: h[0]}}, journal.AddCheckpoint{Old: 1, Note: h[0]}, 0, 0},
		{"a second checkpoint 1 is a conflict", []journal.AddCheckpoint{{Note: h[0]}}, journal.AddCheckpoint{Old: 1, Note: fork[0]}, journal.StatusConflict, 1},
		{"an old number that is not the witness's is a conflict", []journal.AddCheckpoint{{Note: h[0]}, {Old: 1, Note: h[1]}},
			journal.AddCheckpoint{Old: 1, Note: h[2]}, journal.StatusConflict, 2},
		{"a first request to a witness that has a history is a conflict", []journal.AddCheckpoint{{Note: h[0]}},
			journal.AddCheckpoint{Note: h[1]}, journal.StatusConflict, 1},
		{"a checkpoint of another history is unprocessable", []journal.AddCheckpoint{{Note: h[0]}}, journal.AddCheckpoint{Old: 1, Note: fork[1]},
			journal.StatusUnprocessable, 0},
		{"a missing checkpoint in between is unprocessable", []journal.AddCheckpoint{{Note: h[0]}},
			journal.AddCheckpoint{Old: 1, Between: texts(h[2:3]), Note: h[3]}, journal.StatusUnprocessable, 0},
		{"a rewritten checkpoint in between is unprocessable", []journal.AddCheckpoint{{Note: h[0]}},
			journal.AddCheckpoint{Old: 1, Between: []string{h[1].Text, fork[2].Text}, Note: h[3]}, journal.StatusUnprocessable, 0},
		{"a note signed by another key is forbidden", nil, journal.AddCheckpoint{Note: foreign[0]}, journal.StatusForbidden, 0},
		{"a forged signature of the trusted key is forbidden", nil, journal.AddCheckpoint{Note: forged}, journal.StatusForbidden, 0},
		{"an unknown origin is not found", nil, journal.AddCheckpoint{Note: unknown}, journal.StatusNotFound, 0},
		{"an old number above the checkpoint's is a bad request", nil, journal.AddCheckpoint{Old: 3, Note: h[1]}, journal.StatusBadRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed := sha256.Sum256([]byte("witness"))
			st := &memWitnessStore{m: map[string]journal.WitnessState{}}
			w, err := journal.NewWitnessing("witness.test/w", ed25519.NewKeyFromSeed(seed[:]), []journal.NoteVerifier{logKey}, st,
				func() time.Time { return witnessAt })
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range tt.before {
				if _, err := w.AddCheckpoint(t.Context(), b); err != nil {
					t.Fatalf("before: %v", err)
				}
			}
			was := st.m[origin]
			parsed, err := journal.ParseAddCheckpoint(tt.req.Marshal())
			if err != nil {
				t.Fatal(err)
			}
			sigs, err := w.AddCheckpoint(t.Context(), parsed)
			var ref *journal.WitnessRefusal
			switch {
			case tt.status == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.status == 0:
				if _, ok := w.Key().Verify(tt.req.Note.Text, sigs[0]); len(sigs) != 1 || !ok {
					t.Errorf("the cosignature does not verify")
				}
				if got := st.m[origin]; got.Text != tt.req.Note.Text {
					t.Errorf("the witness's state is %d, want the note cosigned", got.Number)
				}
			case !errors.As(err, &ref) || ref.Status != tt.status || ref.Latest != tt.latest:
				t.Errorf("got %v, want a refusal %d (latest %d)", err, tt.status, tt.latest)
			case st.m[origin] != was:
				t.Errorf("a refusal changed the witness's state")
			}
		})
	}
}

func TestBadAddCheckpointBodiesAreBadRequests(t *testing.T) {
	signer, _ := newNoteSigner(t)
	note := history(t, signer, 1, 'a')[0].String()
	for _, body := range []string{"", "old 1\n", "old -1\n\n" + note, "old 01\n\n" + note, "new 1\n\n" + note, "old 0\n!!\n\n" + note, "old 0\n\nnot a note"} {
		_, err := journal.ParseAddCheckpoint([]byte(body))
		var ref *journal.WitnessRefusal
		if !errors.As(err, &ref) || ref.Status != journal.StatusBadRequest {
			t.Errorf("%q: %v, want a 400 refusal", body, err)
		}
	}
}

// memNotes adds the notes' store to memStore.
type memNotes struct {
	*memStore
	mu     sync.Mutex
	notes  []journal.NumberedNote
	cosigs map[int64][]journal.NoteSignature
}

func (m *memNotes) JournalNotes(_ context.Context, from int64) ([]journal.NumberedNote, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []journal.NumberedNote
	for _, n := range m.notes {
		if n.Number >= from {
			n.Note.Sigs = append(slices.Clone(n.Note.Sigs), m.cosigs[n.Number]...)
			out = append(out, n)
		}
	}
	return out, nil
}

func (m *memNotes) CreateJournalNote(_ context.Context, number int64, text string, sig journal.NoteSignature) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notes = append(m.notes, journal.NumberedNote{Number: number, Note: journal.Note{Text: text, Sigs: []journal.NoteSignature{sig}}})
	return nil
}

func (m *memNotes) AddJournalCosignature(_ context.Context, number int64, sig journal.NoteSignature) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cosigs[number] = append(m.cosigs[number], sig)
	return nil
}

func (m *memNotes) LastJournalCosignature(_ context.Context, name string, keyID uint32) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last := int64(0)
	for n, sigs := range m.cosigs {
		for _, s := range sigs {
			if s.Name == name && s.KeyID == keyID && n > last {
				last = n
			}
		}
	}
	return last, nil
}

// countingCosigner is an in-process witness that counts requests.
type countingCosigner struct {
	w        *journal.Witnessing
	requests int
}

func (c *countingCosigner) Key() journal.NoteVerifier { return c.w.Key() }

func (c *countingCosigner) AddCheckpoint(ctx context.Context, req journal.AddCheckpoint) ([]journal.NoteSignature, error) {
	c.requests++
	return c.w.AddCheckpoint(ctx, req)
}

// TestAWitnessFarBehindCatchesUpInSteps: a witness that missed more
// checkpoints than one request carries is brought up in several requests,
// each cosigned, and the rest at the next round.
func TestAWitnessFarBehindCatchesUpInSteps(t *testing.T) {
	st := &memNotes{memStore: newMemStore(), cosigs: map[int64][]journal.NoteSignature{}}
	j := journal.New(st, journal.Options{})
	signer, logKey := newNoteSigner(t)
	seed := sha256.Sum256([]byte("witness"))
	w, err := journal.NewWitnessing("witness.test/w", ed25519.NewKeyFromSeed(seed[:]), []journal.NoteVerifier{logKey},
		&memWitnessStore{m: map[string]journal.WitnessState{}}, func() time.Time { return witnessAt })
	if err != nil {
		t.Fatal(err)
	}
	c := &countingCosigner{w: w}
	checkpoint := func() {
		if err := j.Emit(t.Context(), event("p", 0)); err != nil {
			t.Fatal(err)
		}
		if _, err := journal.MakeCheckpoint(t.Context(), st, hmacSigner{}, journal.CheckpointOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	checkpoint()
	if out, err := journal.WitnessWithLimit(t.Context(), st, signer, origin, []journal.Cosigner{c}, 2); err != nil || out[0].Number != 1 {
		t.Fatalf("first round: %+v, %v", out, err)
	}
	for range 60 {
		checkpoint()
	}
	// 60 behind, 3 per request: 16 requests reach 49, the next round 61.
	out, err := journal.WitnessWithLimit(t.Context(), st, signer, origin, []journal.Cosigner{c}, 2)
	if err != nil || out[0].Number != 49 || out[0].Err == nil || c.requests != 17 {
		t.Fatalf("a round far behind: %+v, %v, %d requests; want 49 reached in 16 requests, and said", out, err, c.requests)
	}
	out, err = journal.WitnessWithLimit(t.Context(), st, signer, origin, []journal.Cosigner{c}, 2)
	if err != nil || out[0].Number != 61 || out[0].Err != nil {
		t.Fatalf("the next round: %+v, %v; want 61", out, err)
	}
	rep, err := journal.VerifyWitnessed(t.Context(), st, []journal.NoteVerifier{c.Key()}, 1)
	if err != nil || rep.Failure != nil || rep.Checkpoint != 61 {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}
