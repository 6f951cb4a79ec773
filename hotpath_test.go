package ginauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// maxHotPathExtraAllocs is the allocation budget of RequireAuth on a valid
// session with the cookie store, over the same request through bare Gin.
const maxHotPathExtraAllocs = 10

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
			if rec.Code != http.StatusOK || string(rec.Body.Bytes()) != want {
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
