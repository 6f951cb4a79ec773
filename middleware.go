package ginauth

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// Mode says how RequireAuth answers a request without a valid session.
type Mode int

const (
	// Browser redirects (302) to the sign-in page, carrying the original
	// path as callbackUrl.
	Browser Mode = iota + 1
	// API answers 401 with a JSON body {"error": "unauthenticated"} and a
	// WWW-Authenticate header.
	API
)

// RequireAuth returns middleware that lets a request through only with a
// valid session, which handlers then read with UserFrom. A store failure
// answers 503 and never lets the request through. With AcceptBearer, an
// API also accepts bearer access tokens (see AcceptBearer). It panics if
// mode is not Browser or API, or on an invalid option (a programming error,
// caught at start-up).
func (a *Auth) RequireAuth(mode Mode, opts ...RequireOption) gin.HandlerFunc {
	if mode != Browser && mode != API {
		panic(fmt.Sprintf("ginauth: RequireAuth: invalid mode %d", mode))
	}
	audience := ""
	for _, o := range opts {
		switch o := o.(type) {
		case acceptBearer:
			if o.audience == "" {
				panic("ginauth: RequireAuth: AcceptBearer needs an audience")
			}
			if mode != API {
				panic("ginauth: RequireAuth: AcceptBearer needs the API mode")
			}
			if audience != "" {
				panic("ginauth: RequireAuth: AcceptBearer given twice")
			}
			audience = o.audience
		default:
			panic("ginauth: RequireAuth: nil option")
		}
	}
	return func(c *gin.Context) {
		if audience != "" {
			if _, sent := c.Request.Header["Authorization"]; sent {
				a.serveBearer(c, audience)
				return
			}
		}
		l, err := a.loadSession(c, true)
		if err != nil {
			a.warn.Warn("ginauth: session store failed", "err", err)
			a.abort(c, mode, http.StatusServiceUnavailable, "session_store_unavailable")
			return
		}
		if l == nil {
			if audience != "" {
				// RFC 6750 §3: a request without credentials is told
				// that bearer tokens are accepted, with no error code.
				c.Writer.Header().Add("WWW-Authenticate", `Bearer realm="ginauth"`)
			}
			a.unauthenticated(c, mode)
			return
		}
		l.mode, l.auth = mode, a
		attach(c, l)
		c.Next()
	}
}

// unauthenticated answers a request without a valid session: 401 JSON with
// WWW-Authenticate in API mode, a 302 to the sign-in page carrying the
// original path as callbackUrl in browser mode.
func (a *Auth) unauthenticated(c *gin.Context, mode Mode) {
	if mode == API {
		c.Writer.Header().Add("WWW-Authenticate", `Cookie realm="ginauth"`)
		a.abort(c, mode, http.StatusUnauthorized, "unauthenticated")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, a.url("/signin")+"?callbackUrl="+url.QueryEscape(c.Request.URL.RequestURI()))
	c.Abort()
}

// AbortUnauthenticated ends the request as RequireAuth does for a request
// without a session, in the mode of the RequireAuth in front of the handler
// (API when there is none): 401 JSON for APIs, a redirect to the sign-in page
// for browsers. Use it when AccessToken reports ErrSessionEnded or
// ErrNotSignedIn.
func (a *Auth) AbortUnauthenticated(c *gin.Context) {
	mode := API
	// The request context keeps the session RequireAuth attached, even
	// after AccessToken ended it.
	if l := loadedFromContext(c.Request.Context()); l != nil && l.mode != 0 {
		mode = l.mode
	}
	if bearerFrom(c) != nil {
		c.Header("Cache-Control", "no-store")
		c.Header("WWW-Authenticate", `Bearer realm="ginauth", error="invalid_token"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid_token"})
		return
	}
	a.unauthenticated(c, mode)
}

// LoadSession returns middleware that attaches the session when the request
// has a valid one and lets every request through, for pages that show
// something different to signed-in users. A store failure answers 503.
func (a *Auth) LoadSession() gin.HandlerFunc {
	return func(c *gin.Context) {
		l, err := a.loadSession(c, true)
		if err != nil {
			a.warn.Warn("ginauth: session store failed", "err", err)
			a.abort(c, Browser, http.StatusServiceUnavailable, "session_store_unavailable")
			return
		}
		if l != nil {
			l.mode, l.auth = Browser, a
			attach(c, l)
		}
		c.Next()
	}
}

// abort ends the request with status: JSON in API mode, a page otherwise.
func (a *Auth) abort(c *gin.Context, mode Mode, status int, code string) {
	c.Header("Cache-Control", "no-store")
	if mode == API {
		c.AbortWithStatusJSON(status, gin.H{"error": code})
		return
	}
	kind := PageError
	if code == "forbidden" {
		kind = PageForbidden
	}
	a.page(c, Page{Kind: kind, Status: status, ErrorCode: code})
	c.Abort()
}

// RequireClaim returns middleware, for use after RequireAuth, that answers
// 403 unless the user's claim name holds one of values. The claim may be a
// string or a list of strings (such as groups). It panics if name or values
// are empty (a programming error, caught at start-up).
func RequireClaim(name string, values ...string) gin.HandlerFunc {
	if name == "" || len(values) == 0 {
		panic("ginauth: RequireClaim needs a claim name and at least one value")
	}
	allowed := make(map[string]struct{}, len(values))
	for _, v := range values {
		allowed[v] = struct{}{}
	}
	var presence claimPresence // per guard: warn once when no user has the claim
	return func(c *gin.Context) {
		if b := bearerFrom(c); b != nil {
			if !hasClaim(&b.User, name, allowed) {
				c.Header("Cache-Control", "no-store")
				c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "forbidden"})
				return
			}
			c.Next()
			return
		}
		l := loadedFrom(c)
		if l == nil {
			c.Header("Cache-Control", "no-store")
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthenticated"})
			return
		}
		if !hasClaim(&l.User, name, allowed) {
			presence.refused(l, name)
			l.auth.abort(c, l.mode, http.StatusForbidden, "forbidden")
			return
		}
		presence.seen()
		c.Next()
	}
}

func hasClaim(u *User, name string, allowed map[string]struct{}) bool {
	var vals []string
	if name == "groups" {
		vals = u.Groups
	} else {
		v, _ := u.Claim(name)
		vals = stringList(v)
	}
	for _, v := range vals {
		if _, ok := allowed[v]; ok {
			return true
		}
	}
	return false
}
