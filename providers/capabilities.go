package providers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ginauth/ginauth/internal/oidcjwt"
)

// A Provider may have optional capabilities, each a small interface that
// ginauth discovers with a type assertion:
//
//   - [Refresher]: refreshes access tokens (Auth.AccessToken).
//   - [Revoker]: revokes tokens at sign-out (RFC 7009).
//   - [EndSessioner]: ends the provider's own session (RP-Initiated Logout).
//   - [LogoutTokenVerifier]: accepts back-channel logout tokens.
//   - [FormPoster]: answers with response_mode=form_post.
//   - [AuthorizationIssChecker]: checks the RFC 9207 iss parameter of
//     authorization responses, error responses included.
//   - [IssuerMatcher]: accepts users of more than one issuer (Microsoft
//     Entra ID's multi-tenant configs).
//   - [AccessTokenVerifier]: verifies JWT access tokens (RFC 9068) for
//     APIs that accept bearer tokens.
//   - [Checker]: checks its configuration against the provider at start-up
//     (Auth.CheckProviders).
//
// A third-party Provider should implement every one that applies: a
// provider that returns iss in its authorization responses but does not
// implement AuthorizationIssChecker has ginauth trust its error responses
// without the mix-up check (the check of successful responses is then up to
// its Exchange).

// FormPoster is implemented by providers that send the authorization
// response as a cross-site form POST (response_mode=form_post). ginauth then
// makes the flow cookie SameSite=None, so that the POST carries it.
type FormPoster interface {
	// UsesFormPost reports whether the provider is set to use form_post.
	UsesFormPost() bool
}

// AuthorizationIssChecker is implemented by providers that apply the
// RFC 9207 checks to the iss parameter of an authorization response.
// ginauth calls it before trusting an error response (RFC 9207 §2.4: an
// error must not be assumed to come from the intended provider); Exchange
// applies the same checks to successful responses.
type AuthorizationIssChecker interface {
	// CheckAuthorizationIss returns an error wrapping ErrIssuerMismatch when
	// iss (present reports whether the parameter was there at all) is not
	// acceptable for this provider.
	CheckAuthorizationIss(ctx context.Context, iss string, present bool) error
}

// IssuerMatcher is implemented by providers whose users' issuer
// (Identity.Issuer, the ID token's iss) may differ from Issuer(): a
// Microsoft multi-tenant config signs users in with their tenant's issuer,
// while Issuer() names the config. ginauth then honours a session, and
// refreshes its tokens, only when AcceptsIssuer(session's issuer) is true;
// without it, the session's issuer must equal Issuer() exactly.
type IssuerMatcher interface {
	// AcceptsIssuer reports whether iss is an issuer of this provider's
	// users. It must be false for anything the provider would not sign in
	// now (a tenant no longer allowed, for example).
	AcceptsIssuer(iss string) bool
}

// AccessTokenVerifier is implemented by providers whose authorization
// server issues JWT access tokens (RFC 9068) that resource servers verify
// with the provider's keys. ginauth picks the provider by the token's iss
// (see TokenIssuer and IssuerMatcher) and calls it for bearer requests.
type AccessTokenVerifier interface {
	// VerifyAccessToken verifies token for audience: the signature with
	// the provider's cached keys and the RFC 9068 rules. Errors wrap
	// ErrInvalidToken and a specific sentinel (ErrTokenType,
	// ErrTokenAudience...), or ErrUnavailable when the keys cannot be had.
	VerifyAccessToken(ctx context.Context, token, audience string) (*AccessToken, error)
}

// AccessToken is a verified JWT access token.
type AccessToken struct {
	Issuer   string
	Subject  string
	ClientID string
	Audience string   // the audience it was verified for
	Scopes   []string // the scope claim, split on spaces
	Expiry   time.Time
	Claims   json.RawMessage // every claim, as verified
}

// TokenIssuer returns the iss claim of a compact JWT without verifying it,
// only to choose the provider that will verify the token.
func TokenIssuer(token string) (string, error) { return oidcjwt.UnverifiedIssuer(token) }

// The OIDC provider has every capability.
var (
	_ Refresher               = (*OIDCProvider)(nil)
	_ Revoker                 = (*OIDCProvider)(nil)
	_ EndSessioner            = (*OIDCProvider)(nil)
	_ LogoutTokenVerifier     = (*OIDCProvider)(nil)
	_ FormPoster              = (*OIDCProvider)(nil)
	_ AuthorizationIssChecker = (*OIDCProvider)(nil)
	_ IssuerMatcher           = (*OIDCProvider)(nil)
	_ AccessTokenVerifier     = (*OIDCProvider)(nil)
	_ Checker                 = (*OIDCProvider)(nil)
)

// The generic OAuth 2.0 provider (and its presets) refreshes, revokes,
// checks its client credentials at start-up and, when configured with an
// expected iss, checks RFC 9207.
var (
	_ Refresher               = (*OAuth2Provider)(nil)
	_ Revoker                 = (*OAuth2Provider)(nil)
	_ AuthorizationIssChecker = (*OAuth2Provider)(nil)
	_ Checker                 = (*OAuth2Provider)(nil)
	_ Provider                = (*GitHubProvider)(nil)
)
