package ttlset

import (
	"errors"
	"sync"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestClaimOnce(t *testing.T) {
	s := New[string, int](10)
	if ok, err := s.Claim("a", 1, t0.Add(time.Minute), t0); !ok || err != nil {
		t.Fatalf("first Claim = %v, %v; want true, nil", ok, err)
	}
	if ok, err := s.Claim("a", 2, t0.Add(time.Minute), t0.Add(59*time.Second)); ok || err != nil {
		t.Fatalf("second Claim before expiry = %v, %v; want false, nil", ok, err)
	}
	if v, ok := s.Get("a", t0); !ok || v != 1 {
		t.Fatalf("Get = %v, %v; want the first value 1", v, ok)
	}
	// Once expired, the key can be claimed again.
	if ok, err := s.Claim("a", 3, t0.Add(2*time.Minute), t0.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("Claim after expiry = %v, %v; want true, nil", ok, err)
	}
}

func TestFullNeverEvictsLiveEntries(t *testing.T) {
	const max = 100
	s := New[int, struct{}](max)
	for i := range max {
		if ok, err := s.Claim(i, struct{}{}, t0.Add(time.Hour), t0); !ok || err != nil {
			t.Fatalf("Claim(%d) = %v, %v", i, ok, err)
		}
	}
	// A flood of new keys is refused; every live entry stays.
	for i := max; i < 10*max; i++ {
		ok, err := s.Claim(i, struct{}{}, t0.Add(time.Hour), t0.Add(time.Minute))
		if ok || !errors.Is(err, ErrFull) {
			t.Fatalf("Claim(%d) on a full set = %v, %v; want false, ErrFull", i, ok, err)
		}
		if err := s.Put(i, struct{}{}, t0.Add(time.Hour), t0.Add(time.Minute)); !errors.Is(err, ErrFull) {
			t.Fatalf("Put(%d) on a full set = %v; want ErrFull", i, err)
		}
	}
	for i := range max {
		if ok, _ := s.Claim(i, struct{}{}, t0.Add(time.Hour), t0.Add(time.Minute)); ok {
			t.Fatalf("live key %d was forgotten to make room", i)
		}
	}
	if s.Len() != max {
		t.Fatalf("Len = %d, want %d", s.Len(), max)
	}
	// Replacing a present key is not refused.
	if err := s.Put(0, struct{}{}, t0.Add(2*time.Hour), t0); err != nil {
		t.Fatalf("Put of a present key on a full set: %v", err)
	}
}

func TestExpiredEntriesMakeRoom(t *testing.T) {
	s := New[int, int](3)
	_ = s.Put(1, 1, t0.Add(time.Second), t0)
	_ = s.Put(2, 2, t0.Add(3*time.Second), t0)
	_ = s.Put(3, 3, t0.Add(time.Hour), t0)
	// At t0+2s key 1 has expired: one new key fits, a second does not.
	now := t0.Add(2 * time.Second)
	if err := s.Put(4, 4, t0.Add(time.Hour), now); err != nil {
		t.Fatalf("Put after an expiry: %v", err)
	}
	if err := s.Put(5, 5, t0.Add(time.Hour), now); !errors.Is(err, ErrFull) {
		t.Fatalf("Put = %v, want ErrFull", err)
	}
	if _, ok := s.Get(2, now); !ok {
		t.Fatal("unexpired key 2 was dropped")
	}
	if _, ok := s.Get(1, now); ok {
		t.Fatal("expired key 1 still readable")
	}
}

func TestReplacedExpiryIsHonoured(t *testing.T) {
	s := New[string, int](2)
	_ = s.Put("k", 1, t0.Add(time.Second), t0)
	_ = s.Put("k", 2, t0.Add(time.Hour), t0) // extends: the first heap item is stale
	now := t0.Add(time.Minute)
	_ = s.Put("other", 0, t0.Add(time.Hour), now) // pops the stale item
	if v, ok := s.Get("k", now); !ok || v != 2 {
		t.Fatalf("Get(k) = %v, %v; the extended entry was dropped by its old expiry", v, ok)
	}
}

func TestUpdateMerges(t *testing.T) {
	s := New[string, int](4)
	maxOf := func(v int) func(int, bool) (int, time.Time, bool) {
		return func(old int, present bool) (int, time.Time, bool) {
			if present && old > v {
				v = old
			}
			return v, t0.Add(time.Hour), true
		}
	}
	_ = s.Update("k", t0, maxOf(5))
	_ = s.Update("k", t0, maxOf(3))
	if v, _ := s.Get("k", t0); v != 5 {
		t.Fatalf("merged value = %d, want 5", v)
	}
	// An expiry in the past deletes.
	_ = s.Update("k", t0, func(int, bool) (int, time.Time, bool) { return 0, t0, true })
	if s.Len() != 0 {
		t.Fatalf("Len = %d after writing an expired entry, want 0", s.Len())
	}
}

func TestHeapStaysBounded(t *testing.T) {
	s := New[int, int](10)
	for i := range 10_000 {
		_ = s.Put(i%10, i, t0.Add(time.Duration(i+1)*time.Hour), t0)
	}
	if got := len(s.h); got > 2*s.max+16 {
		t.Fatalf("heap holds %d items for %d keys", got, s.max)
	}
}

func TestConcurrentClaimsOneWinner(t *testing.T) {
	s := New[string, int](10)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 50 {
		wg.Go(func() {
			if ok, _ := s.Claim("k", 0, t0.Add(time.Hour), t0); ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent claims of one key won, want 1", wins)
	}
}

func BenchmarkClaimFull(b *testing.B) {
	s := New[int, struct{}](100_000)
	for i := range 100_000 {
		_, _ = s.Claim(i, struct{}{}, t0.Add(time.Hour), t0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_, _ = s.Claim(-i-1, struct{}{}, t0.Add(time.Hour), t0)
	}
}
