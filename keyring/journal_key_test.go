package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// memJournalKeys is an in-memory keyring.JournalKeyStore.
type memJournalKeys struct {
	mu   sync.Mutex
	keys []keyring.JournalKey
	cps  []journal.Checkpoint
}

func (m *memJournalKeys) EndorseJournalKey(_ context.Context, id, endorsement string, private []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.keys {
		if m.keys[i].ID == id && m.keys[i].Endorsement == "" {
			m.keys[i].Endorsement, m.keys[i].Private = endorsement, private
			return true, nil
		}
	}
	return false, nil
}

func (m *memJournalKeys) Checkpoints(context.Context) ([]journal.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.cps), nil
}

func (m *memJournalKeys) CreateJournalKey(_ context.Context, k keyring.JournalKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.ID == k.ID || o.Generation == k.Generation {
			return &mandates.UniqueError{Entity: "journal key", Field: "generation"}
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memJournalKeys) JournalKeys(context.Context) ([]keyring.JournalKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys), nil
}

func box(t *testing.T, b byte) *keyring.SecretBox {
	t.Helper()
	sb, err := keyring.NewSecretBox(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return sb
}

func TestTheJournalKeyIsPublishedBesideTheTokenKeysAndNeverVerifiesAToken(t *testing.T) {
	c := newClock()
	tokenKeys := newKeys(t, &memKeys{}, box(t, 1), c)
	if err := tokenKeys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	store := &memJournalKeys{}
	jk := keyring.NewJournalKeys(store, box(t, 1), c.now)
	if err := jk.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := published(t, tokenKeys)
	tokenKeys.PublishAlso(jk)
	after := published(t, tokenKeys)
	if len(after) != len(before)+1 || !strings.HasPrefix(after[len(after)-1], keyring.JournalKeyPrefix) {
		t.Fatalf("JWKS %v, want %v and one journal key", after, before)
	}
	journalKID := after[len(after)-1]
	if _, err := tokenKeys.Verifier(t.Context(), journalKID); !errors.Is(err, keyring.ErrUnknownKey) {
		t.Errorf("a token signed by the journal key would verify: %v", err)
	}
	for _, alg := range keyring.SigningAlgs {
		if kid := activeKID(t, tokenKeys, alg); strings.HasPrefix(kid, keyring.JournalKeyPrefix) {
			t.Errorf("%s tokens are signed by a journal key", alg)
		}
	}

	// A checkpoint signed now verifies with the JWKS alone.
	jws, err := jk.Sign(t.Context(), []byte(`{"typ":"relais-journal-checkpoint"}`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := tokenKeys.Public(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	var fromWire jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &fromWire); err != nil {
		t.Fatal(err)
	}
	v := keyring.NewJournalVerifier(fromWire)
	payload, err := v.VerifyJWS(jws)
	if err != nil || string(payload) != `{"typ":"relais-journal-checkpoint"}` {
		t.Fatalf("verify: %q, %v", payload, err)
	}
	head, _ := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[0])
	var h map[string]string
	_ = json.Unmarshal(head, &h)
	if h["alg"] != "ES256" || h["kid"] != journalKID || h["typ"] != journal.PayloadType {
		t.Errorf("protected header %v", h)
	}

	// Ensure again, from another instance: still one key.
	if err := keyring.NewJournalKeys(store, box(t, 1), c.now).Ensure(t.Context()); err != nil || len(store.keys) != 1 {
		t.Errorf("second Ensure: %v, %d keys", err, len(store.keys))
	}
	// Another secret key cannot open it.
	if err := keyring.NewJournalKeys(store, box(t, 2), c.now).Ensure(t.Context()); !errors.Is(err, keyring.ErrWrongSecretKey) {
		t.Errorf("Ensure with another secret key: %v, want ErrWrongSecretKey", err)
	}
}

func TestTheJournalVerifierRefusesWhatIsNotACheckpoint(t *testing.T) {
	c := newClock()
	tokenKeys := newKeys(t, &memKeys{}, box(t, 1), c)
	if err := tokenKeys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	jk := keyring.NewJournalKeys(&memJournalKeys{}, box(t, 1), c.now)
	if err := jk.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	tokenKeys.PublishAlso(jk)
	set, _ := tokenKeys.Public(t.Context())
	v := keyring.NewJournalVerifier(set)

	// A JWS signed by a token key, even with the checkpoint's typ.
	kid, priv, err := tokenKeys.Active(t.Context(), keyring.ES256)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(journal.PayloadType)))
	obj, _ := signer.Sign([]byte(`{}`))
	byTokenKey, _ := obj.CompactSerialize()

	good, err := jk.Sign(t.Context(), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	tests := []struct {
		name string
		jws  string
	}{
		{"signed by a token key", byTokenKey},
		{"a payload swapped", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"x":1}`)) + "." + parts[2]},
		{"no signature", parts[0] + "." + parts[1] + "."},
		{"not a JWS", "checkpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.VerifyJWS(tt.jws); err == nil {
				t.Error("verified")
			}
		})
	}
	if _, err := v.VerifyJWS(good); err != nil {
		t.Errorf("a real checkpoint signature: %v", err)
	}
}

// signCheckpoint signs checkpoint n with jk and stores it, as
// journal.MakeCheckpoint would.
func signCheckpoint(t *testing.T, jk *keyring.JournalKeys, store *memJournalKeys, n int64) error {
	t.Helper()
	payload, _ := json.Marshal(journal.Payload{Typ: journal.PayloadType, Version: 1, Number: n})
	jws, err := jk.Sign(t.Context(), payload)
	if err != nil {
		return err
	}
	store.mu.Lock()
	store.cps = append(store.cps, journal.Checkpoint{Number: n, JWS: jws})
	store.mu.Unlock()
	return nil
}

func journalKIDs(t *testing.T, jk *keyring.JournalKeys) []string {
	t.Helper()
	keys, err := jk.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		out = append(out, k.KeyID)
	}
	return out
}

func TestJournalKeysFormAHistoryEachEndorsedByTheOneBefore(t *testing.T) {
	c := newClock()
	store := &memJournalKeys{}
	jk := keyring.NewJournalKeys(store, box(t, 1), c.now)
	if err := jk.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	unendorsed := store.keys[0]
	if store.keys[0].Endorsement != "" {
		t.Fatal("the first key was endorsed before any checkpoint existed")
	}
	if err := signCheckpoint(t, jk, store, 1); err != nil {
		t.Fatal(err)
	}
	// A key made before endorsements, with its checkpoints: the next
	// start endorses it, naming checkpoint 1.
	if err := keyring.NewJournalKeys(store, box(t, 1), c.now).Ensure(t.Context()); err != nil || store.keys[0].Endorsement == "" {
		t.Fatalf("Ensure with checkpoint 1 stored: %v, endorsement %q", err, store.keys[0].Endorsement)
	}
	store.keys[0] = unendorsed // as it was before that start
	for n := int64(2); n <= 2; n++ {
		if err := signCheckpoint(t, jk, store, n); err != nil {
			t.Fatalf("checkpoint %d: %v", n, err)
		}
	}
	// Signing checkpoint 2 endorsed the first key, naming checkpoint 1.
	first := store.keys[0]
	if first.Endorsement == "" {
		t.Fatal("the first key is still not endorsed once checkpoint 1 exists")
	}
	k2, err := jk.Rotate(t.Context())
	if err != nil || k2.Generation != 2 {
		t.Fatalf("rotate: %+v, %v", k2, err)
	}
	if err := signCheckpoint(t, jk, store, 3); err != nil {
		t.Fatal(err)
	}
	if kid := jwsKID(t, store.cps[2].JWS); kid != k2.ID {
		t.Errorf("checkpoint 3 signed by %s, want the new key %s", kid, k2.ID)
	}
	v, err := jk.Verifier(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	anchors := v.Anchors()
	h1, _ := store.cps[0].PayloadHash()
	h2, _ := store.cps[1].PayloadHash()
	want := []journal.Anchor{{KeyID: first.ID, Number: 1, Hash: h1}, {KeyID: k2.ID, Number: 2, Hash: h2}}
	if !slices.Equal(anchors, want) {
		t.Errorf("anchors %+v, want %+v", anchors, want)
	}
	for _, cp := range store.cps {
		if _, err := v.VerifyJWS(cp.JWS); err != nil {
			t.Errorf("checkpoint %d: %v", cp.Number, err)
		}
	}
	if got := journalKIDs(t, jk); !slices.Equal(got, []string{first.ID, k2.ID}) {
		t.Errorf("published %v", got)
	}

	// Checkpoints deleted: Relais signs no new checkpoint 1 (or 2) over
	// whatever the database now holds, and will not start.
	store.cps = nil
	for _, n := range []int64{1, 2} {
		var f *journal.Failure
		if err := signCheckpoint(t, jk, store, n); !errors.As(err, &f) || f.Kind != journal.Restarted {
			t.Errorf("checkpoint %d signed again after the checkpoints were deleted: %v", n, err)
		}
	}
	var f *journal.Failure
	if err := jk.Ensure(t.Context()); !errors.As(err, &f) || f.Kind != journal.Restarted {
		t.Errorf("Ensure after the checkpoints were deleted: %v, want checkpoints restarted", err)
	}
}

func jwsKID(t *testing.T, jws string) string {
	t.Helper()
	head, _ := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[0])
	var h map[string]string
	_ = json.Unmarshal(head, &h)
	return h["kid"]
}

func TestAJournalKeyRowAddedWithoutTheSecretKeyIsNotTrusted(t *testing.T) {
	// history is a deployment with two endorsed keys and two checkpoints.
	history := func(t *testing.T) (*memJournalKeys, *keyring.JournalKeys) {
		store := &memJournalKeys{}
		jk := keyring.NewJournalKeys(store, box(t, 1), newClock().now)
		if err := jk.Ensure(t.Context()); err != nil {
			t.Fatal(err)
		}
		for n := int64(1); n <= 2; n++ {
			if err := signCheckpoint(t, jk, store, n); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := jk.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return store, jk
	}
	// attacker is a key made by someone without this secret key.
	attacker := func(t *testing.T, b byte) keyring.JournalKey {
		other := &memJournalKeys{}
		if err := keyring.NewJournalKeys(other, box(t, b), newClock().now).Ensure(t.Context()); err != nil {
			t.Fatal(err)
		}
		return other.keys[0]
	}
	tests := []struct {
		name   string
		tamper func(t *testing.T, st *memJournalKeys) string // returns the kid to be named
		reason string
	}{
		{"a key of one's own added as the next generation", func(t *testing.T, st *memJournalKeys) string {
			k := attacker(t, 9)
			k.Generation = 3
			st.keys = append(st.keys, k)
			return k.ID
		}, "sealed under another secret key"},
		{"a key added with junk as its sealed private key", func(t *testing.T, st *memJournalKeys) string {
			k := attacker(t, 9)
			k.Generation, k.Private = 3, []byte("junk that is not a sealed key at all")
			st.keys = append(st.keys, k)
			return k.ID
		}, "does not open"},
		{"a key added with the sealed private key of another", func(t *testing.T, st *memJournalKeys) string {
			k := attacker(t, 9)
			k.Generation, k.Public, k.Private, k.Endorsement = 3, st.keys[1].Public, st.keys[1].Private, st.keys[1].Endorsement
			st.keys = append(st.keys, k)
			return k.ID
		}, "does not open"},
		{"a key made with this secret key but not endorsed", func(t *testing.T, st *memJournalKeys) string {
			k := attacker(t, 1) // a second deployment sharing the secret key
			k.Generation = 3
			st.keys = append(st.keys, k)
			return k.ID
		}, "not endorsed by the key before it"},
		{"the first key replaced by one of one's own", func(t *testing.T, st *memJournalKeys) string {
			k := attacker(t, 9)
			st.keys[0] = k
			return ""
		}, "sealed with another secret key"},
		{"the second key's endorsement removed", func(t *testing.T, st *memJournalKeys) string {
			st.keys[1].Endorsement = ""
			return st.keys[1].ID
		}, "its endorsement was removed"},
		{"the first key's endorsement removed", func(t *testing.T, st *memJournalKeys) string {
			st.keys[0].Endorsement = ""
			return st.keys[0].ID
		}, "its endorsement was removed"},
		{"the second key's endorsement swapped for the first's", func(t *testing.T, st *memJournalKeys) string {
			st.keys[1].Endorsement = st.keys[0].Endorsement
			return st.keys[1].ID
		}, "does not open"},
		{"a key deleted from the middle of the history", func(t *testing.T, st *memJournalKeys) string {
			st.keys = st.keys[:1]
			k := attacker(t, 9)
			k.Generation = 3
			st.keys = append(st.keys, k)
			return k.ID
		}, "no key of generation 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, jk := history(t)
			good := journalKIDs(t, jk)
			kid := tt.tamper(t, store)
			fresh := keyring.NewJournalKeys(store, box(t, 1), newClock().now) // no cached JWKS
			_, err := fresh.Verifier(t.Context())
			var ue *keyring.UntrustedKeyError
			switch {
			case kid == "": // the first key: the secret key looks wrong
				if !errors.Is(err, keyring.ErrWrongSecretKey) {
					t.Errorf("verifier: %v, want ErrWrongSecretKey", err)
				}
			case !errors.As(err, &ue) || ue.ID != kid || !strings.Contains(ue.Reason, tt.reason):
				t.Errorf("verifier: %v, want key %s untrusted because %q", err, kid, tt.reason)
			}
			if err := fresh.Ensure(t.Context()); err == nil {
				t.Error("Ensure (relais serve's start) accepted it")
			}
			if err := signCheckpoint(t, fresh, store, 3); err == nil {
				t.Error("a checkpoint was signed")
			}
			for _, published := range journalKIDs(t, fresh) {
				if !slices.Contains(good, published) || published == kid {
					t.Errorf("/jwks publishes %s, which is not trusted", published)
				}
			}
		})
	}
}
