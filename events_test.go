package ginauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// Events (Config.Events): each kind through a whole flow, with its fields
// checked exactly; callbacks that block or panic; no secret in any event.

// eventRec records every event, in order.
type eventRec struct {
	mu   sync.Mutex
	list []any
}

func (r *eventRec) add(e any) {
	r.mu.Lock()
	r.list = append(r.list, e)
	r.mu.Unlock()
}

// take returns the events recorded since the last take.
func (r *eventRec) take() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.list
	r.list = nil
	return out
}

func (r *eventRec) events() ginauth.Events {
	return ginauth.Events{
		SignedIn:       func(_ context.Context, e ginauth.SignedInEvent) { r.add(e) },
		SignInRefused:  func(_ context.Context, e ginauth.SignInRefusedEvent) { r.add(e) },
		SignedOut:      func(_ context.Context, e ginauth.SignedOutEvent) { r.add(e) },
		TokenRefreshed: func(_ context.Context, e ginauth.TokenRefreshedEvent) { r.add(e) },
		RefreshFailed:  func(_ context.Context, e ginauth.RefreshFailedEvent) { r.add(e) },
	}
}

func withEvents(r *eventRec) appOption {
	return withConfig(func(c *ginauth.Config) { c.Events = r.events() })
}

// wantEvents checks that exactly want were recorded since the last take.
func (r *eventRec) wantEvents(t *testing.T, want ...any) {
	t.Helper()
	got := r.take()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n%s\nwant:\n%s", describeEvents(got), describeEvents(want))
	}
}

func describeEvents(list []any) string {
	var b strings.Builder
	for _, e := range list {
		fmt.Fprintf(&b, "  %T %+v\n", e, e)
	}
	return b.String()
}

// TestEvents_SignedIn: a sign-in reports provider, issuer, subject, the new
// session's ID and sid, and FirstSignIn as the hook marked it.
func TestEvents_SignedIn(t *testing.T) {
	t.Parallel()
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rec := &eventRec{}
			var mu sync.Mutex
			known := map[string]bool{}
			l := newLifecycleAppWith(t, sc, withEvents(rec), withHook(func(_ context.Context, in ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
				mu.Lock()
				defer mu.Unlock()
				if !known[in.User.Subject] {
					known[in.User.Subject] = true
					return ginauth.Allow().FirstSignIn(), nil
				}
				return ginauth.Allow(), nil
			}))
			for _, first := range []bool{true, false} {
				b := l.signInLC(t, "alice")
				s := b.session()
				if s.ID == "" || s.SID == "" {
					t.Fatalf("session %+v", s)
				}
				rec.wantEvents(t, ginauth.SignedInEvent{
					Time: l.clock.Now(), Provider: "test", Issuer: l.op.Issuer(), Subject: "alice",
					SessionID: s.ID, SID: s.SID, FirstSignIn: first,
				})
			}
		})
	}
}

// TestEvents_SignedInWithoutHook: with no hook FirstSignIn is false.
func TestEvents_SignedInWithoutHook(t *testing.T) {
	t.Parallel()
	rec := &eventRec{}
	l := newLifecycleApp(t, withEvents(rec))
	b := l.signInLC(t, "bob")
	s := b.session()
	rec.wantEvents(t, ginauth.SignedInEvent{
		Time: l.clock.Now(), Provider: "test", Issuer: l.op.Issuer(), Subject: "bob", SessionID: s.ID, SID: s.SID,
	})
}

func TestFirstSignIn_Decision(t *testing.T) {
	d := ginauth.Allow().FirstSignIn()
	if denied, _ := d.Denied(); denied {
		t.Fatal("FirstSignIn denies")
	}
	// On a denial it changes nothing.
	if denied, reason := ginauth.Deny("no").FirstSignIn().Denied(); !denied || reason != "no" {
		t.Fatalf("Deny(no).FirstSignIn(): %v %q", denied, reason)
	}
}

// TestEvents_SignInRefused: each rule that refuses a sign-in is named, with
// the hook's reason; the refused user gets no SignedIn event.
func TestEvents_SignInRefused(t *testing.T) {
	t.Parallel()
	deny := func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
		return ginauth.Deny("Contractors use the other portal."), nil
	}
	list, err := ginauth.NewAllowList(nil, nil, []string{"admin"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		opt    func(*ginauth.Config)
		rule   ginauth.RefusalRule
		reason string
		status int
	}{
		{"allow-list in the config", func(c *ginauth.Config) { c.AllowedGroups = []string{"admin"} },
			ginauth.RefusedByAllowList, "", http.StatusForbidden},
		{"AllowList.Hook as the hook", func(c *ginauth.Config) { c.SignInHook = list.Hook("Admins only.") },
			ginauth.RefusedByAllowList, "Admins only.", http.StatusForbidden},
		{"hook", func(c *ginauth.Config) { c.SignInHook = deny },
			ginauth.RefusedByHook, "Contractors use the other portal.", http.StatusForbidden},
		{"hook after the allow-list let the user through", func(c *ginauth.Config) {
			c.AllowedEmailDomains, c.SignInHook = []string{"example.com"}, deny
		}, ginauth.RefusedByHook, "Contractors use the other portal.", http.StatusForbidden},
		{"hook error", func(c *ginauth.Config) {
			c.SignInHook = func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
				return ginauth.Allow(), errors.New("directory down")
			}
		}, ginauth.RefusedByHookError, "", http.StatusServiceUnavailable},
		{"hook panic", func(c *ginauth.Config) {
			c.SignInHook = func(context.Context, ginauth.SignInAttempt) (ginauth.SignInDecision, error) { panic("bug") }
		}, ginauth.RefusedByHookError, "", http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &eventRec{}
			a := newTestApp(t, withEvents(rec), withConfig(tc.opt))
			b := a.browserT(t)
			r := b.signInAs("bob", "/dashboard") // bob: verified example.com address, group staff
			if r.status != tc.status {
				t.Fatalf("callback: %d %s", r.status, r.body)
			}
			rec.wantEvents(t, ginauth.SignInRefusedEvent{
				Time: a.clock.Now(), Provider: "test", Issuer: a.op.Issuer(), Subject: "bob", Rule: tc.rule, Reason: tc.reason,
			})
			if b.signedIn() {
				t.Fatal("refused user signed in")
			}
		})
	}
}

// TestEvents_SignInRefusedByProvider: the provider's own check (GitHub's
// AllowedOrgs) is reported as RefusedByProvider, without a subject.
func TestEvents_SignInRefusedByProvider(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, "github")
	f.setUser(&fakeUser{ID: 11, Login: "o", Orgs: []string{"other"}})
	p := newGitHub(t, f, func(c *providers.GitHubConfig) { c.AllowedOrgs = []string{"acme"} })
	rec := &eventRec{}
	a := newOAuth2App(t, p, withEvents(rec))
	a.deniedWith(a.browser().signInWith("github"), "")
	rec.wantEvents(t, ginauth.SignInRefusedEvent{Time: a.clock.Now(), Provider: "github", Rule: ginauth.RefusedByProvider})
}

// TestEvents_SignedOutByUser: the sign-out route reports the session that
// ended.
func TestEvents_SignedOutByUser(t *testing.T) {
	t.Parallel()
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rec := &eventRec{}
			l := newLifecycleAppWith(t, sc, withEvents(rec))
			b := l.signInLC(t, "alice")
			s := b.session()
			rec.take()
			l.clock.Advance(time.Second)
			if r := b.signOut(true, "/"); r.status != http.StatusSeeOther {
				t.Fatalf("sign-out: %d %s", r.status, r.body)
			}
			rec.wantEvents(t, ginauth.SignedOutEvent{
				Time: l.clock.Now(), Reason: ginauth.SignOutByUser, Provider: "test", Issuer: l.op.Issuer(),
				Subject: "alice", SessionID: s.ID, SID: s.SID,
			})
			// Signed out already: nothing more to report.
			b.signOut(false, "/")
			rec.wantEvents(t)
		})
	}
}

// TestEvents_SignedOutByBackChannel: a logout token reports its sub and sid;
// a replay of it reports nothing.
func TestEvents_SignedOutByBackChannel(t *testing.T) {
	t.Parallel()
	rec := &eventRec{}
	l := newLifecycleApp(t, withEvents(rec))
	b := l.signInLC(t, "alice")
	s := b.session()
	rec.take()
	token := l.op.LogoutToken("alice", s.SID)
	wantBackChannelOK(t, l.postLogoutToken(t, token))
	rec.wantEvents(t, ginauth.SignedOutEvent{
		Time: l.clock.Now(), Reason: ginauth.SignOutByBackChannel, Provider: "test", Issuer: l.op.Issuer(),
		Subject: "alice", SID: s.SID,
	})
	if b.signedIn() {
		t.Fatal("still signed in")
	}
	wantBackChannelOK(t, l.postLogoutToken(t, token))
	rec.wantEvents(t)

	// By sid alone: no subject. An invalid token reports nothing.
	b2 := l.signInLC(t, "bob")
	s2 := b2.session()
	rec.take()
	if r := l.postLogoutToken(t, flipSignature(l.op.LogoutToken("", s2.SID))); r.status != http.StatusBadRequest {
		t.Fatalf("bad signature: %d", r.status)
	}
	rec.wantEvents(t)
	wantBackChannelOK(t, l.postLogoutToken(t, l.op.LogoutToken("", s2.SID)))
	rec.wantEvents(t, ginauth.SignedOutEvent{
		Time: l.clock.Now(), Reason: ginauth.SignOutByBackChannel, Provider: "test", Issuer: l.op.Issuer(), SID: s2.SID,
	})
}

// TestEvents_SignedOutBySignOutUser: SignOutUser reports the user, with
// the context it was given.
func TestEvents_SignedOutBySignOutUser(t *testing.T) {
	t.Parallel()
	rec := &eventRec{}
	type key struct{}
	var gotValue any
	l := newLifecycleApp(t, withConfig(func(c *ginauth.Config) {
		c.Events = rec.events()
		c.Events.SignedOut = func(ctx context.Context, e ginauth.SignedOutEvent) {
			gotValue = ctx.Value(key{})
			rec.add(e)
		}
	}))
	l.signInLC(t, "alice")
	rec.take()
	if err := l.auth.SignOutUser(context.WithValue(context.Background(), key{}, "audit-1"), "test", "alice"); err != nil {
		t.Fatal(err)
	}
	rec.wantEvents(t, ginauth.SignedOutEvent{Time: l.clock.Now(), Reason: ginauth.SignOutBySignOutUser, Provider: "test", Subject: "alice"})
	if gotValue != "audit-1" {
		t.Fatalf("callback's context value %v", gotValue)
	}
	// A refused call reports nothing.
	if err := l.auth.SignOutUser(context.Background(), "nope", "alice"); !errors.Is(err, ginauth.ErrUnknownProvider) {
		t.Fatal(err)
	}
	rec.wantEvents(t)
}

// TestEvents_TokenRefreshed: a refresh reports the new expiry; a fresh
// token reports nothing; concurrent requests sharing one refresh report it
// once.
func TestEvents_TokenRefreshed(t *testing.T) {
	t.Parallel()
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rec := &eventRec{}
			l := newLifecycleAppWith(t, sc, withEvents(rec), withTokenTTL(testTokenTTL))
			b := l.signInLC(t, "alice")
			s := b.session()
			b.accessToken()
			rec.take()
			l.pastMargin(testTokenTTL)
			b.accessToken()
			rec.wantEvents(t, ginauth.TokenRefreshedEvent{
				Time: l.clock.Now(), Provider: "test", Issuer: l.op.Issuer(), Subject: "alice", SessionID: s.ID,
				Expiry: l.clock.Now().Add(testTokenTTL),
			})
			b.accessToken()
			rec.wantEvents(t)

			l.pastMargin(testTokenTTL)
			calls := l.op.Counts().Token
			l.op.SetBehavior(ginauthtest.Behavior{TokenDelay: 200 * time.Millisecond})
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if r := b.get("/api/token"); r.status != http.StatusOK {
						t.Errorf("/api/token: %d", r.status)
					}
				})
			}
			wg.Wait()
			if n := l.op.Counts().Token - calls; n != 1 {
				t.Fatalf("%d refreshes", n)
			}
			rec.wantEvents(t, ginauth.TokenRefreshedEvent{
				Time: l.clock.Now(), Provider: "test", Issuer: l.op.Issuer(), Subject: "alice", SessionID: s.ID,
				Expiry: l.clock.Now().Add(testTokenTTL),
			})
		})
	}
}

// TestEvents_RefreshFailed: a refused refresh reports its kind and the
// sign-out; a provider that is down reports a kept session.
func TestEvents_RefreshFailed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		behavior ginauthtest.Behavior
		kind     ginauth.RefreshFailure
		ended    bool
	}{
		{"invalid_grant", ginauthtest.Behavior{RefreshError: "invalid_grant"}, ginauth.RefreshRefused, true},
		{"provider down", ginauthtest.Behavior{TokenStatus: http.StatusServiceUnavailable, TokenError: "temporarily_unavailable"},
			ginauth.RefreshProviderUnavailable, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &eventRec{}
			l := newLifecycleApp(t, withEvents(rec), withTokenTTL(testTokenTTL))
			b := l.signInLC(t, "alice")
			s := b.session()
			rec.take()
			l.pastMargin(testTokenTTL)
			l.op.SetBehavior(tc.behavior)
			b.get("/api/token")
			now := l.clock.Now()
			want := []any{ginauth.RefreshFailedEvent{
				Time: now, Provider: "test", Issuer: l.op.Issuer(), Subject: "alice", SessionID: s.ID,
				Kind: tc.kind, SessionEnded: tc.ended,
			}}
			if tc.ended {
				want = append(want, ginauth.SignedOutEvent{
					Time: now, Reason: ginauth.SignOutByRefreshRefused, Provider: "test", Issuer: l.op.Issuer(),
					Subject: "alice", SessionID: s.ID, SID: s.SID,
				})
			}
			rec.wantEvents(t, want...)
			if b.signedIn() == tc.ended {
				t.Fatalf("signed in %v after %s", !tc.ended, tc.name)
			}
		})
	}
}

// TestEvents_TokensUnreadable: a lost tokens cookie ends the session with
// SignOutByTokensUnreadable.
func TestEvents_TokensUnreadable(t *testing.T) {
	t.Parallel()
	rec := &eventRec{}
	l := newLifecycleApp(t, withEvents(rec))
	b := l.signInLC(t, "alice")
	s := b.session()
	rec.take()
	b.setCookie(tokensCookieName, "")
	if r := b.get("/api/token"); r.status != http.StatusUnauthorized {
		t.Fatalf("/api/token: %d", r.status)
	}
	rec.wantEvents(t, ginauth.SignedOutEvent{
		Time: l.clock.Now(), Reason: ginauth.SignOutByTokensUnreadable, Provider: "test", Issuer: l.op.Issuer(),
		Subject: "alice", SessionID: s.ID, SID: s.SID,
	})
}

// blockingEvents are callbacks that never return until release is closed.
func blockingEvents(release <-chan struct{}, started chan<- string) ginauth.Events {
	block := func(kind string) {
		select {
		case started <- kind:
		default:
		}
		<-release
	}
	return ginauth.Events{
		SignedIn:       func(context.Context, ginauth.SignedInEvent) { block("signed_in") },
		SignInRefused:  func(context.Context, ginauth.SignInRefusedEvent) { block("sign_in_refused") },
		SignedOut:      func(context.Context, ginauth.SignedOutEvent) { block("signed_out") },
		TokenRefreshed: func(context.Context, ginauth.TokenRefreshedEvent) { block("token_refreshed") },
		RefreshFailed:  func(context.Context, ginauth.RefreshFailedEvent) { block("refresh_failed") },
	}
}

// TestEvents_BlockedCallbackDoesNotHoldRequest: callbacks that never
// return hold a request no longer than its context: with a 1 s request
// deadline, sign-in, refresh and sign-out answer as usual, and SignOutUser
// returns when its context ends.
func TestEvents_BlockedCallbackDoesNotHoldRequest(t *testing.T) {
	t.Parallel()
	const deadline = time.Second
	release := make(chan struct{})
	started := make(chan string, 1)
	l := newLifecycleApp(t, withTokenTTL(testTokenTTL), withConfig(func(c *ginauth.Config) { c.Events = blockingEvents(release, started) }))
	// Registered after the app's: runs before the server closes, so that
	// the blocked callbacks (and any handler stuck with them) end.
	t.Cleanup(func() { close(release) })
	// Every request of the app gets a 1 s deadline.
	inner := l.router
	l.router = gin.New()
	l.router.Use(func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), deadline)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		inner.HandleContext(c)
		c.Abort()
	})

	timed := func(what string, f func() result, wantStatus int) {
		t.Helper()
		start := time.Now()
		r := f()
		if took := time.Since(start); took > deadline+2*time.Second {
			t.Fatalf("%s took %v", what, took)
		}
		if r.status != wantStatus {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no callback ran", what)
		}
	}
	b := l.browserT(t)
	timed("sign-in", func() result { return b.signInAs("alice", "/dashboard") }, http.StatusFound)
	if !b.signedIn() {
		t.Fatal("not signed in")
	}
	l.pastMargin(testTokenTTL)
	timed("refresh", func() result { return b.get("/api/token") }, http.StatusOK)
	timed("sign-out", func() result { return b.signOut(false, "/") }, http.StatusSeeOther)
	if b.signedIn() {
		t.Fatal("still signed in")
	}
	if !strings.Contains(l.logs.String(), "event callback still running") {
		t.Errorf("no warning: %s", l.logs.String())
	}

	l.signInLC(t, "bob")
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	if err := l.auth.SignOutUser(ctx, "test", "bob"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > deadline+2*time.Second {
		t.Fatalf("SignOutUser took %v", took)
	}
}

// TestEvents_PanickingCallback: a callback that panics changes no answer;
// a warning says so.
func TestEvents_PanickingCallback(t *testing.T) {
	t.Parallel()
	boom := func(string) { panic("callback bug") }
	l := newLifecycleApp(t, withTokenTTL(testTokenTTL), withConfig(func(c *ginauth.Config) {
		c.Events = ginauth.Events{
			SignedIn:       func(context.Context, ginauth.SignedInEvent) { boom("signed_in") },
			SignInRefused:  func(context.Context, ginauth.SignInRefusedEvent) { boom("refused") },
			SignedOut:      func(context.Context, ginauth.SignedOutEvent) { boom("signed_out") },
			TokenRefreshed: func(context.Context, ginauth.TokenRefreshedEvent) { boom("refreshed") },
			RefreshFailed:  func(context.Context, ginauth.RefreshFailedEvent) { boom("failed") },
		}
		c.AllowedEmailDomains = []string{"example.com"}
	}))
	b := l.signInLC(t, "alice")
	l.pastMargin(testTokenTTL)
	b.accessToken()
	if r := b.signOut(false, "/"); r.status != http.StatusSeeOther || b.signedIn() {
		t.Fatalf("sign-out: %d", r.status)
	}
	l.op.SetNextUser("carol") // unverified email: refused by the allow-list
	l.deniedWith(b.signIn(), "")
	if err := l.auth.SignOutUser(context.Background(), "test", "alice"); err != nil {
		t.Fatal(err)
	}
	logs := l.logs.String()
	if n := strings.Count(logs, "event callback panicked"); n != 5 {
		t.Fatalf("%d panic warnings, want 5:\n%s", n, logs)
	}
	if !strings.Contains(logs, "callback bug") {
		t.Errorf("the panic value is not logged")
	}
}

// secretsSeen records every secret value that passes between the app and
// the provider: codes, verifiers, tokens, client secret.
type secretsSeen struct {
	base http.RoundTripper
	mu   sync.Mutex
	vals map[string]bool
}

func (s *secretsSeen) note(v string) {
	if len(v) >= 8 {
		s.mu.Lock()
		s.vals[v] = true
		s.mu.Unlock()
	}
}

func (s *secretsSeen) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if form, err := url.ParseQuery(string(body)); err == nil {
			for _, k := range []string{"code", "code_verifier", "refresh_token", "client_secret", "token"} {
				s.note(form.Get(k))
			}
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	resp, err := s.base.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/token") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var tok map[string]any
	if json.Unmarshal(body, &tok) == nil {
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			v, _ := tok[k].(string)
			s.note(v)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// TestEvents_NoSecrets: no event of a whole life (sign-in, refresh,
// refused refresh, sign-out, back-channel logout, refusal) holds a token,
// code, verifier or secret that passed between the app and the provider.
func TestEvents_NoSecrets(t *testing.T) {
	t.Parallel()
	seen := &secretsSeen{base: &http.Transport{}, vals: map[string]bool{}}
	t.Cleanup(seen.base.(*http.Transport).CloseIdleConnections)
	rec := &eventRec{}
	l := newLifecycleApp(t, withEvents(rec), withTokenTTL(testTokenTTL),
		withProvider(func(p *providers.OIDCConfig) { p.HTTPClient = &http.Client{Transport: seen} }),
		withConfig(func(c *ginauth.Config) { c.AllowedEmailDomains = []string{"example.com"} }))
	seen.note(l.op.ClientSecret())
	seen.note(string(testSecret))

	b := l.signInLC(t, "alice")
	l.pastMargin(testTokenTTL)
	b.accessToken()
	b.signOut(true, "/")
	b = l.signInLC(t, "alice")
	l.pastMargin(testTokenTTL)
	l.op.SetBehavior(ginauthtest.Behavior{RefreshError: "invalid_grant"})
	b.get("/api/token")
	l.op.SetBehavior(ginauthtest.Behavior{})
	b = l.signInLC(t, "bob")
	logout := l.op.LogoutToken("bob", b.session().SID)
	seen.note(logout)
	wantBackChannelOK(t, l.postLogoutToken(t, logout))
	l.op.SetNextUser("carol")
	callback := b.authorize(b.startSignIn("/"))
	seen.note(queryParam(t, callback, "code"))
	l.deniedWith(b.get(callback), "")
	l.op.SetNextUser("")

	events := rec.take()
	kinds := map[string]bool{}
	for _, e := range events {
		kinds[fmt.Sprintf("%T", e)] = true
	}
	if len(kinds) != 5 {
		t.Fatalf("event kinds seen: %v, want all 5", kinds)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.vals) < 10 {
		t.Fatalf("only %d secrets recorded", len(seen.vals))
	}
	for _, e := range events {
		text := fmt.Sprintf("%+v %#v", e, e)
		for v := range seen.vals {
			if strings.Contains(text, v) {
				t.Errorf("event %T holds a secret %q: %s", e, v, text)
			}
		}
		if strings.Contains(text, "eyJ") {
			t.Errorf("event %T holds a JWT: %s", e, text)
		}
	}
}

// TestEvents_ContextIsTheRequests: callbacks get the request's context (its
// values), not a detached one.
func TestEvents_ContextIsTheRequests(t *testing.T) {
	t.Parallel()
	type key struct{}
	got := make(chan any, 1)
	l := newLifecycleApp(t, withConfig(func(c *ginauth.Config) {
		c.Events.SignedOut = func(ctx context.Context, _ ginauth.SignedOutEvent) { got <- ctx.Value(key{}) }
	}))
	inner := l.router
	l.router = gin.New()
	l.router.Use(func(c *gin.Context) {
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), key{}, "req-42"))
		inner.HandleContext(c)
		c.Abort()
	})
	b := l.signInLC(t, "alice")
	b.signOut(false, "/")
	if v := <-got; v != "req-42" {
		t.Fatalf("context value %v", v)
	}
}
