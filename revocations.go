package ginauth

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/ginauth/ginauth/internal/ttlset"
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
// The list never forgets a live entry to make room. When it holds
// maxRevocations live entries, a new revocation raises a floor instead:
// every session created up to that moment is refused (everyone signs in
// again), which is the safe side of running out of memory.
//
// The hot path reads two atomic values while the list is empty, and takes a
// read lock for a few map lookups otherwise.

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

// maxRevocations bounds the list.
const maxRevocations = 100_000

type revocations struct {
	set   *ttlset.Set[revKey, time.Time] // value: sessions created at or before it are refused
	floor atomic.Int64                   // Unix ns; sessions created at or before it are refused; 0: none
}

func newRevocations() *revocations {
	return &revocations{set: ttlset.New[revKey, time.Time](maxRevocations)}
}

// add refuses the sessions of key created at or before before, until
// expires. A cut-off never moves back. It reports whether the list was full
// and the floor was raised instead.
func (r *revocations) add(key revKey, before, expires, now time.Time) (overflowed bool) {
	err := r.set.Update(key, now, func(prev time.Time, present bool) (time.Time, time.Time, bool) {
		if present && prev.After(before) {
			before = prev
		}
		return before, expires, true
	})
	if errors.Is(err, ttlset.ErrFull) {
		for {
			old := r.floor.Load()
			if old >= before.UnixNano() || r.floor.CompareAndSwap(old, before.UnixNano()) {
				return true
			}
		}
	}
	return false
}

// refused reports whether the list refuses s at now.
func (r *revocations) refused(s *Session, now time.Time) bool {
	if f := r.floor.Load(); f != 0 && s.CreatedAt.UnixNano() <= f {
		return true
	}
	if r.set.Len() == 0 {
		return false
	}
	check := func(k revKey) bool {
		before, ok := r.set.Get(k, now)
		return ok && !s.CreatedAt.After(before)
	}
	if check(revKey{kind: revSession, a: s.ID}) || check(revKey{kind: revUser, a: s.Provider, b: s.User.Subject}) {
		return true
	}
	return s.SID != "" && check(revKey{kind: revSID, a: s.Provider, b: s.SID})
}
