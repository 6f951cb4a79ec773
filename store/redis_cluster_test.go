package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
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

// The Redis store on a real Redis Cluster of three masters and three
// replicas (internal/redistest.StartCluster), with the client options
// docs/stores.md recommends (ClusterStateReloadInterval 2 s).

func newClusterStore(t *testing.T, c *redistest.Cluster, prefix string, now func() time.Time) *store.Redis {
	t.Helper()
	s, err := store.NewRedis(c.NewClient(nil), store.RedisOptions{KeyPrefix: prefix, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clusterSessions returns the ids of every session key of the user tag
// under prefix, found by SCAN on every master: the ground truth an index
// must match.
func clusterSessions(t *testing.T, cl *redis.ClusterClient, prefix, tag string) []string {
	t.Helper()
	var (
		mu  sync.Mutex
		ids []string
	)
	pattern := prefix + "{" + tag + "}:s:*"
	err := cl.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		iter := m.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			ids = append(ids, strings.TrimPrefix(iter.Val(), prefix+"{"+tag+"}:s:"))
			mu.Unlock()
		}
		return iter.Err()
	})
	if err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	return ids
}

// indexExact checks that List(subject) names exactly the sessions of the
// user that load: none missing (a session SignOutUser would leave alive),
// none extra.
func indexExact(t *testing.T, s *store.Redis, cl *redis.ClusterClient, prefix, subject string) int {
	t.Helper()
	ctx := context.Background()
	tag := hexTag("test", subject)
	var live [][]byte
	for _, id := range clusterSessions(t, cl, prefix, tag) {
		tok := []byte(tag + id)
		data, ok, err := s.Load(ctx, tok)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if ok {
			if !bytes.HasPrefix(data, []byte(subject+"#")) {
				t.Errorf("session %s of %s holds %q: another user's data", tok, subject, data)
			}
			live = append(live, tok)
		}
	}
	listed, err := s.List(ctx, "test", subject)
	if err != nil {
		t.Fatalf("List(%s): %v", subject, err)
	}
	live, listed = sortedTokens(live...), sortedTokens(listed...)
	if !slices.EqualFunc(live, listed, bytes.Equal) {
		t.Errorf("%s: %d live sessions, index lists %d:\n live   %q\n listed %q", subject, len(live), len(listed), live, listed)
	}
	return len(live)
}

func TestRedisCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	ctx := context.Background()

	runConformance(t, storetest.Harness{ServerSide: true}, func(t *testing.T, now func() time.Time) store.Store {
		return newClusterStore(t, c, newPrefix(), now)
	})

	t.Run("index, sid pointers and slots", func(t *testing.T) {
		prefix := newPrefix()
		clock := &fakeClock{t: time.Now()}
		s := newClusterStore(t, c, prefix, clock.Now)
		cl := c.NewClient(nil)
		rec := func(subject, sid string) store.Record {
			return store.Record{Data: []byte(subject + "#1"), Expiry: clock.Now().Add(time.Hour), Provider: "test", Subject: subject, SID: sid}
		}
		// Users (and provider sessions) spread over the three masters.
		users := make([]string, 12)
		toks := map[string][][]byte{}
		for i := range users {
			users[i] = fmt.Sprintf("user%d", i)
			for j := range 3 {
				tok, err := s.Save(ctx, nil, rec(users[i], fmt.Sprintf("sid-%d-%d", i, j%2)))
				if err != nil {
					t.Fatal(err)
				}
				toks[users[i]] = append(toks[users[i]], tok)
			}
		}
		masters := map[string]bool{}
		for _, u := range users {
			masters[c.MasterOf(t, keySlot("{"+hexTag("test", u)+"}")).Addr] = true
			if n := indexExact(t, s, cl, prefix, u); n != 3 {
				t.Errorf("%s has %d sessions; want 3", u, n)
			}
		}
		if len(masters) < 2 {
			t.Logf("note: the users landed on %d master(s) only", len(masters))
		}
		// Each script's keys share a slot: CLUSTER KEYSLOT agrees.
		for _, k := range []string{prefix + "{" + hexTag("test", "user0") + "}:z", prefix + "{" + sha1Hex("test\x00sid-0-0") + "}:sid"} {
			if got, want := int(cl.ClusterKeySlot(ctx, k).Val()), keySlot(k); got != want {
				t.Errorf("CLUSTER KEYSLOT %s = %d; keySlot says %d", k, got, want)
			}
		}
		// One HGET per request, on Cluster too.
		count := &redistest.Counter{}
		counted, err := store.NewRedis(c.NewClient(nil, count), store.RedisOptions{KeyPrefix: prefix, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if _, ok, err := counted.Load(ctx, toks[u][0]); !ok || err != nil {
				t.Fatalf("Load: %v, %v", ok, err)
			}
		}
		count.Reset()
		for _, u := range users {
			if _, ok, err := counted.Load(ctx, toks[u][1]); !ok || err != nil {
				t.Fatalf("Load: %v, %v", ok, err)
			}
		}
		if trips := count.Trips(); len(trips) != len(users) || slices.ContainsFunc(trips, func(c string) bool { return c != "hget" }) {
			t.Errorf("%d loads sent %q; want one HGET each", len(users), trips)
		}
		// SignOutUser and back-channel logout.
		if n, err := s.DeleteSID(ctx, "test", "sid-1-0"); n != 2 || err != nil {
			t.Errorf("DeleteSID = %d, %v; want 2", n, err)
		}
		if n := indexExact(t, s, cl, prefix, "user1"); n != 1 {
			t.Errorf("user1 has %d sessions after DeleteSID; want 1", n)
		}
		if n, err := s.DeleteUser(ctx, "test", "user2"); n != 3 || err != nil {
			t.Errorf("DeleteUser = %d, %v; want 3", n, err)
		}
		if n := indexExact(t, s, cl, prefix, "user2"); n != 0 {
			t.Errorf("user2 has %d sessions after DeleteUser", n)
		}
		for _, tok := range toks["user3"] {
			if err := s.Delete(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if n := indexExact(t, s, cl, prefix, "user3"); n != 0 {
			t.Errorf("user3 has %d sessions after Delete", n)
		}
		// Updates, conditional and not, and one past the sid pointer's life.
		tok := toks["user4"][0]
		r := rec("user4", "sid-4-0")
		r.Data, r.IfMatch = []byte("user4#2"), []byte("user4#1")
		if _, err := s.Save(ctx, tok, r); err != nil {
			t.Fatalf("conditional update: %v", err)
		}
		clock.Advance(30 * time.Minute)
		r = rec("user4", "sid-4-0")
		r.Expiry = clock.Now().Add(5 * time.Hour)
		if _, err := s.Save(ctx, tok, r); err != nil {
			t.Fatalf("update past the pointer: %v", err)
		}
		if ttl := cl.PTTL(ctx, prefix+"{"+sha1Hex("test\x00sid-4-0")+"}:sid").Val(); ttl < 9*time.Hour {
			t.Errorf("sid pointer PTTL %v; want about 10 h (twice the session's)", ttl)
		}
		// The capped index on Cluster: the evicted sessions' keys go too.
		capped, err := store.NewRedis(c.NewClient(nil), store.RedisOptions{KeyPrefix: prefix, Now: clock.Now, MaxSessionsPerUser: 2})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := capped.Save(ctx, nil, rec("user5", "")); err != nil {
				t.Fatal(err)
			}
		}
		if n := indexExact(t, s, cl, prefix, "user5"); n != 2 {
			t.Errorf("user5 has %d sessions; want the cap, 2", n)
		}
	})

	t.Run("refresh lock across two instances", func(t *testing.T) {
		prefix := newPrefix()
		a, b := newClusterStore(t, c, prefix, nil), newClusterStore(t, c, prefix, nil)
		tok, err := a.Save(ctx, nil, store.Record{Data: []byte("x#"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "x"})
		if err != nil {
			t.Fatal(err)
		}
		unlock, err := a.Lock(ctx, tok, 10*time.Second)
		if err != nil {
			t.Fatalf("Lock on A: %v", err)
		}
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if _, err := b.Lock(short, tok, 10*time.Second); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("Lock on B while A holds it: %v; want it to wait and time out", err)
		}
		got := make(chan time.Time, 1)
		go func() {
			if unlockB, err := b.Lock(ctx, tok, 10*time.Second); err == nil {
				got <- time.Now()
				unlockB()
			} else {
				t.Errorf("Lock on B: %v", err)
				close(got)
			}
		}()
		time.Sleep(100 * time.Millisecond)
		released := time.Now()
		unlock()
		select {
		case at, ok := <-got:
			if ok && at.Before(released) {
				t.Error("B got the lock before A released it")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("B did not get the lock within 5 s of A's release")
		}
	})

	t.Run("a slot mid-migration", func(t *testing.T) { testClusterMidMigration(t, c) })
	t.Run("reshard under load", func(t *testing.T) { testClusterReshard(t, c) })
	// Last: it kills a master.
	t.Run("failover under load", func(t *testing.T) { testClusterFailover(t, c) })
}

// load runs sign-ins, loads, updates and deletes for users until stop is
// closed, and checks every answer: an error must be ErrUnavailable (or
// ErrNotFound for an update of a session that is gone), and a loaded
// session must be its own user's.
type load struct {
	t      *testing.T
	s      *store.Redis
	users  []string
	sidOf  func(user string, i int) string
	keep   int // sessions each user keeps before deleting its oldest; default 3
	errs   atomic.Int64
	ops    atomic.Int64
	wrong  atomic.Int64
	failed func(user, op string, err error) // optional, per failed operation

	mu      sync.Mutex
	deleted [][]byte // sessions whose Delete succeeded
}

func (l *load) run(stop <-chan struct{}, wg *sync.WaitGroup) {
	for _, u := range l.users {
		wg.Go(func() {
			ctx := context.Background()
			var mine [][]byte
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				l.ops.Add(1)
				var err error
				op := "sign-in"
				switch {
				case i%4 == 0 || len(mine) == 0:
					var tok []byte
					tok, err = l.s.Save(ctx, nil, store.Record{Data: fmt.Appendf(nil, "%s#%d", u, i), Expiry: time.Now().Add(time.Hour),
						Provider: "test", Subject: u, SID: l.sidOf(u, i)})
					if err == nil {
						mine = append(mine, tok)
					}
				case i%4 == 1:
					op = "load"
					tok := mine[i%len(mine)]
					var data []byte
					var ok bool
					data, ok, err = l.s.Load(ctx, tok)
					if ok && !bytes.HasPrefix(data, []byte(u+"#")) {
						l.wrong.Add(1)
						l.t.Errorf("Load(%s) of %s = %q: another user's session", tok, u, data)
					}
				case i%4 == 2:
					op = "update"
					tok := mine[i%len(mine)]
					_, err = l.s.Save(ctx, tok, store.Record{Data: fmt.Appendf(nil, "%s#%d", u, i), Expiry: time.Now().Add(time.Hour),
						Provider: "test", Subject: u, SID: l.sidOf(u, i)})
					if errors.Is(err, store.ErrNotFound) {
						err = nil // deleted by this loop, or lost with a killed master
					}
				default:
					op = "delete"
					if len(mine) > max(l.keep, 3) {
						err = l.s.Delete(ctx, mine[0])
						if err == nil {
							l.mu.Lock()
							l.deleted = append(l.deleted, mine[0])
							l.mu.Unlock()
							mine = mine[1:]
						}
					}
				}
				if err != nil {
					l.errs.Add(1)
					if !errors.Is(err, store.ErrUnavailable) {
						l.t.Errorf("%s: %v; want an ErrUnavailable", u, err)
					}
					if l.failed != nil {
						l.failed(u, op, err)
					}
				}
			}
		})
	}
}

// usersIn returns n subjects whose hash slot is in [lo, hi].
func usersIn(n, lo, hi int, name string) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		u := fmt.Sprintf("%s%d", name, i)
		if slot := keySlot("{" + hexTag("test", u) + "}"); slot >= lo && slot <= hi {
			out = append(out, u)
		}
	}
	return out
}

func testClusterReshard(t *testing.T, c *redistest.Cluster) {
	prefix := newPrefix()
	s := newClusterStore(t, c, prefix, nil)
	cl := c.NewClient(nil)
	// redis-cli moves the source's lowest slots first: users in the first
	// half of the slots that move, and provider sessions anywhere.
	var from, to redistest.Node
	for _, n := range c.Nodes(t) {
		if n.Master && !n.Failed && len(n.Slots) > 0 {
			if from.ID == "" || n.Slots[0][0] < from.Slots[0][0] {
				from, to = n, from
			} else if to.ID == "" {
				to = n
			}
		}
	}
	const moved = 1500
	lo := from.Slots[0][0]
	users := usersIn(12, lo, lo+moved/2, "mover")
	// Each user has dozens of sessions: redis-cli migrates a slot's keys
	// ten at a time, so a user's keys are split between two nodes for a
	// while, which is when a script reading undeclared keys goes wrong.
	l := &load{t: t, s: s, users: users, keep: 40, sidOf: func(u string, i int) string { return fmt.Sprintf("sid-%s-%d", u, i%3) }}
	for _, u := range users {
		for i := range 30 {
			if _, err := s.Save(context.Background(), nil, store.Record{Data: fmt.Appendf(nil, "%s#pre", u), Expiry: time.Now().Add(time.Hour),
				Provider: "test", Subject: u, SID: l.sidOf(u, i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	l.run(stop, &wg)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	c.Reshard(t, from.ID, to.ID, moved)
	took := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	c.WaitOK(t, 10*time.Second)
	t.Logf("resharded %d slots (%s -> %s) in %v under load: %d operations, %d errors (all ErrUnavailable)",
		moved, from.Addr, to.Addr, took.Round(time.Millisecond), l.ops.Load(), l.errs.Load())
	for _, u := range users {
		if got := c.MasterOf(t, keySlot("{"+hexTag("test", u)+"}")); got.ID != to.ID {
			t.Errorf("%s's slot did not move (served by %s)", u, got.Addr)
		}
	}
	total := 0
	for _, u := range users {
		total += indexExact(t, s, cl, prefix, u)
	}
	t.Logf("after the reshard: %d live sessions, each index exact", total)
	// SignOutUser still ends every session of a moved user.
	for _, u := range users[:3] {
		if _, err := s.DeleteUser(context.Background(), "test", u); err != nil {
			t.Fatal(err)
		}
		if n := len(clusterSessions(t, cl, prefix, hexTag("test", u))); n != 0 {
			t.Errorf("%s: %d session keys left after DeleteUser", u, n)
		}
	}
}

func testClusterFailover(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	prefix := newPrefix()
	// Deletions and sid pointers wait for the replica: a failover loses
	// neither.
	s, err := store.NewRedis(c.NewClient(nil), store.RedisOptions{KeyPrefix: prefix, WaitReplicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.NewClient(nil)
	// For comparison: go-redis's default slot map reload interval (60 s).
	slow, err := store.NewRedis(c.NewClient(func(o *redis.ClusterOptions) { o.ClusterStateReloadInterval = 0 }), store.RedisOptions{KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.List(ctx, "test", "warm-up"); err != nil { // the slot map, loaded
		t.Fatal(err)
	}
	// The victim: the master of slot 0's shard. Users on it and elsewhere;
	// provider sessions whose pointers are on the victim, for users on
	// healthy shards.
	victim := c.MasterOf(t, 0)
	onVictim := func(slot int) bool {
		for _, r := range victim.Slots {
			if slot >= r[0] && slot <= r[1] {
				return true
			}
		}
		return false
	}
	var doomed, healthy []string
	for i := 0; len(doomed) < 4 || len(healthy) < 8; i++ {
		u := fmt.Sprintf("fo%d", i)
		if onVictim(keySlot("{" + hexTag("test", u) + "}")) {
			if len(doomed) < 4 {
				doomed = append(doomed, u)
			}
		} else if len(healthy) < 8 {
			healthy = append(healthy, u)
		}
	}
	// Provider session ids are per user (a pointer names one user).
	var victimSIDs []string
	for i := 0; len(victimSIDs) < 3*len(healthy); i++ {
		sid := fmt.Sprintf("vsid%d", i)
		if onVictim(keySlot("{" + sha1Hex("test\x00"+sid) + "}")) {
			victimSIDs = append(victimSIDs, sid)
		}
	}
	// Sessions deleted well before the kill must stay deleted after it.
	var deleted [][]byte
	for _, u := range append(slices.Clone(doomed), healthy...) {
		tok, err := s.Save(ctx, nil, store.Record{Data: []byte(u + "#old"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: u})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, tok); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, tok)
	}

	var (
		mu           sync.Mutex
		healthyFails []error
		killed       atomic.Bool
	)
	isHealthy := map[string]int{}
	for i, u := range healthy {
		isHealthy[u] = i + 1
	}
	l := &load{t: t, s: s, users: append(slices.Clone(doomed), healthy...),
		sidOf: func(u string, i int) string {
			if n := isHealthy[u]; n > 0 {
				return victimSIDs[3*(n-1)+i%3] // pointer on the victim
			}
			return ""
		},
		failed: func(u, op string, err error) {
			// A sign-in with a sid writes its pointer first: on the failed
			// shard, it fails. Nothing else of a healthy shard may.
			if isHealthy[u] > 0 && killed.Load() && op != "sign-in" {
				mu.Lock()
				healthyFails = append(healthyFails, fmt.Errorf("%s: %w", op, err))
				mu.Unlock()
			}
		}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	l.run(stop, &wg)
	time.Sleep(time.Second) // load, and replication, settle

	opsBefore := l.ops.Load()
	killed.Store(true)
	killedAt := time.Now()
	c.Kill(t, victim.Addr)
	promoted := c.WaitPromoted(t, 0, victim.Addr, 30*time.Second)
	promotedAt := time.Now()

	// Recovery: a user on the failed shard can sign in and load again.
	probe := func(st *store.Redis) error {
		tok, err := st.Save(ctx, nil, store.Record{Data: []byte(doomed[0] + "#probe"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: doomed[0]})
		if err != nil {
			return err
		}
		_, _, err = st.Load(ctx, tok)
		return err
	}
	var recovered time.Duration
	for {
		if err := probe(s); err == nil {
			recovered = time.Since(promotedAt)
			break
		}
		if time.Since(promotedAt) > 15*time.Second {
			t.Fatalf("the store did not recover within 15 s of the promotion")
		}
		time.Sleep(50 * time.Millisecond)
	}
	slowRecovered := "not within 8 s"
	for time.Since(promotedAt) < 8*time.Second {
		if err := probe(slow); err == nil {
			slowRecovered = time.Since(promotedAt).Round(time.Millisecond).String()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("with go-redis's default ClusterStateReloadInterval (60 s) the store recovered %s after the promotion", slowRecovered)
	close(stop)
	wg.Wait()
	t.Logf("killed %s; %s promoted %v later; the store recovered %v after the promotion; %d operations during the run, %d errors (all ErrUnavailable), %d by users on healthy shards",
		victim.Addr, promoted.Addr, promotedAt.Sub(killedAt).Round(time.Millisecond), recovered.Round(time.Millisecond),
		l.ops.Load()-opsBefore, l.errs.Load(), len(healthyFails))
	if recovered > 5*time.Second {
		t.Errorf("recovered %v after the promotion; want within 5 s (ClusterStateReloadInterval 2 s)", recovered)
	}
	// Sessions on healthy shards keep working while another shard fails
	// over, updates of sessions whose sid pointer is on that shard included.
	if len(healthyFails) > 0 {
		t.Errorf("%d operations of users on healthy shards failed during the failover, first: %v", len(healthyFails), healthyFails[0])
	}
	for _, tok := range deleted {
		if _, ok, err := s.Load(ctx, tok); ok || err != nil {
			t.Errorf("a session deleted before the failover: Load = %v, %v; want not found", ok, err)
		}
	}
	// No sign-out is undone by the failover, not even one acknowledged
	// just before the kill (WaitReplicas).
	for _, tok := range l.deleted {
		if _, ok, err := s.Load(ctx, tok); ok || err != nil {
			t.Errorf("a session deleted under load: Load = %v, %v; want not found", ok, err)
		}
	}
	t.Logf("%d sessions deleted under load, none back after the failover", len(l.deleted))
	// Every index is exact after the failover (writes the victim took
	// without replicating are lost, sessions and index entries together).
	c.WaitOK(t, 10*time.Second)
	for _, u := range l.users {
		indexExact(t, s, cl, prefix, u)
	}
	// Back-channel logout through pointers on the promoted replica.
	for _, sid := range victimSIDs {
		if _, err := s.DeleteSID(ctx, "test", sid); err != nil {
			t.Errorf("DeleteSID(%s) after the failover: %v", sid, err)
		}
	}
	for _, u := range healthy {
		for _, id := range clusterSessions(t, cl, prefix, hexTag("test", u)) {
			if i := cl.HGet(ctx, prefix+"{"+hexTag("test", u)+"}:s:"+id, "i").Val(); strings.HasPrefix(i, "vsid") {
				t.Errorf("%s: a session of provider session %s survived DeleteSID", u, i)
			}
		}
	}
}

// testClusterMidMigration holds a user's slot half-migrated, its index
// already on the target and some of its sessions still on the source,
// and checks that every operation either answers right or fails with
// ErrUnavailable (the cluster's TRYAGAIN): none drops a session from the
// index or lists too few.
func testClusterMidMigration(t *testing.T, c *redistest.Cluster) {
	ctx := context.Background()
	prefix := newPrefix()
	s := newClusterStore(t, c, prefix, nil)
	cl := c.NewClient(nil)
	const user = "migrant"
	tag := hexTag("test", user)
	slot := keySlot("{" + tag + "}")
	rec := func(sid string) store.Record {
		return store.Record{Data: []byte(user + "#1"), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: user, SID: sid}
	}
	var toks [][]byte
	for i := range 5 {
		tok, err := s.Save(ctx, nil, rec(fmt.Sprintf("sid-%d", i%2)))
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	src := c.MasterOf(t, slot)
	var dst redistest.Node
	for _, n := range c.Nodes(t) {
		if n.Master && !n.Failed && n.ID != src.ID && len(n.Slots) > 0 {
			dst = n
			break
		}
	}
	a, b := c.Admin(t, src.Addr), c.Admin(t, dst.Addr)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", src.ID).Err())
	must(a.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst.ID).Err())
	host, port, _ := strings.Cut(dst.Addr, ":")
	migrate := func(keys ...string) {
		t.Helper()
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(a.Do(ctx, args...).Err())
	}
	key := func(tok []byte) string { return prefix + "{" + tag + "}:s:" + string(tok[16:]) }
	// The index and two sessions move; three sessions stay behind.
	migrate(prefix+"{"+tag+"}:z", key(toks[0]), key(toks[1]))

	for i, tok := range toks {
		data, ok, err := s.Load(ctx, tok)
		if err != nil || !ok || string(data) != user+"#1" {
			t.Errorf("mid-migration Load(session %d) = %q, %v, %v; want it found", i, data, ok, err)
		}
	}
	if l, err := s.List(ctx, "test", user); err == nil && len(l) != len(toks) {
		t.Errorf("mid-migration List = %d sessions, no error; want %d or an error", len(l), len(toks))
	} else if err != nil && !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("mid-migration List: %v; want ErrUnavailable", err)
	} else {
		t.Logf("mid-migration List: %d sessions, %v", len(l), err)
	}
	fresh, err := s.Save(ctx, nil, rec("sid-0"))
	if err != nil && !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("mid-migration Save (new): %v; want success or ErrUnavailable", err)
	}
	t.Logf("mid-migration Save (new): %v", err)
	if fresh != nil {
		toks = append(toks, fresh)
	}
	r := rec("sid-1")
	r.Data = []byte(user + "#2")
	if _, err := s.Save(ctx, toks[3], r); err != nil && !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("mid-migration update: %v; want success or ErrUnavailable", err)
	}

	// Finish the migration: the rest of the slot's keys, then the slot.
	var rest []string
	for _, k := range a.ClusterGetKeysInSlot(ctx, slot, 1000).Val() {
		rest = append(rest, k)
	}
	if len(rest) > 0 {
		migrate(rest...)
	}
	for _, n := range c.Nodes(t) {
		if n.Master && !n.Failed {
			must(c.Admin(t, n.Addr).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dst.ID).Err())
		}
	}
	c.WaitOK(t, 10*time.Second)
	if n := indexExact(t, s, cl, prefix, user); n != len(toks) {
		t.Errorf("after the migration: %d live sessions; want %d", n, len(toks))
	}
	if n, err := s.DeleteSID(ctx, "test", "sid-0"); err != nil || n < 3 {
		t.Errorf("DeleteSID after the migration = %d, %v; want at least 3", n, err)
	}
}
