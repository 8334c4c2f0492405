package storagetest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

// KeyStore is keyring.KeyStore under this package's name, so a store's test
// can name it without importing authz.
type KeyStore = keyring.KeyStore

// RunKeyStore runs the signing-key part of the suite. newStore must return
// a fresh, empty, migrated store for each call and close it at t.Cleanup.
func RunKeyStore(t *testing.T, newStore func(t *testing.T) keyring.KeyStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s keyring.KeyStore)
	}{
		{"a signing key is created and read back as written", testKeyRoundTrip},
		{"an unknown signing key is not found", testKeyNotFound},
		{"a taken kid or generation is refused", testKeyUnique},
		{"an invalid signing key is refused", testKeyInvalid},
		{"an update saves the retirement", testKeyUpdate},
		{"a failed or forbidden update changes nothing", testKeyUpdateFails},
		{"concurrent creates of one generation: exactly one wins", testKeyConcurrentCreates},
		{"instances that start at once agree on one key per algorithm", testKeyConcurrentEnsure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// keyTime is a millisecond in UTC, as both stores keep it.
var keyTime = time.Date(2026, 11, 23, 9, 30, 15, 123e6, time.UTC)

func newSigningKey(alg string, gen int64) keyring.SigningKey {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	kid := base64.RawURLEncoding.EncodeToString(b)
	// Sealed bytes hold every byte value, NUL included.
	sealed := make([]byte, 300)
	for i := range sealed {
		sealed[i] = byte(i)
	}
	return keyring.SigningKey{
		ID:         kid,
		Alg:        alg,
		Generation: gen,
		Public:     []byte(`{"use":"sig","kty":"EC","kid":"` + kid + `","crv":"P-256","alg":"` + alg + `","x":"eA","y":"eQ"}`),
		Private:    sealed,
		CreatedAt:  keyTime,
		SignFrom:   keyTime.Add(time.Hour),
	}
}

func mustCreateKey(t *testing.T, s keyring.KeyStore, k keyring.SigningKey) {
	t.Helper()
	if err := s.CreateSigningKey(t.Context(), k); err != nil {
		t.Fatalf("CreateSigningKey(%s): %v", k.ID, err)
	}
}

func sameKey(t *testing.T, got, want keyring.SigningKey) {
	t.Helper()
	if got.ID != want.ID || got.Alg != want.Alg || got.Generation != want.Generation ||
		!bytes.Equal(got.Public, want.Public) || !bytes.Equal(got.Private, want.Private) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.SignFrom.Equal(want.SignFrom) ||
		!got.RetiredAt.Equal(want.RetiredAt) || !got.PublishUntil.Equal(want.PublishUntil) {
		t.Errorf("signing key read back differs:\n got  %+v\n want %+v", got, want)
	}
	for _, tm := range []time.Time{got.CreatedAt, got.SignFrom, got.RetiredAt, got.PublishUntil} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("time %v is not in UTC", tm)
		}
	}
}

func keyByID(t *testing.T, s keyring.KeyStore, id string) keyring.SigningKey {
	t.Helper()
	list, err := s.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("signing key %s not listed", id)
	return keyring.SigningKey{}
}

func testKeyRoundTrip(t *testing.T, s keyring.KeyStore) {
	rs1 := newSigningKey(keyring.RS256, 1)
	es2 := newSigningKey(keyring.ES256, 2)
	es1 := newSigningKey(keyring.ES256, 1)
	es1.RetiredAt = es2.SignFrom
	es1.PublishUntil = es2.SignFrom.Add(24 * time.Hour)
	for _, k := range []keyring.SigningKey{rs1, es2, es1} {
		mustCreateKey(t, s, k)
	}
	list, err := s.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []keyring.SigningKey{es1, es2, rs1} // by alg, then generation
	if len(list) != len(want) {
		t.Fatalf("SigningKeys() holds %d keys, want %d", len(list), len(want))
	}
	for i := range want {
		sameKey(t, list[i], want[i])
	}
	if !list[2].RetiredAt.IsZero() || !list[2].PublishUntil.IsZero() {
		t.Errorf("a key never retired reads back retired at %v until %v", list[2].RetiredAt, list[2].PublishUntil)
	}
}

func testKeyNotFound(t *testing.T, s keyring.KeyStore) {
	list, err := s.SigningKeys(t.Context())
	if err != nil || len(list) != 0 {
		t.Errorf("SigningKeys() on an empty store = %v, %v", list, err)
	}
	called := false
	_, err = s.UpdateSigningKey(t.Context(), "no-such-kid", func(*keyring.SigningKey) error { called = true; return nil })
	if !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("UpdateSigningKey(unknown) = %v, want ErrNotFound", err)
	}
	if called {
		t.Error("the update closure ran for an unknown key")
	}
}

func testKeyUnique(t *testing.T, s keyring.KeyStore) {
	k := newSigningKey(keyring.ES256, 1)
	mustCreateKey(t, s, k)

	sameID := newSigningKey(keyring.RS256, 1)
	sameID.ID = k.ID
	wantUnique(t, s.CreateSigningKey(t.Context(), sameID), "id")

	sameGen := newSigningKey(keyring.ES256, 1)
	wantUnique(t, s.CreateSigningKey(t.Context(), sameGen), "generation")

	// The same generation of the other algorithm is another key.
	mustCreateKey(t, s, newSigningKey(keyring.RS256, 1))
	if list, _ := s.SigningKeys(t.Context()); len(list) != 2 {
		t.Errorf("refused keys were stored: %d keys, want 2", len(list))
	}
}

func testKeyInvalid(t *testing.T, s keyring.KeyStore) {
	for name, change := range map[string]func(*keyring.SigningKey){
		"an unknown algorithm":           func(k *keyring.SigningKey) { k.Alg = "HS256" },
		"a kid that is not URL-safe":     func(k *keyring.SigningKey) { k.ID = "a/b c" },
		"generation zero":                func(k *keyring.SigningKey) { k.Generation = 0 },
		"no private key":                 func(k *keyring.SigningKey) { k.Private = nil },
		"no start time":                  func(k *keyring.SigningKey) { k.SignFrom = time.Time{} },
		"publish-until without retiring": func(k *keyring.SigningKey) { k.PublishUntil = keyTime },
	} {
		k := newSigningKey(keyring.ES256, 1)
		change(&k)
		if err := s.CreateSigningKey(t.Context(), k); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("%s: error = %v, want ErrInvalid", name, err)
		}
	}
	if list, _ := s.SigningKeys(t.Context()); len(list) != 0 {
		t.Errorf("invalid keys were stored: %d", len(list))
	}
}

func testKeyUpdate(t *testing.T, s keyring.KeyStore) {
	k := newSigningKey(keyring.ES256, 1)
	mustCreateKey(t, s, k)
	retired := keyTime.Add(2 * time.Hour)
	got, err := s.UpdateSigningKey(t.Context(), k.ID, func(u *keyring.SigningKey) error {
		u.RetiredAt = retired
		u.PublishUntil = retired.Add(24 * time.Hour)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := k
	want.RetiredAt, want.PublishUntil = retired, retired.Add(24*time.Hour)
	sameKey(t, got, want)
	sameKey(t, keyByID(t, s, k.ID), want)
}

func testKeyUpdateFails(t *testing.T, s keyring.KeyStore) {
	k := newSigningKey(keyring.ES256, 1)
	mustCreateKey(t, s, k)
	refused := errors.New("refused by fn")
	_, err := s.UpdateSigningKey(t.Context(), k.ID, func(u *keyring.SigningKey) error {
		u.RetiredAt = keyTime.Add(time.Hour)
		return refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("error = %v, want fn's error", err)
	}
	for name, change := range map[string]func(*keyring.SigningKey){
		"the public key":         func(u *keyring.SigningKey) { u.Public = []byte(`{}`) },
		"the sealed private key": func(u *keyring.SigningKey) { u.Private[0] ^= 0xff },
		"the start time":         func(u *keyring.SigningKey) { u.SignFrom = keyTime },
		"publish-until before retiring": func(u *keyring.SigningKey) {
			u.RetiredAt, u.PublishUntil = keyTime.Add(time.Hour), keyTime
		},
	} {
		_, err := s.UpdateSigningKey(t.Context(), k.ID, func(u *keyring.SigningKey) error {
			u.RetiredAt = keyTime.Add(3 * time.Hour)
			change(u)
			return nil
		})
		if !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("changing %s: error = %v, want ErrInvalid", name, err)
		}
	}
	sameKey(t, keyByID(t, s, k.ID), k)
}

func testKeyConcurrentCreates(t *testing.T, s keyring.KeyStore) {
	const writers = 8
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() { errs <- s.CreateSigningKey(t.Context(), newSigningKey(keyring.ES256, 1)) })
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, mandates.ErrAlreadyExists):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d creates of generation 1 succeeded, want exactly 1", won)
	}
	if list, _ := s.SigningKeys(t.Context()); len(list) != 1 {
		t.Errorf("the store holds %d keys, want 1", len(list))
	}
}

func testKeyConcurrentEnsure(t *testing.T, s keyring.KeyStore) {
	secret := make([]byte, keyring.SecretKeySize)
	_, _ = rand.Read(secret)
	box, err := keyring.NewSecretBox(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return keyTime }
	const instances = 4
	ks := make([]*keyring.Keys, instances)
	var wg sync.WaitGroup
	for i := range ks {
		ks[i] = keyring.NewKeys(s, box, now, time.Hour, 24*time.Hour)
		wg.Go(func() {
			if err := ks[i].Ensure(t.Context()); err != nil {
				t.Errorf("instance %d: Ensure: %v", i, err)
			}
		})
	}
	wg.Wait()
	list, err := s.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(keyring.SigningAlgs) {
		t.Errorf("%d instances starting at once wrote %d keys, want %d", instances, len(list), len(keyring.SigningAlgs))
	}
	for _, alg := range keyring.SigningAlgs {
		kids := map[string]bool{}
		for i, k := range ks {
			kid, _, err := k.Active(t.Context(), alg)
			if err != nil {
				t.Fatalf("instance %d: Active(%s): %v", i, alg, err)
			}
			kids[kid] = true
		}
		if len(kids) != 1 {
			t.Errorf("instances sign %s with %d different keys", alg, len(kids))
		}
	}
}
