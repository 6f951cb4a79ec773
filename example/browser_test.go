package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ginauth/ginauth/internal/a11ytest"
	"github.com/ginauth/ginauth/internal/testenv"
)

// The example in a real browser: Chromium (Debian's chromium package, which
// .ci/run installs), driven through chromedp. Without Chromium the test is
// skipped, or fails when CI is set (internal/testenv).

const (
	// browserTestTimeout bounds the whole test, browser start included:
	// when it ends, the browser is killed.
	browserTestTimeout = 90 * time.Second
	// browserStepTimeout bounds each step (a navigation, a click and the
	// wait for its page, a fetch).
	browserStepTimeout = 15 * time.Second
	// chromiumExitTimeout bounds the wait for Chromium's processes to be
	// gone after the allocator ended.
	chromiumExitTimeout = 5 * time.Second
)

// chromiumPath returns Chromium's executable, or skips t (CI unset) or fails
// it (CI set).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	testenv.SkipOrFail(t, "chromium not found (neither /usr/bin/chromium nor chromium on PATH): "+
		"the browser test needs Debian's chromium package, which .ci/run installs")
	return ""
}

// chromiumOptions are a11ytest's allocator options, with Chromium's output
// kept in output.
func chromiumOptions(path, userDataDir string, output *syncBuffer) []chromedp.ExecAllocatorOption {
	return append(a11ytest.ChromiumOptions(path, userDataDir), chromedp.CombinedOutput(output))
}

// chrome is one tab of the test's browser, on the example app at base.
type chrome struct {
	t      *testing.T
	ctx    context.Context // the tab's context
	base   string
	logs   *syncBuffer // the app's request log
	output *syncBuffer // Chromium's own output

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// fatal ends the test with what the browser shows, for diagnosis.
func (c *chrome) fatal(format string, args ...any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	c.mu.Lock()
	console := slices.Clone(c.console)
	c.mu.Unlock()
	var lines []string
	for _, m := range console {
		lines = append(lines, m.String())
	}
	c.t.Fatalf("%s\nbrowser at %s, showing:\n%s\nconsole:\n%s\napp log:\n%s\nchromium output:\n%s",
		fmt.Sprintf(format, args...), where, text, strings.Join(lines, "\n"), c.logs.String(), chromiumOutput(c.output))
}

// chromiumOutput is the end of Chromium's output, without its complaints
// about the missing D-Bus (containers have none; harmless).
func chromiumOutput(out *syncBuffer) string {
	var lines []string
	for line := range strings.SplitSeq(out.String(), "\n") {
		if !strings.Contains(line, "dbus") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// do runs steps within browserStepTimeout.
func (c *chrome) do(name string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.fatal("%s: %v", name, err)
	}
}

// runIn runs one action that returns a value, within browserStepTimeout.
func runIn[T any](c *chrome, name string, a chromedp.Action[T]) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		c.fatal("%s: %v", name, err)
	}
	return v
}

// eval evaluates expr in the page, awaiting the promise it returns, which
// must resolve to a string.
func (c *chrome) eval(expr string) string {
	c.t.Helper()
	return runIn(c, expr, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
}

// fetch runs fetch(path) in the page, as the page's own script would (same
// origin, the browser's cookies), and returns the status and the body.
func (c *chrome) fetch(path string) (int, string) {
	c.t.Helper()
	out := c.eval(`fetch(` + strconv.Quote(path) + `, {credentials: "same-origin", cache: "no-store"})
		.then(r => r.text().then(body => JSON.stringify({status: r.status, body})))`)
	var res struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		c.fatal("fetch %s: %q: %v", path, out, err)
	}
	return res.Status, res.Body
}

// location returns the tab's URL.
func (c *chrome) location() string {
	c.t.Helper()
	return runIn(c, "location", chromedp.Location())
}

// bodyText returns the page's visible text.
func (c *chrome) bodyText() string {
	c.t.Helper()
	return runIn(c, "body text", chromedp.Text(chromedp.CSS("body")))
}

// cookies returns the browser's cookies for the app.
func (c *chrome) cookies() map[string]*network.Cookie {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, browserStepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{c.base + "/"}})
	if err != nil {
		c.fatal("Network.getCookies: %v", err)
	}
	m := make(map[string]*network.Cookie, len(res.Cookies))
	for _, ck := range res.Cookies {
		m[ck.Name] = ck
	}
	return m
}

// sessionCookieRe matches the names of the cookies that hold a session (the
// session, its tokens, in one cookie or in chunks) or a provider logout in
// progress, with the cookie names of an http app.
var sessionCookieRe = regexp.MustCompile(`^ginauth(-tokens)?(\.\d+)?$|^ginauth-logout$`)

// logMark returns the position in the app's request log, for requireRequests.
func (c *chrome) logMark() int { return len(c.logs.String()) }

// requireRequests checks that the app logged each of the requests (as
// "method=M path=P") after mark, in this order.
func (c *chrome) requireRequests(what string, mark int, requests ...string) {
	c.t.Helper()
	logged := c.logs.String()[mark:]
	for _, r := range requests {
		method, path, _ := strings.Cut(r, " ")
		i := strings.Index(logged, "method="+method+" path="+path+" ")
		if i < 0 {
			c.t.Errorf("%s: no %s %s in the request log (in this order: %q) after the mark:\n%s", what, method, path, requests, c.logs.String()[mark:])
			return
		}
		logged = logged[i:]
	}
}

// pickAlice clicks alice on the development provider's picker page and
// waits for the home page with her session, as the client script sees it.
func (c *chrome) pickAlice() {
	c.t.Helper()
	c.do("the development provider's picker page shows alice",
		chromedp.WaitVisible(chromedp.CSS(`button[name="user"][value="alice"]`)))
	if loc := c.location(); !strings.HasPrefix(loc, c.base+devPath+"/authorize") {
		c.fatal("the picker is at %s; want %s%s/authorize", loc, c.base, devPath)
	}
	c.do("click alice, back on the home page, signed in",
		chromedp.Click(chromedp.CSS(`button[name="user"][value="alice"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#js-session[data-state="signed-in"]`)),
		chromedp.WaitVisible(chromedp.ID("js-signout")),
	)
	if loc := c.location(); loc != c.base+"/" {
		c.fatal("signed in at %s; want %s/", loc, c.base)
	}
	text := c.bodyText()
	for _, want := range []string{"You are signed in", "Alice Admin", "alice@example.com", "The client script sees Alice Admin (provider dev)"} {
		if !strings.Contains(text, want) {
			c.fatal("the home page after sign-in lacks %q", want)
		}
	}
}

// TestBrowser signs in and out of the example in Chromium: with the
// CSRF-protected form and the development provider's picker, then reads
// /api/me and /api/token from the page, signs out with the client script
// (ginauth.signOut, revoking the tokens and ending the provider's session),
// checks that the session is gone (API, client, cookies), and signs in
// again with the client script (ginauth.signIn).
func TestBrowser(t *testing.T) {
	path := chromiumPath(t)
	base, logs := startApp(t, nil)
	profile := t.TempDir()

	output := &syncBuffer{}
	testCtx, cancelTest := context.WithTimeout(context.Background(), browserTestTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(testCtx, chromiumOptions(path, profile, output)...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	c := &chrome{t: t, ctx: tabCtx, base: base, logs: logs, output: output}
	consoleDone := make(chan struct{})
	var started bool
	// Cleanups run in reverse order: this one before the removal of the
	// profile directory, and before the app's server closes.
	t.Cleanup(func() {
		cancelTab()
		if started {
			<-consoleDone
		}
		cancelAlloc() // waits for the browser process to exit
		cancelTest()
		checkChromiumGone(t, profile)
	})

	// Start the browser, and record what pages print to the console from
	// now on. The first action binds the browser's life to the context it
	// gets: the tab's, which testCtx bounds (a shorter one would stop the
	// browser when it ends).
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("starting %s: %v\n%s", path, err, chromiumOutput(output))
	}
	if n := len(chromiumProcesses(profile)); n == 0 {
		t.Errorf("no process uses the profile %s while Chromium runs: the check that it is gone at the end would see nothing", profile)
	}
	messages := chromedp.Console(tabCtx)
	started = true
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return // the tab's context ended
			}
			c.mu.Lock()
			c.console = append(c.console, m)
			c.mu.Unlock()
		}
	}()

	// 1. The home page, signed out: the client script ran (it shows its
	// button, and what getSession says).
	c.do("open /",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("js-signin")),
		chromedp.WaitVisible(chromedp.CSS(`#js-session[data-state="signed-out"]`)),
	)
	if text := c.bodyText(); !strings.Contains(text, "You are signed out") {
		c.fatal("the home page does not say signed out")
	}

	// 2. Sign in with the CSRF-protected form, pick alice.
	c.do("click the form's sign-in button for the development provider",
		chromedp.Click(chromedp.CSS(`form[action="/auth/signin/dev"] button[type="submit"]`)))
	c.pickAlice()

	// 3. The API, from the page: /api/me and /api/token.
	status, body := c.fetch("/api/me")
	var me meJSON
	if err := json.Unmarshal([]byte(body), &me); status != http.StatusOK || err != nil {
		c.fatal("fetch /api/me = %d %s (%v)", status, body, err)
	}
	if me.Sub != "alice" || me.Name != "Alice Admin" || me.Provider != "dev" || !slices.Contains(me.Groups, "admin") {
		t.Errorf("/api/me = %+v; want alice of dev, in the admin group", me)
	}
	status, body = c.fetch("/api/token")
	var tok map[string]string
	if err := json.Unmarshal([]byte(body), &tok); status != http.StatusOK || err != nil {
		c.fatal("fetch /api/token = %d %s (%v)", status, body, err)
	}
	if at, err := time.Parse(time.RFC3339, tok["expiresAt"]); len(tok) != 1 || err != nil || !at.After(time.Now()) {
		t.Errorf("/api/token = %s; want only a future RFC 3339 expiresAt", body)
	}

	// The client's view, and the cookies: the session cookie is there and
	// out of the page's reach (HttpOnly).
	var session struct {
		User     struct{ Sub, Name string } `json:"user"`
		Provider string                     `json:"provider"`
	}
	if out := c.eval(`ginauth.getSession().then(s => JSON.stringify(s))`); json.Unmarshal([]byte(out), &session) != nil ||
		session.User.Sub != "alice" || session.Provider != "dev" {
		t.Errorf("ginauth.getSession() = %s; want alice's session", out)
	}
	if ck := c.cookies()["ginauth"]; ck == nil || !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteLax {
		t.Errorf("session cookie while signed in: %+v; want ginauth, HttpOnly, SameSite=Lax", ck)
	}
	if js := c.eval(`Promise.resolve(document.cookie)`); strings.Contains(js, "ginauth=") {
		t.Errorf("the page reads the session cookie: document.cookie = %q", js)
	}

	// 4. Sign out with the client script: ginauth.signOut({revokeToken:
	// true, callbackUrl: "/"}) fetches a CSRF token, posts, revokes the
	// tokens at the provider and ends its session there (end_session), and
	// lands on /.
	mark := c.logMark()
	c.do("click #js-signout and wait for the signed-out home page",
		chromedp.Click(chromedp.ID("js-signout")),
		chromedp.WaitVisible(chromedp.CSS(`#js-session[data-state="signed-out"]`)),
		chromedp.WaitVisible(chromedp.ID("js-signin")),
	)
	if loc := c.location(); loc != base+"/" {
		c.fatal("signed out at %s; want %s/", loc, base)
	}
	c.requireRequests("client signOut", mark,
		"GET /auth/csrf", "POST /dev-oidc/revoke", "POST /auth/signout",
		"GET /dev-oidc/end_session", "GET /auth/signout/complete", "GET /")
	if status, body := c.fetch("/api/me"); status != http.StatusUnauthorized {
		t.Errorf("fetch /api/me after sign-out = %d %s; want 401", status, body)
	}
	if status, body := c.fetch("/api/token"); status != http.StatusUnauthorized {
		t.Errorf("fetch /api/token after sign-out = %d %s; want 401", status, body)
	}
	if out := c.eval(`ginauth.getSession().then(s => JSON.stringify(s))`); out != "null" {
		t.Errorf("ginauth.getSession() after sign-out = %s; want null", out)
	}
	var left []string
	for name := range c.cookies() {
		if sessionCookieRe.MatchString(name) {
			left = append(left, name)
		}
	}
	if len(left) > 0 {
		t.Errorf("session cookies left in the browser after sign-out: %q", left)
	}

	// 5. Sign in again with the client script: ginauth.signIn("dev", "/").
	mark = c.logMark()
	c.do("click #js-signin", chromedp.Click(chromedp.ID("js-signin")))
	c.pickAlice()
	c.requireRequests("client signIn", mark, "GET /auth/csrf", "POST /auth/signin/dev", "GET /dev-oidc/authorize")

	// 6. alice is an admin.
	resp := runIn(c, "open /admin", chromedp.NavigateResponse(base+"/admin"))
	if text := c.bodyText(); resp.Status != http.StatusOK || !strings.Contains(text, "Welcome, Alice Admin") {
		c.fatal("/admin = %d", resp.Status)
	}

	// 7. A page on another site (localhost is another site than 127.0.0.1)
	// sends the browser to the sign-in URL 50 times, as a "cookie bomb"
	// would. The flow cookies stay on the auth routes, at most 4 of them,
	// and alice's session is intact.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>elsewhere</title><script>location.href = %q + "/auth/signin/dev?callbackUrl=" + encodeURIComponent("/" + "x".repeat(Number(location.hash.slice(1))))</script>`, base)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	for i := range 50 {
		c.do(fmt.Sprintf("cross-site sign-in start %d", i),
			chromedp.Navigate(fmt.Sprintf("%s/#%d", evilURL, i*30)),
			chromedp.WaitVisible(chromedp.CSS(`button[name="user"][value="alice"]`)))
	}
	flows := func(url string) (n, bytes int) {
		ctx, cancel := context.WithTimeout(c.ctx, browserStepTimeout)
		defer cancel()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		if err != nil {
			c.fatal("Network.getCookies: %v", err)
		}
		for _, ck := range res.Cookies {
			if strings.HasPrefix(ck.Name, "ginauth-flow-") {
				n++
				bytes += len(ck.Name) + len(ck.Value)
			}
		}
		return n, bytes
	}
	for _, path := range []string{"/", "/api/me", "/me"} {
		if n, size := flows(base + path); n != 0 {
			t.Errorf("after 50 cross-site sign-in starts, %d flow cookies (%d bytes) ride on %s", n, size, path)
		}
	}
	if n, size := flows(base + "/auth/callback/dev"); n < 1 || n > 4 || size > 4096 {
		t.Errorf("after 50 cross-site sign-in starts, the auth routes carry %d flow cookies of %d bytes; want 1 to 4, at most 4096 bytes", n, size)
	}
	c.do("back to the app", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#js-session[data-state="signed-in"]`)))
	if status, body := c.fetch("/api/me"); status != http.StatusOK {
		t.Errorf("fetch /api/me after the cross-site sign-in starts = %d %s; want 200 (the session intact)", status, body)
	}

	// No page broke a rule of the CSP or threw.
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
			t.Errorf("console: %s", m)
		}
	}
}

// chromiumProcesses returns the PIDs of the processes started with
// --user-data-dir=profile: Chromium passes it to each of its processes.
func chromiumProcesses(profile string) []int {
	want := []byte("--user-data-dir=" + profile)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		if slices.ContainsFunc(bytes.Split(cmdline, []byte{0}), func(arg []byte) bool { return bytes.Equal(arg, want) }) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// checkChromiumGone fails t if processes of the browser that used profile
// outlive chromiumExitTimeout, and kills them.
func checkChromiumGone(t *testing.T, profile string) {
	t.Helper()
	deadline := time.Now().Add(chromiumExitTimeout)
	for {
		pids := chromiumProcesses(profile)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				if p, err := os.FindProcess(pid); err == nil {
					_ = p.Kill() // SIGKILL on Unix
				}
			}
			t.Errorf("Chromium processes %v still ran %v after the allocator ended; killed them", pids, chromiumExitTimeout)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
