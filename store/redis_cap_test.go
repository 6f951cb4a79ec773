package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/store"
)

// newCappedEnv is newRedisEnv with MaxSessionsPerUser set.
func newCappedEnv(t *testing.T, srv *redistest.Server, perUser int) *redisEnv {
	t.Helper()
	e := newRedisEnv(t, srv)
	s, err := store.NewRedis(srv.NewClient(t, e.count), store.RedisOptions{KeyPrefix: e.prefix, Now: e.clock.Now, MaxSessionsPerUser: perUser})
	if err != nil {
		t.Fatal(err)
	}
	e.store = s
	return e
}

func (e *redisEnv) listed(subject string) [][]byte {
	e.t.Helper()
	l, err := e.store.List(context.Background(), "test", subject)
	if err != nil {
		e.t.Fatalf("List: %v", err)
	}
	slices.SortFunc(l, bytes.Compare)
	return l
}

func sortedTokens(ts ...[]byte) [][]byte {
	out := slices.Clone(ts)
	slices.SortFunc(out, bytes.Compare)
	return out
}

func TestRedisSessionsPerUser(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()

	t.Run("options", func(t *testing.T) {
		if _, err := store.NewRedis(srv.Client(), store.RedisOptions{MaxSessionsPerUser: -1}); err == nil {
			t.Error("negative MaxSessionsPerUser accepted")
		}
		// The default is 100: the 101st session evicts the first.
		e := newRedisEnv(t, srv)
		var toks [][]byte
		for i := range store.DefaultMaxSessionsPerUser + 1 {
			toks = append(toks, e.save(nil, e.rec("alice", "", time.Hour+time.Duration(i)*time.Second)))
		}
		if e.found(toks[0]) || !e.found(toks[1]) || len(e.listed("alice")) != store.DefaultMaxSessionsPerUser {
			t.Errorf("default cap: first found %v, second found %v, %d listed; want the first evicted and %d listed",
				e.found(toks[0]), e.found(toks[1]), len(e.listed("alice")), store.DefaultMaxSessionsPerUser)
		}
	})

	t.Run("the session expiring soonest is evicted", func(t *testing.T) {
		e := newCappedEnv(t, srv, 3)
		// Expiries: a 1h, b 4h, c 2h (with a sid), d 3h.
		a := e.save(nil, e.rec("alice", "", time.Hour))
		b := e.save(nil, e.rec("alice", "sid-1", 4*time.Hour))
		c := e.save(nil, e.rec("alice", "sid-1", 2*time.Hour))
		bob := e.save(nil, e.rec("bob", "", time.Hour))
		if got := e.listed("alice"); !slices.EqualFunc(got, sortedTokens(a, b, c), bytes.Equal) {
			t.Fatalf("below the cap: List = %q", got)
		}
		e.count.Reset()
		d := e.save(nil, e.rec("alice", "", 3*time.Hour))
		if trips := e.count.RoundTrips(); trips != 2 {
			t.Errorf("a sign-in at the cap: %d round trips %q; want 2 (save, evict)", trips, e.count.Trips())
		}
		if e.found(a) {
			t.Error("the session expiring soonest survived the cap")
		}
		if got := e.listed("alice"); !slices.EqualFunc(got, sortedTokens(b, c, d), bytes.Equal) {
			t.Fatalf("at the cap: List = %q", got)
		}
		// Activity moves a session's expiry, and so its rank: c is now the
		// latest to expire, and d the soonest.
		e.save(c, e.rec("alice", "sid-1", 5*time.Hour))
		f := e.save(nil, e.rec("alice", "sid-2", 6*time.Hour))
		if e.found(d) || !e.found(b) || !e.found(c) || !e.found(f) {
			t.Errorf("after activity: d %v, b %v, c %v, f %v; want only d evicted", e.found(d), e.found(b), e.found(c), e.found(f))
		}
		// An evicted session with a sid leaves its provider session's
		// index too: DeleteSID counts only what is live.
		g := e.save(nil, e.rec("alice", "", 7*time.Hour)) // evicts b (sid-1)
		if e.found(b) {
			t.Fatal("b survived")
		}
		if n, err := e.store.DeleteSID(ctx, "test", "sid-1"); n != 1 || err != nil {
			t.Errorf("DeleteSID(sid-1) = %d, %v; want 1 (c)", n, err)
		}
		if got := e.listed("alice"); !slices.EqualFunc(got, sortedTokens(f, g), bytes.Equal) {
			t.Errorf("List = %q; want f and g", got)
		}
		if !e.found(bob) {
			t.Error("another user's session was evicted")
		}
		if n := e.admin.ZCard(ctx, e.prefix+"{"+string(a[:16])+"}:z").Val(); n != 2 {
			t.Errorf("index holds %d members; want 2", n)
		}
	})

	t.Run("expired entries are pruned at sign-in", func(t *testing.T) {
		e := newCappedEnv(t, srv, 1000)
		for range 50 {
			e.save(nil, e.rec("alice", "", time.Minute))
		}
		long := e.save(nil, e.rec("alice", "", time.Hour))
		e.clock.Advance(2 * time.Minute)
		// The 50 are expired on the store's clock (Redis still holds them).
		e.count.Reset()
		fresh := e.save(nil, e.rec("alice", "", time.Hour))
		if trips := e.count.RoundTrips(); trips != 1 {
			t.Errorf("sign-in: %d round trips; want 1", trips)
		}
		index := e.prefix + "{" + string(long[:16]) + "}:z"
		if n := e.admin.ZCard(ctx, index).Val(); n != 2 {
			t.Errorf("index holds %d members after the sign-in; want 2 (expired ones pruned)", n)
		}
		if got := e.listed("alice"); !slices.EqualFunc(got, sortedTokens(long, fresh), bytes.Equal) {
			t.Errorf("List = %q", got)
		}
	})

	t.Run("a conditional update recognises its own applied write", func(t *testing.T) {
		e := newRedisEnv(t, srv)
		tok := e.save(nil, e.rec("alice", "sid-1", time.Hour))
		// A client that runs each update script twice, as a retry after a
		// lost reply would: the second run finds the data already changed.
		twice := &twiceHook{}
		s, err := store.NewRedis(srv.NewClient(t, twice), store.RedisOptions{KeyPrefix: e.prefix, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		rec := e.rec("alice", "sid-1", 2*time.Hour)
		rec.IfMatch = []byte("data of alice")
		rec.Data = []byte("v2")
		if _, err := s.Save(ctx, tok, rec); err != nil {
			t.Fatalf("conditional update run twice: %v; want success", err)
		}
		if twice.runs == 0 {
			t.Fatal("the hook did not run the update twice")
		}
		if data, _, _ := e.store.Load(ctx, tok); string(data) != "v2" {
			t.Errorf("data = %q", data)
		}
		// Another writer's change is still a conflict.
		rec.Data = []byte("v3")
		if _, err := s.Save(ctx, tok, rec); !errors.Is(err, store.ErrConflict) {
			t.Errorf("conditional update on changed data: %v; want ErrConflict", err)
		}
	})
}

// twiceHook sends every update script (EVALSHA or EVAL with two keys and
// eight arguments: saveExisting) twice, keeping the second reply.
type twiceHook struct{ runs int }

func (h *twiceHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *twiceHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); (n == "evalsha" || n == "eval") && len(cmd.Args()) == 13 {
			if err := next(ctx, cmd); err != nil {
				return err
			}
			h.runs++
		}
		return next(ctx, cmd)
	}
}

func (h *twiceHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// BenchmarkRedisSignInOneUser measures a sign-in (a new session) of a user
// who already signed in many times: with the cap and pruning by score, its
// cost does not grow with them. It reports Redis's own time per sign-in
// (INFO commandstats) beside the wall time.
func BenchmarkRedisSignInOneUser(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	for _, before := range []int{100, 1000, 5000, 10000} {
		b.Run(fmt.Sprintf("earlier=%d", before), func(b *testing.B) {
			s, err := store.NewRedis(srv.Client(), store.RedisOptions{KeyPrefix: newPrefix()})
			if err != nil {
				b.Fatal(err)
			}
			rec := store.Record{Data: make([]byte, 200), Expiry: time.Now().Add(time.Hour), Provider: "test", Subject: "alice", SID: "sid"}
			for range before {
				if _, err := s.Save(ctx, nil, rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := srv.Client().ConfigResetStat(ctx).Err(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := s.Save(ctx, nil, rec); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(redisMicros(b, srv.Client())/float64(b.N), "redis-µs/op")
		})
	}
}

// redisMicros is the total time Redis spent in commands since the last
// CONFIG RESETSTAT, in µs.
func redisMicros(b *testing.B, c *redis.Client) float64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, line := range bytes.Split([]byte(info), []byte("\n")) {
		_, rest, ok := bytes.Cut(line, []byte("usec="))
		if !ok {
			continue
		}
		v, _, _ := bytes.Cut(rest, []byte(","))
		var us float64
		if _, err := fmt.Sscan(string(v), &us); err == nil {
			total += us
		}
	}
	return total
}
