package ginauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
)

// BenchmarkRequireClaim is RequireClaim behind RequireAuth with the cookie
// store: "allowed" passes (alice is in admin), "refused" answers 403 for a
// value she lacks (the guard's claim-presence record is then read only).
//
//	go test -run='^$' -bench=BenchmarkRequireClaim -benchtime=2s .
func BenchmarkRequireClaim(b *testing.B) {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(op.Close)
	e, auth := newGinauthEngine(b, op, nil)
	g := e.Group("/guarded", auth.RequireAuth(ginauth.API))
	g.GET("/allowed", ginauth.RequireClaim("groups", "admin"), func(c *gin.Context) { c.Status(http.StatusOK) })
	g.GET("/refused", ginauth.RequireClaim("groups", "auditor"), func(c *gin.Context) { c.Status(http.StatusOK) })
	cookie := hotpathSignIn(b, e, op)
	for _, tc := range []struct {
		path string
		want int
	}{{"/guarded/allowed", http.StatusOK}, {"/guarded/refused", http.StatusForbidden}} {
		b.Run(tc.path[len("/guarded/"):], func(b *testing.B) {
			if rec := hotpathServe(e, hotpathOrigin+tc.path, cookie); rec.Code != tc.want {
				b.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, hotpathOrigin+tc.path, nil)
				req.Header.Set("Cookie", cookie)
				e.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
