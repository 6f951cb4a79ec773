package ginauth_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Limits (LM): SECURITY.md LM-1 and LM-2. LM-2's logout_token part is in
// backchannel_test.go; LM-3 (provider response caps) is tested in providers/
// and internal/ (see SECURITY.md).

// fastLimit bounds how long a refused oversized request may take (generous
// for -race on a loaded machine; the real cost is milliseconds).
const fastLimit = 3 * time.Second

// TestLM1_OversizedCallbackParametersRefused: a code or state of 100 KB is
// refused fast, with no token request and no session.
func TestLM1_OversizedCallbackParametersRefused(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	big := strings.Repeat("x", 100<<10)
	cases := []struct {
		name  string
		build func(cb string) string
	}{
		{"code of 100 KB", func(cb string) string { return withParam(cb, "code", big) }},
		{"state of 100 KB", func(cb string) string { return withParam(cb, "state", big) }},
		{"code and state of 100 KB", func(cb string) string { return withParam(withParam(cb, "code", big), "state", big) }},
		{"code of 10 KB", func(cb string) string { return withParam(cb, "code", big[:10<<10]) }},
		{"state of 1 KB", func(cb string) string { return withParam(cb, "state", big[:1<<10]) }},
		{"iss of 100 KB", func(cb string) string { return withParam(cb, "iss", big) }},
		{"error of 100 KB", func(cb string) string { return withParam(cb, "error", big) }},
		{"100 KB of extra parameters", func(cb string) string { return cb + "&junk=" + big }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			cb := b.authorize(b.startSignIn("/dashboard"))
			tokens := a.op.Counts().Token
			start := time.Now()
			r := b.get(tc.build(cb))
			if d := time.Since(start); d > fastLimit {
				t.Errorf("took %v", d)
			}
			// SECURITY.md LM-1: ginauth answers 413.
			if r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d %q, want 413", r.status, r.location())
			}
			if r.location() != "" {
				t.Errorf("Location %q", r.location())
			}
			if n := a.op.Counts().Token - tokens; n != 0 {
				t.Errorf("%d token requests", n)
			}
			if setsSessionValue(t, r) || b.signedIn() {
				t.Error("a session was created")
			}
		})
	}
}

// TestLM1_OversizedCallbackURLFallsBack: a 10 KB callbackUrl signs in and
// lands on the default target.
func TestLM1_OversizedCallbackURLFallsBack(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct{ name, value string }{
		{"10 KB path", "/" + strings.Repeat("a", 10<<10)},
		{"10 KB absolute same-origin URL", a.base + "/" + strings.Repeat("a", 10<<10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			start := time.Now()
			r := b.get(b.authorize(b.startSignIn(tc.value)))
			if r.status != http.StatusFound || r.location() != a.base+"/" {
				t.Errorf("callback: %d %q, want 302 %q", r.status, r.location(), a.base+"/")
			}
			if d := time.Since(start); d > fastLimit {
				t.Errorf("took %v", d)
			}
			if !b.signedIn() {
				t.Error("not signed in")
			}
		})
	}
}

// TestLM1_MalformedProviderNames: odd provider names are 404, never
// a redirect to a provider nor a flow cookie.
func TestLM1_MalformedProviderNames(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct{ name, path string }{
		{"encoded dot-dot", "/auth/signin/%2e%2e"},
		{"upper case", "/auth/signin/TEST"},
		{"upper case of a real provider name", "/auth/signin/GOOGLE"},
		{"trailing NUL", "/auth/signin/test%00"},
		{"trailing space", "/auth/signin/test%20"},
		{"encoded slash", "/auth/signin/..%2f..%2ftest"},
		{"100 KB name", "/auth/signin/" + strings.Repeat("t", 100<<10)},
		{"callback upper case", "/auth/callback/TEST?code=x&state=y"},
		{"callback trailing NUL", "/auth/callback/test%00?code=x&state=y"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				b := a.browserT(t)
				var r result
				if method == http.MethodGet {
					r = b.send(method, tc.path, nil)
				} else {
					r = b.post(tc.path, url.Values{"csrfToken": {b.csrf()}})
				}
				// SECURITY.md LM-1: an unknown provider is 404.
				if r.status != http.StatusNotFound {
					t.Errorf("%s: status %d %q, want 404", method, r.status, r.location())
				}
				if r.location() != "" {
					t.Errorf("%s: redirect to %q", method, r.location())
				}
				for _, c := range setCookies(t, r) {
					if strings.HasPrefix(c.Name, flowCookiePrefix) {
						t.Errorf("%s: flow cookie set", method)
					}
				}
			}
		})
	}
	if n := a.op.Counts().Authorize + a.op.Counts().Token; n != 0 {
		t.Errorf("%d provider requests", n)
	}
}

// TestLM2_OversizedBodyRefused: a 5 MB body to sign-in or sign-out is
// refused with 413 after reading at most the cap, quickly.
func TestLM2_OversizedBodyRefused(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	form := "callbackUrl=%2F&pad=" + strings.Repeat("a", 5<<20)
	jsonBody := `{"callbackUrl":"/","pad":"` + strings.Repeat("a", 5<<20) + `"}`
	cases := []struct {
		name, path, contentType, body string
		signedIn                      bool
	}{
		{"form to signin", "/auth/signin/test", "application/x-www-form-urlencoded", form, false},
		{"JSON to signin", "/auth/signin/test", "application/json", jsonBody, false},
		{"form to signout", "/auth/signout", "application/x-www-form-urlencoded", form, true},
		{"JSON to signout", "/auth/signout", "application/json", jsonBody, true},
		{"form to callback", "/auth/callback/test", "application/x-www-form-urlencoded", form, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := a.browserT(t)
			if tc.signedIn {
				b.mustSignIn()
			}
			before := b.cookie(sessionCookieName)
			tok := b.csrf()
			start := time.Now()
			r := b.send(http.MethodPost, tc.path, bytes.NewReader([]byte(tc.body)),
				"Content-Type", tc.contentType, "X-CSRF-Token", tok)
			if d := time.Since(start); d > fastLimit {
				t.Errorf("took %v", d)
			}
			if r.status != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d %.100s, want 413", r.status, r.body)
			}
			if r.location() != "" {
				t.Errorf("Location %q", r.location())
			}
			if tc.signedIn {
				wantSessionUnchanged(t, b, r, before)
			}
		})
	}
}
