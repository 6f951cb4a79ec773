package ginauth_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/internal/testenv"
)

// The browser client script (<group>/client.js) and the JSON requests it
// sends.

// TestClientScript_Route: served as JavaScript with an ETag and a cache
// lifetime (immutable under its versioned URL), revalidated with 304, and
// without the auth routes' no-store.
func TestClientScript_Route(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t)
	versioned := l.auth.ClientScriptURL()
	if !regexp.MustCompile(`^/auth/client\.js\?v=[0-9a-f]{16}$`).MatchString(versioned) {
		t.Fatalf("ClientScriptURL %q", versioned)
	}
	b := l.browserT(t)
	plain := b.get("/auth/client.js")
	cases := []struct {
		name      string
		path      string
		wantCache string
	}{
		{"unversioned", "/auth/client.js", "public, max-age=86400"},
		{"versioned", versioned, "public, max-age=31536000, immutable"},
		{"stale version", "/auth/client.js?v=0000000000000000", "public, max-age=86400"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.get(tc.path)
			if r.status != http.StatusOK {
				t.Fatalf("%d", r.status)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := r.header.Get("Cache-Control"); cc != tc.wantCache {
				t.Errorf("Cache-Control %q, want %q", cc, tc.wantCache)
			}
			if r.header.Get("Pragma") != "" {
				t.Errorf("Pragma %q on a cacheable script", r.header.Get("Pragma"))
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			if len(r.header.Values("Set-Cookie")) != 0 {
				t.Errorf("the script sets cookies: %v", r.header.Values("Set-Cookie"))
			}
			etag := r.header.Get("ETag")
			if etag == "" || etag != plain.header.Get("ETag") || r.body != plain.body {
				t.Errorf("ETag %q or body differ between URLs", etag)
			}
			nm := b.get(tc.path, "If-None-Match", etag)
			if nm.status != http.StatusNotModified || nm.body != "" {
				t.Errorf("If-None-Match: %d %q, want 304", nm.status, nm.body)
			}
			if other := b.get(tc.path, "If-None-Match", `"other"`); other.status != http.StatusOK {
				t.Errorf("If-None-Match of another version: %d", other.status)
			}
			if nm := b.get(tc.path, "If-None-Match", `"other", `+etag); nm.status != http.StatusNotModified {
				t.Errorf("If-None-Match listing the current version: %d, want 304", nm.status)
			}
		})
	}
	for _, name := range []string{"signIn", "signOut", "getSession", "createClient", "X-CSRF-Token", "/csrf"} {
		if !strings.Contains(plain.body, name) {
			t.Errorf("the script lacks %s", name)
		}
	}
	if n := len(plain.body); n > 8<<10 {
		t.Errorf("the script is %d bytes", n)
	}
	// The auth routes themselves keep no-store.
	if cc := b.get("/auth/session").header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/auth/session Cache-Control %q", cc)
	}
}

// TestClientScript_Runs loads the script in Node.js with a stubbed fetch
// and location, and checks what signIn, signOut and getSession send. Without
// node it skips, or fails when CI is set (internal/testenv).
func TestClientScript_Runs(t *testing.T) {
	t.Parallel()
	node := testenv.LookPath(t, "node", "the client script test needs Node.js 20 or later")
	harness := `
const fs = require("fs");
const calls = [];
const answers = {
  "/base/csrf": { csrfToken: "tok" },
  "/base/signin/my-op": { url: "https://op.example/authorize?x=1" },
  "/base/signout": { url: "https://app.example/bye" },
  "/base/session": { user: { sub: "alice" } },
};
global.window = {
  GINAUTH_BASE_PATH: "/base/",
  location: { assign: (u) => calls.push(["assign", u]) },
};
global.fetch = (url, opts) => {
  calls.push(["fetch", url, opts || {}]);
  return Promise.resolve({ ok: true, status: 200, json: () => Promise.resolve(answers[url]) });
};
global.window.fetch = global.fetch;
(0, eval)(fs.readFileSync(process.argv[2], "utf8").replace(/typeof window !== "undefined" \? window : this/, "window"));
const c = window.ginauth;
(async () => {
  await c.signIn("my-op", "/after");
  await c.signOut({ revokeToken: true, callbackUrl: "/bye" });
  const s = await c.getSession();
  console.log(JSON.stringify({ calls, session: s, other: typeof c.createClient("/x").signIn }));
})().catch((e) => { console.error(e); process.exit(1); });
`
	dir := t.TempDir()
	script := filepath.Join(dir, "harness.js")
	if err := os.WriteFile(script, []byte(harness), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, script, "client.js").CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		Calls   [][]json.RawMessage `json:"calls"`
		Session map[string]any      `json:"session"`
		Other   string              `json:"other"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	var seq []string
	for _, c := range got.Calls {
		var kind, target string
		_ = json.Unmarshal(c[0], &kind)
		_ = json.Unmarshal(c[1], &target)
		seq = append(seq, kind+" "+target)
		if kind == "fetch" && len(c) > 2 {
			var opts struct {
				Method      string            `json:"method"`
				Credentials string            `json:"credentials"`
				Headers     map[string]string `json:"headers"`
				Body        string            `json:"body"`
			}
			_ = json.Unmarshal(c[2], &opts)
			if opts.Credentials != "same-origin" {
				t.Errorf("%s: credentials %q", target, opts.Credentials)
			}
			if opts.Method == "POST" {
				if opts.Headers["X-CSRF-Token"] != "tok" || opts.Headers["Content-Type"] != "application/json" {
					t.Errorf("%s: headers %v", target, opts.Headers)
				}
				want := map[string]string{
					"/base/signin/my-op": `{"callbackUrl":"/after"}`,
					"/base/signout":      `{"revokeToken":true,"callbackUrl":"/bye"}`,
				}[target]
				if opts.Body != want {
					t.Errorf("%s: body %s, want %s", target, opts.Body, want)
				}
			}
		}
	}
	want := []string{
		"fetch /base/csrf", "fetch /base/signin/my-op", "assign https://op.example/authorize?x=1",
		"fetch /base/csrf", "fetch /base/signout", "assign https://app.example/bye",
		"fetch /base/session",
	}
	if strings.Join(seq, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
	}
	if got.Session["user"] == nil || got.Other != "function" {
		t.Errorf("getSession %v, createClient %q", got.Session, got.Other)
	}
}

// TestClientScript_JSONSignIn: the JSON sign-in the script sends answers
// {"url": <authorization URL>}, and following it signs in and lands on the
// callbackUrl; without the CSRF token it is refused with JSON.
func TestClientScript_JSONSignIn(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t)
	b := l.browserT(t)
	if r := b.postJSON("/auth/signin/test", `{"callbackUrl":"/x"}`); r.status != http.StatusForbidden || !strings.Contains(r.body, `"error"`) {
		t.Errorf("without the CSRF token: %d %s, want 403 JSON", r.status, r.body)
	}
	r := b.postJSON("/auth/signin/test", `{"callbackUrl":"/x"}`, "X-CSRF-Token", b.csrf())
	var out struct {
		URL string `json:"url"`
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &out) != nil {
		t.Fatalf("JSON sign-in: %d %s", r.status, r.body)
	}
	if !strings.HasPrefix(out.URL, l.op.URL("/authorize")+"?") || queryParam(t, out.URL, "client_id") != l.op.ClientID() {
		t.Fatalf("url %q is not the authorization request", out.URL)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	cb := b.get(b.authorize(out.URL))
	if cb.status != http.StatusFound || cb.location() != l.base+"/x" {
		t.Fatalf("callback: %d %q", cb.status, cb.location())
	}
	if !b.signedIn() {
		t.Fatal("not signed in")
	}
	// And the JSON sign-out.
	so := b.postJSON("/auth/signout", `{"revokeToken":true,"callbackUrl":"/bye"}`, "X-CSRF-Token", b.csrf())
	if so.status != http.StatusOK || so.body != `{"url":"`+l.base+`/bye"}` {
		t.Fatalf("JSON sign-out: %d %s", so.status, so.body)
	}
	if b.signedIn() {
		t.Fatal("still signed in")
	}
	if l.op.Counts().Revoke == 0 {
		t.Error("revokeToken ignored")
	}
}
