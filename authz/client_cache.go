package authz

import (
	"context"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
)

// ClientCacheTTL bounds how long an instance authenticates a client
// against a record read earlier. The access endpoints (/access/v1/…) always
// cache; the token, authorization, introspection and revocation endpoints
// do when ProviderConfig.ClientCacheTTL says so (relais serve sets it to
// this). Reading the record at every request was a fifth of an
// introspection's cost and a tenth of a token's. The record says only who
// the site is (secret hash, keys, redirect URIs, grant types, procedure
// areas), so the one consequence is this: a client deleted, re-keyed,
// given a new secret or narrowed by another instance or by `relais
// clients` is seen by this instance within ClientCacheTTL, as a rotated
// signing key is (KeyCacheTTL). Changes made through this instance's
// provider are seen at once. Nothing about people is cached: subjects,
// tokens, representations, memberships and co-signatures are read at
// every request, so a revocation stops the very next one.
const ClientCacheTTL = 3 * time.Second

// maxCachedClients bounds the cache; only registered clients ever enter
// it (a failed read is not kept), so this is reached only by a deployment
// with that many sites, which then read the store more often. Each entry
// is one client record (about a kilobyte), so the cache holds at most a
// few megabytes.
const maxCachedClients = 1024

// clientCache keeps client records, each for ttl.
type clientCache struct {
	now func() time.Time
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]cachedClient
}

type cachedClient struct {
	c       oauth.Client
	expires time.Time
}

func newClientCache(now func() time.Time, ttl time.Duration) *clientCache {
	return &clientCache{now: now, ttl: ttl, m: map[string]cachedClient{}}
}

// client is the record of id: from the cache while it is fresh, else from
// the store. A failure is returned and never kept.
func (cc *clientCache) client(ctx context.Context, st oauth.ClientStore, id string) (oauth.Client, error) {
	now := cc.now()
	cc.mu.RLock()
	e, ok := cc.m[id]
	cc.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.c, nil
	}
	c, err := st.Client(ctx, id)
	if err != nil {
		return c, err
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.m) >= maxCachedClients {
		for k, v := range cc.m {
			if !now.Before(v.expires) {
				delete(cc.m, k)
			}
		}
		if len(cc.m) >= maxCachedClients {
			clear(cc.m)
		}
	}
	cc.m[id] = cachedClient{c: c, expires: now.Add(cc.ttl)}
	return c, nil
}

// forget drops id's record, so the next read is the store's.
func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	delete(cc.m, id)
	cc.mu.Unlock()
}

// cachedClients is a client store whose reads of one client come from the
// cache; its writes go to the store and drop the client's record.
type cachedClients struct {
	oauth.ClientStore
	cache *clientCache
}

// Client implements oauth.ClientStore.
func (c cachedClients) Client(ctx context.Context, id string) (oauth.Client, error) {
	return c.cache.client(ctx, c.ClientStore, id)
}

// UpdateClient implements oauth.ClientStore.
func (c cachedClients) UpdateClient(ctx context.Context, id string, fn func(*oauth.Client) error) (oauth.Client, error) {
	defer c.cache.forget(id)
	return c.ClientStore.UpdateClient(ctx, id, fn)
}

// DeleteClient implements oauth.ClientStore.
func (c cachedClients) DeleteClient(ctx context.Context, id string) error {
	defer c.cache.forget(id)
	return c.ClientStore.DeleteClient(ctx, id)
}

// accessStorage is what fosite authenticates the access endpoints' clients
// with: the provider's own storage when it already keeps client records
// (ProviderConfig.ClientCacheTTL), so that a record is never cached twice
// and a change through the provider is seen there too; else the provider's
// storage with a cache of its own.
func accessStorage(fstore *fositeStorage, cfg ProviderConfig) fosite.ClientManager {
	if _, cached := fstore.clients.(cachedClients); cached {
		return fstore
	}
	return accessClients{fstore, newClientCache(cfg.Now, ClientCacheTTL)}
}

// accessClients is the storage fosite authenticates the access endpoints'
// clients with: the provider's, with client records from the cache.
type accessClients struct {
	*fositeStorage
	cache *clientCache
}

// GetClient implements fosite.ClientManager.
func (a accessClients) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := a.cache.client(ctx, a.clients, id)
	if err != nil {
		return nil, toFosite(err)
	}
	return &fositeClient{c}, nil
}
