package ginauth

import (
	"sync"
	"sync/atomic"
	"time"
)

// With the cookie store a session cannot be deleted: its cookie stays valid
// until it expires. revocations is the server-side answer: a bounded list,
// kept in this process, of sessions that must be refused although their
// cookie opens — one session ID (signed out), every session of a user
// created before a time (sign out everywhere, back-channel logout by sub), or
// every session of a provider session (back-channel logout by sid). Entries
// live as long as the sessions they refuse could. Several instances do not
// share the list: that is the documented limit of the cookie store; use a
// server-side store where it matters.
//
// The hot path reads one atomic counter while the list is empty, and takes
// a read lock for a few map lookups otherwise. Writers change the map in
// place: a sign-out costs O(1) (amortised), not a copy of the list.

type revKind uint8

const (
	revSession revKind = iota + 1 // a: session ID
	revUser                       // a: provider, b: subject
	revSID                        // a: provider, b: sid
)

type revKey struct {
	kind revKind
	a, b string
}

type revEntry struct {
	before  time.Time // sessions created at or before this are refused
	expires time.Time // the entry can be forgotten after this
}

// maxRevocations bounds the list; when it is full, expired entries go
// first, then the ones that expire soonest.
const maxRevocations = 100_000

// sweepEvery: expired entries are dropped every so many additions.
const sweepEvery = 1024

type revocations struct {
	n     atomic.Int64 // len(m), read without the lock
	mu    sync.RWMutex
	m     map[revKey]revEntry
	added int // additions since the last sweep
}

// add records key until expires; before is the creation-time cut-off.
func (r *revocations) add(key revKey, before, expires time.Time, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[revKey]revEntry)
	}
	if r.added++; r.added >= sweepEvery || len(r.m) >= maxRevocations {
		r.added = 0
		for k, e := range r.m {
			if !e.expires.After(now) {
				delete(r.m, k)
			}
		}
	}
	prev, ok := r.m[key]
	if ok && prev.before.After(before) {
		before = prev.before // a cut-off never moves back
	}
	for !ok && len(r.m) >= maxRevocations {
		var victim revKey
		var soonest time.Time
		for k, e := range r.m {
			if soonest.IsZero() || e.expires.Before(soonest) {
				victim, soonest = k, e.expires
			}
		}
		delete(r.m, victim)
	}
	r.m[key] = revEntry{before: before, expires: expires}
	r.n.Store(int64(len(r.m)))
}

// refused reports whether the list refuses s at now.
func (r *revocations) refused(s *Session, now time.Time) bool {
	if r.n.Load() == 0 {
		return false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	check := func(k revKey) bool {
		e, ok := r.m[k]
		return ok && e.expires.After(now) && !s.CreatedAt.After(e.before)
	}
	if check(revKey{kind: revSession, a: s.ID}) || check(revKey{kind: revUser, a: s.Provider, b: s.User.Subject}) {
		return true
	}
	return s.SID != "" && check(revKey{kind: revSID, a: s.Provider, b: s.SID})
}
