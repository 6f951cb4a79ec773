package ginauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/providers"
)

// Sign-out with the provider: token revocation (SECURITY.md RV-1, RV-2) and
// RP-initiated logout with its return (OR-3).

// signOut posts the sign-out form with a fresh CSRF token.
func (b *browser) signOut(revoke bool, callbackURL string) result {
	b.t.Helper()
	form := url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {callbackURL}}
	if revoke {
		form.Set("revokeToken", "true")
	}
	return b.post("/auth/signout", form)
}

// wantSignedOut checks that r ended the browser's session: its session
// cookie is cleared, the browser is signed out and the captured cookies are
// refused.
func (l *lcApp) wantSignedOut(t *testing.T, b *browser, r result, captured string) {
	t.Helper()
	if c := findSetCookie(t, r, sessionCookieName); !clearsCookie(c) {
		t.Errorf("session cookie not cleared: %v", r.header.Values("Set-Cookie"))
	}
	if b.signedIn() {
		t.Error("still signed in")
	}
	l.wantAnonymous(t, captured)
}

// opTokenRequest redeems a refresh token at the OP directly, as the client.
func (l *lcApp) opTokenRequest(t *testing.T, refreshToken string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	req, _ := http.NewRequest(http.MethodPost, l.op.URL("/token"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(l.op.ClientID()), url.QueryEscape(l.op.ClientSecret()))
	r := l.browserT(t).do(&http.Client{Timeout: 5 * time.Second}, req)
	return r.status, r.body
}

// opUserInfo calls the OP's UserInfo endpoint with an access token.
func (l *lcApp) opUserInfo(t *testing.T, accessToken string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, l.op.URL("/userinfo"), nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return l.browserT(t).do(&http.Client{Timeout: 5 * time.Second}, req).status
}

// clientAuthOK reports whether a revocation request authenticated as the
// client, with client_secret_basic or client_secret_post.
func (l *lcApp) clientAuthOK(r revokeRequest) bool {
	if r.BasicAuth {
		id, _ := url.QueryUnescape(r.BasicUser)
		secret, _ := url.QueryUnescape(r.BasicPass)
		return id == l.op.ClientID() && secret == l.op.ClientSecret() && !r.Form.Has("client_secret")
	}
	return r.Form.Get("client_id") == l.op.ClientID() && r.Form.Get("client_secret") == l.op.ClientSecret()
}

// TestRV1_SignOutRevokesTokens: sign-out with revokeToken revokes the
// refresh token (token_type_hint=refresh_token) and the access token at the
// revocation endpoint, authenticated as the client; both are dead at
// the OP afterwards. Without revokeToken nothing is revoked.
func TestRV1_SignOutRevokesTokens(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		revoke      bool
		alreadyDead bool // the OP no longer knows the token: 200 still
	}{
		{"revokeToken", true, false},
		{"revokeToken, token already invalid at the OP", true, true},
		{"without revokeToken", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycleApp(t)
			l.rec.setRevoke(0, false, tc.alreadyDead)
			b := l.signInLC(t, "alice")
			at, _ := b.accessToken()
			captured := b.cookieHeader()

			r := b.signOut(tc.revoke, "/")
			if r.status != http.StatusSeeOther || r.location() != l.base+"/" {
				t.Fatalf("sign-out: %d %q, want 303 to /", r.status, r.location())
			}
			l.wantSignedOut(t, b, r, captured)
			revs := l.rec.revocations()
			if !tc.revoke {
				if len(revs) != 0 || l.op.Counts().Revoke != 0 {
					t.Fatalf("revoked without revokeToken: %d requests", len(revs))
				}
				if got := l.opUserInfo(t, at); got != http.StatusOK {
					t.Errorf("the access token died without revokeToken: userinfo %d", got)
				}
				return
			}
			if len(revs) != 2 {
				t.Fatalf("%d revocation requests, want 2 (refresh and access token)", len(revs))
			}
			wantCalls := 2
			if tc.alreadyDead {
				wantCalls = 4
			}
			if n := l.op.Counts().Revoke; n != wantCalls {
				t.Errorf("OP counted %d revocation requests, want %d", n, wantCalls)
			}
			// Both are sent at once: find them by hint.
			byHint := map[string]string{}
			for _, rv := range revs {
				byHint[rv.Form.Get("token_type_hint")] = rv.Form.Get("token")
			}
			rt := byHint["refresh_token"]
			if rt == "" || rt == at {
				t.Errorf("no revocation of the refresh token with token_type_hint=refresh_token")
			}
			if byHint["access_token"] != at {
				t.Errorf("no revocation of the access token with token_type_hint=access_token")
			}
			for i, rv := range revs {
				if !l.clientAuthOK(rv) {
					t.Errorf("revocation %d without client authentication", i)
				}
				if rv.StatusSent != http.StatusOK {
					t.Errorf("revocation %d answered %d", i, rv.StatusSent)
				}
			}
			if strings.Contains(l.logs.String(), "revocation failed") {
				t.Errorf("a 200 was logged as a failure: %s", l.logs.String())
			}
			// Dead at the OP.
			if status, body := l.opTokenRequest(t, rt); status != http.StatusBadRequest || !strings.Contains(body, "invalid_grant") {
				t.Errorf("revoked refresh token redeemed: %d %s", status, body)
			}
			if got := l.opUserInfo(t, at); got != http.StatusUnauthorized {
				t.Errorf("revoked access token: userinfo %d, want 401", got)
			}
			logs := l.logs.String()
			if strings.Contains(logs, rt) || strings.Contains(logs, at) {
				t.Error("a token value reached the logs")
			}
		})
	}
	// RFC 7009 §2.2: an invalid token is answered 200, which is success.
	t.Run("provider Revoke of an unknown token", func(t *testing.T) {
		t.Parallel()
		l := newLifecycleApp(t)
		l.signInLC(t, "alice") // discovery done
		if err := l.prov.Revoke(context.Background(), "no-such-token", "refresh_token"); err != nil {
			t.Fatalf("Revoke of an unknown token: %v", err)
		}
	})
}

// TestRV2_RevocationFailureNeverBlocksSignOut: a revocation endpoint that
// answers 503 or hangs does not stop the local sign-out, which completes
// within the provider timeout; then, with EndSession, the browser goes to the
// OP's end_session_endpoint with a 303, id_token_hint, client_id, the
// registered post_logout_redirect_uri and a fresh state.
func TestRV2_RevocationFailureNeverBlocksSignOut(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	cases := []struct {
		name       string
		status     int
		hang       bool
		endSession bool
	}{
		{"503, local sign-out only", http.StatusServiceUnavailable, false, false},
		{"503, then provider logout", http.StatusServiceUnavailable, false, true},
		{"hangs, local sign-out only", 0, true, false},
		{"hangs, then provider logout", 0, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycleApp(t, withProvider(func(p *providers.OIDCConfig) {
				p.Timeout = timeout
				p.EndSession = tc.endSession
			}))
			l.rec.setRevoke(tc.status, tc.hang, false)
			b := l.signInLC(t, "alice")
			sid := b.session().SID
			captured := b.cookieHeader()

			start := time.Now()
			r := b.signOut(true, "/dashboard")
			elapsed := time.Since(start)
			if r.status != http.StatusSeeOther {
				t.Fatalf("sign-out: %d, want 303", r.status)
			}
			limit := 300 * time.Millisecond
			if tc.hang {
				limit = timeout + 400*time.Millisecond
			}
			if elapsed > limit {
				t.Errorf("sign-out took %v (provider timeout %v)", elapsed, timeout)
			}
			l.wantSignedOut(t, b, r, captured)
			if n := len(l.rec.revocations()); n == 0 {
				t.Error("no revocation attempted")
			}
			if !strings.Contains(l.logs.String(), "revocation failed") {
				t.Error("the failed revocation was not logged")
			}
			if !tc.endSession {
				if r.location() != l.base+"/dashboard" {
					t.Errorf("Location %q, want the callbackUrl", r.location())
				}
				return
			}
			loc := r.location()
			if !strings.HasPrefix(loc, l.op.URL("/end_session")+"?") {
				t.Fatalf("Location %q, want the end_session_endpoint", loc)
			}
			if got := queryParam(t, loc, "client_id"); got != l.op.ClientID() {
				t.Errorf("client_id %q", got)
			}
			if got := queryParam(t, loc, "post_logout_redirect_uri"); got != l.base+"/auth/signout/complete" {
				t.Errorf("post_logout_redirect_uri %q, want %q", got, l.base+"/auth/signout/complete")
			}
			if st := queryParam(t, loc, "state"); len(st) < 22 {
				t.Errorf("state %q too short", st)
			}
			hint := jwtClaims(t, queryParam(t, loc, "id_token_hint"))
			if hint["sub"] != "alice" || hint["sid"] != sid || hint["iss"] != l.op.Issuer() {
				t.Errorf("id_token_hint claims %v", hint)
			}
			if c := findSetCookie(t, r, "__Host-ginauth-logout"); c == nil || clearsCookie(c) || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("logout state cookie: %v", c)
			}
			// The OP accepts the request and ends its session.
			op := b.get(loc)
			if op.status != http.StatusFound || !strings.HasPrefix(op.location(), l.base+"/auth/signout/complete?") {
				t.Fatalf("OP end_session: %d %q %s", op.status, op.location(), op.body)
			}
			if l.op.SessionActive(sid) {
				t.Error("the OP session is still active")
			}
		})
	}
}

// TestRV2_FreshStatePerSignOut: every provider logout gets its own state.
func TestRV2_FreshStatePerSignOut(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t, withProvider(func(p *providers.OIDCConfig) { p.EndSession = true }))
	b := l.browserT(t)
	seen := map[string]bool{}
	for i := range 3 {
		b.mustSignIn()
		r := b.signOut(false, "/")
		if r.status != http.StatusSeeOther {
			t.Fatalf("sign-out %d: %d", i, r.status)
		}
		st := queryParam(t, r.location(), "state")
		if seen[st] {
			t.Fatalf("state %q reused", st)
		}
		seen[st] = true
		l.clock.Advance(time.Second)
	}
	// JSON sign-out (the client script) gets the same URL as {"url": ...}.
	b.mustSignIn()
	r := b.postJSON("/auth/signout", `{"revokeToken":false,"callbackUrl":"/"}`, "X-CSRF-Token", b.csrf())
	var out struct {
		URL string `json:"url"`
	}
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &out) != nil || !strings.HasPrefix(out.URL, l.op.URL("/end_session")+"?") {
		t.Fatalf("JSON sign-out: %d %s", r.status, r.body)
	}
	if seen[queryParam(t, out.URL, "state")] {
		t.Fatal("state reused")
	}
}

// TestOR3_SignOutCompleteState: the return from the OP lands on the stored
// callbackUrl only with the state this browser was sent out with; with a
// different or missing state, or a second time, it lands on the default
// page. The logout cookie is cleared either way, and a hostile callbackUrl
// given at sign-out never comes out.
func TestOR3_SignOutCompleteState(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t, withProvider(func(p *providers.OIDCConfig) { p.EndSession = true }))
	home := l.base + "/"
	cases := []struct {
		name     string
		callback string
		query    func(t *testing.T, ret string) string // the return URL to visit
		want     string
	}{
		{"right state", "/dashboard?tab=1", func(_ *testing.T, ret string) string { return ret }, l.base + "/dashboard?tab=1"},
		{"different state", "/dashboard", func(t *testing.T, ret string) string { return withParam(ret, "state", "x"+queryParam(t, ret, "state")) }, home},
		{"missing state", "/dashboard", func(*testing.T, string) string { return l.base + "/auth/signout/complete" }, home},
		{"empty state", "/dashboard", func(*testing.T, string) string { return l.base + "/auth/signout/complete?state=" }, home},
		{"hostile callbackUrl", "https://evil.example/steal", func(_ *testing.T, ret string) string { return ret }, home},
		{"hostile scheme-relative callbackUrl", "//evil.example/steal", func(_ *testing.T, ret string) string { return ret }, home},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := l.browserT(t)
			b.mustSignIn()
			r := b.signOut(false, tc.callback)
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location(), l.op.URL("/end_session")) {
				t.Fatalf("sign-out: %d %q", r.status, r.location())
			}
			op := b.get(r.location())
			if op.status != http.StatusFound {
				t.Fatalf("OP end_session: %d %s", op.status, op.body)
			}
			ret := tc.query(t, op.location())
			got := b.get(ret)
			if got.status != http.StatusSeeOther || got.location() != tc.want {
				t.Errorf("return: %d %q, want 303 %q", got.status, got.location(), tc.want)
			}
			if strings.Contains(got.location(), "evil") {
				t.Errorf("hostile target came out: %q", got.location())
			}
			if c := findSetCookie(t, got, "__Host-ginauth-logout"); !clearsCookie(c) {
				t.Errorf("logout cookie not cleared: %v", got.header.Values("Set-Cookie"))
			}
			if again := b.get(op.location()); again.status != http.StatusSeeOther || again.location() != home {
				t.Errorf("second return: %d %q, want 303 %q", again.status, again.location(), home)
			}
		})
	}
	t.Run("another browser's return", func(t *testing.T) {
		t.Parallel()
		victim, attacker := l.browserT(t), l.browserT(t)
		attacker.mustSignIn()
		r := attacker.signOut(false, "/dashboard")
		op := attacker.get(r.location())
		if got := victim.get(op.location()); got.status != http.StatusSeeOther || got.location() != home {
			t.Errorf("return without the logout cookie: %d %q", got.status, got.location())
		}
	})
	t.Run("expired", func(t *testing.T) {
		// Not parallel with the others: it moves the shared clock.
		l := newLifecycleApp(t, withProvider(func(p *providers.OIDCConfig) { p.EndSession = true }))
		b := l.browserT(t)
		b.mustSignIn()
		r := b.signOut(false, "/dashboard")
		op := b.get(r.location())
		l.clock.Advance(11 * time.Minute)
		if got := b.get(op.location()); got.status != http.StatusSeeOther || got.location() != l.base+"/" {
			t.Errorf("expired return: %d %q", got.status, got.location())
		}
	})
}
