package ginauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/internal/flight"
	"github.com/ginauth/ginauth/providers"
)

// TestRefreshFailureKinds: each refresh error maps to its fixed kind; the
// order matters where errors wrap several sentinels.
func TestRefreshFailureKinds(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want RefreshFailure
	}{
		{fmt.Errorf("x: %w", providers.ErrInvalidGrant), RefreshRefused},
		{providers.ErrIdentityChanged, RefreshIdentityChanged},
		{providers.ErrNoRefreshToken, RefreshNoRefreshToken},
		{errSessionGone, RefreshSessionGone},
		{fmt.Errorf("%w: lock: %w", ErrStoreUnavailable, errors.New("redis down")), RefreshStoreUnavailable},
		{fmt.Errorf("%w: timeout", providers.ErrUnavailable), RefreshProviderUnavailable},
		// Keys unreachable while checking the refreshed ID token: the
		// provider is unavailable, the session is kept.
		{fmt.Errorf("%w: %w", providers.ErrInvalidToken, providers.ErrUnavailable), RefreshProviderUnavailable},
		{fmt.Errorf("%w: bad aud", providers.ErrInvalidToken), RefreshInvalidToken},
		{fmt.Errorf("%w: boom", flight.ErrPanicked), RefreshOther},
		{context.Canceled, RefreshOther},
	} {
		if got := refreshFailure(tc.err); got != tc.want {
			t.Errorf("refreshFailure(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestEventLogValues: each event logs as a group of its non-empty fields.
func TestEventLogValues(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		e    slog.LogValuer
		want string
	}{
		{SignedInEvent{Time: at, Provider: "p", Issuer: "https://i", Subject: "s", SessionID: "id", SID: "sid", FirstSignIn: true},
			"e.time=2026-01-02T03:04:05.000Z e.provider=p e.iss=https://i e.sub=s e.session_id=id e.sid=sid e.first_sign_in=true"},
		{SignedInEvent{Provider: "p", Subject: "s"}, "e.provider=p e.sub=s e.first_sign_in=false"},
		{SignInRefusedEvent{Provider: "github", Rule: RefusedByProvider}, "e.provider=github e.rule=provider"},
		{SignInRefusedEvent{Provider: "p", Subject: "s", Rule: RefusedByHook, Reason: "no contractors"},
			`e.provider=p e.sub=s e.rule=hook e.reason="no contractors"`},
		{SignedOutEvent{Reason: SignOutByBackChannel, Provider: "p", SID: "x"}, "e.reason=back_channel e.provider=p e.sid=x"},
		{TokenRefreshedEvent{Provider: "p", Subject: "s", Expiry: at}, "e.provider=p e.sub=s e.expiry=2026-01-02T03:04:05.000Z"},
		{RefreshFailedEvent{Provider: "p", Kind: RefreshRefused, SessionEnded: true}, "e.provider=p e.kind=invalid_grant e.session_ended=true"},
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return slog.Attr{}
			}
			return a
		}}))
		log.Info("", "e", tc.e)
		if got := strings.TrimSpace(buf.String()); got != tc.want {
			t.Errorf("%T:\n got %s\nwant %s", tc.e, got, tc.want)
		}
	}
}

// TestEmitNil: a nil callback is skipped without a goroutine.
func TestEmitNil(t *testing.T) {
	a := &Auth{warn: newWarnings(slog.New(slog.DiscardHandler), time.Now)}
	if n := testing.AllocsPerRun(100, func() {
		emit(a, context.Background(), "signed_in", (func(context.Context, SignedInEvent))(nil), SignedInEvent{})
	}); n != 0 {
		t.Fatalf("%v allocations for a nil callback", n)
	}
}

// BenchmarkEmit measures what an event costs the request beyond the
// callback itself: a goroutine and a channel.
func BenchmarkEmit(b *testing.B) {
	a := &Auth{warn: newWarnings(slog.New(slog.DiscardHandler), time.Now)}
	fn := func(context.Context, SignedInEvent) {}
	ctx := context.Background()
	e := SignedInEvent{Provider: "p", Subject: "s", SessionID: "id"}
	b.ReportAllocs()
	for b.Loop() {
		emit(a, ctx, "signed_in", fn, e)
	}
}
