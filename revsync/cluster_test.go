package revsync

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/redistest"
)

// TestCluster: on a real Redis Cluster (three masters, three replicas),
// with sharded and with classic pub/sub, a revocation published through
// one cluster client reaches a Sync on another, and a late Sync loads it:
// the set, the epoch and the channel share one slot, so every script runs
// on one node.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a six-node Redis Cluster")
	}
	c := redistest.StartCluster(t)
	for _, sharded := range []bool{true, false} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			opts := Options{KeyPrefix: fmt.Sprintf("c%v:", sharded), ShardedPubSub: sharded}
			newOne := func() *Sync {
				s, err := New(c.NewClient(nil), opts)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			a, b := newOne(), newOne()
			running(t, a)
			kb := running(t, b)
			now := time.Now()
			for i := range 20 {
				r := userRev(fmt.Sprint("c", i), now)
				if err := a.Publish(context.Background(), []ginauth.Revocation{r}); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 2*time.Second, "delivery on the cluster", func() bool { _, ok := kb.has(r); return ok })
			}
			if kc := running(t, newOne()); kc.count() != 20 {
				t.Errorf("a late Sync loaded %d; want 20", kc.count())
			}
		})
	}

	// Failover of the master of the {revocations} slot: the sync notices,
	// re-subscribes on the promoted replica and is in step again; a
	// revocation published then reaches the other Sync.
	t.Run("failover", func(t *testing.T) {
		opts := Options{KeyPrefix: "f:", ShardedPubSub: true, Heartbeat: 200 * time.Millisecond, Timeout: 300 * time.Millisecond}
		newOne := func() *Sync {
			s, err := New(c.NewClient(nil), opts)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		a, b := newOne(), newOne()
		running(t, a)
		kb := running(t, b)
		before := userRev("before", time.Now())
		if err := a.Publish(context.Background(), []ginauth.Revocation{before}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 2*time.Second, "delivery before the failover", func() bool { _, ok := kb.has(before); return ok })
		nodes := c.Nodes(t)
		slot, err := c.Admin(t, nodes[0].Addr).ClusterKeySlot(context.Background(), a.setKey).Result()
		if err != nil {
			t.Fatal(err)
		}
		old := c.MasterOf(t, int(slot))
		_, syncs, _ := kb.state()
		killed := time.Now()
		c.Kill(t, old.Addr)
		waitFor(t, 2*time.Second, "Synced(false) after the kill", func() bool { in, _, _ := kb.state(); return !in })
		c.WaitPromoted(t, int(slot), old.Addr, 15*time.Second)
		waitFor(t, 15*time.Second, "back in step after the failover", func() bool { in, n, _ := kb.state(); return in && n > syncs })
		t.Logf("back in step %v after the master was killed", time.Since(killed))
		after := userRev("after", time.Now())
		waitFor(t, 10*time.Second, "a publication after the failover", func() bool {
			return a.Publish(context.Background(), []ginauth.Revocation{after}) == nil
		})
		waitFor(t, 2*time.Second, "delivery after the failover", func() bool { _, ok := kb.has(after); return ok })
	})
}
