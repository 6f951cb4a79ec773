package store

import "time"

// An instance reads its own writes: after it writes or deletes a session,
// or while it holds its refresh lock, its loads of that session skip the
// near cache, whose copy may predate the write until the invalidation
// arrives.

// cached reports whether a Load of token may be served from the cache:
// not when this instance wrote the session in the last ttl.
func (n *nearCache) cached(token []byte) bool {
	if n.n.Load() == 0 && n.all.Load() == 0 {
		return true
	}
	now := time.Now().UnixNano()
	if now < n.all.Load() {
		return false
	}
	n.mu.RLock()
	until, ok := n.fresh[string(token)]
	n.mu.RUnlock()
	return !ok || now >= until
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
