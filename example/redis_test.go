package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/internal/redistest"
)

// The example with GINAUTH_REDIS_URL, on a real redis-server
// (internal/redistest: skipped without the binary, failed when CI is set).

// redisSessionKeys returns the keys of sessions under the store's default
// prefix.
func redisSessionKeys(t *testing.T, srv *redistest.Server) []string {
	t.Helper()
	keys, err := srv.Client().Keys(context.Background(), "ginauth:{*}:s:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestEndToEndRedis: two instances of the example on one Redis, with the
// same secret: a session made on one works on the other, lives in Redis (the
// cookie is a small sealed ID), and signing out on one ends it on both.
func TestEndToEndRedis(t *testing.T) {
	srv := redistest.Start(t)
	env := map[string]string{"GINAUTH_REDIS_URL": srv.URL()}
	baseA, logsA := startApp(t, env)
	// Instances behind a load balancer share the public URL, hence one
	// provider: B's "dev" provider is A's development provider (issuer
	// <baseA>/dev-oidc). ginauth refuses sessions whose issuer is not the
	// configured one, so B with a development provider of its own would
	// (rightly) refuse A's sessions.
	baseB, _ := startApp(t, map[string]string{"GINAUTH_REDIS_URL": srv.URL(), "GINAUTH_URL": baseA})

	alice := newBrowser(t, baseA)
	page := alice.signInWithLink("alice")
	if !strings.Contains(page, "You are signed in") || !strings.Contains(page, "Alice Admin") {
		t.Fatalf("home page after sign-in does not show alice:\n%s", page)
	}
	if code, m := alice.apiMe(); code != http.StatusOK || string(m["sub"]) != `"alice"` {
		t.Fatalf("/api/me on A = %d %v", code, m)
	}
	keys := redisSessionKeys(t, srv)
	if len(keys) != 1 {
		t.Fatalf("session keys in Redis: %q; want alice's", keys)
	}
	u, _ := url.Parse(baseA)
	for _, c := range alice.c.Jar.Cookies(u) {
		if strings.Contains(c.Name, "tokens") {
			t.Errorf("cookie %s with the Redis store", c.Name)
		}
		if c.Name == "ginauth" && len(c.Value) >= 200 {
			t.Errorf("session cookie of %d bytes; want a small sealed ID", len(c.Value))
		}
	}

	// The browser's jar holds cookies per host, not per port: instance B
	// on the same host gets the same cookie, as behind a load balancer.
	onB := &browser{t: t, base: baseB, c: alice.c}
	if code, m := onB.apiMe(); code != http.StatusOK || string(m["sub"]) != `"alice"` {
		t.Fatalf("/api/me on B = %d %v", code, m)
	}
	if resp, body := onB.get("/admin"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Welcome, Alice Admin") {
		t.Errorf("/admin on B = %d", resp.StatusCode)
	}

	// Sign out on A: the session ends on B too, and leaves Redis. (On A:
	// the sign-out also ends alice's session at the development provider,
	// and each instance has its own, with its own issuer and keys; B's would
	// refuse A's ID token. Instances behind a load balancer share one real
	// provider.)
	// A copy of the cookies taken before shows that the session ended in
	// Redis, not only in this browser.
	copied := newBrowser(t, baseB)
	copied.c.Jar.SetCookies(u, alice.c.Jar.Cookies(u))
	if code, _ := copied.apiMe(); code != http.StatusOK {
		t.Fatalf("/api/me on B with a copy of the cookies = %d; want 200", code)
	}
	_, home := alice.get("/")
	f := findForm(t, home, "/auth/signout", "Sign out")
	resp, page := alice.post(f.action, f.fields)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "You are signed out") {
		t.Fatalf("sign-out on A ended with %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if code, _ := onB.apiMe(); code != http.StatusUnauthorized {
		t.Errorf("/api/me on B after signing out on A = %d; want 401", code)
	}
	if code, _ := copied.apiMe(); code != http.StatusUnauthorized {
		t.Errorf("/api/me on B with a copy of the signed-out cookies = %d; want 401", code)
	}
	if keys := redisSessionKeys(t, srv); len(keys) != 0 {
		t.Errorf("session keys after sign-out: %q", keys)
	}

	// Redis down: 503, never the page; back up: a new sign-in works.
	srv.Stop(t)
	bob := newBrowser(t, baseA)
	if resp, body := bob.get("/api/me"); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unauthenticated") {
		t.Errorf("/api/me without a cookie, Redis down = %d %s", resp.StatusCode, body)
	}
	srv.Start(t)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, _ := bob.get("/healthz"); resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the app did not come back")
		}
	}
	page2 := bob.signInWithButton("bob")
	if !strings.Contains(page2, "You are signed in") {
		t.Errorf("sign-in after the Redis restart:\n%s", page2)
	}
	if code, _ := bob.apiMe(); code != http.StatusOK {
		t.Errorf("bob /api/me after the restart = %d", code)
	}
	if strings.Contains(logsA.String(), "panic") {
		t.Errorf("a panic was logged:\n%s", logsA.String())
	}
}

// TestEndToEndRedisDown: with Redis stopped, a signed-in browser gets 503
// on every protected route, never the protected content.
func TestEndToEndRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	base, _ := startApp(t, map[string]string{"GINAUTH_REDIS_URL": srv.URL()})
	carol := newBrowser(t, base)
	carol.signInWithLink("carol")
	srv.Stop(t)
	for _, path := range []string{"/api/me", "/me", "/admin", "/"} {
		start := time.Now()
		resp, body := carol.get(path)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s with Redis down = %d; want 503", path, resp.StatusCode)
		}
		if strings.Contains(body, "Carol Customer") {
			t.Errorf("%s with Redis down shows the user", path)
		}
		if path == "/api/me" && strings.TrimSpace(body) != `{"error":"session_store_unavailable"}` {
			t.Errorf("/api/me body %q", body)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s took %v", path, d)
		}
	}
}

// TestRunRedis runs the program's entry point with GINAUTH_REDIS_URL: it
// checks Redis at start, names the store in its log (without a password),
// and closes its Redis connections at shutdown.
func TestRunRedis(t *testing.T) {
	srv := redistest.Start(t)
	admin := srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	env := map[string]string{"GINAUTH_ADDR": "127.0.0.1:0", "GINAUTH_URL": "http://127.0.0.1:8080", "GINAUTH_SECRET": testSecret, "GINAUTH_REDIS_URL": srv.URL()}
	done := make(chan int, 1)
	go func() { done <- run(ctx, envOf(env), stderr) }()

	addrRe := regexp.MustCompile(`msg=listening addr=(\S+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := addrRe.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		cancel()
		<-done
		t.Fatalf("the app did not start:\n%s", stderr.String())
	}
	if want := `store="redis ` + srv.URL() + `"`; !strings.Contains(stderr.String(), want) {
		t.Errorf("start-up log lacks %s:\n%s", want, stderr.String())
	}
	// clients counts the connections Redis has, besides the admin's own.
	clients := func() int {
		list, err := admin.ClientList(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(list, "\n") - 1
	}
	if n := clients(); n < 1 {
		t.Errorf("the app holds no Redis connection after its start-up PING (%d)", n)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit status = %d; want 0:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after the context ended")
	}
	for deadline := time.Now().Add(3 * time.Second); clients() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the app left %d Redis connections open after shutdown", clients())
		}
	}
}

// TestRunRedisUnreachable: an unreachable Redis ends the program at start
// with status 1 and a clear message that never shows the password.
func TestRunRedisUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there now

	stderr := &syncBuffer{}
	env := map[string]string{"GINAUTH_ADDR": "127.0.0.1:0", "GINAUTH_SECRET": testSecret, "GINAUTH_REDIS_URL": "redis://:hunter2-secret@" + closed + "/0"}
	start := time.Now()
	code := run(context.Background(), envOf(env), stderr)
	took := time.Since(start)
	out := stderr.String()
	if code != exitFailed {
		t.Errorf("exit status = %d; want %d", code, exitFailed)
	}
	if !strings.Contains(out, "cannot reach Redis at redis://:xxxxx@"+closed+"/0 (GINAUTH_REDIS_URL)") {
		t.Errorf("message does not say Redis is unreachable:\n%s", out)
	}
	if strings.Contains(out, "hunter2-secret") {
		t.Errorf("the message shows the Redis password:\n%s", out)
	}
	if strings.Contains(out, "msg=listening") {
		t.Errorf("the app listened without its session store:\n%s", out)
	}
	if took > redisStartTimeout+2*time.Second {
		t.Errorf("giving up took %v; want about %v", took, redisStartTimeout)
	}
}

// TestEndToEndRedisNearCache: two instances with GINAUTH_REDIS_NEAR_CACHE.
// A session read on B (and so cached there) ends on B well within the
// cache's TTL when it is signed out on A: Redis's invalidation reaches B.
func TestEndToEndRedisNearCache(t *testing.T) {
	srv := redistest.Start(t)
	const ttl = 20 * time.Second // long, so that only an invalidation can explain a quick 401
	env := map[string]string{"GINAUTH_REDIS_URL": srv.URL(), "GINAUTH_REDIS_NEAR_CACHE": ttl.String()}
	baseA, _ := startApp(t, env)
	baseB, _ := startApp(t, map[string]string{"GINAUTH_REDIS_URL": srv.URL(), "GINAUTH_REDIS_NEAR_CACHE": ttl.String(), "GINAUTH_URL": baseA})

	alice := newBrowser(t, baseA)
	alice.signInWithLink("alice")
	u, _ := url.Parse(baseA)
	copied := newBrowser(t, baseB)
	copied.c.Jar.SetCookies(u, alice.c.Jar.Cookies(u))
	before := hgetCalls(t, srv)
	for range 5 { // the first read fills B's cache, the others are served from it
		if code, m := copied.apiMe(); code != http.StatusOK || string(m["sub"]) != `"alice"` {
			t.Fatalf("/api/me on B = %d %v", code, m)
		}
	}
	if n := hgetCalls(t, srv) - before; n != 1 {
		t.Errorf("5 requests on B sent %d session reads to Redis; want 1 (then the near cache)", n)
	}

	_, home := alice.get("/")
	f := findForm(t, home, "/auth/signout", "Sign out")
	if resp, _ := alice.post(f.action, f.fields); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-out on A = %d", resp.StatusCode)
	}
	start := time.Now()
	for {
		code, _ := copied.apiMe()
		if code == http.StatusUnauthorized {
			break
		}
		if code != http.StatusOK {
			t.Fatalf("/api/me on B after the sign-out = %d; want 200 (cached) or 401", code)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("B still served the signed-out session %v after the sign-out (near cache TTL %v): the invalidation did not arrive", time.Since(start), ttl)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("B refused the signed-out session %v after the sign-out", time.Since(start))
}

// TestRunRedisNearCacheDatabase: the near cache works on database 0 only
// (go-redis caches no other); another database ends the program at start
// with a message naming both variables.
func TestRunRedisNearCacheDatabase(t *testing.T) {
	stderr := &syncBuffer{}
	env := map[string]string{"GINAUTH_ADDR": "127.0.0.1:0", "GINAUTH_SECRET": testSecret,
		"GINAUTH_REDIS_URL": "redis://:hunter2-secret@127.0.0.1:1/2", "GINAUTH_REDIS_NEAR_CACHE": "2s"}
	code := run(context.Background(), envOf(env), stderr)
	out := stderr.String()
	if code != exitFailed {
		t.Errorf("exit status = %d; want %d", code, exitFailed)
	}
	if !strings.Contains(out, "GINAUTH_REDIS_URL with GINAUTH_REDIS_NEAR_CACHE") || !strings.Contains(out, "database 0") {
		t.Errorf("message does not explain the refusal:\n%s", out)
	}
	if strings.Contains(out, "hunter2-secret") {
		t.Errorf("the message shows the Redis password:\n%s", out)
	}
}

// hgetCalls returns how many HGET commands Redis has run (INFO
// commandstats): the store reads a session with one.
func hgetCalls(t *testing.T, srv *redistest.Server) int {
	t.Helper()
	info, err := srv.Client().Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(info, "cmdstat_hget:calls=")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
	if err != nil {
		t.Fatalf("commandstats: %v", err)
	}
	return n
}
