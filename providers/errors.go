package providers

import (
	"errors"

	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/internal/safehttp"
)

// Configuration errors, returned by the constructors.
var (
	// ErrInvalidConfig reports a provider configuration mistake.
	ErrInvalidConfig = errors.New("ginauth: invalid provider config")
)

// Errors of a sign-in attempt. All are returned wrapped with detail; test them
// with errors.Is.
var (
	// ErrUnavailable: the provider's metadata or keys could not be fetched, or
	// it answered with an unusable response. Nothing was trusted.
	ErrUnavailable = errors.New("ginauth: provider unavailable")
	// ErrIssuerMismatch: discovery named another issuer, or the RFC 9207 iss
	// parameter of the authorization response is wrong or missing.
	ErrIssuerMismatch = errors.New("ginauth: issuer mismatch")
	// ErrTokenExchange: the token endpoint refused the code or the client.
	ErrTokenExchange = errors.New("ginauth: token exchange failed")
	// ErrMissingIDToken: the token response carried no id_token.
	ErrMissingIDToken = errors.New("ginauth: token response without id_token")
	// ErrUserInfo: the UserInfo response was unusable or named another subject.
	ErrUserInfo = errors.New("ginauth: userinfo rejected")
	// ErrClaimRejected: a provider-specific claim check failed (for example
	// Google's hosted domain).
	ErrClaimRejected = errors.New("ginauth: claim rejected")
	// ErrMisconfigured: the failure is a configuration mistake that only
	// the site's administrators can fix, not a passing outage: discovery
	// names another issuer than the configured one, or the token endpoint
	// refused the client itself (invalid_client: a wrong client ID or
	// secret; unauthorized_client; GitHub's incorrect_client_credentials
	// and redirect_uri_mismatch). It is wrapped together with the error of
	// the failure (ErrIssuerMismatch, ErrTokenExchange).
	ErrMisconfigured = errors.New("ginauth: provider misconfigured")

	// ErrInvalidToken is the parent of every ID token validation error below.
	ErrInvalidToken = oidcjwt.ErrInvalidToken
	// ErrTokenMalformed: not a compact JWS, or too large.
	ErrTokenMalformed = oidcjwt.ErrMalformed
	// ErrTokenSignature: bad signature, an algorithm outside the allow-list, or an unknown key.
	ErrTokenSignature = oidcjwt.ErrSignature
	// ErrTokenIssuer: iss is not exactly the configured issuer.
	ErrTokenIssuer = oidcjwt.ErrIssuer
	// ErrTokenAudience: aud is not exactly the client ID, or azp differs.
	ErrTokenAudience = oidcjwt.ErrAudience
	// ErrTokenExpired: exp is missing, malformed or past.
	ErrTokenExpired = oidcjwt.ErrExpired
	// ErrTokenIssuedAt: iat is missing, in the future or too old.
	ErrTokenIssuedAt = oidcjwt.ErrIssuedAt
	// ErrTokenNonce: nonce is missing or differs from the one sent.
	ErrTokenNonce = oidcjwt.ErrNonce
	// ErrTokenSubject: sub is missing or empty.
	ErrTokenSubject = oidcjwt.ErrSubject
	// ErrTokenType: a logout token whose typ is not logout+jwt, an access
	// token whose typ is not at+jwt, or an ID
	// token carrying the back-channel logout events claim.
	ErrTokenType = oidcjwt.ErrTokenType
	// ErrTokenClientID: an access token without a client_id (RFC 9068 §2.2).
	ErrTokenClientID = oidcjwt.ErrClientID
	// ErrTokenHeader: the token's JOSE header uses an extension ginauth does
	// not implement (any crit, or b64).
	ErrTokenHeader = oidcjwt.ErrUnsupportedHeader
	// ErrResponseTooLarge: a provider response exceeded the size cap.
	ErrResponseTooLarge = safehttp.ErrResponseTooLarge
)
