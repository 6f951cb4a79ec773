package ginauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ginauth/ginauth"
)

// hookRecorder records what a SignInHook was called with.
type hookRecorder struct {
	mu    sync.Mutex
	calls []ginauth.SignInAttempt
	ctxOK []bool
}

func (h *hookRecorder) record(ctx context.Context, in ginauth.SignInAttempt) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, in)
	h.ctxOK = append(h.ctxOK, ctx != nil && ctx.Err() == nil)
}

func withHook(h ginauth.SignInHook) appOption {
	return withConfig(func(c *ginauth.Config) { c.SignInHook = h })
}

// assertRefusedCleanly checks what every refused sign-in leaves behind: no
// session, the flow consumed (a replay of the callback is refused) and the
// provider's fresh tokens revoked.
// baseline is what the provider counts before a sign-in that will be
// refused.
type baseline struct{ revokes, active int }

func refusalBaseline(a *testApp) baseline {
	return baseline{revokes: a.op.Counts().Revoke, active: a.op.ActiveTokens()}
}

func assertRefusedCleanly(t *testing.T, a *testApp, b *browser, callback string, before baseline) {
	t.Helper()
	if b.signedIn() {
		t.Fatal("refused user is signed in")
	}
	for _, c := range b.cookies() {
		if strings.Contains(c.Name, "ginauth-flow-") {
			t.Fatalf("flow cookie %s still in the jar", c.Name)
		}
		if c.Name == "__Host-ginauth" || c.Name == "__Host-ginauth-tokens" {
			t.Fatalf("session cookie %s in the jar", c.Name)
		}
	}
	if got := a.op.Counts().Revoke - before.revokes; got != 2 {
		t.Fatalf("revocation endpoint called %d times, want 2 (refresh and access token)", got)
	}
	if got := a.op.ActiveTokens(); got != before.active {
		t.Fatalf("%d tokens usable at the provider after the refusal, want %d: the fresh tokens were not revoked", got, before.active)
	}
	if r := b.get(callback); r.status == http.StatusOK || r.status == http.StatusForbidden ||
		!strings.Contains(r.location(), "error=invalid_state") {
		t.Fatalf("callback replay: %d %q, want a redirect with error=invalid_state", r.status, r.location())
	}
	if b.signedIn() {
		t.Fatal("replayed callback signed in")
	}
}

func TestSignInHook_RefusalBrowser(t *testing.T) {
	rec := &hookRecorder{}
	a := newTestApp(t, withHook(func(ctx context.Context, in ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
		rec.record(ctx, in)
		if in.User.Subject == "bob" {
			return ginauth.Deny(`<script>alert(1)</script> Contractors use the other portal.`), nil
		}
		return ginauth.Allow(), nil
	}))
	a.op.SetNextUser("bob")
	b := a.browser()
	before := refusalBaseline(a)
	callback := b.authorize(b.startSignIn("/dashboard"))
	r := b.get(callback)
	a.deniedWith(r, "&lt;script&gt;alert(1)&lt;/script&gt; Contractors use the other portal.")
	if strings.Contains(r.body, "<script>") {
		t.Fatal("reason not escaped")
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q", ct)
	}
	assertRefusedCleanly(t, a, b, callback, before)

	// The hook saw the provider and the user, with the request's context.
	if len(rec.calls) != 1 {
		t.Fatalf("hook called %d times", len(rec.calls))
	}
	got := rec.calls[0]
	if got.Provider != "test" || got.User.Subject != "bob" || got.User.Email != "bob@example.com" ||
		!got.User.EmailVerified || got.User.Provider != "test" || got.User.Issuer != a.op.Issuer() || !rec.ctxOK[0] {
		t.Fatalf("hook saw %+v (ctx ok %v)", got, rec.ctxOK[0])
	}

	// Alice is allowed: the hook does not get in the way.
	a.op.SetNextUser("alice")
	b2 := a.browser()
	b2.mustSignIn()
}

// TestSignInHook_NoTokens: the attempt a hook gets holds no token, in any
// field or claim.
func TestSignInHook_NoTokens(t *testing.T) {
	var seen []byte
	a := newTestApp(t, withHook(func(_ context.Context, in ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
		seen, _ = json.Marshal(in)
		return ginauth.Allow(), nil
	}))
	b := a.browser()
	b.mustSignIn()
	for _, k := range []string{"access_token", "refresh_token", "id_token", "eyJ"} {
		if strings.Contains(string(seen), k) {
			t.Fatalf("hook input holds %q: %s", k, seen)
		}
	}
}

func TestSignInHook_RefusalJSON(t *testing.T) {
	a := newTestApp(t, withHook(func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
		return ginauth.Deny("not on the team"), nil
	}))
	b := a.browser()
	before := refusalBaseline(a)
	callback := b.authorize(b.startSignIn("/dashboard"))
	r := b.get(callback, "Accept", "application/json")
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body["error"] != "access_denied" || body["reason"] != "not on the team" || len(body) != 2 {
		t.Fatalf("body %s (%v)", r.body, err)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatal("403 JSON is cacheable")
	}
	assertRefusedCleanly(t, a, b, callback, before)
}

func TestSignInHook_ReasonCapped(t *testing.T) {
	long := strings.Repeat("é", ginauth.MaxDenyReasonLen) // 2 bytes each
	d := ginauth.Deny(long)
	denied, reason := d.Denied()
	if !denied || len(reason) > ginauth.MaxDenyReasonLen || !strings.HasPrefix(long, reason) || reason == "" {
		t.Fatalf("reason %d bytes, denied %v", len(reason), denied)
	}
	if denied, _ := ginauth.Allow().Denied(); denied {
		t.Fatal("Allow denies")
	}
	if denied, _ := (ginauth.SignInDecision{}).Denied(); denied {
		t.Fatal("zero decision denies")
	}
}

func TestSignInHook_ErrorFailsClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		hook ginauth.SignInHook
	}{
		{"error", func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
			return ginauth.Allow(), errors.New("directory down")
		}},
		{"panic", func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
			panic("hook bug")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t, withHook(tc.hook))
			b := a.browser()
			before := refusalBaseline(a)
			callback := b.authorize(b.startSignIn("/dashboard"))
			r := b.get(callback)
			if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "try again") {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			for _, c := range (&http.Response{Header: r.header}).Cookies() {
				if !strings.Contains(c.Name, "ginauth-flow-") && c.Value != "" && c.MaxAge >= 0 {
					t.Fatalf("failed hook set cookie %s", c.Name)
				}
			}
			assertRefusedCleanly(t, a, b, callback, before)
			logs := a.logs.String()
			if !strings.Contains(logs, "sign-in hook failed") {
				t.Fatalf("not logged: %s", logs)
			}
			if strings.Contains(logs, "eyJ") {
				t.Fatal("a token reached the logs")
			}
			// The server is still up.
			a.op.SetNextUser("alice")
			if r := a.browser().get("/auth/providers"); r.status != http.StatusOK {
				t.Fatalf("after the failure: %d", r.status)
			}
		})
	}
}

// TestAllowedConfig_EndToEnd: Config.AllowedEmailDomains lets alice
// (verified, example.com) in and refuses carol (same domain, unverified).
func TestAllowedConfig_EndToEnd(t *testing.T) {
	a := newTestApp(t, withConfig(func(c *ginauth.Config) { c.AllowedEmailDomains = []string{"EXAMPLE.com"} }))
	a.op.SetNextUser("alice")
	a.browser().mustSignIn()

	a.op.SetNextUser("carol")
	b := a.browser()
	before := refusalBaseline(a)
	callback := b.authorize(b.startSignIn("/dashboard"))
	a.deniedWith(b.get(callback), "")
	assertRefusedCleanly(t, a, b, callback, before)
}

// TestAllowedConfig_BeforeHook: the allow-list refuses before the hook runs.
func TestAllowedConfig_BeforeHook(t *testing.T) {
	called := 0
	a := newTestApp(t, withConfig(func(c *ginauth.Config) {
		c.AllowedGroups = []string{"admin"}
		c.SignInHook = func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
			called++
			return ginauth.Allow(), nil
		}
	}))
	a.op.SetNextUser("bob") // staff only
	a.deniedWith(a.browser().signIn(), "")
	if called != 0 {
		t.Fatal("hook ran for a user the allow-list refused")
	}
	a.op.SetNextUser("alice")
	a.browser().mustSignIn()
	if called != 1 {
		t.Fatalf("hook ran %d times for alice", called)
	}
}

func TestAllowedConfig_Invalid(t *testing.T) {
	for name, f := range map[string]func(*ginauth.Config){
		"domain with @":    func(c *ginauth.Config) { c.AllowedEmailDomains = []string{"@example.com"} },
		"empty domain":     func(c *ginauth.Config) { c.AllowedEmailDomains = []string{""} },
		"bad domain":       func(c *ginauth.Config) { c.AllowedEmailDomains = []string{"exa mple.com"} },
		"email without @":  func(c *ginauth.Config) { c.AllowedEmails = []string{"alice"} },
		"email with two @": func(c *ginauth.Config) { c.AllowedEmails = []string{"a@b@example.com"} },
		"empty email":      func(c *ginauth.Config) { c.AllowedEmails = []string{""} },
		"empty group":      func(c *ginauth.Config) { c.AllowedGroups = []string{""} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := validConfig(t)
			f(&cfg)
			_, err := ginauth.New(cfg)
			if !errors.Is(err, ginauth.ErrInvalidConfig) || !errors.Is(err, ginauth.ErrInvalidAllowList) {
				t.Fatalf("err %v", err)
			}
		})
	}
}
