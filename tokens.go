package ginauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// DefaultRefreshMargin: AccessToken refreshes a token that expires within it.
const DefaultRefreshMargin = 60 * time.Second

// Errors of AccessToken.
var (
	// ErrNotSignedIn: the request has no valid session.
	ErrNotSignedIn = errors.New("ginauth: not signed in")
	// ErrSessionEnded: the provider refused the refresh (invalid_grant), a
	// refreshed ID token named another user or failed validation, or the
	// session has no usable refresh token; the session was ended. Answer
	// 401 in APIs, or send the browser to the sign-in page.
	ErrSessionEnded = errors.New("ginauth: session ended by the provider")
)

// AccessToken returns the provider access token of the request's session,
// refreshed first when it expires within Config.RefreshMargin (default
// 60 s). Refreshes of one session are single-flight in this process and,
// with a store that implements store.Locker (Redis), across instances; a
// rotated refresh token is never used twice. A provider that is down or slow
// makes it fail within the provider timeout (errors.Is ErrProviderUnavailable)
// and leaves the session as it was, so the next request retries.
func (a *Auth) AccessToken(c *gin.Context) (string, error) {
	tok, _, err := a.AccessTokenWithExpiry(c)
	return tok, err
}

// AccessTokenWithExpiry is AccessToken that also returns when the access
// token expires (zero when the provider did not say).
func (a *Auth) AccessTokenWithExpiry(c *gin.Context) (string, time.Time, error) {
	if bearerFrom(c) != nil {
		return "", time.Time{}, ErrBearerRequest
	}
	l := loadedFrom(c)
	if l == nil {
		var err error
		if l, err = a.loadSession(c, false); err != nil {
			return "", time.Time{}, err
		}
		if l == nil {
			return "", time.Time{}, ErrNotSignedIn
		}
	}
	tok, err := a.tokensOf(l)
	if err != nil {
		a.endLoaded(c, l)
		a.emitSignedOut(c, l, SignOutByTokensUnreadable)
		return "", time.Time{}, fmt.Errorf("%w: session tokens unreadable", ErrSessionEnded)
	}
	if a.fresh(tok) {
		return tok.AccessToken, tok.Expiry, nil
	}
	// own: this request's call did the refresh (or failed it), so it
	// reports the event; requests that shared it, or got tokens another
	// request refreshed, do not.
	fresh, own, err := a.refreshed(c.Request.Context(), l, tok)
	own = own && c.Request.Context().Err() == nil
	switch {
	case errors.Is(err, providers.ErrInvalidGrant), errors.Is(err, providers.ErrIdentityChanged),
		errors.Is(err, providers.ErrNoRefreshToken), errors.Is(err, errSessionGone),
		// An ID token in the refresh response that fails validation (another
		// iss, aud, ...) is RF-2 too; the rotated refresh token went with it.
		errors.Is(err, providers.ErrInvalidToken) && !errors.Is(err, providers.ErrUnavailable):
		a.warn.Warn("ginauth: refresh refused; session ended", "provider", l.Provider, "err", err)
		a.endLoaded(c, l)
		if own {
			a.emitRefreshFailed(c, l, err, true)
		}
		return "", time.Time{}, fmt.Errorf("%w: %w", ErrSessionEnded, err)
	case err != nil:
		a.warn.Warn("ginauth: refresh failed; session kept", "provider", l.Provider, "err", err)
		if own {
			a.emitRefreshFailed(c, l, err, false)
		}
		return "", time.Time{}, err
	}
	if fresh != tok {
		l.setTokens(fresh)
		if err := a.saveSession(c, l); err != nil {
			gone := errors.Is(err, errSessionGone)
			if own {
				a.emitRefreshFailed(c, l, err, gone)
			}
			if gone {
				return "", time.Time{}, fmt.Errorf("%w: %w", ErrSessionEnded, err)
			}
			return "", time.Time{}, err
		}
	}
	if own {
		emit(a, c.Request.Context(), "token_refreshed", a.events.TokenRefreshed, TokenRefreshedEvent{
			Time: a.now(), Provider: l.Provider, Issuer: l.User.Issuer, Subject: l.User.Subject,
			SessionID: l.ID, Expiry: fresh.Expiry,
		})
	}
	return fresh.AccessToken, fresh.Expiry, nil
}

// emitRefreshFailed reports a failed refresh of l and, when it ended the
// session here (not elsewhere), the sign-out.
func (a *Auth) emitRefreshFailed(c *gin.Context, l *loaded, err error, ended bool) {
	kind := refreshFailure(err)
	emit(a, c.Request.Context(), "refresh_failed", a.events.RefreshFailed, RefreshFailedEvent{
		Time: a.now(), Provider: l.Provider, Issuer: l.User.Issuer, Subject: l.User.Subject,
		SessionID: l.ID, Kind: kind, SessionEnded: ended,
	})
	if ended && kind != RefreshSessionGone {
		a.emitSignedOut(c, l, SignOutByRefreshRefused)
	}
}

// emitSignedOut reports the end of l's session.
func (a *Auth) emitSignedOut(c *gin.Context, l *loaded, reason SignOutReason) {
	emit(a, c.Request.Context(), "signed_out", a.events.SignedOut, SignedOutEvent{
		Time: a.now(), Reason: reason, Provider: l.Provider, Issuer: l.User.Issuer,
		Subject: l.User.Subject, SessionID: l.ID, SID: l.SID,
	})
}

// fresh reports whether tok's access token outlives the refresh margin.
func (s *sessions) fresh(tok providers.Token) bool {
	return tok.AccessToken != "" && (tok.Expiry.IsZero() || tok.Expiry.After(s.now().Add(s.refreshMargin)))
}

// refreshed returns fresh tokens for l: from a refresh that just happened
// (in this process, or — through the store — on another instance), or from
// the provider. Concurrent callers for one session share one call. own
// reports whether this caller's own call asked the provider (or failed):
// false for callers that joined another's call or got tokens refreshed
// before.
func (s *sessions) refreshed(ctx context.Context, l *loaded, tok providers.Token) (_ providers.Token, own bool, _ error) {
	p, ok := s.providers[l.Provider].(providers.Refresher)
	if !ok {
		return providers.Token{}, true, providers.ErrNoRefreshToken
	}
	if tok.RefreshToken == "" {
		return providers.Token{}, true, providers.ErrNoRefreshToken
	}
	key := sha256.Sum256([]byte(tok.RefreshToken))
	var ran atomic.Bool // set by this caller's call, when it is the one that runs
	// The flight outlives a caller that goes away (the caller gets its own
	// context's error); the provider timeout bounds it.
	t, err := s.refreshes.Do(ctx, key, func(ctx context.Context) (providers.Token, error) {
		ran.Store(true)
		// A refresh that just happened answers, unless its token is near
		// expiry too and its refresh token was not rotated (then the old
		// one still works, and a cached token could be returned expired).
		if t, ok := s.recent.Get(key, s.now()); ok && (s.fresh(t) || t.RefreshToken != tok.RefreshToken) {
			ran.Store(false)
			return t, nil
		}
		if lk, ok := s.store.(store.Locker); ok && l.token != nil {
			lockCtx, cancel := context.WithTimeout(ctx, s.lockTTL)
			unlock, err := lk.Lock(lockCtx, l.token, s.lockTTL)
			cancel()
			if err != nil {
				return providers.Token{}, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
			}
			defer unlock()
			// Another instance may have refreshed while we waited.
			if t, err := s.storedTokens(ctx, l); err != nil {
				return providers.Token{}, err
			} else if t.RefreshToken != tok.RefreshToken && s.fresh(t) {
				ran.Store(false)
				return t, nil
			}
		}
		t, err := p.Refresh(ctx, tok, l.User.Issuer, l.User.Subject)
		if err != nil {
			return t, err
		}
		now := s.now()
		_ = s.recent.Put(key, t, now.Add(recentRefreshTTL), now) // full: not remembered
		if _, locked := s.store.(store.Locker); locked && l.token != nil {
			// Still holding the lock: store the new tokens before another
			// instance may look, so it never presents the rotated token.
			if err := s.storeTokens(ctx, l, t); err != nil {
				return providers.Token{}, err
			}
		}
		return t, nil
	})
	return t, ran.Load(), err
}

// storeTokens writes new tokens for l to a server-side store (the cookie,
// which carries only the store token, does not change).
func (s *sessions) storeTokens(ctx context.Context, l *loaded, t providers.Token) error {
	_, err := s.store.Save(ctx, l.token, store.Record{
		Data:     joinParts(encodeCore(&l.Session), []byte(s.sealTokens(&t, l.ID))),
		Expiry:   l.ExpiresAt(),
		Provider: l.Provider,
		Subject:  l.User.Subject,
		SID:      l.SID,
	})
	if errors.Is(err, store.ErrNotFound) {
		return errSessionGone
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return nil
}

// storedTokens re-reads the tokens of a server-side session.
func (s *sessions) storedTokens(ctx context.Context, l *loaded) (providers.Token, error) {
	data, found, err := s.store.Load(ctx, l.token)
	if err != nil {
		return providers.Token{}, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if !found {
		return providers.Token{}, errSessionGone
	}
	_, sealed, err := splitParts(data)
	if err != nil {
		return providers.Token{}, errSessionGone
	}
	t, err := s.openTokens(string(sealed), l.ID)
	if err != nil {
		return providers.Token{}, errSessionGone
	}
	return t, nil
}

// endLoaded ends a session found to be dead (refresh refused, tokens
// unreadable): store entry, cookies, and — for the cookie store — a
// revocation of its ID.
func (s *sessions) endLoaded(c *gin.Context, l *loaded) {
	s.deleteStored(c.Request.Context(), l.token)
	s.revokeSessionID(l)
	s.cookies.clearSession(c.Writer, c.Request)
	c.Set(ContextKey, nil)
}

// revokeSessionID refuses l's ID from now on in this process; with the
// cookie store this is what makes a copied cookie useless.
func (s *sessions) revokeSessionID(l *loaded) {
	now := s.now()
	s.revoked.add(revKey{kind: revSession, a: l.ID}, now, l.CreatedAt.Add(s.maxAge), now)
}

// revoke revokes the session's refresh and access tokens at the provider,
// best effort: failures are logged (never with the token) and the local
// sign-out goes on.
func (s *sessions) revoke(ctx context.Context, l *loaded) {
	if _, ok := s.providers[l.Provider].(providers.Revoker); !ok {
		return
	}
	tokens, err := s.tokensOf(l)
	if err != nil {
		s.warn.Warn("ginauth: session tokens unreadable; nothing revoked", "provider", l.Provider)
		return
	}
	s.revokeTokens(ctx, l.Provider, tokens)
}

// revokeTokens revokes tokens at the provider, when it can, best effort.
func (s *sessions) revokeTokens(ctx context.Context, provider string, tokens providers.Token) {
	p, ok := s.providers[provider].(providers.Revoker)
	if !ok {
		return
	}
	// Both at once: a provider that is down or slow costs one timeout, not
	// one per token.
	var wg sync.WaitGroup
	for _, t := range []struct{ value, hint string }{
		{tokens.RefreshToken, "refresh_token"},
		{tokens.AccessToken, "access_token"},
	} {
		if t.value == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.Revoke(ctx, t.value, t.hint)
			// ErrNoRevocation: nothing to revoke with, not worth a warning.
			if err != nil && !errors.Is(err, providers.ErrNoRevocation) {
				s.warn.Warn("ginauth: token revocation failed", "provider", provider, "token_type", t.hint, "err", err)
			}
		}()
	}
	wg.Wait()
}

// recentRefreshTTL is how long the tokens a refresh token was exchanged for
// are remembered: a request that still carries the old (rotated) refresh
// token, such as a browser's parallel request with the cookie store, gets
// the new tokens instead of presenting a used refresh token to the provider.
const recentRefreshTTL = 2 * time.Minute

// maxRecent bounds the recent-refresh record. When it is full, a refresh
// is simply not remembered (the record is a cache).
const maxRecent = 10_000
