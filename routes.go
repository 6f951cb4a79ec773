package ginauth

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// routes mounts the handlers on g. A sub-group carries the auth routes'
// headers, so the caller's group is left untouched.
func (a *Auth) routes(g *gin.RouterGroup) {
	h := g.Group("", authHeaders)
	h.GET("/signin", a.handleSignInPage)
	h.GET("/signin/:provider", a.handleSignInGet)
	h.POST("/signin/:provider", a.handleSignInPost)
	h.GET("/callback/:provider", a.handleCallback)
	h.POST("/callback/:provider", a.handleCallback)
	h.GET("/signout", a.handleSignOutPage)
	h.POST("/signout", a.handleSignOutPost)
	h.GET("/signout/complete", a.handleSignOutComplete)
	h.GET("/session", a.handleSession)
	h.GET("/csrf", a.handleCSRF)
	h.GET("/providers", a.handleProviders)
	h.POST("/backchannel-logout/:provider", a.handleBackChannelLogout)
	g.GET("/client.js", a.handleClientScript)
}

// authHeaders: nothing an auth route answers may be cached, and no URL of
// theirs (which may hold a code or state) may leak through Referer.
func authHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.Header("Referrer-Policy", "no-referrer")
	c.Next()
}

func (a *Auth) providerInfos() []ProviderInfo {
	out := make([]ProviderInfo, 0, len(a.ordered))
	for _, p := range a.ordered {
		out = append(out, ProviderInfo{Name: p.Name(), DisplayName: p.DisplayName(), SignInURL: a.url("/signin/" + p.Name())})
	}
	return out
}

func (a *Auth) handleSignInPage(c *gin.Context) {
	target, _ := a.redirects.Resolve(c.Query("callbackUrl"))
	a.page(c, Page{
		Kind:        PageSignIn,
		Providers:   a.providerInfos(),
		CSRFToken:   a.CSRFToken(c),
		CallbackURL: target,
		ErrorCode:   c.Query("error"),
	})
}

// handleSignInGet starts a flow from a link. It takes no state from the
// caller: every value of the flow is generated here.
func (a *Auth) handleSignInGet(c *gin.Context) {
	if len(c.Request.URL.RawQuery) > maxQueryBytes {
		a.signInFailed(c, errTooLarge, false)
		return
	}
	_ = a.SignIn(c, c.Param("provider"), c.Query("callbackUrl"))
}

// handleSignInPost starts a flow from a form or from JSON; it needs the CSRF
// token. A JSON request gets {"url": ...} instead of a redirect.
func (a *Auth) handleSignInPost(c *gin.Context) {
	params, err := readPost(c)
	if err == nil {
		err = a.CheckCSRF(c, params.CSRFToken)
	}
	if err != nil {
		a.signInFailed(c, err, params.JSON)
		return
	}
	authURL, err := a.beginSignIn(c, c.Param("provider"), params.CallbackURL)
	if err != nil {
		a.signInFailed(c, err, params.JSON)
		return
	}
	if params.JSON {
		c.JSON(http.StatusOK, gin.H{"url": authURL})
		return
	}
	c.Redirect(http.StatusSeeOther, authURL)
}

// handleSignOutPage shows a confirmation form: a GET never signs out.
func (a *Auth) handleSignOutPage(c *gin.Context) {
	target, _ := a.redirects.Resolve(c.Query("callbackUrl"))
	p := Page{Kind: PageSignOut, CSRFToken: a.CSRFToken(c), CallbackURL: target, FormAction: a.url("/signout")}
	if l, _ := a.loadSession(c, false); l != nil {
		u := l.User
		p.User = &u
	}
	a.page(c, p)
}

func (a *Auth) handleSignOutPost(c *gin.Context) {
	params, err := readPost(c)
	if err == nil {
		err = a.CheckCSRF(c, params.CSRFToken)
	}
	if err != nil {
		status, code := http.StatusForbidden, "csrf"
		var vars []string
		var mismatch *originMismatchError
		switch {
		case errors.As(err, &mismatch):
			code, vars = "origin_mismatch", mismatch.textVars()
		case errors.Is(err, ErrStoreUnavailable):
			status, code = http.StatusServiceUnavailable, "session_store_unavailable"
		case errors.Is(err, errTooLarge):
			status, code = http.StatusRequestEntityTooLarge, "bad_request"
		case !errors.Is(err, ErrCSRF):
			status, code = http.StatusBadRequest, "bad_request"
		}
		if params.JSON {
			c.AbortWithStatusJSON(status, gin.H{"error": code})
			return
		}
		a.page(c, Page{Kind: PageError, Status: status, ErrorCode: code, textVars: vars})
		return
	}
	target, err := a.signOut(c, SignOut{RevokeToken: params.RevokeToken, CallbackURL: params.CallbackURL})
	if err != nil {
		if params.JSON {
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "session_store_unavailable"})
			return
		}
		a.page(c, Page{Kind: PageError, Status: http.StatusServiceUnavailable, ErrorCode: "session_store_unavailable"})
		return
	}
	if params.JSON {
		c.JSON(http.StatusOK, gin.H{"url": target})
		return
	}
	c.Redirect(http.StatusSeeOther, target)
}

// sessionView is the JSON of GET <group>/session. It never holds tokens.
type sessionView struct {
	User      User      `json:"user"`
	Provider  string    `json:"provider"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (a *Auth) handleSession(c *gin.Context) {
	l, err := a.loadSession(c, true)
	if err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"error": "session_store_unavailable"})
		return
	}
	if l == nil {
		c.JSON(http.StatusOK, nil)
		return
	}
	c.JSON(http.StatusOK, sessionView{User: l.User, Provider: l.Provider, ExpiresAt: l.ExpiresAt().UTC()})
}

func (a *Auth) handleCSRF(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"csrfToken": a.CSRFToken(c)})
}

func (a *Auth) handleProviders(c *gin.Context) {
	c.JSON(http.StatusOK, a.providerInfos())
}
