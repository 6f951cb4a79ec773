package ginauth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/testenv"
	"github.com/ginauth/ginauth/providers"
)

// An app under a path prefix: BaseURL <server>/app, every route below /app
// (SECURITY.md PX-1).

const testPrefix = "/app"

// newPrefixApp is newTestApp for an app whose BaseURL is the server's
// origin followed by testPrefix. a.base stays the origin, so the browser
// helpers take full paths ("/app/auth/csrf").
func newPrefixApp(t *testing.T, opts ...appOption) *testApp {
	t.Helper()
	a := &testApp{t: t, clock: newClock(), logs: &syncBuffer{}, failures: &signInFailures{}}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.router.ServeHTTP(w, r)
	}))
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	a.base = a.srv.URL
	cfg := ginauth.Config{
		BaseURL: a.base + testPrefix,
		Secrets: [][]byte{testSecret},
		Logger:  newCaptureLogger(a.logs, a.failures),
		Now:     a.clock.Now,
	}
	opOpts := ginauthtest.Options{Now: a.clock.Now}
	provCfg := providers.OIDCConfig{Name: "test", DisplayName: "Test OP", Now: a.clock.Now, Scopes: []string{"profile", "email"}}
	for _, o := range opts {
		o(&cfg, &opOpts, &provCfg)
	}
	op, err := ginauthtest.Start(opOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	a.op = op
	provCfg.Issuer, provCfg.ClientID, provCfg.ClientSecret = op.Issuer(), op.ClientID(), op.ClientSecret()
	if a.prov, err = providers.OIDC(provCfg); err != nil {
		t.Fatal(err)
	}
	cfg.Providers = []providers.Provider{a.prov}
	if a.auth, err = ginauth.New(cfg); err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	g := r.Group(testPrefix)
	a.auth.Register(g.Group("/auth"))
	g.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "home") })
	g.GET("/dashboard", func(c *gin.Context) { c.String(http.StatusOK, "dashboard") })
	g.GET("/me", a.auth.RequireAuth(ginauth.Browser), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, "hello "+u.Subject)
	})
	g.GET("/api/me", a.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.JSON(http.StatusOK, u)
	})
	// Another app on the same origin: it echoes the cookies it receives.
	r.GET("/other/cookies", func(c *gin.Context) { c.String(http.StatusOK, c.GetHeader("Cookie")) })
	a.router = r
	return a
}

// prefixSignIn runs a whole sign-in under the prefix with callbackURL and
// returns the callback's response.
func prefixSignIn(t *testing.T, b *browser, callbackURL string) result {
	t.Helper()
	r := b.get(testPrefix + "/auth/signin/test?callbackUrl=" + url.QueryEscape(callbackURL))
	if r.status != http.StatusFound {
		t.Fatalf("signin: %d %s", r.status, r.body)
	}
	return b.get(b.authorize(r.location()))
}

// prefixSignedIn reports whether <prefix>/api/me accepts b.
func prefixSignedIn(t *testing.T, b *browser) bool {
	t.Helper()
	switch r := b.get(testPrefix + "/api/me"); r.status {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	default:
		t.Fatalf("%s/api/me: %d %s", testPrefix, r.status, r.body)
		return false
	}
}

// prefixCSRF fetches a CSRF token from <prefix>/auth/csrf.
func prefixCSRF(t *testing.T, b *browser) string {
	t.Helper()
	r := b.get(testPrefix + "/auth/csrf")
	var out struct{ CSRFToken string }
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &out) != nil || out.CSRFToken == "" {
		t.Fatalf("csrf: %d %s", r.status, r.body)
	}
	return out.CSRFToken
}

// wantCookie asserts the attributes of a Set-Cookie of r: name, Path,
// Secure, HttpOnly, no Domain, and whether it sets or clears a value.
func wantCookie(t *testing.T, r result, name, path string, set bool) {
	t.Helper()
	c := findSetCookie(t, r, name)
	switch {
	case c == nil:
		t.Errorf("no Set-Cookie %s in %q", name, r.header.Values("Set-Cookie"))
	case c.Path != path || !c.Secure || !c.HttpOnly || c.Domain != "" || strings.Contains(c.raw, "Domain="):
		t.Errorf("Set-Cookie %q: want Path=%s, Secure, HttpOnly, no Domain", c.raw, path)
	case set == clearsCookie(c) || (set && c.Value == ""):
		t.Errorf("Set-Cookie %q: want a value %v", c.raw, set)
	}
}

// TestPX1_SignInUnderPrefix: every URL keeps the prefix (redirect URI,
// sign-in page, error redirects, sign-in redirect of RequireAuth), the
// cookies are __Secure- and scoped to the prefix (flow cookies to the auth
// routes), and another app on the origin never receives them.
func TestPX1_SignInUnderPrefix(t *testing.T) {
	t.Parallel()
	a := newPrefixApp(t)
	app := a.base + testPrefix
	b := a.browserT(t)

	// Signed out: RequireAuth sends the browser to the prefixed sign-in page.
	if r := b.get(testPrefix + "/me"); r.status != http.StatusFound || r.location() != app+"/auth/signin?callbackUrl=%2Fapp%2Fme" {
		t.Errorf("signed-out /app/me: %d %q", r.status, r.location())
	}
	page := b.get(testPrefix + "/auth/signin?callbackUrl=%2Fapp%2Fme")
	if page.status != http.StatusOK || !strings.Contains(page.body, `action="`+app+`/auth/signin/test"`) ||
		!strings.Contains(page.body, `name="callbackUrl" value="`+app+`/me"`) {
		t.Errorf("sign-in page: %d\n%s", page.status, page.body)
	}
	if r := b.get(testPrefix + "/auth/providers"); !strings.Contains(r.body, `"signinUrl":"`+app+`/auth/signin/test"`) {
		t.Errorf("providers: %s", r.body)
	}
	if r := b.get(testPrefix + "/auth/signin"); !strings.Contains(r.body, `name="callbackUrl" value="`+app+`/"`) {
		t.Errorf("sign-in page without callbackUrl does not default to %s/:\n%s", app, r.body)
	}

	// Sign-in: the redirect URI, then the flow cookie on the auth routes.
	start := b.get(testPrefix + "/auth/signin/test?callbackUrl=%2Fapp%2Fdashboard")
	if start.status != http.StatusFound {
		t.Fatalf("signin: %d %s", start.status, start.body)
	}
	if got := queryParam(t, start.location(), "redirect_uri"); got != app+"/auth/callback/test" {
		t.Errorf("redirect_uri %q, want %s/auth/callback/test", got, app)
	}
	var flow string
	for _, c := range setCookies(t, start) {
		if strings.HasPrefix(c.Name, "__Secure-ginauth-flow-") {
			flow = c.Name
		}
	}
	if flow == "" {
		t.Fatalf("no __Secure-ginauth-flow- cookie: %q", start.header.Values("Set-Cookie"))
	}
	wantCookie(t, start, flow, testPrefix+"/auth", true)
	cb := b.authorize(start.location())
	if !strings.HasPrefix(cb, app+"/auth/callback/test?") {
		t.Fatalf("the provider redirected to %q", cb)
	}
	done := b.get(cb)
	if done.status != http.StatusFound || done.location() != app+"/dashboard" {
		t.Fatalf("callback: %d %q\n%s", done.status, done.location(), a.logs.String())
	}
	if got := a.op.LastTokenRequest()["redirect_uri"]; len(got) != 1 || got[0] != app+"/auth/callback/test" {
		t.Errorf("token request redirect_uri %q", got)
	}
	wantCookie(t, done, "__Secure-ginauth", testPrefix, true)
	wantCookie(t, done, flow, testPrefix+"/auth", false)
	for _, c := range setCookies(t, done) {
		if strings.HasPrefix(c.Name, "__Host-") || c.Path == "/" {
			t.Errorf("Set-Cookie %q outside the prefix", c.raw)
		}
	}
	if !prefixSignedIn(t, b) {
		t.Fatal("not signed in under the prefix")
	}
	if r := b.get(testPrefix + "/me"); r.status != http.StatusOK || !strings.HasPrefix(r.body, "hello ") {
		t.Errorf("/app/me: %d %q", r.status, r.body)
	}
	if r := b.get(testPrefix + "/auth/session"); r.status != http.StatusOK || !strings.Contains(r.body, `"user":`) {
		t.Errorf("/app/auth/session: %d %s", r.status, r.body)
	}
	// The browser sends the session to the prefix only.
	if r := b.get("/other/cookies"); r.status != http.StatusOK || strings.Contains(r.body, "ginauth") {
		t.Errorf("another app on the origin received %q", r.body)
	}
	// A route outside the prefix does not exist.
	if r := b.get("/me"); r.status != http.StatusNotFound {
		t.Errorf("/me outside the prefix: %d, want 404", r.status)
	}

	// A failed callback goes back to the prefixed sign-in page.
	if r := b.get(testPrefix + "/auth/callback/test?code=x&state=y"); r.status != http.StatusFound ||
		r.location() != app+"/auth/signin?error=invalid_state" {
		t.Errorf("bad callback: %d %q", r.status, r.location())
	}

	// Sign-out clears the cookies at their Path and lands on the prefix.
	so := b.post(testPrefix+"/auth/signout", url.Values{"csrfToken": {prefixCSRF(t, b)}}, "Origin", a.base)
	if so.status != http.StatusSeeOther || so.location() != app+"/" {
		t.Fatalf("sign-out: %d %q", so.status, so.location())
	}
	wantCookie(t, so, "__Secure-ginauth", testPrefix, false)
	if prefixSignedIn(t, b) {
		t.Error("still signed in after sign-out")
	}
}

// TestPX1_CallbackURLConfined: callbackUrl values that leave the prefix
// fall back to <prefix>/, after sign-in, after sign-out and on the sign-in
// page; values under the prefix are kept.
func TestPX1_CallbackURLConfined(t *testing.T) {
	t.Parallel()
	a := newPrefixApp(t)
	app := a.base + testPrefix
	def := app + "/"
	cases := []struct {
		name, value, want string
	}{
		{"page under the prefix", "/app/dashboard?x=1#f", app + "/dashboard?x=1#f"},
		{"the prefix itself", "/app", app},
		{"absolute URL under the prefix", app + "/dashboard", app + "/dashboard"},
		{"default", "", def},
		{"root", "/", def},
		{"path outside the prefix", "/other", def},
		{"sibling sharing the prefix's start", "/application", def},
		{"prefix in another case", "/APP/dashboard", def},
		{"dot-dot out of the prefix", "/app/../other", def},
		{"encoded dot-dot out of the prefix", "/app/%2e%2e/other", def},
		{"encoded slash after the prefix", "/app%2F..%2Fother", def},
		{"absolute URL outside the prefix", a.base + "/other", def},
		{"absolute URL of the origin", a.base, def},
		{"scheme-relative", "//evil.com/app/", def},
		{"backslash", `/app\..\other`, def},
		{"foreign URL", "https://evil.com/app/", def},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			if r := prefixSignIn(t, b, tc.value); r.status != http.StatusFound || r.location() != tc.want {
				t.Errorf("sign-in: %d %q, want %q", r.status, r.location(), tc.want)
			}
			so := b.post(testPrefix+"/auth/signout", url.Values{"csrfToken": {prefixCSRF(t, b)}, "callbackUrl": {tc.value}})
			if so.status != http.StatusSeeOther || so.location() != tc.want {
				t.Errorf("sign-out: %d %q, want %q", so.status, so.location(), tc.want)
			}
			page := b.get(testPrefix + "/auth/signin?callbackUrl=" + url.QueryEscape(tc.value))
			if want := `name="callbackUrl" value="` + tc.want + `"`; !strings.Contains(strings.ReplaceAll(page.body, "&#43;", "+"), want) {
				t.Errorf("sign-in page lacks %s:\n%s", want, page.body)
			}
		})
	}
}

// TestPX1_OpenRedirectCorpusUnderPrefix: every line of the open-redirect
// corpus, the same-origin ones included (none is under the prefix), ends at
// <prefix>/ after sign-out (form) and on the sign-in page.
func TestPX1_OpenRedirectCorpusUnderPrefix(t *testing.T) {
	t.Parallel()
	a := newPrefixApp(t)
	def := a.base + testPrefix + "/"
	b := a.browserT(t)
	tok := prefixCSRF(t, b)
	hidden := regexp.MustCompile(`name="callbackUrl" value="([^"]*)"`)
	for _, e := range readRedirectCorpus(t) {
		r := b.post(testPrefix+"/auth/signout", url.Values{"csrfToken": {tok}, "callbackUrl": {e.decoded}})
		if r.status != http.StatusSeeOther || r.location() != def {
			t.Errorf("line %d %q: sign-out %d %q, want %q", e.num, e.raw, r.status, r.location(), def)
		}
		page := b.get(testPrefix + "/auth/signin?callbackUrl=" + url.QueryEscape(e.decoded))
		m := hidden.FindStringSubmatch(page.body)
		if m == nil || m[1] != def {
			t.Errorf("line %d %q: sign-in page callbackUrl %v, want %q", e.num, e.raw, m, def)
		}
	}
}

// TestPX1_CSRFOriginStaysExact: the origin check compares with BaseURL's
// origin, never with its path.
func TestPX1_CSRFOriginStaysExact(t *testing.T) {
	t.Parallel()
	a := newPrefixApp(t)
	b := a.browserT(t)
	tok := prefixCSRF(t, b)
	for _, tc := range []struct {
		origin string
		want   int
	}{
		{a.base, http.StatusSeeOther},
		{"", http.StatusSeeOther},
		{a.base + testPrefix, http.StatusForbidden},
		{a.base + "/", http.StatusForbidden},
		{strings.Replace(a.base, "https://", "http://", 1), http.StatusForbidden},
		{"https://evil.example", http.StatusForbidden},
		{"null", http.StatusForbidden},
	} {
		var hdr []string
		if tc.origin != "" {
			hdr = []string{"Origin", tc.origin}
		}
		if r := b.post(testPrefix+"/auth/signout", url.Values{"csrfToken": {tok}}, hdr...); r.status != tc.want {
			t.Errorf("Origin %q: %d, want %d", tc.origin, r.status, tc.want)
		}
	}
}

// TestPX2_TwoAppsOneHost: two apps on one host (cookies ignore ports) keep
// their sessions apart when their CookieNames differ; with the same name the
// second sign-in replaces the first app's session (the control).
func TestPX2_TwoAppsOneHost(t *testing.T) {
	t.Parallel()
	otherSecret := []byte("fedcba9876543210fedcba9876543210-other-secret")
	for _, tc := range []struct {
		name         string
		nameA, nameB string
		bothSignedIn bool
	}{
		{"different names", "shop", "admin", true},
		{"same default name", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			appA := newTestApp(t, withConfig(func(c *ginauth.Config) { c.CookieName = tc.nameA }))
			appB := newTestApp(t, withConfig(func(c *ginauth.Config) {
				c.CookieName, c.Secrets = tc.nameB, [][]byte{otherSecret}
			}))
			if ua, ub := mustURL(t, appA.base), mustURL(t, appB.base); ua.Hostname() != ub.Hostname() || ua.Port() == ub.Port() {
				t.Fatalf("apps at %s and %s: want one host, two ports", appA.base, appB.base)
			}
			a := appA.browserT(t)
			b := appB.browserT(t)
			b.jar = a.jar // one browser
			b.single.Jar, b.follow.Jar = a.jar, a.jar
			if r := a.signIn(); r.status != http.StatusFound {
				t.Fatalf("sign-in to A: %d %q", r.status, r.location())
			}
			if r := b.signIn(); r.status != http.StatusFound || r.location() != appB.base+"/dashboard" {
				t.Fatalf("sign-in to B: %d %q", r.status, r.location())
			}
			if !b.signedIn() {
				t.Fatal("not signed in to B")
			}
			if got := a.signedIn(); got != tc.bothSignedIn {
				t.Errorf("A signed in after B's sign-in: %v, want %v", got, tc.bothSignedIn)
			}
			if tc.bothSignedIn {
				// Signing out of B leaves A.
				if r := b.post("/auth/signout", url.Values{"csrfToken": {b.csrf()}}); r.status != http.StatusSeeOther {
					t.Fatalf("sign-out of B: %d", r.status)
				}
				if b.signedIn() || !a.signedIn() {
					t.Errorf("after B's sign-out: B %v, A %v; want false, true", b.signedIn(), a.signedIn())
				}
			}
		})
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// ExampleConfig_pathPrefix: an app behind a reverse proxy that forwards
// /app/...: BaseURL carries the path, and every route is mounted below it.
func ExampleConfig_pathPrefix() {
	p, _ := providers.OIDC(providers.OIDCConfig{Name: "corp", Issuer: "https://id.example.com", ClientID: "app"})
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:    "https://example.com/app",
		Secrets:    [][]byte{[]byte("an example key of at least 32 bytes!")},
		Providers:  []providers.Provider{p},
		CookieName: "app", // another app on example.com keeps its own cookies
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := gin.New()
	app := r.Group("/app")
	auth.Register(app.Group("/auth")) // AuthPath defaults to /app/auth
	app.GET("/me", auth.RequireAuth(ginauth.Browser), func(c *gin.Context) {})

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://example.com/app/me", nil))
	fmt.Println(w.Code, w.Header().Get("Location"))
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://example.com/app/auth/csrf", nil))
	c := w.Result().Cookies()[0]
	fmt.Println(c.Name, c.Path)
	// Output:
	// 302 https://example.com/app/auth/signin?callbackUrl=%2Fapp%2Fme
	// __Secure-app-csrf /app
}

// TestClientScript_BaseFromItsURL: without window.GINAUTH_BASE_PATH the
// client talks to the auth routes it was loaded from, so an app under a
// path prefix needs no inline script (its CSP may forbid one); without a
// callbackUrl it lets the server pick the default target.
func TestClientScript_BaseFromItsURL(t *testing.T) {
	t.Parallel()
	node := testenv.LookPath(t, "node", "the client script test needs Node.js 20 or later")
	harness := `
const fs = require("fs");
const source = fs.readFileSync(process.argv[2], "utf8").replace(/typeof window !== "undefined" \? window : this/, "window");
const cases = JSON.parse(process.argv[3]);
(async () => {
  const out = {};
  for (const [name, c] of Object.entries(cases)) {
    const calls = [];
    global.window = {
      location: { href: "https://app.example/app/page", origin: "https://app.example", assign: () => {} },
      document: c.src === null ? {} : { currentScript: { src: c.src } },
    };
    if (c.basePath) window.GINAUTH_BASE_PATH = c.basePath;
    window.fetch = global.fetch = (url, opts) => {
      calls.push(url + " " + ((opts && opts.body) || ""));
      const body = url.endsWith("/csrf") ? { csrfToken: "tok" } : { url: "https://op.example/authorize" };
      return Promise.resolve({ ok: true, status: 200, json: () => Promise.resolve(body) });
    };
    (0, eval)(source);
    await window.ginauth.signIn("my-op");
    out[name] = calls;
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`
	cases := map[string]struct {
		Src      *string `json:"src"`
		BasePath string  `json:"basePath,omitempty"`
		want     string
	}{
		"under a prefix":          {Src: ptr("https://app.example/app/auth/client.js?v=0123"), want: "/app/auth"},
		"relative src":            {Src: ptr("/app/auth/client.js"), want: "/app/auth"},
		"auth routes at the root": {Src: ptr("https://app.example/client.js"), want: ""},
		"another origin":          {Src: ptr("https://cdn.example/app/auth/client.js"), want: "/auth"},
		"another file name":       {Src: ptr("https://app.example/app/auth/bundle.js"), want: "/auth"},
		"no current script":       {Src: nil, want: "/auth"},
		"GINAUTH_BASE_PATH wins":  {Src: ptr("https://app.example/app/auth/client.js"), BasePath: "/x/", want: "/x"},
	}
	arg, _ := json.Marshal(cases)
	dir := t.TempDir()
	script := filepath.Join(dir, "harness.js")
	if err := os.WriteFile(script, []byte(harness), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, script, "client.js", string(arg)).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got map[string][]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	for name, tc := range cases {
		want := []string{tc.want + "/csrf ", tc.want + `/signin/my-op {"callbackUrl":""}`}
		if strings.Join(got[name], "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: calls %q, want %q", name, got[name], want)
		}
	}
}

func ptr(s string) *string { return &s }
