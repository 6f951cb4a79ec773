package store

import (
	"context"
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
	client *redis.Client         // the caching client (standalone)
	nodes  *nearNodes            // or, on Redis Cluster, one per master
	base   redis.UniversalClient // the store's client
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
	if size == 0 {
		size = DefaultNearCacheSize
	}
	n := &nearCache{base: client, ttl: ttl, limit: size, fresh: make(map[string]int64)}
	switch c := client.(type) {
	case *redis.Client:
		o := c.Options()
		if o.Addr == failoverClientAddr {
			return nil, errors.New("ginauth: NewRedis: NearCacheTTL does not work with a Sentinel client " +
				"(redis.NewFailoverClient): after a failover that leaves the old master up (SENTINEL FAILOVER, " +
				"a partition), the caching connections stay on it and serve sessions deleted on the new master " +
				"beyond NearCacheTTL; leave NearCacheTTL zero with Sentinel")
		}
		if err := checkCachable(o.DB, o.CredentialsProvider != nil || o.CredentialsProviderContext != nil ||
			o.StreamingCredentialsProvider != nil); err != nil {
			return nil, err
		}
		n.client = redis.NewClient(cachingOptions(o, ttl, size))
	case *redis.ClusterClient:
		o := c.Options()
		if err := checkCachable(0, o.CredentialsProvider != nil || o.CredentialsProviderContext != nil ||
			o.StreamingCredentialsProvider != nil); err != nil {
			return nil, err
		}
		n.nodes = &nearNodes{cluster: c, ttl: ttl, size: size, clients: make(map[string]*redis.Client)}
	default:
		return nil, errors.New("ginauth: NewRedis: NearCacheTTL needs a *redis.Client or *redis.ClusterClient")
	}
	return n, nil
}

// failoverClientAddr is the address go-redis (v9.23) gives the options of
// a client made by redis.NewFailoverClient: its connections go to the
// master the sentinels name when they are dialled. A caching client built
// from those options dials the same way, but go-redis closes only the
// failover client's own connections to a demoted master when the sentinels
// announce a new one (+switch-master), not the caching client's: those
// keep reading the old master, whose keys no longer change, until the
// sentinels reconfigure it (about 10 s measured; never, while a partition
// cuts it off from the sentinels), and the near cache keeps serving
// sessions deleted on the new master.
const failoverClientAddr = "FailoverClient"

// checkCachable refuses what turns go-redis's client-side caching off.
func checkCachable(db int, credentialsProvider bool) error {
	switch {
	case db != 0:
		return errors.New("ginauth: NewRedis: NearCacheTTL needs database 0 (go-redis caches no other)")
	case credentialsProvider:
		return errors.New("ginauth: NewRedis: NearCacheTTL does not work with a credentials provider " +
			"(go-redis turns its cache off); use fixed Username and Password")
	}
	return nil
}

// cachingOptions returns a copy of a client's options with go-redis's
// client-side caching on.
func cachingOptions(base *redis.Options, ttl time.Duration, size int) *redis.Options {
	o := *base
	o.Protocol = 3
	// go-redis stores a client's push processor in its options; the
	// caching client needs its own, with its invalidation handler.
	o.PushNotificationProcessor = nil
	// Nor may it share the base client's maintenance-notification config:
	// go-redis (v9.23) writes its Mode at run time, under the base
	// client's lock, when a server refuses the probe, and NewClient would
	// read it without that lock (a data race the cluster tests caught).
	// nil: go-redis's default, in a config of the caching client's own.
	o.MaintNotificationsConfig = nil
	o.ClientSideCache = nil
	o.ClientSideCacheConfig = &redis.ClientSideCacheConfig{MaxEntries: size, MaxStaleness: ttl}
	o.ClientSideCacheRefreshOnInvalidate = false // a deleted session must miss, not be fetched again
	o.ClientSideCacheInvalidationBatchWindow = 0 // apply invalidations as they arrive
	return &o
}

// hget reads field of key, through the near cache unless this instance
// wrote the session of token in the last ttl.
func (n *nearCache) hget(ctx context.Context, token []byte, key, field string) ([]byte, error) {
	if !n.cached(token) {
		return n.base.HGet(ctx, key, field).Bytes()
	}
	if n.nodes == nil {
		return n.client.HGet(ctx, key, field).Bytes()
	}
	c := n.nodes.forKey(ctx, key)
	if c == nil {
		return n.base.HGet(ctx, key, field).Bytes()
	}
	v, err := c.HGet(ctx, key, field).Bytes()
	if err != nil && (redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK") ||
		redis.HasErrorPrefix(err, "TRYAGAIN")) {
		// The slot is moving or moved: the cluster client follows it.
		return n.base.HGet(ctx, key, field).Bytes()
	}
	return v, err
}

// close closes the caching clients.
func (n *nearCache) close() error {
	if n.nodes != nil {
		return n.nodes.close()
	}
	return n.client.Close()
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
	var out NearCacheStats
	add := func(c *redis.Client) {
		st := c.CSCStats()
		out.Hits, out.Misses, out.Entries = out.Hits+st.Hits, out.Misses+st.Misses, out.Entries+st.Entries
	}
	if s.near.nodes != nil {
		s.near.nodes.each(add)
	} else {
		add(s.near.client)
	}
	return out
}
