package ginauth_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// The test harness: a real app served over TLS (so cookies are Secure and
// __Host- prefixed, as in production) signing in with an in-process OpenID
// Provider, driven by clients with real cookie jars.

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// clock is a settable clock shared by the app and the provider.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer collects log output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testApp struct {
	t      *testing.T
	op     *ginauthtest.Provider
	prov   *providers.OIDCProvider
	auth   *ginauth.Auth
	srv    *httptest.Server
	base   string
	clock  *clock
	logs   *syncBuffer
	router *gin.Engine
	// failures holds the error of every refused callback (sfReason).
	failures *signInFailures
}

type appOption func(*ginauth.Config, *ginauthtest.Options, *providers.OIDCConfig)

func withConfig(f func(*ginauth.Config)) appOption {
	return func(c *ginauth.Config, _ *ginauthtest.Options, _ *providers.OIDCConfig) { f(c) }
}

func withOP(f func(*ginauthtest.Options)) appOption {
	return func(_ *ginauth.Config, o *ginauthtest.Options, _ *providers.OIDCConfig) { f(o) }
}

func withProvider(f func(*providers.OIDCConfig)) appOption {
	return func(_ *ginauth.Config, _ *ginauthtest.Options, p *providers.OIDCConfig) { f(p) }
}

func init() { gin.SetMode(gin.TestMode) }

// newTestApp starts a provider named "test" and an app using it.
func newTestApp(t *testing.T, opts ...appOption) *testApp {
	t.Helper()
	a := &testApp{t: t, clock: newClock(), logs: &syncBuffer{}, failures: &signInFailures{}}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.router.ServeHTTP(w, r)
	}))
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	a.base = a.srv.URL

	cfg := ginauth.Config{
		BaseURL: a.base,
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
	if provCfg.Issuer == "" {
		provCfg.Issuer = op.Issuer()
	}
	provCfg.ClientID, provCfg.ClientSecret = op.ClientID(), op.ClientSecret()
	if a.prov, err = providers.OIDC(provCfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Providers == nil {
		cfg.Providers = []providers.Provider{a.prov}
	}
	if a.auth, err = ginauth.New(cfg); err != nil {
		t.Fatal(err)
	}
	a.router = a.routes()
	return a
}

func (a *testApp) routes() *gin.Engine {
	r := gin.New()
	a.auth.Register(r.Group("/auth"))
	api := r.Group("/api", a.auth.RequireAuth(ginauth.API))
	api.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.JSON(http.StatusOK, u)
	})
	app := r.Group("/app", a.auth.RequireAuth(ginauth.Browser))
	app.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, "hello "+u.Subject)
	})
	app.GET("/admin", ginauth.RequireClaim("groups", "admin"), func(c *gin.Context) { c.String(http.StatusOK, "admin area") })
	api.GET("/admin", ginauth.RequireClaim("groups", "admin"), func(c *gin.Context) { c.String(http.StatusOK, "admin api") })
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "home") })
	r.GET("/dashboard", func(c *gin.Context) { c.String(http.StatusOK, "dashboard") })
	return r
}

// browser is an HTTP client with its own cookie jar: one user agent.
type browser struct {
	t      *testing.T
	app    *testApp
	jar    *cookiejar.Jar
	follow *http.Client // follows redirects
	single *http.Client // stops at the first response
}

func (a *testApp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // #nosec G402 -- the test server's own certificate
	a.t.Cleanup(tr.CloseIdleConnections)
	b := &browser{t: a.t, app: a, jar: jar}
	b.follow = &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second}
	b.single = &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return b
}

type result struct {
	status int
	header http.Header
	body   string
	url    *url.URL // final URL
}

func (r result) location() string { return r.header.Get("Location") }

func (b *browser) do(c *http.Client, req *http.Request) result {
	b.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: string(body), url: resp.Request.URL}
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	return b.app.base + path
}

// get requests path and stops at the first response.
func (b *browser) get(path string, hdr ...string) result {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.abs(path), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(b.single, req)
}

// visit requests path and follows every redirect.
func (b *browser) visit(path string) result {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.abs(path), nil)
	return b.do(b.follow, req)
}

// post sends a form and stops at the first response. hdr are header pairs.
func (b *browser) post(path string, form url.Values, hdr ...string) result {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(b.single, req)
}

// csrf fetches a CSRF token for this browser's current session.
func (b *browser) csrf() string {
	b.t.Helper()
	r := b.get("/auth/csrf")
	const prefix = `{"csrfToken":"`
	if r.status != http.StatusOK || !strings.HasPrefix(r.body, prefix) {
		b.t.Fatalf("csrf: %d %s", r.status, r.body)
	}
	return strings.TrimSuffix(strings.TrimPrefix(r.body, prefix), `"}`)
}

// startSignIn begins a sign-in and returns the provider's authorization URL.
func (b *browser) startSignIn(callbackURL string) string {
	b.t.Helper()
	r := b.get("/auth/signin/test?callbackUrl=" + url.QueryEscape(callbackURL))
	if r.status != http.StatusFound {
		b.t.Fatalf("signin: status %d, body %s", r.status, r.body)
	}
	return r.location()
}

// authorize visits the provider's authorization URL and returns the
// callback URL it redirects to (not yet visited).
func (b *browser) authorize(authURL string) string {
	b.t.Helper()
	r := b.get(authURL)
	if r.status != http.StatusFound {
		b.t.Fatalf("authorize: status %d, body %s", r.status, r.body)
	}
	return r.location()
}

// signIn runs the whole flow and returns the callback's response.
func (b *browser) signIn() result {
	b.t.Helper()
	return b.get(b.authorize(b.startSignIn("/dashboard")))
}

// mustSignIn signs in and checks the session works.
func (b *browser) mustSignIn() {
	b.t.Helper()
	r := b.signIn()
	if r.status != http.StatusFound || r.location() != b.app.base+"/dashboard" {
		b.t.Fatalf("sign-in: status %d, location %q, body %s\nlogs: %s", r.status, r.location(), r.body, b.app.logs.String())
	}
	if me := b.get("/api/me"); me.status != http.StatusOK {
		b.t.Fatalf("after sign-in /api/me: %d %s", me.status, me.body)
	}
}

// signedIn reports whether /api/me accepts this browser.
func (b *browser) signedIn() bool {
	b.t.Helper()
	r := b.get("/api/me")
	switch r.status {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	}
	b.t.Fatalf("/api/me: unexpected status %d %s", r.status, r.body)
	return false
}

// cookies returns the jar's cookies for the app.
// cookies returns the browser's cookies for the app: those sent to every
// path, and those scoped to the auth routes (the flow cookies).
func (b *browser) cookies() []*http.Cookie {
	u, _ := url.Parse(b.app.base)
	all := b.jar.Cookies(u)
	seen := map[string]bool{}
	for _, c := range all {
		seen[c.Name] = true
	}
	authURL, _ := url.Parse(b.app.base + "/auth/callback/x")
	for _, c := range b.jar.Cookies(authURL) {
		if !seen[c.Name] {
			all = append(all, c)
		}
	}
	return all
}

// setCookie plants a cookie in the jar.
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.app.base)
	path := "/"
	if strings.Contains(name, "ginauth-flow-") {
		path = "/auth" // where the app scopes flow cookies
	}
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: path, Secure: true}})
}

func (b *browser) cookie(name string) string {
	for _, c := range b.cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// failedWith asserts a callback response redirected to the sign-in page
// with the error code.
func (a *testApp) failedWith(r result, code string) {
	a.t.Helper()
	want := a.base + "/auth/signin?error=" + code
	if r.status != http.StatusFound || r.location() != want {
		a.t.Fatalf("want 302 to %s, got %d %q body %q", want, r.status, r.location(), r.body)
	}
}

// deniedWith asserts a callback response is the 403 access-denied page
// (a "who may sign in" refusal), with reason shown when not empty.
func (a *testApp) deniedWith(r result, reason string) {
	a.t.Helper()
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "<h1>Access denied</h1>") ||
		(reason != "" && !strings.Contains(r.body, reason)) {
		a.t.Fatalf("want the 403 access-denied page (reason %q), got %d %q body %q", reason, r.status, r.location(), r.body)
	}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if !strings.Contains(c.Name, "ginauth-flow-") && c.Value != "" && c.MaxAge >= 0 {
			a.t.Fatalf("refused sign-in set cookie %s", c.Name)
		}
	}
}

func withParam(rawURL, key, value string) string {
	u, _ := url.Parse(rawURL)
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
