package store_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/store"
	"github.com/ginauth/ginauth/store/storetest"
)

// The near cache (RedisOptions.NearCacheTTL) against a real redis-server.

const nearTTL = 2 * time.Second

// newNear returns a store with the near cache on srv, under prefix, closed
// when t ends.
func newNear(t testing.TB, srv *redistest.Server, prefix string, now func() time.Time) *store.Redis {
	t.Helper()
	s, err := store.NewRedis(redis.NewClient(srv.Options()),
		store.RedisOptions{KeyPrefix: prefix, Now: now, NearCacheTTL: nearTTL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// serverCalls returns how many times Redis ran cmd (INFO commandstats).
func serverCalls(t testing.TB, admin *redis.Client, cmd string) int {
	t.Helper()
	info, err := admin.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(info, "cmdstat_"+cmd+":calls=")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRedisNearCacheConformance(t *testing.T) {
	srv := redistest.Start(t)
	runConformance(t, storetest.Harness{
		ServerSide: true,
		Stop:       func(t *testing.T) { srv.Stop(t) },
		Start:      func(t *testing.T) { srv.Start(t) },
	}, func(t *testing.T, now func() time.Time) store.Store { return newNear(t, srv, newPrefix(), now) })
}

// SECURITY.md RC-7.
func TestRedisNearCacheOptions(t *testing.T) {
	ok := &redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}
	cases := []struct {
		name   string
		client func() redis.UniversalClient
		opts   store.RedisOptions
		want   string // in the error; "" for none
	}{
		{"off", func() redis.UniversalClient { return redis.NewClient(ok) }, store.RedisOptions{}, ""},
		{"on", func() redis.UniversalClient { return redis.NewClient(ok) }, store.RedisOptions{NearCacheTTL: time.Second}, ""},
		{"negative TTL", func() redis.UniversalClient { return redis.NewClient(ok) },
			store.RedisOptions{NearCacheTTL: -time.Second}, "negative NearCacheTTL"},
		{"TTL over a minute", func() redis.UniversalClient { return redis.NewClient(ok) },
			store.RedisOptions{NearCacheTTL: 2 * time.Minute}, "above one minute"},
		{"negative size", func() redis.UniversalClient { return redis.NewClient(ok) },
			store.RedisOptions{NearCacheTTL: time.Second, NearCacheSize: -1}, "negative NearCacheSize"},
		{"cluster", func() redis.UniversalClient {
			return redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true})
		}, store.RedisOptions{NearCacheTTL: time.Second}, ""},
		{"ring", func() redis.UniversalClient {
			return redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true})
		}, store.RedisOptions{NearCacheTTL: time.Second}, "needs a *redis.Client or *redis.ClusterClient"},
		{"sentinel failover client", func() redis.UniversalClient {
			return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster",
				SentinelAddrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true})
		}, store.RedisOptions{NearCacheTTL: time.Second}, "does not work with a Sentinel client"},
		{"sentinel failover client, no near cache", func() redis.UniversalClient {
			return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster",
				SentinelAddrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true})
		}, store.RedisOptions{}, ""},
		{"cluster with a credentials provider", func() redis.UniversalClient {
			return redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true,
				CredentialsProvider: func() (string, string) { return "u", "p" }})
		}, store.RedisOptions{NearCacheTTL: time.Second}, "credentials provider"},
		{"database 1", func() redis.UniversalClient {
			o := *ok
			o.DB = 1
			return redis.NewClient(&o)
		}, store.RedisOptions{NearCacheTTL: time.Second}, "database 0"},
		{"credentials provider", func() redis.UniversalClient {
			o := *ok
			o.CredentialsProvider = func() (string, string) { return "u", "p" }
			return redis.NewClient(&o)
		}, store.RedisOptions{NearCacheTTL: time.Second}, "credentials provider"},
		{"client with its own cache", func() redis.UniversalClient {
			o := *ok
			o.Protocol, o.ClientSideCacheConfig = 3, &redis.ClientSideCacheConfig{MaxEntries: 10}
			return redis.NewClient(&o)
		}, store.RedisOptions{}, "client-side caching on"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client := c.client()
			s, err := store.NewRedis(client, c.opts)
			if s != nil {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			} else {
				_ = client.Close()
			}
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("NewRedis: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("NewRedis: err = %v; want one containing %q", err, c.want)
			}
		})
	}
}

// TestRedisNearCacheNoRoundTrip: once loaded, a session loads again with no
// command reaching Redis, until it changes.
func TestRedisNearCacheNoRoundTrip(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	prefix := newPrefix()
	a, b := newNear(t, srv, prefix, nil), newNear(t, srv, prefix, nil)
	ctx := context.Background()
	rec := store.Record{Data: []byte("v1"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "alice"}
	tok, err := a.Save(ctx, nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	load := func(s *store.Redis) string {
		t.Helper()
		d, ok, err := s.Load(ctx, tok)
		if err != nil || !ok {
			t.Fatalf("Load = %v, %v", ok, err)
		}
		return string(d)
	}
	load(b) // fills b's cache
	before := serverCalls(t, admin, "hget")
	for range 100 {
		if got := load(b); got != "v1" {
			t.Fatalf("Load = %q; want v1", got)
		}
	}
	if n := serverCalls(t, admin, "hget") - before; n != 0 {
		t.Fatalf("100 loads of a cached session ran %d HGETs on Redis; want 0", n)
	}
	if st := b.NearCacheStats(); st.Hits < 100 || st.Entries < 1 {
		t.Errorf("NearCacheStats = %+v; want at least 100 hits and 1 entry", st)
	}

	// A changes it: B sees the change once the invalidation arrives.
	rec.Data, rec.IfMatch = []byte("v2"), []byte("v1")
	if _, err := a.Save(ctx, tok, rec); err != nil {
		t.Fatal(err)
	}
	if got := load(a); got != "v2" {
		t.Errorf("the writer's own Load right after its write = %q; want v2", got)
	}
	waitFor(t, nearTTL, func() bool { return load(b) == "v2" })
}

// waitFor polls cond until it holds, failing t after limit, and returns how
// long it took.
func waitFor(t testing.TB, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("not within %v", limit)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return time.Since(start)
}

// TestRedisNearCacheOwnWrites: the instance that writes or deletes a session
// never loads its cached copy from before, not even for a moment.
// SECURITY.md RC-7.
func TestRedisNearCacheOwnWrites(t *testing.T) {
	srv := redistest.Start(t)
	t.Run("default size", func(t *testing.T) { testNearOwnWrites(t, newNear(t, srv, newPrefix(), nil)) })
	t.Run("size 2", func(t *testing.T) {
		// More sessions written at once than the cache tracks one by one:
		// every load reads Redis for a while.
		s, err := store.NewRedis(redis.NewClient(srv.Options()),
			store.RedisOptions{KeyPrefix: newPrefix(), NearCacheTTL: nearTTL, NearCacheSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		testNearOwnWrites(t, s)
	})
}

func testNearOwnWrites(t *testing.T, s *store.Redis) {
	ctx := context.Background()
	for i := range 50 {
		rec := store.Record{Data: []byte("v1"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "u" + strconv.Itoa(i)}
		tok, err := s.Save(ctx, nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, ok, err := s.Load(ctx, tok); !ok || err != nil {
				t.Fatalf("Load = %v, %v", ok, err)
			}
		}
		rec.Data = []byte("v2")
		if _, err := s.Save(ctx, tok, rec); err != nil {
			t.Fatal(err)
		}
		if d, _, _ := s.Load(ctx, tok); string(d) != "v2" {
			t.Fatalf("Load right after Save = %q; want v2", d)
		}
		if err := s.Delete(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Load(ctx, tok); ok || err != nil {
			t.Fatalf("Load right after Delete = %v, %v; want not found", ok, err)
		}
	}
	// DeleteUser too.
	rec := store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "bob"}
	tok, err := s.Save(ctx, nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	s.Load(ctx, tok)
	s.Load(ctx, tok)
	if n, err := s.DeleteUser(ctx, "test", "bob"); n != 1 || err != nil {
		t.Fatalf("DeleteUser = %d, %v", n, err)
	}
	if _, ok, _ := s.Load(ctx, tok); ok {
		t.Fatal("Load right after DeleteUser found the session")
	}
}

// TestRedisNearCacheTouchConflict: B has a session cached when A writes it
// (a last-seen update); B's own conditional update over its stale copy is
// refused with ErrConflict, never applied, and B's next Load reads A's write
// at once.
func TestRedisNearCacheTouchConflict(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a, b := newNear(t, srv, prefix, nil), newNear(t, srv, prefix, nil)
	ctx := context.Background()
	for i := range 20 {
		rec := store.Record{Data: []byte("seen 0"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "u" + strconv.Itoa(i)}
		tok, err := a.Save(ctx, nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		b.Load(ctx, tok)
		stale, _, _ := b.Load(ctx, tok) // cached on B
		rec.Data, rec.IfMatch = []byte("seen by A"), []byte("seen 0")
		if _, err := a.Save(ctx, tok, rec); err != nil {
			t.Fatal(err)
		}
		rec.Data, rec.IfMatch = []byte("seen by B"), stale
		if _, err := b.Save(ctx, tok, rec); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("B's update over its stale copy: err = %v; want ErrConflict", err)
		}
		if d, ok, err := b.Load(ctx, tok); string(d) != "seen by A" || !ok || err != nil {
			t.Fatalf("B's Load after the conflict = %q, %v, %v; want A's write", d, ok, err)
		}
	}
}

// TestRedisNearCacheExpiry: a cached session never outlives its own expiry.
func TestRedisNearCacheExpiry(t *testing.T) {
	srv := redistest.Start(t)
	clock := &fakeClock{t: time.Now()}
	s := newNear(t, srv, newPrefix(), clock.Now)
	ctx := context.Background()
	tok, err := s.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: clock.Now().Add(time.Minute), Provider: "test", Subject: "a"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, ok, _ := s.Load(ctx, tok); !ok {
			t.Fatal("not found")
		}
	}
	clock.Advance(time.Minute)
	if _, ok, err := s.Load(ctx, tok); ok || err != nil {
		t.Fatalf("Load at the session's expiry = %v, %v; want not found", ok, err)
	}
}

// percentile returns the p-th percentile (0 to 100) of sorted ds.
func percentile(ds []time.Duration, p int) time.Duration {
	return ds[min(len(ds)-1, len(ds)*p/100)]
}

// TestRedisNearCacheInvalidation measures how long a session deleted on
// instance A still loads on instance B, which had it cached: 200 runs.
// Every one must be within NearCacheTTL (the documented bound); the
// figures are logged.
// SECURITY.md RC-7.
func TestRedisNearCacheInvalidation(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a, b := newNear(t, srv, prefix, nil), newNear(t, srv, prefix, nil)
	ctx := context.Background()
	const runs = 200
	delays := make([]time.Duration, 0, runs)
	for i := range runs {
		tok, err := a.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour),
			Provider: "test", Subject: "u" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		hits := b.NearCacheStats().Hits
		for range 2 {
			if _, ok, err := b.Load(ctx, tok); !ok || err != nil {
				t.Fatalf("Load on B = %v, %v", ok, err)
			}
		}
		if b.NearCacheStats().Hits == hits {
			t.Fatal("B's second Load was not served from its cache")
		}
		delays = append(delays, deleteReachesB(ctx, t, a, b, tok))
	}
	slices.Sort(delays)
	t.Logf("deletion on A to not-found on B, %d runs: p50 %v, p99 %v, max %v (bound %v)",
		runs, percentile(delays, 50), percentile(delays, 99), delays[len(delays)-1], nearTTL)
}

// TestRedisNearCacheConnectionKilled: Redis closes B's caching connections
// (CLIENT KILL), so invalidations for what B holds can no longer reach it;
// a session deleted afterwards must still stop loading on B within the
// bound: go-redis drops what a closed connection fetched.
// SECURITY.md RC-7.
func TestRedisNearCacheConnectionKilled(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	prefix := newPrefix()
	b := newNear(t, srv, prefix, nil)
	ctx := context.Background()
	var delays []time.Duration
	for i := range 20 {
		tok, err := b.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour),
			Provider: "test", Subject: "u" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, ok, err := b.Load(ctx, tok); !ok || err != nil {
				t.Fatalf("Load on B = %v, %v", ok, err)
			}
		}
		// Kill every tracking connection (only B's near cache tracks).
		killed, err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Int()
		if err != nil || killed == 0 {
			t.Fatalf("CLIENT KILL = %d, %v", killed, err)
		}
		// Delete behind B's back, with no connection left to tell it.
		key := prefix + "{" + string(tok[:16]) + "}:s:" + string(tok[16:])
		if err := admin.Del(ctx, key).Err(); err != nil {
			t.Fatal(err)
		}
		delays = append(delays, waitFor(t, nearTTL+time.Second, func() bool {
			_, ok, err := b.Load(ctx, tok)
			return err == nil && !ok
		}))
	}
	slices.Sort(delays)
	t.Logf("connection killed, then deleted: not found on B after p50 %v, max %v (bound %v)",
		percentile(delays, 50), delays[len(delays)-1], nearTTL)
	// The entries a closed connection fetched are dropped when go-redis
	// sees it closed (its drainer looks every 5 ms), not at the TTL: an
	// entry fetched just before the kill would otherwise live nearly 2 s.
	if max := delays[len(delays)-1]; max > nearTTL/4 {
		t.Errorf("a session deleted after B's connections were killed loaded on B for %v; want it flushed "+
			"with the connection, well before the TTL (%v)", max, nearTTL)
	}
}

// TestRedisNearCacheLock: the holder of a session's refresh lock reads what
// another instance stored, never its own cached copy.
func TestRedisNearCacheLock(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a, b := newNear(t, srv, prefix, nil), newNear(t, srv, prefix, nil)
	ctx := context.Background()
	rec := store.Record{Data: []byte("old tokens"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "a"}
	tok, err := a.Save(ctx, nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		b.Load(ctx, tok)
		b.Load(ctx, tok) // cached on B
		unlock, err := a.Lock(ctx, tok, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		want := []byte("new tokens " + strconv.Itoa(i))
		rec.Data = want
		if _, err := a.Save(ctx, tok, rec); err != nil {
			t.Fatal(err)
		}
		unlock()
		unlockB, err := b.Lock(ctx, tok, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		d, ok, err := b.Load(ctx, tok)
		unlockB()
		if err != nil || !ok || !bytes.Equal(d, want) {
			t.Fatalf("Load under the lock = %q, %v, %v; want %q", d, ok, err, want)
		}
	}
}

// TestRedisNearCacheDown: with Redis down, a cached session still fails
// closed once its connection is gone, never later than the bound.
// SECURITY.md RC-7.
func TestRedisNearCacheDown(t *testing.T) {
	srv := redistest.Start(t)
	s := newNear(t, srv, newPrefix(), nil)
	ctx := context.Background()
	tok, err := s.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "a"})
	if err != nil {
		t.Fatal(err)
	}
	s.Load(ctx, tok)
	s.Load(ctx, tok)
	srv.Stop(t)
	defer srv.Start(t)
	took := waitFor(t, nearTTL+time.Second, func() bool {
		_, _, err := s.Load(ctx, tok)
		return errors.Is(err, store.ErrUnavailable)
	})
	t.Logf("Redis stopped: Load fails closed (ErrUnavailable) %v later, that call's 1 s timeout included", took)
	if took > nearTTL {
		t.Errorf("a cached session loaded for %v with Redis down; bound %v", took, nearTTL)
	}
}

// BenchmarkRedisLoad is Load of a live session, without and with the near
// cache, on one redis-server in the same run; roundtrips/op counts the
// HGETs Redis ran per Load.
//
//	go test -run='^$' -bench=BenchmarkRedisLoad -count=5 ./store
func BenchmarkRedisLoad(b *testing.B) {
	srv := redistest.Start(b)
	admin := srv.Client()
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"redis", 0}, {"redis-nearcache", nearTTL}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := store.NewRedis(redis.NewClient(srv.Options()), store.RedisOptions{KeyPrefix: newPrefix(), NearCacheTTL: c.ttl})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			tok, err := s.Save(ctx, nil, store.Record{Data: bytes.Repeat([]byte("x"), 600), Expiry: time.Now().Add(time.Hour),
				Provider: "test", Subject: "alice"})
			if err != nil {
				b.Fatal(err)
			}
			before := serverCalls(b, admin, "hget")
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := s.Load(ctx, tok); !ok || err != nil {
					b.Fatalf("Load = %v, %v", ok, err)
				}
			}
			b.ReportMetric(float64(serverCalls(b, admin, "hget")-before)/float64(b.N), "roundtrips/op")
		})
	}
}

// freezeProxy forwards TCP connections to a Redis server until frozen;
// frozen, it keeps the connections open and drops every byte both ways,
// as a network that silently loses packets would.
type freezeProxy struct {
	ln     net.Listener
	target string
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startFreezeProxy(t *testing.T, target string) *freezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *freezeProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

func (p *freezeProxy) pipe(from, to net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *freezeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestRedisNearCacheLostInvalidation: the network between B's cache and
// Redis silently drops everything (connections stay open, so go-redis sees
// nothing closed); a session deleted meanwhile must stop loading on B at
// most NearCacheTTL after B read it, the hard bound, and B then fails
// closed.
// SECURITY.md RC-7.
func TestRedisNearCacheLostInvalidation(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	proxy := startFreezeProxy(t, srv.Addr())
	const ttl = time.Second
	o := srv.Options()
	o.Dialer = func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", proxy.ln.Addr().String())
	}
	o.ReadTimeout, o.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	prefix := newPrefix()
	b, err := store.NewRedis(redis.NewClient(o), store.RedisOptions{KeyPrefix: prefix, NearCacheTTL: ttl,
		Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	tok, err := b.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.Load(ctx, tok); !ok || err != nil { // the miss: read from Redis, cached
		t.Fatalf("Load = %v, %v", ok, err)
	}
	fetched := time.Now() // no earlier than when the cache took the reply
	proxy.frozen.Store(true)
	key := prefix + "{" + string(tok[:16]) + "}:s:" + string(tok[16:])
	if err := admin.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	var lastFound time.Time
	stale := 0
	for time.Since(fetched) < ttl+500*time.Millisecond {
		began := time.Now() // the cache answered at or after this
		if _, ok, _ := b.Load(ctx, tok); ok {
			lastFound, stale = began, stale+1
		}
		time.Sleep(time.Millisecond)
	}
	if stale == 0 {
		t.Fatal("the deleted session never loaded on B: the invalidation was not lost, so this tests nothing")
	}
	t.Logf("invalidation lost: B loaded the deleted session %d times, the last %v after reading it (bound %v)",
		stale, lastFound.Sub(fetched), ttl)
	if lastFound.Sub(fetched) > ttl {
		t.Errorf("B loaded the deleted session %v after reading it from Redis; bound %v", lastFound.Sub(fetched), ttl)
	}
	if _, _, err := b.Load(ctx, tok); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Load past the bound with the network dropping everything: err = %v; want ErrUnavailable", err)
	}
}

// deleteReachesB deletes tok through a and returns how long until b, whose
// near cache holds it, stops loading it; beyond nearTTL it fails t.
func deleteReachesB(ctx context.Context, t *testing.T, a, b *store.Redis, tok []byte) time.Duration {
	t.Helper()
	if err := a.Delete(ctx, tok); err != nil {
		t.Fatal(err)
	}
	return waitFor(t, nearTTL, func() bool {
		_, ok, err := b.Load(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		return !ok
	})
}
