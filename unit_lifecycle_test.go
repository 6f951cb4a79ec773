package ginauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
)

// Unit tests of the token lifecycle where the in-process provider cannot
// reach: sessions without a refresh token, providers that cannot refresh,
// and the single-flight, recent-refresh and revocation structures.

// stubProvider is a Provider that cannot refresh (no Refresher).
type stubProvider struct{ name string }

func (p stubProvider) Name() string        { return p.name }
func (p stubProvider) DisplayName() string { return p.name }
func (p stubProvider) Issuer() string      { return "https://" + p.name + ".example" }
func (p stubProvider) AuthCodeURL(context.Context, providers.AuthRequest) (string, error) {
	return "", errors.New("stub")
}
func (p stubProvider) Exchange(context.Context, providers.AuthResponse) (*providers.Identity, error) {
	return nil, errors.New("stub")
}

// countingRefresher refreshes by appending "+" and counts the calls.
type countingRefresher struct {
	stubProvider
	calls  atomic.Int32
	gate   chan struct{} // when non-nil, Refresh waits until it is closed
	err    error
	now    func() time.Time
	keepRT bool          // the provider does not rotate refresh tokens
	ttl    time.Duration // access token lifetime; default 1 h
}

func (p *countingRefresher) Refresh(_ context.Context, t providers.Token, _, _ string) (providers.Token, error) {
	p.calls.Add(1)
	if p.gate != nil {
		<-p.gate
	}
	if p.err != nil {
		return providers.Token{}, p.err
	}
	out := providers.Token{AccessToken: t.AccessToken + "+", RefreshToken: t.RefreshToken + "+", Expiry: p.now().Add(time.Hour)}
	if p.keepRT {
		out.RefreshToken = t.RefreshToken
	}
	if p.ttl > 0 {
		out.Expiry = p.now().Add(p.ttl)
	}
	return out, nil
}

func newUnitAuth(t *testing.T, now func() time.Time, ps ...providers.Provider) *Auth {
	t.Helper()
	a, err := New(Config{
		BaseURL:   "https://app.example",
		Secrets:   [][]byte{[]byte("0123456789abcdef0123456789abcdef-unit")},
		Providers: ps,
		Now:       now,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// unitContext returns a request context carrying a session of provider
// with tok, as RequireAuth would attach it.
func unitContext(a *Auth, provider string, tok providers.Token) (*gin.Context, *httptest.ResponseRecorder, *loaded) {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "https://app.example/api/token", nil)
	now := a.now()
	l := &loaded{auth: a, request: c.Request, mode: API}
	l.ID, l.Provider, l.CreatedAt, l.LastSeen = randomString(), provider, now, now
	l.User = User{Provider: provider, Issuer: "https://op.example", Subject: "alice"}
	l.maxAge, l.idle = a.maxAge, a.idle
	l.setTokens(tok)
	attach(c, l)
	return c, w, l
}

func TestAccessToken_WithoutRefreshTokenEndsSession(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	oidc, err := providers.OIDC(providers.OIDCConfig{Name: "oidc", Issuer: "https://op.example", ClientID: "client"})
	if err != nil {
		t.Fatal(err)
	}
	a := newUnitAuth(t, clock, oidc, stubProvider{name: "plain"})
	cases := []struct {
		name     string
		provider string
		tok      providers.Token
		want     error // nil: the access token is returned
	}{
		{"expired, no refresh token", "oidc", providers.Token{AccessToken: "at", Expiry: now.Add(-time.Minute)}, providers.ErrNoRefreshToken},
		{"within the margin, no refresh token", "oidc", providers.Token{AccessToken: "at", Expiry: now.Add(30 * time.Second)}, providers.ErrNoRefreshToken},
		{"no access token, no refresh token", "oidc", providers.Token{}, providers.ErrNoRefreshToken},
		{"provider cannot refresh", "plain", providers.Token{AccessToken: "at", RefreshToken: "rt", Expiry: now.Add(-time.Minute)}, providers.ErrNoRefreshToken},
		{"no expiry: fresh", "oidc", providers.Token{AccessToken: "at"}, nil},
		{"outside the margin: fresh", "plain", providers.Token{AccessToken: "at", Expiry: now.Add(61 * time.Second)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, w, _ := unitContext(a, tc.provider, tc.tok)
			got, err := a.AccessToken(c)
			if tc.want == nil {
				if err != nil || got != tc.tok.AccessToken {
					t.Fatalf("AccessToken = %q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, ErrSessionEnded) || !errors.Is(err, tc.want) || got != "" {
				t.Fatalf("AccessToken = %q, %v; want ErrSessionEnded and %v", got, err, tc.want)
			}
			if _, ok := UserFrom(c); ok {
				t.Error("the ended session is still attached")
			}
			cleared := false
			for _, sc := range w.Result().Cookies() {
				if sc.Name == a.cookies.session.name && sc.MaxAge < 0 {
					cleared = true
				}
			}
			if !cleared {
				t.Error("session cookie not cleared")
			}
		})
	}
}

func TestAccessToken_NoSession(t *testing.T) {
	a := newUnitAuth(t, nil, stubProvider{name: "plain"})
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	if _, err := a.AccessToken(c); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("err %v, want ErrNotSignedIn", err)
	}
	c.Request.Header.Set("Cookie", a.cookies.session.name+"=garbage")
	if _, err := a.AccessToken(c); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("forged cookie: err %v, want ErrNotSignedIn", err)
	}
}

// TestRF1_SingleFlightUnit: concurrent AccessToken calls of one session share
// one Refresh; a failed refresh is shared too and not cached. The Refresher
// holds its call until every caller is blocked (synctest.Wait), so all of
// them overlap it for certain: without single-flight each would be blocked
// in a Refresh of its own, and the count would show it.
func TestRF1_SingleFlightUnit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Unix(1_800_000_000, 0)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		p := &countingRefresher{stubProvider: stubProvider{name: "p"}, now: clock}
		a := newUnitAuth(t, clock, p)
		expired := providers.Token{AccessToken: "at", RefreshToken: "rt", Expiry: now.Add(-time.Second)}

		// concurrently runs n AccessToken calls with the refresh held until
		// all of them are blocked, and returns the calls' results.
		concurrently := func(n int) (toks []string, errs []error) {
			toks, errs = make([]string, n), make([]error, n)
			p.gate = make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					c, _, _ := unitContext(a, "p", expired)
					toks[i], errs[i] = a.AccessToken(c)
				})
			}
			synctest.Wait()
			close(p.gate)
			wg.Wait()
			p.gate = nil
			return toks, errs
		}

		p.err = providers.ErrUnavailable
		_, errs := concurrently(10)
		for _, err := range errs {
			if !errors.Is(err, providers.ErrUnavailable) || errors.Is(err, ErrSessionEnded) {
				t.Errorf("err %v, want ErrUnavailable", err)
			}
		}
		if n := p.calls.Load(); n != 1 {
			t.Fatalf("%d refresh calls for 10 concurrent failing requests, want 1", n)
		}

		p.err = nil
		toks, errs := concurrently(20)
		for i := range toks {
			if toks[i] != "at+" || errs[i] != nil {
				t.Errorf("AccessToken = %q, %v", toks[i], errs[i])
			}
		}
		if n := p.calls.Load(); n != 2 {
			t.Fatalf("%d refresh calls in all, want 2 (a failure is not cached, 20 concurrent requests share one)", n)
		}
		// The recent-refresh cache answers the old refresh token for 2 minutes.
		mu.Lock()
		now = now.Add(recentRefreshTTL - time.Second)
		mu.Unlock()
		c, _, _ := unitContext(a, "p", expired)
		if got, err := a.AccessToken(c); err != nil || got != "at+" || p.calls.Load() != 2 {
			t.Fatalf("within the window: %q, %v, %d calls", got, err, p.calls.Load())
		}
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
		c, _, _ = unitContext(a, "p", expired)
		if _, err := a.AccessToken(c); err != nil || p.calls.Load() != 3 {
			t.Fatalf("after the window: %v, %d calls, want a new refresh", err, p.calls.Load())
		}
	})
}

func TestRecentRefreshesBounded(t *testing.T) {
	a := newUnitAuth(t, time.Now, stubProvider{name: "p"})
	now := time.Unix(1_800_000_000, 0)
	for i := range maxRecent + 10 {
		var k [32]byte
		k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
		_ = a.recent.Put(k, providers.Token{}, now.Add(recentRefreshTTL), now)
	}
	if n := a.recent.Len(); n != maxRecent {
		t.Fatalf("%d entries, want the bound %d", n, maxRecent)
	}
}

// TestRevocationsCutOff: an entry refuses the sessions created at or before
// its cut-off, of its key only, until it expires; a session started after a
// sign-out-everywhere in the same second (times are kept in whole seconds)
// is not refused.
func TestRevocationsCutOff(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := newUnitAuth(t, func() time.Time { return now }, stubProvider{name: "p"})
	session := func(id, sub, sid string, created time.Time) *Session {
		return &Session{ID: id, Provider: "p", User: User{Subject: sub}, SID: sid, CreatedAt: created}
	}
	a.revoked.add(revKey{kind: revUser, a: "p", b: "alice"}, now, now.Add(time.Hour), now)
	a.revoked.add(revKey{kind: revSID, a: "p", b: "sid-1"}, now, now.Add(time.Hour), now)
	a.revoked.add(revKey{kind: revSession, a: "id-1"}, now, now.Add(time.Hour), now)
	cases := []struct {
		name    string
		s       *Session
		at      time.Time
		refused bool
	}{
		{"user, created before", session("x", "alice", "", now.Add(-time.Minute)), now, true},
		{"user, created in the same second", session("x", "alice", "", now), now, true},
		{"user, created later", session("x", "alice", "", now.Add(time.Second)), now.Add(time.Second), false},
		{"other user", session("x", "bob", "", now.Add(-time.Minute)), now, false},
		{"sid", session("x", "bob", "sid-1", now.Add(-time.Minute)), now, true},
		{"other sid", session("x", "bob", "sid-2", now.Add(-time.Minute)), now, false},
		{"session ID", session("id-1", "bob", "", now.Add(-time.Minute)), now, true},
		{"entry expired", session("x", "alice", "", now.Add(-time.Minute)), now.Add(time.Hour), false},
	}
	for _, tc := range cases {
		if got := a.revoked.refused(tc.s, tc.at); got != tc.refused {
			t.Errorf("%s: refused %v, want %v", tc.name, got, tc.refused)
		}
	}

	// Creation times are kept to the millisecond: a session started a
	// millisecond after the cut-off is not refused; a later cut-off refuses it.
	after := session("after", "alice", "", now.Add(time.Millisecond))
	afterSID := session("after-sid", "bob", "sid-1", now.Add(time.Millisecond))
	if !a.revoked.refused(session("at", "alice", "", now), now) {
		t.Error("a session started at the cut-off is not refused")
	}
	if a.revoked.refused(after, now.Add(time.Millisecond)) || a.revoked.refused(afterSID, now.Add(time.Millisecond)) {
		t.Error("a session started after the cut-off is refused")
	}
	// The same cut-off again changes nothing; an earlier one never moves it back.
	a.revoked.add(revKey{kind: revUser, a: "p", b: "alice"}, now, now.Add(time.Hour), now)
	a.revoked.add(revKey{kind: revUser, a: "p", b: "alice"}, now.Add(-time.Hour), now.Add(time.Hour), now)
	if a.revoked.refused(after, now.Add(time.Millisecond)) {
		t.Error("re-adding the cut-off refused a later session")
	}
	if !a.revoked.refused(session("at", "alice", "", now), now) {
		t.Error("an earlier cut-off moved the cut-off back")
	}
	later := now.Add(2 * time.Millisecond)
	a.revoked.add(revKey{kind: revUser, a: "p", b: "alice"}, later, later.Add(time.Hour), later)
	a.revoked.add(revKey{kind: revSID, a: "p", b: "sid-1"}, later, later.Add(time.Hour), later)
	if !a.revoked.refused(after, later) || !a.revoked.refused(afterSID, later) {
		t.Error("a later cut-off does not refuse a session started before it")
	}
}

// TestRevocationsBoundedNeverForget: the list never holds more than
// maxRevocations entries and never forgets a live one to make room: a
// revocation that does not fit raises the floor, refusing every session
// created up to then. Expired entries make room again.
func TestRevocationsBoundedNeverForget(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the list")
	}
	r := newRevocations()
	now := time.Unix(1_800_000_000, 0)
	key := func(i int) revKey { return revKey{kind: revSession, a: "s" + strconv.Itoa(i)} }
	for i := range maxRevocations {
		// The first half expires in a minute, the rest in an hour.
		exp := now.Add(time.Hour)
		if i < maxRevocations/2 {
			exp = now.Add(time.Minute)
		}
		if r.add(key(i), now, exp, now) {
			t.Fatalf("overflow at entry %d of %d", i, maxRevocations)
		}
	}
	if n := r.set.Len(); n != maxRevocations {
		t.Fatalf("%d entries, want %d", n, maxRevocations)
	}
	// A session created after every revocation, and one revoked earlier.
	newer := &Session{ID: "fresh", CreatedAt: now.Add(time.Second)}
	at := now.Add(2 * time.Second)
	if r.refused(newer, at) {
		t.Fatal("an unrevoked session is refused before any overflow")
	}
	// Full: the new revocation raises the floor instead of evicting.
	if !r.add(key(-1), at, at.Add(2*time.Hour), at) {
		t.Fatal("adding to a full list did not report the overflow")
	}
	if n := r.set.Len(); n != maxRevocations {
		t.Fatalf("%d entries after an addition to a full list, want %d", n, maxRevocations)
	}
	for _, i := range []int{0, maxRevocations / 2, maxRevocations - 1} {
		if !r.refused(&Session{ID: "s" + strconv.Itoa(i), CreatedAt: now}, at) {
			t.Fatalf("live entry %d was forgotten", i)
		}
	}
	if !r.refused(&Session{ID: "s-1", CreatedAt: at}, at) || !r.refused(newer, at) {
		t.Fatal("the floor does not refuse the sessions created up to the overflow")
	}
	if r.refused(&Session{ID: "s-1", CreatedAt: at.Add(time.Millisecond)}, at.Add(time.Millisecond)) {
		t.Fatal("a session created after the overflow is refused")
	}
	// Later, the expired half makes room without raising the floor.
	later := now.Add(2 * time.Minute)
	if r.add(key(-2), later, later.Add(time.Hour), later) {
		t.Fatal("overflow although half the entries expired")
	}
	if r.refused(&Session{ID: "s0", CreatedAt: later}, later) {
		t.Error("an expired entry still refuses")
	}
	if !r.refused(&Session{ID: "s-2", CreatedAt: later}, later) {
		t.Error("the new entry is missing")
	}
}

// TestRF_RecentRefreshNeverServesStaleToken: with a provider that does not
// rotate refresh tokens and short-lived access tokens, the recent-refresh
// cache does not hand out a token that is itself expiring: the provider is
// asked again.
func TestRF_RecentRefreshNeverServesStaleToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := &countingRefresher{stubProvider: stubProvider{name: "p"}, now: clock, keepRT: true, ttl: 90 * time.Second}
	a := newUnitAuth(t, clock, p)
	tok := providers.Token{AccessToken: "at", RefreshToken: "rt", Expiry: now.Add(-time.Second)}
	c, _, l := unitContext(a, "p", tok)
	got, err := a.AccessToken(c)
	if err != nil || got != "at+" || p.calls.Load() != 1 {
		t.Fatalf("first: %q, %v, %d calls", got, err, p.calls.Load())
	}
	// 40 s later the new token (90 s) is within the 60 s margin.
	mu.Lock()
	now = now.Add(40 * time.Second)
	mu.Unlock()
	c, _, _ = unitContext(a, "p", l.tokens)
	got, err = a.AccessToken(c)
	if err != nil || got != "at++" || p.calls.Load() != 2 {
		t.Fatalf("second: %q, %v, %d calls; want a new refresh", got, err, p.calls.Load())
	}
}
