package store_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/store"
	"github.com/ginauth/ginauth/store/storetest"
)

// The near cache on a real Redis Cluster of three masters and three
// replicas: one caching client per master.

func newNearCluster(t testing.TB, c *redistest.Cluster, prefix string, now func() time.Time) *store.Redis {
	t.Helper()
	s, err := store.NewRedis(c.NewClient(nil), store.RedisOptions{KeyPrefix: prefix, Now: now, NearCacheTTL: nearTTL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// SECURITY.md RC-7.
func TestRedisNearCacheCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	ctx := context.Background()

	runConformance(t, storetest.Harness{ServerSide: true}, func(t *testing.T, now func() time.Time) store.Store {
		return newNearCluster(t, c, newPrefix(), now)
	})

	// Sessions of 60 users (spread over the three masters): cached on B,
	// deleted on A, not found on B within the bound; and no round trip
	// while cached.
	t.Run("invalidation across instances", func(t *testing.T) {
		prefix := newPrefix()
		a, b := newNearCluster(t, c, prefix, nil), newNearCluster(t, c, prefix, nil)
		var delays []time.Duration
		for i := range 60 {
			tok, err := a.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour),
				Provider: "test", Subject: "u" + strconv.Itoa(i)})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, ok, err := b.Load(ctx, tok); !ok || err != nil {
					t.Fatalf("Load on B = %v, %v", ok, err)
				}
			}
			hits := b.NearCacheStats().Hits
			for range 10 {
				b.Load(ctx, tok)
			}
			if got := b.NearCacheStats().Hits - hits; got != 10 {
				t.Fatalf("10 loads of a cached session: %d cache hits; want 10", got)
			}
			delays = append(delays, deleteReachesB(ctx, t, a, b, tok))
		}
		slices.Sort(delays)
		t.Logf("cluster: deletion on A to not-found on B, %d runs: p50 %v, p99 %v, max %v (bound %v)",
			len(delays), percentile(delays, 50), percentile(delays, 99), delays[len(delays)-1], nearTTL)
	})

	// A session cached on B; its master is killed and its replica takes
	// over; A deletes the session on the new master. B never loads it once
	// the deletion is acknowledged plus the bound, and loads fail closed
	// (ErrUnavailable) or answer right meanwhile.
	t.Run("failover", func(t *testing.T) {
		prefix := newPrefix()
		a, b := newNearCluster(t, c, prefix, nil), newNearCluster(t, c, prefix, nil)
		tok, err := a.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour),
			Provider: "test", Subject: "failover"})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, ok, err := b.Load(ctx, tok); !ok || err != nil {
				t.Fatalf("Load on B = %v, %v", ok, err)
			}
		}
		slot := keySlot(prefix + "{" + string(tok[:16]) + "}:s:")
		old := c.MasterOf(t, slot)
		c.Kill(t, old.Addr)
		c.WaitPromoted(t, slot, old.Addr, 20*time.Second)
		// The replica may have taken over without the session (asynchronous
		// replication): the deletion then has nothing to do, which is fine.
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := a.Delete(ctx, tok)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Delete after the promotion: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		deleted := time.Now()
		took := waitFor(t, 10*time.Second, func() bool {
			_, ok, err := b.Load(ctx, tok)
			return err == nil && !ok
		})
		t.Logf("cluster failover: B answers not found %v after the deletion on the new master", took)
		if took > nearTTL {
			t.Errorf("B loaded the deleted session for %v after the deletion; bound %v", took, nearTTL)
		}
		for time.Since(deleted) < nearTTL+500*time.Millisecond {
			if _, ok, _ := b.Load(ctx, tok); ok {
				t.Fatal("B loaded the deleted session again")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
