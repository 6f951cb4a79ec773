package ginauth

import (
	"github.com/gin-gonic/gin"
)

// SignOut describes a sign-out, like the arguments of Light-Auth's
// signOut(revokeToken, callbackUrl).
type SignOut struct {
	// RevokeToken also revokes the provider's tokens (RFC 7009) when the
	// provider has a revocation endpoint. A failed revocation never stops
	// the local sign-out.
	RevokeToken bool
	// CallbackURL is where the browser goes afterwards; default "/".
	CallbackURL string
}

// SignOut ends the request's session (store entry and cookies) and answers
// with a redirect (303 after a POST) to so.CallbackURL. Call it from a POST
// handler after CheckCSRF: a GET must never sign anyone out.
func (a *Auth) SignOut(c *gin.Context, so SignOut) error {
	target := a.signOut(c, so)
	c.Redirect(redirectStatus(c), target)
	return nil
}

// signOut ends the session and returns the validated target URL.
func (a *Auth) signOut(c *gin.Context, so SignOut) string {
	if l, _ := a.loadSession(c, false); l != nil {
		if so.RevokeToken {
			a.revoke(c, l)
		}
		a.deleteStored(c.Request.Context(), l.token)
	}
	a.cookies.clearSession(c.Writer, c.Request)
	target, _ := a.redirects.Resolve(so.CallbackURL)
	return target
}
