package ginauth

import (
	"context"

	"github.com/gin-gonic/gin"
)

// ContextKey is the gin.Context key under which RequireAuth and LoadSession
// store the session (c.Get(ginauth.ContextKey)). Prefer UserFrom and SessionFrom.
const ContextKey = "github.com/ginauth/ginauth.session"

type ctxKey struct{}

// attach makes l reachable from the gin.Context and from c.Request.Context().
// The request's new context is l.ctx, which lives inside l: attaching
// allocates no context of its own. Each loaded is attached at most once.
func attach(c *gin.Context, l *loaded) {
	c.Set(ContextKey, l)
	l.ctx = sessionCtx{Context: c.Request.Context(), l: l}
	c.Request = c.Request.WithContext(&l.ctx)
}

// sessionCtx is a request context with a session attached: it answers
// Value(ctxKey{}) with the session and defers everything else (deadline,
// cancellation, other values) to the context it wraps, as
// context.WithValue would.
type sessionCtx struct {
	context.Context
	l *loaded
}

// Value returns the session for ctxKey{}, else the wrapped context's value.
func (c *sessionCtx) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c.l
	}
	return c.Context.Value(key)
}

// String names the context for debugging, as context.WithValue's does.
func (c *sessionCtx) String() string { return "ginauth.sessionCtx" }

func loadedFrom(c *gin.Context) *loaded {
	if c == nil {
		return nil
	}
	if v, ok := c.Get(ContextKey); ok {
		l, _ := v.(*loaded)
		return l
	}
	if c.Request != nil {
		return loadedFromContext(c.Request.Context())
	}
	return nil
}

func loadedFromContext(ctx context.Context) *loaded {
	if ctx == nil {
		return nil
	}
	l, _ := ctx.Value(ctxKey{}).(*loaded)
	return l
}

// UserFrom returns the signed-in user of a request that went through
// RequireAuth or LoadSession, or whose bearer token RequireAuth accepted
// (the User is then built from the token's claims). It never panics.
func UserFrom(c *gin.Context) (User, bool) {
	if b := bearerFrom(c); b != nil {
		return b.User, true
	}
	if l := loadedFrom(c); l != nil {
		return l.User, true
	}
	return User{}, false
}

// SessionFrom returns the session of a request that went through RequireAuth
// or LoadSession. It never exposes tokens and never panics. A bearer request
// has no session: ok is false (see BearerFrom).
func SessionFrom(c *gin.Context) (Session, bool) {
	if l := loadedFrom(c); l != nil {
		return l.Session, true
	}
	return Session{}, false
}

// UserFromContext is UserFrom for plain net/http code: it reads the user
// from a request context that went through RequireAuth or LoadSession.
func UserFromContext(ctx context.Context) (User, bool) {
	if b := bearerFromContext(ctx); b != nil {
		return b.User, true
	}
	if l := loadedFromContext(ctx); l != nil {
		return l.User, true
	}
	return User{}, false
}

// currentSessionID is the session ID for CSRF binding: the attached session
// or, on auth routes, the one the request carries.
// It fails only when the store cannot say whether there is a session.
func (a *Auth) currentSessionID(c *gin.Context) (string, error) {
	if l := loadedFrom(c); l != nil {
		return l.ID, nil
	}
	l, err := a.loadSession(c, false)
	if l != nil {
		return l.ID, nil
	}
	return "", err
}
