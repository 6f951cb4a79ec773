package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultNearCacheSize is the default of RedisOptions.NearCacheSize.
const DefaultNearCacheSize = 10_000

// maxNearCacheTTL bounds RedisOptions.NearCacheTTL: the TTL is how long a
// deleted session may still load on an instance whose invalidations were
// lost, so it must stay short.
const maxNearCacheTTL = time.Minute

// nearCache serves Load from memory: a second go-redis client with
// server-assisted client-side caching (RESP3 CLIENT TRACKING), used for
// the session HGET only. Redis tells that client's connections when a key
// they read changes (a write, a delete, an expiry, a FLUSHALL), and
// go-redis drops the entry; an entry fetched on a connection that closes
// is dropped with it; and no entry is served longer than ttl after it was
// fetched, even if its invalidation never came.
//
// Every other call (writes, index reads, locks) goes to the store's own
// client, uncached. After this instance writes or deletes a session, or
// while it holds the session's refresh lock, its loads of that session
// read Redis directly for ttl: an instance always reads its own writes,
// without waiting for the invalidation of its own cache.
type nearCache struct {
	client *redis.Client
	ttl    time.Duration
	limit  int // most tokens in fresh

	mu    sync.RWMutex
	fresh map[string]int64 // token -> until when (UnixNano) its loads read Redis
	all   atomic.Int64     // until when (UnixNano) every load reads Redis: fresh overflowed
	n     atomic.Int64     // len(fresh), read without the lock
}

// newNearCache builds the caching client from the store's client's
// options. It refuses what would leave go-redis's cache silently off or
// would cache more than session loads.
func newNearCache(client redis.UniversalClient, ttl time.Duration, size int) (*nearCache, error) {
	switch {
	case ttl < 0:
		return nil, errors.New("ginauth: NewRedis: negative NearCacheTTL")
	case size < 0:
		return nil, errors.New("ginauth: NewRedis: negative NearCacheSize")
	case ttl == 0:
		return nil, nil
	case ttl > maxNearCacheTTL:
		return nil, errors.New("ginauth: NewRedis: NearCacheTTL above one minute; it bounds how long a " +
			"deleted session may still load where an invalidation was lost")
	}
	c, ok := client.(*redis.Client)
	if !ok {
		return nil, errors.New("ginauth: NewRedis: NearCacheTTL needs a *redis.Client (a standalone server): " +
			"go-redis's client-side caching does not support Redis Cluster")
	}
	o := *c.Options()
	switch {
	case o.DB != 0:
		return nil, errors.New("ginauth: NewRedis: NearCacheTTL needs database 0 (go-redis caches no other)")
	case o.CredentialsProvider != nil || o.CredentialsProviderContext != nil || o.StreamingCredentialsProvider != nil:
		return nil, errors.New("ginauth: NewRedis: NearCacheTTL does not work with a credentials provider " +
			"(go-redis turns its cache off); use fixed Username and Password")
	}
	if size == 0 {
		size = DefaultNearCacheSize
	}
	o.Protocol = 3
	// go-redis stores the store client's push processor in its options;
	// the caching client needs its own, with its invalidation handler.
	o.PushNotificationProcessor = nil
	o.ClientSideCache = nil
	o.ClientSideCacheConfig = &redis.ClientSideCacheConfig{MaxEntries: size, MaxStaleness: ttl}
	o.ClientSideCacheRefreshOnInvalidate = false // a deleted session must miss, not be fetched again
	o.ClientSideCacheInvalidationBatchWindow = 0 // apply invalidations as they arrive
	return &nearCache{client: redis.NewClient(&o), ttl: ttl, limit: size, fresh: make(map[string]int64)}, nil
}

// checkUncached refuses a store client with client-side caching on: it
// would serve index reads (List, DeleteUser, DeleteSID) and lock reads from
// memory, possibly stale. NearCacheTTL caches session loads alone.
func checkUncached(client redis.UniversalClient) error {
	c, ok := client.(*redis.Client)
	if !ok || c == nil {
		return nil
	}
	if o := c.Options(); o.ClientSideCacheConfig != nil || o.ClientSideCache != nil {
		return errors.New("ginauth: NewRedis: the client has client-side caching on, which would serve " +
			"index reads from memory; use RedisOptions.NearCacheTTL instead, which caches session loads only")
	}
	return nil
}

// reader returns the client a Load of token reads with: the caching one,
// unless this instance wrote the session in the last ttl.
func (n *nearCache) reader(token []byte, fallback redis.UniversalClient) redis.UniversalClient {
	if n.n.Load() == 0 && n.all.Load() == 0 {
		return n.client
	}
	now := time.Now().UnixNano()
	if now < n.all.Load() {
		return fallback
	}
	n.mu.RLock()
	until, ok := n.fresh[string(token)]
	n.mu.RUnlock()
	if ok && now < until {
		return fallback
	}
	return n.client
}

// wrote records that this instance just wrote or deleted the session of
// token (or will hold its lock for up to hold): its loads read Redis for
// the next hold plus ttl.
func (n *nearCache) wrote(token string, hold time.Duration) {
	now := time.Now().UnixNano()
	until := now + int64(hold+n.ttl)
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.fresh) >= n.limit {
		for k, u := range n.fresh {
			if u <= now {
				delete(n.fresh, k)
			}
		}
	}
	if len(n.fresh) >= n.limit {
		// Too many writes at once to track one by one: every load reads
		// Redis until the last of them is past.
		for _, u := range n.fresh {
			until = max(until, u)
		}
		n.all.Store(max(n.all.Load(), until))
		clear(n.fresh)
		n.n.Store(0)
		return
	}
	if u, ok := n.fresh[token]; !ok || u < until {
		n.fresh[token] = until
	}
	n.n.Store(int64(len(n.fresh)))
}

// NearCacheStats reports the near cache's activity (zero without
// RedisOptions.NearCacheTTL).
type NearCacheStats struct {
	Hits, Misses uint64 // loads served from memory, and from Redis through the cache
	Entries      int    // sessions held now
}

// NearCacheStats returns the near cache's counters, for monitoring.
func (s *Redis) NearCacheStats() NearCacheStats {
	if s.near == nil {
		return NearCacheStats{}
	}
	st := s.near.client.CSCStats()
	return NearCacheStats{Hits: st.Hits, Misses: st.Misses, Entries: st.Entries}
}

// nearWrote tells the near cache, if any, that this instance wrote or
// deleted the sessions of tokens.
func (s *Redis) nearWrote(hold time.Duration, tokens ...string) {
	if s.near == nil {
		return
	}
	for _, t := range tokens {
		s.near.wrote(t, hold)
	}
}
