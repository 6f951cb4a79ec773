package ginauth_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/revsync"
)

// Cluster-wide revocation of cookie sessions (Config.Revocations, package
// revsync) on a real redis-server: instances are Auths of one app (same
// secrets, provider and clock) with their own HTTP servers, Redis clients
// and syncs.

// revBound is the propagation bound the tests hold the instances to: a
// revocation made on one is refused on the others within it. Measured
// delays are far below (see the logs and docs/revocations.md).
const revBound = time.Second

// revSyncOpts are the sync options of the tests: a lost connection is
// noticed within 500 ms.
func revSyncOpts(prefix string, now func() time.Time) revsync.Options {
	return revsync.Options{KeyPrefix: prefix, Heartbeat: 200 * time.Millisecond, Timeout: 300 * time.Millisecond, Now: now}
}

// runSync runs auth.SyncRevocations until the test ends.
func runSync(t *testing.T, auth *ginauth.Auth) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- auth.SyncRevocations(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// newRevSyncApp is instance A: the test app with cookie sessions and a
// revocation sync on srv, running.
func newRevSyncApp(t *testing.T, srv *redistest.Server, prefix string, failOpen bool) *testApp {
	t.Helper()
	a := newTestApp(t, withConfig(func(c *ginauth.Config) {
		rs, err := revsync.New(srv.NewClient(t), revSyncOpts(prefix, c.Now))
		if err != nil {
			t.Fatal(err)
		}
		c.Revocations, c.RevocationsFailOpen = rs, failOpen
	}))
	runSync(t, a.auth)
	waitSynced(t, a)
	a.router.GET("/test/sid", a.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		s, _ := ginauth.SessionFrom(c)
		c.String(http.StatusOK, s.SID)
	})
	return a
}

// revSyncTwin is another instance of a, with its own sync; run says
// whether its SyncRevocations runs.
func (a *testApp) revSyncTwin(srv *redistest.Server, prefix string, failOpen, run bool) *testApp {
	t := a.t
	t.Helper()
	rs, err := revsync.New(srv.NewClient(t), revSyncOpts(prefix, a.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	b := a.twinWith(func(c *ginauth.Config) { c.Revocations, c.RevocationsFailOpen = rs, failOpen })
	if run {
		runSync(t, b.auth)
		waitSynced(t, b)
	}
	return b
}

// waitSynced waits until app's revocation list is in step.
func waitSynced(t *testing.T, app *testApp) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !app.auth.RevocationsSynced(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the revocation list did not get in step")
		}
	}
}

// cookieHeader is the Cookie header of every cookie the browser holds.
func cookieHeader(b *browser) string {
	var parts []string
	for _, c := range b.cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// meStatus is /api/me's status on app with exactly this Cookie header.
func meStatus(t *testing.T, app *testApp, cookie string) int {
	t.Helper()
	return app.anonGet(t, "/api/me", cookie).status
}

// waitStatus polls /api/me on app until it answers want, and returns how
// long that took; it fails after revBound.
func waitStatus(t *testing.T, app *testApp, cookie string, want int, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := meStatus(t, app, cookie)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > revBound {
			t.Fatalf("%s: /api/me = %d after %v; want %d", what, got, revBound, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// signedInCookie signs a browser in on a and returns it and its cookies,
// after checking that every instance in others accepts them.
func signedInCookie(t *testing.T, a *testApp, others ...*testApp) (*browser, string) {
	t.Helper()
	b := a.browserT(t)
	b.mustSignIn()
	c := cookieHeader(b)
	for _, o := range others {
		if got := meStatus(t, o, c); got != http.StatusOK {
			t.Fatalf("instance %s refuses a fresh session: %d", o.base, got)
		}
	}
	return b, c
}

// TestRevSyncAcrossInstances: every revocation the cookie store knows
// (sign-out, a session replaced at sign-in, SignOutUser, back-channel
// logout by sub and by sid),
// made on A, is refused on B within the bound; an instance started
// afterwards loads it.
func TestRevSyncAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	prefix := randomPrefix()
	a := newRevSyncApp(t, srv, prefix, false)
	b := a.revSyncTwin(srv, prefix, false, true)
	var delays []time.Duration

	// Sign-out.
	br, signedOut := signedInCookie(t, a, b)
	if r := br.post("/auth/signout", url.Values{"csrfToken": {br.csrf()}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out on A: %d %s", r.status, r.body)
	}
	delays = append(delays, waitStatus(t, b, signedOut, http.StatusUnauthorized, "signed out on A, on B"))
	b.wantAnonymous(t, signedOut)

	// A browser that signs in again: the session it presented ends (no
	// fixation), on B too.
	brAgain, replaced := signedInCookie(t, a, b)
	a.clock.Advance(time.Second)
	brAgain.mustSignIn()
	if cookieHeader(brAgain) == replaced {
		t.Fatal("the second sign-in kept the cookie")
	}
	delays = append(delays, waitStatus(t, b, replaced, http.StatusUnauthorized, "session replaced at sign-in on A, on B"))
	if got := meStatus(t, b, cookieHeader(brAgain)); got != http.StatusOK {
		t.Errorf("the new session on B = %d; want 200", got)
	}

	// SignOutUser.
	_, everywhere := signedInCookie(t, a, b)
	if err := a.auth.SignOutUser(context.Background(), "test", "alice"); err != nil {
		t.Fatal(err)
	}
	delays = append(delays, waitStatus(t, b, everywhere, http.StatusUnauthorized, "SignOutUser on A, on B"))

	// Back-channel logout (by sub) received by A. The list keeps cut-offs
	// to the millisecond: a session created in the same millisecond as a
	// revocation of its user is refused, so the clock moves on first.
	a.clock.Advance(time.Second)
	_, bySub := signedInCookie(t, a, b)
	r := a.browserT(t).post("/auth/backchannel-logout/test", url.Values{"logout_token": {a.op.LogoutToken("alice", "")}})
	if r.status != http.StatusOK {
		t.Fatalf("back-channel logout on A: %d %s", r.status, r.body)
	}
	delays = append(delays, waitStatus(t, b, bySub, http.StatusUnauthorized, "back-channel logout on A, on B"))

	// Back-channel logout by sid: only that provider session ends.
	a.clock.Advance(time.Second)
	brSID, bySID := signedInCookie(t, a, b)
	_, other := signedInCookie(t, a, b)
	sid := brSID.get("/test/sid").body
	if sid == "" {
		t.Fatal("the session has no sid")
	}
	r = a.browserT(t).post("/auth/backchannel-logout/test", url.Values{"logout_token": {a.op.LogoutToken("", sid)}})
	if r.status != http.StatusOK {
		t.Fatalf("back-channel logout by sid on A: %d %s", r.status, r.body)
	}
	delays = append(delays, waitStatus(t, b, bySID, http.StatusUnauthorized, "back-channel logout by sid on A, on B"))
	if got := meStatus(t, b, other); got != http.StatusOK {
		t.Errorf("another provider session of the user on B after a logout by sid = %d; want 200", got)
	}
	slices.Sort(delays)
	t.Logf("revocation on A -> refused on B (HTTP polling, 2 ms steps): %v", delays)

	// A session made after them is still fine everywhere.
	a.clock.Advance(time.Second)
	signedInCookie(t, a, b)

	// C, started after the revocations, loads them before serving.
	c := a.revSyncTwin(srv, prefix, false, true)
	for _, ck := range []string{signedOut, replaced, everywhere, bySub, bySID} {
		if got := meStatus(t, c, ck); got != http.StatusUnauthorized {
			t.Errorf("instance started later: /api/me with a revoked cookie = %d; want 401", got)
		}
	}
}

// TestRevSyncFailClosedUntilLoaded: with a sync that has not loaded (here:
// SyncRevocations not running), cookie sessions get 503, not the page,
// unless RevocationsFailOpen is set; the sign-out still works locally.
func TestRevSyncFailClosedUntilLoaded(t *testing.T) {
	srv := redistest.Start(t)
	prefix := randomPrefix()
	a := newRevSyncApp(t, srv, prefix, false)
	closed := a.revSyncTwin(srv, prefix, false, false)
	open := a.revSyncTwin(srv, prefix, true, false)
	_, ck := signedInCookie(t, a)
	if r := closed.anonGet(t, "/api/me", ck); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "session_store_unavailable") {
		t.Errorf("fail closed, not loaded: /api/me = %d %s; want 503", r.status, r.body)
	}
	if r := closed.anonGet(t, "/app/me", ck); r.status != http.StatusServiceUnavailable || strings.Contains(r.body, "hello") {
		t.Errorf("fail closed, not loaded: /app/me = %d; want 503", r.status)
	}
	if !strings.Contains(closed.logs.String(), "SyncRevocations") {
		t.Errorf("the warning does not say what to run:\n%s", closed.logs.String())
	}
	if got := meStatus(t, open, ck); got != http.StatusOK {
		t.Errorf("fail open, not loaded: /api/me = %d; want 200", got)
	}
	// A request without a session is not affected.
	if got := meStatus(t, closed, ""); got != http.StatusUnauthorized {
		t.Errorf("no cookie: /api/me = %d; want 401", got)
	}
	if closed.auth.RevocationsSynced() || open.auth.RevocationsSynced() {
		t.Error("RevocationsSynced before SyncRevocations ran")
	}
	// Once it runs, it serves.
	runSync(t, closed.auth)
	waitSynced(t, closed)
	if got := meStatus(t, closed, ck); got != http.StatusOK {
		t.Errorf("after the first load: /api/me = %d; want 200", got)
	}
}

// TestRevSyncRedisRestart: Redis stopped and started again on the same port
// (no persistence: it comes back empty). While it is down, the fail-closed
// instance answers 503 and the fail-open one serves from its list; a
// sign-out made meanwhile succeeds locally and is published once Redis is
// back; the revocations Redis lost are published again, so an instance
// started afterwards refuses them too.
func TestRevSyncRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	prefix := randomPrefix()
	a := newRevSyncApp(t, srv, prefix, false)   // fail closed
	b := a.revSyncTwin(srv, prefix, true, true) // fail open

	br1, before := signedInCookie(t, a, b)
	if r := br1.post("/auth/signout", url.Values{"csrfToken": {br1.csrf()}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out on A: %d", r.status)
	}
	waitStatus(t, b, before, http.StatusUnauthorized, "signed out before the restart, on B")
	br2, during := signedInCookie(t, a, b)

	srv.Stop(t)
	waitStatus(t, a, during, http.StatusServiceUnavailable, "fail closed with Redis down")
	if a.auth.RevocationsSynced() || b.auth.RevocationsSynced() {
		t.Error("RevocationsSynced with Redis down")
	}
	if got := meStatus(t, b, during); got != http.StatusOK {
		t.Errorf("fail open with Redis down: /api/me = %d; want 200", got)
	}
	if got := meStatus(t, b, before); got != http.StatusUnauthorized {
		t.Errorf("fail open with Redis down: a cookie revoked before = %d; want 401", got)
	}
	// Sign-out on A while Redis is down: succeeds, holds on A at once.
	if r := br2.post("/auth/signout", url.Values{"csrfToken": {br2.csrf()}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out on A with Redis down: %d %s", r.status, r.body)
	}
	time.Sleep(300 * time.Millisecond) // a few failed publications
	if n := a.auth.RevocationsPending(); n != 1 {
		t.Errorf("RevocationsPending on A with Redis down = %d; want 1", n)
	}
	if got := meStatus(t, b, during); got != http.StatusOK {
		t.Errorf("fail open, Redis down: B learnt of the sign-out without Redis (%d)", got)
	}

	srv.Start(t)
	restarted := time.Now()
	d := waitStatus(t, b, during, http.StatusUnauthorized, "signed out while Redis was down, on B after its restart")
	t.Logf("sign-out made while Redis was down refused on B %v after Redis came back", d)
	if got := meStatus(t, a, during); got != http.StatusUnauthorized {
		t.Errorf("A after the restart: /api/me = %d; want 401", got)
	}
	// A serves again (in step) with a valid session.
	waitSynced(t, a)
	waitSynced(t, b)
	t.Logf("A and B in step again %v after the restart", time.Since(restarted))
	_, after := signedInCookie(t, a, b)

	if n := a.auth.RevocationsPending(); n != 0 {
		t.Errorf("RevocationsPending on A after the restart = %d; want 0", n)
	}
	// The revocation Redis lost with its restart was published again: an
	// instance started now refuses both.
	c := a.revSyncTwin(srv, prefix, false, true)
	if got := meStatus(t, c, after); got != http.StatusOK {
		t.Errorf("instance started after the restart: a valid session = %d", got)
	}
	for name, ck := range map[string]string{"before the restart": before, "while down": during} {
		if got := meStatus(t, c, ck); got != http.StatusUnauthorized {
			t.Errorf("instance started after the restart: cookie signed out %s = %d; want 401", name, got)
		}
	}
}
