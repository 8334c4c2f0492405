package authz_test

import (
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/keyring/keyringtest"
)

// The signer's tests run on keys held in memory, as keyring's own tests
// do (keyringtest), with a clock moved by hand.

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
