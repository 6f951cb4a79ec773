package ginauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ginauth/ginauth/providers"
)

// Events are callbacks for audit logs and metrics, set in Config.Events.
// Every field is optional; a nil field costs nothing.
//
// An event carries identifiers (provider, issuer, subject, session IDs) and
// fixed codes, never a token, an authorization code, a secret or text a
// provider sent, and no profile data (name, email): a SignInHook sees the
// User when the app needs more.
//
// A callback is called with the request's context (for SignOutUser, the
// context passed to it) and the request waits for it, so that an app can
// count on its events being recorded before the response. It does not wait
// beyond the context: when the context ends first, the request goes on
// without waiting (the callback keeps running on its own goroutine, which
// leaks until it returns, so callbacks should honour ctx) and a rate-limited
// warning says so. A callback that panics is recovered, with a rate-limited
// warning; it never changes the request's answer. Callbacks may be called
// concurrently.
type Events struct {
	// SignedIn: a session was created after a successful sign-in.
	SignedIn func(ctx context.Context, e SignedInEvent)
	// SignInRefused: a validated user was refused by a "who may sign in"
	// rule (the allow-list, the SignInHook, or the provider's own check).
	// Failed sign-ins (a forged callback, a provider that is down) are
	// not refusals: they are logged as warnings.
	SignInRefused func(ctx context.Context, e SignInRefusedEvent)
	// SignedOut: one or more sessions were ended, for the reason given.
	// Sessions that end by expiring are not reported.
	SignedOut func(ctx context.Context, e SignedOutEvent)
	// TokenRefreshed: the provider gave a session new tokens. A refresh
	// shared by concurrent requests of one session is reported once.
	TokenRefreshed func(ctx context.Context, e TokenRefreshedEvent)
	// RefreshFailed: a session's tokens could not be refreshed. When the
	// refresh was refused, the session ended and a SignedOut event with
	// SignOutByRefreshRefused follows.
	RefreshFailed func(ctx context.Context, e RefreshFailedEvent)
}

// SignedInEvent is given to Events.SignedIn.
type SignedInEvent struct {
	Time      time.Time
	Provider  string // the provider's name, as in Config.Providers
	Issuer    string // the user's issuer (iss)
	Subject   string // the user's subject (sub): with Issuer, the user's key
	SessionID string // Session.ID of the new session
	SID       string // the provider's session ID (sid), if any
	// FirstSignIn is true when the SignInHook marked the decision with
	// SignInDecision.FirstSignIn (ginauth itself does not know).
	FirstSignIn bool
}

// RefusalRule names what refused a sign-in.
type RefusalRule string

// The rules that refuse sign-ins.
const (
	// RefusedByAllowList: the user is not on the allow-list
	// (Config.AllowedEmails, AllowedEmailDomains, AllowedGroups, or an
	// AllowList's Hook).
	RefusedByAllowList RefusalRule = "allow_list"
	// RefusedByHook: the SignInHook answered Deny.
	RefusedByHook RefusalRule = "hook"
	// RefusedByHookError: the SignInHook returned an error or panicked
	// (the sign-in fails closed with a 503).
	RefusedByHookError RefusalRule = "hook_error"
	// RefusedByProvider: the provider's own check refused the user (for
	// example GitHub's AllowedOrgs or Google's hosted domain). Issuer and
	// Subject are then empty.
	RefusedByProvider RefusalRule = "provider"
)

// SignInRefusedEvent is given to Events.SignInRefused.
type SignInRefusedEvent struct {
	Time     time.Time
	Provider string
	Issuer   string // empty for RefusedByProvider
	Subject  string // empty for RefusedByProvider
	Rule     RefusalRule
	// Reason is the reason given to Deny (the application's own text), or
	// empty.
	Reason string
}

// SignOutReason says why sessions ended.
type SignOutReason string

// The reasons a session ends before its time.
const (
	// SignOutByUser: the user signed out (the signout route or
	// Auth.SignOut).
	SignOutByUser SignOutReason = "user"
	// SignOutByBackChannel: the provider sent a back-channel logout
	// token. Subject or SID (or both) is set.
	SignOutByBackChannel SignOutReason = "back_channel"
	// SignOutBySignOutUser: the application called Auth.SignOutUser.
	SignOutBySignOutUser SignOutReason = "sign_out_user"
	// SignOutByRefreshRefused: the provider refused to refresh the
	// session's tokens (see RefreshFailedEvent), so the session ended.
	SignOutByRefreshRefused SignOutReason = "refresh_refused"
	// SignOutByTokensUnreadable: the session's sealed tokens were missing
	// or could not be opened when the access token was asked for (a lost
	// or tampered tokens cookie, a removed secret), so the session ended.
	SignOutByTokensUnreadable SignOutReason = "tokens_unreadable"
)

// SignedOutEvent is given to Events.SignedOut.
type SignedOutEvent struct {
	Time     time.Time
	Reason   SignOutReason
	Provider string
	Issuer   string // when known: from the session, or the logout token's iss; empty for SignOutUser
	Subject  string // empty for a back-channel logout by sid alone
	// SessionID is the Session.ID of the one session that ended, or empty
	// when the sign-out ends sessions by user or provider session
	// (SignOutByBackChannel, SignOutBySignOutUser).
	SessionID string
	SID       string // the provider's session ID, when known
}

// RefreshFailure is the kind of a failed refresh: a fixed code, never the
// provider's text.
type RefreshFailure string

// The kinds of failed refreshes. Those marked "ends" end the session.
const (
	// RefreshRefused: the provider answered invalid_grant (ends).
	RefreshRefused RefreshFailure = "invalid_grant"
	// RefreshIdentityChanged: the refreshed ID token named another user (ends).
	RefreshIdentityChanged RefreshFailure = "identity_changed"
	// RefreshInvalidToken: the refreshed ID token failed validation (ends).
	RefreshInvalidToken RefreshFailure = "invalid_token"
	// RefreshNoRefreshToken: the session has no refresh token, or its
	// provider cannot refresh (ends).
	RefreshNoRefreshToken RefreshFailure = "no_refresh_token"
	// RefreshSessionGone: the session was ended elsewhere meanwhile (ends).
	RefreshSessionGone RefreshFailure = "session_gone"
	// RefreshProviderUnavailable: the provider was down, slow or answered
	// an error; the session is kept and the next request retries.
	RefreshProviderUnavailable RefreshFailure = "provider_unavailable"
	// RefreshStoreUnavailable: the session store failed; the session is kept.
	RefreshStoreUnavailable RefreshFailure = "store_unavailable"
	// RefreshOther: any other failure; the session is kept.
	RefreshOther RefreshFailure = "other"
)

// TokenRefreshedEvent is given to Events.TokenRefreshed.
type TokenRefreshedEvent struct {
	Time      time.Time
	Provider  string
	Issuer    string
	Subject   string
	SessionID string
	Expiry    time.Time // when the new access token expires; zero when the provider did not say
}

// RefreshFailedEvent is given to Events.RefreshFailed.
type RefreshFailedEvent struct {
	Time         time.Time
	Provider     string
	Issuer       string
	Subject      string
	SessionID    string
	Kind         RefreshFailure
	SessionEnded bool // the session was ended (a SignedOut event follows)
}

// LogValue makes e log as a group of its fields (log/slog.LogValuer).
func (e SignedInEvent) LogValue() slog.Value {
	return slog.GroupValue(nonEmpty(
		slog.Time("time", e.Time), slog.String("provider", e.Provider), slog.String("iss", e.Issuer),
		slog.String("sub", e.Subject), slog.String("session_id", e.SessionID), slog.String("sid", e.SID),
		slog.Bool("first_sign_in", e.FirstSignIn))...)
}

// LogValue makes e log as a group of its fields (log/slog.LogValuer).
func (e SignInRefusedEvent) LogValue() slog.Value {
	return slog.GroupValue(nonEmpty(
		slog.Time("time", e.Time), slog.String("provider", e.Provider), slog.String("iss", e.Issuer),
		slog.String("sub", e.Subject), slog.String("rule", string(e.Rule)), slog.String("reason", e.Reason))...)
}

// LogValue makes e log as a group of its fields (log/slog.LogValuer).
func (e SignedOutEvent) LogValue() slog.Value {
	return slog.GroupValue(nonEmpty(
		slog.Time("time", e.Time), slog.String("reason", string(e.Reason)), slog.String("provider", e.Provider),
		slog.String("iss", e.Issuer), slog.String("sub", e.Subject), slog.String("session_id", e.SessionID),
		slog.String("sid", e.SID))...)
}

// LogValue makes e log as a group of its fields (log/slog.LogValuer).
func (e TokenRefreshedEvent) LogValue() slog.Value {
	return slog.GroupValue(nonEmpty(
		slog.Time("time", e.Time), slog.String("provider", e.Provider), slog.String("iss", e.Issuer),
		slog.String("sub", e.Subject), slog.String("session_id", e.SessionID), slog.Time("expiry", e.Expiry))...)
}

// LogValue makes e log as a group of its fields (log/slog.LogValuer).
func (e RefreshFailedEvent) LogValue() slog.Value {
	return slog.GroupValue(nonEmpty(
		slog.Time("time", e.Time), slog.String("provider", e.Provider), slog.String("iss", e.Issuer),
		slog.String("sub", e.Subject), slog.String("session_id", e.SessionID), slog.String("kind", string(e.Kind)),
		slog.Bool("session_ended", e.SessionEnded))...)
}

// nonEmpty leaves out empty strings and zero times (booleans stay).
func nonEmpty(attrs ...slog.Attr) []slog.Attr {
	out := attrs[:0]
	for _, a := range attrs {
		switch a.Value.Kind() {
		case slog.KindString:
			if a.Value.String() == "" {
				continue
			}
		case slog.KindTime:
			if a.Value.Time().IsZero() {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// emit calls fn(ctx, e) on its own goroutine and waits for it to return or
// for ctx to end, whichever comes first; a panic in fn is recovered. kind
// names the event in warnings.
func emit[E any](a *Auth, ctx context.Context, kind string, fn func(context.Context, E), e E) {
	if fn == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				a.warn.Warn("ginauth: event callback panicked", "event", kind, "panic", fmt.Sprint(r))
			}
		}()
		fn(ctx, e)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		a.warn.Warn("ginauth: event callback still running when the request's context ended; not waiting", "event", kind)
	}
}

// refreshFailure maps a refresh error to its kind.
func refreshFailure(err error) RefreshFailure {
	switch {
	case errors.Is(err, providers.ErrInvalidGrant):
		return RefreshRefused
	case errors.Is(err, providers.ErrIdentityChanged):
		return RefreshIdentityChanged
	case errors.Is(err, providers.ErrNoRefreshToken):
		return RefreshNoRefreshToken
	case errors.Is(err, errSessionGone):
		return RefreshSessionGone
	case errors.Is(err, ErrStoreUnavailable):
		return RefreshStoreUnavailable
	case errors.Is(err, providers.ErrUnavailable):
		return RefreshProviderUnavailable
	case errors.Is(err, providers.ErrInvalidToken):
		return RefreshInvalidToken
	}
	return RefreshOther
}
