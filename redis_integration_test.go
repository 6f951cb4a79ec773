package ginauth_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// The Redis store end to end: the test app (harness_test.go) on a real
// redis-server started by internal/redistest. SECURITY.md SF-1, SF-2, TM-4,
// EX-1, EX-2 and AV-4 with Redis, scale-out over two Auth values, and the
// number of Redis round trips per request.

// redisProbe is what a test sees of an app's Redis store: the store, a hook
// counting the app client's round trips, and an admin client.
type redisProbe struct {
	t      *testing.T
	srv    *redistest.Server
	store  *store.Redis
	count  *redistest.Counter
	admin  *redis.Client
	prefix string
}

// storeTimeout is the Redis store's Timeout in these tests.
const storeTimeout = time.Second

// newRedisStore builds a Redis store on srv under prefix, with the app's
// clock, on a client of its own (go-redis defaults, plus context deadlines)
// counted by the probe's hook.
func newRedisStore(t *testing.T, srv *redistest.Server, prefix string, now func() time.Time) (*store.Redis, *redistest.Counter) {
	t.Helper()
	count := &redistest.Counter{}
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	client.AddHook(count)
	t.Cleanup(func() { _ = client.Close() })
	s, err := store.NewRedis(client, store.RedisOptions{KeyPrefix: prefix, Timeout: storeTimeout, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s, count
}

func randomPrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "it" + hex.EncodeToString(b[:]) + ":"
}

// newRedisApp starts a redis-server (unless srv is given) and a test app
// using the Redis store on it.
func newRedisApp(t *testing.T, srv *redistest.Server, opts ...appOption) (*testApp, *redisProbe) {
	t.Helper()
	if srv == nil {
		srv = redistest.Start(t)
	}
	p := &redisProbe{t: t, srv: srv, admin: srv.Client(), prefix: randomPrefix()}
	opts = append([]appOption{withConfig(func(c *ginauth.Config) {
		p.store, p.count = newRedisStore(t, srv, p.prefix, c.Now)
		c.Store = p.store
	})}, opts...)
	return newTestApp(t, opts...), p
}

// twin is a second instance of app a, as another server behind the same
// load balancer: its own Auth, HTTP server, provider client and Redis
// client and store, the same secrets, provider configuration, clock and
// Redis server and prefix.
func (a *testApp) twin(p *redisProbe) (*testApp, *store.Redis) {
	st, _ := newRedisStore(a.t, p.srv, p.prefix, a.clock.Now)
	return a.twinWith(func(c *ginauth.Config) { c.Store = st }), st
}

// twinWith is a second instance of app a: its own TLS server, provider
// config (same OP) and Auth with the same secret and clock, edited by cfg.
func (a *testApp) twinWith(cfg func(*ginauth.Config)) *testApp {
	t := a.t
	t.Helper()
	b := &testApp{t: t, op: a.op, clock: a.clock, logs: &syncBuffer{}, failures: &signInFailures{}}
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.router.ServeHTTP(w, r)
	}))
	b.srv.StartTLS()
	t.Cleanup(b.srv.Close)
	b.base = b.srv.URL
	var err error
	b.prov, err = providers.OIDC(providers.OIDCConfig{Name: "test", DisplayName: "Test OP", Now: a.clock.Now, Scopes: []string{"profile", "email"},
		Issuer: a.op.Issuer(), ClientID: a.op.ClientID(), ClientSecret: a.op.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	c := ginauth.Config{
		BaseURL:   b.base,
		Secrets:   [][]byte{testSecret},
		Providers: []providers.Provider{b.prov},
		Logger:    newCaptureLogger(b.logs, b.failures),
		Now:       a.clock.Now,
	}
	cfg(&c)
	if b.auth, err = ginauth.New(c); err != nil {
		t.Fatal(err)
	}
	b.router = b.routes()
	return b
}

// sessionKeys returns the session keys (not the index keys) under the prefix.
func (p *redisProbe) sessionKeys() []string {
	p.t.Helper()
	var keys []string
	ctx := context.Background()
	iter := p.admin.Scan(ctx, 0, p.prefix+"{*}:s:*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		p.t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// sessionsOf lists a user's live session tokens through the store's index.
func (p *redisProbe) sessionsOf(subject string) [][]byte {
	p.t.Helper()
	l, err := p.store.List(context.Background(), "test", subject)
	if err != nil {
		p.t.Fatal(err)
	}
	return l
}

// keyOf is the Redis key of a store token.
func (p *redisProbe) keyOf(token []byte) string {
	return p.prefix + "{" + string(token[:16]) + "}:s:" + string(token[16:])
}

func (p *redisProbe) exists(key string) bool {
	p.t.Helper()
	n, err := p.admin.Exists(context.Background(), key).Result()
	if err != nil {
		p.t.Fatal(err)
	}
	return n == 1
}

// TestRedisSignInCookieCarriesOnlyTheToken: with the Redis store the
// browser gets one small sealed cookie (the store token) and no tokens
// cookie; the session lives in Redis with a TTL of its remaining lifetime.
func TestRedisSignInCookieCarriesOnlyTheToken(t *testing.T) {
	t.Parallel()
	const idle = 10 * time.Minute
	a, p := newRedisApp(t, nil, withConfig(func(c *ginauth.Config) { c.SessionIdleTimeout = idle }))
	b := a.browser()
	r := b.signIn()
	if r.status != http.StatusFound || r.location() != a.base+"/dashboard" {
		t.Fatalf("sign-in: %d %q %s\n%s", r.status, r.location(), r.body, a.logs.String())
	}
	for _, c := range setCookies(t, r) {
		if strings.HasPrefix(c.Name, "__Host-ginauth-tokens") && !clearsCookie(&c) {
			t.Errorf("the sign-in sets a tokens cookie %s with the Redis store", c.Name)
		}
		if strings.HasPrefix(c.Name, sessionCookieName+".") && !clearsCookie(&c) {
			t.Errorf("the session is chunked (%s) with the Redis store", c.Name)
		}
	}
	var names []string
	for _, c := range b.cookies() {
		names = append(names, c.Name)
		if strings.Contains(c.Name, "tokens") {
			t.Errorf("cookie %s in the jar", c.Name)
		}
	}
	value := b.cookie(sessionCookieName)
	if value == "" || len(value) >= 200 {
		t.Fatalf("session cookie is %d bytes; want a short sealed token (< 200 bytes)", len(value))
	}
	t.Logf("cookies %v; session cookie %d bytes", names, len(value))

	me := b.get("/api/me")
	if me.status != http.StatusOK || !strings.Contains(me.body, `"sub":"alice"`) {
		t.Fatalf("/api/me: %d %s", me.status, me.body)
	}
	if s := b.get("/auth/session"); s.status != http.StatusOK || !strings.Contains(s.body, `"sub":"alice"`) || strings.Contains(s.body, "Token") {
		t.Errorf("/auth/session: %d %s", s.status, s.body)
	}

	toks := p.sessionsOf("alice")
	if len(toks) != 1 {
		t.Fatalf("alice has %d sessions in Redis; want 1", len(toks))
	}
	if keys := p.sessionKeys(); len(keys) != 1 || keys[0] != p.keyOf(toks[0]) {
		t.Fatalf("session keys %q; want alice's only", keys)
	}
	// The session key lives as long as the session: the idle timeout here.
	if ttl := p.admin.PTTL(context.Background(), p.keyOf(toks[0])).Val(); ttl < idle-time.Second || ttl > idle+time.Second {
		t.Errorf("session key PTTL %v; want %v ± 1 s", ttl, idle)
	}
	// The provider tokens are in Redis, not in the browser; the cookie value
	// is not the store token in clear.
	if strings.Contains(value, string(toks[0])) || strings.Contains(value, string(toks[0][16:])) {
		t.Error("the cookie carries the store token unsealed")
	}
}

// TestRedisSF1_PlantedSessionIsDeletedAtSignIn: SF-1 with Redis. The
// attacker's valid cookie C0, planted in the victim's jar, is replaced at
// sign-in, its Redis key is deleted, and C0 works nowhere afterwards.
func TestRedisSF1_PlantedSessionIsDeletedAtSignIn(t *testing.T) {
	t.Parallel()
	a, p := newRedisApp(t, nil)
	a.addSessionIDRoute()
	attacker := a.browser()
	if r := attacker.signInAs("bob", "/"); r.status != http.StatusFound {
		t.Fatalf("attacker sign-in: %d", r.status)
	}
	c0 := attacker.cookie(sessionCookieName)
	bobs := p.sessionsOf("bob")
	if c0 == "" || len(bobs) != 1 {
		t.Fatalf("attacker: cookie %q, %d sessions in Redis", c0, len(bobs))
	}
	key0 := p.keyOf(bobs[0])

	victim := a.browser()
	victim.setCookie(sessionCookieName, c0)
	sid0 := victim.sessionID()
	if sid0 == "" {
		t.Fatal("the planted cookie is not a valid session")
	}
	r := victim.signInAs("alice", "/dashboard")
	if r.status != http.StatusFound || r.location() != a.base+"/dashboard" {
		t.Fatalf("victim sign-in: %d %q", r.status, r.location())
	}
	if !setsSessionValue(t, r) {
		t.Fatal("the sign-in response sets no new session cookie")
	}
	c1 := victim.cookie(sessionCookieName)
	if c1 == "" || c1 == c0 {
		t.Fatal("the victim still holds the planted cookie")
	}
	if sid := victim.sessionID(); sid == "" || sid == sid0 {
		t.Errorf("session ID after sign-in %q, planted %q", sid, sid0)
	}
	if p.exists(key0) {
		t.Errorf("the planted session's key %s survived the sign-in", key0)
	}
	if n := len(p.sessionsOf("bob")); n != 0 {
		t.Errorf("bob still has %d sessions", n)
	}
	alices := p.sessionsOf("alice")
	if len(alices) != 1 || p.keyOf(alices[0]) == key0 {
		t.Fatalf("alice's sessions %q", alices)
	}
	if me := victim.get("/api/me"); me.status != http.StatusOK || !strings.Contains(me.body, `"sub":"alice"`) {
		t.Errorf("victim /api/me: %d %s", me.status, me.body)
	}
	// C0 is dead everywhere, for the attacker too.
	a.wantAnonymous(t, sessionCookieName+"="+c0)
	if attacker.signedIn() {
		t.Error("the attacker's own copy of C0 still authenticates")
	}
}

// TestRedisSF2_UnknownTokenNeverAdopted: SF-2 with Redis. A correctly sealed
// cookie whose store token is well-formed but unknown to Redis (its session
// was deleted) is anonymous, and signing in with it issues a fresh token:
// the supplied one is never adopted. An unsealed value never reaches Redis.
func TestRedisSF2_UnknownTokenNeverAdopted(t *testing.T) {
	t.Parallel()
	a, p := newRedisApp(t, nil)
	a.addSessionIDRoute()
	x := a.browser()
	x.mustSignIn()
	sealed := x.cookie(sessionCookieName)
	toks := p.sessionsOf("alice")
	if len(toks) != 1 {
		t.Fatalf("%d sessions", len(toks))
	}
	oldKey := p.keyOf(toks[0])
	// The session ends on the server (an admin, a back-channel logout).
	if n, err := p.store.DeleteUser(context.Background(), "test", "alice"); n != 1 || err != nil {
		t.Fatalf("DeleteUser = %d, %v", n, err)
	}
	a.wantAnonymous(t, sessionCookieName+"="+sealed)

	v := a.browser()
	v.setCookie(sessionCookieName, sealed)
	if sid := v.sessionID(); sid != "" {
		t.Fatalf("a sealed unknown token was adopted as session %q", sid)
	}
	v.mustSignIn()
	if got := v.cookie(sessionCookieName); got == "" || got == sealed {
		t.Errorf("session cookie after sign-in %q: want a fresh value", got)
	}
	now := p.sessionsOf("alice")
	if len(now) != 1 || p.keyOf(now[0]) == oldKey {
		t.Fatalf("alice's sessions after sign-in: %q (old key %s)", now, oldKey)
	}
	if p.exists(oldKey) {
		t.Error("the unknown token's key was created in Redis")
	}
	if keys := p.sessionKeys(); len(keys) != 1 {
		t.Errorf("session keys %q; want exactly the new one", keys)
	}

	// Unsealed values: anonymous, and no Redis round trip at all.
	p.count.Reset()
	for _, forged := range []string{string(toks[0]), strings.Repeat("A", 120), mutate(sealed)} {
		a.wantAnonymous(t, sessionCookieName+"="+forged)
	}
	if n := p.count.RoundTrips(); n != 0 {
		t.Errorf("forged cookies caused %d Redis round trips: %q", n, p.count.Trips())
	}
}

// TestRedisTM4_SignOutKillsCapturedCookie: TM-4 with Redis. A cookie
// captured before sign-out is refused after it: the Redis entry is gone.
func TestRedisTM4_SignOutKillsCapturedCookie(t *testing.T) {
	t.Parallel()
	a, p := newRedisApp(t, nil)
	b := a.browser()
	b.mustSignIn()
	captured := sessionCookieName + "=" + b.cookie(sessionCookieName)
	if len(p.sessionKeys()) != 1 {
		t.Fatal("no session in Redis")
	}
	if r := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d %s", r.status, r.body)
	}
	if keys := p.sessionKeys(); len(keys) != 0 {
		t.Errorf("session keys after sign-out: %q", keys)
	}
	if n := len(p.sessionsOf("alice")); n != 0 {
		t.Errorf("alice has %d sessions after sign-out", n)
	}
	a.wantAnonymous(t, captured)
	if b.signedIn() {
		t.Error("the browser is still signed in")
	}
}

// TestRedisAV4_DownAnswers503AndRecovers: AV-4 with Redis. With the server
// stopped, every protected route answers 503 (JSON in API mode) within the
// store timeout, never 200, never a panic; after a restart the app serves
// again without being restarted: the old cookie is anonymous when Redis
// lost its data, and works again when Redis persisted it.
func TestRedisAV4_DownAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	a, p := newRedisApp(t, nil)
	a.addSessionIDRoute()
	b := a.browser()
	b.mustSignIn()
	cookie := sessionCookieName + "=" + b.cookie(sessionCookieName)

	p.srv.Stop(t)
	const limit = 3 * time.Second
	for _, c := range []struct {
		path, wantBody string
		json           bool
	}{
		{"/api/me", `{"error":"session_store_unavailable"}`, true},
		{"/api/admin", `{"error":"session_store_unavailable"}`, true},
		{"/auth/session", `{"error":"session_store_unavailable"}`, true},
		{"/app/me", "", false},
		{"/app/admin", "", false},
		{"/test/sid", "", false},
	} {
		for i := range 2 { // the first call, and one after it (the client's dial back-off)
			start := time.Now()
			r := a.anonGet(t, c.path, cookie)
			d := time.Since(start)
			if r.status != http.StatusServiceUnavailable {
				t.Errorf("%s with Redis down (try %d): %d %q; want 503", c.path, i, r.status, r.body)
			}
			if c.json && r.body != c.wantBody {
				t.Errorf("%s body %q; want %s", c.path, r.body, c.wantBody)
			}
			if !c.json && (strings.Contains(r.body, "hello ") || strings.Contains(r.body, "admin area")) {
				t.Errorf("%s let the request through: %q", c.path, r.body)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s Cache-Control %q", c.path, cc)
			}
			if d > limit {
				t.Errorf("%s took %v with Redis down; want under %v (store timeout %v)", c.path, d, limit, storeTimeout)
			}
			if i == 0 {
				t.Logf("%s: 503 after %v", c.path, d.Round(time.Millisecond))
			}
		}
	}
	// Sign-out cannot check the CSRF binding nor delete the session: 503,
	// never a pretended success (a redirect) nor a 403 blaming the form.
	csrfToken := b.csrf()
	so := b.post("/auth/signout", url.Values{"csrfToken": {csrfToken}})
	if so.status != http.StatusServiceUnavailable || !strings.Contains(so.body, "Sessions are unavailable") {
		t.Errorf("sign-out with Redis down: %d %q; want 503", so.status, so.location())
	}
	// Without a cookie nothing needs the store: still 401.
	if r := a.anonGet(t, "/api/me", ""); r.status != http.StatusUnauthorized {
		t.Errorf("/api/me without a cookie, Redis down: %d", r.status)
	}
	// A sign-in cannot complete without the store: no session is issued.
	nb := a.browser()
	r := nb.signIn()
	if setsSessionValue(t, r) || r.status == http.StatusOK {
		t.Errorf("sign-in with Redis down: %d %q sets a session", r.status, r.location())
	}
	t.Logf("sign-in with Redis down: %d %q", r.status, r.location())
	if strings.Contains(a.logs.String(), "panic") {
		t.Errorf("a panic was logged:\n%s", a.logs.String())
	}

	p.srv.Start(t)
	// The app recovers by itself. The session did not survive: this
	// server persists nothing (--save ""), so the cookie is anonymous now.
	var got result
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got = a.anonGet(t, "/api/me", cookie)
		if got.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
	}
	if got.status != http.StatusUnauthorized {
		t.Fatalf("/api/me after the restart: %d %s; want 401 (the session was not persisted)", got.status, got.body)
	}
	a.wantAnonymous(t, cookie)
	b2 := a.browser()
	b2.mustSignIn()
	if me := b2.get("/api/me"); me.status != http.StatusOK {
		t.Errorf("new session after the restart: %d", me.status)
	}

	// With the data persisted (an explicit SAVE: the server loads its dump
	// at start), the same cookie works again after the restart, and the
	// app was never restarted.
	if err := p.admin.Save(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	p.srv.Stop(t)
	if r := b2.get("/api/me"); r.status != http.StatusServiceUnavailable {
		t.Errorf("/api/me with Redis down again: %d", r.status)
	}
	p.srv.Start(t)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got = b2.get("/api/me")
		if got.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			break
		}
	}
	if got.status != http.StatusOK || !strings.Contains(got.body, `"sub":"alice"`) {
		t.Errorf("/api/me after a restart with persisted data: %d %s; want the session back", got.status, got.body)
	}
}

// TestRedisScaleOut: two instances (two Auth values, same secrets and
// provider configuration) on one Redis: a session made on A works on B, and
// signing out on B ends it on A.
func TestRedisScaleOut(t *testing.T) {
	t.Parallel()
	a, p := newRedisApp(t, nil)
	b, _ := a.twin(p)
	if a.base == b.base {
		t.Fatal("one server")
	}
	onA := a.browser()
	onA.mustSignIn()
	cookie := onA.cookie(sessionCookieName)

	onB := b.browser()
	onB.setCookie(sessionCookieName, cookie)
	if me := onB.get("/api/me"); me.status != http.StatusOK || !strings.Contains(me.body, `"sub":"alice"`) {
		t.Fatalf("instance B with A's cookie: %d %s", me.status, me.body)
	}
	if r := onB.get("/app/me"); r.status != http.StatusOK {
		t.Fatalf("instance B /app/me: %d", r.status)
	}
	if r := onB.post("/auth/signout", url.Values{"csrfToken": {onB.csrf()}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out on B: %d %s", r.status, r.body)
	}
	if onA.signedIn() {
		t.Fatal("the session signed out on B still works on A")
	}
	a.wantAnonymous(t, sessionCookieName+"="+cookie)
	b.wantAnonymous(t, sessionCookieName+"="+cookie)
	if keys := p.sessionKeys(); len(keys) != 0 {
		t.Errorf("session keys left: %q", keys)
	}
}

// TestRedisRoundTripsPerRequest counts Redis round trips (commands sent
// alone, and pipelines, each one) per request through RequireAuth.
func TestRedisRoundTripsPerRequest(t *testing.T) {
	t.Parallel()
	const idle = 8 * time.Minute // touch interval: min(1 min, idle/4) = 1 min
	a, p := newRedisApp(t, nil, withConfig(func(c *ginauth.Config) { c.SessionIdleTimeout = idle }))
	b := a.browser()
	b.mustSignIn()
	// Warm up: one touch loads the update script into the server.
	a.clock.Advance(61 * time.Second)
	if !b.signedIn() {
		t.Fatal("signed out by the warm-up")
	}
	cookie := sessionCookieName + "=" + b.cookie(sessionCookieName)

	count := func(name string, want int, do func()) {
		t.Helper()
		p.count.Reset()
		do()
		n := p.count.RoundTrips()
		t.Logf("%s: %d round trip(s) %q", name, n, p.count.Trips())
		if n != want {
			t.Errorf("%s: %d Redis round trips %q; want %d", name, n, p.count.Trips(), want)
		}
	}
	count("valid session, /api/me", 1, func() {
		if r := b.get("/api/me"); r.status != http.StatusOK || findSetCookie(t, r, sessionCookieName) != nil {
			t.Fatalf("/api/me: %d, re-issued %v", r.status, findSetCookie(t, r, sessionCookieName) != nil)
		}
	})
	count("valid session, /app/me", 1, func() {
		if r := b.get("/app/me"); r.status != http.StatusOK {
			t.Fatalf("/app/me: %d", r.status)
		}
	})
	count("valid session, 10 requests", 10, func() {
		for range 10 {
			if r := b.get("/api/me"); r.status != http.StatusOK {
				t.Fatalf("/api/me: %d", r.status)
			}
		}
	})
	a.clock.Advance(61 * time.Second)
	count("valid session past the touch interval (last-seen refreshed)", 2, func() {
		// The store is updated; the cookie, which only names the
		// session, is not re-issued.
		r := b.get("/api/me")
		if r.status != http.StatusOK || findSetCookie(t, r, sessionCookieName) != nil {
			t.Fatalf("/api/me: %d, re-issued %v", r.status, findSetCookie(t, r, sessionCookieName) != nil)
		}
	})
	count("right after the touch", 1, func() {
		if r := b.get("/api/me"); r.status != http.StatusOK {
			t.Fatalf("/api/me: %d", r.status)
		}
	})
	count("no cookie", 0, func() { a.wantAnonymous(t, "") })
	count("forged cookies (unsealed, tampered, truncated)", 0, func() {
		v := strings.TrimPrefix(cookie, sessionCookieName+"=")
		flipped := []byte(v)
		flipped[len(flipped)/2] ^= 1
		for _, bad := range []string{"x", strings.Repeat("Q", 43), string(flipped), v[:len(v)-10]} {
			a.wantAnonymous(t, sessionCookieName+"="+bad)
		}
	})
}

// TestRedisEX1_TimeoutsEnforced: EX-1 and EX-2 with Redis, on the app's
// clock: an idle session and one past its absolute limit are refused, and
// their keys are removed.
func TestRedisEX1_TimeoutsEnforced(t *testing.T) {
	t.Parallel()
	const maxAge, idle = 20 * time.Minute, 5 * time.Minute
	srv := redistest.Start(t)
	cfg := withConfig(func(c *ginauth.Config) { c.SessionMaxAge, c.SessionIdleTimeout = maxAge, idle })

	t.Run("idle", func(t *testing.T) {
		a, p := newRedisApp(t, srv, cfg)
		b := a.browser()
		b.mustSignIn()
		captured := sessionCookieName + "=" + b.cookie(sessionCookieName)
		a.clock.Advance(idle - time.Second)
		if !b.signedIn() {
			t.Fatal("signed out one second before the idle timeout")
		}
		a.clock.Advance(idle + time.Second) // the request above touched the session
		if b.signedIn() {
			t.Fatal("/api/me accepted an idle session")
		}
		want := a.base + "/auth/signin?callbackUrl=%2Fapp%2Fme"
		if r := b.get("/app/me"); r.status != http.StatusFound || r.location() != want {
			t.Errorf("/app/me: %d %q", r.status, r.location())
		}
		a.wantAnonymous(t, captured)
		if keys := p.sessionKeys(); len(keys) != 0 {
			t.Errorf("the idle session's key was not removed: %q", keys)
		}
	})

	t.Run("absolute", func(t *testing.T) {
		a, p := newRedisApp(t, srv, cfg)
		b := a.browser()
		b.mustSignIn()
		for elapsed := time.Duration(0); elapsed < maxAge-4*time.Minute; {
			a.clock.Advance(4 * time.Minute)
			elapsed += 4 * time.Minute
			if !b.signedIn() {
				t.Fatalf("signed out after %v of activity", elapsed)
			}
		}
		// The key's TTL never exceeds what is left of the absolute limit.
		if keys := p.sessionKeys(); len(keys) == 1 {
			if ttl := p.admin.PTTL(context.Background(), keys[0]).Val(); ttl > 4*time.Minute+time.Second {
				t.Errorf("PTTL %v with 4 minutes of the absolute limit left", ttl)
			}
		} else {
			t.Fatalf("session keys %q", keys)
		}
		a.clock.Advance(4 * time.Minute)
		if b.signedIn() {
			t.Fatal("a session past SessionMaxAge was accepted")
		}
		if keys := p.sessionKeys(); len(keys) != 0 {
			t.Errorf("the expired session's key was not removed: %q", keys)
		}
	})
}

// TestRedisRF1_RefreshSingleFlightAcrossInstances: two instances on one
// Redis, 50 concurrent requests of one session whose access token expired,
// spread over both: exactly one refresh call reaches the provider (a
// single flight per process, a Redis lock across them, the new tokens
// stored before the lock is released), and all 50 get the same new token.
func TestRedisRF1_RefreshSingleFlightAcrossInstances(t *testing.T) {
	t.Parallel()
	// Instance A's store writes slowly: an instance that stored the new
	// tokens only after releasing the lock would let B refresh again.
	a, p := newRedisApp(t, nil, withOP(func(o *ginauthtest.Options) { o.TokenTTL = 5 * time.Minute }),
		withConfig(func(c *ginauth.Config) { c.Store = slowSaves{c.Store.(*store.Redis)} }))
	b2, _ := a.twin(p)
	refreshOnceAcross(t, a, b2)
}

// refreshOnceAcross signs a user in on a, lets the access token expire and
// sends 50 concurrent /api/token requests of that session, spread over a
// and b (two instances on one store): exactly one refresh call must reach
// the provider, and every request must get the same new token. It returns
// the session's Cookie header.
func refreshOnceAcross(t *testing.T, a, b *testApp) string {
	t.Helper()
	for _, app := range []*testApp{a, b} {
		auth := app.auth
		app.router.GET("/api/token", auth.RequireAuth(ginauth.API), func(c *gin.Context) {
			tok, err := auth.AccessToken(c)
			if err != nil {
				c.JSON(http.StatusServiceUnavailable, gin.H{"error": err.Error()})
				return
			}
			c.String(http.StatusOK, tok)
		})
	}
	br := a.browser()
	br.mustSignIn()
	cookie := sessionCookieName + "=" + br.cookie(sessionCookieName)
	first := a.anonGet(t, "/api/token", cookie)
	if first.status != http.StatusOK {
		t.Fatalf("/api/token: %d %s", first.status, first.body)
	}
	a.clock.Advance(5 * time.Minute)
	before := a.op.Counts().Token

	const n = 50
	got := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			app := a
			if i%2 == 1 {
				app = b
			}
			got[i] = app.anonGet(t, "/api/token", cookie)
		})
	}
	wg.Wait()
	if calls := a.op.Counts().Token - before; calls != 1 {
		t.Fatalf("%d refresh calls at the provider, want exactly 1", calls)
	}
	for i, r := range got {
		if r.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
		if r.body != got[0].body || r.body == first.body {
			t.Fatalf("request %d got another token than request 0, or the expired one", i)
		}
	}
	return cookie
}

// slowSaves is a Redis store whose Save takes 200 ms longer.
type slowSaves struct{ *store.Redis }

func (s slowSaves) Save(ctx context.Context, token []byte, rec store.Record) ([]byte, error) {
	time.Sleep(200 * time.Millisecond)
	return s.Redis.Save(ctx, token, rec)
}
