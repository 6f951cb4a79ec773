package store_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
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

// The Redis store on Redis Sentinel (internal/redistest.StartSentinel: a
// master, one replica, one sentinel), through go-redis's FailoverClient.

// newSentinelStore returns a store on a new failover client of sen, with
// opts; the store (and so the client) is closed when t ends.
func newSentinelStore(t testing.TB, sen *redistest.Sentinel, opts store.RedisOptions) *store.Redis {
	t.Helper()
	s, err := store.NewRedis(redis.NewFailoverClient(sen.FailoverOptions()), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// SECURITY.md RC-6.
func TestRedisSentinel(t *testing.T) {
	sen := redistest.StartSentinel(t)
	ctx := context.Background()

	newStore := func(opts store.RedisOptions) func(t *testing.T, now func() time.Time) store.Store {
		return func(t *testing.T, now func() time.Time) store.Store {
			o := opts
			o.KeyPrefix, o.Now = newPrefix(), now
			return newSentinelStore(t, sen, o)
		}
	}
	runConformance(t, storetest.Harness{ServerSide: true}, newStore(store.RedisOptions{}))
	t.Run("conformance, WaitReplicas 1", func(t *testing.T) {
		storetest.Run(t, onClock(storetest.Harness{ServerSide: true}, &fakeClock{t: time.Now()}, newStore(store.RedisOptions{WaitReplicas: 1})))
	})

	// The near cache is refused on a failover client: see
	// TestRedisSentinelManualFailover and store/redis_near.go.
	t.Run("near cache refused", func(t *testing.T) {
		cl := redis.NewFailoverClient(sen.FailoverOptions())
		defer cl.Close()
		s, err := store.NewRedis(cl, store.RedisOptions{KeyPrefix: newPrefix(), NearCacheTTL: nearTTL})
		if err == nil || !strings.Contains(err.Error(), "NearCacheTTL does not work with a Sentinel client") {
			t.Errorf("NewRedis with NearCacheTTL on a failover client: %v; want the refusal", err)
		}
		if s != nil {
			t.Error("NewRedis returned a store with its error")
		}
		// The client works without it.
		s, err = store.NewRedis(cl, store.RedisOptions{KeyPrefix: newPrefix()})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})
}

// TestRedisSentinelFailover kills the master under load; the sentinel
// promotes the replica. Meanwhile every load of a live session returns it
// or fails with ErrUnavailable (never not found, never another session),
// through a plain store and one with WaitReplicas 1; after the promotion the store serves again within a bound; and
// what WaitReplicas acknowledged is still there.
// SECURITY.md RC-6.
func TestRedisSentinelFailover(t *testing.T) {
	sen := redistest.StartSentinel(t)
	ctx := context.Background()
	prefix := newPrefix()
	acked := newSentinelStore(t, sen, store.RedisOptions{KeyPrefix: prefix, WaitReplicas: 1})
	plain := newSentinelStore(t, sen, store.RedisOptions{KeyPrefix: prefix})

	// Sessions saved, then a sign-out acknowledged by the replica
	// (WaitReplicas): WAIT covers every write the master took before it,
	// so the saved sessions are on the replica too.
	type session struct {
		tok  []byte
		data string
	}
	var live []session
	for i := range 40 {
		u := fmt.Sprintf("pre%d", i)
		data := u + "#saved"
		tok, err := acked.Save(ctx, nil, store.Record{Data: []byte(data), Expiry: time.Now().Add(time.Hour),
			Provider: "test", Subject: u, SID: "sid-" + u})
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, session{tok, data})
	}
	var signedOut [][]byte
	for _, s := range live[:5] {
		if err := acked.Delete(ctx, s.tok); err != nil {
			t.Fatalf("acknowledged Delete before the kill: %v", err)
		}
		signedOut = append(signedOut, s.tok)
	}
	live = live[5:]
	// Readers: each live session, through both stores, all along.
	var (
		readerOps, readerErrs atomic.Int64
		mu                    sync.Mutex
		badReads              []string
	)
	readers := map[string]*store.Redis{"plain": plain, "WaitReplicas": acked}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for name, st := range readers {
		for part := range 4 {
			wg.Go(func() {
				for i := part; ; i += 4 {
					select {
					case <-stop:
						return
					default:
					}
					s := live[i%len(live)]
					data, ok, err := st.Load(ctx, s.tok)
					readerOps.Add(1)
					var bad string
					switch {
					case err != nil && !errors.Is(err, store.ErrUnavailable):
						bad = fmt.Sprintf("%s: Load: %v; want ErrUnavailable", name, err)
					case err != nil:
						readerErrs.Add(1)
					case !ok:
						bad = fmt.Sprintf("%s: Load of a live session: not found", name)
					case string(data) != s.data:
						bad = fmt.Sprintf("%s: Load = %q; want %q", name, data, s.data)
					}
					if bad != "" {
						mu.Lock()
						badReads = append(badReads, bad)
						mu.Unlock()
					}
				}
			})
		}
	}
	// Sign-ins, loads, updates and sign-outs through the WaitReplicas
	// store (see load).
	users := make([]string, 8)
	for i := range users {
		users[i] = fmt.Sprintf("busy%d", i)
	}
	l := &load{t: t, s: acked, users: users, sidOf: func(string, int) string { return "" }}
	l.run(stop, &wg)
	time.Sleep(500 * time.Millisecond) // load under way

	old := sen.Master()
	killedAt := time.Now()
	if got := sen.KillMaster(t); got != old {
		t.Fatalf("killed %s; the master was %s", got, old)
	}
	promoted := sen.WaitPromoted(t, old, 30*time.Second)
	promotedAt := time.Now()

	// Recovery, per store: a sign-in (Save) and its Load succeed again on
	// the plain store; a load of a session saved before the kill on the
	// WaitReplicas store.
	recoveries := map[string]time.Duration{}
	serveAgain := func(name string, try func() error) {
		t.Helper()
		for {
			err := try()
			if err == nil {
				recoveries[name] = time.Since(promotedAt)
				return
			}
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("%s after the kill: %v; want ErrUnavailable or success", name, err)
			}
			if time.Since(promotedAt) > 15*time.Second {
				t.Fatalf("%s: the store did not serve again within 15 s of the promotion: %v", name, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	loads := func(st *store.Redis, tok []byte, want string) func() error {
		return func() error {
			data, ok, err := st.Load(ctx, tok)
			switch {
			case err != nil:
				return err
			case !ok || string(data) != want:
				return fmt.Errorf("Load = %q, %v; want %q", data, ok, want)
			}
			return nil
		}
	}
	serveAgain("plain", func() error {
		tok, err := plain.Save(ctx, nil, store.Record{Data: []byte("probe"), Expiry: time.Now().Add(time.Hour),
			Provider: "test", Subject: "probe"})
		if err != nil {
			return err
		}
		return loads(plain, tok, "probe")()
	})
	serveAgain("WaitReplicas", loads(acked, live[0].tok, live[0].data))
	recovered := slices.Max(slices.Collect(maps.Values(recoveries)))
	time.Sleep(500 * time.Millisecond) // readers run on the new master a while
	close(stop)
	wg.Wait()
	t.Logf("killed %s; %s promoted %v later (down-after %v); the stores served again after the promotion: plain %v, WaitReplicas %v; readers: %d loads, %d ErrUnavailable; load: %d operations, %d errors",
		old, promoted, promotedAt.Sub(killedAt).Round(time.Millisecond), redistest.DownAfter,
		recoveries["plain"].Round(time.Millisecond), recoveries["WaitReplicas"].Round(time.Millisecond), readerOps.Load(), readerErrs.Load(), l.ops.Load(), l.errs.Load())
	if recovered > 5*time.Second {
		t.Errorf("served again %v after the promotion; want within 5 s", recovered)
	}
	for i, bad := range badReads {
		if i == 10 {
			t.Errorf("... and %d more", len(badReads)-10)
			break
		}
		t.Error(bad)
	}

	// What the replica acknowledged before the kill survives: the saved
	// sessions load, the signed-out ones stay out.
	for _, s := range live {
		if data, ok, err := acked.Load(ctx, s.tok); err != nil || !ok || string(data) != s.data {
			t.Errorf("a session saved before the kill: Load = %q, %v, %v; want %q", data, ok, err, s.data)
		}
	}
	for _, tok := range append(signedOut, l.deleted...) {
		if _, ok, err := acked.Load(ctx, tok); ok || err != nil {
			t.Errorf("a session signed out before the kill: Load = %v, %v; want not found", ok, err)
		}
	}
	t.Logf("%d sessions saved and %d signed out (acknowledged) before the kill, as they were after it",
		len(live), len(signedOut)+len(l.deleted))
	// No replica is left: WaitReplicas writes fail closed.
	if err := acked.Delete(ctx, live[0].tok); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Delete with WaitReplicas 1 and no replica left: %v; want ErrUnavailable", err)
	}

}

// TestRedisSentinelManualFailover: a failover while the old master stays
// up (SENTINEL FAILOVER; a partition that cuts the master off from the
// sentinels but not from the application is alike). The old master
// keeps answering as a master until the sentinel reconfigures it, some
// seconds later. A store made before the failover follows the new master;
// a sign-out acknowledged with WaitReplicas 1 is never lost on the old one.
//
// (The near cache did not follow: its caching connections stayed on the
// old master, and a session deleted on the new master loaded on B for
// 10 s, five times NearCacheTTL, until the sentinel reconfigured the old
// master. NewRedis refuses NearCacheTTL on a failover client since.)
// SECURITY.md RC-6.
func TestRedisSentinelManualFailover(t *testing.T) {
	sen := redistest.StartSentinel(t)
	ctx := context.Background()
	prefix := newPrefix()
	b := newSentinelStore(t, sen, store.RedisOptions{KeyPrefix: prefix})
	acked := newSentinelStore(t, sen, store.RedisOptions{KeyPrefix: prefix, WaitReplicas: 1})
	var toks [][]byte
	for i := range 2 {
		tok, err := acked.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour),
			Provider: "test", Subject: "u" + strconv.Itoa(i), SID: "sid" + strconv.Itoa(i)})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	for _, st := range []*store.Redis{b, acked} { // warm pools, on the old master
		for _, tok := range toks {
			if _, ok, err := st.Load(ctx, tok); !ok || err != nil {
				t.Fatalf("Load = %v, %v", ok, err)
			}
		}
	}
	sessionKey := func(tok []byte) string { return prefix + "{" + string(tok[:16]) + "}:s:" + string(tok[16:]) }
	exists := func(addr string, tok []byte) int64 {
		cl := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
		defer cl.Close()
		n, err := cl.Exists(ctx, sessionKey(tok)).Result()
		if err != nil {
			t.Fatalf("EXISTS on %s: %v", addr, err)
		}
		return n
	}

	old := sen.Failover(t)
	promoted := sen.WaitPromoted(t, old, 20*time.Second)
	promotedAt := time.Now()

	// A sign-out through the WaitReplicas store made before the failover:
	// it fails closed (the old master has no replica left, and the new one
	// none yet) until it succeeds on the new master.
	var tries, fails int
	for {
		tries++
		err := acked.Delete(ctx, toks[1])
		if err == nil {
			break
		}
		fails++
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Delete during the failover: %v; want ErrUnavailable or success", err)
		}
		if time.Since(promotedAt) > 30*time.Second {
			t.Fatalf("Delete with WaitReplicas 1 did not succeed within 30 s of the promotion: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ackedAfter := time.Since(promotedAt)
	if n := exists(promoted, toks[1]); n != 0 {
		t.Errorf("a sign-out acknowledged with WaitReplicas 1 is not on the new master %s: the session is still there", promoted)
	}

	// A, made after the promotion, deletes the other session on the new
	// master; B, made before, stops loading it.
	a := newSentinelStore(t, sen, store.RedisOptions{KeyPrefix: prefix})
	if err := a.Delete(ctx, toks[0]); err != nil {
		t.Fatalf("Delete on A: %v", err)
	}
	if n := exists(sen.Master(), toks[0]); n != 0 {
		t.Fatal("A's deletion did not reach the master")
	}
	followed := waitFor(t, 5*time.Second, func() bool {
		_, ok, err := b.Load(ctx, toks[0])
		if err != nil && !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Load on B: %v", err)
		}
		return err == nil && !ok
	})
	for _, st := range []*store.Redis{a, b, acked} {
		for _, tok := range toks {
			if _, ok, err := st.Load(ctx, tok); ok || err != nil {
				t.Errorf("a deleted session: Load = %v, %v; want not found", ok, err)
			}
		}
	}
	t.Logf("manual failover: %s promoted; the WaitReplicas sign-out succeeded %v after the promotion (%d of %d tries failed closed); B answered not found %v after A's deletion",
		promoted, ackedAfter.Round(time.Millisecond), fails, tries, followed.Round(time.Microsecond))
}
