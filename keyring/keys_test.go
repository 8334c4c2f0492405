package keyring_test

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/keyring/keyringtest"
	"github.com/relais-fr/relais/mandates"
)

// memKeys are signing keys kept in memory, with the stores' rules.
type memKeys = keyringtest.MemKeys

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	lead        = time.Hour
	maxLifetime = 2 * time.Hour
	// publishedFor is how long a retired key stays in the JWKS: the
	// longest token lifetime, plus the time another instance's cache may
	// still sign with it.
	publishedFor = maxLifetime + keyring.KeyCacheTTL
)

func newKeys(t *testing.T, store keyring.KeyStore, box *keyring.SecretBox, c *clock) *keyring.Keys {
	t.Helper()
	return keyring.NewKeys(store, box, c.now, lead, maxLifetime)
}

func activeKID(t *testing.T, k *keyring.Keys, alg string) string {
	t.Helper()
	kid, _, err := k.Active(t.Context(), alg)
	if err != nil {
		t.Fatalf("Active(%s): %v", alg, err)
	}
	return kid
}

func published(t *testing.T, k *keyring.Keys) []string {
	t.Helper()
	set, err := k.Public(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, j := range set.Keys {
		if !j.IsPublic() {
			t.Errorf("the JWKS holds a private key: %s", j.KeyID)
		}
		kids = append(kids, j.KeyID)
	}
	return kids
}

func TestEnsureCreatesOneActiveKeyPerAlgorithm(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	k := newKeys(t, store, box, c)
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, alg := range keyring.SigningAlgs {
		kid, signer, err := k.Active(t.Context(), alg)
		if err != nil {
			t.Fatalf("Active(%s): %v", alg, err)
		}
		switch pub := signer.Public().(type) {
		case *ecdsa.PublicKey:
			if alg != keyring.ES256 || pub.Curve.Params().Name != "P-256" {
				t.Errorf("%s key is ECDSA on %s", alg, pub.Curve.Params().Name)
			}
		case *rsa.PublicKey:
			if alg != keyring.RS256 || pub.N.BitLen() < 2048 {
				t.Errorf("%s key is RSA with %d bits", alg, pub.N.BitLen())
			}
		}
		j, err := k.Verifier(t.Context(), kid)
		if err != nil || j.Algorithm != alg || j.Use != "sig" {
			t.Errorf("Verifier(%s) = %+v, %v", kid, j, err)
		}
	}
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := store.Count(); n != 2 {
		t.Errorf("after two Ensure calls the store holds %d keys, want 2", n)
	}
}

func TestConcurrentEnsureAgreesOnOneKey(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	const instances = 6
	ks := make([]*keyring.Keys, instances)
	var wg sync.WaitGroup
	for i := range ks {
		ks[i] = newKeys(t, store, box, c)
		wg.Go(func() {
			if err := ks[i].Ensure(t.Context()); err != nil {
				t.Errorf("instance %d: Ensure: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := store.Count(); n != 2 {
		t.Errorf("%d instances starting at once wrote %d keys, want 2", instances, n)
	}
	for _, alg := range keyring.SigningAlgs {
		want := activeKID(t, ks[0], alg)
		for i, k := range ks[1:] {
			if got := activeKID(t, k, alg); got != want {
				t.Errorf("instance %d signs %s with %s, instance 0 with %s", i+1, alg, got, want)
			}
		}
	}
}

// TestRotation follows one rotation on a clock moved by hand: the new key
// is published first, signs after the lead time, and the old key stays
// published for the longest token lifetime after it stops signing.
func TestRotation(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	k := newKeys(t, store, box, c)
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	old := activeKID(t, k, keyring.ES256)
	rs := activeKID(t, k, keyring.RS256)
	start := c.now()
	next, err := k.Rotate(t.Context(), keyring.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if !next.SignFrom.Equal(start.Add(lead)) || next.Generation != 2 {
		t.Errorf("next key: sign from %v, generation %d; want %v, 2", next.SignFrom, next.Generation, start.Add(lead))
	}

	steps := []struct {
		name      string
		at        time.Duration // after the rotation
		signer    string
		published []string
	}{
		{"right after the rotation the new key is published but the old one signs", 0, old, []string{old, next.ID, rs}},
		{"just before the lead time the old key still signs", lead - time.Millisecond, old, []string{old, next.ID, rs}},
		{"at the lead time the new key signs", lead, next.ID, []string{old, next.ID, rs}},
		{"just before publish-until the old key still verifies", lead + publishedFor - time.Millisecond, next.ID, []string{old, next.ID, rs}},
		{"at publish-until the old key leaves the JWKS", lead + publishedFor, next.ID, []string{next.ID, rs}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.set(start.Add(st.at))
			if got := activeKID(t, k, keyring.ES256); got != st.signer {
				t.Errorf("signing key = %s, want %s", got, st.signer)
			}
			if got := activeKID(t, k, keyring.RS256); got != rs {
				t.Errorf("rotating ES256 changed the RS256 key: %s, want %s", got, rs)
			}
			got := published(t, k)
			slices.Sort(got)
			want := slices.Sorted(slices.Values(st.published))
			if !slices.Equal(got, want) {
				t.Errorf("JWKS = %v, want %v", got, want)
			}
			_, err := k.Verifier(t.Context(), old)
			if slices.Contains(st.published, old) != (err == nil) {
				t.Errorf("Verifier(old key) = %v, published = %v", err, slices.Contains(st.published, old))
			}
			if err != nil && !errors.Is(err, keyring.ErrUnknownKey) {
				t.Errorf("Verifier(withdrawn key) = %v, want ErrUnknownKey", err)
			}
		})
	}

	keys, _ := store.SigningKeys(t.Context())
	for _, s := range keys {
		if s.ID == old && (!s.RetiredAt.Equal(next.SignFrom) || !s.PublishUntil.Equal(next.SignFrom.Add(publishedFor))) {
			t.Errorf("old key retired at %v until %v; want %v until %v", s.RetiredAt, s.PublishUntil, next.SignFrom, next.SignFrom.Add(publishedFor))
		}
	}
}

// TestInstancesSharingAStoreSignWithTheSameKey: an instance that did not
// rotate, and reads through its short cache, picks the same key at every
// moment as the one that did.
func TestInstancesSharingAStoreSignWithTheSameKey(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	a, b := newKeys(t, store, box, c), newKeys(t, store, box, c)
	if err := a.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := activeKID(t, b, keyring.ES256) // b caches the table now
	next, err := a.Rotate(t.Context(), keyring.ES256)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{0, time.Second, lead - time.Second, lead, lead + time.Second, lead + maxLifetime} {
		c.set(next.CreatedAt.Add(at))
		ka, kb := activeKID(t, a, keyring.ES256), activeKID(t, b, keyring.ES256)
		if ka != kb {
			t.Errorf("%v after the rotation: instances sign with %s and %s", at, ka, kb)
		}
		want := before
		if at >= lead {
			want = next.ID
		}
		if ka != want {
			t.Errorf("%v after the rotation: signing key %s, want %s", at, ka, want)
		}
	}
	// A token from a key b has not seen yet is still verified: an unknown
	// kid is read from the store again.
	b2 := newKeys(t, store, box, c)
	_ = activeKID(t, b2, keyring.ES256)
	later, err := a.Rotate(t.Context(), keyring.ES256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Verifier(t.Context(), later.ID); err != nil {
		t.Errorf("Verifier(a key written after the cache was filled) = %v", err)
	}
}

func TestTheCacheIsShort(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	k := newKeys(t, store, box, c)
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	_ = activeKID(t, k, keyring.ES256)
	reads := store.Reads()
	for range 10 {
		_ = activeKID(t, k, keyring.ES256)
	}
	if store.Reads() != reads {
		t.Errorf("10 calls within the cache time read the store %d times", store.Reads()-reads)
	}
	c.add(5 * time.Second)
	_ = activeKID(t, k, keyring.ES256)
	if store.Reads() != reads+1 {
		t.Errorf("a call after the cache time read the store %d times, want 1", store.Reads()-reads)
	}
}

func TestAWrongSecretKeyIsReportedAndWritesNothing(t *testing.T) {
	store, c := &memKeys{}, newClock()
	if err := newKeys(t, store, newBox(t), c).Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	wrong := newKeys(t, store, newBox(t), c)
	if err := wrong.Ensure(t.Context()); !errors.Is(err, keyring.ErrWrongSecretKey) {
		t.Errorf("Ensure with another secret key = %v, want ErrWrongSecretKey", err)
	}
	if _, err := wrong.Rotate(t.Context(), keyring.ES256); !errors.Is(err, keyring.ErrWrongSecretKey) {
		t.Errorf("Rotate with another secret key = %v, want ErrWrongSecretKey", err)
	}
	if _, _, err := wrong.Active(t.Context(), keyring.RS256); !errors.Is(err, keyring.ErrWrongSecretKey) {
		t.Errorf("Active with another secret key = %v, want ErrWrongSecretKey", err)
	}
	if n := store.Count(); n != 2 {
		t.Errorf("the store holds %d keys after refused calls, want 2", n)
	}
}

func TestEnsureFinishesARotationCutShort(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	k := newKeys(t, store, box, c)
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	old := activeKID(t, k, keyring.ES256)
	store.FailUpdates(1)
	next, err := k.Rotate(t.Context(), keyring.ES256)
	if !errors.Is(err, mandates.ErrUnavailable) {
		t.Fatalf("Rotate with a failing update = %v, want ErrUnavailable", err)
	}
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.SigningKeys(t.Context())
	for _, s := range keys {
		if s.ID == old && !s.RetiredAt.Equal(next.SignFrom) {
			t.Errorf("after Ensure the old key retires at %v, want %v", s.RetiredAt, next.SignFrom)
		}
	}
}

func TestRotateTwiceBeforeTheFirstTakesOver(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	k := newKeys(t, store, box, c)
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := activeKID(t, k, keyring.ES256)
	second, err := k.Rotate(t.Context(), keyring.ES256)
	if err != nil {
		t.Fatal(err)
	}
	c.add(10 * time.Minute)
	third, err := k.Rotate(t.Context(), keyring.ES256)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []struct {
		at   time.Time
		want string
	}{
		{second.SignFrom.Add(-time.Millisecond), first},
		{second.SignFrom, second.ID},
		{third.SignFrom, third.ID},
	} {
		c.set(st.at)
		if got := activeKID(t, k, keyring.ES256); got != st.want {
			t.Errorf("at %v: signing key %s, want %s", st.at, got, st.want)
		}
	}
}

func TestStatusNamesEachKeysState(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	k := newKeys(t, store, box, c)
	if err := k.Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	first := activeKID(t, k, keyring.ES256)
	second, _ := k.Rotate(t.Context(), keyring.ES256)
	c.add(lead)
	third, _ := k.Rotate(t.Context(), keyring.ES256)
	steps := []struct {
		name  string
		after time.Duration
		want  map[string]keyring.KeyState
	}{
		{"when the second key takes over", 0,
			map[string]keyring.KeyState{first: keyring.KeyPublished, second.ID: keyring.KeySigning, third.ID: keyring.KeyNext}},
		{"when the third key takes over", lead,
			map[string]keyring.KeyState{first: keyring.KeyPublished, second.ID: keyring.KeyPublished, third.ID: keyring.KeySigning}},
		{"when the first key leaves the JWKS", publishedFor - lead,
			map[string]keyring.KeyState{first: keyring.KeyWithdrawn, second.ID: keyring.KeyPublished, third.ID: keyring.KeySigning}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.add(st.after)
			list, err := k.Status(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]keyring.KeyState{}
			for _, s := range list {
				if s.Alg == keyring.ES256 {
					got[s.ID] = s.State
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(st.want) {
				t.Errorf("states = %v, want %v", got, st.want)
			}
		})
	}
}

func TestUnknownAlgorithmsAreRefused(t *testing.T) {
	k := newKeys(t, &memKeys{}, newBox(t), newClock())
	for _, alg := range []string{"HS256", "none", "ES384", ""} {
		if _, err := k.Rotate(t.Context(), alg); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("Rotate(%q) = %v, want ErrInvalid", alg, err)
		}
		if _, _, err := k.Active(t.Context(), alg); !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("Active(%q) = %v, want ErrInvalid", alg, err)
		}
	}
}

func TestApplySigningKeyUpdateKeepsKeyMaterial(t *testing.T) {
	store, box, c := &memKeys{}, newBox(t), newClock()
	if err := newKeys(t, store, box, c).Ensure(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys, _ := store.SigningKeys(t.Context())
	old := keys[0]
	for name, fn := range map[string]func(*keyring.SigningKey){
		"the id":             func(k *keyring.SigningKey) { k.ID = "other" },
		"the public key":     func(k *keyring.SigningKey) { k.Public[3] ^= 1 },
		"the private key":    func(k *keyring.SigningKey) { k.Private = nil },
		"the start time":     func(k *keyring.SigningKey) { k.SignFrom = k.SignFrom.Add(time.Hour) },
		"the generation":     func(k *keyring.SigningKey) { k.Generation++ },
		"publish-until only": func(k *keyring.SigningKey) { k.PublishUntil = c.now() },
	} {
		_, err := keyring.ApplySigningKeyUpdate(old, func(k *keyring.SigningKey) error { fn(k); return nil })
		if !errors.Is(err, mandates.ErrInvalid) {
			t.Errorf("changing %s: %v, want ErrInvalid", name, err)
		}
	}
	if keys[0].Public[3] != old.Public[3] {
		t.Error("the closure changed the caller's copy")
	}
}
