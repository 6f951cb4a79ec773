package ginauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// Token lifecycle: AccessToken and refresh (SECURITY.md RF-1, RF-2, EX-2),
// and the helpers the lifecycle tests share (signout_provider_test.go,
// backchannel_test.go, client_test.go).

const tokensCookieName = "__Host-ginauth-tokens"

// lcApp is a test app with the routes the lifecycle tests need:
//
//   - GET /api/token (RequireAuth(API)): auth.AccessToken, like the
//     example's route: 200 {"expiresAt", "accessToken"}, 401 for
//     ErrSessionEnded or ErrNotSignedIn, 503 for ErrProviderUnavailable,
//     500 otherwise. The token is in the answer so that tests can compare.
//   - GET /raw/token: the same without RequireAuth (AccessToken loads the
//     session itself).
//   - GET /test/session (LoadSession): {"id", "sid", "sub"} or {} when signed out.
//
// Every AccessToken error is recorded for errors.Is checks.
type lcApp struct {
	*testApp
	rec *opRecorder
	mem *store.Memory // the session store, for apps made with memoryStore

	mu   sync.Mutex
	errs []error
}

// newLifecycleApp starts a test app whose provider calls go through an
// opRecorder (see rec), with the lifecycle routes.
func newLifecycleApp(t *testing.T, opts ...appOption) *lcApp {
	t.Helper()
	rec := newOPRecorder(t)
	opts = append([]appOption{withProvider(func(p *providers.OIDCConfig) {
		p.HTTPClient = &http.Client{Transport: rec}
	})}, opts...)
	l := &lcApp{testApp: newTestApp(t, opts...), rec: rec}
	token := func(c *gin.Context) {
		tok, err := l.auth.AccessToken(c)
		if err != nil {
			l.mu.Lock()
			l.errs = append(l.errs, err)
			l.mu.Unlock()
		}
		switch {
		case err == nil:
			s, _ := ginauth.SessionFrom(c)
			c.JSON(http.StatusOK, gin.H{"expiresAt": s.ExpiresAt().UTC(), "accessToken": tok})
		case errors.Is(err, ginauth.ErrSessionEnded), errors.Is(err, ginauth.ErrNotSignedIn):
			c.JSON(http.StatusUnauthorized, gin.H{"error": "unauthenticated"})
		case errors.Is(err, ginauth.ErrProviderUnavailable):
			c.JSON(http.StatusServiceUnavailable, gin.H{"error": "provider_unavailable"})
		default:
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal"})
		}
	}
	l.router.GET("/api/token", l.auth.RequireAuth(ginauth.API), token)
	l.router.GET("/raw/token", token)
	l.router.GET("/test/session", l.auth.LoadSession(), func(c *gin.Context) {
		s, ok := ginauth.SessionFrom(c)
		if !ok {
			c.JSON(http.StatusOK, gin.H{})
			return
		}
		c.JSON(http.StatusOK, gin.H{"id": s.ID, "sid": s.SID, "sub": s.User.Subject})
	})
	return l
}

// storeCase selects the session store of a test app: the cookie store
// (the default, client-side) or the memory store (server-side, with Index).
type storeCase struct {
	name   string
	memory bool
}

var storeCases = []storeCase{{"cookie store", false}, {"memory store", true}}

// newLifecycleAppWith is newLifecycleApp with the session store of sc.
func newLifecycleAppWith(t *testing.T, sc storeCase, opts ...appOption) *lcApp {
	t.Helper()
	var mem *store.Memory
	if sc.memory {
		opts = append(opts, withConfig(func(c *ginauth.Config) {
			mem = store.NewMemory(store.MemoryOptions{Now: c.Now})
			t.Cleanup(func() { _ = mem.Close() })
			c.Store = mem
		}))
	}
	l := newLifecycleApp(t, opts...)
	l.mem = mem
	return l
}

// storedSessions returns how many live sessions of subject the memory
// store holds, or -1 for the cookie store.
func (l *lcApp) storedSessions(t *testing.T, subject string) int {
	t.Helper()
	if l.mem == nil {
		return -1
	}
	toks, err := l.mem.List(context.Background(), "test", subject)
	if err != nil {
		t.Fatal(err)
	}
	return len(toks)
}

// wantStored checks the memory store's count of subject's sessions (no-op
// with the cookie store).
func (l *lcApp) wantStored(t *testing.T, subject string, n int) {
	t.Helper()
	if got := l.storedSessions(t, subject); got >= 0 && got != n {
		t.Errorf("the store holds %d sessions of %s, want %d", got, subject, n)
	}
}

// lastErr returns the last AccessToken error, or nil.
func (l *lcApp) lastErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		return nil
	}
	return l.errs[len(l.errs)-1]
}

// tokenAnswer is the JSON of GET /api/token.
type tokenAnswer struct {
	ExpiresAt   time.Time `json:"expiresAt"`
	AccessToken string    `json:"accessToken"`
}

// accessToken asks /api/token and fails unless it answers 200.
func (b *browser) accessToken() (string, result) {
	b.t.Helper()
	r := b.get("/api/token")
	if r.status != http.StatusOK {
		b.t.Fatalf("/api/token: %d %s\nlogs: %s", r.status, r.body, b.app.logs.String())
	}
	var ta tokenAnswer
	if err := json.Unmarshal([]byte(r.body), &ta); err != nil || ta.AccessToken == "" {
		b.t.Fatalf("/api/token body %q: %v", r.body, err)
	}
	return ta.AccessToken, r
}

// sessionInfo is the JSON of GET /test/session.
type sessionInfo struct {
	ID  string `json:"id"`
	SID string `json:"sid"`
	Sub string `json:"sub"`
}

// session reads /test/session (needs an lcApp).
func (b *browser) session() sessionInfo {
	b.t.Helper()
	r := b.get("/test/session")
	var s sessionInfo
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &s) != nil {
		b.t.Fatalf("/test/session: %d %s", r.status, r.body)
	}
	return s
}

// cookieHeader returns the browser's cookies for the app as a Cookie header.
func (b *browser) cookieHeader() string {
	var parts []string
	for _, c := range b.cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// revokeRequest is one request to the OP's revocation endpoint as sent.
type revokeRequest struct {
	Form       url.Values
	BasicUser  string // form-urlencoded client ID of client_secret_basic
	BasicPass  string
	BasicAuth  bool
	StatusSent int // what the app received (0: no answer)
}

// opRecorder is the provider's HTTP transport in lifecycle tests. It records
// the requests to the revocation endpoint (ginauthtest counts them only) and
// can make that endpoint fail; every other request goes to the OP unchanged.
type opRecorder struct {
	base *http.Transport

	mu      sync.Mutex
	revokes []revokeRequest
	status  int  // answer /revoke with this status without forwarding
	hang    bool // never answer /revoke (until the request's context ends)
	twice   bool // forward each /revoke twice: the second finds the token already invalid
}

func newOPRecorder(t *testing.T) *opRecorder {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &opRecorder{base: tr}
}

func (r *opRecorder) setRevoke(status int, hang, twice bool) {
	r.mu.Lock()
	r.status, r.hang, r.twice = status, hang, twice
	r.mu.Unlock()
}

func (r *opRecorder) revocations() []revokeRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]revokeRequest(nil), r.revokes...)
}

func (r *opRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/revoke") {
		return r.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, _ := url.ParseQuery(string(body))
	user, pass, basic := req.BasicAuth()
	r.mu.Lock()
	status, hang, twice := r.status, r.hang, r.twice
	i := len(r.revokes)
	r.revokes = append(r.revokes, revokeRequest{Form: form, BasicUser: user, BasicPass: pass, BasicAuth: basic})
	r.mu.Unlock()
	record := func(code int) {
		r.mu.Lock()
		r.revokes[i].StatusSent = code
		r.mu.Unlock()
	}
	switch {
	case hang:
		<-req.Context().Done()
		return nil, req.Context().Err()
	case status != 0:
		record(status)
		return &http.Response{
			StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
			Body: io.NopCloser(strings.NewReader(`{"error":"temporarily_unavailable"}`)),
		}, nil
	}
	send := func() (*http.Response, error) {
		out := req.Clone(req.Context())
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		return r.base.RoundTrip(out)
	}
	if twice {
		resp, err := send()
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp, err := send()
	if err == nil {
		record(resp.StatusCode)
	}
	return resp, err
}

// signInLC signs a fresh browser in as subject and checks /api/me.
func (l *lcApp) signInLC(t *testing.T, subject string) *browser {
	t.Helper()
	b := l.browserT(t)
	r := b.signInAs(subject, "/dashboard")
	if r.status != http.StatusFound || r.location() != l.base+"/dashboard" {
		t.Fatalf("sign-in of %s: %d %q %s\nlogs: %s", subject, r.status, r.location(), r.body, l.logs.String())
	}
	if !b.signedIn() {
		t.Fatalf("%s not signed in after sign-in", subject)
	}
	return b
}

// pastMargin advances the clock so that a token of lifetime ttl issued
// around now expires within the default refresh margin. The provider's
// expires_in turns into an expiry on the real clock (x/oauth2 uses
// time.Now), so the step leaves room for the test's own running time.
func (l *lcApp) pastMargin(ttl time.Duration) {
	l.clock.Advance(ttl - ginauth.DefaultRefreshMargin + 30*time.Second)
}

const testTokenTTL = 5 * time.Minute

func withTokenTTL(d time.Duration) appOption {
	return withOP(func(o *ginauthtest.Options) { o.TokenTTL = d })
}

// --- AccessToken -------------------------------------------------------------

// TestAccessToken_FreshTokenWithoutProviderCall: a token far from expiry is
// returned as it is: no call to the provider, no cookie written.
func TestAccessToken_FreshTokenWithoutProviderCall(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t, withTokenTTL(testTokenTTL))
	b := l.signInLC(t, "alice")
	calls := l.op.Counts().Token
	tok1, r1 := b.accessToken()
	l.clock.Advance(time.Minute)
	tok2, _ := b.accessToken()
	if tok1 != tok2 {
		t.Error("a fresh access token changed")
	}
	if n := l.op.Counts().Token; n != calls {
		t.Errorf("token endpoint called %d times for a fresh token", n-calls)
	}
	if c := findSetCookie(t, r1, tokensCookieName); c != nil {
		t.Errorf("fresh token re-issued the tokens cookie: %s", c.raw)
	}
	// Without RequireAuth, AccessToken loads the session itself.
	if r := b.get("/raw/token"); r.status != http.StatusOK || !strings.Contains(r.body, tok1) {
		t.Errorf("/raw/token: %d %s", r.status, r.body)
	}
	// Signed out: ErrNotSignedIn.
	anon := l.browserT(t)
	if r := anon.get("/raw/token"); r.status != http.StatusUnauthorized {
		t.Errorf("/raw/token signed out: %d %s", r.status, r.body)
	}
	if err := l.lastErr(); !errors.Is(err, ginauth.ErrNotSignedIn) {
		t.Errorf("signed out: err %v, want ErrNotSignedIn", err)
	}
}

// TestRF_RefreshRotatesAndReissuesCookie: an access token that expires
// within the margin is refreshed once; the new refresh token is kept (the
// cookie store re-issues the tokens cookie) and the next refresh uses it.
func TestRF_RefreshRotatesAndReissuesCookie(t *testing.T) {
	t.Parallel()
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			testRefreshRotates(t, sc)
		})
	}
}

func testRefreshRotates(t *testing.T, sc storeCase) {
	l := newLifecycleAppWith(t, sc, withTokenTTL(testTokenTTL))
	b := l.signInLC(t, "alice")
	tok0, _ := b.accessToken()
	calls := l.op.Counts().Token

	var usedRT []string
	prev := tok0
	for round := 1; round <= 3; round++ {
		l.pastMargin(testTokenTTL)
		tok, r := b.accessToken()
		if tok == prev {
			t.Fatalf("round %d: the access token was not refreshed", round)
		}
		if n := l.op.Counts().Token - calls; n != round {
			t.Fatalf("round %d: %d token endpoint calls in all, want %d", round, n, round)
		}
		c := findSetCookie(t, r, tokensCookieName)
		if !sc.memory && (c == nil || clearsCookie(c) || c.Value == "") {
			t.Fatalf("round %d: the tokens cookie was not re-issued: %v", round, r.header.Values("Set-Cookie"))
		}
		if sc.memory && c != nil {
			t.Fatalf("round %d: a server-side session wrote a tokens cookie", round)
		}
		req := l.op.LastTokenRequest()
		if req.Get("grant_type") != "refresh_token" || req.Get("refresh_token") == "" {
			t.Fatalf("round %d: last token request %v", round, req)
		}
		for _, rt := range usedRT {
			if rt == req.Get("refresh_token") {
				t.Fatalf("round %d: a rotated refresh token was presented again", round)
			}
		}
		usedRT = append(usedRT, req.Get("refresh_token"))
		// Fresh again: no call.
		if again, _ := b.accessToken(); again != tok {
			t.Fatalf("round %d: the refreshed token is not the one kept", round)
		}
		prev = tok
	}
	if !b.signedIn() {
		t.Error("signed out after refreshes")
	}
	l.wantStored(t, "alice", 1)
	if strings.Contains(l.logs.String(), prev) {
		t.Error("an access token reached the logs")
	}
}

// TestRF1_ConcurrentRefreshSingleFlight: 50 concurrent requests of one
// session with an expiring token make one call at the provider and all get
// the new token; a second wave that still carries the old cookies (a
// browser's parallel requests) gets it too, without another call.
func TestRF1_ConcurrentRefreshSingleFlight(t *testing.T) {
	t.Parallel()
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			testConcurrentRefresh(t, sc)
		})
	}
}

func testConcurrentRefresh(t *testing.T, sc storeCase) {
	const n = 50
	l := newLifecycleAppWith(t, sc, withTokenTTL(testTokenTTL))
	b := l.signInLC(t, "alice")
	tok0, _ := b.accessToken()
	oldCookies := b.cookieHeader()
	l.pastMargin(testTokenTTL)
	// The provider takes a while, so that the requests overlap.
	l.op.SetBehavior(ginauthtest.Behavior{TokenDelay: 300 * time.Millisecond})
	calls := l.op.Counts().Token

	wave := func(name string) []string {
		client := l.browserT(t).single
		toks := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodGet, l.base+"/api/token", nil)
				req.Header.Set("Cookie", oldCookies)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("%s %d: %v", name, i, err)
					return
				}
				defer resp.Body.Close()
				var ta tokenAnswer
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ta) != nil {
					t.Errorf("%s %d: %d %s", name, i, resp.StatusCode, body)
					return
				}
				toks[i] = ta.AccessToken
			}()
		}
		wg.Wait()
		return toks
	}

	first := wave("wave 1")
	if t.Failed() {
		t.FailNow()
	}
	if c := l.op.Counts().Token - calls; c != 1 {
		t.Fatalf("%d refresh calls for %d concurrent requests, want exactly 1", c, n)
	}
	newTok := first[0]
	if newTok == tok0 {
		t.Fatal("the token was not refreshed")
	}
	for i, tok := range first {
		if tok != newTok {
			t.Fatalf("request %d got another token", i)
		}
	}

	l.clock.Advance(90 * time.Second) // still within the recent-refresh window
	second := wave("wave 2")
	if c := l.op.Counts().Token - calls; c != 1 {
		t.Fatalf("the old cookies caused %d more refresh calls", c-1)
	}
	for i, tok := range second {
		if tok != newTok {
			t.Fatalf("wave 2 request %d got another token", i)
		}
	}
}

// TestRF1_RefreshRefused: a refresh answered with invalid_grant ends the
// session: 401, cookies cleared, and the old cookie replayed is refused.
func TestRF1_RefreshRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		path string
		sc   storeCase
	}{
		{"RequireAuth route", "/api/token", storeCases[0]},
		{"AccessToken loads the session", "/raw/token", storeCases[0]},
		{"RequireAuth route, memory store", "/api/token", storeCases[1]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycleAppWith(t, tc.sc, withTokenTTL(testTokenTTL))
			b := l.signInLC(t, "alice")
			other := l.signInLC(t, "bob")
			captured := b.cookieHeader()
			l.pastMargin(testTokenTTL)
			l.op.SetBehavior(ginauthtest.Behavior{RefreshError: "invalid_grant"})
			calls := l.op.Counts().Token

			r := b.get(tc.path)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("%s: %d %s, want 401", tc.path, r.status, r.body)
			}
			if n := l.op.Counts().Token - calls; n != 1 {
				t.Errorf("%d refresh calls, want 1", n)
			}
			err := l.lastErr()
			if !errors.Is(err, ginauth.ErrSessionEnded) || !errors.Is(err, providers.ErrInvalidGrant) {
				t.Errorf("err %v, want ErrSessionEnded wrapping ErrInvalidGrant", err)
			}
			cleared := []string{sessionCookieName, tokensCookieName}
			if tc.sc.memory {
				cleared = cleared[:1] // no tokens cookie
			}
			for _, name := range cleared {
				if c := findSetCookie(t, r, name); !clearsCookie(c) {
					t.Errorf("cookie %s not cleared: %v", name, r.header.Values("Set-Cookie"))
				}
			}
			if b.signedIn() {
				t.Error("still signed in")
			}
			l.wantAnonymous(t, captured)
			l.wantStored(t, "alice", 0)
			// The refused session only: bob's is untouched.
			l.op.SetBehavior(ginauthtest.Behavior{})
			if !other.signedIn() {
				t.Error("another user's session ended")
			}
			// A new sign-in works.
			l.clock.Advance(time.Second)
			if r := b.signInAs("alice", "/dashboard"); r.status != http.StatusFound || !b.signedIn() {
				t.Errorf("sign-in after the refused refresh: %d %q", r.status, r.location())
			}
		})
	}
}

// TestRF1_ProviderDownKeepsSession: a token endpoint that hangs or answers
// 503 makes the request fail within the provider timeout (503); the session
// stays, and the next request refreshes.
func TestRF1_ProviderDownKeepsSession(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	cases := []struct {
		name     string
		behavior ginauthtest.Behavior
		minTime  time.Duration
	}{
		{"hangs", ginauthtest.Behavior{TokenHang: true}, timeout - 50*time.Millisecond},
		{"slower than the timeout", ginauthtest.Behavior{TokenDelay: 3 * time.Second}, timeout - 50*time.Millisecond},
		{"503", ginauthtest.Behavior{TokenStatus: http.StatusServiceUnavailable, TokenError: "temporarily_unavailable"}, 0},
		{"500", ginauthtest.Behavior{TokenStatus: http.StatusInternalServerError}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycleApp(t, withTokenTTL(testTokenTTL),
				withProvider(func(p *providers.OIDCConfig) { p.Timeout = timeout }))
			b := l.signInLC(t, "alice")
			tok0, _ := b.accessToken()
			captured := b.cookieHeader()
			l.pastMargin(testTokenTTL)
			l.op.SetBehavior(tc.behavior)
			calls := l.op.Counts().Token

			start := time.Now()
			r := b.get("/api/token")
			elapsed := time.Since(start)
			if r.status != http.StatusServiceUnavailable {
				t.Fatalf("/api/token: %d %s, want 503", r.status, r.body)
			}
			if elapsed < tc.minTime || elapsed > timeout+2*time.Second {
				t.Errorf("took %v with a %v timeout", elapsed, timeout)
			}
			if err := l.lastErr(); !errors.Is(err, ginauth.ErrProviderUnavailable) || errors.Is(err, ginauth.ErrSessionEnded) {
				t.Errorf("err %v, want ErrProviderUnavailable only", err)
			}
			for _, name := range []string{sessionCookieName, tokensCookieName} {
				if c := findSetCookie(t, r, name); clearsCookie(c) {
					t.Errorf("cookie %s cleared: %s", name, c.raw)
				}
			}
			if !b.signedIn() {
				t.Fatal("the session ended")
			}
			if got := l.anonGet(t, "/api/me", captured); got.status != http.StatusOK {
				t.Errorf("the captured cookie: %d", got.status)
			}

			l.op.SetBehavior(ginauthtest.Behavior{})
			tok1, _ := b.accessToken()
			if tok1 == tok0 {
				t.Error("the retry did not refresh")
			}
			if n := l.op.Counts().Token - calls; n != 2 {
				t.Errorf("%d token endpoint calls, want 2 (the failed one and the retry)", n)
			}
		})
	}
}

// TestRF2_RefreshedIDTokenOfAnotherUser: an ID token in the refresh
// response that names another subject or issuer, or fails validation,
// ends the session.
func TestRF2_RefreshedIDTokenOfAnotherUser(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(c map[string]any)
		want   error
	}{
		{"sub of another user", func(c map[string]any) { c["sub"] = "bob" }, providers.ErrIdentityChanged},
		{"iss plus 1", func(c map[string]any) { c["iss"] = c["iss"].(string) + "1" }, providers.ErrTokenIssuer},
		{"aud plus 1", func(c map[string]any) { c["aud"] = c["aud"].(string) + "1" }, providers.ErrTokenAudience},
		{"sub missing", func(c map[string]any) { delete(c, "sub") }, providers.ErrTokenSubject},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycleApp(t, withTokenTTL(testTokenTTL))
			b := l.signInLC(t, "alice")
			captured := b.cookieHeader()
			l.pastMargin(testTokenTTL)
			l.op.SetBehavior(ginauthtest.Behavior{IDTokenClaims: tc.mutate})
			r := b.get("/api/token")
			if r.status != http.StatusUnauthorized {
				t.Fatalf("/api/token: %d %s, want 401", r.status, r.body)
			}
			if err := l.lastErr(); !errors.Is(err, ginauth.ErrSessionEnded) || !errors.Is(err, tc.want) {
				t.Errorf("err %v, want ErrSessionEnded and %v", err, tc.want)
			}
			if b.signedIn() {
				t.Error("still signed in")
			}
			l.wantAnonymous(t, captured)
		})
	}
	t.Run("same user", func(t *testing.T) {
		t.Parallel()
		l := newLifecycleApp(t, withTokenTTL(testTokenTTL))
		b := l.signInLC(t, "alice")
		l.pastMargin(testTokenTTL)
		l.op.SetBehavior(ginauthtest.Behavior{IDTokenClaims: func(c map[string]any) { c["name"] = "Alice Renamed" }})
		b.accessToken()
		if !b.signedIn() {
			t.Error("signed out")
		}
	})
	t.Run("no ID token in the refresh response", func(t *testing.T) {
		t.Parallel()
		l := newLifecycleApp(t, withTokenTTL(testTokenTTL))
		b := l.signInLC(t, "alice")
		l.pastMargin(testTokenTTL)
		l.op.SetBehavior(ginauthtest.Behavior{OmitIDToken: true})
		b.accessToken()
		if !b.signedIn() {
			t.Error("signed out")
		}
	})
}

// TestEX2_RefreshedSessionEndsAtAbsoluteLimit: refreshing tokens never
// extends a session past SessionMaxAge.
func TestEX2_RefreshedSessionEndsAtAbsoluteLimit(t *testing.T) {
	t.Parallel()
	const maxAge, idle = 20 * time.Minute, 10 * time.Minute
	l := newLifecycleApp(t, withTokenTTL(testTokenTTL), withConfig(func(c *ginauth.Config) {
		c.SessionMaxAge, c.SessionIdleTimeout = maxAge, idle
	}))
	b := l.signInLC(t, "alice")
	calls := l.op.Counts().Token
	elapsed := time.Duration(0)
	step := testTokenTTL - ginauth.DefaultRefreshMargin + 30*time.Second
	for elapsed+step < maxAge {
		l.clock.Advance(step)
		elapsed += step
		b.accessToken()
	}
	if l.op.Counts().Token == calls {
		t.Fatal("no refresh happened")
	}
	l.clock.Advance(maxAge - elapsed)
	if r := b.get("/api/token"); r.status != http.StatusUnauthorized {
		t.Fatalf("/api/token at the absolute limit: %d %s", r.status, r.body)
	}
	if b.signedIn() {
		t.Error("signed in past the absolute limit")
	}
}

// TestAccessToken_TokensCookieLostOrTampered: with the cookie store, a
// session whose tokens cookie is gone or altered cannot yield tokens; the
// session is ended (ErrSessionEnded), never answered with another token.
func TestAccessToken_TokensCookieLostOrTampered(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(b *browser)
	}{
		{"missing", func(b *browser) { b.setCookie(tokensCookieName, "") }},
		{"byte flipped", func(b *browser) {
			v := []byte(b.cookie(tokensCookieName))
			v[len(v)/2] ^= 1
			b.setCookie(tokensCookieName, string(v))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycleApp(t)
			b := l.signInLC(t, "alice")
			tc.mutate(b)
			if r := b.get("/api/token"); r.status != http.StatusUnauthorized {
				t.Fatalf("/api/token: %d %s, want 401", r.status, r.body)
			}
			if err := l.lastErr(); !errors.Is(err, ginauth.ErrSessionEnded) {
				t.Errorf("err %v, want ErrSessionEnded", err)
			}
			if b.signedIn() {
				t.Error("still signed in")
			}
		})
	}
}

// TestServerSideStoreHoldsNoReadableTokens: with a server-side store the
// provider tokens are sealed, bound to the session, like in the tokens
// cookie: the store's data never holds the access token in clear, and the
// sealed part opens for that session only.
func TestServerSideStoreHoldsNoReadableTokens(t *testing.T) {
	t.Parallel()
	l := newLifecycleAppWith(t, storeCases[1])
	b := l.browser()
	b.mustSignIn()
	access, _ := b.accessToken()
	if access == "" {
		t.Fatal("no access token")
	}
	toks, err := l.mem.List(context.Background(), "test", "alice")
	if err != nil || len(toks) != 1 {
		t.Fatalf("List: %v, %d sessions", err, len(toks))
	}
	data, found, err := l.mem.Load(context.Background(), toks[0])
	if err != nil || !found {
		t.Fatalf("Load: found %v, %v", found, err)
	}
	if strings.Contains(string(data), access) {
		t.Fatal("the store's data holds the access token in clear")
	}
}

// TestAccessTokenWithExpiry: the expiry is the provider's expires_in,
// measured on the configured clock, and moves with a refresh.
func TestAccessTokenWithExpiry(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t, withOP(func(o *ginauthtest.Options) { o.TokenTTL = 10 * time.Minute }))
	l.router.GET("/test/expiry", l.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		_, exp, err := l.auth.AccessTokenWithExpiry(c)
		if err != nil {
			c.String(http.StatusServiceUnavailable, err.Error())
			return
		}
		c.String(http.StatusOK, exp.UTC().Format(time.RFC3339))
	})
	b := l.browser()
	b.mustSignIn()
	want := l.clock.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
	if r := b.get("/test/expiry"); r.status != http.StatusOK || r.body != want {
		t.Fatalf("expiry %d %q, want %q", r.status, r.body, want)
	}
	l.clock.Advance(9*time.Minute + 30*time.Second) // within the 60 s margin: refreshed
	want = l.clock.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
	if r := b.get("/test/expiry"); r.status != http.StatusOK || r.body != want {
		t.Fatalf("after refresh: expiry %d %q, want %q", r.status, r.body, want)
	}
}

// TestAbortUnauthenticatedAfterRefusedRefresh: when the provider refuses
// the refresh (RF-1), AbortUnauthenticated answers as RequireAuth would in
// the group's mode: 401 JSON for an API, the sign-in page for a browser.
func TestAbortUnauthenticatedAfterRefusedRefresh(t *testing.T) {
	t.Parallel()
	for _, mode := range []ginauth.Mode{ginauth.API, ginauth.Browser} {
		l := newLifecycleApp(t, withOP(func(o *ginauthtest.Options) { o.TokenTTL = 5 * time.Minute }))
		l.router.GET("/test/call-provider", l.auth.RequireAuth(mode), func(c *gin.Context) {
			if _, err := l.auth.AccessToken(c); err != nil {
				if errors.Is(err, ginauth.ErrSessionEnded) {
					l.auth.AbortUnauthenticated(c)
					return
				}
				c.String(http.StatusServiceUnavailable, "provider unavailable")
				return
			}
			c.String(http.StatusOK, "called")
		})
		b := l.browser()
		b.mustSignIn()
		l.op.SetBehavior(ginauthtest.Behavior{RefreshError: "invalid_grant"})
		l.clock.Advance(5 * time.Minute)
		r := b.get("/test/call-provider")
		switch mode {
		case ginauth.API:
			if r.status != http.StatusUnauthorized || r.body != `{"error":"unauthenticated"}` || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("API: %d %q", r.status, r.body)
			}
		case ginauth.Browser:
			want := l.base + "/auth/signin?callbackUrl=%2Ftest%2Fcall-provider"
			if r.status != http.StatusFound || r.location() != want {
				t.Errorf("browser: %d %q, want 302 to %s", r.status, r.location(), want)
			}
		}
		if b.signedIn() {
			t.Errorf("mode %d: still signed in after the refused refresh", mode)
		}
	}
}
