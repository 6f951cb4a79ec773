package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/store"
)

func TestRedisWaitReplicas(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()

	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": srv.Addr()}, ContextTimeoutEnabled: true})
	defer ring.Close()
	for _, c := range []struct {
		name   string
		client redis.UniversalClient
		n      int
	}{{"negative", srv.Client(), -1}, {"a Ring", ring, 1}} {
		if _, err := store.NewRedis(c.client, store.RedisOptions{WaitReplicas: c.n}); err == nil {
			t.Errorf("WaitReplicas %d with %s accepted", c.n, c.name)
		}
	}

	rec := store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "alice", SID: "sid-1"}
	t.Run("no replica: fails closed", func(t *testing.T) {
		plain, err := store.NewRedis(srv.NewClient(t), store.RedisOptions{KeyPrefix: newPrefix()})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := plain.Save(ctx, nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		s, err := store.NewRedis(srv.NewClient(t), store.RedisOptions{KeyPrefix: newPrefix(), WaitReplicas: 1, Timeout: 400 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.Delete(ctx, tok); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "replicas") {
			t.Errorf("Delete without a replica: %v; want ErrUnavailable naming the replicas", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Delete took %v; want about Timeout/2", d)
		}
		if _, err := s.Save(ctx, nil, rec); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("a sign-in with a sid without a replica: %v; want ErrUnavailable (its pointer is not safe)", err)
		}
	})

	t.Run("no replica, short ReadTimeout: the count, not an i/o timeout", func(t *testing.T) {
		plain, err := store.NewRedis(srv.NewClient(t), store.RedisOptions{KeyPrefix: newPrefix()})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := plain.Save(ctx, nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		o := srv.Options()
		o.ReadTimeout = 200 * time.Millisecond
		client := redis.NewClient(o)
		defer client.Close()
		s, err := store.NewRedis(client, store.RedisOptions{KeyPrefix: newPrefix(), WaitReplicas: 1, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := s.Delete(ctx, tok); !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "replicas") {
			t.Errorf("Delete without a replica: %v; want ErrUnavailable naming the replicas", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Delete took %v; want about 3/4 of the ReadTimeout", d)
		}
	})

	t.Run("with a replica", func(t *testing.T) {
		replica := redistest.Start(t)
		if err := srv.Client().ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
			t.Fatal(err)
		}
		host, port, _ := strings.Cut(srv.Addr(), ":")
		if err := replica.Client().ReplicaOf(ctx, host, port).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Client().Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err() })
		// The master counts the replica (for WAIT) once it is online.
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(srv.Client().Info(ctx, "replication").Val(), "state=online"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the replica did not sync within 10 s")
			}
		}
		// "online" comes before the replica acknowledges writes (its first
		// acknowledgements may take a second on a busy machine): wait for
		// one, so that the store's first WAIT measures the store.
		probe := srv.NewClient(t).Conn()
		defer probe.Close()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if err := probe.Set(ctx, "replica-probe", "1", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if n, err := probe.Wait(ctx, 1, 100*time.Millisecond).Result(); err == nil && n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the replica acknowledged no write within 10 s")
			}
		}
		count := &redistest.Counter{}
		prefix := newPrefix()
		s, err := store.NewRedis(srv.NewClient(t, count), store.RedisOptions{KeyPrefix: prefix, WaitReplicas: 1})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Save(ctx, nil, rec)
		if err != nil {
			t.Fatalf("Save: %v", err)
		}
		// The pointer is on the replica the moment Save returns.
		if v := replica.Client().Get(ctx, prefix+"{"+sha1Hex("test\x00sid-1")+"}:sid").Val(); v != string(tok[:16]) {
			t.Errorf("the replica's sid pointer = %q; want %s", v, tok[:16])
		}
		count.Reset()
		if err := s.Delete(ctx, tok); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		// One round trip, on one connection of the client's own pool (not
		// a sticky Conn: see acked).
		if trips := count.Trips(); len(trips) != 1 || trips[0] != "pipeline(eval wait)" {
			t.Errorf("Delete sent %q; want one pipeline: the script, then WAIT", trips)
		}
		if n := replica.Client().Exists(ctx, prefix+"{"+string(tok[:16])+"}:s:"+string(tok[16:])).Val(); n != 0 {
			t.Error("the deleted session is still on the replica after Delete returned")
		}
	})
}
