package ginauth

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
)

// loaded is a session read from the request, with the store token it was
// found under. It is also what handlers reach through the context.
type loaded struct {
	Session
	token []byte
	auth  *Auth
	mode  Mode
}

// loadSession reads and checks the request's session. It returns (nil, nil)
// when the request has no valid session, and an error only when the store
// failed (the caller must then refuse the request). With touch, an active
// session's last-seen time is refreshed (at most every touchEach).
func (a *Auth) loadSession(c *gin.Context, touch bool) (*loaded, error) {
	value := a.cookies.readSession(c.Request)
	if value == "" {
		return nil, nil
	}
	token, err := a.sessionSeal.Open(value, a.cookies.sessionAD)
	if err != nil {
		return nil, nil
	}
	data, found, err := a.store.Load(c.Request.Context(), token)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if !found {
		return nil, nil
	}
	l := &loaded{token: token, auth: a}
	if decodeSessionString(sessionString(data, token), &l.Session) != nil {
		return nil, nil
	}
	l.maxAge, l.idle = a.maxAge, a.idle
	now := a.now()
	if l.expired(now) {
		a.deleteStored(c.Request.Context(), token)
		return nil, nil
	}
	if touch && now.Sub(l.LastSeen) >= a.touchEach {
		l.LastSeen = now
		if err := a.saveSession(c, l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// sessionString returns data as a string for decoding. When the store
// handed back the very plaintext that Open returned (the cookie store does),
// this request owns those bytes and nothing ever writes to them, so the
// string shares them instead of copying the whole session.
func sessionString(data, token []byte) string {
	if len(data) > 0 && len(data) == len(token) && unsafe.SliceData(data) == unsafe.SliceData(token) {
		return unsafe.String(unsafe.SliceData(data), len(data))
	}
	return string(data)
}

// saveSession stores l and writes its cookie.
func (a *Auth) saveSession(c *gin.Context, l *loaded) error {
	expiry := l.ExpiresAt()
	token, err := a.store.Save(c.Request.Context(), l.token, encodeSession(&l.Session), expiry)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	l.token = token
	return a.cookies.writeSession(c.Writer, c.Request, a.sessionSeal.Seal(token, a.cookies.sessionAD))
}

// startSession creates a new session for a signed-in identity: a new ID, a
// new store token, and any session the browser presented is ended first.
func (a *Auth) startSession(c *gin.Context, provider string, id *providers.Identity) error {
	if old, _ := a.loadSession(c, false); old != nil {
		a.deleteStored(c.Request.Context(), old.token)
	}
	now := a.now()
	l := &loaded{auth: a}
	l.ID = randomString()
	l.Provider = provider
	l.User = userFromClaims(provider, id)
	l.CreatedAt, l.LastSeen = now, now
	l.maxAge, l.idle = a.maxAge, a.idle
	l.tokens = id.Token
	err := a.saveSession(c, l)
	if errors.Is(err, ErrSessionTooLarge) {
		a.deleteStored(c.Request.Context(), l.token)
		// The previous session was ended above; with the cookie store its
		// cookies would still work, so they go too.
		a.cookies.clearSession(c.Writer, c.Request)
	}
	return err
}

func (a *Auth) deleteStored(ctx context.Context, token []byte) {
	if len(token) == 0 {
		return
	}
	if err := a.store.Delete(ctx, token); err != nil {
		a.log.Warn("ginauth: deleting a session from the store failed", "err", err)
	}
}
