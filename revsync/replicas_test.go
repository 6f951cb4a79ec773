package revsync

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/redistest"
)

// TestWaitReplicasOptions: a negative count and a client type whose writes
// cannot be followed by WAIT are refused in New.
// SECURITY.md RS-8.
func TestWaitReplicasOptions(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer c.Close()
	if _, err := New(c, Options{WaitReplicas: -1}); err == nil {
		t.Error("New accepted a negative WaitReplicas")
	}
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true})
	defer ring.Close()
	if _, err := New(ring, Options{WaitReplicas: 1}); err == nil {
		t.Error("New accepted WaitReplicas with a Ring")
	}
	if _, err := New(c, Options{WaitReplicas: 1}); err != nil {
		t.Errorf("New refused WaitReplicas with a *redis.Client: %v", err)
	}
}

// TestWaitReplicasNoReplica: with no replica to acknowledge, Publish fails
// (ErrFewReplicas) within about half of Timeout, so that ginauth retries it
// rather than count it as safe.
// SECURITY.md RS-8.
func TestWaitReplicasNoReplica(t *testing.T) {
	srv := redistest.Start(t)
	s := newSync(t, srv, Options{KeyPrefix: "nr:", WaitReplicas: 1, Timeout: 400 * time.Millisecond})
	start := time.Now()
	err := s.Publish(context.Background(), []ginauth.Revocation{userRev("alice", time.Now())})
	if !errors.Is(err, ErrFewReplicas) {
		t.Errorf("Publish without a replica: %v; want ErrFewReplicas", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Publish took %v; want about Timeout/2", d)
	}
}

// TestWaitReplicasSentinelFailover: on Redis Sentinel, a revocation
// published with WaitReplicas 1 is on the replica when Publish returns, so
// after the master dies and the replica is promoted, an instance that
// starts then still loads it, and an instance running across the failover
// hears what is published on the new master. With the only replica
// promoted, a publish fails (ErrFewReplicas) instead of passing for safe.
// SECURITY.md RS-8.
func TestWaitReplicasSentinelFailover(t *testing.T) {
	st := redistest.StartSentinel(t)
	opts := Options{KeyPrefix: "sf:", WaitReplicas: 1, Timeout: 2 * time.Second}
	a, err := New(st.NewClient(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	replica := redis.NewClient(&redis.Options{Addr: st.Addrs()[1], ContextTimeoutEnabled: true})
	defer replica.Close()
	now := time.Now()
	var revs []ginauth.Revocation
	for _, sub := range []string{"alice", "bob", "carol"} {
		r := userRev(sub, now)
		revs = append(revs, r)
		if err := a.Publish(context.Background(), []ginauth.Revocation{r}); err != nil {
			t.Fatalf("Publish %s: %v", sub, err)
		}
		// On the replica the moment Publish returns.
		m, _ := encode(r)
		if err := replica.ZScore(context.Background(), a.setKey, m).Err(); err != nil {
			t.Errorf("the replica does not hold %s's revocation after Publish returned: %v", sub, err)
		}
	}

	ka := running(t, a) // an instance running across the failover

	old := st.KillMaster(t) // right after the last publish
	st.WaitPromoted(t, old, 30*time.Second)

	later, err := New(st.NewClient(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	k := running(t, later)
	for _, r := range revs {
		if _, ok := k.has(r); !ok {
			t.Errorf("an instance started after the failover did not load %s's revocation", r.Subject)
		}
	}

	// A's subscription follows the new master: a revocation published
	// there (without WaitReplicas: no replica is left) reaches it.
	plain, err := New(st.NewClient(t), Options{KeyPrefix: opts.KeyPrefix})
	if err != nil {
		t.Fatal(err)
	}
	erin := userRev("erin", time.Now())
	if err := plain.Publish(context.Background(), []ginauth.Revocation{erin}); err != nil {
		t.Fatalf("Publish after the failover: %v", err)
	}
	waitFor(t, 15*time.Second, "the instance running across the failover hears a revocation published after it", func() bool {
		_, ok := ka.has(erin)
		return ok
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err := later.Publish(ctx, []ginauth.Revocation{userRev("dave", time.Now())})
		if errors.Is(err, ErrFewReplicas) {
			break // the promoted master has no replica
		}
		if err == nil {
			t.Fatal("Publish with WaitReplicas 1 succeeded with no replica left")
		}
		if ctx.Err() != nil {
			t.Fatalf("Publish after the failover: %v; want ErrFewReplicas once the client follows the new master", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
