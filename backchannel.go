package ginauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// maxLogoutTokenBytes bounds the logout_token parameter.
const maxLogoutTokenBytes = 16 << 10

// handleBackChannelLogout receives OpenID Connect Back-Channel Logout 1.0
// requests at <group>/backchannel-logout/:provider: a form POST of
// logout_token from the provider itself (no cookies, no CSRF token). A valid
// token ends the matching sessions and answers 200; anything else answers 400
// (Back-Channel Logout 1.0 §2.8). A jti seen before answers 200 without doing
// anything again: the request is idempotent.
func (a *Auth) handleBackChannelLogout(c *gin.Context) {
	name := c.Param("provider")
	p, ok := a.providers[name].(providers.LogoutTokenVerifier)
	if !ok {
		c.JSON(http.StatusBadRequest, gin.H{"error": "invalid_request", "error_description": "unknown provider"})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		status := http.StatusBadRequest
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		c.JSON(status, gin.H{"error": "invalid_request"})
		return
	}
	vals := c.Request.PostForm["logout_token"]
	if len(vals) != 1 || vals[0] == "" || len(vals[0]) > maxLogoutTokenBytes {
		c.JSON(http.StatusBadRequest, gin.H{"error": "invalid_request", "error_description": "one logout_token expected"})
		return
	}
	claims, err := p.VerifyLogoutToken(c.Request.Context(), vals[0])
	if err != nil {
		a.warn.Warn("ginauth: back-channel logout refused", "provider", name, "err", err)
		c.JSON(http.StatusBadRequest, gin.H{"error": "invalid_request", "error_description": "invalid logout token"})
		return
	}
	now := a.now()
	jti := name + "\x00" + claims.JTI
	claimed, err := a.logouts.Claim(jti, struct{}{}, claims.Expiry, now)
	if err != nil {
		// Too many logout tokens live at once to remember them all:
		// processing this one without replay protection could let a copy
		// end sessions created later. The provider retries.
		a.warn.Warn("ginauth: back-channel logout deferred: record of logout tokens full", "provider", name)
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "temporarily_unavailable"})
		return
	}
	if !claimed {
		c.Status(http.StatusOK) // replay: already done
		return
	}
	if _, err := a.endProviderSessions(c.Request.Context(), name, claims.Subject, claims.SID); err != nil {
		a.logouts.Delete(jti) // the provider may retry
		a.warn.Warn("ginauth: back-channel logout failed", "provider", name, "err", err)
		c.JSON(http.StatusBadRequest, gin.H{"error": "temporarily_unavailable"})
		return
	}
	emit(a, c.Request.Context(), "signed_out", a.events.SignedOut, SignedOutEvent{
		Time: a.now(), Reason: SignOutByBackChannel, Provider: name, Issuer: claims.Issuer,
		Subject: claims.Subject, SID: claims.SID,
	})
	c.Status(http.StatusOK)
}

// endProviderSessions ends the sessions of a provider session (sid) or, with
// no sid, of a user (sub). Server-side stores with an index delete them
// everywhere; otherwise (the cookie store) this process refuses them from
// now on.
func (s *sessions) endProviderSessions(ctx context.Context, provider, subject, sid string) (int, error) {
	now := s.now()
	until := now.Add(s.maxAge)
	if sid != "" {
		s.revoked.add(revKey{kind: revSID, a: provider, b: sid}, now, until, now)
	} else {
		s.revoked.add(revKey{kind: revUser, a: provider, b: subject}, now, until, now)
	}
	idx, ok := s.store.(store.Index)
	if !ok {
		return 0, nil
	}
	if sid != "" {
		return idx.DeleteSID(ctx, provider, sid)
	}
	return idx.DeleteUser(ctx, provider, subject)
}

// SignOutUser ends every session of a user ("sign out everywhere"). With a
// server-side store that implements store.Index (Redis, memory) the sessions
// are deleted on every instance at once. With the cookie store, this process
// refuses the user's existing sessions from now on; other instances do not
// learn of it (see README).
func (a *Auth) SignOutUser(ctx context.Context, provider, subject string) error {
	if _, ok := a.providers[provider]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownProvider, provider)
	}
	if subject == "" {
		return errors.New("ginauth: SignOutUser: empty subject")
	}
	if _, err := a.endProviderSessions(ctx, provider, subject, ""); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	emit(a, ctx, "signed_out", a.events.SignedOut, SignedOutEvent{
		Time: a.now(), Reason: SignOutBySignOutUser, Provider: provider, Subject: subject,
	})
	return nil
}
