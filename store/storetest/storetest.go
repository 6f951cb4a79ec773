// Package storetest is the conformance suite of ginauth's session stores.
// Every [store.Store] passes it; a store's tests call [Run] with a [Harness]
// that says how to build the store and what it can do:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			New: func(t *testing.T) store.Store {
//				m := store.NewMemory(store.MemoryOptions{Now: clock.Now})
//				t.Cleanup(func() { m.Close() })
//				return m
//			},
//			ServerSide: true,
//			Advance:    clock.Advance,
//			Now:        clock.Now,
//		})
//	}
//
// Each case is a subtest with a fresh store. Cases that need a server-side
// store, a [store.Index] or a backend that can be stopped are skipped, with
// the reason, when the harness does not offer them.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/store"
)

// Harness describes a store under test.
type Harness struct {
	// New returns a fresh, empty store; called once per subtest. Register cleanup with t.Cleanup.
	New func(t *testing.T) store.Store
	// ServerSide: sessions live in the backend, so Delete makes a token unusable and unknown
	// tokens are refused. False for an adapter over a client-side backend (gin-contrib/sessions'
	// cookie store, whose token is the session itself): cases that need a server-side store are
	// skipped with a reason.
	ServerSide bool
	// Advance moves the store's clock (stores with an injectable clock); nil means the suite
	// waits in real time for expiry (backends with real-time TTLs, like Redis), using short
	// expiries (about 1 s) and polling with a bounded deadline — never a fixed long sleep.
	Advance func(d time.Duration)
	// Now is the store's clock (default time.Now), used to build expiries.
	Now func() time.Time
	// Stop and Start, when both set, make the backend unavailable and available again.
	Stop, Start func(t *testing.T)
}

// Run runs every conformance case as a subtest of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("storetest: Harness.New is nil")
	}
	if (h.Stop == nil) != (h.Start == nil) {
		t.Fatal("storetest: set both Harness.Stop and Harness.Start, or neither")
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			switch {
			case c.needs&serverSide != 0 && !h.ServerSide:
				t.Skip("needs a server-side store: " + c.why)
			case c.needs&stoppable != 0 && (h.Stop == nil || h.Start == nil):
				t.Skip("needs Harness.Stop and Harness.Start")
			}
			e := &env{h: h, s: h.New(t)}
			if c.needs&index != 0 {
				idx, ok := e.s.(store.Index)
				if !ok {
					t.Skipf("needs a store that implements store.Index (%T does not)", e.s)
				}
				e.idx = idx
			}
			c.run(t, e)
		})
	}
}

type needs int

const (
	serverSide needs = 1 << iota
	index
	stoppable
)

// The reasons a client-side store (whose token is the session) skips a case.
const (
	forgets = "a client-side store keeps nothing to forget: the token stays valid"
	refuses = "a client-side store cannot tell a token it issued from any other"
	keeps   = "a client-side store keeps nothing: the token the caller holds is the session"
)

var cases = []struct {
	name  string
	needs needs
	why   string // why a client-side store skips it
	run   func(t *testing.T, e *env)
}{
	{name: "SaveNew", run: testSaveNew},
	{name: "SaveNewTwice", run: testSaveNewTwice},
	{name: "Update", run: testUpdate},
	{name: "UpdateMovesExpiry", needs: serverSide, why: forgets, run: testUpdateMovesExpiry},
	{name: "UpdateIfMatch", needs: serverSide, why: keeps, run: testUpdateIfMatch},
	{name: "UpdateDeleted", needs: serverSide, why: forgets, run: testUpdateDeleted},
	{name: "UpdateExpired", needs: serverSide, why: forgets, run: testUpdateExpired},
	{name: "Expiry", needs: serverSide, why: forgets, run: testExpiry},
	{name: "Delete", needs: serverSide, why: forgets, run: testDelete},
	{name: "DeleteUnknown", run: testDeleteUnknown},
	{name: "UnknownToken", needs: serverSide, why: refuses, run: testUnknownToken},
	{name: "MalformedToken", run: testMalformedToken},
	{name: "DataCopied", needs: serverSide, why: keeps, run: testDataCopied},
	{name: "IndexListDeleteUser", needs: index, run: testIndexUser},
	{name: "IndexDeleteSID", needs: index, run: testIndexSID},
	{name: "IndexExpired", needs: index, run: testIndexExpired},
	{name: "ConcurrentWriters", run: testConcurrent},
	{name: "BackendDown", needs: stoppable, run: testBackendDown},
}

// Time limits.
const (
	longTTL     = time.Hour
	realTTL     = time.Second     // a short expiry in real time
	fakeTTL     = time.Minute     // a short expiry on an injected clock
	expiryGrace = 3 * time.Second // how late a real-time expiry may be seen
	earlyGrace  = 50 * time.Millisecond
	pollEvery   = 20 * time.Millisecond
	downLimit   = 5 * time.Second // how long a store may take to report a down backend
	callLimit   = 10 * time.Second
)

// env is one case's store and helpers.
type env struct {
	h   Harness
	s   store.Store
	idx store.Index // when the case needs it
}

// user names a session's owner.
type user struct{ provider, subject, sid string }

var alice = user{"p", "alice", ""}

func (e *env) shortTTL() time.Duration {
	if e.h.Advance != nil {
		return fakeTTL
	}
	return realTTL
}

func (e *env) rec(u user, data string, ttl time.Duration) store.Record {
	return store.Record{
		Data:     []byte(data),
		Expiry:   e.h.Now().Add(ttl),
		Provider: u.provider,
		Subject:  u.subject,
		SID:      u.sid,
	}
}

// save saves rec (token nil: a new session) and returns the token.
func (e *env) save(t *testing.T, token []byte, rec store.Record) []byte {
	t.Helper()
	got, err := e.s.Save(t.Context(), token, rec)
	if err != nil {
		t.Fatalf("Save(%s, %q) = %v", show(token), rec.Data, err)
	}
	if len(got) == 0 {
		t.Fatalf("Save(%s, %q) returned an empty token", show(token), rec.Data)
	}
	return got
}

// saveNew saves a new session of u and returns its token.
func (e *env) saveNew(t *testing.T, u user, data string, ttl time.Duration) []byte {
	t.Helper()
	return e.save(t, nil, e.rec(u, data, ttl))
}

// loaded reports what Load says of token, as an error when it is not
// exactly want (want nil: not found).
func (e *env) loaded(ctx context.Context, token []byte, want []byte) error {
	data, found, err := e.s.Load(ctx, token)
	switch {
	case err != nil:
		return fmt.Errorf("Load(%s) = %w", show(token), err)
	case want == nil && (found || len(data) != 0):
		return fmt.Errorf("Load(%s) = (%q, %v), want not found", show(token), data, found)
	case want != nil && (!found || !bytes.Equal(data, want)):
		return fmt.Errorf("Load(%s) = (%q, %v), want (%q, true)", show(token), data, found, want)
	}
	return nil
}

func (e *env) wantData(t *testing.T, token []byte, want string) {
	t.Helper()
	if err := e.loaded(t.Context(), token, []byte(want)); err != nil {
		t.Error(err)
	}
}

func (e *env) wantGone(t *testing.T, token []byte) {
	t.Helper()
	if err := e.loaded(t.Context(), token, nil); err != nil {
		t.Error(err)
	}
}

// wantNotFound checks that updating token returns exactly (nil, ErrNotFound).
func (e *env) wantNotFound(t *testing.T, token []byte, rec store.Record) {
	t.Helper()
	var (
		got []byte
		err error
	)
	calm(t, "Save", func() { got, err = e.s.Save(t.Context(), token, rec) })
	if !errors.Is(err, store.ErrNotFound) || got != nil {
		t.Errorf("Save(%s, %q) = (%s, %v), want (nil, %v)", show(token), rec.Data, show(got), err, store.ErrNotFound)
	}
}

// pass lets the store's time reach just past instant.
func (e *env) pass(instant time.Time) {
	d := instant.Sub(e.h.Now())
	if e.h.Advance != nil {
		e.h.Advance(d + time.Millisecond)
		return
	}
	time.Sleep(d + earlyGrace) // at most realTTL
}

// justBefore lets the store's time reach just before instant, when the
// clock is injected; in real time, the caller runs right after saving.
func (e *env) justBefore(instant time.Time) {
	if e.h.Advance != nil {
		if d := instant.Sub(e.h.Now()) - time.Millisecond; d > 0 {
			e.h.Advance(d)
		}
	}
}

// expire lets time reach expiry, then requires cond to hold: at once with an
// injected clock, else by polling it until expiryGrace after expiry. In real
// time cond must not hold before expiry: the store would have expired a
// session early.
func (e *env) expire(t *testing.T, expiry time.Time, cond func(ctx context.Context) error) {
	t.Helper()
	if e.h.Advance != nil {
		e.pass(expiry)
		if err := cond(t.Context()); err != nil {
			t.Fatalf("just past the expiry: %v", err)
		}
		return
	}
	for {
		err := cond(t.Context())
		now := e.h.Now()
		if err == nil {
			if early := expiry.Sub(now); early > earlyGrace {
				t.Fatalf("expired %v before the expiry", early)
			}
			return
		}
		if now.After(expiry.Add(expiryGrace)) {
			t.Fatalf("%v after the expiry: %v", now.Sub(expiry).Round(time.Millisecond), err)
		}
		time.Sleep(pollEvery)
	}
}

func testSaveNew(t *testing.T, e *env) {
	const data = "session\x00data\xff" // opaque bytes
	tok := e.saveNew(t, alice, data, longTTL)
	e.wantData(t, tok, data)
	e.wantData(t, tok, data) // loading does not consume it
}

func testSaveNewTwice(t *testing.T, e *env) {
	const n = 8 // two suffice to differ; more to estimate entropy
	toks := make([][]byte, n)
	seen := make(map[string]int, n)
	for i := range toks {
		toks[i] = e.saveNew(t, alice, fmt.Sprintf("data-%d", i), longTTL)
		if j, dup := seen[string(toks[i])]; dup {
			t.Fatalf("sessions %d and %d got the same token %s", j, i, show(toks[i]))
		}
		seen[string(toks[i])] = i
	}
	for i, tok := range toks {
		e.wantData(t, tok, fmt.Sprintf("data-%d", i))
	}
	if !e.h.ServerSide {
		return // the token is the data
	}
	for _, tok := range toks {
		if len(tok) < 32 {
			t.Errorf("token %s is %d bytes long: it cannot carry 32 random bytes", show(tok), len(tok))
		}
	}
	// Tokens of 32 random bytes estimate at about 256 bits; the margin
	// absorbs sampling noise. A counter, a timestamp or a short random part
	// estimates far lower.
	if bits := entropyBits(toks); bits < 240 {
		t.Errorf("tokens carry about %.0f random bits, want at least 256 (32 bytes); tokens: %s", bits, showAll(toks))
	}
}

func testUpdate(t *testing.T, e *env) {
	tok := e.saveNew(t, alice, "v1", longTTL)
	for _, data := range []string{"v2", "v3"} {
		got := e.save(t, tok, e.rec(alice, data, longTTL))
		if e.h.ServerSide && !bytes.Equal(got, tok) {
			t.Fatalf("update returned a new token %s, want the same %s", show(got), show(tok))
		}
		e.wantData(t, got, data)
		tok = got
	}
}

// testUpdateIfMatch: a conditional update writes only over the data it was
// based on; a stale one fails with ErrConflict and changes nothing.
func testUpdateIfMatch(t *testing.T, e *env) {
	tok := e.saveNew(t, alice, "v1", longTTL)
	cond := e.rec(alice, "v2", longTTL)
	cond.IfMatch = []byte("v1")
	e.save(t, tok, cond)
	e.wantData(t, tok, "v2")

	stale := e.rec(alice, "v3", longTTL)
	stale.IfMatch = []byte("v1") // based on data that was replaced meanwhile
	if _, err := e.s.Save(t.Context(), tok, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale conditional Save = %v, want ErrConflict", err)
	}
	e.wantData(t, tok, "v2")

	// Unconditional updates and conditional ones on a deleted session.
	e.save(t, tok, e.rec(alice, "v4", longTTL))
	e.wantData(t, tok, "v4")
	if err := e.s.Delete(t.Context(), tok); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	gone := e.rec(alice, "v5", longTTL)
	gone.IfMatch = []byte("v4")
	if _, err := e.s.Save(t.Context(), tok, gone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("conditional Save of a deleted session = %v, want ErrNotFound", err)
	}
}

func testUpdateMovesExpiry(t *testing.T, e *env) {
	short := e.rec(alice, "v1", e.shortTTL())
	tok := e.save(t, nil, short)
	e.save(t, tok, e.rec(alice, "v2", longTTL))
	e.pass(short.Expiry)
	e.wantData(t, tok, "v2")

	// And back: an update can also bring the expiry closer.
	shorter := e.rec(alice, "v3", e.shortTTL())
	e.save(t, tok, shorter)
	e.expire(t, shorter.Expiry, func(ctx context.Context) error { return e.loaded(ctx, tok, nil) })
}

func testUpdateDeleted(t *testing.T, e *env) {
	tok := e.saveNew(t, alice, "v1", longTTL)
	if err := e.s.Delete(t.Context(), tok); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	e.wantNotFound(t, tok, e.rec(alice, "v2", longTTL))
	e.wantGone(t, tok) // not recreated
}

func testUpdateExpired(t *testing.T, e *env) {
	rec := e.rec(alice, "v1", e.shortTTL())
	tok := e.save(t, nil, rec)
	e.expire(t, rec.Expiry, func(ctx context.Context) error { return e.loaded(ctx, tok, nil) })
	e.wantNotFound(t, tok, e.rec(alice, "v2", longTTL))
	e.wantGone(t, tok) // not recreated
}

func testExpiry(t *testing.T, e *env) {
	long := e.saveNew(t, alice, "long", longTTL)
	rec := e.rec(alice, "short", e.shortTTL())
	tok := e.save(t, nil, rec)
	e.justBefore(rec.Expiry)
	e.wantData(t, tok, "short")
	e.expire(t, rec.Expiry, func(ctx context.Context) error { return e.loaded(ctx, tok, nil) })
	e.wantData(t, long, "long")
}

func testDelete(t *testing.T, e *env) {
	a := e.saveNew(t, alice, "a", longTTL)
	b := e.saveNew(t, alice, "b", longTTL)
	for range 2 { // deleting twice is fine
		if err := e.s.Delete(t.Context(), a); err != nil {
			t.Fatalf("Delete = %v", err)
		}
		e.wantGone(t, a)
	}
	e.wantData(t, b, "b")
}

func testDeleteUnknown(t *testing.T, e *env) {
	live := e.saveNew(t, alice, "live", longTTL)
	gone := e.saveNew(t, alice, "gone", longTTL)
	if err := e.s.Delete(t.Context(), gone); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	toks := malformed(live)
	toks = append(toks, namedToken{"deleted session's", gone})
	if e.h.ServerSide {
		toks = append(toks, namedToken{"forged", forge(t, live)})
	}
	for _, tc := range toks {
		var err error
		calm(t, "Delete", func() { err = e.s.Delete(t.Context(), tc.token) })
		if err != nil {
			t.Errorf("Delete(%s token %s) = %v, want nil", tc.name, show(tc.token), err)
		}
	}
	e.wantData(t, live, "live")
}

func testUnknownToken(t *testing.T, e *env) {
	live := e.saveNew(t, alice, "live", longTTL)
	gone := e.saveNew(t, alice, "gone", longTTL)
	if err := e.s.Delete(t.Context(), gone); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	toks := []namedToken{{"deleted session's", gone}}
	for i := range 3 {
		toks = append(toks, namedToken{fmt.Sprintf("random well-formed #%d", i+1), forge(t, live)})
	}
	for _, tc := range toks {
		t.Run(tc.name, func(t *testing.T) {
			e.wantGone(t, tc.token)
			e.wantNotFound(t, tc.token, e.rec(alice, "adopted", longTTL)) // SF-2: never adopted
			e.wantGone(t, tc.token)
		})
	}
	e.wantData(t, live, "live")
}

func testMalformedToken(t *testing.T, e *env) {
	live := e.saveNew(t, alice, "live", longTTL)
	for _, tc := range malformed(live) {
		t.Run(tc.name, func(t *testing.T) {
			var (
				data  []byte
				found bool
				err   error
			)
			calm(t, "Load", func() { data, found, err = e.s.Load(t.Context(), tc.token) })
			if err != nil {
				t.Errorf("Load(%s) = %v, want no error", show(tc.token), err)
			}
			if (e.h.ServerSide || len(tc.token) == 0) && (found || len(data) != 0) {
				t.Errorf("Load(%s) = (%q, %v), want not found", show(tc.token), data, found)
			}
			if e.h.ServerSide && tc.token != nil { // nil asks for a new session
				e.wantNotFound(t, tc.token, e.rec(alice, "adopted", longTTL))
				e.wantGone(t, tc.token)
			}
		})
	}
	e.wantData(t, live, "live")
}

func testDataCopied(t *testing.T, e *env) {
	data := []byte("original")
	rec := e.rec(alice, "", longTTL)
	rec.Data = data
	tok := e.save(t, nil, rec)
	data[0] = 'X'
	e.wantData(t, tok, "original")

	got, _, err := e.s.Load(t.Context(), tok)
	if err != nil || len(got) == 0 {
		t.Fatalf("Load = (%q, %v)", got, err)
	}
	got[0] = 'X'
	e.wantData(t, tok, "original")

	upd := []byte("updated")
	rec.Data = upd
	e.save(t, tok, rec)
	upd[0] = 'X'
	e.wantData(t, tok, "updated")
}

func testIndexUser(t *testing.T, e *env) {
	bob, qAlice := user{"p", "bob", ""}, user{"q", "alice", ""}
	var a [][]byte
	for i := range 3 {
		a = append(a, e.saveNew(t, alice, fmt.Sprintf("a%d", i), longTTL))
	}
	b := e.saveNew(t, bob, "b", longTTL)
	c := e.saveNew(t, qAlice, "c", longTTL)
	e.save(t, a[0], e.rec(alice, "a0 updated", longTTL)) // an update keeps it listed

	e.wantList(t, alice, a...)
	e.wantList(t, bob, b)
	e.wantList(t, qAlice, c)
	e.wantList(t, user{"p", "nobody", ""})

	e.wantDeleteUser(t, alice, 3)
	for _, tok := range a {
		e.wantGone(t, tok)
	}
	e.wantData(t, b, "b")
	e.wantData(t, c, "c")
	e.wantList(t, alice)
	e.wantList(t, bob, b)
	e.wantList(t, qAlice, c)
	e.wantDeleteUser(t, alice, 0)
}

func testIndexSID(t *testing.T, e *env) {
	a1 := e.saveNew(t, user{"p", "alice", "sid-1"}, "a1", longTTL)
	a2 := e.saveNew(t, user{"p", "alice", "sid-1"}, "a2", longTTL)
	a3 := e.saveNew(t, user{"p", "alice", "sid-2"}, "a3", longTTL)
	b := e.saveNew(t, user{"p", "bob", ""}, "b", longTTL)
	c := e.saveNew(t, user{"q", "alice", "sid-1"}, "c", longTTL) // same sid, other provider

	e.wantDeleteSID(t, "p", "sid-1", 2)
	e.wantGone(t, a1)
	e.wantGone(t, a2)
	e.wantData(t, a3, "a3")
	e.wantData(t, b, "b")
	e.wantData(t, c, "c")
	e.wantList(t, alice, a3)
	e.wantList(t, user{"q", "alice", ""}, c)

	e.wantDeleteSID(t, "p", "sid-1", 0)
	e.wantDeleteSID(t, "p", "", 0) // sessions without a sid are not one provider session
	e.wantDeleteSID(t, "p", "sid-unknown", 0)
	e.wantData(t, b, "b")
	e.wantDeleteSID(t, "q", "sid-1", 1)
	e.wantGone(t, c)
	e.wantData(t, a3, "a3")
}

func testIndexExpired(t *testing.T, e *env) {
	bob := user{"p", "bob", "sid-b"}
	bobShort := e.rec(bob, "b short", e.shortTTL())
	e.save(t, nil, bobShort)
	bobLong := e.saveNew(t, bob, "b long", longTTL)
	aliceShort := e.rec(alice, "a short", e.shortTTL())
	e.save(t, nil, aliceShort)
	aliceLong := e.saveNew(t, alice, "a long", longTTL)

	e.expire(t, aliceShort.Expiry, func(ctx context.Context) error {
		return e.listed(ctx, alice, [][]byte{aliceLong})
	})
	e.wantList(t, bob, bobLong)
	e.wantDeleteUser(t, alice, 1) // expired sessions are not counted
	e.wantDeleteSID(t, "p", "sid-b", 1)
	e.wantGone(t, bobLong)
}

func (e *env) listed(ctx context.Context, u user, want [][]byte) error {
	got, err := e.idx.List(ctx, u.provider, u.subject)
	if err != nil {
		return fmt.Errorf("List(%q, %q) = %w", u.provider, u.subject, err)
	}
	if !sameTokens(got, want) {
		return fmt.Errorf("List(%q, %q) = %s, want %s", u.provider, u.subject, showAll(got), showAll(want))
	}
	return nil
}

func (e *env) wantList(t *testing.T, u user, want ...[]byte) {
	t.Helper()
	if err := e.listed(t.Context(), u, want); err != nil {
		t.Error(err)
	}
}

func (e *env) wantDeleteUser(t *testing.T, u user, want int) {
	t.Helper()
	if n, err := e.idx.DeleteUser(t.Context(), u.provider, u.subject); n != want || err != nil {
		t.Errorf("DeleteUser(%q, %q) = (%d, %v), want (%d, nil)", u.provider, u.subject, n, err, want)
	}
}

func (e *env) wantDeleteSID(t *testing.T, provider, sid string, want int) {
	t.Helper()
	if n, err := e.idx.DeleteSID(t.Context(), provider, sid); n != want || err != nil {
		t.Errorf("DeleteSID(%q, %q) = (%d, %v), want (%d, nil)", provider, sid, n, err, want)
	}
}

func testConcurrent(t *testing.T, e *env) {
	const goroutines, rounds = 32, 20
	owner := user{"p", "shared", ""}
	shared := e.saveNew(t, owner, "initial", longTTL)
	var (
		mu      sync.Mutex
		written = map[string]bool{}
		tokens  = map[string]string{} // every new session's token: its data
		last    = make([][2]string, goroutines)
	)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			ctx := t.Context()
			u := user{"p", fmt.Sprintf("user-%d", g), ""}
			for r := range rounds {
				own := fmt.Sprintf("g%d r%d", g, r)
				tok, err := e.s.Save(ctx, nil, e.rec(u, own, longTTL))
				if err != nil {
					t.Errorf("goroutine %d: Save(nil) = %v", g, err)
					return
				}
				if err := e.loaded(ctx, tok, []byte(own)); err != nil {
					t.Errorf("goroutine %d: %v", g, err)
				}
				val := "shared " + own
				mu.Lock()
				written[val] = true
				if prev, dup := tokens[string(tok)]; dup {
					t.Errorf("sessions %q and %q got the same token %s", prev, own, show(tok))
				}
				tokens[string(tok)] = own
				mu.Unlock()

				got, err := e.s.Save(ctx, shared, e.rec(owner, val, longTTL))
				if err != nil { // ErrNotFound included: the shared session lives
					t.Errorf("goroutine %d: updating the shared session = %v", g, err)
					return
				}
				if e.h.ServerSide {
					if !bytes.Equal(got, shared) {
						t.Errorf("goroutine %d: update returned a new token %s", g, show(got))
					}
					data, found, err := e.s.Load(ctx, shared)
					mu.Lock()
					ok := found && err == nil && (written[string(data)] || string(data) == "initial")
					mu.Unlock()
					if !ok {
						t.Errorf("goroutine %d: Load(shared) = (%q, %v, %v), want a written value", g, data, found, err)
					}
				}
				mu.Lock()
				last[g] = [2]string{string(got), val}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if !e.h.ServerSide {
		for g, l := range last { // each update's token is that update
			if err := e.loaded(t.Context(), []byte(l[0]), []byte(l[1])); err != nil {
				t.Errorf("goroutine %d's last update: %v", g, err)
			}
		}
		return
	}
	data, found, err := e.s.Load(t.Context(), shared)
	if err != nil || !found || !written[string(data)] {
		t.Errorf("Load(shared) = (%q, %v, %v), want one of the written values", data, found, err)
	}
}

func testBackendDown(t *testing.T, e *env) {
	tok := e.saveNew(t, alice, "before", longTTL)
	e.h.Stop(t)
	started := false
	t.Cleanup(func() {
		if !started {
			e.h.Start(t)
		}
	})

	ops := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Load", func(ctx context.Context) error {
			data, found, err := e.s.Load(ctx, tok)
			if err == nil {
				return fmt.Errorf("(%q, %v, nil)", data, found)
			}
			return err
		}},
		{"Save new", func(ctx context.Context) error {
			_, err := e.s.Save(ctx, nil, e.rec(alice, "new", longTTL))
			return err
		}},
		{"Save update", func(ctx context.Context) error {
			_, err := e.s.Save(ctx, tok, e.rec(alice, "update", longTTL))
			return err
		}},
		{"Delete", func(ctx context.Context) error { return e.s.Delete(ctx, tok) }},
	}
	if idx, ok := e.s.(store.Index); ok {
		ops = append(ops, []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"List", func(ctx context.Context) error { _, err := idx.List(ctx, "p", "alice"); return err }},
			{"DeleteUser", func(ctx context.Context) error { _, err := idx.DeleteUser(ctx, "p", "alice"); return err }},
			{"DeleteSID", func(ctx context.Context) error { _, err := idx.DeleteSID(ctx, "p", "sid-1"); return err }},
		}...)
	}
	for _, op := range ops {
		ctx, cancel := context.WithTimeout(t.Context(), callLimit)
		start := time.Now()
		err := op.call(ctx)
		took := time.Since(start)
		cancel()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("backend down: %s = %v, want an error wrapping %v", op.name, err, store.ErrUnavailable)
		}
		if took > downLimit {
			t.Errorf("backend down: %s took %v, want at most %v", op.name, took.Round(time.Millisecond), downLimit)
		}
	}

	e.h.Start(t)
	started = true
	deadline := time.Now().Add(downLimit)
	for {
		err := recovered(t.Context(), e, tok)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend up again for %v, the store still fails: %v", downLimit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recovered checks that the store works: a new session can be saved and
// loaded, and the old token loads without error (its session may have been
// lost with the backend).
func recovered(ctx context.Context, e *env, old []byte) error {
	tok, err := e.s.Save(ctx, nil, e.rec(alice, "after", longTTL))
	if err != nil {
		return fmt.Errorf("Save(nil) = %w", err)
	}
	if err := e.loaded(ctx, tok, []byte("after")); err != nil {
		return err
	}
	if _, _, err := e.s.Load(ctx, old); err != nil {
		return fmt.Errorf("Load(old token) = %w", err)
	}
	return nil
}

// calm runs f, turning a panic into a test failure that names the call.
func calm(t *testing.T, call string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", call, r)
		}
	}()
	f()
}

// namedToken is a token for a table of cases.
type namedToken struct {
	name  string
	token []byte
}

// malformed returns tokens no store issued, given a live one.
func malformed(live []byte) []namedToken {
	return []namedToken{
		{"nil", nil},
		{"empty", []byte{}},
		{"1 byte", []byte("x")},
		{"10 KB", bytes.Repeat([]byte("A"), 10<<10)},
		{"random bytes", randomBytes(48)},
		{"10 KB random", randomBytes(10 << 10)},
		{"live plus a byte", append(slices.Clone(live), live[len(live)-1])},
		{"live minus a byte", slices.Clone(live[:len(live)-1])},
		{"live with a NUL", append(slices.Clone(live[:len(live)/2]), append([]byte{0}, live[len(live)/2+1:]...)...)},
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.N(256))
	}
	return b
}

const (
	hexAlphabet    = "0123456789abcdef"
	base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// alphabet returns the smallest of hex, base64url (padding and the standard
// '+' and '/' allowed) and bytes ("") that holds every byte of toks.
func alphabet(toks ...[]byte) string {
	in := func(set string) bool {
		for _, tok := range toks {
			for _, c := range tok {
				if !strings.ContainsRune(set, rune(c)) {
					return false
				}
			}
		}
		return true
	}
	switch {
	case in(hexAlphabet):
		return hexAlphabet
	case in(base64Alphabet + "+/="):
		return base64Alphabet
	}
	return ""
}

// forge returns a token shaped like tok (same length, same alphabet, first
// half and last two bytes kept, so a tag and the padding bits stay valid)
// whose other bytes are random: well-formed, but never issued.
func forge(t *testing.T, tok []byte) []byte {
	t.Helper()
	set := alphabet(tok)
	out := slices.Clone(tok)
	for i := len(out) / 2; i < len(out)-2; i++ {
		switch {
		case set == "":
			out[i] ^= byte(1 + rand.N(255))
		case strings.IndexByte(set, out[i]) >= 0:
			j := strings.IndexByte(set, out[i])
			out[i] = set[(j+1+rand.N(len(set)-1))%len(set)]
		}
	}
	if bytes.Equal(out, tok) {
		t.Fatalf("cannot forge a token like %s", show(tok))
	}
	return out
}

// entropyBits estimates the random bits of tokens from how many aligned
// positions two of them differ in, on average over every pair, corrected
// for the chance that two random symbols are equal.
func entropyBits(toks [][]byte) float64 {
	size := float64(len(alphabet(toks...)))
	if size == 0 {
		size = 256
	}
	var diff, pairs float64
	for i := range toks {
		for j := i + 1; j < len(toks); j++ {
			a, b := toks[i], toks[j]
			for k := range min(len(a), len(b)) {
				if a[k] != b[k] {
					diff++
				}
			}
			diff += float64(max(len(a), len(b)) - min(len(a), len(b)))
			pairs++
		}
	}
	return diff / pairs * size / (size - 1) * math.Log2(size)
}

func sameTokens(a, b [][]byte) bool {
	key := func(toks [][]byte) []string {
		s := make([]string, len(toks))
		for i, tok := range toks {
			s[i] = string(tok)
		}
		slices.Sort(s)
		return s
	}
	return slices.Equal(key(a), key(b))
}

// show prints a token briefly.
func show(tok []byte) string {
	switch {
	case tok == nil:
		return "nil"
	case len(tok) > 64:
		return fmt.Sprintf("%q…(%d bytes)", tok[:32], len(tok))
	}
	return fmt.Sprintf("%q", tok)
}

func showAll(toks [][]byte) string {
	s := make([]string, len(toks))
	for i, tok := range toks {
		s[i] = show(tok)
	}
	slices.Sort(s)
	return "[" + strings.Join(s, " ") + "]"
}
