package ginauth

import (
	"sync"
	"time"
)

// outbox holds the revocations made here until they are published. It is
// bounded: when it holds max revocations, they are replaced by one
// RevokeAll of every session created up to now (a superset of them), so
// that a long outage costs memory only up to the bound and every instance
// still refuses what this one refuses (at the price of everyone signing in
// again). Revocations that expire while waiting are dropped.
type outbox struct {
	mu      sync.Mutex
	pending []Revocation
	flying  int // taken, not yet sent nor put back
	max     int
	maxAge  time.Duration

	wake  chan struct{} // something was pushed
	retry chan struct{} // the sync is in step again: retry now
}

func newOutbox(max int, maxAge time.Duration) *outbox {
	return &outbox{max: max, maxAge: maxAge, wake: make(chan struct{}, 1), retry: make(chan struct{}, 1)}
}

// signal wakes the publisher without blocking.
func (o *outbox) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// push queues rev for publication.
func (o *outbox) push(rev Revocation, now time.Time) {
	o.mu.Lock()
	if len(o.pending) >= o.max {
		o.pending = append(o.pending[:0], Revocation{Kind: RevokeAll, Before: now, Expires: now.Add(o.maxAge)})
	} else {
		o.pending = append(o.pending, rev)
	}
	o.mu.Unlock()
	o.signal(o.wake)
}

// pushAll queues revs (the whole local list, bounded by maxRevocations)
// without collapsing them.
func (o *outbox) pushAll(revs []Revocation) {
	if len(revs) == 0 {
		return
	}
	o.mu.Lock()
	o.pending = append(o.pending, revs...)
	o.mu.Unlock()
	o.signal(o.wake)
}

// take removes and returns up to n unexpired revocations, oldest first.
func (o *outbox) take(n int, now time.Time) []Revocation {
	o.mu.Lock()
	defer o.mu.Unlock()
	live := o.pending[:0]
	for _, r := range o.pending {
		if r.Expires.After(now) {
			live = append(live, r)
		}
	}
	clear(o.pending[len(live):])
	o.pending = live
	n = min(n, len(o.pending))
	batch := append([]Revocation(nil), o.pending[:n]...)
	o.pending = append(o.pending[:0], o.pending[n:]...)
	o.flying = n
	return batch
}

// putBack returns a batch that failed to the front of the queue.
func (o *outbox) putBack(batch []Revocation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pending = append(batch, o.pending...)
	o.flying = 0
}

// sent records that the batch taken last was published.
func (o *outbox) sent() {
	o.mu.Lock()
	o.flying = 0
	o.mu.Unlock()
}

// len returns the number of revocations waiting or being published.
func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.pending) + o.flying
}
