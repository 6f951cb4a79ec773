package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The example behind a reverse proxy that forwards the full path:
// GINAUTH_URL carries a path, and every route is served under it.

const prefix = "/app"

// startAppUnder serves the app with GINAUTH_URL http://<its address>/app.
func startAppUnder(t *testing.T) (base string, logs *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig(envOf(map[string]string{
		"GINAUTH_ADDR":   ln.Addr().String(),
		"GINAUTH_URL":    "http://" + ln.Addr().String() + prefix + "/",
		"GINAUTH_SECRET": testSecret,
	}))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	if cfg.BasePath != prefix {
		ln.Close()
		t.Fatalf("BasePath %q, want %q", cfg.BasePath, prefix)
	}
	logs = &syncBuffer{}
	h, err := newApp(cfg, newLogger(logs), nil)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

// signInUnder signs in through GET <prefix>/auth/signin/dev with
// callbackURL and returns where the browser lands.
func (b *browser) signInUnder(subject, callbackURL string) (*http.Response, string) {
	b.t.Helper()
	resp, picker := b.get(prefix + "/auth/signin/dev?callbackUrl=" + url.QueryEscape(callbackURL))
	if resp.StatusCode != http.StatusOK || !strings.Contains(picker, "Sign in as") {
		b.t.Fatalf("sign-in ended with %d at %s, not the picker:\n%s", resp.StatusCode, resp.Request.URL, picker)
	}
	if resp.Request.URL.Path != prefix+devPath+"/authorize" {
		b.t.Errorf("the picker is at %s, want %s%s/authorize", resp.Request.URL.Path, prefix, devPath)
	}
	return b.pickUser(picker, subject)
}

func TestEndToEndUnderPathPrefix(t *testing.T) {
	base, logs := startAppUnder(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Every route is under the prefix, and nothing is outside it.
	anon := newBrowser(t, base)
	if resp, body := anon.get(prefix + "/healthz"); resp.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("%s/healthz = %d %q", prefix, resp.StatusCode, body)
	}
	for _, path := range []string{"/", "/healthz", "/me", "/admin", "/api/me", "/api/token", "/auth/signin", "/auth/client.js", appScriptPath, devPath + "/.well-known/openid-configuration"} {
		if resp, _ := anon.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s outside the prefix = %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := anon.get(prefix + devPath + "/.well-known/openid-configuration"); resp.StatusCode != http.StatusOK {
		t.Errorf("the development provider's discovery under the prefix = %d", resp.StatusCode)
	}
	resp, home := anon.get(prefix + "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(home, "You are signed out") {
		t.Fatalf("signed-out home (%d):\n%s", resp.StatusCode, home)
	}
	for _, want := range []string{
		`action="` + prefix + `/auth/signin/dev"`,
		`name="callbackUrl" value="` + prefix + `/"`,
		`<a href="` + prefix + `/me">`,
		`<a href="` + prefix + `/">Home</a>`,
		`<script src="` + prefix + `/auth/client.js?v=`,
		`<script src="` + prefix + appScriptURL + `">`,
	} {
		if !strings.Contains(home, want) {
			t.Errorf("home page lacks %s:\n%s", want, home)
		}
	}
	for _, path := range []string{prefix + "/auth/client.js", prefix + appScriptURL} {
		if resp, body := anon.get(path); resp.StatusCode != http.StatusOK || !strings.Contains(body, "ginauth") {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}
	if code, _ := anon.apiMeAt(prefix + "/api/me"); code != http.StatusUnauthorized {
		t.Errorf("signed-out %s/api/me = %d, want 401", prefix, code)
	}
	r, err := noFollow.Get(base + prefix + "/me")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || loc != base+prefix+"/auth/signin?callbackUrl=%2Fapp%2Fme" {
		t.Errorf("signed-out %s/me = %d Location %q", prefix, r.StatusCode, loc)
	}
	// The CSRF cookie the home page sets is scoped to the prefix.
	r, err = noFollow.Get(base + prefix + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if cs := r.Cookies(); len(cs) != 1 || cs[0].Name != "ginauth-csrf" || cs[0].Path != prefix || !cs[0].HttpOnly {
		t.Errorf("home page cookies %v, want ginauth-csrf with Path=%s", r.Header.Values("Set-Cookie"), prefix)
	}

	// alice signs in and lands on the default target, the prefix's home.
	alice := newBrowser(t, base)
	resp, page := alice.signInUnder("alice", "")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != prefix+"/" || !strings.Contains(page, "Alice Admin") {
		t.Fatalf("sign-in ended with %d at %s:\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	appURL, _ := url.Parse(base + prefix + "/me")
	otherURL, _ := url.Parse(base + "/other")
	if !hasCookie(alice, appURL, "ginauth") || hasCookie(alice, otherURL, "ginauth") || hasCookie(alice, otherURL, "ginauth-csrf") {
		t.Errorf("session cookie scope: under the prefix %v, outside %v; want only under the prefix",
			alice.c.Jar.Cookies(appURL), alice.c.Jar.Cookies(otherURL))
	}
	if resp, body := alice.get(prefix + "/me"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Alice Admin") {
		t.Errorf("alice %s/me = %d", prefix, resp.StatusCode)
	}
	if resp, _ := alice.get("/me"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("alice /me (no prefix) = %d, want 404", resp.StatusCode)
	}
	if resp, body := alice.get(prefix + "/admin"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Welcome, Alice Admin") {
		t.Errorf("alice %s/admin = %d", prefix, resp.StatusCode)
	}
	if code, m := alice.apiMeAt(prefix + "/api/me"); code != http.StatusOK || string(m["sub"]) != `"alice"` {
		t.Errorf("alice %s/api/me = %d %v", prefix, code, m)
	}
	if resp, body := alice.get(prefix + "/api/token"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "expiresAt") {
		t.Errorf("alice %s/api/token = %d %s", prefix, resp.StatusCode, body)
	}

	// alice signs out with the form; the provider's logout comes back
	// through the prefixed signout/complete.
	_, home = alice.get(prefix + "/")
	f := findForm(t, home, prefix+"/auth/signout", "Sign out")
	resp, page = alice.post(f.action, f.fields)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != prefix+"/" || !strings.Contains(page, "You are signed out") {
		t.Errorf("sign-out ended with %d at %s", resp.StatusCode, resp.Request.URL)
	}
	for _, want := range []string{"path=" + prefix + devPath + "/end_session", "path=" + prefix + "/auth/signout/complete", "path=" + prefix + "/auth/callback/dev"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %q in the request log", want)
		}
	}
	if code, _ := alice.apiMeAt(prefix + "/api/me"); code != http.StatusUnauthorized {
		t.Errorf("%s/api/me after sign-out = %d, want 401", prefix, code)
	}

	// callbackUrl values must stay under the prefix.
	for _, tc := range []struct{ callbackURL, want string }{
		{"/other", prefix + "/"},
		{"/", prefix + "/"},
		{"/application", prefix + "/"},
		{prefix + "/../me", prefix + "/"},
		{prefix + "/me", prefix + "/me"},
	} {
		bob := newBrowser(t, base)
		resp, _ := bob.signInUnder("bob", tc.callbackURL)
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != tc.want {
			t.Errorf("callbackUrl %q: landed with %d at %s, want %s", tc.callbackURL, resp.StatusCode, resp.Request.URL, tc.want)
		}
	}
}

// apiMeAt is apiMe for another path.
func (b *browser) apiMeAt(path string) (int, map[string]json.RawMessage) {
	b.t.Helper()
	resp, body := b.get(path)
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		b.t.Fatalf("%s body %q: %v", path, body, err)
	}
	return resp.StatusCode, m
}

func hasCookie(b *browser, u *url.URL, name string) bool {
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return true
		}
	}
	return false
}
