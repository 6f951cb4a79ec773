package ginauth_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

// Helpers shared by the security_*_test.go files (SECURITY.md rows).

const (
	sessionCookieName = "__Host-ginauth"
	csrfCookieName    = "__Host-ginauth-csrf"
	flowCookiePrefix  = "__Secure-ginauth-flow-"
)

// mutate returns s with its middle character replaced by the next character
// of the base64url alphabet (or, outside the alphabet, by a byte one bit
// away): a "wrong" value that always differs from s and has its length and
// alphabet. For base64url text the middle character carries no unused bits,
// so the decoded bytes differ too. Never derive a wrong value by setting a
// character to a constant, which changes nothing when it is already that
// constant.
func mutate(s string) string {
	if s == "" {
		panic("mutate: empty string")
	}
	i := len(s) / 2
	c := s[i] ^ 1
	if j := strings.IndexByte(b64URLAlphabet, s[i]); j >= 0 {
		c = b64URLAlphabet[(j+1)%len(b64URLAlphabet)]
	}
	return s[:i] + string(c) + s[i+1:]
}

// send issues a request with this browser's jar and stops at the first
// response. hdr holds header pairs; "Host" sets the request's Host.
func (b *browser) send(method, path string, body io.Reader, hdr ...string) result {
	b.t.Helper()
	req, err := http.NewRequest(method, b.abs(path), body)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(b.single, req)
}

// postJSON posts a JSON body and stops at the first response.
func (b *browser) postJSON(path, body string, hdr ...string) result {
	b.t.Helper()
	return b.send(http.MethodPost, path, strings.NewReader(body), append([]string{"Content-Type", "application/json"}, hdr...)...)
}

// signInAs runs the whole flow as subject and returns the callback's response.
func (b *browser) signInAs(subject, callbackURL string) result {
	b.t.Helper()
	b.app.op.SetNextUser(subject)
	defer b.app.op.SetNextUser("")
	return b.get(b.authorize(b.startSignIn(callbackURL)))
}

// flowCookie returns the name and value of the browser's only flow cookie.
func (b *browser) flowCookie() (name, value string) {
	b.t.Helper()
	for _, c := range b.cookies() {
		if strings.HasPrefix(c.Name, flowCookiePrefix) {
			if name != "" {
				b.t.Fatalf("several flow cookies in the jar")
			}
			name, value = c.Name, c.Value
		}
	}
	if name == "" {
		b.t.Fatalf("no flow cookie in the jar")
	}
	return name, value
}

// sessionCookies returns the browser's session cookie and chunk cookies, by name.
func (b *browser) sessionCookies() map[string]string {
	out := map[string]string{}
	for _, c := range b.cookies() {
		if c.Name == sessionCookieName || strings.HasPrefix(c.Name, sessionCookieName+".") {
			out[c.Name] = c.Value
		}
	}
	return out
}

// sessionID returns the ID of the browser's session as handlers see it
// (SessionFrom), or "" when the request carries no valid session. It needs
// addSessionIDRoute.
func (b *browser) sessionID() string {
	b.t.Helper()
	r := b.get("/test/sid")
	if r.status != http.StatusOK {
		b.t.Fatalf("/test/sid: %d %s", r.status, r.body)
	}
	return r.body
}

// addSessionIDRoute mounts GET /test/sid, which answers the session ID (or
// "" when signed out). Call it before the first request to the app.
func (a *testApp) addSessionIDRoute() {
	a.router.GET("/test/sid", a.auth.LoadSession(), func(c *gin.Context) {
		s, _ := ginauth.SessionFrom(c)
		c.String(http.StatusOK, s.ID)
	})
}

// browserT is a.browser() reporting failures to t (a subtest) instead of
// the test that created the app.
func (a *testApp) browserT(t *testing.T) *browser {
	b := a.browser()
	b.t = t
	return b
}

// anonGet sends path from a fresh user agent with exactly this Cookie header.
func (a *testApp) anonGet(t *testing.T, path, cookieHeader string) result {
	t.Helper()
	return a.browserT(t).get(path, "Cookie", cookieHeader)
}

// wantFailedWith is failedWith for subtests.
func (a *testApp) wantFailedWith(t *testing.T, r result, code string) {
	t.Helper()
	want := a.base + "/auth/signin?error=" + code
	if r.status != http.StatusFound || r.location() != want {
		t.Fatalf("want 302 to %s, got %d %q body %q", want, r.status, r.location(), r.body)
	}
}

// parsedCookie is one Set-Cookie header, parsed, with its raw text.
type parsedCookie struct {
	*http.Cookie
	raw string
}

// setCookies parses every Set-Cookie header of r, in order.
func setCookies(t *testing.T, r result) []parsedCookie {
	t.Helper()
	var out []parsedCookie
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("unparsable Set-Cookie %q: %v", line, err)
		}
		out = append(out, parsedCookie{c, line})
	}
	return out
}

// setCookie returns the last Set-Cookie of r for name, or nil.
func findSetCookie(t *testing.T, r result, name string) *parsedCookie {
	t.Helper()
	var found *parsedCookie
	for _, c := range setCookies(t, r) {
		if c.Name == name {
			c := c
			found = &c
		}
	}
	return found
}

// deletes reports whether c deletes its cookie (Max-Age=0 or an expiry in the past).
func clearsCookie(c *parsedCookie) bool {
	if c == nil {
		return false
	}
	return c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now()))
}

// setsSessionValue reports whether r sets a session or chunk cookie to a value.
func setsSessionValue(t *testing.T, r result) bool {
	t.Helper()
	for _, c := range setCookies(t, r) {
		if (c.Name == sessionCookieName || strings.HasPrefix(c.Name, sessionCookieName+".")) && !clearsCookie(&c) {
			return true
		}
	}
	return false
}

// wantAnonymous asserts that the Cookie header is treated as signed out
// everywhere: /api/me 401, /app/me 302 to the sign-in page, /auth/session null.
func (a *testApp) wantAnonymous(t *testing.T, cookieHeader string) {
	t.Helper()
	if r := a.anonGet(t, "/api/me", cookieHeader); r.status != http.StatusUnauthorized || r.body != `{"error":"unauthenticated"}` {
		t.Errorf("/api/me: got %d %q, want 401 unauthenticated", r.status, r.body)
	}
	want := a.base + "/auth/signin?callbackUrl=%2Fapp%2Fme"
	if r := a.anonGet(t, "/app/me", cookieHeader); r.status != http.StatusFound || r.location() != want {
		t.Errorf("/app/me: got %d %q, want 302 %q", r.status, r.location(), want)
	}
	if r := a.anonGet(t, "/auth/session", cookieHeader); r.status != http.StatusOK || r.body != "null" {
		t.Errorf("/auth/session: got %d %q, want 200 null", r.status, r.body)
	}
}

// queryParam returns the only value of key in rawURL's query, failing when
// it appears other than once.
func queryParam(t *testing.T, rawURL, key string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	vs := u.Query()[key]
	if len(vs) != 1 {
		t.Fatalf("%s appears %d times in %q", key, len(vs), rawURL)
	}
	return vs[0]
}
