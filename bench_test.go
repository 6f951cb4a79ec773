package ginauth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// The hot path: one request through RequireAuth with a valid session, next to
// the same request through bare Gin and through gin-contrib/sessions' cookie
// store holding the same user fields. Every iteration builds a fresh request
// the same way, so that cost cancels out between the sub-benchmarks.

// hotpathOrigin is the app's public origin. It is https so that cookies carry
// the __Host- prefix, as in production; nothing ever connects to it.
const hotpathOrigin = "https://app.example.com"

var hotpathSecret = []byte("hotpath-benchmark-secret-0123456789abcdef")

// hotpath holds three engines answering GET /api/me and a Cookie header
// that each one accepts.
type hotpath struct {
	bare, ginauth, contrib       *gin.Engine
	auth                         *ginauth.Auth
	op                           *ginauthtest.Provider
	ginauthCookie, contribCookie string
	subject                      string // what /api/me answers when signed in
}

// signIn signs in again and returns a fresh ginauth Cookie header. A session
// whose last-seen time is older than a minute is rewritten by the next
// request, so a long benchmark takes a fresh one for each run.
func (h *hotpath) signIn(tb testing.TB) string {
	tb.Helper()
	return hotpathSignIn(tb, h.ginauth, h.op)
}

// newHotpath builds the engines and signs in once through an in-process
// OpenID Provider to get a real ginauth session cookie.
func newHotpath(tb testing.TB) *hotpath {
	tb.Helper()
	h := &hotpath{}

	// bare Gin
	h.bare = gin.New()
	h.bare.GET("/api/me", func(c *gin.Context) { c.String(http.StatusOK, "ok") })

	// ginauth with the default cookie store
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(op.Close)
	prov, err := providers.OIDC(providers.OIDCConfig{
		Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(),
		Scopes: []string{"profile", "email"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   hotpathOrigin,
		Secrets:   [][]byte{hotpathSecret},
		Providers: []providers.Provider{prov},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	h.auth = auth
	h.ginauth = gin.New()
	auth.Register(h.ginauth.Group("/auth"))
	h.ginauth.GET("/api/me", auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, u.Subject)
	})
	h.op = op
	h.ginauthCookie = h.signIn(tb)
	h.subject = "alice"

	// gin-contrib/sessions with the cookie store (authenticated and
	// encrypted, as ginauth's is) holding the same user fields.
	h.contrib = gin.New()
	h.contrib.Use(sessions.Sessions("s", cookie.NewStore(
		[]byte("hotpath-hmac-key-0123456789abcdef"), // authentication (HMAC-SHA256)
		[]byte("hotpath-aes-key-0123456789abcdef"),  // encryption (AES-256)
	)))
	h.contrib.GET("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("sub", "alice")
		s.Set("name", "Alice Admin")
		s.Set("email", "alice@example.com")
		s.Set("provider", "test")
		s.Set("groups", []string{"admin", "staff"})
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, "saved")
	})
	h.contrib.GET("/api/me", func(c *gin.Context) {
		s := sessions.Default(c)
		sub, _ := s.Get("sub").(string)
		_, _ = s.Get("name").(string)
		_, _ = s.Get("email").(string)
		_, _ = s.Get("provider").(string)
		_, _ = s.Get("groups").([]string)
		if sub == "" {
			c.String(http.StatusUnauthorized, "unauthenticated")
			return
		}
		c.String(http.StatusOK, sub)
	})
	rec := hotpathServe(h.contrib, hotpathOrigin+"/login", "")
	h.contribCookie = hotpathCookieHeader(rec.Result().Cookies())
	if rec.Code != http.StatusOK || h.contribCookie == "" {
		tb.Fatalf("gin-contrib/sessions login: %d %q", rec.Code, rec.Body.String())
	}

	// Every engine must answer the benchmarked request as expected, or the
	// numbers would measure an error path.
	for _, c := range []struct {
		name   string
		e      *gin.Engine
		cookie string
		want   string
	}{
		{"bare", h.bare, "", "ok"},
		{"ginauth", h.ginauth, h.ginauthCookie, h.subject},
		{"gin-contrib/sessions", h.contrib, h.contribCookie, h.subject},
	} {
		rec := hotpathServe(c.e, hotpathOrigin+"/api/me", c.cookie)
		if rec.Code != http.StatusOK || rec.Body.String() != c.want {
			tb.Fatalf("%s: GET /api/me = %d %q, want 200 %q", c.name, rec.Code, rec.Body.String(), c.want)
		}
		if c.name == "ginauth" && len(rec.Result().Cookies()) != 0 {
			tb.Fatalf("ginauth: a fresh session should not be rewritten, got Set-Cookie %q", rec.Header().Values("Set-Cookie"))
		}
	}
	return h
}

// hotpathServe serves one fresh GET request through e. The request is built
// the same way for every engine; cookie is the whole Cookie header.
func hotpathServe(e *gin.Engine, target, cookie string) *httptest.ResponseRecorder {
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Cookie", cookie)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// hotpathSignIn runs a whole sign-in (ginauth's routes served in-process,
// the provider over loopback) and returns the resulting Cookie header.
func hotpathSignIn(tb testing.TB, e *gin.Engine, op *ginauthtest.Provider) string {
	tb.Helper()
	start := hotpathServe(e, hotpathOrigin+"/auth/signin/test?callbackUrl=%2F", "")
	if start.Code != http.StatusFound {
		tb.Fatalf("signin: %d %s", start.Code, start.Body.String())
	}
	flow := hotpathCookieHeader(start.Result().Cookies())

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(start.Header().Get("Location"))
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(callback, hotpathOrigin+"/auth/callback/test?") {
		tb.Fatalf("authorize: %d, Location %q", resp.StatusCode, callback)
	}

	done := hotpathServe(e, callback, flow)
	if done.Code != http.StatusFound || done.Header().Get("Location") != hotpathOrigin+"/" {
		tb.Fatalf("callback: %d, Location %q, body %s", done.Code, done.Header().Get("Location"), done.Body.String())
	}
	var session []*http.Cookie
	for _, c := range done.Result().Cookies() {
		if strings.Contains(c.Name, "ginauth") && !strings.Contains(c.Name, "-flow-") && c.MaxAge >= 0 && c.Value != "" {
			session = append(session, c)
		}
	}
	h := hotpathCookieHeader(session)
	if h == "" {
		tb.Fatal("callback set no session cookie")
	}
	return h
}

// hotpathCookieHeader joins the live cookies into a Cookie request header.
func hotpathCookieHeader(cs []*http.Cookie) string {
	var parts []string
	for _, c := range cs {
		if c.MaxAge < 0 || c.Value == "" {
			continue
		}
		parts = append(parts, (&http.Cookie{Name: c.Name, Value: c.Value}).String())
	}
	return strings.Join(parts, "; ")
}

// BenchmarkRequireAuth compares, side by side, one request with a valid
// session through ginauth's RequireAuth (default cookie store) with the same
// request through bare Gin and through gin-contrib/sessions' cookie store.
// The overhead-ns/op metric is ns/op minus the median ns/op of "bare" so far.
//
//	go test -run='^$' -bench=BenchmarkRequireAuth -benchtime=2s -count=5 .
func BenchmarkRequireAuth(b *testing.B) {
	h := newHotpath(b)
	target := hotpathOrigin + "/api/me"
	var bare []float64 // ns/op of each "bare" run

	run := func(e *gin.Engine, cookie func(*testing.B) string) func(*testing.B) {
		return func(b *testing.B) {
			cookie := cookie(b)
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, target, nil)
				req.Header.Set("Cookie", cookie)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if e == h.bare {
				bare = append(bare, ns)
			} else if len(bare) > 0 {
				sorted := slices.Sorted(slices.Values(bare))
				b.ReportMetric(ns-sorted[len(sorted)/2], "overhead-ns/op")
			}
			// What was measured must be the hot path: 200, and no rewritten
			// session.
			rec := hotpathServe(e, target, cookie)
			if rec.Code != http.StatusOK || len(rec.Result().Cookies()) != 0 {
				b.Fatalf("after the loop: %d, Set-Cookie %q", rec.Code, rec.Header().Values("Set-Cookie"))
			}
		}
	}
	// The bare request carries the same Cookie header, so building the
	// request costs the same everywhere.
	b.Run("bare", run(h.bare, func(*testing.B) string { return h.ginauthCookie }))
	b.Run("ginauth-cookie", run(h.ginauth, func(b *testing.B) string { return h.signIn(b) }))
	b.Run("gin-contrib-sessions-cookie", run(h.contrib, func(*testing.B) string { return h.contribCookie }))
}
