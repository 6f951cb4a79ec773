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
func attach(c *gin.Context, l *loaded) {
	c.Set(ContextKey, l)
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), ctxKey{}, l))
}

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
