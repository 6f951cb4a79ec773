package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/store"
)

func init() { gin.SetMode(gin.TestMode) }

// syncBuffer collects log output from concurrent handlers.
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

// startApp serves the app, configured from env, on a test server. The
// development provider's issuer must be the server's own URL, so the
// listener is created first and the app built for its address.
func startApp(t *testing.T, env map[string]string) (base string, logs *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := map[string]string{"GINAUTH_ADDR": ln.Addr().String(), "GINAUTH_SECRET": testSecret}
	for k, v := range env {
		e[k] = v
	}
	cfg, err := parseConfig(envOf(e))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	logs = &syncBuffer{}
	var st store.Store
	rs, err := openRedis(context.Background(), cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	if rs != nil {
		st = rs
		t.Cleanup(func() { _ = rs.Close() })
	}
	h, err := newApp(cfg, newLogger(logs), st)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	if _, public := env["GINAUTH_URL"]; !public && srv.URL != cfg.BaseURL {
		t.Fatalf("server URL %s != BaseURL %s", srv.URL, cfg.BaseURL)
	}
	return srv.URL, logs
}

// browser is an HTTP client with a cookie jar that follows redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (b *browser) abs(ref string) string {
	u, err := url.Parse(b.base)
	if err != nil {
		b.t.Fatal(err)
	}
	r, err := u.Parse(ref)
	if err != nil {
		b.t.Fatal(err)
	}
	return r.String()
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

func (b *browser) get(ref string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.abs(ref), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(ref string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(ref), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base) // as a browser sends it on a same-origin form POST
	return b.do(req)
}

// htmlForm is a POST form found in a page.
type htmlForm struct {
	action string
	fields url.Values // hidden inputs
	body   string
}

var (
	formRe   = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)">(.*?)</form>`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// findForm returns the page's form whose action ends with suffix and whose
// body contains marker.
func findForm(t *testing.T, page, suffix, marker string) htmlForm {
	t.Helper()
	for _, m := range formRe.FindAllStringSubmatch(page, -1) {
		f := htmlForm{action: html.UnescapeString(m[1]), fields: url.Values{}, body: m[2]}
		if !strings.HasSuffix(f.action, suffix) || !strings.Contains(f.body, marker) {
			continue
		}
		for _, in := range hiddenRe.FindAllStringSubmatch(f.body, -1) {
			f.fields.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
		}
		return f
	}
	t.Fatalf("no form with action *%s containing %q in page:\n%s", suffix, marker, page)
	return htmlForm{}
}

// pickUser submits the development provider's picker page for subject and
// returns the page the app finally lands on.
func (b *browser) pickUser(picker, subject string) (*http.Response, string) {
	b.t.Helper()
	f := findForm(b.t, picker, "/dev-oidc/authorize", `name="user" value="`+subject+`"`)
	f.fields.Set("user", subject)
	return b.post(f.action, f.fields)
}

// signInWithLink signs in through GET /auth/signin/dev, as a link would.
func (b *browser) signInWithLink(subject string) string {
	b.t.Helper()
	resp, picker := b.get("/auth/signin/dev")
	if resp.StatusCode != http.StatusOK || !strings.Contains(picker, "Sign in as") {
		b.t.Fatalf("GET /auth/signin/dev ended with %d at %s, not the picker:\n%s", resp.StatusCode, resp.Request.URL, picker)
	}
	resp, page := b.pickUser(picker, subject)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		b.t.Fatalf("sign-in as %s ended with %d at %s", subject, resp.StatusCode, resp.Request.URL)
	}
	return page
}

// signInWithButton signs in through the CSRF-protected sign-in form on /.
func (b *browser) signInWithButton(subject string) string {
	b.t.Helper()
	_, home := b.get("/")
	f := findForm(b.t, home, "/auth/signin/dev", "Development provider (test users)")
	if f.fields.Get("csrfToken") == "" {
		b.t.Fatal("the sign-in form has no csrfToken")
	}
	resp, picker := b.post(f.action, f.fields)
	if resp.StatusCode != http.StatusOK || !strings.Contains(picker, "Sign in as") {
		b.t.Fatalf("POST %s ended with %d at %s, not the picker:\n%s", f.action, resp.StatusCode, resp.Request.URL, picker)
	}
	resp, page := b.pickUser(picker, subject)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		b.t.Fatalf("sign-in as %s ended with %d at %s", subject, resp.StatusCode, resp.Request.URL)
	}
	return page
}

// apiMe fetches /api/me and returns the status and decoded object.
func (b *browser) apiMe() (int, map[string]json.RawMessage) {
	b.t.Helper()
	resp, body := b.get("/api/me")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		b.t.Errorf("/api/me Content-Type = %q", ct)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		b.t.Fatalf("/api/me body %q: %v", body, err)
	}
	return resp.StatusCode, m
}

// apiToken fetches /api/token and returns the status, the decoded object
// and the body.
func (b *browser) apiToken() (int, map[string]json.RawMessage, string) {
	b.t.Helper()
	resp, body := b.get("/api/token")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		b.t.Errorf("/api/token Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		b.t.Errorf("/api/token Cache-Control = %q; want no-store", cc)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		b.t.Fatalf("/api/token body %q: %v", body, err)
	}
	return resp.StatusCode, m, body
}

// checkScripts checks the signed-out home page's script parts: the script
// sign-in button, the client and app scripts (served as JavaScript), and a
// CSP that allows them and nothing inline.
func checkScripts(t *testing.T, b *browser, resp *http.Response, home string) {
	t.Helper()
	for _, want := range []string{
		`<button class="btn" type="button" id="js-signin" data-provider="dev" hidden>`,
		`<p id="js-session" class="status" data-state="loading" hidden>`,
		`<script src="/auth/client.js?v=`,
		`<script src="` + appScriptURL + `"></script>`,
	} {
		if !strings.Contains(home, want) {
			t.Errorf("home page lacks %s:\n%s", want, home)
		}
	}
	if strings.Contains(home, "<script>") {
		t.Error("home page has an inline script")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	for name, want := range map[string]string{"default-src": "'none'", "script-src": "'self'", "connect-src": "'self'"} {
		if got := directives[name]; got != want {
			t.Errorf("CSP %q: %s is %q; want exactly %q", csp, name, got, want)
		}
	}
	m := regexp.MustCompile(`<script src="(/auth/client\.js\?v=[0-9a-f]+)">`).FindStringSubmatch(home)
	if m == nil {
		t.Fatal("no client script URL in the home page")
	}
	for _, u := range []string{m[1], appScriptURL} {
		r, body := b.get(u)
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") ||
			!strings.Contains(r.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, "ginauth") {
			t.Errorf("GET %s = %d %q %q", u, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"))
		}
	}
	if r, _ := b.get(appScriptPath); r.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("GET %s without its version: Cache-Control %q; want no-cache", appScriptPath, r.Header.Get("Cache-Control"))
	}
}

func TestEndToEnd(t *testing.T) {
	base, logs := startApp(t, nil)

	// Public routes.
	anon := newBrowser(t, base)
	if resp, body := anon.get("/healthz"); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("/healthz = %d %q", resp.StatusCode, body)
	}
	resp, home := anon.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(home, "You are signed out") || !strings.Contains(home, "Development provider enabled") {
		t.Errorf("signed-out home page (%d) lacks the sign-in state or the banner:\n%s", resp.StatusCode, home)
	}
	if code, m := anon.apiMe(); code != http.StatusUnauthorized || string(m["error"]) != `"unauthenticated"` {
		t.Errorf("signed-out /api/me = %d %v", code, m)
	}
	if code, m, _ := anon.apiToken(); code != http.StatusUnauthorized || string(m["error"]) != `"unauthenticated"` {
		t.Errorf("signed-out /api/token = %d %v", code, m)
	}
	checkScripts(t, anon, resp, home)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/me", "/admin"} {
		r, err := noFollow.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || !strings.Contains(loc, "/auth/signin?callbackUrl=") {
			t.Errorf("signed-out %s = %d Location %q; want 302 to the sign-in page", path, r.StatusCode, loc)
		}
	}

	// alice (groups admin, staff) signs in through the picker.
	alice := newBrowser(t, base)
	page := alice.signInWithLink("alice")
	if !strings.Contains(page, "You are signed in") || !strings.Contains(page, "Alice Admin") || !strings.Contains(page, "alice@example.com") {
		t.Errorf("home page after sign-in does not show alice:\n%s", page)
	}
	code, me := alice.apiMe()
	if code != http.StatusOK {
		t.Fatalf("/api/me = %d", code)
	}
	keys := make([]string, 0, len(me))
	for k := range me {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"email", "groups", "name", "provider", "sub"}; !slices.Equal(keys, want) {
		t.Errorf("/api/me keys = %v; want exactly %v", keys, want)
	}
	for k, want := range map[string]string{"sub": `"alice"`, "name": `"Alice Admin"`, "email": `"alice@example.com"`, "provider": `"dev"`, "groups": `["admin","staff"]`} {
		if got := string(me[k]); got != want {
			t.Errorf("/api/me %s = %s; want %s", k, got, want)
		}
	}
	if resp, body := alice.get("/admin"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Welcome, Alice Admin") {
		t.Errorf("alice /admin = %d:\n%s", resp.StatusCode, body)
	}
	// /api/token: the access token's session, never the token.
	code, tok, body := alice.apiToken()
	if code != http.StatusOK {
		t.Fatalf("/api/token = %d %s", code, body)
	}
	if len(tok) != 1 || tok["expiresAt"] == nil {
		t.Errorf("/api/token body %s; want exactly {\"expiresAt\": ...}", body)
	}
	var expiresAt string
	if err := json.Unmarshal(tok["expiresAt"], &expiresAt); err != nil {
		t.Errorf("/api/token expiresAt %s: %v", tok["expiresAt"], err)
	} else if at, err := time.Parse(time.RFC3339, expiresAt); err != nil || !at.After(time.Now()) {
		t.Errorf("/api/token expiresAt %q is not a future RFC 3339 time (%v)", expiresAt, err)
	}
	for _, leak := range []string{"token\"", "eyJ", "access", "refresh"} {
		if strings.Contains(body, leak) {
			t.Errorf("/api/token body %s contains %q", body, leak)
		}
	}
	if resp, body := alice.get("/me"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Alice Admin") || !strings.Contains(body, "This session ends at") {
		t.Errorf("alice /me = %d:\n%s", resp.StatusCode, body)
	}

	// alice signs out with the form on /.
	_, home = alice.get("/")
	f := findForm(t, home, "/auth/signout", "Sign out")
	resp, page = alice.post(f.action, f.fields)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" || !strings.Contains(page, "You are signed out") {
		t.Errorf("sign-out ended with %d at %s:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	if code, _ := alice.apiMe(); code != http.StatusUnauthorized {
		t.Errorf("/api/me after sign-out = %d; want 401", code)
	}
	if code, _, _ := alice.apiToken(); code != http.StatusUnauthorized {
		t.Errorf("/api/token after sign-out = %d; want 401", code)
	}
	// The development provider ends its own session too (RP-initiated
	// logout): the sign-out went through its end_session endpoint and back.
	for _, want := range []string{"path=/dev-oidc/end_session", "path=/auth/signout/complete"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("sign-out did not go through the provider's logout: no %q in the request log", want)
		}
	}

	// bob (staff only) signs in with the CSRF-protected button: no admin.
	bob := newBrowser(t, base)
	bob.signInWithButton("bob")
	if resp, body := bob.get("/admin"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "You don&#39;t have access") {
		t.Errorf("bob /admin = %d; want 403:\n%s", resp.StatusCode, body)
	}
	if code, m := bob.apiMe(); code != http.StatusOK || string(m["groups"]) != `["staff"]` {
		t.Errorf("bob /api/me = %d %v", code, m)
	}

	// carol opens /me, is sent to ginauth's sign-in page (rendered in the
	// app's layout), signs in there and lands back on /me.
	carol := newBrowser(t, base)
	resp, signin := carol.get("/me")
	if resp.Request.URL.Path != "/auth/signin" || !strings.Contains(signin, "Development provider enabled") {
		t.Fatalf("signed-out /me ended at %s without the banner:\n%s", resp.Request.URL, signin)
	}
	f = findForm(t, signin, "/auth/signin/dev", "Sign in with Development provider (test users)")
	if cb := f.fields.Get("callbackUrl"); cb != base+"/me" {
		t.Errorf("sign-in page callbackUrl = %q; want %s/me", cb, base)
	}
	_, picker := carol.post(f.action, f.fields)
	resp, page = carol.pickUser(picker, "carol")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/me" || !strings.Contains(page, "Carol Customer") {
		t.Errorf("carol's sign-in ended with %d at %s:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	// carol has no groups: /api/me says [] rather than null.
	if code, m := carol.apiMe(); code != http.StatusOK || string(m["groups"]) != `[]` || string(m["sub"]) != `"carol"` {
		t.Errorf("carol /api/me = %d %v; want groups []", code, m)
	}

	// A forged sign-out (no CSRF token) is refused and leaves the session.
	resp, _ = carol.post("/auth/signout", url.Values{"callbackUrl": {"/"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without a CSRF token = %d; want 403", resp.StatusCode)
	}
	if code, _ := carol.apiMe(); code != http.StatusOK {
		t.Errorf("/api/me after a refused sign-out = %d; want 200", code)
	}

	// The request log has every request, and no code or state.
	out := logs.String()
	for _, want := range []string{"path=/auth/callback/dev", "path=/dev-oidc/authorize", "status=302", "latency="} {
		if !strings.Contains(out, want) {
			t.Errorf("request log lacks %q", want)
		}
	}
	for _, leak := range []string{"code=", "state=", "nonce=", "csrfToken", "?"} {
		if strings.Contains(out, leak) {
			t.Errorf("request log contains %q:\n%s", leak, out)
		}
	}
}

func TestServerLimits(t *testing.T) {
	s := newServer(http.NotFoundHandler(), newLogger(io.Discard))
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Errorf("timeouts not all set: %+v", s)
	}
	if s.MaxHeaderBytes != 64<<10 {
		t.Errorf("MaxHeaderBytes = %d; want 64 KiB", s.MaxHeaderBytes)
	}
}

// TestRunServesAndShutsDown runs the program's entry point, serves /healthz
// and stops gracefully when the context ends (as on SIGINT or SIGTERM).
func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	env := map[string]string{"GINAUTH_ADDR": "127.0.0.1:0", "GINAUTH_URL": "http://127.0.0.1:8080"}
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
		t.Fatalf("the app did not start:\n%s", stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz = %d", resp.StatusCode)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit status = %d; want 0:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after the context ended")
	}
	if out := stderr.String(); !strings.Contains(out, "shutting down") || !strings.Contains(out, "msg=stopped") {
		t.Errorf("no graceful shutdown in the log:\n%s", out)
	}
}
