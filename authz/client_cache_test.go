package authz

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-fr/relais/authz/oauth"
	"github.com/relais-fr/relais/mandates"
)

// countingClients is a client store of one client that counts its reads.
type countingClients struct {
	oauth.ClientStore
	c       *oauth.Client
	reads   int
	failing bool
}

func (s *countingClients) Client(_ context.Context, id string) (oauth.Client, error) {
	s.reads++
	switch {
	case s.failing:
		return oauth.Client{}, mandates.ErrUnavailable
	case s.c == nil || s.c.ID != id:
		return oauth.Client{}, mandates.ErrNotFound
	}
	return *s.c, nil
}

func TestClientCache(t *testing.T) {
	now := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ctx := t.Context()
	tests := []struct {
		name string
		run  func(t *testing.T, st *countingClients, cc *clientCache)
	}{
		{"a client is read once within the TTL, again after it", func(t *testing.T, st *countingClients, cc *clientCache) {
			for range 3 {
				if _, err := cc.client(ctx, st, "caf"); err != nil {
					t.Fatal(err)
				}
			}
			if st.reads != 1 {
				t.Errorf("%d reads within the TTL, want 1", st.reads)
			}
			now = now.Add(ClientCacheTTL)
			if _, err := cc.client(ctx, st, "caf"); err != nil || st.reads != 2 {
				t.Errorf("after the TTL: %v, %d reads; want a second read", err, st.reads)
			}
		}},
		{"a deleted client is refused once the TTL has passed", func(t *testing.T, st *countingClients, cc *clientCache) {
			if _, err := cc.client(ctx, st, "caf"); err != nil {
				t.Fatal(err)
			}
			st.c = nil
			now = now.Add(ClientCacheTTL - time.Millisecond)
			if _, err := cc.client(ctx, st, "caf"); err != nil {
				t.Errorf("within the TTL: %v; the cached record is still used", err)
			}
			now = now.Add(time.Millisecond)
			if _, err := cc.client(ctx, st, "caf"); !errors.Is(err, mandates.ErrNotFound) {
				t.Errorf("after the TTL: %v, want ErrNotFound", err)
			}
		}},
		{"an unknown client and a failed read are never kept", func(t *testing.T, st *countingClients, cc *clientCache) {
			for range 2 {
				if _, err := cc.client(ctx, st, "nobody"); !errors.Is(err, mandates.ErrNotFound) {
					t.Errorf("unknown client: %v, want ErrNotFound", err)
				}
			}
			st.failing = true
			if _, err := cc.client(ctx, st, "caf"); !errors.Is(err, mandates.ErrUnavailable) {
				t.Errorf("failing store: %v", err)
			}
			st.failing = false
			if _, err := cc.client(ctx, st, "caf"); err != nil {
				t.Errorf("after the store recovers: %v", err)
			}
			if st.reads != 4 || len(cc.m) != 1 {
				t.Errorf("%d reads and %d records kept; want 4 and 1", st.reads, len(cc.m))
			}
		}},
		{"the cache never grows past its bound", func(t *testing.T, st *countingClients, cc *clientCache) {
			for i := range maxCachedClients + 10 {
				st.c.ID = "site-" + string(rune('a'+i%26)) + time.Duration(i).String()
				if _, err := cc.client(ctx, st, st.c.ID); err != nil {
					t.Fatal(err)
				}
			}
			if len(cc.m) > maxCachedClients {
				t.Errorf("%d records kept, bound %d", len(cc.m), maxCachedClients)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &countingClients{c: &oauth.Client{ID: "caf", SecretHash: "h"}}
			tt.run(t, st, newClientCache(clock, ClientCacheTTL))
		})
	}
}

// updatingClients is countingClients whose writes change its one client.
type updatingClients struct{ *countingClients }

func (s updatingClients) UpdateClient(_ context.Context, id string, fn func(*oauth.Client) error) (oauth.Client, error) {
	if s.c == nil || s.c.ID != id {
		return oauth.Client{}, mandates.ErrNotFound
	}
	c := *s.c
	if err := fn(&c); err != nil {
		return oauth.Client{}, err
	}
	s.c = &c
	return c, nil
}

func (s updatingClients) DeleteClient(_ context.Context, id string) error {
	if s.c == nil || s.c.ID != id {
		return mandates.ErrNotFound
	}
	s.c = nil
	return nil
}

// The token endpoints' cache (ProviderConfig.ClientCacheTTL): reads within
// the TTL come from memory, but a change made through the same store is
// seen by the very next read.
func TestCachedClientsSeeTheirOwnChangesAtOnce(t *testing.T) {
	now := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	ctx := t.Context()
	st := updatingClients{&countingClients{c: &oauth.Client{ID: "caf", SecretHash: "old"}}}
	cached := cachedClients{st, newClientCache(func() time.Time { return now }, time.Minute)}
	for range 3 {
		if c, err := cached.Client(ctx, "caf"); err != nil || c.SecretHash != "old" {
			t.Fatalf("read: %+v, %v", c, err)
		}
	}
	if st.reads != 1 {
		t.Errorf("%d store reads for three within the TTL, want 1", st.reads)
	}
	if _, err := cached.UpdateClient(ctx, "caf", func(c *oauth.Client) error { c.SecretHash = "new"; return nil }); err != nil {
		t.Fatal(err)
	}
	if c, err := cached.Client(ctx, "caf"); err != nil || c.SecretHash != "new" {
		t.Errorf("after an update: %q, %v; want the new secret hash at once", c.SecretHash, err)
	}
	if err := cached.DeleteClient(ctx, "caf"); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.Client(ctx, "caf"); !errors.Is(err, mandates.ErrNotFound) {
		t.Errorf("after a delete: %v, want ErrNotFound at once", err)
	}
}

// The access endpoints keep client records once: in the provider's cache
// when it has one (so the staleness stays ClientCacheTTL, and a change
// through the provider is seen there at once), else in their own.
func TestAccessEndpointsCacheClientsOnce(t *testing.T) {
	now := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	cfg := ProviderConfig{Now: func() time.Time { return now }}
	st := updatingClients{&countingClients{c: &oauth.Client{ID: "caf", SecretHash: "old"}}}
	cached := &fositeStorage{clients: cachedClients{st, newClientCache(cfg.Now, ClientCacheTTL)}}
	access := accessStorage(cached, cfg)
	if _, err := access.GetClient(t.Context(), "caf"); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.clients.UpdateClient(t.Context(), "caf", func(c *oauth.Client) error { c.SecretHash = "new"; return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := access.GetClient(t.Context(), "caf")
	if err != nil || c.(*fositeClient).c.SecretHash != "new" {
		t.Errorf("after an update through the provider: %+v, %v; want the new record at once", c, err)
	}

	plain := &fositeStorage{clients: st}
	access = accessStorage(plain, cfg)
	reads := st.reads
	for range 3 {
		if _, err := access.GetClient(t.Context(), "caf"); err != nil {
			t.Fatal(err)
		}
	}
	if st.reads-reads != 1 {
		t.Errorf("without the provider's cache: %d reads for three, want 1 (the access endpoints' own cache)", st.reads-reads)
	}
}
