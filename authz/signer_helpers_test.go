package authz_test

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

// The signer's tests run on keys held in memory, as keyring's own tests
// do; these helpers are the part of keyring's test fixtures they need.

// memKeys is an in-memory keyring.KeyStore with the stores' uniqueness
// rules: one id, one (alg, generation).
type memKeys struct {
	mu   sync.Mutex
	keys []keyring.SigningKey
}

func (m *memKeys) CreateSigningKey(_ context.Context, k keyring.SigningKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		switch {
		case o.ID == k.ID:
			return &mandates.UniqueError{Entity: "signing key", Field: "id"}
		case o.Alg == k.Alg && o.Generation == k.Generation:
			return &mandates.UniqueError{Entity: "signing key", Field: "generation"}
		}
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *memKeys) SigningKeys(context.Context) ([]keyring.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.keys)
	slices.SortFunc(out, func(a, b keyring.SigningKey) int {
		if a.Alg != b.Alg {
			return map[bool]int{true: -1, false: 1}[a.Alg < b.Alg]
		}
		return int(a.Generation - b.Generation)
	})
	return out, nil
}

func (m *memKeys) UpdateSigningKey(_ context.Context, id string, fn func(*keyring.SigningKey) error) (keyring.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, old := range m.keys {
		if old.ID == id {
			k, err := keyring.ApplySigningKeyUpdate(old, fn)
			if err != nil {
				return old, err
			}
			m.keys[i] = k
			return k, nil
		}
	}
	return keyring.SigningKey{}, mandates.ErrNotFound
}

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

func newBox(t *testing.T) *keyring.SecretBox {
	t.Helper()
	key := make([]byte, keyring.SecretKeySize)
	_, _ = rand.Read(key)
	b, err := keyring.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
