package store_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/store"
	"github.com/ginauth/ginauth/store/storetest"
)

// manualClock is a clock the tests move by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newMemory(t *testing.T, opts store.MemoryOptions) *store.Memory {
	t.Helper()
	m := store.NewMemory(opts)
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMemoryConformance(t *testing.T) {
	clock := newManualClock()
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			return newMemory(t, store.MemoryOptions{Now: clock.Now})
		},
		ServerSide: true,
		Advance:    clock.Advance,
		Now:        clock.Now,
	})
}

// TestMemoryConformanceRealTime runs the suite's real-time path (the one
// Redis takes), with the sweeper racing the cases.
func TestMemoryConformanceRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real expiries")
	}
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store {
			return newMemory(t, store.MemoryOptions{SweepInterval: 5 * time.Millisecond})
		},
		ServerSide: true,
	})
}

// memRec is a record of alice at provider p.
func memRec(clock *manualClock, data string, life time.Duration) store.Record {
	return store.Record{Data: []byte(data), Expiry: clock.Now().Add(life), Provider: "p", Subject: "alice"}
}

func memSave(t *testing.T, m *store.Memory, token []byte, rec store.Record) []byte {
	t.Helper()
	tok, err := m.Save(t.Context(), token, rec)
	if err != nil {
		t.Fatalf("Save(%q) = %v", rec.Data, err)
	}
	return tok
}

// memHas checks which of toks m holds: want[i] is toks[i]'s data, or "" for
// none.
func memHas(t *testing.T, m *store.Memory, toks [][]byte, want []string) {
	t.Helper()
	for i, tok := range toks {
		data, found, err := m.Load(t.Context(), tok)
		if err != nil || found != (want[i] != "") || string(data) != want[i] {
			t.Errorf("session %d: Load = (%q, %v, %v), want %q", i, data, found, err, want[i])
		}
	}
}

func memList(t *testing.T, m *store.Memory, want ...[]byte) {
	t.Helper()
	got, err := m.List(t.Context(), "p", "alice")
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	sortTokens := func(toks [][]byte) [][]byte {
		toks = slices.Clone(toks)
		slices.SortFunc(toks, bytes.Compare)
		return toks
	}
	if !slices.EqualFunc(sortTokens(got), sortTokens(want), bytes.Equal) {
		t.Errorf("List = %q, want %q", sortTokens(got), sortTokens(want))
	}
}

func TestMemoryBound(t *testing.T) {
	clock := newManualClock()
	m := newMemory(t, store.MemoryOptions{MaxSessions: 3, Now: clock.Now})
	s1 := memSave(t, m, nil, memRec(clock, "s1", 3*time.Hour))
	s2 := memSave(t, m, nil, memRec(clock, "s2", 1*time.Hour)) // expires soonest
	s3 := memSave(t, m, nil, memRec(clock, "s3", 2*time.Hour))

	s4 := memSave(t, m, nil, memRec(clock, "s4", 4*time.Hour))
	memHas(t, m, [][]byte{s1, s2, s3, s4}, []string{"s1", "", "s3", "s4"})
	memList(t, m, s1, s3, s4)
	if n := store.MemoryLen(m); n != 3 {
		t.Errorf("len = %d after an eviction, want 3", n)
	}

	// Updates do not evict, even with an expiry that makes them soonest.
	memSave(t, m, s4, memRec(clock, "s4 updated", 30*time.Minute))
	memHas(t, m, [][]byte{s1, s3, s4}, []string{"s1", "s3", "s4 updated"})

	// An expired session goes first, though the new one expires sooner
	// than the others: s4 (expired) goes, not s3 (1h left).
	clock.Advance(time.Hour)
	s5 := memSave(t, m, nil, memRec(clock, "s5", time.Minute))
	memHas(t, m, [][]byte{s1, s3, s4, s5}, []string{"s1", "s3", "", "s5"})
	memList(t, m, s1, s3, s5)
	if n := store.MemoryLen(m); n != 3 {
		t.Errorf("len = %d, want 3", n)
	}
}

func TestMemorySweeper(t *testing.T) {
	clock := newManualClock()
	m := newMemory(t, store.MemoryOptions{SweepInterval: 5 * time.Millisecond, Now: clock.Now})
	short := memSave(t, m, nil, memRec(clock, "short", time.Minute))
	long := memSave(t, m, nil, memRec(clock, "long", time.Hour))
	other := memSave(t, m, nil, store.Record{Data: []byte("bob"), Expiry: clock.Now().Add(time.Minute), Provider: "p", Subject: "bob", SID: "sid-b"})
	if n := store.MemoryLen(m); n != 3 {
		t.Fatalf("len = %d, want 3", n)
	}
	clock.Advance(time.Minute)
	memHas(t, m, [][]byte{short, long, other}, []string{"", "long", ""}) // invisible at once
	deadline := time.Now().Add(5 * time.Second)
	for store.MemoryLen(m) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("len = %d 5 s after the expiry, want 1: the sweeper did not remove the expired sessions", store.MemoryLen(m))
		}
		time.Sleep(5 * time.Millisecond)
	}
	memHas(t, m, [][]byte{long}, []string{"long"})
	memList(t, m, long)
	if n, err := m.DeleteSID(t.Context(), "p", "sid-b"); n != 0 || err != nil {
		t.Errorf("DeleteSID of a swept session = (%d, %v), want (0, nil)", n, err)
	}
}

// waitSweepers waits until want goroutines run a memory store's sweeper
// (one just started may not be running yet, one just stopped may still be
// returning), and returns how many do.
func waitSweepers(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := sweepers()
		if n == want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(time.Millisecond)
	}
}

// sweepers counts the goroutines running a memory store's sweeper.
func sweepers() int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "store.(*Memory).sweepLoop(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func TestMemoryClose(t *testing.T) {
	before := sweepers()
	m := store.NewMemory(store.MemoryOptions{})
	if n := waitSweepers(before + 1); n != before+1 {
		t.Fatalf("%d sweepers after NewMemory, want %d", n, before+1)
	}
	for i := range 2 { // Close is idempotent
		if err := m.Close(); err != nil {
			t.Fatalf("Close #%d = %v", i+1, err)
		}
		if n := waitSweepers(before); n != before {
			t.Fatalf("%d sweepers after Close #%d, want %d", n, i+1, before)
		}
	}

	// The store still answers.
	ctx := t.Context()
	rec := store.Record{Data: []byte("after"), Expiry: time.Now().Add(time.Hour), Provider: "p", Subject: "alice"}
	tok, err := m.Save(ctx, nil, rec)
	if err != nil {
		t.Fatalf("Save after Close = %v", err)
	}
	if data, found, err := m.Load(ctx, tok); string(data) != "after" || !found || err != nil {
		t.Errorf("Load after Close = (%q, %v, %v)", data, found, err)
	}
	if err := m.Delete(ctx, tok); err != nil {
		t.Errorf("Delete after Close = %v", err)
	}
}

func TestMemorySaveRefuses(t *testing.T) {
	clock := newManualClock()
	m := newMemory(t, store.MemoryOptions{Now: clock.Now})
	tok := memSave(t, m, nil, memRec(clock, "alice", time.Hour))
	ok := memRec(clock, "x", time.Hour)
	with := func(f func(*store.Record)) store.Record { r := ok; f(&r); return r }

	for _, tc := range []struct {
		name     string
		token    []byte
		rec      store.Record
		notFound bool // ErrNotFound, else another error
	}{
		{"no provider", nil, with(func(r *store.Record) { r.Provider = "" }), false},
		{"no subject", nil, with(func(r *store.Record) { r.Subject = "" }), false},
		{"expired", nil, with(func(r *store.Record) { r.Expiry = clock.Now() }), false},
		{"update expired", tok, with(func(r *store.Record) { r.Expiry = clock.Now().Add(-time.Second) }), false},
		{"update as another user", tok, with(func(r *store.Record) { r.Subject = "mallory" }), true},
		{"update at another provider", tok, with(func(r *store.Record) { r.Provider = "q" }), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Save(context.Background(), tc.token, tc.rec)
			if got != nil || err == nil || errors.Is(err, store.ErrNotFound) != tc.notFound {
				t.Errorf("Save = (%q, %v), want an error (ErrNotFound: %v)", got, err, tc.notFound)
			}
		})
	}
	memHas(t, m, [][]byte{tok}, []string{"alice"}) // untouched
}
