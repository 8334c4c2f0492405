package authz_test

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

	"github.com/relais-fr/relais/authz"
	"github.com/relais-fr/relais/mandates"
	"github.com/relais-fr/relais/mandates/journal"
)

// memJournalKeys is an in-memory authz.JournalKeyStore.
type memJournalKeys struct {
	mu   sync.Mutex
	keys []authz.JournalKey
}

func (m *memJournalKeys) CreateJournalKey(_ context.Context, k authz.JournalKey) error {
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

func (m *memJournalKeys) JournalKeys(context.Context) ([]authz.JournalKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.keys), nil
}

func box(t *testing.T, b byte) *authz.SecretBox {
	t.Helper()
	sb, err := authz.NewSecretBox(bytes.Repeat([]byte{b}, 32))
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
	jk := authz.NewJournalKeys(store, box(t, 1), c.now)
	if err := jk.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := published(t, tokenKeys)
	tokenKeys.PublishAlso(jk)
	after := published(t, tokenKeys)
	if len(after) != len(before)+1 || !strings.HasPrefix(after[len(after)-1], authz.JournalKeyPrefix) {
		t.Fatalf("JWKS %v, want %v and one journal key", after, before)
	}
	journalKID := after[len(after)-1]
	if _, err := tokenKeys.Verifier(t.Context(), journalKID); !errors.Is(err, authz.ErrUnknownKey) {
		t.Errorf("a token signed by the journal key would verify: %v", err)
	}
	for _, alg := range authz.SigningAlgs {
		if kid := activeKID(t, tokenKeys, alg); strings.HasPrefix(kid, authz.JournalKeyPrefix) {
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
	v := authz.NewJournalVerifier(fromWire)
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
	if err := authz.NewJournalKeys(store, box(t, 1), c.now).Ensure(t.Context()); err != nil || len(store.keys) != 1 {
		t.Errorf("second Ensure: %v, %d keys", err, len(store.keys))
	}
	// Another secret key cannot open it.
	if err := authz.NewJournalKeys(store, box(t, 2), c.now).Ensure(t.Context()); !errors.Is(err, authz.ErrWrongSecretKey) {
		t.Errorf("Ensure with another secret key: %v, want ErrWrongSecretKey", err)
	}
}

func TestTheJournalVerifierRefusesWhatIsNotACheckpoint(t *testing.T) {
	c := newClock()
	tokenKeys := newKeys(t, &memKeys{}, box(t, 1), c)
	if err := tokenKeys.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	jk := authz.NewJournalKeys(&memJournalKeys{}, box(t, 1), c.now)
	if err := jk.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	tokenKeys.PublishAlso(jk)
	set, _ := tokenKeys.Public(t.Context())
	v := authz.NewJournalVerifier(set)

	// A JWS signed by a token key, even with the checkpoint's typ.
	kid, priv, err := tokenKeys.Active(t.Context(), authz.ES256)
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
