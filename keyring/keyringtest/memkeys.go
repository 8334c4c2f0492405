package keyringtest

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/relais-fr/relais/keyring"
	"github.com/relais-fr/relais/mandates"
)

// MemKeys is an in-memory keyring.KeyStore with the stores' uniqueness
// rules (one id, one (alg, generation)) and their read-modify-write
// (keyring.ApplySigningKeyUpdate). Its zero value is empty and ready.
type MemKeys struct {
	mu          sync.Mutex
	keys        []keyring.SigningKey
	failUpdates int // fail this many coming updates
	reads       int
}

var _ keyring.KeyStore = (*MemKeys)(nil)

// CreateSigningKey stores k, refusing a taken id or generation.
func (m *MemKeys) CreateSigningKey(_ context.Context, k keyring.SigningKey) error {
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

// SigningKeys lists the keys by algorithm, then generation, as the stores
// do, and counts the read (Reads).
func (m *MemKeys) SigningKeys(context.Context) ([]keyring.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	out := slices.Clone(m.keys)
	slices.SortFunc(out, func(a, b keyring.SigningKey) int {
		return cmp.Or(cmp.Compare(a.Alg, b.Alg), cmp.Compare(a.Generation, b.Generation))
	})
	return out, nil
}

// UpdateSigningKey applies fn to the key id, or fails with ErrUnavailable
// while FailUpdates says so.
func (m *MemKeys) UpdateSigningKey(_ context.Context, id string, fn func(*keyring.SigningKey) error) (keyring.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failUpdates > 0 {
		m.failUpdates--
		return keyring.SigningKey{}, mandates.ErrUnavailable
	}
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

// FailUpdates makes the next n updates fail, as a store that went away
// in the middle of a rotation.
func (m *MemKeys) FailUpdates(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failUpdates = n
}

// Reads is how many times the keys were listed.
func (m *MemKeys) Reads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

// Count is how many keys are stored.
func (m *MemKeys) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}
