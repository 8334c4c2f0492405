package authz

import (
	"context"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/relais-fr/relais/authz/oauth"
)

// ClientCacheTTL bounds how long the access endpoints (/access/v1/…)
// authenticate a client against a record read earlier. A site evaluates
// before each act, so reading its record at every request was a third of
// an evaluation's cost. The record says only who the site is (secret hash,
// keys, procedure areas), so the one consequence is this: a client deleted,
// re-keyed or narrowed by another instance or by `relais clients` is seen
// by the access endpoints of this instance within ClientCacheTTL, as a
// rotated signing key is (KeyCacheTTL). Nothing about people is cached:
// subjects, representations, memberships and co-signatures are read at
// every evaluation, so a revocation stops the very next one. The token,
// authorization, introspection and revocation endpoints read the store
// every time.
const ClientCacheTTL = 3 * time.Second

// maxCachedClients bounds the cache; only registered clients ever enter
// it (a failed read is not kept), so this is reached only by a deployment
// with that many sites, which then read the store more often.
const maxCachedClients = 1024

// clientCache keeps client records read by the access endpoints, each for
// ClientCacheTTL.
type clientCache struct {
	now func() time.Time
	mu  sync.RWMutex
	m   map[string]cachedClient
}

type cachedClient struct {
	c       oauth.Client
	expires time.Time
}

func newClientCache(now func() time.Time) *clientCache {
	return &clientCache{now: now, m: map[string]cachedClient{}}
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
	cc.m[id] = cachedClient{c: c, expires: now.Add(ClientCacheTTL)}
	return c, nil
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
