package ginauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
)

// SignOut describes a sign-out, like the arguments of Light-Auth's
// signOut(revokeToken, callbackUrl).
type SignOut struct {
	// RevokeToken also revokes the provider's tokens (RFC 7009) when the
	// provider has a revocation endpoint. A failed revocation never stops
	// the local sign-out.
	RevokeToken bool
	// CallbackURL is where the browser goes afterwards; default (and
	// fallback for an unacceptable value) BaseURL's path followed by "/".
	CallbackURL string
}

// SignOut ends the request's session (store entry and cookies) and answers
// with a redirect (303 after a POST) to so.CallbackURL, or — for a provider
// set to end its own session (OIDCConfig.EndSession) — to the provider's
// end-session endpoint, which returns the browser to <group>/signout/complete
// and from there to so.CallbackURL. Call it from a POST handler after
// CheckCSRF: a GET must never sign anyone out.
//
// When a server-side store cannot be reached, the browser's cookies are
// still cleared, but the session may survive in the store: SignOut then
// answers 503 and returns an error wrapping ErrStoreUnavailable, instead of
// pretending the sign-out is complete.
func (a *Auth) SignOut(c *gin.Context, so SignOut) error {
	target, err := a.signOut(c, so)
	if err != nil {
		a.page(c, Page{Kind: PageError, Status: http.StatusServiceUnavailable, ErrorCode: "session_store_unavailable"})
		return err
	}
	c.Redirect(redirectStatus(c), target)
	return nil
}

// FlowTTL also bounds a provider logout round trip.
const logoutTTL = FlowTTL

// logoutState is kept in a sealed cookie while the browser visits the
// provider's end-session endpoint.
type logoutState struct {
	State    string `json:"s"`
	Callback string `json:"c"`
	Expires  int64  `json:"e"`
}

// signOut ends the session and returns where the browser goes next. The
// browser's cookies are cleared in every case; the error reports a session
// the store could not delete.
func (a *Auth) signOut(c *gin.Context, so SignOut) (string, error) {
	target, _ := a.redirects.Resolve(so.CallbackURL)
	l, err := a.loadSession(c, false)
	if l == nil {
		a.cookies.clearSession(c.Writer, c.Request)
		if err != nil {
			a.warn.Warn("ginauth: sign-out could not reach the session store", "err", err)
		}
		return target, err
	}
	// The sign-out completes even when the browser goes away meanwhile;
	// the store and the provider timeouts bound it.
	ctx := context.WithoutCancel(c.Request.Context())
	endURL := a.providerLogoutURL(c, l, target)
	// Local sign-out first: a slow or failing revocation must not keep
	// the session alive.
	a.revokeSessionID(l)
	a.cookies.clearSession(c.Writer, c.Request)
	if l.token == nil {
		// Cookie sessions: the revocation above is the server-side end.
	} else if err := a.store.Delete(ctx, l.token); err != nil {
		a.warn.Warn("ginauth: sign-out could not delete the session from the store", "err", err)
		return target, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	emit(a, c.Request.Context(), "signed_out", a.events.SignedOut, SignedOutEvent{
		Time: a.now(), Reason: SignOutByUser, Provider: l.Provider, Issuer: l.User.Issuer,
		Subject: l.User.Subject, SessionID: l.ID, SID: l.SID,
	})
	if so.RevokeToken {
		a.revoke(ctx, l)
	}
	if endURL != "" {
		return endURL, nil
	}
	return target, nil
}

// providerLogoutURL prepares RP-initiated logout when l's provider is set
// for it: it returns the end-session URL and keeps state and target in a
// sealed cookie. It returns "" otherwise, or when the provider is
// unavailable (the local sign-out must not wait for it).
func (a *Auth) providerLogoutURL(c *gin.Context, l *loaded, target string) string {
	p, ok := a.providers[l.Provider].(providers.EndSessioner)
	if !ok {
		return ""
	}
	var hint string
	if tok, err := a.tokensOf(l); err == nil {
		hint = tok.IDToken
	}
	st := logoutState{State: randomString(), Callback: target, Expires: a.now().Add(logoutTTL).Unix()}
	endURL, err := p.EndSessionURL(c.Request.Context(), hint, a.url("/signout/complete"), st.State)
	if err != nil {
		a.warn.Warn("ginauth: provider logout skipped", "provider", l.Provider, "err", err)
		return ""
	}
	if endURL == "" {
		return ""
	}
	plain, _ := json.Marshal(st)
	a.cookies.set(c.Writer, a.cookies.logout, a.logoutSeal.Seal(plain, []byte(a.cookies.logout)), int(logoutTTL/time.Second), http.SameSiteLaxMode)
	return endURL
}

// handleSignOutComplete is the registered post_logout_redirect_uri: with the
// state this browser was sent out with, it lands on the stored callbackUrl;
// with a missing or different state, on the default page (never an error
// loop, never a target taken from the request).
func (a *Auth) handleSignOutComplete(c *gin.Context) {
	target := a.redirects.Default()
	if value, ok := readCookie(c.Request, a.cookies.logout); ok {
		a.cookies.set(c.Writer, a.cookies.logout, "", -1, http.SameSiteLaxMode)
		var st logoutState
		state := c.Query("state")
		if plain, err := a.logoutSeal.Open(value, []byte(a.cookies.logout)); err == nil &&
			json.Unmarshal(plain, &st) == nil && state != "" &&
			subtle.ConstantTimeCompare([]byte(st.State), []byte(state)) == 1 && a.now().Unix() < st.Expires {
			if t, ok := a.redirects.Resolve(st.Callback); ok {
				target = t
			}
		}
	}
	c.Redirect(http.StatusSeeOther, target)
}
