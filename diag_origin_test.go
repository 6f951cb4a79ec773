package ginauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDiag_OriginMismatchSaysWhatToFix: a sign-in or sign-out form posted
// from the app opened at another address than BaseURL (localhost for
// 127.0.0.1, or a Host the app is reached at) is still refused with 403, but
// the page and the log name both origins. A forgery from another site stays
// a plain "csrf" refusal that shows nothing the request sent.
func TestDiag_OriginMismatchSaysWhatToFix(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	base, _ := url.Parse(a.base) // https://127.0.0.1:<port>
	localhost := "https://localhost:" + base.Port()
	cases := []struct {
		name     string
		host     string // request Host; "" keeps BaseURL's
		path     string
		hdr      []string
		mismatch string // the origin the page must name; "" for a plain csrf refusal
	}{
		{"sign-in: page on localhost posting to 127.0.0.1", "", "/auth/signin/test", []string{"Origin", localhost, "Sec-Fetch-Site", "cross-site"}, localhost},
		{"sign-in: app opened at localhost", "localhost:" + base.Port(), "/auth/signin/test", []string{"Origin", localhost, "Sec-Fetch-Site", "same-origin"}, localhost},
		{"sign-out: app opened at localhost", "localhost:" + base.Port(), "/auth/signout", []string{"Origin", localhost}, localhost},
		{"sign-in: app reached at another host name", "app.internal:8443", "/auth/signin/test", []string{"Origin", "https://app.internal:8443"}, "https://app.internal:8443"},
		{"forgery from another site", "", "/auth/signin/test", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, ""},
		{"forgery with the Host of the forger", "", "/auth/signout", []string{"Origin", "https://evil.example"}, ""},
		{"Origin with markup is never shown", "localhost:" + base.Port(), "/auth/signin/test", []string{"Origin", "https://localhost:" + base.Port() + "/<b>x</b>"}, ""},
		{"Origin with a path is never shown", "localhost:" + base.Port(), "/auth/signin/test", []string{"Origin", localhost + "/x"}, ""},
		{"over-long Origin is never shown", "localhost:" + base.Port(), "/auth/signin/test", []string{"Origin", "https://" + strings.Repeat("a", 120) + ".localhost"}, ""},
		{"Origin null", "", "/auth/signin/test", []string{"Origin", "null"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := a.browserT(t)
			form := url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/"}}
			var r result
			if tc.host != "" {
				r = b.postWithHost(tc.host, tc.path, form, tc.hdr...)
			} else {
				r = b.post(tc.path, form, tc.hdr...)
			}
			if r.status != http.StatusForbidden {
				t.Fatalf("status %d, want 403; body %q", r.status, r.body)
			}
			want := "This app is configured for " + a.base + ", but you opened it at " + tc.mismatch + "."
			if tc.mismatch != "" {
				if !strings.Contains(r.body, want) || !strings.Contains(r.body, "Open "+a.base+" instead") {
					t.Fatalf("page does not explain the mismatch: %q", r.body)
				}
				if logs := a.logs.String(); !strings.Contains(logs, "base_url_origin="+a.base+" browser_origin="+tc.mismatch) {
					t.Fatalf("log does not name both origins: %s", logs)
				}
				return
			}
			if strings.Contains(r.body, "configured for") || strings.Contains(r.body, "evil") || strings.Contains(r.body, "<b>x") {
				t.Fatalf("a forgery's page shows the request's origin: %q", r.body)
			}
			if !strings.Contains(r.body, "The form expired or came from another site") {
				t.Fatalf("want the csrf page, got %q", r.body)
			}
		})
	}
	// JSON clients get the code.
	b := a.browserT(t)
	r := b.postJSON("/auth/signin/test", `{"csrfToken":"`+b.csrf()+`"}`, "Origin", localhost)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, `"origin_mismatch"`) {
		t.Fatalf("JSON: %d %q", r.status, r.body)
	}
}
