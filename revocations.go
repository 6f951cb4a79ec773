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
// live as long as the sessions they refuse could. Without
// Config.Revocations, several instances do not share the list: that is the
// documented limit of the cookie store. With it, every revocation made here
// is also queued for publication (see revocationsync.go) and revocations
// published by other instances are merged in.
//
// The list never forgets a live entry to make room. When it holds
// maxRevocations live entries, a new revocation raises a floor instead:
// every session created up to that moment is refused (everyone signs in
// again), which is the safe side of running out of memory.
//
// The hot path reads three atomic values while the list is empty, and takes
// a read lock for a few map lookups otherwise.

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

// revVal is an entry's value: the cut-off and the expiry it was given (the
// set keeps its own copy of the expiry, but does not hand it to Update).
type revVal struct {
	before, expires time.Time
}

// maxRevocations bounds the list.
const maxRevocations = 100_000

type revocations struct {
	set   *ttlset.Set[revKey, revVal] // sessions created at or before val.before are refused
	floor atomic.Int64                // Unix ns; sessions created at or before it are refused; 0: none

	// blocked is set while a configured RevocationSync is not in step and
	// Config.RevocationsFailOpen is unset: sessions are then not served.
	blocked atomic.Bool
	inStep  atomic.Bool   // the last RevocationSink.Synced said in step
	out     *outbox       // revocations to publish; nil without Config.Revocations
	maxAge  time.Duration // SessionMaxAge: how long a floor matters to others
}

func newRevocations() *revocations {
	return &revocations{set: ttlset.New[revKey, revVal](maxRevocations)}
}

// add refuses the sessions of key created at or before before, until
// expires, and queues the revocation for publication when the list is
// shared. A cut-off never moves back, nor an expiry. It reports whether the
// list was full and the floor was raised instead.
func (r *revocations) add(key revKey, before, expires, now time.Time) (overflowed bool) {
	if key.kind == revSession {
		// Session IDs are unique: any session with this ID is refused,
		// whatever the clock of the instance that created it said.
		before = expires
	}
	overflowed = r.merge(key, before, expires, now)
	if r.out != nil {
		if overflowed {
			r.out.push(Revocation{Kind: RevokeAll, Before: now, Expires: now.Add(r.maxAge)}, now)
		} else {
			r.out.push(revocationOf(key, revVal{before: before, expires: expires}), now)
		}
	}
	return overflowed
}

// merge is add without publication: for revocations learnt from other
// instances, and the work of add.
func (r *revocations) merge(key revKey, before, expires, now time.Time) (overflowed bool) {
	err := r.set.Update(key, now, func(prev revVal, present bool) (revVal, time.Time, bool) {
		if present {
			if prev.before.After(before) {
				before = prev.before
			}
			if prev.expires.After(expires) {
				expires = prev.expires
			}
		}
		return revVal{before: before, expires: expires}, expires, true
	})
	if errors.Is(err, ttlset.ErrFull) {
		// Every session the entry refuses exists now: refusing all
		// sessions created up to now (or its cut-off, when earlier) covers it.
		if before.After(now) {
			before = now
		}
		r.raiseFloor(before)
		return true
	}
	return false
}

// raiseFloor refuses every session created at or before before.
func (r *revocations) raiseFloor(before time.Time) {
	for {
		old := r.floor.Load()
		if old >= before.UnixNano() || r.floor.CompareAndSwap(old, before.UnixNano()) {
			return
		}
	}
}

// unsynced reports whether sessions must not be served because the shared
// list is not in step (fail closed).
func (r *revocations) unsynced() bool { return r.blocked.Load() }

// refused reports whether the list refuses s at now.
func (r *revocations) refused(s *Session, now time.Time) bool {
	if f := r.floor.Load(); f != 0 && s.CreatedAt.UnixNano() <= f {
		return true
	}
	if r.set.Len() == 0 {
		return false
	}
	check := func(k revKey) bool {
		v, ok := r.set.Get(k, now)
		return ok && !s.CreatedAt.After(v.before)
	}
	if check(revKey{kind: revSession, a: s.ID}) || check(revKey{kind: revUser, a: s.Provider, b: s.User.Subject}) {
		return true
	}
	return s.SID != "" && check(revKey{kind: revSID, a: s.Provider, b: s.SID})
}
