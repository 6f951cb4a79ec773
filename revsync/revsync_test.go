package revsync

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/redistest"
)

// sink records what a Sync delivers.
type sink struct {
	mu         sync.Mutex
	revs       map[string]time.Time // encoded revocation -> first delivery
	synced     bool
	syncs      int // Synced(true) calls
	losses     int // Synced(false) calls
	republish  int
	changed    chan struct{}
	republishC chan struct{}
}

func newSink() *sink {
	return &sink{revs: map[string]time.Time{}, changed: make(chan struct{}, 1), republishC: make(chan struct{}, 8)}
}

func (k *sink) Revoke(r ginauth.Revocation) {
	m, _ := encode(r)
	k.mu.Lock()
	if _, ok := k.revs[m]; !ok {
		k.revs[m] = time.Now()
	}
	k.mu.Unlock()
	k.poke()
}

func (k *sink) Synced(in bool) {
	k.mu.Lock()
	k.synced = in
	if in {
		k.syncs++
	} else {
		k.losses++
	}
	k.mu.Unlock()
	k.poke()
}

func (k *sink) Republish() {
	k.mu.Lock()
	k.republish++
	k.mu.Unlock()
	k.republishC <- struct{}{}
}

func (k *sink) poke() {
	select {
	case k.changed <- struct{}{}:
	default:
	}
}

func (k *sink) has(r ginauth.Revocation) (time.Time, bool) {
	m, _ := encode(r)
	k.mu.Lock()
	defer k.mu.Unlock()
	at, ok := k.revs[m]
	return at, ok
}

func (k *sink) state() (synced bool, syncs, losses int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.synced, k.syncs, k.losses
}

func (k *sink) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.revs)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// running starts s.Run with a new sink and waits until it is in step; the
// test's cleanup stops it.
func running(t *testing.T, s *Sync) *sink {
	t.Helper()
	k := newSink()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, k) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run returned %v; want context.Canceled", err)
		}
	})
	waitFor(t, 5*time.Second, "first load", func() bool { s, _, _ := k.state(); return s })
	return k
}

func newSync(t *testing.T, srv *redistest.Server, opts Options) *Sync {
	t.Helper()
	s, err := New(srv.NewClient(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func userRev(sub string, now time.Time) ginauth.Revocation {
	return ginauth.Revocation{Kind: ginauth.RevokeUser, Provider: "p", Subject: sub, Before: now, Expires: now.Add(time.Hour)}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	var nilClient *redis.Client
	if _, err := New(nilClient, Options{}); err == nil {
		t.Error("New(nil *redis.Client) succeeded")
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := New(c, Options{}); err == nil {
		t.Error("New accepted a client without ContextTimeoutEnabled")
	}
	c2 := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer c2.Close()
	if _, err := New(c2, Options{Timeout: -1}); err == nil {
		t.Error("New accepted a negative Timeout")
	}
	if _, err := NewURL("http://nope", Options{}); err == nil {
		t.Error("NewURL accepted an http URL")
	}
}

// TestPublishReachesOthers: a revocation published by A reaches B (and A)
// through the channel, and an instance started later loads it. The
// propagation delay (Publish called -> delivered to B) is measured.
func TestPublishReachesOthers(t *testing.T) {
	srv := redistest.Start(t)
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			opts := Options{KeyPrefix: fmt.Sprintf("t%v:", sharded), ShardedPubSub: sharded}
			a, b := newSync(t, srv, opts), newSync(t, srv, opts)
			ka, kb := running(t, a), running(t, b)
			now := time.Now()
			var delays []time.Duration
			for i := range 200 {
				r := userRev(fmt.Sprint("u", i), now)
				start := time.Now()
				if err := a.Publish(context.Background(), []ginauth.Revocation{r}); err != nil {
					t.Fatal(err)
				}
				var at time.Time
				waitFor(t, 2*time.Second, "delivery to B", func() bool {
					var ok bool
					at, ok = kb.has(r)
					return ok
				})
				delays = append(delays, at.Sub(start))
			}
			slices.Sort(delays)
			t.Logf("publish -> delivered on B: p50 %v, p99 %v, max %v (%d revocations)",
				delays[len(delays)/2], delays[len(delays)*99/100], delays[len(delays)-1], len(delays))
			if ka.count() != 200 {
				t.Errorf("A's own sink holds %d; want 200 (it hears its own publications)", ka.count())
			}
			// Published again: a no-op (no second message, same set).
			if err := a.Publish(context.Background(), []ginauth.Revocation{userRev("u0", now)}); err != nil {
				t.Fatal(err)
			}
			if n := srv.Client().ZCard(context.Background(), a.setKey).Val(); n != 200 {
				t.Errorf("set holds %d; want 200", n)
			}
			// Started later: loads them all.
			kc := running(t, newSync(t, srv, opts))
			if kc.count() != 200 {
				t.Errorf("a late instance loaded %d; want 200", kc.count())
			}
		})
	}
}

// TestLoadPages: a load reads every live revocation across pages, with
// many equal scores (the cursor's case), and none that expired.
func TestLoadPages(t *testing.T) {
	srv := redistest.Start(t)
	s := newSync(t, srv, Options{})
	now := time.Now()
	var revs []ginauth.Revocation
	for i := range 2*loadPage + 17 {
		r := userRev(fmt.Sprint("u", i), now)
		if i%3 == 0 {
			r.Expires = now.Add(time.Minute + time.Duration(i)*time.Second) // distinct scores among equal ones
		}
		revs = append(revs, r)
	}
	for i := 0; i < len(revs); i += 500 {
		if err := s.Publish(context.Background(), revs[i:min(i+500, len(revs))]); err != nil {
			t.Fatal(err)
		}
	}
	expired := userRev("gone", now.Add(-2*time.Hour))
	if err := s.Publish(context.Background(), []ginauth.Revocation{expired}); err != nil {
		t.Fatal(err)
	}
	k := running(t, newSync(t, srv, Options{}))
	if k.count() != len(revs) {
		t.Errorf("loaded %d; want %d", k.count(), len(revs))
	}
	if _, ok := k.has(expired); ok {
		t.Error("an expired revocation was loaded")
	}
	ttl := srv.Client().PTTL(context.Background(), s.setKey).Val()
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("set TTL %v; want the latest expiry, about 1 h", ttl)
	}
}

// TestMaxEntries: more live revocations than MaxEntries are not loaded;
// every session created up to now is refused instead.
func TestMaxEntries(t *testing.T) {
	srv := redistest.Start(t)
	s := newSync(t, srv, Options{MaxEntries: 10})
	now := time.Now()
	var revs []ginauth.Revocation
	for i := range 11 {
		revs = append(revs, userRev(fmt.Sprint("u", i), now))
	}
	if err := s.Publish(context.Background(), revs); err != nil {
		t.Fatal(err)
	}
	k := running(t, newSync(t, srv, Options{MaxEntries: 10}))
	if k.count() != 1 {
		t.Fatalf("delivered %d; want one RevokeAll", k.count())
	}
	for m := range k.revs {
		if r, _ := decode(m); r.Kind != ginauth.RevokeAll || r.Before.Before(now) {
			t.Errorf("delivered %+v; want RevokeAll up to now", r)
		}
	}
}

// TestRedisRestart: a stopped Redis is noticed at once (Synced(false));
// when it is back (empty: no persistence) the instance re-subscribes,
// loads, is in step again and is asked to publish its list again.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	opts := Options{Heartbeat: 200 * time.Millisecond, Timeout: 300 * time.Millisecond}
	s := newSync(t, srv, opts)
	k := running(t, s)
	if err := s.Publish(context.Background(), []ginauth.Revocation{userRev("a", time.Now())}); err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)
	stopped := time.Now()
	waitFor(t, 2*time.Second, "Synced(false) after the stop", func() bool { in, _, _ := k.state(); return !in })
	t.Logf("loss noticed %v after the stop", time.Since(stopped))
	if err := s.Publish(context.Background(), []ginauth.Revocation{userRev("b", time.Now())}); err == nil {
		t.Error("Publish with Redis down succeeded")
	}
	srv.Start(t)
	started := time.Now()
	waitFor(t, 5*time.Second, "back in step", func() bool { in, _, _ := k.state(); return in })
	t.Logf("back in step %v after the restart", time.Since(started))
	select {
	case <-k.republishC:
	case <-time.After(2 * time.Second):
		t.Fatal("no Republish after Redis lost the set")
	}
	// A plain reconnection (same epoch) asks for nothing.
	if err := srv.Client().ClientKillByFilter(context.Background(), "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	_, syncs, _ := k.state()
	waitFor(t, 5*time.Second, "re-sync after a killed connection", func() bool { in, n, _ := k.state(); return in && n > syncs })
	select {
	case <-k.republishC:
		t.Error("Republish after a reconnection that lost nothing")
	case <-time.After(200 * time.Millisecond):
	}
}

// TestSilentRedis: a Redis that stops answering (CLIENT PAUSE) is noticed
// within Heartbeat + Timeout.
func TestSilentRedis(t *testing.T) {
	srv := redistest.Start(t)
	opts := Options{Heartbeat: 200 * time.Millisecond, Timeout: 300 * time.Millisecond}
	k := running(t, newSync(t, srv, opts))
	admin := srv.NewClient(t)
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "2000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, 1500*time.Millisecond, "Synced(false) while Redis sleeps", func() bool { in, _, _ := k.state(); return !in })
	if d := time.Since(start); d > opts.Heartbeat+opts.Timeout+200*time.Millisecond {
		t.Errorf("loss noticed after %v; want within Heartbeat + Timeout", d)
	}
	waitFor(t, 5*time.Second, "back in step after the sleep", func() bool { in, _, _ := k.state(); return in })
}

// TestRunStops: Run returns ctx's error promptly when ctx ends, also while
// Redis is unreachable.
func TestRunStops(t *testing.T) {
	srv := redistest.Start(t)
	s := newSync(t, srv, Options{})
	srv.Stop(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, newSink()) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return")
	}
}
