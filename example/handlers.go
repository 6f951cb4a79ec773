package main

import (
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
}

// index is public: it shows sign-in buttons, or the user and a sign-out
// button. It runs after auth.LoadSession, so the CSRF token is bound to the
// current session (if any) as the POST routes expect.
func (h *handlers) index(c *gin.Context) {
	data := pageData{
		Title:       "Home",
		Dev:         h.dev,
		CSRFToken:   h.auth.CSRFToken(c),
		CallbackURL: "/",
	}
	if u, ok := ginauth.UserFrom(c); ok {
		data.User = &u
		data.Action = authPath + "/signout"
	} else {
		data.Providers = h.buttons
	}
	renderPage(c, http.StatusOK, "index", data)
}

// me is browser-protected: signed-out visitors are sent to sign in first.
func (h *handlers) me(c *gin.Context) {
	u, _ := ginauth.UserFrom(c)
	data := pageData{Title: "Me", Dev: h.dev, User: &u}
	if s, ok := ginauth.SessionFrom(c); ok {
		data.ExpiresAt = s.ExpiresAt().UTC().Format(time.RFC1123)
	}
	renderPage(c, http.StatusOK, "me", data)
}

// admin is browser-protected and needs "admin" in the groups claim
// (ginauth.RequireClaim answers 403 otherwise).
func (h *handlers) admin(c *gin.Context) {
	u, _ := ginauth.UserFrom(c)
	renderPage(c, http.StatusOK, "admin", pageData{Title: "Admin", Dev: h.dev, User: &u})
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
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, meJSON{Sub: u.Subject, Name: u.Name, Email: u.Email, Provider: u.Provider, Groups: groups})
}

// healthz reports that the process serves requests.
func healthz(c *gin.Context) {
	c.String(http.StatusOK, "ok")
}
