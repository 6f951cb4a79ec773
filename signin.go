package ginauth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/oautherr"
	"github.com/ginauth/ginauth/providers"
)

// SignIn starts signing the user in with the named provider, like
// Light-Auth's signIn(providerName, callbackUrl): it answers with a redirect
// to the provider (302, or 303 for a POST) and, once the user is back,
// ginauth redirects to callbackURL. An unacceptable callbackURL (see
// Config.AllowedRedirectHosts and Config.BaseURL) falls back to BaseURL's
// path followed by "/": "/", or "/app/" under a path prefix. Call it from
// any handler; when that handler serves a POST, check the request with
// CheckCSRF first.
func (a *Auth) SignIn(c *gin.Context, provider, callbackURL string) error {
	authURL, err := a.beginSignIn(c, provider, callbackURL)
	if err != nil {
		a.signInFailed(c, err, false)
		return err
	}
	c.Redirect(redirectStatus(c), authURL)
	return nil
}

// beginSignIn creates a flow and returns the authorization request URL.
func (a *Auth) beginSignIn(c *gin.Context, name, callbackURL string) (string, error) {
	p, ok := a.providers[name]
	if !ok {
		return "", errfmt.Errorf("%w: %q", ErrUnknownProvider, name)
	}
	target, _ := a.redirects.Resolve(callbackURL) // at most maxLength of input
	if len(target) > maxCallbackURLBytes {
		target = a.redirects.Default() // its normalized form grew too long
	}
	// Same-origin targets are kept as paths: the flow cookie stays small.
	if rest, ok := strings.CutPrefix(target, a.origin); ok && strings.HasPrefix(rest, "/") {
		target = rest
	}
	f := &flowState{
		State:    randomString(),
		Verifier: randomString(),
		Nonce:    randomString(),
		Provider: name,
		Issuer:   p.Issuer(),
		Callback: target,
		Expires:  a.now().Add(FlowTTL).Unix(),
	}
	if fp, ok := p.(providers.FormPoster); ok {
		f.FormPost = fp.UsesFormPost()
	}
	authURL, err := p.AuthCodeURL(c.Request.Context(), providers.AuthRequest{
		RedirectURI:   a.redirectURI(name),
		State:         f.State,
		Nonce:         f.Nonce,
		CodeChallenge: oauth2.S256ChallengeFromVerifier(f.Verifier),
	})
	if err != nil {
		return "", err
	}
	if err := a.flows.write(c.Writer, c.Request, f); err != nil {
		return "", err
	}
	return authURL, nil
}

// signInFailed answers a failed sign-in start.
func (a *Auth) signInFailed(c *gin.Context, err error, asJSON bool) {
	status, code := http.StatusServiceUnavailable, "provider_unavailable"
	var vars []string
	var mismatch *originMismatchError
	switch {
	case errors.As(err, &mismatch):
		status, code, vars = http.StatusForbidden, "origin_mismatch", mismatch.textVars()
	case errors.Is(err, ErrUnknownProvider):
		status, code = http.StatusNotFound, "unknown_provider"
	case errors.Is(err, providers.ErrMisconfigured):
		code = "provider_misconfigured"
		a.warn.Warn("ginauth: sign-in could not start: the provider is misconfigured (Auth.CheckProviders says how to fix it)", "err", err)
	case errors.Is(err, ErrCSRF):
		status, code = http.StatusForbidden, "csrf"
	case errors.Is(err, ErrStoreUnavailable):
		status, code = http.StatusServiceUnavailable, "session_store_unavailable"
	case errors.Is(err, errTooLarge):
		status, code = http.StatusRequestEntityTooLarge, "bad_request"
	case errors.Is(err, ErrInvalidCallback):
		status, code = http.StatusBadRequest, "bad_request"
	default:
		a.warn.Warn("ginauth: sign-in could not start", "err", err)
	}
	if asJSON {
		c.Header("Cache-Control", "no-store")
		c.AbortWithStatusJSON(status, gin.H{"error": code})
		return
	}
	a.page(c, Page{Kind: PageError, Status: status, ErrorCode: code, textVars: vars})
	c.Abort()
}

// handleCallback finishes the flow at <group>/callback/:provider.
func (a *Auth) handleCallback(c *gin.Context) {
	name := c.Param("provider")
	p, ok := a.providers[name]
	if !ok {
		a.page(c, Page{Kind: PageError, Status: http.StatusNotFound, ErrorCode: "unknown_provider"})
		return
	}
	params, err := readCallback(c)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		// The response cannot be matched to one flow: consume every flow
		// the browser carries, so none can be retried.
		a.flows.discard(c.Writer, c.Request, "")
		a.page(c, Page{Kind: PageError, Status: status, ErrorCode: "invalid_callback"})
		return
	}
	if params.state == "" {
		a.flows.discard(c.Writer, c.Request, "")
		a.callbackFailed(c, name, "invalid_state", ErrInvalidState)
		return
	}
	f, err := a.flows.take(c.Writer, c.Request, params.state)
	if err != nil {
		// The flow cannot be made single-use: refuse it (fail closed).
		a.callbackFailed(c, name, "busy", err)
		return
	}
	if f == nil || f.Provider != name || f.Issuer != p.Issuer() {
		// An unknown or misdirected state: the browser's other pending
		// flows are consumed too (the reject consumes the flow state).
		a.flows.discard(c.Writer, c.Request, a.flows.cookieName(params.state))
		a.callbackFailed(c, name, "invalid_state", ErrInvalidState)
		return
	}
	if params.errCode != "" {
		// RFC 9207 §2.4: an error response is only trusted when its iss
		// names this provider.
		if ic, ok := p.(providers.AuthorizationIssChecker); ok {
			if err := ic.CheckAuthorizationIss(c.Request.Context(), params.iss, params.issPresent); err != nil {
				a.callbackFailed(c, name, exchangeErrorCode(err), err)
				return
			}
		}
		code := "provider_error"
		switch {
		case params.errCode == "access_denied":
			code = "access_denied"
		case params.errCode == "temporarily_unavailable", params.errCode == "server_error":
			code = "provider_unavailable"
		case oautherr.ClientConfig(params.errCode):
			code = "provider_misconfigured"
		}
		// The provider's error and description go to the log, escaped
		// and capped; the page shows only the fixed code's text.
		err := errfmt.Errorf("%w: error %q", ErrProviderDenied, oautherr.Code(params.errCode))
		if params.errDescription != "" {
			err = errfmt.Errorf("%w, error_description %q", err, params.errDescription)
		}
		a.callbackFailed(c, name, code, err)
		return
	}
	if params.code == "" {
		a.callbackFailed(c, name, "invalid_callback", ErrInvalidCallback)
		return
	}
	id, err := p.Exchange(c.Request.Context(), providers.AuthResponse{
		RedirectURI:  a.redirectURI(name),
		Code:         params.code,
		Iss:          params.iss,
		IssPresent:   params.issPresent,
		CodeVerifier: f.Verifier,
		Nonce:        f.Nonce,
		Extra:        params.extra,
	})
	if errors.Is(err, providers.ErrClaimRejected) {
		// A "who may sign in" refusal by the provider (e.g. GitHub's
		// AllowedOrgs): the same 403 access-denied answer as SignInHook's.
		a.warn.Warn("ginauth: sign-in failed", "provider", name, "error_code", "not_allowed", "err", err)
		emit(a, c.Request.Context(), "sign_in_refused", a.events.SignInRefused,
			SignInRefusedEvent{Time: a.now(), Provider: name, Rule: RefusedByProvider})
		a.accessDenied(c, "")
		return
	}
	if err != nil {
		a.callbackFailed(c, name, exchangeErrorCode(err), err)
		return
	}
	decision, ok := a.checkSignIn(c, name, id)
	if !ok {
		return
	}
	l, err := a.startSession(c, name, id, decision.data)
	if err != nil {
		code := "session_store_unavailable"
		if errors.Is(err, ErrSessionTooLarge) {
			code = "session_too_large"
		}
		a.callbackFailed(c, name, code, err)
		return
	}
	emit(a, c.Request.Context(), "signed_in", a.events.SignedIn, SignedInEvent{
		Time: a.now(), Provider: name, Issuer: l.User.Issuer, Subject: l.User.Subject,
		SessionID: l.ID, SID: l.SID, FirstSignIn: decision.first,
	})
	target, ok := a.redirects.Resolve(f.Callback)
	if !ok {
		target = a.redirects.Default()
	}
	c.Redirect(redirectStatus(c), target)
}

func exchangeErrorCode(err error) string {
	switch {
	case errors.Is(err, providers.ErrMisconfigured):
		return "provider_misconfigured"
	case errors.Is(err, providers.ErrIssuerMismatch):
		return "issuer_mismatch"
	case errors.Is(err, providers.ErrUnavailable):
		return "provider_unavailable"
	case errors.Is(err, providers.ErrTokenExchange):
		return "token_exchange"
	case errors.Is(err, providers.ErrClaimRejected):
		return "not_allowed"
	case errors.Is(err, providers.ErrUserInfo):
		return "invalid_user_info"
	}
	return "invalid_id_token"
}

// callbackFailed logs a failed callback (without any token, code or
// provider text) and redirects to the sign-in page with a fixed error code.
func (a *Auth) callbackFailed(c *gin.Context, provider, code string, err error) {
	a.warn.Warn("ginauth: sign-in failed", "provider", provider, "error_code", code, "err", err)
	c.Redirect(redirectStatus(c), a.url("/signin")+"?error="+url.QueryEscape(code))
}

// redirectStatus is 303 after a POST and 302 otherwise; never 307.
func redirectStatus(c *gin.Context) int {
	if c.Request.Method == http.MethodPost {
		return http.StatusSeeOther
	}
	return http.StatusFound
}
