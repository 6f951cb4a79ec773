package ginauth_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ginauth/ginauth"
)

// Redirect URI (RU) and open redirect (OR): SECURITY.md RU-1..OR-4, checked
// at the app level on the final Location after sign-in and sign-out.

// TestRU1_RedirectURIIgnoresRequestHeaders: Host and forwarding headers never
// change the redirect_uri of the authorization and token requests.
func TestRU1_RedirectURIIgnoresRequestHeaders(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	want := a.base + "/auth/callback/test"
	cases := []struct {
		name string
		hdr  []string
	}{
		{"Host evil.example", []string{"Host", "evil.example"}},
		{"X-Forwarded-Host evil.example", []string{"X-Forwarded-Host", "evil.example"}},
		{"X-Forwarded-Proto http", []string{"X-Forwarded-Proto", "http"}},
		{"X-Forwarded-Port and prefix", []string{"X-Forwarded-Port", "8443", "X-Forwarded-Prefix", "/evil", "X-Original-URL", "/evil"}},
		{"Forwarded header", []string{"Forwarded", "host=evil.example;proto=http"}},
		{"all at once", []string{"Host", "evil.example", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "http", "Forwarded", "host=evil.example;proto=http"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			r := b.send(http.MethodGet, "/auth/signin/test?callbackUrl=%2Fdashboard", nil, tc.hdr...)
			if r.status != http.StatusFound || !strings.HasPrefix(r.location(), a.op.URL("/authorize?")) {
				t.Fatalf("signin: %d %q", r.status, r.location())
			}
			if got := queryParam(t, r.location(), "redirect_uri"); got != want {
				t.Errorf("authorization redirect_uri %q, want %q", got, want)
			}
			if !strings.Contains(r.location(), "redirect_uri="+url.QueryEscape(want)+"&") &&
				!strings.HasSuffix(r.location(), "redirect_uri="+url.QueryEscape(want)) {
				t.Errorf("authorization URL %q lacks the exact encoded redirect_uri", r.location())
			}
			cb := b.authorize(r.location())
			if !strings.HasPrefix(cb, want+"?") {
				t.Fatalf("the provider redirected to %q", cb)
			}
			// The callback arrives with the same hostile headers.
			done := b.send(http.MethodGet, cb, nil, tc.hdr...)
			if done.status != http.StatusFound || done.location() != a.base+"/dashboard" {
				t.Fatalf("callback: %d %q", done.status, done.location())
			}
			if got := a.op.LastTokenRequest()["redirect_uri"]; len(got) != 1 || got[0] != want {
				t.Errorf("token request redirect_uri %q, want %q", got, want)
			}
		})
	}
}

// TestRU2_CallbackRedirectsToCleanURL: the successful callback answers a
// redirect to a URL without code or state, with Referrer-Policy:
// no-referrer and Cache-Control: no-store.
func TestRU2_CallbackRedirectsToCleanURL(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name, callbackURL, want string
	}{
		{"explicit path", "/dashboard", "/dashboard"},
		{"default", "", "/"},
		{"path with its own query", "/dashboard?tab=1", "/dashboard?tab=1"},
		{"path naming code and state", "/dashboard?next=code", "/dashboard?next=code"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			cb := b.authorize(b.startSignIn(tc.callbackURL))
			code, state := queryParam(t, cb, "code"), queryParam(t, cb, "state")
			r := b.get(cb)
			if r.status != http.StatusFound || r.location() != a.base+tc.want {
				t.Fatalf("callback: %d %q, want 302 %q", r.status, r.location(), a.base+tc.want)
			}
			for _, secret := range []string{code, state, "code=", "state=", "iss="} {
				if strings.Contains(r.location(), secret) {
					t.Errorf("Location %q carries %q", r.location(), secret)
				}
			}
			if got := r.header.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("Referrer-Policy %q", got)
			}
			if got := r.header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
				t.Errorf("Cache-Control %q", got)
			}
			if !b.signedIn() {
				t.Error("not signed in")
			}
		})
	}
}

// corpusSameOrigin lists the decoded corpus values that internal/redirect
// accepts as same-origin paths (see internal/redirect/corpus_test.go).
var corpusSameOrigin = map[string]bool{
	"/<>//example.com": true,
	"/?url=//example.com&next=//example.com&redirect=//example.com&redir=//example.com&rurl=//example.com&redirect_uri=//example.com":                                     true,
	"/?url=Https://example.com&next=Https://example.com&redirect=Https://example.com&redir=Https://example.com&rurl=Https://example.com&redirect_uri=Https://example.com": true,
	"/ReceiveAutoRedirect/false?desiredLocationUrl=http://xssposed.org":                                                                                                   true,
	"/http://example.com":                                true,
	"/http://google.com":                                 true,
	"/http://localdomain.pw":                             true,
	"/https://example.com":                               true,
	"/https://example.com/":                              true,
	"/https://example.com//":                             true,
	"/https://example.com@google.com/":                   true,
	"/https://google.com/":                               true,
	"/https://localdomain.pw/":                           true,
	"/https://www.whitelisteddomain.tld@google.com/":     true,
	"/https://www.whitelisteddomain.tld@localdomain.pw/": true,
	"/redirect?url=//example.com&next=//example.com&redirect=//example.com&redir=//example.com&rurl=//example.com&redirect_uri=//example.com":                                     true,
	"/redirect?url=Https://example.com&next=Https://example.com&redirect=Https://example.com&redir=Https://example.com&rurl=Https://example.com&redirect_uri=Https://example.com": true,
}

type corpusEntry struct {
	num          int
	raw, decoded string
}

// readRedirectCorpus reads testdata/open-redirects.txt, each line decoded
// once with url.QueryUnescape (kept raw when it does not decode).
func readRedirectCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	f, err := os.Open("testdata/open-redirects.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		dec, err := url.QueryUnescape(raw)
		if err != nil {
			dec = raw
		}
		out = append(out, corpusEntry{n, raw, dec})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 500 {
		t.Fatalf("corpus has %d lines", len(out))
	}
	return out
}

// checkFinalLocation asserts that loc is exactly the default target, or for
// a same-origin corpus value a URL on the app's own origin.
func checkFinalLocation(t *testing.T, a *testApp, e corpusEntry, loc string) {
	t.Helper()
	if !corpusSameOrigin[e.decoded] {
		if loc != a.base+"/" {
			t.Errorf("line %d %q (decoded %q): Location %q, want %q", e.num, e.raw, e.decoded, loc, a.base+"/")
		}
		return
	}
	base, _ := url.Parse(a.base)
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil ||
		!strings.HasPrefix(loc, a.base+"/") || strings.HasPrefix(u.Path, "//") || strings.ContainsAny(loc, "\\\t\r\n") {
		t.Errorf("line %d %q: same-origin value gave Location %q, not on %s", e.num, e.raw, loc, a.base)
	}
}

// TestOR1_OpenRedirectCorpus runs every line of the 559-line corpus through
// a real sign-in and a real sign-out (form and JSON).
func TestOR1_OpenRedirectCorpus(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	corpus := readRedirectCorpus(t)
	seen := map[string]bool{}
	for _, e := range corpus {
		if corpusSameOrigin[e.decoded] {
			seen[e.decoded] = true
		}
	}
	if len(seen) != len(corpusSameOrigin) {
		t.Fatalf("%d of the %d same-origin values are in the corpus", len(seen), len(corpusSameOrigin))
	}
	const parts = 8
	for p := range parts {
		var slice []corpusEntry
		for i := p; i < len(corpus); i += parts {
			slice = append(slice, corpus[i])
		}
		t.Run(fmt.Sprintf("sign-in part %d", p), func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			for _, e := range slice {
				r := b.get("/auth/signin/test?callbackUrl=" + url.QueryEscape(e.decoded))
				if r.status != http.StatusFound {
					t.Errorf("line %d %q: signin %d", e.num, e.raw, r.status)
					continue
				}
				done := b.get(b.authorize(r.location()))
				if done.status != http.StatusFound {
					t.Errorf("line %d %q: callback %d %q", e.num, e.raw, done.status, done.location())
					continue
				}
				checkFinalLocation(t, a, e, done.location())
			}
		})
		t.Run(fmt.Sprintf("sign-out part %d", p), func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			tok := b.csrf()
			for _, e := range slice {
				r := b.post("/auth/signout", url.Values{"csrfToken": {tok}, "callbackUrl": {e.decoded}})
				if r.status != http.StatusSeeOther {
					t.Errorf("line %d %q: signout %d", e.num, e.raw, r.status)
					continue
				}
				checkFinalLocation(t, a, e, r.location())
				if !utf8.ValidString(e.decoded) {
					continue // JSON cannot carry it as is
				}
				body, _ := json.Marshal(map[string]string{"callbackUrl": e.decoded})
				j := b.postJSON("/auth/signout", string(body), "X-CSRF-Token", tok)
				var got struct{ URL string }
				if j.status != http.StatusOK || json.Unmarshal([]byte(j.body), &got) != nil {
					t.Errorf("line %d %q: JSON signout %d %s", e.num, e.raw, j.status, j.body)
					continue
				}
				checkFinalLocation(t, a, e, got.URL)
			}
		})
	}
}

// TestOR1_AllowListedHostsAreExact: the SECURITY.md OR-1 values with the
// allow-list app.example.com all end at the default target; the allowed
// host itself is the control.
func TestOR1_AllowListedHostsAreExact(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, withConfig(func(c *ginauth.Config) { c.AllowedRedirectHosts = []string{"app.example.com"} }))
	def := a.base + "/"
	cases := []struct {
		name, value, want string
	}{
		{"scheme-relative", "//evil.com", def},
		{"slash backslash", `/\evil.com`, def},
		{"double backslash", `\\evil.com`, def},
		{"encoded slashes", "/%2F%2Fevil.com", def},
		{"encoded backslash", "/%5cevil.com", def},
		{"encoded tab", "/%09/evil.com", def},
		{"encoded newline", "/%0a/evil.com", def},
		{"tab and backslash", "/\t\\evil.com", def},
		{"dot segment and backslash", `/./\evil.com`, def},
		{"absolute foreign URL", "https://evil.com", def},
		{"user info localhost", "http://localhost@evil.com", def},
		{"user info allowed host", "https://app.example.com@evil.com", def},
		{"allowed host as a subdomain", "https://app.example.com.evil.com", def},
		{"suffix of the allowed host", "https://evilapp.example.com", def},
		{"javascript", "javascript:alert(1)", def},
		{"javascript mixed case", "JaVaScRiPt:alert(1)", def},
		{"data URL", "data:text/html,<script>alert(1)</script>", def},
		{"encoded absolute URL", "%68%74%74%70%3a%2f%2fevil.com", def},
		{"allowed host over http", "http://app.example.com/x", def},
		{"control: allowed host", "https://app.example.com/welcome?x=1", "https://app.example.com/welcome?x=1"},
		{"control: same-origin path", "/dashboard", a.base + "/dashboard"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			done := b.get(b.authorize(b.startSignIn(tc.value)))
			if done.status != http.StatusFound || done.location() != tc.want {
				t.Errorf("sign-in: %d %q, want %q", done.status, done.location(), tc.want)
			}
			so := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {tc.value}})
			if so.status != http.StatusSeeOther || so.location() != tc.want {
				t.Errorf("sign-out: %d %q, want %q", so.status, so.location(), tc.want)
			}
		})
	}
}

// TestOR2_ValidTargetPreservedMalformedFallsBack: an allowed path keeps its
// query and fragment; malformed or oversized values fall back to the default
// without a 500 or a hang.
func TestOR2_ValidTargetPreservedMalformedFallsBack(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name, value, want string
	}{
		{"path with query and fragment", "/dashboard?x=1#f", a.base + "/dashboard?x=1#f"},
		{"absolute same-origin URL", a.base + "/dashboard?x=1#f", a.base + "/dashboard?x=1#f"},
		{"http percent", "http://%", a.base + "/"},
		{"http open bracket", "http://[", a.base + "/"},
		{"10 KB value", "/" + strings.Repeat("a", 10<<10), a.base + "/"},
		{"lone percent", "/%", a.base + "/"},
		{"invalid UTF-8", "/\xff\xfe", a.base + "/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			done := b.get(b.authorize(b.startSignIn(tc.value)))
			if done.status != http.StatusFound || done.location() != tc.want {
				t.Errorf("sign-in: %d %q, want %q", done.status, done.location(), tc.want)
			}
			so := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {tc.value}})
			if so.status != http.StatusSeeOther || so.location() != tc.want {
				t.Errorf("sign-out: %d %q, want %q", so.status, so.location(), tc.want)
			}
		})
	}
}

const b64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// TestOR4_TamperedStoredCallback: a tampered flow cookie fails its integrity
// check (no token call, no session); a stored callbackUrl that is hostile
// despite a valid seal is validated again and falls back to the default.
func TestOR4_TamperedStoredCallback(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	broken := []struct {
		name   string
		tamper func(t *testing.T, b *browser, name, value string)
	}{
		{"one byte flipped", func(t *testing.T, b *browser, name, value string) {
			b.setCookie(name, flipChar(value, len(value)/2))
		}},
		{"last character changed (unused bits only, when possible)", func(t *testing.T, b *browser, name, value string) {
			// Keep the decoded bytes, alter only the trailing bits a lenient
			// base64 decoder ignores: still not the value that was sealed.
			last := strings.IndexByte(b64URLAlphabet, value[len(value)-1])
			pad := map[int]int{2: 15, 3: 3}[len(value)%4] // unused low bits
			alt := last ^ 1
			if pad != 0 {
				alt = last&^pad | (last&pad+1)&pad
			}
			b.setCookie(name, value[:len(value)-1]+string(b64URLAlphabet[alt]))
		}},
		{"truncated", func(t *testing.T, b *browser, name, value string) { b.setCookie(name, value[:len(value)-10]) }},
		{"value of another flow", func(t *testing.T, b *browser, name, value string) {
			other := b.app.browserT(t)
			other.startSignIn("//evil.com")
			_, v := other.flowCookie()
			b.setCookie(name, v)
		}},
	}
	for _, tc := range broken {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			cb := b.authorize(b.startSignIn("/dashboard"))
			name, value := b.flowCookie()
			tc.tamper(t, b, name, value)
			tokens := a.op.Counts().Token
			r := b.get(cb)
			a.wantFailedWith(t, r, "invalid_state")
			if setsSessionValue(t, r) || b.signedIn() {
				t.Error("a session was created")
			}
			if n := a.op.Counts().Token - tokens; n != 0 {
				t.Errorf("%d token requests after the integrity failure", n)
			}
		})
	}

	// These sign in (token calls): on an app of their own, so that they
	// cannot add to the token count the parallel cases above check.
	ra := newTestApp(t)
	resealed := []struct {
		name, callback string
	}{
		{"scheme-relative", "//evil.com"},
		{"absolute foreign URL", "https://evil.com/x"},
		{"javascript", "javascript:alert(1)"},
		{"backslash", `/\evil.com`},
		{"empty", ""},
	}
	for _, tc := range resealed {
		t.Run("resealed callback "+tc.name, func(t *testing.T) {
			t.Parallel()
			b := ra.browserT(t)
			cb := b.authorize(b.startSignIn("/dashboard"))
			name, value := b.flowCookie()
			v, err := ra.auth.ResealFlowCallbackForTest(name, value, tc.callback)
			if err != nil {
				t.Fatal(err)
			}
			b.setCookie(name, v)
			r := b.get(cb)
			if r.status != http.StatusFound || r.location() != ra.base+"/" {
				t.Errorf("callback: %d %q, want 302 %q", r.status, r.location(), ra.base+"/")
			}
		})
	}
}
