// Package ttlset is the one bounded, expiring record ginauth keeps in
// memory: consumed sign-in flows, processed logout tokens, session
// revocations and recent token refreshes.
//
// Its single eviction policy is the safe one for a security record: an
// entry is forgotten only after it expires, never to make room. When the
// set is full of live entries, adding fails with ErrFull and the caller
// fails closed. Expired entries are dropped incrementally, a few at each
// write, in expiry order (a min-heap), so no write scans the whole set.
package ttlset

import (
	"container/heap"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ErrFull reports that the set holds its maximum of unexpired entries.
var ErrFull = errors.New("ginauth: record full")

// Set maps keys to values until they expire. It is safe for concurrent use.
type Set[K comparable, V any] struct {
	max int
	n   atomic.Int64 // len(m), readable without the lock

	mu sync.RWMutex
	m  map[K]entry[V]
	h  expiryHeap[K] // may hold stale items for keys replaced or deleted
}

type entry[V any] struct {
	val     V
	expires int64 // Unix nanoseconds
}

// New returns a set of at most max live entries.
func New[K comparable, V any](max int) *Set[K, V] {
	if max < 1 {
		max = 1
	}
	return &Set[K, V]{max: max, m: make(map[K]entry[V])}
}

// Len returns the number of entries, expired ones not yet dropped included.
// It takes no lock.
func (s *Set[K, V]) Len() int { return int(s.n.Load()) }

// Max returns the set's bound.
func (s *Set[K, V]) Max() int { return s.max }

// Get returns key's value, if key is present and unexpired at now.
func (s *Set[K, V]) Get(key K, now time.Time) (V, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.m[key]
	if !ok || e.expires <= now.UnixNano() {
		var zero V
		return zero, false
	}
	return e.val, true
}

// Claim adds key with val until expires, unless key is already present and
// unexpired; it reports whether it added it. It fails with ErrFull (and
// adds nothing) when the set is full of unexpired entries.
func (s *Set[K, V]) Claim(key K, val V, expires, now time.Time) (bool, error) {
	added := false
	err := s.Update(key, now, func(_ V, present bool) (V, time.Time, bool) {
		if present {
			return val, time.Time{}, false
		}
		added = true
		return val, expires, true
	})
	return added, err
}

// Put sets key to val until expires, replacing any value it had. It fails
// with ErrFull when key is new and the set is full of unexpired entries.
func (s *Set[K, V]) Put(key K, val V, expires, now time.Time) error {
	return s.Update(key, now, func(V, bool) (V, time.Time, bool) { return val, expires, true })
}

// Update calls fn with key's current value (present reports whether key is
// present and unexpired at now) and, when fn returns write, sets key to the
// value and expiry fn returns. It fails with ErrFull, without calling fn,
// when key is absent and the set is full of unexpired entries.
func (s *Set[K, V]) Update(key K, now time.Time, fn func(old V, present bool) (val V, expires time.Time, write bool)) error {
	nowNano := now.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropExpired(nowNano, 8)
	old, ok := s.m[key]
	present := ok && old.expires > nowNano
	if !ok && len(s.m) >= s.max {
		s.dropExpired(nowNano, len(s.h))
		if len(s.m) >= s.max {
			return ErrFull
		}
	}
	val, expires, write := fn(old.val, present)
	if !write {
		return nil
	}
	e := entry[V]{val: val, expires: expires.UnixNano()}
	if e.expires <= nowNano {
		if ok {
			delete(s.m, key)
			s.n.Store(int64(len(s.m)))
		}
		return nil
	}
	s.m[key] = e
	heap.Push(&s.h, heapItem[K]{key: key, expires: e.expires})
	if len(s.h) > 2*s.max+16 {
		s.rebuildHeap()
	}
	s.n.Store(int64(len(s.m)))
	return nil
}

// Delete removes key.
func (s *Set[K, V]) Delete(key K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	s.n.Store(int64(len(s.m)))
}

// Range calls fn for each unexpired entry until fn returns false. fn must
// not call the set's methods.
func (s *Set[K, V]) Range(now time.Time, fn func(key K, val V) bool) {
	nowNano := now.UnixNano()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, e := range s.m {
		if e.expires > nowNano && !fn(k, e.val) {
			return
		}
	}
}

// dropExpired pops up to limit heap items that expired by now, deleting
// their entries when the item is current (not replaced since).
func (s *Set[K, V]) dropExpired(now int64, limit int) {
	for i := 0; i < limit && len(s.h) > 0 && s.h[0].expires <= now; i++ {
		it := heap.Pop(&s.h).(heapItem[K])
		if e, ok := s.m[it.key]; ok && e.expires == it.expires {
			delete(s.m, it.key)
		}
	}
	s.n.Store(int64(len(s.m)))
}

// rebuildHeap drops the stale items of keys replaced or deleted.
func (s *Set[K, V]) rebuildHeap() {
	h := make(expiryHeap[K], 0, len(s.m))
	for k, e := range s.m {
		h = append(h, heapItem[K]{key: k, expires: e.expires})
	}
	heap.Init(&h)
	s.h = h
}

type heapItem[K comparable] struct {
	key     K
	expires int64
}

// expiryHeap is a min-heap of expiry times.
type expiryHeap[K comparable] []heapItem[K]

func (h expiryHeap[K]) Len() int           { return len(h) }
func (h expiryHeap[K]) Less(i, j int) bool { return h[i].expires < h[j].expires }
func (h expiryHeap[K]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap[K]) Push(x any)        { *h = append(*h, x.(heapItem[K])) }
func (h *expiryHeap[K]) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
