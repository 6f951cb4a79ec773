package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1" // #nosec G505 -- the store names keys with SHA-1
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
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

// The Redis store against a real redis-server (internal/redistest): one
// server per top-level test, a fresh key prefix per subtest.

// fakeClock is a settable clock for the store.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// redisEnv is one store on a fresh prefix, with a client counting round
// trips and an unhooked admin client for inspection.
type redisEnv struct {
	t      *testing.T
	srv    *redistest.Server
	store  *store.Redis
	count  *redistest.Counter
	admin  *redis.Client
	prefix string
	clock  *fakeClock
}

func newPrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "t" + hex.EncodeToString(b[:]) + ":"
}

func newRedisEnv(t *testing.T, srv *redistest.Server) *redisEnv {
	t.Helper()
	e := &redisEnv{t: t, srv: srv, count: &redistest.Counter{}, admin: srv.Client(), prefix: newPrefix(),
		clock: &fakeClock{t: time.Now().Truncate(time.Second)}}
	s, err := store.NewRedis(srv.NewClient(t, e.count), store.RedisOptions{KeyPrefix: e.prefix, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.store = s
	return e
}

// keys returns every key under the env's prefix.
func (e *redisEnv) keys() []string {
	e.t.Helper()
	var all []string
	iter := e.admin.Scan(context.Background(), 0, e.prefix+"*", 100).Iterator()
	for iter.Next(context.Background()) {
		all = append(all, iter.Val())
	}
	if err := iter.Err(); err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(all)
	return all
}

func (e *redisEnv) save(token []byte, rec store.Record) []byte {
	e.t.Helper()
	tok, err := e.store.Save(context.Background(), token, rec)
	if err != nil {
		e.t.Fatalf("Save: %v", err)
	}
	return tok
}

func (e *redisEnv) found(token []byte) bool {
	e.t.Helper()
	_, ok, err := e.store.Load(context.Background(), token)
	if err != nil {
		e.t.Fatalf("Load: %v", err)
	}
	return ok
}

func (e *redisEnv) rec(subject, sid string, life time.Duration) store.Record {
	return store.Record{Data: []byte("data of " + subject), Expiry: e.clock.Now().Add(life), Provider: "test", Subject: subject, SID: sid}
}

// crc16 is Redis Cluster's key hash (CRC-16/XMODEM).
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// keySlot is CLUSTER KEYSLOT: the hash tag ({...}) if the key has a
// non-empty one, else the whole key.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return int(crc16([]byte(key)) % 16384)
}

func TestRedisKeySlotMatchesRedis(t *testing.T) {
	// Reference values from the Redis Cluster specification and redis-cli.
	for key, want := range map[string]int{"123456789": 12739, "foo": 12182, "{user1000}.following": 3443, "{user1000}.followers": 3443, "foo{}{bar}": 8363} {
		if got := keySlot(key); got != want {
			t.Errorf("keySlot(%q) = %d; want %d", key, got, want)
		}
	}
}

func TestRedisConstructors(t *testing.T) {
	if _, err := store.NewRedis(nil, store.RedisOptions{}); err == nil {
		t.Error("NewRedis(nil) accepted")
	}
	var typedNil *redis.Client
	if _, err := store.NewRedis(typedNil, store.RedisOptions{}); err == nil {
		t.Error("NewRedis((*redis.Client)(nil)) accepted")
	}
	plain := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer plain.Close()
	if _, err := store.NewRedis(plain, store.RedisOptions{}); err == nil || !strings.Contains(err.Error(), "ContextTimeoutEnabled") {
		t.Errorf("a client ignoring context deadlines: err = %v; want one naming ContextTimeoutEnabled", err)
	}
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	if _, err := store.NewRedis(cluster, store.RedisOptions{}); err == nil {
		t.Error("a cluster client ignoring context deadlines was accepted")
	}
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer good.Close()
	if _, err := store.NewRedis(good, store.RedisOptions{Timeout: -time.Second}); err == nil {
		t.Error("negative Timeout accepted")
	}
	if _, err := store.NewRedis(good, store.RedisOptions{}); err != nil {
		t.Errorf("NewRedis: %v", err)
	}
	goodCluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true})
	defer goodCluster.Close()
	if _, err := store.NewRedis(goodCluster, store.RedisOptions{}); err != nil {
		t.Errorf("NewRedis(cluster client): %v", err)
	}
	for _, u := range []string{"", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/notadb", "redis://127.0.0.1:6379/0?nosuchoption=1"} {
		if s, err := store.NewRedisURL(u, store.RedisOptions{}); err == nil {
			s.Close()
			t.Errorf("NewRedisURL(%q) accepted", u)
		}
	}
	s, err := store.NewRedisURL("redis://127.0.0.1:1/3", store.RedisOptions{})
	if err != nil {
		t.Fatalf("NewRedisURL: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()

	t.Run("token format and key layout", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		a1 := e.save(nil, e.rec("alice", "sid-1", time.Hour))
		a2 := e.save(nil, e.rec("alice", "", time.Hour))
		b1 := e.save(nil, e.rec("bob", "sid-9", time.Hour))

		sum := sha256.Sum256([]byte("test\x00alice"))
		tag := hex.EncodeToString(sum[:8])
		for _, tok := range [][]byte{a1, a2} {
			if len(tok) != 16+43 || string(tok[:16]) != tag {
				t.Fatalf("token %q: want the user's 16-hex-digit tag %s then 43 base64url characters", tok, tag)
			}
			raw, err := base64.RawURLEncoding.Strict().DecodeString(string(tok[16:]))
			if err != nil || len(raw) != 32 {
				t.Fatalf("token id %q is not 32 random bytes in base64url: %v", tok[16:], err)
			}
		}
		if bytes.Equal(a1, a2) || bytes.Equal(a1[16:], a2[16:]) {
			t.Fatal("two sessions got the same id")
		}
		if bytes.Equal(a1[:16], b1[:16]) {
			t.Fatal("two users got the same tag")
		}

		keys := e.keys()
		want := []string{
			e.prefix + "{" + sha1Hex("test\x00sid-1") + "}:sid",
			e.prefix + "{" + sha1Hex("test\x00sid-9") + "}:sid",
			e.prefix + "{" + tag + "}:s:" + string(a1[16:]),
			e.prefix + "{" + tag + "}:s:" + string(a2[16:]),
			e.prefix + "{" + tag + "}:z",
			e.prefix + "{" + string(b1[:16]) + "}:s:" + string(b1[16:]),
			e.prefix + "{" + string(b1[:16]) + "}:z",
		}
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Fatalf("keys:\n  %s\nwant:\n  %s", strings.Join(keys, "\n  "), strings.Join(want, "\n  "))
		}
		// Every key has a hash tag: a user's keys (sessions and index) share
		// one slot; a sid pointer is in its provider session's.
		slots := map[string]map[int]bool{}
		for _, k := range keys {
			i, j := strings.Index(k, "{"), strings.Index(k, "}")
			if i < 0 || j < i+2 {
				t.Fatalf("key %s has no hash tag", k)
			}
			owner := k[i : j+1]
			if slots[owner] == nil {
				slots[owner] = map[int]bool{}
			}
			slots[owner][keySlot(k)] = true
		}
		for owner, s := range slots {
			if len(s) != 1 {
				t.Errorf("keys of %s span hash slots %v", owner, s)
			}
		}
		if keySlot(want[2]) == keySlot(want[5]) {
			t.Log("note: alice and bob happen to share a slot")
		}

		// The session hash: data after an 8-byte expiry, and the index fields.
		h := e.admin.HGetAll(ctx, e.prefix+"{"+tag+"}:s:"+string(a1[16:])).Val()
		if h["p"] != "test" || h["u"] != "alice" || h["i"] != "sid-1" || !strings.HasSuffix(h["d"], "data of alice") || len(h["d"]) != 8+len("data of alice") ||
			h["m"] != string(a1[16:])+"."+sha1Hex("test\x00sid-1") || len(h["w"]) != 16 || h["pe"] == "" {
			t.Errorf("session hash = %q", h)
		}
		// The index: members scored by expiry (Unix ms on the store's clock).
		z := e.admin.ZRangeWithScores(ctx, e.prefix+"{"+tag+"}:z", 0, -1).Val()
		exp := float64(e.clock.Now().Add(time.Hour).UnixMilli())
		if len(z) != 2 || z[0].Score != exp || z[1].Score != exp ||
			!slices.ContainsFunc(z, func(m redis.Z) bool { return m.Member == string(a2[16:]) }) {
			t.Errorf("index = %v; want %s and %s scored %v", z, a1[16:], a2[16:], exp)
		}
	})

	t.Run("TTLs", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		// The store's clock is a year behind Redis's: TTLs are relative, so
		// they still equal the remaining lifetime.
		e.clock.Advance(-365 * 24 * time.Hour)
		short := e.save(nil, e.rec("alice", "sid-1", 10*time.Minute))
		checkTTL := func(key string, want time.Duration) {
			t.Helper()
			got := e.admin.PTTL(ctx, key).Val()
			if got < want-time.Second || got > want+time.Second {
				t.Errorf("PTTL %s = %v; want %v ± 1 s", key, got, want)
			}
		}
		tag, id := string(short[:16]), string(short[16:])
		sess, index := e.prefix+"{"+tag+"}:s:"+id, e.prefix+"{"+tag+"}:z"
		pointer := e.prefix + "{" + sha1Hex("test\x00sid-1") + "}:sid"
		checkTTL(sess, 10*time.Minute)
		checkTTL(index, 10*time.Minute)
		checkTTL(pointer, 20*time.Minute) // twice the session's: it outlives it

		// A longer session of the same user and provider session: the index
		// lives as long as the longest session, the pointer twice as long.
		long := e.save(nil, e.rec("alice", "sid-1", 2*time.Hour))
		checkTTL(sess, 10*time.Minute)
		checkTTL(e.prefix+"{"+tag+"}:s:"+string(long[16:]), 2*time.Hour)
		checkTTL(index, 2*time.Hour)
		checkTTL(pointer, 4*time.Hour)
		// Activity extends a session (an update): its key, the index when
		// it would expire first, and the sid pointer when the session would
		// outlive it.
		e.clock.Advance(5 * time.Minute)
		e.count.Reset()
		e.save(short, e.rec("alice", "sid-1", 3*time.Hour))
		checkTTL(sess, 3*time.Hour)
		checkTTL(index, 3*time.Hour)
		checkTTL(pointer, 6*time.Hour)
		// (The first run of a script on a server adds an EVAL after EVALSHA.)
		if trips := slices.DeleteFunc(e.count.Trips(), func(c string) bool { return c == "eval" }); len(trips) != 3 {
			t.Errorf("an update past the pointer's expiry: round trips %q; want update (refused), pointer, update", e.count.Trips())
		}
		// Within the pointer's life an update does not touch it.
		e.count.Reset()
		e.save(short, e.rec("alice", "sid-1", 4*time.Hour))
		if trips := e.count.Trips(); len(trips) != 1 {
			t.Errorf("an update within the pointer's life: round trips %q; want 1", trips)
		}
		checkTTL(pointer, 6*time.Hour)
		// A shorter update shortens the session, never the index.
		e.save(short, e.rec("alice", "sid-1", time.Minute))
		checkTTL(sess, time.Minute)
		checkTTL(index, 4*time.Hour)

		// No key is ever left without a TTL.
		for i := range 5 {
			e.save(nil, e.rec(fmt.Sprintf("user%d", i), fmt.Sprintf("sid%d", i%2), time.Duration(i+1)*time.Minute))
		}
		keys := e.keys()
		if len(keys) < 10 {
			t.Fatalf("only %d keys", len(keys))
		}
		for _, k := range keys {
			if ttl := e.admin.PTTL(ctx, k).Val(); ttl <= 0 {
				t.Errorf("key %s has PTTL %v; every key must expire", k, ttl)
			}
		}
	})

	t.Run("expiry follows the store clock", func(t *testing.T) {
		// Expiry has millisecond precision, rounded down.
		e := newRedisEnv(t, srv)
		tok := e.save(nil, e.rec("alice", "sid-1", time.Hour))
		other := e.save(nil, e.rec("alice", "sid-1", 2*time.Hour))
		e.clock.Advance(time.Hour - time.Nanosecond)
		if !e.found(tok) {
			t.Fatal("session gone before its expiry")
		}
		e.clock.Advance(time.Nanosecond)
		// The index no longer counts it, though Redis still has the key.
		if l, err := e.store.List(ctx, "test", "alice"); err != nil || len(l) != 1 || !bytes.Equal(l[0], other) {
			t.Errorf("List at the expiry = %q, %v; want only the other session", l, err)
		}
		if e.found(tok) {
			t.Fatal("session found at its expiry")
		}
		if n := e.admin.Exists(ctx, e.prefix+"{"+string(tok[:16])+"}:s:"+string(tok[16:])).Val(); n != 0 {
			t.Error("an expired session's key was left in Redis")
		}
		if _, err := e.store.Save(ctx, tok, e.rec("alice", "sid-1", time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update of an expired session: err = %v; want ErrNotFound", err)
		}
		if _, err := e.store.Save(ctx, nil, e.rec("alice", "", 0)); err == nil {
			t.Error("saving an already expired record succeeded")
		}
		// An update of a session expired by the clock, whose key Redis still
		// holds, never revives it.
		e.clock.Advance(time.Hour)
		if _, err := e.store.Save(ctx, other, e.rec("alice", "sid-1", time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update of a session expired on the clock: err = %v; want ErrNotFound", err)
		}
		if n, err := e.store.DeleteSID(ctx, "test", "sid-1"); n != 0 || err != nil {
			t.Errorf("DeleteSID counted %d expired sessions (%v); want 0", n, err)
		}
		if keys := e.keys(); len(keys) != 1 || !strings.HasSuffix(keys[0], "}:sid") {
			t.Errorf("keys after DeleteSID: %q; want the sid pointer only (it expires)", keys)
		}
	})

	t.Run("save, load, update, delete", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		rec := e.rec("alice", "", time.Hour)
		rec.Data = []byte("\x00binary\xffdata\r\n")
		tok := e.save(nil, rec)
		data, ok, err := e.store.Load(ctx, tok)
		if err != nil || !ok || !bytes.Equal(data, rec.Data) {
			t.Fatalf("Load = %q, %v, %v", data, ok, err)
		}
		rec.Data = []byte("v2")
		if got := e.save(tok, rec); !bytes.Equal(got, tok) {
			t.Errorf("an update changed the token")
		}
		if data, _, _ := e.store.Load(ctx, tok); string(data) != "v2" {
			t.Errorf("after update Load = %q", data)
		}
		// An update names the user in its token: another user's record is
		// refused.
		if _, err := e.store.Save(ctx, tok, e.rec("bob", "", time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update with another user's record: %v; want ErrNotFound", err)
		}
		for _, bad := range []store.Record{{Data: []byte("x"), Expiry: e.clock.Now().Add(time.Hour), Provider: "test"}, {Data: []byte("x"), Expiry: e.clock.Now().Add(time.Hour), Subject: "alice"}} {
			if _, err := e.store.Save(ctx, nil, bad); err == nil {
				t.Errorf("record %+v without provider or subject accepted", bad)
			}
		}
		if err := e.store.Delete(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if e.found(tok) {
			t.Fatal("found after Delete")
		}
		if err := e.store.Delete(ctx, tok); err != nil {
			t.Errorf("deleting an unknown token: %v", err)
		}
		// An update never recreates a deleted session.
		if _, err := e.store.Save(ctx, tok, rec); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("update after Delete: %v; want ErrNotFound", err)
		}
		if keys := e.keys(); len(keys) != 0 {
			t.Errorf("keys left after the only session was deleted: %q", keys)
		}
		// A well-formed token Redis never issued is unknown.
		forged := append([]byte(nil), tok...)
		forged[20] ^= 'A' ^ 'B'
		if e.found(forged) {
			t.Error("a forged token was found")
		}
	})

	t.Run("index: List, DeleteUser, DeleteSID", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		a1 := e.save(nil, e.rec("alice", "sid-1", time.Hour))
		a2 := e.save(nil, e.rec("alice", "sid-1", time.Hour))
		a3 := e.save(nil, e.rec("alice", "sid-2", time.Hour))
		a4 := e.save(nil, e.rec("alice", "", time.Hour))
		b1 := e.save(nil, e.rec("bob", "sid-9", time.Hour))
		list := func(subject string) [][]byte {
			l, err := e.store.List(ctx, "test", subject)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(l, bytes.Compare)
			return l
		}
		sorted := func(ts ...[]byte) [][]byte { slices.SortFunc(ts, bytes.Compare); return ts }
		if got := list("alice"); !slices.EqualFunc(got, sorted(a1, a2, a3, a4), bytes.Equal) {
			t.Fatalf("List(alice) = %q", got)
		}
		if err := e.store.Delete(ctx, a4); err != nil {
			t.Fatal(err)
		}
		if got := list("alice"); !slices.EqualFunc(got, sorted(a1, a2, a3), bytes.Equal) {
			t.Fatalf("List(alice) after Delete = %q", got)
		}
		if n, err := e.store.DeleteSID(ctx, "test", "sid-1"); err != nil || n != 2 {
			t.Fatalf("DeleteSID = %d, %v; want 2", n, err)
		}
		if !e.found(b1) {
			t.Error("DeleteSID ended another user's session")
		}
		for _, tok := range [][]byte{a1, a2} {
			if e.found(tok) {
				t.Error("a session of the deleted provider session survived")
			}
		}
		if !e.found(a3) {
			t.Error("DeleteSID ended a session of another provider session")
		}
		if n, err := e.store.DeleteSID(ctx, "test", "no-such-sid"); n != 0 || err != nil {
			t.Errorf("DeleteSID(unknown) = %d, %v", n, err)
		}
		if got := list("alice"); !slices.EqualFunc(got, [][]byte{a3}, bytes.Equal) {
			t.Fatalf("List(alice) after DeleteSID = %q", got)
		}
		if n, err := e.store.DeleteUser(ctx, "test", "alice"); n != 1 || err != nil {
			t.Fatalf("DeleteUser = %d, %v; want 1", n, err)
		}
		if e.found(a3) || len(list("alice")) != 0 {
			t.Fatal("alice still has sessions")
		}
		if n, err := e.store.DeleteUser(ctx, "test", "alice"); n != 0 || err != nil {
			t.Errorf("second DeleteUser = %d, %v", n, err)
		}
		// Only pointers (which expire) and bob's keys remain.
		for _, k := range e.keys() {
			if !strings.Contains(k, "{"+string(b1[:16])+"}") && !strings.HasSuffix(k, "}:sid") {
				t.Errorf("key %s left after alice's sessions were deleted", k)
			}
		}
	})

	t.Run("DeleteSID after activity outlived the first TTL", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		const first = time.Second
		tok := e.save(nil, e.rec("alice", "sid-1", first))
		// A key set after the session's, with the same TTL: once Redis has
		// expired it, the session's first TTL has passed on Redis's clock.
		canary := e.prefix + "canary"
		if err := e.admin.Set(ctx, canary, "1", first).Err(); err != nil {
			t.Fatal(err)
		}
		// Activity extends the session well past its first expiry.
		e.save(tok, e.rec("alice", "sid-1", time.Hour))
		// Every key of the session, the sid pointer included, now lives
		// about an hour.
		keys := slices.DeleteFunc(e.keys(), func(k string) bool { return k == canary })
		if len(keys) != 3 || !slices.ContainsFunc(keys, func(k string) bool { return strings.HasSuffix(k, "}:sid") }) {
			t.Fatalf("keys %q; want session, index and sid pointer", keys)
		}
		for _, k := range keys {
			if ttl, err := e.admin.PTTL(ctx, k).Result(); err != nil || ttl < 59*time.Minute {
				t.Errorf("PTTL %s = %v, %v; want about an hour after the activity", k, ttl, err)
			}
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			n, err := e.admin.Exists(ctx, canary).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the canary key did not expire within 10 s")
			}
		}
		if !e.found(tok) {
			t.Fatal("extended session lost")
		}
		if n, err := e.store.DeleteSID(ctx, "test", "sid-1"); n != 1 || err != nil {
			t.Fatalf("DeleteSID = %d, %v; want 1 (the sid pointer must live as long as the session)", n, err)
		}
		if e.found(tok) {
			t.Fatal("the session survived a back-channel logout")
		}
	})

	t.Run("malformed tokens never reach Redis", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		good := e.save(nil, e.rec("alice", "", time.Hour))
		bad := [][]byte{
			nil, {}, []byte("x"), good[:58], append(append([]byte(nil), good...), 'A'),
			[]byte(strings.Repeat("A", 59)),                                               // tag is not hex
			append([]byte("0123456789ABCDEF"), good[16:]...),                              // upper-case hex is not ours
			append(append([]byte(nil), good[:16]...), good[17:]...),                       // short id
			append(append([]byte(nil), good[:58]...), '+'),                                // not base64url
			append(append([]byte(nil), good[:58]...), 'B'),                                // non-canonical last character
			append(append([]byte(nil), good[:40]...), append([]byte{0}, good[41:]...)...), // NUL
			append(append([]byte(nil), good[:16]...), []byte("*:s:"+strings.Repeat("A", 39))...),
		}
		if good[58] == 'B' {
			bad[9][58] = 'C'
		}
		e.count.Reset()
		for _, tok := range bad {
			if _, ok, err := e.store.Load(ctx, tok); ok || err != nil {
				t.Errorf("Load(%q) = %v, %v", tok, ok, err)
			}
			if err := e.store.Delete(ctx, tok); err != nil {
				t.Errorf("Delete(%q) = %v", tok, err)
			}
			if len(tok) > 0 {
				if _, err := e.store.Save(ctx, tok, e.rec("alice", "", time.Hour)); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Save(%q) = %v; want ErrNotFound", tok, err)
				}
			}
		}
		if n := e.count.RoundTrips(); n != 0 {
			t.Errorf("malformed tokens caused %d Redis round trips: %q", n, e.count.Trips())
		}
		if !e.found(good) || e.count.RoundTrips() != 1 {
			t.Errorf("the control: a good token, found with %d round trips (want 1)", e.count.RoundTrips())
		}
	})

	t.Run("round trips", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		e.save(nil, e.rec("warm", "sid-w", time.Hour)) // scripts loaded, connection open
		for _, c := range []struct {
			name string
			op   func()
			want int
		}{
			{"Save new, no sid", func() { e.save(nil, e.rec("alice", "", time.Hour)) }, 1},
			{"Save new, with sid (pointer, then session)", func() { e.save(nil, e.rec("alice", "sid-1", time.Hour)) }, 2},
			{"Load", func() { e.found([]byte("0123456789abcdef" + strings.Repeat("A", 42) + "E")) }, 1},
		} {
			e.count.Reset()
			c.op()
			if n := e.count.RoundTrips(); n != c.want {
				t.Errorf("%s: %d round trips %q; want %d", c.name, n, e.count.Trips(), c.want)
			}
		}
		tok := e.save(nil, e.rec("bob", "sid-2", time.Hour))
		e.count.Reset()
		e.save(tok, e.rec("bob", "sid-2", 2*time.Hour))
		if n := e.count.RoundTrips(); n != 1 {
			t.Errorf("Save update with sid: %d round trips %q; want 1", n, e.count.Trips())
		}
	})

	t.Run("scripts reloaded after SCRIPT FLUSH", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		for _, sid := range []string{"", "sid-1"} {
			if err := e.admin.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			tok := e.save(nil, e.rec("alice", sid, time.Hour))
			if err := e.admin.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			e.save(tok, e.rec("alice", sid, time.Hour))
			if err := e.admin.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			if l, err := e.store.List(ctx, "test", "alice"); err != nil || len(l) == 0 {
				t.Fatalf("List = %q, %v", l, err)
			}
			if err := e.admin.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			if err := e.store.Delete(ctx, tok); err != nil || e.found(tok) {
				t.Fatalf("Delete: %v", err)
			}
		}
	})

	t.Run("concurrent saves and deletes stay consistent", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		var (
			mu     sync.Mutex
			issued [][]byte
			wg     sync.WaitGroup
			failed atomic.Bool
		)
		fail := func(format string, args ...any) {
			if failed.CompareAndSwap(false, true) {
				t.Errorf(format, args...)
			}
		}
		const writers, perWriter = 8, 25
		for w := range writers {
			wg.Go(func() {
				for i := range perWriter {
					sid := []string{"sid-a", "sid-b", ""}[(w+i)%3]
					tok, err := e.store.Save(ctx, nil, e.rec("alice", sid, time.Hour))
					if err != nil {
						fail("Save: %v", err)
						return
					}
					mu.Lock()
					issued = append(issued, tok)
					mu.Unlock()
					// Touch it, as RequireAuth would; it may be gone already.
					if _, err := e.store.Save(ctx, tok, e.rec("alice", sid, 2*time.Hour)); err != nil && !errors.Is(err, store.ErrNotFound) {
						fail("update: %v", err)
					}
				}
			})
		}
		for range 3 {
			wg.Go(func() {
				for i := range 40 {
					mu.Lock()
					var tok []byte
					if len(issued) > 0 {
						tok = issued[(i*7)%len(issued)]
					}
					mu.Unlock()
					if tok != nil {
						if err := e.store.Delete(ctx, tok); err != nil {
							fail("Delete: %v", err)
						}
					}
				}
			})
		}
		wg.Go(func() {
			for i := range 20 {
				var err error
				switch i % 4 {
				case 0:
					_, err = e.store.DeleteSID(ctx, "test", "sid-a")
				case 1:
					_, err = e.store.List(ctx, "test", "alice")
				case 2:
					_, err = e.store.DeleteSID(ctx, "test", "sid-b")
				case 3:
					if i == 19 {
						_, err = e.store.DeleteUser(ctx, "test", "alice")
					}
				}
				if err != nil {
					fail("index: %v", err)
				}
			}
		})
		wg.Wait()
		if t.Failed() {
			return
		}

		// List is exactly the set of tokens that still load.
		consistent := func(when string) [][]byte {
			t.Helper()
			var live [][]byte
			for _, tok := range issued {
				if e.found(tok) {
					live = append(live, tok)
				}
			}
			slices.SortFunc(live, bytes.Compare)
			listed, err := e.store.List(ctx, "test", "alice")
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(listed, bytes.Compare)
			if !slices.EqualFunc(live, listed, bytes.Equal) {
				t.Fatalf("%s: List has %d tokens, %d load", when, len(listed), len(live))
			}
			return live
		}
		live := consistent("after the race")
		t.Logf("%d sessions issued, %d live after concurrent deletes", len(issued), len(live))
		// Each provider session's set holds exactly its live sessions.
		liveA := 0
		for _, tok := range live {
			if h := e.admin.HGet(ctx, e.prefix+"{"+string(tok[:16])+"}:s:"+string(tok[16:]), "i").Val(); h == "sid-a" {
				liveA++
			}
		}
		if n, err := e.store.DeleteSID(ctx, "test", "sid-a"); err != nil || n != liveA {
			t.Fatalf("DeleteSID(sid-a) = %d, %v; want %d", n, err, liveA)
		}
		live = consistent("after DeleteSID")
		if n, err := e.store.DeleteUser(ctx, "test", "alice"); err != nil || n != len(live) {
			t.Fatalf("DeleteUser = %d, %v; want %d", n, err, len(live))
		}
		if live = consistent("after DeleteUser"); len(live) != 0 {
			t.Fatalf("%d sessions survived DeleteUser", len(live))
		}
		for _, k := range e.keys() {
			if !strings.HasSuffix(k, "}:sid") {
				t.Errorf("key %s left after DeleteUser", k)
			}
		}
	})

	t.Run("Close", func(t *testing.T) {
		s, err := store.NewRedisURL(srv.URL(), store.RedisOptions{KeyPrefix: newPrefix()})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Save(ctx, nil, store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Minute), Provider: "p", Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Load(ctx, tok); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Load after Close: %v; want ErrUnavailable", err)
		}
	})
}

// TestRedisConformance runs the conformance suite on a real server: once on
// an injected clock (the store decides expiry by its clock), once in real
// time (Redis's own TTLs). Stop and Start stop and restart the server.
func TestRedisConformance(t *testing.T) {
	srv := redistest.Start(t)
	runConformance(t, storetest.Harness{
		ServerSide: true,
		Stop:       func(t *testing.T) { srv.Stop(t) },
		Start:      func(t *testing.T) { srv.Start(t) },
	}, func(t *testing.T, now func() time.Time) store.Store {
		s, err := store.NewRedis(srv.NewClient(t), store.RedisOptions{KeyPrefix: newPrefix(), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestRedisDown: a stopped server and a restarted one.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	e := newRedisEnv(t, srv)
	ctx := context.Background()
	tok := e.save(nil, e.rec("alice", "sid-1", time.Hour))
	srv.Stop(t)

	start := time.Now()
	_, ok, err := e.store.Load(ctx, tok)
	if !errors.Is(err, store.ErrUnavailable) || ok {
		t.Fatalf("Load with Redis down = %v, %v; want ErrUnavailable", ok, err)
	}
	if _, err := e.store.Save(ctx, nil, e.rec("alice", "", time.Hour)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Save (new) = %v; want ErrUnavailable", err)
	}
	if _, err := e.store.Save(ctx, tok, e.rec("alice", "sid-1", time.Hour)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Save (update) = %v; want ErrUnavailable (never ErrNotFound: the session may exist)", err)
	}
	if err := e.store.Delete(ctx, tok); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Delete = %v; want ErrUnavailable", err)
	}
	if _, err := e.store.List(ctx, "test", "alice"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("List = %v", err)
	}
	if err := e.store.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping = %v; want ErrUnavailable", err)
	}
	if _, err := e.store.DeleteUser(ctx, "test", "alice"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("DeleteUser = %v", err)
	}
	if _, err := e.store.DeleteSID(ctx, "test", "sid-1"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("DeleteSID = %v", err)
	}
	if d := time.Since(start); d > 7*time.Second {
		t.Errorf("7 calls to a stopped server took %v", d)
	}

	srv.Start(t)
	// The client reconnects by itself; the data is gone (no persistence).
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, ok, err = e.store.Load(ctx, tok)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || ok {
		t.Fatalf("Load after restart = %v, %v; want not found, no error", ok, err)
	}
	tok = e.save(nil, e.rec("alice", "sid-1", time.Hour))
	if !e.found(tok) {
		t.Fatal("a session saved after the restart is not found")
	}
	if err := e.store.Ping(ctx); err != nil {
		t.Errorf("Ping after the restart: %v", err)
	}
}

// TestRedisTimeout: a server that accepts connections and never answers.
// Every call must fail with ErrUnavailable within Timeout (plus slack).
func TestRedisTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(io.Discard, c) }) // read, never answer
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})

	const timeout = 300 * time.Millisecond
	const slack = 700 * time.Millisecond
	client := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), ContextTimeoutEnabled: true})
	defer client.Close()
	s, err := store.NewRedis(client, store.RedisOptions{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok := []byte("0123456789abcdef" + strings.Repeat("A", 42) + "E")
	rec := store.Record{Data: []byte("x"), Expiry: time.Now().Add(time.Hour), Provider: "p", Subject: "s", SID: "sid"}
	for _, c := range []struct {
		name string
		op   func() error
	}{
		{"Load", func() error { _, _, err := s.Load(ctx, tok); return err }},
		{"Save new", func() error { _, err := s.Save(ctx, nil, rec); return err }},
		{"Save update", func() error { _, err := s.Save(ctx, []byte(hexTag("p", "s")+string(tok[16:])), rec); return err }},
		{"Delete", func() error { return s.Delete(ctx, tok) }},
		{"List", func() error { _, err := s.List(ctx, "p", "s"); return err }},
		{"DeleteUser", func() error { _, err := s.DeleteUser(ctx, "p", "s"); return err }},
		{"DeleteSID", func() error { _, err := s.DeleteSID(ctx, "p", "sid"); return err }},
		{"Ping", func() error { return s.Ping(ctx) }},
	} {
		start := time.Now()
		err := c.op()
		d := time.Since(start)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: err = %v; want ErrUnavailable", c.name, err)
		}
		if d > timeout+slack {
			t.Errorf("%s took %v; want at most Timeout %v + %v", c.name, d, timeout, slack)
		}
		t.Logf("%s: %v after %v", c.name, err, d.Round(time.Millisecond))
	}
	// The caller's own, shorter deadline wins.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := s.Load(short, tok); !errors.Is(err, store.ErrUnavailable) || time.Since(start) > 50*time.Millisecond+slack {
		t.Errorf("Load with a 50 ms context: %v after %v", err, time.Since(start))
	}
}

func hexTag(provider, subject string) string {
	sum := sha256.Sum256([]byte(provider + "\x00" + subject))
	return hex.EncodeToString(sum[:8])
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s)) // #nosec G401 -- key naming, as in the store
	return hex.EncodeToString(sum[:])
}
