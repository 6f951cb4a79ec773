package ginauth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/flight"
	"github.com/ginauth/ginauth/providers"
)

// panickyRefresher panics on its first Refresh, then refreshes.
type panickyRefresher struct {
	stubProvider
	calls atomic.Int32
}

func (p *panickyRefresher) Refresh(_ context.Context, t providers.Token, _, _ string) (providers.Token, error) {
	if p.calls.Add(1) == 1 {
		panic("refresher bug")
	}
	return providers.Token{AccessToken: "fresh", RefreshToken: t.RefreshToken, Expiry: time.Now().Add(time.Hour)}, nil
}

// TestRefresherPanicDoesNotBlockSession: a Refresher that panics fails that
// one AccessToken call (an error, not a crash of the request) and leaves
// the session free to refresh at the next request. Before, the session's
// key stayed in the single-flight map and every later refresh waited
// forever.
func TestRefresherPanicDoesNotBlockSession(t *testing.T) {
	p := &panickyRefresher{stubProvider: stubProvider{name: "p"}}
	a := newUnitAuth(t, time.Now, p)
	expired := providers.Token{AccessToken: "old", RefreshToken: "rt", Expiry: time.Now().Add(-time.Minute)}

	c, _, _ := unitContext(a, "p", expired)
	if _, err := a.AccessToken(c); !errors.Is(err, flight.ErrPanicked) {
		t.Fatalf("AccessToken with a panicking Refresher = %v, want an error wrapping flight.ErrPanicked", err)
	}
	done := make(chan error, 1)
	go func() {
		c, _, _ := unitContext(a, "p", expired)
		tok, err := a.AccessToken(c)
		if err == nil && tok != "fresh" {
			err = errors.New("got token " + tok)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the refresh after a panic: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh after a panic never returned: the session is blocked")
	}
}

// TestAccessTokenWaiterHonoursItsContext: a request waiting on another
// request's refresh of the same session returns when its own context ends.
func TestAccessTokenWaiterHonoursItsContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	p := &blockingRefresher{stubProvider: stubProvider{name: "p"}, release: release, entered: make(chan struct{})}
	a := newUnitAuth(t, time.Now, p)
	expired := providers.Token{AccessToken: "old", RefreshToken: "rt", Expiry: time.Now().Add(-time.Minute)}
	go func() {
		c, _, _ := unitContext(a, "p", expired)
		_, _ = a.AccessToken(c)
	}()
	<-p.entered
	c, _, _ := unitContext(a, "p", expired)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	if _, err := a.AccessToken(c); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting AccessToken = %v, want context.DeadlineExceeded", err)
	}
}

type blockingRefresher struct {
	stubProvider
	release, entered chan struct{}
	once             atomic.Bool
}

func (p *blockingRefresher) Refresh(_ context.Context, t providers.Token, _, _ string) (providers.Token, error) {
	if p.once.CompareAndSwap(false, true) {
		close(p.entered)
	}
	<-p.release
	return t, nil
}

// TestWarnRateLimit: a flood of one warning logs a burst, then at most one
// line per warnEvery; the next line logged says how many were left out.
func TestWarnRateLimit(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1_800_000_000, 0)
	w := newWarnings(slog.New(slog.NewTextHandler(&buf, nil)), func() time.Time { return now }) // INFO and up
	for range 2000 {
		w.Warn("ginauth: back-channel logout refused", "provider", "p")
	}
	w.Warn("ginauth: sign-in failed") // another message has its own budget
	lines := strings.Count(buf.String(), "\n")
	if lines != warnBurst+1 {
		t.Fatalf("2000 warnings of one kind and one of another logged %d lines, want %d", lines, warnBurst+1)
	}
	buf.Reset()
	now = now.Add(warnEvery)
	w.Warn("ginauth: back-channel logout refused", "provider", "p")
	if got := buf.String(); !strings.Contains(got, "suppressed="+itoa(2000-warnBurst)) {
		t.Fatalf("the line after the flood = %q, want suppressed=%d", got, 2000-warnBurst)
	}

	// With DEBUG on, the demoted lines are there, at DEBUG.
	buf.Reset()
	w = newWarnings(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), func() time.Time { return now })
	for range 20 {
		w.Warn("ginauth: sign-in failed")
	}
	if warn, debug := strings.Count(buf.String(), "level=WARN"), strings.Count(buf.String(), "level=DEBUG"); warn != warnBurst || debug != 20-warnBurst {
		t.Fatalf("20 warnings with DEBUG on: %d WARN and %d DEBUG lines, want %d and %d", warn, debug, warnBurst, 20-warnBurst)
	}
}

func itoa(n int) string { return slog.IntValue(n).String() }

// TestRegisterNeedsAuthPath: Register refuses a group whose path is not
// Config.AuthPath, and every URL comes from the Config whatever the order
// of calls.
func TestRegisterNeedsAuthPath(t *testing.T) {
	for _, tc := range []struct {
		authPath, group string
		panics          bool
		signIn          string
	}{
		{"", "/auth", false, "https://app.example/auth/signin"},
		{"", "/auth/", false, "https://app.example/auth/signin"},
		{"", "/login", true, ""},
		{"/login", "/login", false, "https://app.example/login/signin"},
		{"/login", "/auth", true, ""},
		{"/", "/", false, "https://app.example/signin"},
	} {
		a, err := New(Config{
			BaseURL: "https://app.example", AuthPath: tc.authPath,
			Secrets:   [][]byte{[]byte("0123456789abcdef0123456789abcdef-unit")},
			Providers: []providers.Provider{stubProvider{name: "p"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.url("/signin"); tc.signIn != "" && got != tc.signIn {
			t.Errorf("AuthPath %q: sign-in URL before Register %q, want %q", tc.authPath, got, tc.signIn)
		}
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			a.Register(gin.New().Group(tc.group))
			return false
		}()
		if panicked != tc.panics {
			t.Errorf("AuthPath %q, group %q: Register panicked %v, want %v", tc.authPath, tc.group, panicked, tc.panics)
		}
	}
}

// TestInvalidAuthPath: New refuses an AuthPath that is not a clean path.
func TestInvalidAuthPath(t *testing.T) {
	for _, p := range []string{"auth", "/auth/", "//auth", "/a b", "/a/../b", "/a?x", "/a#x", "/./a"} {
		_, err := New(Config{
			BaseURL: "https://app.example", AuthPath: p,
			Secrets:   [][]byte{[]byte("0123456789abcdef0123456789abcdef-unit")},
			Providers: []providers.Provider{stubProvider{name: "p"}},
		})
		if !errors.Is(err, ErrInvalidAuthPath) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("AuthPath %q: err %v, want ErrInvalidAuthPath", p, err)
		}
	}
}
