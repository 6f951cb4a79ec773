package ginauth_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/store"
)

// BenchmarkRequireAuthRedisNearCache compares, in one run on one
// redis-server, the Redis store's hot path (one HGET per request) with the
// same store with its near cache on (store.RedisOptions.NearCacheTTL: no
// round trip while the session is unchanged), beside bare Gin. Each Redis
// sub-benchmark reports roundtrips/op: the commands Redis ran during the
// loop (INFO commandstats, connection set-up and INFO itself left out),
// per request.
//
//	go test -run='^$' -bench=BenchmarkRequireAuthRedisNearCache -benchtime=2s -count=5 .
func BenchmarkRequireAuthRedisNearCache(b *testing.B) {
	h := newHotpath(b)
	bench := newHotpathBench(h)
	srv := redistest.Start(b)
	admin := srv.Client()
	b.Run("bare", bench.run(func(*testing.B) (*gin.Engine, string) { return h.bare, h.ginauthCookie }))
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"ginauth-redis", 0}, {"ginauth-redis-nearcache", 2 * time.Second}} {
		b.Run(c.name, func(b *testing.B) {
			var before int
			run := bench.run(func(b *testing.B) (*gin.Engine, string) {
				e, cookie := h.redisEngine(b, srv, c.ttl)
				before = redisCommands(b, admin)
				return e, cookie
			})
			run(b)
			b.ReportMetric(float64(redisCommands(b, admin)-before)/float64(b.N), "roundtrips/op")
		})
	}
}

// redisEngine builds ginauth on a Redis store on srv (with the near cache
// when ttl is positive), signs in, loads the session once, and returns the
// engine and its Cookie header.
func (h *hotpath) redisEngine(tb testing.TB, srv *redistest.Server, ttl time.Duration) (*gin.Engine, string) {
	tb.Helper()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	st, err := store.NewRedis(client, store.RedisOptions{NearCacheTTL: ttl})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	e, _ := newGinauthEngine(tb, h.op, st)
	cookie := hotpathSignIn(tb, e, h.op)
	if rec := hotpathServe(e, hotpathOrigin+"/api/me", cookie); rec.Code != 200 || rec.Body.String() != h.subject {
		tb.Fatalf("GET /api/me = %d %q; want 200 %q", rec.Code, rec.Body.String(), h.subject)
	}
	return e, cookie
}

// redisCommands returns how many commands Redis has run, except those of
// connection set-up and INFO.
func redisCommands(tb testing.TB, admin *redis.Client) int {
	tb.Helper()
	info, err := admin.Info(context.Background(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
		if !ok || name == line {
			continue
		}
		switch strings.SplitN(name, "|", 2)[0] {
		case "info", "hello", "client", "ping", "select", "auth":
			continue
		}
		calls, err := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
		if err != nil {
			tb.Fatal(err)
		}
		n += calls
	}
	return n
}
