package ginauth_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
)

// Session fixation (SF), cookies (CK), tampered cookies (TM) and expiry (EX):
// SECURITY.md rows SF, CK, TM and EX.

// --- SF: session fixation -------------------------------------------------

// TestSF1_SignInRenewsSession: a valid session cookie C0 planted in the
// victim's jar is replaced at sign-in; the session ID changes, so a CSRF
// token bound to C0's session no longer verifies.
func TestSF1_SignInRenewsSession(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		chunked bool // the planted session spans chunk cookies
	}{
		{name: "planted single-cookie session"},
		{name: "planted chunked session", chunked: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			users := ginauthtest.DefaultUsers()
			if tc.chunked {
				users[1].Extra = map[string]any{"blob": strings.Repeat("b", 6000)}
			}
			a := newTestApp(t, withOP(func(o *ginauthtest.Options) { o.Users = users }))
			a.addSessionIDRoute()

			// The attacker signs in as bob and plants the cookies in the victim's jar.
			attacker := a.browser()
			if r := attacker.signInAs("bob", "/"); r.status != http.StatusFound || r.location() != a.base+"/" {
				t.Fatalf("attacker sign-in: %d %q", r.status, r.location())
			}
			planted := attacker.sessionCookies()
			if tc.chunked != (len(planted) > 1) {
				t.Fatalf("planted cookies %d, chunked=%v", len(planted), tc.chunked)
			}
			victim := a.browser()
			for name, v := range planted {
				victim.setCookie(name, v)
			}
			sid0 := victim.sessionID()
			if sid0 == "" {
				t.Fatal("the planted cookie is not a valid session")
			}
			token0 := victim.csrf() // bound to the victim's CSRF cookie and C0's session

			r := victim.signInAs("alice", "/dashboard")
			if r.status != http.StatusFound || r.location() != a.base+"/dashboard" {
				t.Fatalf("victim sign-in: %d %q", r.status, r.location())
			}
			if !setsSessionValue(t, r) {
				t.Fatal("the sign-in response sets no new session cookie")
			}
			after := victim.sessionCookies()
			for name, v := range planted {
				if after[name] == v {
					t.Errorf("cookie %s still holds the planted value", name)
				}
			}
			if sid := victim.sessionID(); sid == "" || sid == sid0 {
				t.Errorf("session ID after sign-in %q, planted %q: want a new one", sid, sid0)
			}
			if me := victim.get("/api/me"); me.status != http.StatusOK || !strings.Contains(me.body, `"sub":"alice"`) {
				t.Errorf("/api/me after sign-in: %d %s", me.status, me.body)
			}
			// The token minted for C0's session no longer verifies.
			if so := victim.post("/auth/signout", url.Values{"csrfToken": {token0}}); so.status != http.StatusForbidden {
				t.Errorf("sign-out with the pre-sign-in token: %d, want 403", so.status)
			}
			if !victim.signedIn() {
				t.Error("the refused sign-out ended the session")
			}
			// C0 itself no longer authenticates (cookie store: refused by
			// this process's revocation list; Redis: its key is deleted).
			var c0 []string
			for name, v := range planted {
				c0 = append(c0, name+"="+v)
			}
			if r := a.anonGet(t, "/api/me", strings.Join(c0, "; ")); r.status != http.StatusUnauthorized {
				t.Errorf("the planted cookie after the victim's sign-in: %d, want 401", r.status)
			}
		})
	}
}

// TestSF2_ForgedSessionValueNeverAdopted (cookie store part): a well-formed
// but unsigned value is treated as anonymous and replaced at sign-in.
func TestSF2_ForgedSessionValueNeverAdopted(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.addSessionIDRoute()
	cases := []struct{ name, value string }{
		{"random base64url of a sealed length", base64.RawURLEncoding.EncodeToString(make([]byte, 300))},
		{"base64url of a plausible plaintext", base64.RawURLEncoding.EncodeToString([]byte("\x01\x80\x80\x80\x80\x05attacker-chosen-session-id-0000000000000"))},
		{"43-character random ID", strings.Repeat("Q", 43)},
		{"redis-style signed ID shape", "MTcwMDAwMDAwMHxEdi1CQkFFQ180SUFBUkFCRUFBQUJmXzRBQUE9fA=="},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a.wantAnonymous(t, sessionCookieName+"="+tc.value)
			b := a.browser()
			b.setCookie(sessionCookieName, tc.value)
			if sid := b.sessionID(); sid != "" {
				t.Fatalf("forged value adopted as session %q", sid)
			}
			b.mustSignIn()
			if got := b.cookie(sessionCookieName); got == tc.value || got == "" {
				t.Errorf("session cookie after sign-in %q: want a fresh value", got)
			}
		})
	}
}

// --- CK: cookies ----------------------------------------------------------

// TestCK1_SessionCookieAttributes: __Host-ginauth with Path=/, Secure,
// HttpOnly, SameSite=Lax, no Domain and no Max-Age/Expires, both when it is
// first set and when it is re-issued.
func TestCK1_SessionCookieAttributes(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withConfig(func(c *ginauth.Config) { c.SessionIdleTimeout = 5 * time.Minute }))
	b := a.browser()
	signIn := b.signIn()
	a.clock.Advance(2 * time.Minute)
	touch := b.get("/api/me")
	if touch.status != http.StatusOK {
		t.Fatalf("/api/me: %d", touch.status)
	}
	checks := []struct {
		name string
		ok   func(c *parsedCookie) bool
	}{
		{"Path=/", func(c *parsedCookie) bool { return c.Path == "/" }},
		{"Secure", func(c *parsedCookie) bool { return c.Secure }},
		{"HttpOnly", func(c *parsedCookie) bool { return c.HttpOnly }},
		{"SameSite=Lax", func(c *parsedCookie) bool { return c.SameSite == http.SameSiteLaxMode }},
		{"no Domain", func(c *parsedCookie) bool {
			return c.Domain == "" && !strings.Contains(strings.ToLower(c.raw), "domain=")
		}},
		{"no Max-Age or Expires", func(c *parsedCookie) bool {
			raw := strings.ToLower(c.raw)
			return c.MaxAge == 0 && c.Expires.IsZero() && !strings.Contains(raw, "max-age") && !strings.Contains(raw, "expires")
		}},
		{"non-empty value", func(c *parsedCookie) bool { return c.Value != "" }},
	}
	for _, resp := range []struct {
		name string
		r    result
	}{{"sign-in", signIn}, {"re-issue", touch}} {
		c := findSetCookie(t, resp.r, sessionCookieName)
		if c == nil {
			t.Fatalf("%s: no %s Set-Cookie in %q", resp.name, sessionCookieName, resp.r.header.Values("Set-Cookie"))
		}
		for _, chk := range checks {
			t.Run(resp.name+"/"+chk.name, func(t *testing.T) {
				if !chk.ok(c) {
					t.Errorf("Set-Cookie %q fails %s", c.raw, chk.name)
				}
			})
		}
	}
}

// TestCK2_FlowCookieAttributes: the flow cookie is __Secure-, scoped to the
// auth routes (so it never rides on the app's other requests), HttpOnly,
// Secure, SameSite=Lax, lives at most 900 s and is cleared by the callback,
// whether the sign-in succeeds or fails.
func TestCK2_FlowCookieAttributes(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	start := b.get("/auth/signin/test?callbackUrl=%2Fdashboard")
	if start.status != http.StatusFound {
		t.Fatalf("signin: %d", start.status)
	}
	var flow *parsedCookie
	for _, c := range setCookies(t, start) {
		if strings.HasPrefix(c.Name, flowCookiePrefix) {
			c := c
			flow = &c
		}
	}
	if flow == nil {
		t.Fatalf("no flow cookie in %q", start.header.Values("Set-Cookie"))
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"__Secure- prefix", strings.HasPrefix(flow.Name, "__Secure-")},
		{"Path=/auth", flow.Path == "/auth"},
		{"no Domain", flow.Domain == "" && !strings.Contains(strings.ToLower(flow.raw), "domain=")},
		{"Secure", flow.Secure},
		{"HttpOnly", flow.HttpOnly},
		{"SameSite=Lax", flow.SameSite == http.SameSiteLaxMode},
		{"0 < Max-Age <= 900", flow.MaxAge > 0 && flow.MaxAge <= 900},
		{"value is not the state", !strings.Contains(flow.Value, queryParam(t, start.location(), "state"))},
	}
	for _, chk := range checks {
		t.Run(chk.name, func(t *testing.T) {
			if !chk.ok {
				t.Errorf("flow Set-Cookie %q fails %s", flow.raw, chk.name)
			}
		})
	}

	clears := []struct {
		name     string
		behavior ginauthtest.Behavior
		wantLoc  string // relative to base
	}{
		{"successful callback", ginauthtest.Behavior{}, "/dashboard"},
		{"callback with access_denied", ginauthtest.Behavior{AuthorizeError: "access_denied"}, "/auth/signin?error=access_denied"},
		{"callback with a refused code", ginauthtest.Behavior{TokenError: "invalid_grant"}, "/auth/signin?error=token_exchange"},
	}
	for _, tc := range clears {
		t.Run("cleared by "+tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t)
			a.op.SetBehavior(tc.behavior)
			b := a.browserT(t)
			cb := b.authorize(b.startSignIn("/dashboard"))
			name, _ := b.flowCookie()
			r := b.get(cb)
			if r.status != http.StatusFound || r.location() != a.base+tc.wantLoc {
				t.Fatalf("callback: %d %q, want 302 %q", r.status, r.location(), a.base+tc.wantLoc)
			}
			c := findSetCookie(t, r, name)
			if !clearsCookie(c) {
				t.Fatalf("callback does not clear %s: %v", name, r.header.Values("Set-Cookie"))
			}
			if c.Path != "/auth" || !c.Secure {
				t.Errorf("clearing Set-Cookie %q must keep the cookie's Path=/auth and Secure", c.raw)
			}
			if v := b.cookie(name); v != "" {
				t.Errorf("flow cookie still in the jar: %q", v)
			}
		})
	}
}

// bigUsers returns the default users plus "big" (an ID token of about 12 KB,
// from a large groups claim), "huge" (far more than 8 cookies can hold) and
// "medium".
func bigUsers() []ginauthtest.User {
	groups := func(n int) []string {
		g := make([]string, n)
		for i := range g {
			g[i] = fmt.Sprintf("group-%014d", i) // 20 characters
		}
		return g
	}
	users := ginauthtest.DefaultUsers()
	users = append(users,
		ginauthtest.User{Subject: "big", Name: "Big Groups", Email: "big@example.com", Groups: groups(400)},
		ginauthtest.User{Subject: "medium", Name: "Medium Groups", Email: "medium@example.com", Groups: groups(200)},
		ginauthtest.User{Subject: "huge", Name: "Huge Groups", Email: "huge@example.com", Groups: groups(2000)},
	)
	return users
}

// TestCK3_LargeSessionIsChunked: 400 groups (a 12 KB ID token) give a session spread over
// several __Host-ginauth.N cookies, each within 4096 bytes; it works, stale
// chunks are cleared when the session shrinks, and a session too large for
// 8 chunks is refused explicitly.
func TestCK3_LargeSessionIsChunked(t *testing.T) {
	t.Parallel()
	checkSizes := func(t *testing.T, r result) {
		t.Helper()
		for _, c := range setCookies(t, r) {
			if n := len(c.Name) + len(c.Value); n > 4096 {
				t.Errorf("Set-Cookie %s: name+value %d bytes > 4096", c.Name, n)
			}
		}
	}
	cases := []struct {
		name       string
		then       string // the user of the second sign-in
		signOut    bool   // sign out between the two sign-ins
		wantChunks int    // session cookies in the jar after the second sign-in; 1 = a single cookie
	}{
		{name: "sign out then a small session", then: "alice", signOut: true, wantChunks: 1},
		{name: "a small session directly", then: "alice", wantChunks: 1},
		{name: "a smaller chunked session", then: "medium", wantChunks: -1},
		{name: "the same large session again", then: "big", wantChunks: -2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, withOP(func(o *ginauthtest.Options) { o.Users = bigUsers() }))
			b := a.browser()
			r := b.signInAs("big", "/dashboard")
			if r.status != http.StatusFound || r.location() != a.base+"/dashboard" {
				t.Fatalf("big sign-in: %d %q", r.status, r.location())
			}
			checkSizes(t, r)
			big := b.sessionCookies()
			if _, single := big[sessionCookieName]; single || len(big) < 2 {
				t.Fatalf("big session cookies %d (single %v): want several chunks", len(big), single)
			}
			for i := range len(big) {
				if _, ok := big[fmt.Sprintf("%s.%d", sessionCookieName, i)]; !ok {
					t.Fatalf("chunk %d missing from %d chunks", i, len(big))
				}
			}
			me := b.get("/api/me")
			if me.status != http.StatusOK || !strings.Contains(me.body, `"sub":"big"`) || !strings.Contains(me.body, "group-00000000000399") {
				t.Fatalf("/api/me with the chunked session: %d %.200s", me.status, me.body)
			}
			if tc.signOut {
				so := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}})
				if so.status != http.StatusSeeOther {
					t.Fatalf("sign-out: %d", so.status)
				}
				for name := range big {
					if !clearsCookie(findSetCookie(t, so, name)) {
						t.Errorf("sign-out does not clear %s", name)
					}
				}
				if left := b.sessionCookies(); len(left) != 0 {
					t.Fatalf("after sign-out the jar still holds %d session cookies", len(left))
				}
			}
			r = b.signInAs(tc.then, "/dashboard")
			if r.status != http.StatusFound || r.location() != a.base+"/dashboard" {
				t.Fatalf("second sign-in: %d %q", r.status, r.location())
			}
			checkSizes(t, r)
			now := b.sessionCookies()
			switch {
			case tc.wantChunks == 1:
				if len(now) != 1 || now[sessionCookieName] == "" {
					t.Errorf("after a small sign-in the jar holds %v, want only %s", cookieNamesOf(now), sessionCookieName)
				}
			case tc.wantChunks == -1:
				if _, single := now[sessionCookieName]; single || len(now) < 2 || len(now) >= len(big) {
					t.Errorf("after a smaller chunked sign-in the jar holds %v (big had %d)", cookieNamesOf(now), len(big))
				}
			case tc.wantChunks == -2:
				if len(now) != len(big) {
					t.Errorf("jar holds %v, want %d chunks", cookieNamesOf(now), len(big))
				}
			}
			for i := len(now); i < len(big); i++ {
				name := fmt.Sprintf("%s.%d", sessionCookieName, i)
				if _, stale := now[name]; stale {
					t.Errorf("stale chunk %s left in the jar", name)
				}
			}
			me = b.get("/api/me")
			if me.status != http.StatusOK || !strings.Contains(me.body, `"sub":"`+tc.then+`"`) {
				t.Errorf("/api/me after the second sign-in: %d %.200s", me.status, me.body)
			}
		})
	}
}

func cookieNamesOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCK3_SessionTooLargeRefused: a session that does not fit in 8 chunk
// cookies ends in the explicit session_too_large error and no session, never
// in a silently dropped cookie.
func TestCK3_SessionTooLargeRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		before string // user signed in before, or ""
	}{
		{name: "fresh browser"},
		{name: "browser with a previous session", before: "alice"},
		{name: "browser with a previous chunked session", before: "big"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, withOP(func(o *ginauthtest.Options) { o.Users = bigUsers() }))
			b := a.browser()
			if tc.before != "" {
				if r := b.signInAs(tc.before, "/"); r.status != http.StatusFound || r.location() != a.base+"/" {
					t.Fatalf("first sign-in: %d %q", r.status, r.location())
				}
			}
			r := b.signInAs("huge", "/dashboard")
			a.failedWith(r, "session_too_large")
			if setsSessionValue(t, r) {
				t.Errorf("a session cookie was set: %q", r.header.Values("Set-Cookie"))
			}
			for _, c := range setCookies(t, r) {
				if n := len(c.Name) + len(c.Value); n > 4096 {
					t.Errorf("Set-Cookie %s: %d bytes", c.Name, n)
				}
			}
			if b.signedIn() {
				t.Error("signed in after session_too_large")
			}
			if left := b.sessionCookies(); len(left) != 0 {
				t.Errorf("session cookies left in the jar: %v", cookieNamesOf(left))
			}
			page := b.get(r.location())
			if page.status != http.StatusOK || !strings.Contains(page.body, "too large") {
				t.Errorf("sign-in page after the error: %d, lacks the message", page.status)
			}
		})
	}
}

// TestCK4_NoStoreAndSignOutClearsCookie: every auth response is
// Cache-Control: no-store, and sign-out deletes the session cookie with the
// same name and path and Max-Age=0.
func TestCK4_NoStoreAndSignOutClearsCookie(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	b.mustSignIn()
	anon := a.browser()
	cb := anon.authorize(anon.startSignIn("/"))
	cases := []struct {
		name string
		do   func() result
	}{
		{"GET signin page", func() result { return anon.get("/auth/signin") }},
		{"GET signin/test", func() result { return anon.get("/auth/signin/test") }},
		{"POST signin/test", func() result { return anon.post("/auth/signin/test", url.Values{"csrfToken": {anon.csrf()}}) }},
		{"POST signin/test refused", func() result { return anon.post("/auth/signin/test", nil) }},
		{"GET callback", func() result { return anon.get(cb) }},
		{"GET callback replayed", func() result { return anon.get(cb) }},
		{"GET signout page", func() result { return b.get("/auth/signout") }},
		{"GET session", func() result { return b.get("/auth/session") }},
		{"GET session signed out", func() result { return a.browser().get("/auth/session") }},
		{"GET csrf", func() result { return b.get("/auth/csrf") }},
		{"GET providers", func() result { return b.get("/auth/providers") }},
		{"POST signout refused", func() result { return b.post("/auth/signout", nil) }},
		{"POST signout", func() result { return b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}}) }},
	}
	var signOut result
	for _, tc := range cases {
		r := tc.do()
		if tc.name == "POST signout" {
			signOut = r
		}
		t.Run(tc.name, func(t *testing.T) {
			if r.status >= 500 {
				t.Fatalf("status %d", r.status)
			}
			if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
		})
	}
	t.Run("sign-out clears the session cookie", func(t *testing.T) {
		if signOut.status != http.StatusSeeOther || signOut.location() != a.base+"/" {
			t.Fatalf("sign-out: %d %q", signOut.status, signOut.location())
		}
		c := findSetCookie(t, signOut, sessionCookieName)
		if c == nil {
			t.Fatalf("no %s Set-Cookie: %q", sessionCookieName, signOut.header.Values("Set-Cookie"))
		}
		if c.MaxAge >= 0 || !strings.Contains(c.raw, "Max-Age=0") || c.Value != "" {
			t.Errorf("Set-Cookie %q: want an empty value and Max-Age=0", c.raw)
		}
		if c.Path != "/" || c.Domain != "" || !c.Secure {
			t.Errorf("Set-Cookie %q: want Path=/, no Domain, Secure (same cookie as set)", c.raw)
		}
		if b.cookie(sessionCookieName) != "" || b.signedIn() {
			t.Error("session cookie survives sign-out")
		}
	})
}

// --- TM: tampered and forged cookies ----------------------------------------

// flipChar changes the base64url character at i to another one.
func flipChar(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// TestTM1_TamperedSessionCookieIsAnonymous, TM-2 and TM-3: every damaged,
// foreign or oversized session cookie is treated as signed out (401 for the
// API, 302 to sign-in for browsers), never a 500.
func TestTM1_TamperedSessionCookieIsAnonymous(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	b.mustSignIn()
	valid := b.cookie(sessionCookieName)
	if valid == "" {
		t.Fatal("no session cookie")
	}
	// A cookie sealed by another deployment (another secret).
	other := newTestApp(t, withConfig(func(c *ginauth.Config) {
		c.Secrets = [][]byte{[]byte("another-deployment-secret-of-more-than-32-bytes")}
	}))
	ob := other.browser()
	ob.mustSignIn()
	foreign := ob.cookie(sessionCookieName)
	// A flow cookie's value (TM-3).
	fb := a.browser()
	fb.startSignIn("/")
	_, flowValue := fb.flowCookie()
	b.csrf()
	csrfValue := b.cookie(csrfCookieName)

	cases := []struct {
		name   string
		cookie string // the whole Cookie header
	}{
		{"TM-1 one byte flipped at the start", sessionCookieName + "=" + flipChar(valid, 0)},
		{"TM-1 one byte flipped in the middle", sessionCookieName + "=" + flipChar(valid, len(valid)/2)},
		{"TM-1 one byte flipped at the end", sessionCookieName + "=" + flipChar(valid, len(valid)-1)},
		{"TM-1 last 10 characters truncated", sessionCookieName + "=" + valid[:len(valid)-10]},
		{"TM-1 percent signs", sessionCookieName + "=%%%"},
		{"TM-1 empty value", sessionCookieName + "="},
		{"TM-1 quoted empty value", sessionCookieName + `=""`},
		{"TM-1 sealed under another secret", sessionCookieName + "=" + foreign},
		{"TM-1 valid value under a chunk name with a bad sibling", sessionCookieName + ".0=" + valid[:100] + "; " + sessionCookieName + ".1=%%%"},
		{"TM-1 standard base64 alphabet", sessionCookieName + "=" + strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "=="},
		{"TM-2 5000 x A", sessionCookieName + "=" + strings.Repeat("A", 5000)},
		{"TM-2 nine 4000-byte chunks of A", func() string {
			var parts []string
			for i := range 9 {
				parts = append(parts, fmt.Sprintf("%s.%d=%s", sessionCookieName, i, strings.Repeat("A", 4000)))
			}
			return strings.Join(parts, "; ")
		}()},
		{"TM-3 flow cookie value as the session", sessionCookieName + "=" + flowValue},
		{"TM-3 csrf cookie value as the session", sessionCookieName + "=" + csrfValue},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a.wantAnonymous(t, tc.cookie)
		})
	}
	// The last character carries unused bits: every other character in its
	// place must be refused too (a lenient base64 decoder would accept some).
	t.Run("TM-1 every other last character", func(t *testing.T) {
		t.Parallel()
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for _, c := range alphabet {
			if byte(c) == valid[len(valid)-1] {
				continue
			}
			v := valid[:len(valid)-1] + string(c)
			if r := a.anonGet(t, "/api/me", sessionCookieName+"="+v); r.status != http.StatusUnauthorized {
				t.Errorf("last character %q: /api/me %d, want 401", c, r.status)
			}
		}
	})
	t.Run("control: the untouched cookie works", func(t *testing.T) {
		if r := a.anonGet(t, "/api/me", sessionCookieName+"="+valid); r.status != http.StatusOK {
			t.Errorf("valid cookie: %d", r.status)
		}
	})
}

// TestTM2_HugeCookieHeaderRefused: a Cookie header over 1 MiB is refused by
// the HTTP server with 431 before ginauth sees it.
func TestTM2_HugeCookieHeaderRefused(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name string
		size int
	}{
		{"1 MiB plus 8 KiB", 1<<20 + 8<<10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.anonGet(t, "/api/me", sessionCookieName+"="+strings.Repeat("A", tc.size))
			if r.status != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("status %d, want 431", r.status)
			}
		})
	}
}

// --- EX: expiry ------------------------------------------------------------

// TestEX1_IdleTimeoutEnforcedServerSide: after idle+1 s without requests the
// cookie no longer works, even replayed as is; requests within the idle
// window keep the session alive.
func TestEX1_IdleTimeoutEnforcedServerSide(t *testing.T) {
	t.Parallel()
	const idle = 5 * time.Minute
	cases := []struct {
		name      string
		gaps      []time.Duration // clock advances, each followed by a request with the jar
		wantAlive bool
	}{
		{name: "idle plus one second", gaps: []time.Duration{idle + time.Second}, wantAlive: false},
		{name: "exactly idle", gaps: []time.Duration{idle}, wantAlive: false},
		{name: "one second under idle", gaps: []time.Duration{idle - time.Second}, wantAlive: true},
		{name: "activity every 4 minutes for 20 minutes", gaps: []time.Duration{4 * time.Minute, 4 * time.Minute, 4 * time.Minute, 4 * time.Minute, 4 * time.Minute}, wantAlive: true},
		{name: "activity then idle plus one second", gaps: []time.Duration{4 * time.Minute, idle + time.Second}, wantAlive: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, withConfig(func(c *ginauth.Config) {
				c.SessionIdleTimeout = idle
				c.SessionMaxAge = time.Hour
			}))
			b := a.browser()
			b.mustSignIn()
			captured := sessionCookieName + "=" + b.cookie(sessionCookieName)
			var elapsed time.Duration
			for i, gap := range tc.gaps {
				a.clock.Advance(gap)
				elapsed += gap
				alive := b.signedIn()
				if last := i == len(tc.gaps)-1; !last && !alive {
					t.Fatalf("session ended after %v of activity", elapsed)
				}
			}
			api := b.get("/api/me")
			browserReq := b.get("/app/me")
			if tc.wantAlive {
				if api.status != http.StatusOK || browserReq.status != http.StatusOK {
					t.Errorf("after %v: /api/me %d, /app/me %d; want 200", elapsed, api.status, browserReq.status)
				}
			} else {
				if api.status != http.StatusUnauthorized {
					t.Errorf("after %v: /api/me %d, want 401", elapsed, api.status)
				}
				if want := a.base + "/auth/signin?callbackUrl=%2Fapp%2Fme"; browserReq.status != http.StatusFound || browserReq.location() != want {
					t.Errorf("after %v: /app/me %d %q, want 302 %q", elapsed, browserReq.status, browserReq.location(), want)
				}
			}
			// The cookie captured at sign-in, replayed as is, is judged by
			// its own last activity (sign-in), not by the browser's.
			if elapsed >= idle {
				a.wantAnonymous(t, captured)
			}
		})
	}
}

// TestEX1_CookieReissuedAtMostEveryTouchInterval: activity re-issues the
// session cookie (moving the idle deadline) at most once per touch interval.
func TestEX1_CookieReissuedAtMostEveryTouchInterval(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withConfig(func(c *ginauth.Config) { c.SessionIdleTimeout = 5 * time.Minute }))
	b := a.browser()
	b.mustSignIn() // the check request at t=0 re-issues nothing
	steps := []struct {
		name        string
		advance     time.Duration
		wantReissue bool
	}{
		{"10 s after sign-in", 10 * time.Second, false},
		{"50 s after sign-in", 40 * time.Second, false},
		{"61 s after sign-in", 11 * time.Second, true},
		{"30 s after the re-issue", 30 * time.Second, false},
		{"61 s after the re-issue", 31 * time.Second, true},
		{"same instant again", 0, false},
	}
	for _, st := range steps {
		a.clock.Advance(st.advance)
		r := b.get("/api/me")
		t.Run(st.name, func(t *testing.T) {
			if r.status != http.StatusOK {
				t.Fatalf("/api/me: %d", r.status)
			}
			if got := findSetCookie(t, r, sessionCookieName) != nil; got != st.wantReissue {
				t.Errorf("re-issued %v, want %v", got, st.wantReissue)
			}
		})
	}
}

// TestEX2_AbsoluteTimeoutForcesReauth: a request every minute keeps the
// session from going idle, but it ends at SessionMaxAge regardless.
func TestEX2_AbsoluteTimeoutForcesReauth(t *testing.T) {
	t.Parallel()
	const maxAge, idle = 20 * time.Minute, 5 * time.Minute
	cases := []struct {
		name       string
		path       string
		wantStatus int
		wantLoc    string // relative to base
	}{
		{"API", "/api/me", http.StatusUnauthorized, ""},
		{"browser", "/app/me", http.StatusFound, "/auth/signin?callbackUrl=%2Fapp%2Fme"},
		{"session route", "/auth/session", http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, withConfig(func(c *ginauth.Config) {
				c.SessionMaxAge, c.SessionIdleTimeout = maxAge, idle
			}))
			b := a.browser()
			b.mustSignIn()
			captured := sessionCookieName + "=" + b.cookie(sessionCookieName)
			for m := 1; m < 20; m++ {
				a.clock.Advance(time.Minute)
				if r := b.get(tc.path); r.status != http.StatusOK || (tc.path == "/auth/session" && r.body == "null") {
					t.Fatalf("minute %d: %s %d %.80s", m, tc.path, r.status, r.body)
				}
			}
			a.clock.Advance(time.Minute) // 20 minutes after sign-in
			r := b.get(tc.path)
			if r.status != tc.wantStatus {
				t.Fatalf("at the absolute limit: %s %d, want %d", tc.path, r.status, tc.wantStatus)
			}
			if tc.wantLoc != "" && r.location() != a.base+tc.wantLoc {
				t.Errorf("Location %q, want %q", r.location(), a.base+tc.wantLoc)
			}
			if tc.path == "/auth/session" && r.body != "null" {
				t.Errorf("session at the absolute limit: %s", r.body)
			}
			if b.signedIn() {
				t.Error("still signed in at the absolute limit")
			}
			a.wantAnonymous(t, captured)
			// Re-authentication works.
			b.mustSignIn()
		})
	}
}

// TestTM1_TamperedOrSwappedTokensCookie: with the cookie store the provider
// tokens travel in their own sealed cookie, bound to the session ID. A
// flipped byte, or the tokens cookie of another session, never yields
// tokens: revocation at sign-out is skipped (and logged without values),
// while the local sign-out still happens.
func TestTM1_TamperedOrSwappedTokensCookie(t *testing.T) {
	t.Parallel()
	const tokensCookie = "__Host-ginauth-tokens"
	for _, tc := range []struct {
		name   string
		mutate func(a *testApp, b *browser)
	}{
		{"byte flipped", func(_ *testApp, b *browser) {
			v := []byte(b.cookie(tokensCookie))
			v[len(v)/2] ^= 0x01
			b.setCookie(tokensCookie, string(v))
		}},
		{"swapped from another session", func(a *testApp, b *browser) {
			other := a.browser()
			other.mustSignIn()
			b.setCookie(tokensCookie, other.cookie(tokensCookie))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t)
			b := a.browser()
			b.mustSignIn()
			if b.cookie(tokensCookie) == "" {
				t.Fatalf("no %s cookie after sign-in", tokensCookie)
			}
			tc.mutate(a, b)
			before := a.op.Counts().Revoke
			r := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}, "revokeToken": {"true"}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("signout: %d %s", r.status, r.body)
			}
			if got := a.op.Counts().Revoke - before; got != 0 {
				t.Fatalf("%d revocation calls with an unreadable tokens cookie", got)
			}
			if !strings.Contains(a.logs.String(), "session tokens unreadable") {
				t.Fatalf("no warning logged:\n%s", a.logs.String())
			}
			if b.signedIn() {
				t.Fatal("still signed in after sign-out")
			}
		})
	}
	// Control: an intact tokens cookie is used for revocation.
	a := newTestApp(t)
	b := a.browser()
	b.mustSignIn()
	if r := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}, "revokeToken": {"true"}}); r.status != http.StatusSeeOther {
		t.Fatalf("signout: %d", r.status)
	}
	if got := a.op.Counts().Revoke; got != 2 {
		t.Fatalf("revocation calls %d, want 2 (refresh and access token)", got)
	}
}

// TestSessionRefusedWhenProviderIssuerChanges: a session names its
// provider and issuer; an instance whose provider of that name has another
// issuer (or that has no such provider) refuses it, although the cookie
// opens with the shared secrets.
func TestSessionRefusedWhenProviderIssuerChanges(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	b.mustSignIn()
	cookie := sessionCookieName + "=" + b.cookie(sessionCookieName)
	if r := a.anonGet(t, "/api/me", cookie); r.status != http.StatusOK {
		t.Fatalf("control: /api/me %d", r.status)
	}
	other := newTestApp(t) // same secrets, provider "test" at another issuer
	if r := other.anonGet(t, "/api/me", cookie); r.status != http.StatusUnauthorized {
		t.Fatalf("/api/me on an instance whose provider has another issuer: %d %s", r.status, r.body)
	}
}
