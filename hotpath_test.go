package ginauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/redistest"
)

// maxHotPathExtraAllocs is the allocation budget of RequireAuth on a valid
// session with the cookie store, over the same request through bare Gin (5
// today: the session, its sealed bytes, the request copy and gin's Keys map).
const maxHotPathExtraAllocs = 7

// TestHotPathAllocs keeps RequireAuth's hot path cheap: a request with a
// valid session may allocate at most maxHotPathExtraAllocs more than the
// same request through bare Gin. Allocation counts are deterministic (up to
// sync.Pool, which the race detector makes drop items at random), so this
// catches regressions that a timing assertion could not.
func TestHotPathAllocs(t *testing.T) {
	h := newHotpath(t)
	target := hotpathOrigin + "/api/me"
	measure := func(name string, e *gin.Engine, cookie, want string) float64 {
		var bad int
		allocs := testing.AllocsPerRun(500, func() {
			req, _ := http.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Cookie", cookie)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || rec.Body.String() != want {
				bad++
			}
		})
		if bad > 0 {
			t.Fatalf("%s: %d requests were not answered 200 %q; the measurement would be of an error path", name, bad, want)
		}
		return allocs
	}
	bare := measure("bare", h.bare, h.ginauthCookie, "ok")
	auth := measure("ginauth", h.ginauth, h.ginauthCookie, h.subject)
	extra := auth - bare
	t.Logf("allocs/request: bare Gin %.0f, RequireAuth %.0f (extra %.0f, budget %d)", bare, auth, extra, maxHotPathExtraAllocs)
	if extra > maxHotPathExtraAllocs {
		t.Errorf("RequireAuth allocates %.0f times more than bare Gin per request, budget %d", extra, maxHotPathExtraAllocs)
	}
}

// maxHotPathExtraAllocsMemory is the same budget with the memory store (9
// today; the race detector adds two, as sync.Pool then drops items).
const maxHotPathExtraAllocsMemory = 12

// maxHotPathExtraAllocsRedis is the allocation budget of RequireAuth on a
// valid session with the Redis store, over bare Gin: ginauth's own share
// plus the go-redis client's for one HGET (command, context deadline, reply).
const maxHotPathExtraAllocsRedis = 28

// hotpathAllocs measures the allocations of one GET /api/me through e with
// cookie, checking every answer is 200 want with no rewritten session.
func hotpathAllocs(t *testing.T, runs int, e *gin.Engine, cookie, want string) float64 {
	t.Helper()
	target := hotpathOrigin + "/api/me"
	var bad int
	allocs := testing.AllocsPerRun(runs, func() {
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != want || len(rec.Header().Values("Set-Cookie")) != 0 {
			bad++
		}
	})
	if bad > 0 {
		t.Fatalf("%d requests were not answered 200 %q without Set-Cookie; the measurement would be of another path", bad, want)
	}
	return allocs
}

// TestHotPathServerSide keeps the hot path with a server-side store cheap:
// with the memory store within an allocation budget close to the cookie
// store's, with Redis exactly one round trip (an HGET) per request and a bounded number
// of allocations.
func TestHotPathServerSide(t *testing.T) {
	h := newHotpath(t)
	bare := hotpathAllocs(t, 200, h.bare, h.ginauthCookie, "ok")

	t.Run("memory", func(t *testing.T) {
		e, cookie := h.serverSide(t, "memory", nil)
		allocs := hotpathAllocs(t, 200, e, cookie, h.subject)
		t.Logf("allocs/request: bare Gin %.0f, RequireAuth with the memory store %.0f (extra %.0f, budget %d)", bare, allocs, allocs-bare, maxHotPathExtraAllocsMemory)
		if allocs-bare > maxHotPathExtraAllocsMemory {
			t.Errorf("RequireAuth with the memory store allocates %.0f times more than bare Gin, budget %d", allocs-bare, maxHotPathExtraAllocsMemory)
		}
	})

	t.Run("redis", func(t *testing.T) {
		count := &redistest.Counter{}
		e, cookie := h.serverSide(t, "redis", count)
		const runs = 200
		count.Reset()
		allocs := hotpathAllocs(t, runs, e, cookie, h.subject)
		// AllocsPerRun runs the function once more to warm up.
		if n := count.RoundTrips(); n != runs+1 {
			trips := count.Trips()
			if len(trips) > 5 {
				trips = trips[:5]
			}
			t.Errorf("%d requests made %d Redis round trips (first: %q); want exactly one each", runs+1, n, trips)
		}
		for _, trip := range count.Trips() {
			if trip != "hget" {
				t.Errorf("a hot-path request sent %q; want HGET only", trip)
				break
			}
		}
		t.Logf("allocs/request: bare Gin %.0f, RequireAuth with Redis %.0f (extra %.0f, budget %d); %d round trips for %d requests",
			bare, allocs, allocs-bare, maxHotPathExtraAllocsRedis, count.RoundTrips(), runs+1)
		if allocs-bare > maxHotPathExtraAllocsRedis {
			t.Errorf("RequireAuth with Redis allocates %.0f times more than bare Gin, budget %d", allocs-bare, maxHotPathExtraAllocsRedis)
		}
	})
}
