package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/ginauth/ginauth/internal/redistest"
)

func TestSentinel(t *testing.T) {
	start := time.Now()
	s := redistest.StartSentinel(t)
	t.Logf("master, replica and sentinel up in %v", time.Since(start).Round(time.Millisecond))
	addrs := s.Addrs()
	if got := s.Master(); got != addrs[0] {
		t.Fatalf("Master() = %q; want the first node %s", got, addrs[0])
	}
	ctx := context.Background()
	cl := s.NewClient(t)
	// A write the replica acknowledged survives the master's death.
	pipe := cl.Pipeline()
	pipe.Set(ctx, "k", "v1", time.Minute)
	wait := pipe.Do(ctx, "WAIT", 1, 1000)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("SET + WAIT: %v", err)
	}
	if n, _ := wait.Int64(); n != 1 {
		t.Fatalf("WAIT 1 = %d; want 1 (the replica)", n)
	}
	killed := time.Now()
	old := s.KillMaster(t)
	if old != addrs[0] {
		t.Fatalf("KillMaster killed %s; want %s", old, addrs[0])
	}
	promoted := s.WaitPromoted(t, old, 20*time.Second)
	t.Logf("replica %s promoted %v after the kill", promoted, time.Since(killed).Round(time.Millisecond))
	if promoted != addrs[1] {
		t.Fatalf("promoted %s; want the replica %s", promoted, addrs[1])
	}
	if got := s.Master(); got != promoted {
		t.Fatalf("Master() = %q after the failover; want %s", got, promoted)
	}
	// The failover client follows the sentinel to the new master.
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := cl.Get(ctx, "k").Result()
		if err == nil {
			if v != "v1" {
				t.Fatalf("GET k = %q after the failover; want v1", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET k after the failover: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cl.Set(ctx, "k", "v2", time.Minute).Err(); err != nil {
		t.Fatalf("SET on the new master: %v", err)
	}
	t.Logf("the client served again %v after the kill", time.Since(killed).Round(time.Millisecond))
}
