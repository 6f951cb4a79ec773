package ginauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/providers"
)

// SECURITY.md rows that apply to OAuth 2.0-only providers (no ID token),
// tested with the generic provider against a plain RFC 6749 fake.

func newGeneric(t *testing.T, f *fakeOAuth, mod ...func(*providers.OAuth2Config)) *providers.OAuth2Provider {
	t.Helper()
	cfg := providers.OAuth2Config{
		Name:          "plain",
		AuthURL:       f.URL() + "/authorize",
		TokenURL:      f.URL() + "/token",
		UserURL:       f.URL() + "/userinfo",
		RevocationURL: f.URL() + "/revoke",
		ClientID:      f.clientID,
		ClientSecret:  f.secret,
		Scopes:        []string{"profile"},
	}
	for _, m := range mod {
		m(&cfg)
	}
	p, err := providers.OAuth2(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOAuth2_SignInRefreshRevoke(t *testing.T) {
	f := newFakeOAuth(t, "generic")
	f.expiresIn = 600
	a := newOAuth2App(t, newGeneric(t, f))
	b := a.browser()
	if r := b.signInWith("plain"); r.location() != a.base+"/dashboard" {
		t.Fatalf("sign-in: %q\n%s", r.location(), a.logs.String())
	}
	_, u := b.me()
	if u.Subject != "user-1" || u.Issuer != f.URL() || u.Name != "Generic User" || u.Email != "u1@example.com" || !u.EmailVerified || len(u.Groups) != 1 || u.Groups[0] != "admin" {
		t.Errorf("user = %+v", u)
	}
	if got := b.get("/app/admin").status; got != http.StatusOK {
		t.Errorf("RequireClaim(groups, admin): %d", got)
	}
	// RF-1: refresh near expiry; a refused refresh token ends the session.
	first := tokenOf(t, b)
	a.clock.Advance(590 * time.Second)
	if second := tokenOf(t, b); second == first {
		t.Error("not refreshed")
	}
	// RV-1: sign-out with revokeToken revokes both tokens with client auth.
	live := f.liveTokens()
	b.signOut(true, "/")
	revs := f.reqs("/revoke")
	if len(revs) != 2 {
		t.Fatalf("%d revocation requests, want 2", len(revs))
	}
	for _, r := range revs {
		id, secret, ok := r.BasicAuth()
		if !ok || id != f.clientID || secret != f.secret || r.PostForm.Get("token") == "" {
			t.Errorf("revocation without client auth or token: %v", r.PostForm)
		}
	}
	if f.liveTokens() != live-1 {
		t.Error("access token still live after revocation")
	}
}

// RF-1: a refused refresh token (invalid_grant) ends the session.
func TestOAuth2_RF1_RefusedRefreshEndsSession(t *testing.T) {
	f := newFakeOAuth(t, "generic")
	f.expiresIn = 600
	a := newOAuth2App(t, newGeneric(t, f))
	b := a.browser()
	b.signInWith("plain")
	f.mu.Lock()
	clear(f.refresh)
	f.mu.Unlock()
	a.clock.Advance(590 * time.Second)
	if r := b.get("/api/token"); r.status != http.StatusUnauthorized {
		t.Errorf("/api/token after invalid_grant: %d", r.status)
	}
	if b.signedIn() {
		t.Error("session survived invalid_grant")
	}
}

// ST-1, ST-2: state is single-use; a bad or replayed state makes no
// outbound call.
func TestOAuth2_ST_StateSingleUseNoOutboundCall(t *testing.T) {
	f := newFakeOAuth(t, "generic")
	a := newOAuth2App(t, newGeneric(t, f))
	b := a.browser()
	start := b.get("/auth/signin/plain?callbackUrl=/dashboard").location()
	cb := b.authorize(start)
	a.failedWith(b.get(withParam(cb, "state", mutate(queryParam(t, cb, "state")))), "invalid_state")
	if n := len(f.reqs("/token")); n != 0 {
		t.Fatalf("bad state: %d token requests", n)
	}
	// The altered state consumed the flow: the right one fails now too.
	a.failedWith(b.get(cb), "invalid_state")
	b2 := a.browser()
	cb2 := b2.authorize(b2.get("/auth/signin/plain?callbackUrl=/dashboard").location())
	if r := b2.get(cb2); r.location() != a.base+"/dashboard" {
		t.Fatalf("sign-in: %q", r.location())
	}
	a.failedWith(b2.get(cb2), "invalid_state")
	if n := len(f.reqs("/token")); n != 1 {
		t.Errorf("%d token requests, want 1 (replay made a call)", n)
	}
}

// PK-1: S256 challenge on the wire, verifier sent and matching; no nonce.
// PK-3: a code bound to another challenge is refused.
func TestOAuth2_PK_PKCE(t *testing.T) {
	f := newFakeOAuth(t, "generic")
	a := newOAuth2App(t, newGeneric(t, f))
	b := a.browser()
	b.signInWith("plain")
	az := f.reqs("/authorize")[0].URL.Query()
	tr := f.reqs("/token")[0]
	sum := sha256.Sum256([]byte(tr.PostForm.Get("code_verifier")))
	if az.Get("code_challenge_method") != "S256" || len(tr.PostForm.Get("code_verifier")) != 43 ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != az.Get("code_challenge") || az.Has("nonce") {
		t.Errorf("PKCE on the wire: authorize %v, verifier %q", az, tr.PostForm.Get("code_verifier"))
	}

	// Code injection: the attacker's code, redeemed in the victim's flow.
	attacker, victim := a.browser(), a.browser()
	attackerCB := attacker.authorize(attacker.get("/auth/signin/plain?callbackUrl=/").location())
	victimCB := victim.authorize(victim.get("/auth/signin/plain?callbackUrl=/").location())
	injected := withParam(victimCB, "code", queryParam(t, attackerCB, "code"))
	mark := a.failMark()
	a.failedWith(victim.get(injected), "token_exchange")
	a.sfReason(mark, providers.ErrTokenExchange)
	if victim.signedIn() {
		t.Error("injected code signed the victim in")
	}
}

func TestOAuth2_InsecureDisablePKCE(t *testing.T) {
	f := newFakeOAuth(t, "generic")
	a := newOAuth2App(t, newGeneric(t, f, func(c *providers.OAuth2Config) { c.InsecureDisablePKCE = true }))
	b := a.browser()
	if r := b.signInWith("plain"); r.location() != a.base+"/dashboard" {
		t.Fatalf("sign-in: %q", r.location())
	}
	if f.reqs("/authorize")[0].URL.Query().Has("code_challenge") || f.reqs("/token")[0].PostForm.Has("code_verifier") {
		t.Error("PKCE sent although disabled")
	}
}

// ER-1, ER-2: provider errors consume the flow, call no token endpoint and
// are not reflected.
func TestOAuth2_ER_ProviderErrors(t *testing.T) {
	f := newFakeOAuth(t, "generic")
	a := newOAuth2App(t, newGeneric(t, f))
	b := a.browser()
	cb := b.authorize(b.get("/auth/signin/plain?callbackUrl=/").location())
	denied := withParam(withParam(cb, "error", "access_denied"), "error_description", "<script>evil</script>")
	r := b.get(denied)
	a.failedWith(r, "access_denied")
	if strings.Contains(r.body, "evil") || strings.Contains(b.visit(r.location()).body, "evil") {
		t.Error("error_description reflected")
	}
	a.failedWith(b.get(cb), "invalid_state")
	if n := len(f.reqs("/token")); n != 0 {
		t.Errorf("%d token requests after an error response", n)
	}
}

// MX-1, MX-2: with ExpectedIss (RFC 9207), a wrong or missing iss is refused
// before any token request, error responses included.
func TestOAuth2_MX_ExpectedIss(t *testing.T) {
	f := newFakeOAuth(t, "generic")
	a := newOAuth2App(t, newGeneric(t, f, func(c *providers.OAuth2Config) { c.ExpectedIss = f.URL() }))
	for _, tc := range []struct {
		name string
		edit func(string) string
		code string
	}{
		{"missing", func(s string) string { return s }, "issuer_mismatch"},
		{"wrong", func(s string) string { return withParam(s, "iss", "https://evil.example") }, "issuer_mismatch"},
		{"wrong on an error response", func(s string) string {
			return withParam(withParam(s, "iss", "https://evil.example"), "error", "access_denied")
		}, "issuer_mismatch"},
		{"right", func(s string) string { return withParam(s, "iss", f.URL()) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := a.browser()
			before := len(f.reqs("/token"))
			r := b.get(tc.edit(b.authorize(b.get("/auth/signin/plain?callbackUrl=/dashboard").location())))
			if tc.code == "" {
				if r.location() != a.base+"/dashboard" {
					t.Fatalf("sign-in with the right iss: %q", r.location())
				}
				return
			}
			a.failedWith(r, tc.code)
			if len(f.reqs("/token")) != before {
				t.Error("token request despite a bad iss")
			}
		})
	}
}

// CD-1, CD-2, AV-1, AV-2, LM-3: token and user endpoint failures end the
// sign-in with an error page, the code is redeemed once and never retried,
// calls time out, answers are capped.
func TestOAuth2_TokenAndUserEndpointFailures(t *testing.T) {
	big := strings.Repeat("x", 1<<20+10)
	cases := []struct {
		name  string
		token func(w http.ResponseWriter, r *http.Request) bool
		api   func(w http.ResponseWriter, r *http.Request) bool
		code  string
	}{
		{"invalid_client", func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return true
		}, nil, "provider_misconfigured"}, // the client's credentials: the site's to fix
		{"200 with error", func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusOK, map[string]string{"error": "invalid_grant"})
			return true
		}, nil, "token_exchange"},
		{"token_type mac", func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusOK, map[string]string{"access_token": "x", "token_type": "mac"})
			return true
		}, nil, "token_exchange"},
		{"500", func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}, nil, "provider_unavailable"},
		{"HTML", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>oops</html>"))
			return true
		}, nil, "provider_unavailable"},
		{"truncated JSON", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token": "x", "tok`))
			return true
		}, nil, "provider_unavailable"},
		{"token response over 1 MiB", func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusOK, map[string]string{"access_token": "x", "token_type": "Bearer", "pad": big})
			return true
		}, nil, "provider_unavailable"},
		{"token endpoint hangs", func(w http.ResponseWriter, r *http.Request) bool {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return true
		}, nil, "provider_unavailable"},
		{"user endpoint over 1 MiB", nil, func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusOK, map[string]string{"sub": "s", "pad": big})
			return true
		}, "provider_unavailable"},
		{"user endpoint hangs", nil, func(w http.ResponseWriter, r *http.Request) bool {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return true
		}, "provider_unavailable"},
		{"user without sub", nil, func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusOK, map[string]string{"name": "no subject"})
			return true
		}, "invalid_user_info"},
		{"user endpoint 401", nil, func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
			return true
		}, "invalid_user_info"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOAuth(t, "generic")
			f.tokenHook, f.apiHook = tc.token, tc.api
			a := newOAuth2App(t, newGeneric(t, f, func(c *providers.OAuth2Config) { c.Timeout = 300 * time.Millisecond }))
			b := a.browser()
			began := time.Now()
			r := b.signInWith("plain")
			if time.Since(began) > 3*time.Second {
				t.Errorf("took %v: no timeout", time.Since(began))
			}
			a.failedWith(r, tc.code)
			if n := len(f.reqs("/token")); n != 1 {
				t.Errorf("%d token requests, want 1 (never retried)", n)
			}
			if b.signedIn() {
				t.Error("signed in")
			}
			if strings.Contains(a.logs.String(), f.secret) {
				t.Error("client secret in the logs")
			}
		})
	}
}

// LM-1: oversized callback parameters are refused with no outbound call.
func TestOAuth2_LM1_OversizedCallbackNoOutboundCall(t *testing.T) {
	f := newFakeOAuth(t, "generic")
	a := newOAuth2App(t, newGeneric(t, f))
	b := a.browser()
	cb := b.authorize(b.get("/auth/signin/plain?callbackUrl=/").location())
	if r := b.get(withParam(cb, "code", strings.Repeat("c", 9<<10))); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized code: %d", r.status)
	}
	if n := len(f.reqs("/token")); n != 0 {
		t.Errorf("%d token requests", n)
	}
}
