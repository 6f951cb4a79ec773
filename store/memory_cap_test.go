package store_test

import (
	"testing"
	"time"

	"github.com/ginauth/ginauth/store"
)

func TestMemorySessionsPerUser(t *testing.T) {
	clock := newManualClock()
	m := newMemory(t, store.MemoryOptions{MaxSessionsPerUser: 2, Now: clock.Now})
	a := memSave(t, m, nil, memRec(clock, "a", time.Hour))
	b := memSave(t, m, nil, memRec(clock, "b", 3*time.Hour))
	bob := memRec(clock, "bob", time.Minute)
	bob.Subject = "bob"
	other := memSave(t, m, nil, bob)
	c := memSave(t, m, nil, memRec(clock, "c", 2*time.Hour))
	// a expired soonest: evicted; bob's session is untouched.
	memHas(t, m, [][]byte{a, b, c, other}, []string{"", "b", "c", "bob"})
	memList(t, m, b, c)
	// Activity moves the order: b is extended, c now expires soonest.
	memSave(t, m, b, memRec(clock, "b2", 4*time.Hour))
	memSave(t, m, c, memRec(clock, "c2", 30*time.Minute))
	d := memSave(t, m, nil, memRec(clock, "d", time.Hour))
	memHas(t, m, [][]byte{b, c, d}, []string{"b2", "", "d"})
	memList(t, m, b, d)

	// The default is 100.
	def := newMemory(t, store.MemoryOptions{Now: clock.Now})
	var toks [][]byte
	for i := range store.DefaultMaxSessionsPerUser + 1 {
		toks = append(toks, memSave(t, def, nil, memRec(clock, "x", time.Hour+time.Duration(i)*time.Second)))
	}
	memHas(t, def, toks[:2], []string{"", "x"})
	if n := store.MemoryLen(def); n != store.DefaultMaxSessionsPerUser {
		t.Errorf("%d sessions held; want %d", n, store.DefaultMaxSessionsPerUser)
	}
}
