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
// Reads are lock-free (an immutable map behind an atomic pointer) and cost
// one atomic load while the list is empty, so the hot path is unaffected.

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

type revocations struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[revKey]revEntry]
}

// add records key until expires; before is the creation-time cut-off.
func (r *revocations) add(key revKey, before, expires time.Time, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.load()
	next := make(map[revKey]revEntry, len(old)+1)
	for k, e := range old {
		if e.expires.After(now) {
			next[k] = e
		}
	}
	if prev, ok := next[key]; ok && prev.before.After(before) {
		before = prev.before
	}
	for len(next) >= maxRevocations {
		var victim revKey
		var soonest time.Time
		for k, e := range next {
			if soonest.IsZero() || e.expires.Before(soonest) {
				victim, soonest = k, e.expires
			}
		}
		delete(next, victim)
	}
	next[key] = revEntry{before: before, expires: expires}
	r.m.Store(&next)
}

func (r *revocations) load() map[revKey]revEntry {
	if p := r.m.Load(); p != nil {
		return *p
	}
	return nil
}

// refused reports whether the list refuses s at now.
func (r *revocations) refused(s *Session, now time.Time) bool {
	m := r.load()
	if len(m) == 0 {
		return false
	}
	check := func(k revKey) bool {
		e, ok := m[k]
		return ok && e.expires.After(now) && !s.CreatedAt.After(e.before)
	}
	if check(revKey{kind: revSession, a: s.ID}) || check(revKey{kind: revUser, a: s.Provider, b: s.User.Subject}) {
		return true
	}
	return s.SID != "" && check(revKey{kind: revSID, a: s.Provider, b: s.SID})
}
