package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// nearNodes is the near cache on Redis Cluster: go-redis caches no
// cluster client, so it keeps one caching client per master, built from
// that node's options, and reads a session through the client of the
// master that serves its slot now. A master that fails closes its
// connections, which drops what they fetched; after a failover or a slot
// migration the session is read from its new master (a migrated key is
// deleted on the old one, which invalidates it there).
type nearNodes struct {
	cluster *redis.ClusterClient
	ttl     time.Duration
	size    int

	mu      sync.Mutex
	clients map[string]*redis.Client // by master address
	closed  bool
}

// forKey returns the caching client of the master serving key, or nil
// when the slot map is not known.
func (n *nearNodes) forKey(ctx context.Context, key string) *redis.Client {
	master, err := n.cluster.MasterForKey(ctx, key)
	if err != nil {
		return nil
	}
	o := master.Options()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	c, ok := n.clients[o.Addr]
	if !ok {
		c = redis.NewClient(cachingOptions(o, n.ttl, n.size))
		n.clients[o.Addr] = c
	}
	return c
}

// each calls f for every caching client.
func (n *nearNodes) each(f func(*redis.Client)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.clients {
		f(c)
	}
}

// close closes every caching client.
func (n *nearNodes) close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	var errs []error
	for _, c := range n.clients {
		errs = append(errs, c.Close())
	}
	clear(n.clients)
	return errors.Join(errs...)
}
