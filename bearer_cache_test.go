package ginauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

// TestBearerCache checks that remembering verified tokens keeps every rule
// that verification enforces.
func TestBearerCache(t *testing.T) {
	a := bearerApp(t)
	other := a.router.Group("/other", a.auth.RequireAuth(ginauth.API, ginauth.AcceptBearer("https://other.example.com")))
	other.GET("/me", func(c *gin.Context) { c.String(http.StatusOK, "other") })
	a.router.GET("/api/mutate", a.auth.RequireAuth(ginauth.API, ginauth.AcceptBearer(testAudience)), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		b, _ := ginauth.BearerFrom(c)
		first := u.Groups[0] + "," + b.Scopes[0]
		u.Groups[0], b.Scopes[0] = "changed", "changed"
		c.String(http.StatusOK, first)
	})
	get := func(path, tok string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, a.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		a.router.ServeHTTP(rec, req)
		return rec
	}

	t.Run("a cached token keeps its exp", func(t *testing.T) {
		// Expired 30 s ago: accepted within the 60 s clock skew, and must be
		// refused 31 s later even though the cache's TTL has not passed.
		tok := a.accessToken(nil, with(a.accessClaims("alice"), "exp", a.clock.Now().Add(-30*time.Second).Unix(), "jti", "short"))
		checkBearerAnswer(t, get("/api/me", tok), 200, "")
		a.clock.Advance(29 * time.Second)
		checkBearerAnswer(t, get("/api/me", tok), 200, "")
		a.clock.Advance(2 * time.Second)
		checkBearerAnswer(t, get("/api/me", tok), 401, challengeInvalid)
	})
	t.Run("a token cached for one audience is refused for another", func(t *testing.T) {
		tok := a.accessToken(nil, with(a.accessClaims("alice"), "jti", "aud"))
		checkBearerAnswer(t, get("/api/me", tok), 200, "")
		checkBearerAnswer(t, get("/other/me", tok), 401, challengeInvalid)
	})
	t.Run("handlers cannot change the cached entry", func(t *testing.T) {
		tok := a.accessToken(nil, with(a.accessClaims("alice"), "jti", "mutate"))
		for i := range 3 {
			rec := get("/api/mutate", tok)
			if rec.Code != 200 || rec.Body.String() != "admin,read" {
				t.Fatalf("request %d: %d %q, want 200 \"admin,read\"", i, rec.Code, rec.Body.String())
			}
		}
	})
	t.Run("a refused token is not remembered", func(t *testing.T) {
		early := a.clock.Now().Add(5 * time.Minute)
		tok := a.accessToken(nil, with(a.accessClaims("alice"), "nbf", early.Unix(), "jti", "nbf"))
		checkBearerAnswer(t, get("/api/me", tok), 401, challengeInvalid)
		a.clock.Advance(5 * time.Minute)
		checkBearerAnswer(t, get("/api/me", tok), 200, "")
	})
}
