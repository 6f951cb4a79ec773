package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
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
