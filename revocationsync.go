package ginauth

import (
	"context"
	"errors"
	"time"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// RevocationKind says which sessions a Revocation refuses.
type RevocationKind uint8

// The kinds of revocation.
const (
	// RevokeSession refuses the session with ID SessionID: a sign-out, or
	// the session a browser presented when it signed in again.
	RevokeSession RevocationKind = iota + 1
	// RevokeUser refuses the sessions of Provider and Subject created at
	// or before Before: SignOutUser, back-channel logout by sub.
	RevokeUser
	// RevokeProviderSession refuses the sessions of Provider and SID (the
	// provider's session ID) created at or before Before: back-channel
	// logout by sid.
	RevokeProviderSession
	// RevokeAll refuses every session created at or before Before: an
	// instance's list ran full, or too many revocations waited to be
	// published, and the safe side of both is that everyone signs in again.
	RevokeAll
)

// Revocation is one entry of the cookie store's revocation list, as a
// RevocationSync shares it between instances.
type Revocation struct {
	Kind      RevocationKind
	SessionID string // RevokeSession
	Provider  string // RevokeUser, RevokeProviderSession
	Subject   string // RevokeUser
	SID       string // RevokeProviderSession
	// Before: sessions created at or before it are refused (for
	// RevokeSession, its Expires: any session with the ID).
	Before time.Time
	// Expires is when the revocation stops mattering: every session it
	// refuses has expired by then.
	Expires time.Time
}

// RevocationSync shares the cookie store's revocations between the
// instances of an app, so that a sign-out, a back-channel logout or
// SignOutUser on one holds on all of them. Package revsync implements it on
// Redis. Set it as Config.Revocations and run Auth.SyncRevocations.
//
// Nothing of it runs on the request path: a revocation is added to the
// local list at once and published in the background, and revocations
// arrive in the background.
type RevocationSync interface {
	// Publish makes revs known to every instance: kept until they expire
	// and delivered to every running Run. It must be idempotent (a batch
	// whose reply was lost is published again) and bound its own
	// duration. An error leaves the batch to be published again.
	Publish(ctx context.Context, revs []Revocation) error
	// Run keeps sink in step until ctx ends: it delivers every live
	// revocation (loaded at start and after every reconnection, then as
	// published), calls sink.Synced(true) once a load is complete and
	// sink.Synced(false) as soon as it may miss a publication (a lost
	// connection), and sink.Republish when the shared record lost
	// revocations (a restarted server without persistence). It returns
	// ctx's error.
	Run(ctx context.Context, sink RevocationSink) error
}

// RevocationSink is the side of an Auth a RevocationSync feeds. Its
// methods are cheap and safe for concurrent use.
type RevocationSink interface {
	// Revoke adds a revocation published by any instance (this one
	// included) to the local list.
	Revoke(rev Revocation)
	// Synced reports whether the local list is in step with the shared
	// record. While it is not, sessions are refused with 503 unless
	// Config.RevocationsFailOpen is set.
	Synced(inStep bool)
	// Republish queues every revocation of the local list for
	// publication again.
	Republish()
}

// ErrRevocationsUnsynced reports that Config.Revocations is set, the
// instance's revocation list is not in step with the other instances (not
// yet loaded, or the connection was lost) and Config.RevocationsFailOpen is
// unset, so cookie sessions are not served (503). It is wrapped in
// ErrStoreUnavailable.
var ErrRevocationsUnsynced = errors.New("ginauth: revocation list not in step with the other instances (is Auth.SyncRevocations running?)")

// errUnsynced is what loadSession returns then, built once.
var errUnsynced = errfmt.Errorf("%w: %w", ErrStoreUnavailable, ErrRevocationsUnsynced)

// Publication: a batch at a time, retried with a growing pause while it
// fails, each try bounded.
const (
	publishBatch      = 500
	publishTimeout    = 5 * time.Second
	publishRetryFirst = 100 * time.Millisecond
	publishRetryMax   = 5 * time.Second
)

// SyncRevocations keeps this instance's revocation list in step with the
// other instances through Config.Revocations, and publishes the
// revocations made here, until ctx ends; it then returns ctx's error. Run
// it in its own goroutine once, after New:
//
//	go auth.SyncRevocations(ctx)
//
// Until its first load completes, and whenever it has lost its connection,
// cookie sessions are answered 503 (ErrRevocationsUnsynced), unless
// Config.RevocationsFailOpen is set. Revocations made here are added to the
// local list at once and published in the background; a failed publication
// is retried until it succeeds or the revocation expires.
func (a *Auth) SyncRevocations(ctx context.Context) error {
	if a.revSync == nil {
		return errors.New("ginauth: SyncRevocations: Config.Revocations is nil")
	}
	if !a.revRunning.CompareAndSwap(false, true) {
		return errors.New("ginauth: SyncRevocations is already running")
	}
	defer a.revRunning.Store(false)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.publishRevocations(ctx)
	}()
	err := a.revSync.Run(ctx, revocationSink{s: a.sessions, failOpen: a.revFailOpen})
	a.revoked.inStep.Store(false)
	if !a.revFailOpen {
		a.revoked.blocked.Store(true)
	}
	<-done
	return err
}

// RevocationsSynced reports whether this instance's revocation list is in
// step with the other instances (Config.Revocations): loaded, and
// connected since. It is false without Config.Revocations. Use it in a
// readiness check: with RevocationsFailOpen unset, cookie sessions get 503
// while it is false.
func (a *Auth) RevocationsSynced() bool {
	return a.revSync != nil && a.revoked.inStep.Load()
}

// RevocationsPending returns how many revocations made here wait to be
// published, or are being published (Config.Revocations): more than zero for long means the shared
// record is unreachable.
func (a *Auth) RevocationsPending() int {
	if a.revoked.out == nil {
		return 0
	}
	return a.revoked.out.len()
}

// publishRevocations publishes the outbox until ctx ends.
func (a *Auth) publishRevocations(ctx context.Context) {
	out := a.revoked.out
	pause := publishRetryFirst
	for ctx.Err() == nil {
		batch := out.take(publishBatch, a.now())
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
			case <-out.wake:
			case <-out.retry:
			}
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, publishTimeout)
		err := a.revSync.Publish(pctx, batch)
		cancel()
		if err == nil {
			out.sent()
			pause = publishRetryFirst
			continue
		}
		out.putBack(batch)
		a.warn.Warn("ginauth: publishing revocations failed; retrying", "pending", out.len(), "err", err)
		select {
		case <-ctx.Done():
		case <-out.retry: // back in step: try again at once
		case <-time.After(pause):
		}
		pause = min(2*pause, publishRetryMax)
	}
}

// revocationSink is the RevocationSink of an Auth.
type revocationSink struct {
	s        *sessions
	failOpen bool
}

// Revoke implements RevocationSink. Entries that cannot be this instance's
// are ignored, and a revocation is kept at most SessionMaxAge: no session
// lives longer.
func (k revocationSink) Revoke(rev Revocation) {
	r, now := k.s.revoked, k.s.now()
	if rev.Kind == RevokeAll {
		if !rev.Expires.After(now) {
			return
		}
		if rev.Before.After(now) {
			rev.Before = now
		}
		r.raiseFloor(rev.Before)
		return
	}
	key, ok := keyOf(rev)
	if !ok || !rev.Expires.After(now) {
		return
	}
	if limit := now.Add(k.s.maxAge); rev.Expires.After(limit) {
		rev.Expires = limit
	}
	if rev.Before.After(rev.Expires) {
		rev.Before = rev.Expires
	}
	r.merge(key, rev.Before, rev.Expires, now)
}

// Synced implements RevocationSink.
func (k revocationSink) Synced(inStep bool) {
	k.s.revoked.inStep.Store(inStep)
	if !k.failOpen {
		k.s.revoked.blocked.Store(!inStep)
	}
	if inStep {
		k.s.revoked.out.signal(k.s.revoked.out.retry)
	}
}

// Republish implements RevocationSink.
func (k revocationSink) Republish() {
	r, now := k.s.revoked, k.s.now()
	var all []Revocation
	if f := r.floor.Load(); f != 0 {
		before := time.Unix(0, f)
		if exp := before.Add(k.s.maxAge); exp.After(now) {
			all = append(all, Revocation{Kind: RevokeAll, Before: before, Expires: exp})
		}
	}
	r.set.Range(now, func(key revKey, v revVal) bool {
		all = append(all, revocationOf(key, v))
		return true
	})
	r.out.pushAll(all)
}

// revocationOf is the Revocation of a list entry.
func revocationOf(key revKey, v revVal) Revocation {
	rev := Revocation{Before: v.before, Expires: v.expires}
	switch key.kind {
	case revSession:
		rev.Kind, rev.SessionID = RevokeSession, key.a
	case revUser:
		rev.Kind, rev.Provider, rev.Subject = RevokeUser, key.a, key.b
	case revSID:
		rev.Kind, rev.Provider, rev.SID = RevokeProviderSession, key.a, key.b
	}
	return rev
}

// keyOf is the list key of rev; false for a kind without one or a
// revocation missing its fields.
func keyOf(rev Revocation) (revKey, bool) {
	switch rev.Kind {
	case RevokeSession:
		return revKey{kind: revSession, a: rev.SessionID}, rev.SessionID != ""
	case RevokeUser:
		return revKey{kind: revUser, a: rev.Provider, b: rev.Subject}, rev.Provider != "" && rev.Subject != ""
	case RevokeProviderSession:
		return revKey{kind: revSID, a: rev.Provider, b: rev.SID}, rev.Provider != "" && rev.SID != ""
	}
	return revKey{}, false
}
