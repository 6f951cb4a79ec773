package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserUnderPathPrefix runs the client script in Chromium on the
// example served under /app: the script finds the auth routes from its own
// URL (/app/auth/client.js), signs in and out with the server's default
// target (/app/), and the session cookie is scoped to /app.
func TestBrowserUnderPathPrefix(t *testing.T) {
	path := chromiumPath(t)
	base, logs := startAppUnder(t)
	profile := t.TempDir()

	output := &syncBuffer{}
	testCtx, cancelTest := context.WithTimeout(context.Background(), browserTestTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(testCtx, chromiumOptions(path, profile, output)...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	c := &chrome{t: t, ctx: tabCtx, base: base + prefix, logs: logs, output: output}
	consoleDone := make(chan struct{})
	var started bool
	t.Cleanup(func() {
		cancelTab()
		if started {
			<-consoleDone
		}
		cancelAlloc()
		cancelTest()
		checkChromiumGone(t, profile)
	})
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("starting %s: %v\n%s", path, err, chromiumOutput(output))
	}
	messages := chromedp.Console(tabCtx)
	started = true
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			c.console = append(c.console, m)
			c.mu.Unlock()
		}
	}()

	// Signed out: getSession reached /app/auth/session.
	mark := c.logMark()
	c.do("open /app/",
		chromedp.Navigate(c.base+"/"),
		chromedp.WaitVisible(chromedp.ID("js-signin")),
		chromedp.WaitVisible(chromedp.CSS(`#js-session[data-state="signed-out"]`)),
	)
	c.requireRequests("getSession", mark, "GET "+prefix+"/auth/client.js", "GET "+prefix+"/auth/session")

	// Sign in with the client script, without a callbackUrl: back on /app/.
	mark = c.logMark()
	c.do("click #js-signin", chromedp.Click(chromedp.ID("js-signin")))
	c.pickAlice()
	c.requireRequests("client signIn", mark, "GET "+prefix+"/auth/csrf", "POST "+prefix+"/auth/signin/dev",
		"GET "+prefix+devPath+"/authorize", "GET "+prefix+"/auth/callback/dev", "GET "+prefix+"/")
	if ck := c.cookies()["ginauth"]; ck == nil || ck.Path != prefix || !ck.HTTPOnly {
		t.Errorf("session cookie %+v; want ginauth with Path=%s, HttpOnly", ck, prefix)
	}
	if status, body := c.fetch(prefix + "/api/me"); status != http.StatusOK || !strings.Contains(body, `"sub":"alice"`) {
		t.Errorf("fetch %s/api/me = %d %s", prefix, status, body)
	}
	if status, _ := c.fetch("/api/me"); status != http.StatusNotFound {
		t.Errorf("fetch /api/me (no prefix) = %d, want 404", status)
	}

	// Sign out with the client script: back on /app/, signed out.
	mark = c.logMark()
	c.do("click #js-signout and wait for the signed-out home page",
		chromedp.Click(chromedp.ID("js-signout")),
		chromedp.WaitVisible(chromedp.CSS(`#js-session[data-state="signed-out"]`)),
	)
	if loc := c.location(); loc != c.base+"/" {
		c.fatal("signed out at %s; want %s/", loc, c.base)
	}
	c.requireRequests("client signOut", mark, "POST "+prefix+"/auth/signout",
		"GET "+prefix+devPath+"/end_session", "GET "+prefix+"/auth/signout/complete", "GET "+prefix+"/")
	if status, _ := c.fetch(prefix + "/api/me"); status != http.StatusUnauthorized {
		t.Errorf("fetch %s/api/me after sign-out = %d, want 401", prefix, status)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
			t.Errorf("console: %s", m)
		}
	}
}
