package store_test

import (
	"testing"
	"time"

	"github.com/ginauth/ginauth/store"
	"github.com/ginauth/ginauth/store/storetest"
)

// onClock returns base with New from newStore, whose stores run on clock
// (the store then decides expiry by it) or, with clock nil, in real time
// (Redis's own TTLs).
func onClock(base storetest.Harness, clock *fakeClock, newStore func(t *testing.T, now func() time.Time) store.Store) storetest.Harness {
	h := base
	var now func() time.Time
	if clock != nil {
		now = clock.Now
		h.Advance, h.Now = clock.Advance, clock.Now
	}
	h.New = func(t *testing.T) store.Store { return newStore(t, now) }
	return h
}

// runConformance runs the conformance suite on stores from newStore twice:
// on an injected clock, then in real time. base carries the rest of the
// harness (ServerSide, Stop, Start).
func runConformance(t *testing.T, base storetest.Harness, newStore func(t *testing.T, now func() time.Time) store.Store) {
	t.Run("conformance, injected clock", func(t *testing.T) {
		storetest.Run(t, onClock(base, &fakeClock{t: time.Now()}, newStore))
	})
	t.Run("conformance, real time", func(t *testing.T) {
		storetest.Run(t, onClock(base, nil, newStore))
	})
}
