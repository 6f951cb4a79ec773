package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/ginauth/ginauth/internal/redistest"
)

func TestCluster(t *testing.T) {
	start := time.Now()
	c := redistest.StartCluster(t)
	t.Logf("cluster of 6 up in %v", time.Since(start).Round(time.Millisecond))
	nodes := c.Nodes(t)
	masters, replicas := 0, 0
	for _, n := range nodes {
		if n.Master {
			masters++
		} else {
			replicas++
		}
	}
	if masters != 3 || replicas != 3 {
		t.Fatalf("%d masters, %d replicas; want 3 and 3: %+v", masters, replicas, nodes)
	}
	ctx := context.Background()
	cl := c.NewClient(nil)
	for _, k := range []string{"a", "b", "c", "{x}1", "{x}2"} {
		if err := cl.Set(ctx, k, "v", time.Minute).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	// Kill the master of "a"'s slot; its replica takes over.
	slot := int(cl.ClusterKeySlot(ctx, "a").Val())
	m := c.MasterOf(t, slot)
	killed := time.Now()
	c.Kill(t, m.Addr)
	c.WaitPromoted(t, slot, m.Addr, 20*time.Second)
	t.Logf("replica promoted %v after the kill", time.Since(killed).Round(time.Millisecond))
	// Resharding moves keys (written after the failover: replication is
	// asynchronous, so the last writes to a killed master may be lost).
	for _, k := range []string{"b", "c", "{x}1", "{x}2"} {
		if err := cl.Set(ctx, k, "v", time.Minute).Err(); err != nil {
			t.Fatalf("SET %s after the failover: %v", k, err)
		}
	}
	var from, to redistest.Node
	for _, n := range c.Nodes(t) {
		if n.Master && !n.Failed && len(n.Slots) > 0 {
			if from.ID == "" {
				from = n
			} else if to.ID == "" {
				to = n
			}
		}
	}
	c.Reshard(t, from.ID, to.ID, 100)
	c.WaitOK(t, 10*time.Second)
	for _, k := range []string{"b", "c", "{x}1", "{x}2"} {
		if err := cl.Get(ctx, k).Err(); err != nil {
			t.Errorf("GET %s after reshard: %v", k, err)
		}
	}
}
