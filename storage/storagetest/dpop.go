package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// ProofStore is what RunProofStore needs: the DPoP proofs and the client
// setting that requires them.
type ProofStore interface {
	oauth.ProofStore
	oauth.ClientStore
	mandates.ExpiredStore
}

// RunProofStore runs the DPoP behaviour suite (RFC 9449). newStore
// returns a fresh, empty, migrated store.
func RunProofStore(t *testing.T, newStore func(t *testing.T) ProofStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s ProofStore)
	}{
		{"a DPoP proof is used once until it expires, then its id may be used again", testProofOnce},
		{"of concurrent uses of one DPoP proof exactly one wins", testProofConcurrent},
		{"expired DPoP proofs are deleted and live ones kept", testProofExpiry},
		{"a client's dpop_bound_access_tokens is kept on create and update", testClientDPoPBound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func testProofOnce(t *testing.T, s ProofStore) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := s.UseDPoPProof(ctx, "proof-1", now.Add(time.Minute), now); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := s.UseDPoPProof(ctx, "proof-1", now.Add(time.Minute), now.Add(59*time.Second)); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("replay before expiry: %v, want ErrAlreadyExists", err)
	}
	if err := s.UseDPoPProof(ctx, "proof-2", now.Add(time.Minute), now); err != nil {
		t.Errorf("another proof: %v", err)
	}
	if err := s.UseDPoPProof(ctx, "proof-1", now.Add(3*time.Minute), now.Add(2*time.Minute)); err != nil {
		t.Errorf("use after expiry: %v (a stale proof is refused by its iat, not by the store)", err)
	}
	if err := s.UseDPoPProof(ctx, "proof-1", now.Add(3*time.Minute), now.Add(2*time.Minute)); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("replay of the renewed record: %v, want ErrAlreadyExists", err)
	}
}

func testProofConcurrent(t *testing.T, s ProofStore) {
	ctx := t.Context()
	now := time.Now().UTC()
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- s.UseDPoPProof(ctx, "proof-race", now.Add(time.Minute), now) })
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, mandates.ErrAlreadyExists):
			t.Errorf("a losing use: %v, want ErrAlreadyExists", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent uses of one proof succeeded, want exactly 1", won)
	}
}

func testProofExpiry(t *testing.T, s ProofStore) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for id, exp := range map[string]time.Time{"old-1": now.Add(-time.Second), "old-2": now.Add(-time.Hour), "live": now.Add(time.Second)} {
		if err := s.UseDPoPProof(ctx, id, exp, now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteExpired(ctx, mandates.ExpiredDPoPProofs, now, 100)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired(DPoP proofs) = %d, %v; want the 2 expired", n, err)
	}
	if err := s.UseDPoPProof(ctx, "live", now.Add(time.Minute), now); !errors.Is(err, mandates.ErrAlreadyExists) {
		t.Errorf("the live proof after the sweep: %v, want ErrAlreadyExists (it was deleted)", err)
	}
}

func testClientDPoPBound(t *testing.T, s ProofStore) {
	ctx := t.Context()
	c := newClient("dpop-site")
	c.DPoPBoundAccessTokens = true
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Client(ctx, c.ID)
	if err != nil || !got.DPoPBoundAccessTokens {
		t.Fatalf("read back: DPoPBoundAccessTokens = %v (%v), want true", got.DPoPBoundAccessTokens, err)
	}
	if _, err := s.UpdateClient(ctx, c.ID, func(c *oauth.Client) error { c.DPoPBoundAccessTokens = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Client(ctx, c.ID); err != nil || got.DPoPBoundAccessTokens {
		t.Errorf("after the update: DPoPBoundAccessTokens = %v (%v), want false", got.DPoPBoundAccessTokens, err)
	}
	other := newClient("bearer-site")
	if err := s.CreateClient(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Client(ctx, other.ID); err != nil || got.DPoPBoundAccessTokens {
		t.Errorf("a client registered without it: DPoPBoundAccessTokens = %v (%v), want false", got.DPoPBoundAccessTokens, err)
	}
}
