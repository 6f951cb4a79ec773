package ginauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ginauth/ginauth"
)

// cookieHeaderFor returns the Cookie header the browser would send to path.
func (b *browser) cookieHeaderFor(path string) string {
	b.t.Helper()
	u, err := url.Parse(b.app.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	var parts []string
	for _, c := range b.jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// TestCookieBomb_CrossSiteSignInsDoNotGrowCookies: a page on another site
// that points the browser at the sign-in URL 50 times (top-level
// navigations, which carry SameSite=Lax cookies) leaves the app's other
// routes with the same small Cookie header, the auth routes with at most
// MaxPendingFlows flow cookies, and the session intact.
func TestCookieBomb_CrossSiteSignInsDoNotGrowCookies(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browserT(t)
	b.mustSignIn()
	before := b.cookieHeaderFor("/api/me")

	for i := range 50 {
		cb := "%2F" + strings.Repeat("a", i*40) // short and long ones
		r := b.get("/auth/signin/test?callbackUrl="+cb,
			"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Referer", "https://evil.example/")
		if r.status != http.StatusFound {
			t.Fatalf("sign-in start %d: %d", i, r.status)
		}
	}

	for _, path := range []string{"/api/me", "/", "/app/me", "/dashboard"} {
		got := b.cookieHeaderFor(path)
		if got != before {
			t.Errorf("Cookie header for %s grew from %d to %d bytes: %.200q", path, len(before), len(got), got)
		}
		if strings.Contains(got, "ginauth-flow-") {
			t.Errorf("a flow cookie rides on %s", path)
		}
	}
	auth := b.cookieHeaderFor("/auth/callback/test")
	if n := strings.Count(auth, "ginauth-flow-"); n < 1 || n > ginauth.MaxPendingFlows {
		t.Errorf("%d flow cookies on the auth routes, want 1 to %d", n, ginauth.MaxPendingFlows)
	}
	if len(auth)-len(before) > 4096 {
		t.Errorf("flow cookies add %d bytes to the auth routes' Cookie header, want at most 4096", len(auth)-len(before))
	}
	if !b.signedIn() {
		t.Error("the session did not survive the flood")
	}
}

// TestCookieBomb_FlowCookieSizeBounded: the longest callbackUrl the policy
// accepts still makes a flow cookie well under the browser's 4096-byte limit.
func TestCookieBomb_FlowCookieSizeBounded(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	for _, cb := range []string{
		"/" + strings.Repeat("a", 2046),
		"/" + strings.Repeat("%2F", 682),                     // escapes that a normalization could grow
		a.base + "/" + strings.Repeat("b", 2047-len(a.base)), // absolute same-origin
		"/" + strings.Repeat("\u00e9", 1000),                 // non-ASCII, escaped when kept
	} {
		b := a.browserT(t)
		r := b.get("/auth/signin/test?callbackUrl=" + url.QueryEscape(cb))
		if r.status != http.StatusFound {
			t.Fatalf("signin with a %d-byte callbackUrl: %d", len(cb), r.status)
		}
		for _, c := range setCookies(t, r) {
			if strings.Contains(c.Name, "ginauth-flow-") && len(c.Name)+len(c.Value) > 3600 {
				t.Errorf("flow cookie of %d bytes for a %d-byte callbackUrl", len(c.Name)+len(c.Value), len(cb))
			}
		}
	}
}

// TestCookieBomb_OldestPendingFlowDropped: with MaxPendingFlows sign-ins in
// progress, a new one drops the oldest, whose callback then fails; the
// newer ones still complete.
func TestCookieBomb_OldestPendingFlowDropped(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browserT(t)
	var callbacks []string
	for range ginauth.MaxPendingFlows + 1 {
		callbacks = append(callbacks, b.authorize(b.startSignIn("/dashboard")))
		a.clock.Advance(1e9) // a second apart, so "oldest" is well defined
	}
	if n := strings.Count(b.cookieHeaderFor("/auth/callback/test"), "ginauth-flow-"); n != ginauth.MaxPendingFlows {
		t.Fatalf("%d short flows pending, want %d", n, ginauth.MaxPendingFlows)
	}
	if r := b.get(callbacks[0]); r.location() != a.base+"/auth/signin?error=invalid_state" {
		t.Fatalf("callback of the dropped flow: %d %q, want the invalid_state error", r.status, r.location())
	}
	if b.signedIn() {
		t.Fatal("signed in by a dropped flow")
	}
	// The failed callback consumed the browser's other flows too (ST-4):
	// a fresh sign-in works.
	b.mustSignIn()
}

// TestUsedFlowsBounded_ReplayRefusedAfterFlood: an anonymous client that
// floods the record of consumed flows (sign-in starts and callbacks of its
// own) can neither make a consumed callback replayable nor grow the record
// past its bound. While the record is full of live entries, callbacks are
// refused with "busy" (no token request, no session); once they expire,
// sign-ins work again.
func TestUsedFlowsBounded_ReplayRefusedAfterFlood(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	victim := a.browserT(t)
	cb := victim.authorize(victim.startSignIn("/dashboard"))
	flowName, flowValue := victim.flowCookie()
	if r := victim.get(cb); r.location() != a.base+"/dashboard" {
		t.Fatalf("victim sign-in: %d %q", r.status, r.location())
	}

	// The flood: far more consumed flows than the record holds, all live.
	expires := a.clock.Now().Add(ginauth.FlowTTL)
	if added := a.auth.FillConsumedFlowsForTest(2*ginauth.MaxConsumedFlows, expires); added != ginauth.MaxConsumedFlows-1 {
		t.Fatalf("the record took %d flood entries, want %d (its bound less the victim's flow)", added, ginauth.MaxConsumedFlows-1)
	}

	// The replay of the victim's consumed callback, with its flow cookie.
	tokens := a.op.Counts().Token
	attacker := a.browserT(t)
	attacker.setCookie(flowName, flowValue)
	if r := attacker.get(cb); r.location() != a.base+"/auth/signin?error=invalid_state" {
		t.Fatalf("replay after the flood: %d %q, want the invalid_state error", r.status, r.location())
	}
	if attacker.signedIn() || a.op.Counts().Token != tokens {
		t.Fatal("the replayed callback reached the token endpoint or made a session")
	}

	// A new sign-in cannot be recorded: refused, fail closed.
	other := a.browserT(t)
	if r := other.get(other.authorize(other.startSignIn("/dashboard"))); r.location() != a.base+"/auth/signin?error=busy" {
		t.Fatalf("callback with the record full: %d %q, want the busy error", r.status, r.location())
	}
	if other.signedIn() || a.op.Counts().Token != tokens {
		t.Fatal("a callback that could not be recorded went on")
	}

	// Once the flood's entries expire, sign-ins work again.
	a.clock.Advance(ginauth.FlowTTL + 1e9)
	a.browserT(t).mustSignIn()
}
