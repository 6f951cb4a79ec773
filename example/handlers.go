package main

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

// handlers serves the example's own routes.
type handlers struct {
	auth    *ginauth.Auth
	buttons []providerButton
	dev     bool
	base    string // GINAUTH_URL's path: "" or "/app"
}

// index is public: it shows sign-in buttons, or the user and a sign-out
// button. It runs after auth.LoadSession, so the CSRF token is bound to the
// current session (if any) as the POST routes expect. Besides the forms, one
// sign-in button (for the first provider) and one sign-out button use
// ginauth's browser client (auth.ClientScriptURL) through the app's own
// script (appScriptPath), which also shows what the client's getSession()
// returns.
func (h *handlers) index(c *gin.Context) {
	data := pageData{
		Title:           "Home",
		Dev:             h.dev,
		Wide:            true,
		Base:            h.base,
		CSRFToken:       h.auth.CSRFToken(c),
		CallbackURL:     h.base + "/",
		ClientScriptURL: h.auth.ClientScriptURL(),
		AppScriptURL:    h.base + appScriptURL,
	}
	if u, ok := ginauth.UserFrom(c); ok {
		data.User = &u
		data.Action = h.base + authPath + "/signout"
	} else {
		data.Providers = h.buttons
		if len(h.buttons) > 0 {
			data.ScriptSignIn = &h.buttons[0]
		}
	}
	renderPage(c, http.StatusOK, "index", data)
}

// me is browser-protected: signed-out visitors are sent to sign in first.
func (h *handlers) me(c *gin.Context) {
	u, _ := ginauth.UserFrom(c)
	data := pageData{Title: "Me", Dev: h.dev, Wide: true, Base: h.base, User: &u}
	if s, ok := ginauth.SessionFrom(c); ok {
		data.ExpiresAt = s.ExpiresAt().UTC().Format(time.RFC1123)
	}
	renderPage(c, http.StatusOK, "me", data)
}

// admin is browser-protected and needs "admin" in the groups claim
// (ginauth.RequireClaim answers 403 otherwise).
func (h *handlers) admin(c *gin.Context) {
	u, _ := ginauth.UserFrom(c)
	renderPage(c, http.StatusOK, "admin", pageData{Title: "Admin", Dev: h.dev, Wide: true, Base: h.base, User: &u})
}

// meJSON is the body of GET /api/me.
type meJSON struct {
	Sub      string   `json:"sub"`
	Name     string   `json:"name"`
	Email    string   `json:"email"`
	Provider string   `json:"provider"`
	Groups   []string `json:"groups"` // [] when none, never null
}

// apiMe is API-protected: 401 JSON when signed out.
func apiMe(c *gin.Context) {
	u, _ := ginauth.UserFrom(c)
	if _, bearer := ginauth.BearerFrom(c); bearer {
		// A bearer token: sub, provider and whatever of name, email and
		// groups the token carries.
		body := gin.H{"sub": u.Subject, "provider": u.Provider}
		if u.Name != "" {
			body["name"] = u.Name
		}
		if u.Email != "" {
			body["email"] = u.Email
		}
		if u.Groups != nil {
			body["groups"] = u.Groups
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, body)
		return
	}
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, meJSON{Sub: u.Subject, Name: u.Name, Email: u.Email, Provider: u.Provider, Groups: groups})
}

// tokenJSON is the body of GET /api/token: when the access token expires,
// never the token itself.
type tokenJSON struct {
	ExpiresAt string `json:"expiresAt"` // RFC 3339, UTC
}

// apiToken serves GET /api/token behind RequireAuth(API). It gets the
// provider access token through accessToken (auth.AccessTokenWithExpiry), refreshed
// when it is about to expire, as a handler that calls a provider API would,
// and answers:
//
//   - 200 {"expiresAt": RFC 3339} without the token;
//   - 401 when signed out, or when the provider refused the refresh and the
//     session ended (ginauth.ErrSessionEnded: ginauth has cleared the
//     cookies; the client signs in again);
//   - 503 when the provider or the session store is unavailable: the
//     session stays, and a later request retries;
//   - 500 otherwise.
//
// When the provider gave no lifetime, expiresAt is the session's end.
func apiToken(accessToken func(*gin.Context) (string, time.Time, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		_, expiry, err := accessToken(c)
		switch {
		case err == nil:
		case errors.Is(err, ginauth.ErrNotSignedIn), errors.Is(err, ginauth.ErrSessionEnded):
			c.Header("WWW-Authenticate", `Cookie realm="ginauth"`)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthenticated"})
			return
		case errors.Is(err, ginauth.ErrProviderUnavailable):
			c.Header("Retry-After", "5")
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "provider_unavailable"})
			return
		case errors.Is(err, ginauth.ErrStoreUnavailable):
			c.Header("Retry-After", "5")
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "session_store_unavailable"})
			return
		default:
			_ = c.Error(err)
			c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal"})
			return
		}
		if expiry.IsZero() {
			s, ok := ginauth.SessionFrom(c)
			if !ok { // only without RequireAuth in front
				c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthenticated"})
				return
			}
			expiry = s.ExpiresAt()
		}
		c.JSON(http.StatusOK, tokenJSON{ExpiresAt: expiry.UTC().Format(time.RFC3339)})
	}
}

// healthz reports that the process serves requests.
func healthz(c *gin.Context) {
	c.String(http.StatusOK, "ok")
}
