package ginauth_test

import (
	"context"
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

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// The hot path: one request through RequireAuth with a valid session, next to
// the same request through bare Gin and through gin-contrib/sessions' cookie
// store holding the same user fields. Every iteration builds a fresh request
// the same way, so that cost cancels out between the sub-benchmarks.

// hotpathOrigin is the app's public origin. It is https so that cookies carry
// the __Host- prefix, as in production; nothing ever connects to it.
const hotpathOrigin = "https://app.example.com"

var hotpathSecret = []byte("hotpath-benchmark-secret-0123456789abcdef")

// hotpath holds the engines answering GET /api/me and a Cookie header
// that each one accepts. The server-side stores' engines (memory, Redis)
// are built on demand by serverSide.
type hotpath struct {
	bare, ginauth, contrib       *gin.Engine
	auth                         *ginauth.Auth
	op                           *ginauthtest.Provider
	ginauthCookie, contribCookie string
	subject                      string // what /api/me answers when signed in
}

// hotpathAppData is the app data a SignInHook attaches to the benchmarked
// sessions: an app's user ID, three roles and two values.
var hotpathAppData = ginauth.AppData{
	UserID: "user-18342",
	Roles:  []string{"staff", "billing", "admin"},
	Values: map[string]string{"tenant": "acme-corp", "plan": "enterprise"},
}

// newGinauthEngine builds ginauth with store st (nil: the cookie store) on
// the provider op: the auth routes, GET /api/me behind RequireAuth and GET
// /api/role behind RequireAuth and RequireRole("admin"). A SignInHook
// attaches hotpathAppData to every session.
func newGinauthEngine(tb testing.TB, op *ginauthtest.Provider, st store.Store) (*gin.Engine, *ginauth.Auth) {
	tb.Helper()
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
		Store:     st,
		SignInHook: func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
			return ginauth.Allow().WithData(hotpathAppData), nil
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	e := gin.New()
	auth.Register(e.Group("/auth"))
	e.GET("/api/me", auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, u.Subject)
	})
	e.GET("/api/role", auth.RequireAuth(ginauth.API), ginauth.RequireRole("admin"), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, u.Subject)
	})
	return e, auth
}

// serverSide builds ginauth with a server-side store ("memory" or "redis";
// Redis on a redis-server started for tb, or tb skips or fails as
// redistest says), signs in, checks the engine answers the benchmarked
// request, and returns the engine and its Cookie header. With count, the
// Redis client's round trips are counted.
func (h *hotpath) serverSide(tb testing.TB, kind string, count *redistest.Counter) (*gin.Engine, string) {
	tb.Helper()
	var st store.Store
	switch kind {
	case "memory":
		m := store.NewMemory(store.MemoryOptions{})
		tb.Cleanup(func() { _ = m.Close() })
		st = m
	case "redis":
		srv := redistest.Start(tb)
		client := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
		if count != nil {
			client.AddHook(count)
		}
		tb.Cleanup(func() { _ = client.Close() })
		r, err := store.NewRedis(client, store.RedisOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		st = r
	default:
		tb.Fatalf("unknown store %q", kind)
	}
	e, _ := newGinauthEngine(tb, h.op, st)
	cookie := hotpathSignIn(tb, e, h.op)
	rec := hotpathServe(e, hotpathOrigin+"/api/me", cookie)
	if rec.Code != http.StatusOK || rec.Body.String() != h.subject || len(rec.Result().Cookies()) != 0 {
		tb.Fatalf("ginauth-%s: GET /api/me = %d %q, Set-Cookie %q; want 200 %q and no cookie",
			kind, rec.Code, rec.Body.String(), rec.Header().Values("Set-Cookie"), h.subject)
	}
	return e, cookie
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
	h.op = op
	h.ginauth, h.auth = newGinauthEngine(tb, op, nil)
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
// session through ginauth's RequireAuth with the default cookie store, the
// memory store and the Redis store (a real redis-server on loopback: one
// HGET per request), with the same request through bare Gin and through
// gin-contrib/sessions' cookie store. ginauth's sessions hold app data
// (hotpathAppData); ginauth-cookie-role also passes RequireRole. The
// overhead-ns/op metric is ns/op minus the median ns/op of "bare" so far.
// Without redis-server, ginauth-redis skips (fails when CI is set).
//
//	go test -run='^$' -bench=BenchmarkRequireAuth -benchtime=2s -count=5 .
func BenchmarkRequireAuth(b *testing.B) {
	h := newHotpath(b)
	bench := newHotpathBench(h)
	// The bare request carries the same Cookie header, so building the
	// request costs the same everywhere.
	b.Run("bare", bench.run(func(*testing.B) (*gin.Engine, string) { return h.bare, h.ginauthCookie }))
	b.Run("ginauth-cookie", bench.run(func(b *testing.B) (*gin.Engine, string) { return h.ginauth, h.signIn(b) }))
	b.Run("ginauth-cookie-role", bench.runAt(hotpathOrigin+"/api/role", func(b *testing.B) (*gin.Engine, string) { return h.ginauth, h.signIn(b) }))
	b.Run("ginauth-memory", bench.run(func(b *testing.B) (*gin.Engine, string) { return h.serverSide(b, "memory", nil) }))
	b.Run("ginauth-redis", bench.run(func(b *testing.B) (*gin.Engine, string) { return h.serverSide(b, "redis", nil) }))
	b.Run("gin-contrib-sessions-cookie", bench.run(func(*testing.B) (*gin.Engine, string) { return h.contrib, h.contribCookie }))
}

// BenchmarkRequireAuthRedis is the Redis store's hot path beside bare Gin
// and the cookie store, in the same run:
//
//	go test -run='^$' -bench=BenchmarkRequireAuthRedis -benchtime=2s -count=5 .
func BenchmarkRequireAuthRedis(b *testing.B) {
	h := newHotpath(b)
	bench := newHotpathBench(h)
	b.Run("bare", bench.run(func(*testing.B) (*gin.Engine, string) { return h.bare, h.ginauthCookie }))
	b.Run("ginauth-cookie", bench.run(func(b *testing.B) (*gin.Engine, string) { return h.ginauth, h.signIn(b) }))
	b.Run("ginauth-redis", bench.run(func(b *testing.B) (*gin.Engine, string) { return h.serverSide(b, "redis", nil) }))
}

// hotpathBench runs sub-benchmarks of one top-level benchmark, keeping the
// ns/op of its "bare" runs for the overhead metric.
type hotpathBench struct {
	h    *hotpath
	bare []float64 // ns/op of each "bare" run
}

func newHotpathBench(h *hotpath) *hotpathBench { return &hotpathBench{h: h} }

// run returns a sub-benchmark serving GET /api/me through the engine that
// setup returns, with the Cookie header it returns. Setup is not timed.
func (hb *hotpathBench) run(setup func(*testing.B) (*gin.Engine, string)) func(*testing.B) {
	return hb.runAt(hotpathOrigin+"/api/me", setup)
}

// runAt is run for another target.
func (hb *hotpathBench) runAt(target string, setup func(*testing.B) (*gin.Engine, string)) func(*testing.B) {
	return func(b *testing.B) {
		e, cookie := setup(b)
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Cookie", cookie)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if e == hb.h.bare {
			hb.bare = append(hb.bare, ns)
		} else if len(hb.bare) > 0 {
			sorted := slices.Sorted(slices.Values(hb.bare))
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
