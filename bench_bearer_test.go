package ginauth_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/providers"
)

// BenchmarkRequireAuthBearer compares one GET /api/me through bare Gin, with
// a cookie session (the default cookie store) and with a bearer access token
// (RFC 9068, RS256, keys cached after the warm-up request):
//
//	go test -run='^$' -bench=BenchmarkRequireAuthBearer -benchtime=2s -count=5 .
func BenchmarkRequireAuthBearer(b *testing.B) {
	h := newHotpath(b)
	prov, err := providers.OIDC(providers.OIDCConfig{
		Name: "test", Issuer: h.op.Issuer(), ClientID: h.op.ClientID(), ClientSecret: h.op.ClientSecret(),
	})
	if err != nil {
		b.Fatal(err)
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL: hotpathOrigin, Secrets: [][]byte{hotpathSecret},
		Providers: []providers.Provider{prov}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	e := gin.New()
	e.GET("/api/me", auth.RequireAuth(ginauth.API, ginauth.AcceptBearer("https://api.example.com")), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, u.Subject)
	})
	now := time.Now()
	token := h.op.SignJWT(map[string]any{"typ": "at+jwt"}, map[string]any{
		"iss": h.op.Issuer(), "sub": "alice", "aud": "https://api.example.com", "client_id": h.op.ClientID(),
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "scope": "read", "name": "Alice Admin",
		"email": "alice@example.com", "groups": []string{"admin", "staff"},
	})
	serve := func(e *gin.Engine, header, value string) *httptest.ResponseRecorder {
		req, _ := http.NewRequest(http.MethodGet, hotpathOrigin+"/api/me", nil)
		req.Header.Set(header, value)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	run := func(e *gin.Engine, header, value string) func(*testing.B) {
		return func(b *testing.B) {
			if rec := serve(e, header, value); rec.Code != http.StatusOK || len(rec.Header().Values("Set-Cookie")) != 0 {
				b.Fatalf("warm-up: %d %s", rec.Code, rec.Body.String())
			}
			b.ReportAllocs()
			for b.Loop() {
				serve(e, header, value)
			}
			if rec := serve(e, header, value); rec.Code != http.StatusOK || rec.Body.String() != "alice" {
				b.Fatalf("after the loop: %d %s", rec.Code, rec.Body.String())
			}
		}
	}
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			serve(h.bare, "Cookie", h.ginauthCookie)
		}
	})
	b.Run("ginauth-cookie", run(h.ginauth, "Cookie", h.ginauthCookie))
	b.Run("ginauth-bearer", run(e, "Authorization", "Bearer "+token))
}
