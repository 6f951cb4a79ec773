package ginauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
)

// App data in sessions: attached at sign-in, read in handlers, checked by
// RequireRole, replaced by SetAppData. The encoding is in appdata.go.

// WithData returns d with app data attached: the session created for the
// user holds data. It has no effect on a decision that denies. Data outside
// the bounds of AppData fails the sign-in: no session, a redirect to the
// sign-in page with the error code "app_data_too_large" or
// "app_data_invalid", and a warning in the log that says which bound was
// broken. Call data.Validate in the hook to handle that yourself.
func (d SignInDecision) WithData(data AppData) SignInDecision {
	d.data, d.dataErr = encodeAppData(data)
	return d
}

// checkDecisionData refuses a sign-in whose hook attached app data out of
// bounds. It reports whether the callback may go on; when not, it has
// answered.
func (a *Auth) checkDecisionData(c *gin.Context, name string, id *providers.Identity, d SignInDecision) bool {
	if d.dataErr == nil {
		return true
	}
	// No session will hold the fresh tokens: revoke them.
	a.revokeTokens(c.Request.Context(), name, id.Token)
	code := "app_data_invalid"
	if errors.Is(d.dataErr, ErrAppDataTooLarge) {
		code = "app_data_too_large"
	}
	a.warn.Warn("ginauth: sign-in failed", "provider", name, "error_code", code, "err", d.dataErr,
		"fix", "the SignInHook returned WithData(AppData) outside the bounds of ginauth.AppData; check it with AppData.Validate")
	c.Redirect(redirectStatus(c), a.url("/signin")+"?error="+url.QueryEscape(code))
	return false
}

// AppData returns the session's app data (the zero AppData when there is
// none). The result is a fresh copy: changing it changes nothing in the
// session; use Auth.SetAppData for that.
func (s *Session) AppData() AppData { return decodeAppData(s.data) }

// AppDataFrom returns the app data of the session of a request that went
// through RequireAuth or LoadSession, with the changes SetAppData made
// earlier in the request. ok is false without a session, and for a bearer
// request (which has no session); a session without app data gives the
// zero AppData and ok true. It never panics.
func AppDataFrom(c *gin.Context) (AppData, bool) {
	if bearerFrom(c) != nil {
		return AppData{}, false
	}
	if l := loadedFrom(c); l != nil {
		return l.AppData(), true
	}
	return AppData{}, false
}

// RequireRole returns middleware, for use after RequireAuth, that answers
// 403 unless the session's app data (see AppData) holds one of roles. The
// roles come from the session itself: no database call per request. Like
// RequireClaim, it answers 403 with the error page in Browser mode and
// {"error":"forbidden"} in API mode, 401 {"error":"unauthenticated"} when
// no RequireAuth ran before it, and 403 JSON for a bearer request (a bearer
// token carries no app data). It panics if roles is empty or holds a role
// no AppData can hold, such as "" (a programming error, caught at
// start-up).
func RequireRole(roles ...string) gin.HandlerFunc {
	if len(roles) == 0 {
		panic("ginauth: RequireRole needs at least one role")
	}
	allowed := make(map[string]struct{}, len(roles))
	for _, r := range roles {
		if err := checkRole(r); err != nil {
			panic(fmt.Sprintf("ginauth: RequireRole: %v", err))
		}
		allowed[r] = struct{}{}
	}
	return func(c *gin.Context) {
		if bearerFrom(c) != nil {
			c.Header("Cache-Control", "no-store")
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "forbidden"})
			return
		}
		l := loadedFrom(c)
		if l == nil {
			c.Header("Cache-Control", "no-store")
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthenticated"})
			return
		}
		if !hasAnyRole(l.data, allowed) {
			l.auth.abort(c, l.mode, http.StatusForbidden, "forbidden")
			return
		}
		c.Next()
	}
}

// maxAppDataAttempts bounds SetAppData's retries when other requests keep
// updating a server-side session at the same moment.
const maxAppDataAttempts = 10

// SetAppData replaces the app data of the request's session with d, like
// Light-Auth's setAuthSession: after a change of the user's roles in the
// application, for example. Later requests, and AppDataFrom later in this
// one, see d; the zero AppData removes the app data. The session keeps its
// ID, its creation time and therefore its expiry; the sign-in's revocations
// (sign-out, SignOutUser, back-channel logout) keep applying to it.
//
// It is persisted in every store: with the cookie store the session cookie
// is sealed again and set on the response (so call SetAppData before
// writing the response: otherwise it returns ErrResponseStarted); with a
// server-side store the stored session is updated, without overwriting
// tokens another request refreshed meanwhile.
//
// Errors:
//   - d out of bounds: an error wrapping ErrAppDataTooLarge or
//     ErrInvalidAppData; nothing changes;
//   - no valid session (also after it ended in this request): ErrNotSignedIn;
//     a bearer request: ErrBearerRequest (an ErrNotSignedIn);
//   - with the cookie store, a session that with d no longer fits in the
//     cookies: ErrSessionTooLarge; nothing changes;
//   - a store failure: ErrStoreUnavailable.
//
// SetAppData changes state: a handler that calls it for a browser request
// must protect itself against CSRF (a POST route that calls CheckCSRF, not
// a GET), as ginauth cannot tell which of the app's routes change state.
//
// Concurrent updates of one session: the last writer wins. With the cookie
// store, that is the last response the browser receives, and a request that
// began before SetAppData and refreshes the session's last-seen time may
// write back the older app data. More importantly, with the cookie store an
// old copy of the session cookie still holds the old app data until the
// session ends: to take a role away for certain, end the user's sessions
// (SignOutUser) or use a server-side store.
func (a *Auth) SetAppData(c *gin.Context, d AppData) error {
	raw, err := encodeAppData(d)
	if err != nil {
		return err
	}
	if bearerFrom(c) != nil {
		return ErrBearerRequest
	}
	l := loadedFrom(c)
	if l == nil {
		if l, err = a.loadSession(c, false); err != nil {
			return err
		}
		if l == nil {
			return ErrNotSignedIn
		}
	}
	if a.clientSide && c.Writer.Written() {
		return fmt.Errorf("%w: SetAppData must be called before the response is written", ErrResponseStarted)
	}
	return a.saveAppData(c, l, raw)
}

// saveAppData stores l with the encoded app data raw. With a server-side
// store, an update refused because another request changed the session
// meanwhile is retried on the fresh data (last writer wins).
func (s *sessions) saveAppData(c *gin.Context, l *loaded, raw string) error {
	for attempt := 1; ; attempt++ {
		old := l.data
		l.data = raw
		err := s.saveSession(c, l)
		if err == nil {
			return nil
		}
		l.data = old
		switch {
		case errors.Is(err, errSessionGone):
			return fmt.Errorf("%w: the session ended meanwhile", ErrNotSignedIn)
		case errors.Is(err, ErrSessionTooLarge):
			return fmt.Errorf("%w: with this app data", ErrSessionTooLarge)
		case errors.Is(err, errSessionChanged) && attempt < maxAppDataAttempts:
			if err := s.reloadStored(c.Request.Context(), l); err != nil {
				if errors.Is(err, errSessionGone) {
					return fmt.Errorf("%w: the session ended meanwhile", ErrNotSignedIn)
				}
				return err
			}
		case errors.Is(err, errSessionChanged):
			return fmt.Errorf("%w: the session kept changing during SetAppData", ErrStoreUnavailable)
		default:
			return err
		}
	}
}

// reloadStored reads a server-side session again into l, as another
// request left it: core, tokens part and the data to update over.
func (s *sessions) reloadStored(ctx context.Context, l *loaded) error {
	data, found, err := s.store.Load(ctx, l.token)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if !found {
		return errSessionGone
	}
	core, tokens, err := splitParts(data)
	if err != nil {
		return errSessionGone
	}
	var fresh Session
	if decodeCore(string(core), &fresh) != nil || fresh.ID != l.ID {
		return errSessionGone
	}
	fresh.maxAge, fresh.idle = l.maxAge, l.idle
	l.Session = fresh
	l.tokensBlob, l.stored = tokens, data
	l.tokensLoaded, l.tokensDirty = false, false
	return nil
}
