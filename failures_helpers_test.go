package ginauth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/providers"
)

// A refused callback ends in a redirect with a coarse error code: for every
// ID token check, "invalid_id_token", which is also what any unclassified
// failure becomes. To tell which check refused a sign-in, the harness keeps
// the error value the app logs with each failed callback ("ginauth: sign-in
// failed", attribute "err"), and the tests match it against the sentinels.

// signInFailedMsg is the message the app logs for a refused callback.
const signInFailedMsg = "ginauth: sign-in failed"

// signInFailures collects the err attribute of every refused callback.
type signInFailures struct {
	mu   sync.Mutex
	errs []error
}

// mark returns a position to pass to since.
func (f *signInFailures) mark() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errs)
}

// since returns the errors logged after mark.
func (f *signInFailures) since(mark int) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.errs[mark:]...)
}

// captureHandler passes every record to the next handler and records the
// err attribute of sign-in failures.
type captureHandler struct {
	next slog.Handler
	f    *signInFailures
}

// newCaptureLogger returns a debug-level text logger writing to w that
// records sign-in failures in f.
func newCaptureLogger(w io.Writer, f *signInFailures) *slog.Logger {
	return slog.New(captureHandler{next: slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}), f: f})
}

func (h captureHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h captureHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == signInFailedMsg {
		var logged error
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "err" {
				logged, _ = a.Value.Any().(error)
				return false
			}
			return true
		})
		h.f.mu.Lock()
		h.f.errs = append(h.f.errs, logged) // nil when err is missing or not an error
		h.f.mu.Unlock()
	}
	return h.next.Handle(ctx, r)
}

func (h captureHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return captureHandler{next: h.next.WithAttrs(attrs), f: h.f}
}

func (h captureHandler) WithGroup(name string) slog.Handler {
	return captureHandler{next: h.next.WithGroup(name), f: h.f}
}

// failureReasons are the sentinels that name why a callback was refused.
// Broader sentinels that only group these (ErrInvalidToken, ErrSignature)
// are left out.
var failureReasons = []error{
	oidcjwt.ErrMalformed, oidcjwt.ErrAlgorithm, oidcjwt.ErrUnknownKey, oidcjwt.ErrKeyMismatch,
	oidcjwt.ErrBadSignature, oidcjwt.ErrIssuer, oidcjwt.ErrAudience, oidcjwt.ErrExpired,
	oidcjwt.ErrIssuedAt, oidcjwt.ErrNonce, oidcjwt.ErrSubject, oidcjwt.ErrKeysUnavailable,
	providers.ErrUnavailable, providers.ErrIssuerMismatch, providers.ErrTokenExchange,
	providers.ErrMissingIDToken, providers.ErrUserInfo, providers.ErrClaimRejected, providers.ErrMisconfigured,
	ginauth.ErrInvalidState, ginauth.ErrInvalidCallback, ginauth.ErrProviderDenied,
	ginauth.ErrSessionTooLarge, ginauth.ErrStoreUnavailable,
}

// failMark returns a position in the app's log of refused callbacks, for
// sfReason.
func (a *testApp) failMark() int { return a.failures.mark() }

// sfReason asserts that exactly one callback was refused since mark and
// that its logged error is exactly want: it matches every error in want
// (errors.Is) and no other failure reason, except broader ones a want
// error wraps itself.
func (a *testApp) sfReason(mark int, want ...error) {
	a.t.Helper()
	if len(want) == 0 {
		a.t.Fatal("sfReason: no reason given")
	}
	errs := a.failures.since(mark)
	if len(errs) != 1 {
		a.t.Fatalf("%d refused callbacks logged (%v), want 1", len(errs), errs)
	}
	err := errs[0]
	for _, w := range want {
		if !errors.Is(err, w) {
			a.t.Fatalf("callback refused with %v; want %v", err, want)
		}
	}
	for _, r := range failureReasons {
		if !errors.Is(err, r) {
			continue
		}
		expected := false
		for _, w := range want {
			if errors.Is(w, r) {
				expected = true
			}
		}
		if !expected {
			a.t.Fatalf("callback refused with %v: also %q, want only %v", err, r, want)
		}
	}
}
