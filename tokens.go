package ginauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
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
		return "", time.Time{}, fmt.Errorf("%w: session tokens unreadable", ErrSessionEnded)
	}
	if a.fresh(tok) {
		return tok.AccessToken, tok.Expiry, nil
	}
	fresh, err := a.refreshed(c.Request.Context(), l, tok)
	switch {
	case errors.Is(err, providers.ErrInvalidGrant), errors.Is(err, providers.ErrIdentityChanged),
		errors.Is(err, providers.ErrNoRefreshToken), errors.Is(err, errSessionGone),
		// An ID token in the refresh response that fails validation (another
		// iss, aud, ...) is RF-2 too; the rotated refresh token went with it.
		errors.Is(err, providers.ErrInvalidToken) && !errors.Is(err, providers.ErrUnavailable):
		a.log.Warn("ginauth: refresh refused; session ended", "provider", l.Provider, "err", err)
		a.endLoaded(c, l)
		return "", time.Time{}, fmt.Errorf("%w: %w", ErrSessionEnded, err)
	case err != nil:
		a.log.Warn("ginauth: refresh failed; session kept", "provider", l.Provider, "err", err)
		return "", time.Time{}, err
	}
	if fresh != tok {
		l.setTokens(fresh)
		if err := a.saveSession(c, l); err != nil {
			if errors.Is(err, errSessionGone) {
				return "", time.Time{}, fmt.Errorf("%w: %w", ErrSessionEnded, err)
			}
			return "", time.Time{}, err
		}
	}
	return fresh.AccessToken, fresh.Expiry, nil
}

// fresh reports whether tok's access token outlives the refresh margin.
func (a *Auth) fresh(tok providers.Token) bool {
	return tok.AccessToken != "" && (tok.Expiry.IsZero() || tok.Expiry.After(a.now().Add(a.refreshMargin)))
}

// refreshed returns fresh tokens for l: from a refresh that just happened
// (in this process, or — through the store — on another instance), or from
// the provider. Concurrent callers for one session share one call.
func (a *Auth) refreshed(ctx context.Context, l *loaded, tok providers.Token) (providers.Token, error) {
	p, ok := a.providers[l.Provider].(providers.Refresher)
	if !ok {
		return providers.Token{}, providers.ErrNoRefreshToken
	}
	if tok.RefreshToken == "" {
		return providers.Token{}, providers.ErrNoRefreshToken
	}
	key := sha256.Sum256([]byte(tok.RefreshToken))
	// The flight outlives a caller that goes away; the provider timeout bounds it.
	return a.refreshes.do(key, func() (providers.Token, error) {
		// A refresh that just happened answers, unless its token is near
		// expiry too and its refresh token was not rotated (then the old
		// one still works, and a cached token could be returned expired).
		if t, ok := a.recent.get(key, a.now()); ok && (a.fresh(t) || t.RefreshToken != tok.RefreshToken) {
			return t, nil
		}
		ctx := context.WithoutCancel(ctx)
		if lk, ok := a.store.(store.Locker); ok && l.token != nil {
			lockCtx, cancel := context.WithTimeout(ctx, a.lockTTL)
			unlock, err := lk.Lock(lockCtx, l.token, a.lockTTL)
			cancel()
			if err != nil {
				return providers.Token{}, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
			}
			defer unlock()
			// Another instance may have refreshed while we waited.
			if t, err := a.storedTokens(ctx, l); err != nil {
				return providers.Token{}, err
			} else if t.RefreshToken != tok.RefreshToken && a.fresh(t) {
				return t, nil
			}
		}
		t, err := p.Refresh(ctx, tok, l.User.Issuer, l.User.Subject)
		if err != nil {
			return t, err
		}
		a.recent.put(key, t, a.now())
		if _, locked := a.store.(store.Locker); locked && l.token != nil {
			// Still holding the lock: store the new tokens before another
			// instance may look, so it never presents the rotated token.
			if err := a.storeTokens(ctx, l, t); err != nil {
				return providers.Token{}, err
			}
		}
		return t, nil
	})
}

// storeTokens writes new tokens for l to a server-side store (the cookie,
// which carries only the store token, does not change).
func (a *Auth) storeTokens(ctx context.Context, l *loaded, t providers.Token) error {
	_, err := a.store.Save(ctx, l.token, store.Record{
		Data:     joinParts(encodeCore(&l.Session), []byte(a.sealTokens(&t, l.ID))),
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
func (a *Auth) storedTokens(ctx context.Context, l *loaded) (providers.Token, error) {
	data, found, err := a.store.Load(ctx, l.token)
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
	t, err := a.openTokens(string(sealed), l.ID)
	if err != nil {
		return providers.Token{}, errSessionGone
	}
	return t, nil
}

// endLoaded ends a session found to be dead (refresh refused, tokens
// unreadable): store entry, cookies, and — for the cookie store — a
// revocation of its ID.
func (a *Auth) endLoaded(c *gin.Context, l *loaded) {
	a.deleteStored(c.Request.Context(), l.token)
	a.revokeSessionID(l)
	a.cookies.clearSession(c.Writer, c.Request)
	c.Set(ContextKey, nil)
}

// revokeSessionID refuses l's ID from now on in this process; with the
// cookie store this is what makes a copied cookie useless.
func (a *Auth) revokeSessionID(l *loaded) {
	now := a.now()
	a.revoked.add(revKey{kind: revSession, a: l.ID}, now, l.CreatedAt.Add(a.maxAge), now)
}

// revoke revokes the session's refresh and access tokens at the provider,
// best effort: failures are logged (never with the token) and the local
// sign-out goes on.
func (a *Auth) revoke(ctx context.Context, l *loaded) {
	p, ok := a.providers[l.Provider].(providers.Revoker)
	if !ok {
		return
	}
	tokens, err := a.tokensOf(l)
	if err != nil {
		a.log.Warn("ginauth: session tokens unreadable; nothing revoked", "provider", l.Provider)
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
				a.log.Warn("ginauth: token revocation failed", "provider", l.Provider, "token_type", t.hint, "err", err)
			}
		}()
	}
	wg.Wait()
}

// flights runs one refresh per key at a time; later callers share its result.
type flights struct {
	mu sync.Mutex
	m  map[[32]byte]*flight
}

type flight struct {
	done chan struct{}
	tok  providers.Token
	err  error
}

func (f *flights) do(key [32]byte, fn func() (providers.Token, error)) (providers.Token, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = make(map[[32]byte]*flight)
	}
	if fl, ok := f.m[key]; ok {
		f.mu.Unlock()
		<-fl.done
		return fl.tok, fl.err
	}
	fl := &flight{done: make(chan struct{})}
	f.m[key] = fl
	f.mu.Unlock()
	fl.tok, fl.err = fn()
	f.mu.Lock()
	delete(f.m, key)
	f.mu.Unlock()
	close(fl.done)
	return fl.tok, fl.err
}

// recentRefreshes remembers, for a short while, the tokens a refresh token
// was exchanged for: a request that still carries the old (rotated) refresh
// token — a browser's parallel request with the cookie store — gets the new
// tokens instead of presenting a used refresh token to the provider.
type recentRefreshes struct {
	mu sync.Mutex
	m  map[[32]byte]recentRefresh
}

type recentRefresh struct {
	tok providers.Token
	at  time.Time
}

const (
	recentRefreshTTL = 2 * time.Minute
	maxRecent        = 10_000
)

func (r *recentRefreshes) get(key [32]byte, now time.Time) (providers.Token, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[key]
	if !ok || now.Sub(e.at) > recentRefreshTTL {
		return providers.Token{}, false
	}
	return e.tok, true
}

func (r *recentRefreshes) put(key [32]byte, tok providers.Token, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[[32]byte]recentRefresh)
	}
	if len(r.m) >= maxRecent {
		for k, e := range r.m {
			if now.Sub(e.at) > recentRefreshTTL || len(r.m) >= maxRecent {
				delete(r.m, k)
			}
		}
	}
	r.m[key] = recentRefresh{tok: tok, at: now}
}
