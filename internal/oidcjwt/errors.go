// Package oidcjwt verifies OpenID Connect ID tokens and back-channel logout
// tokens: go-oidc's verifier over a RemoteKeySet (the provider's JWKS, cached
// and checked by ginauth), then ginauth's stricter claim checks
// (VerifyIDToken, VerifyLogoutToken).
//
// Every token error wraps ErrInvalidToken and one more specific sentinel, so
// both can be tested with errors.Is. ErrKeysUnavailable is the exception: it
// reports that the provider could not be reached, not that the token is bad.
package oidcjwt

import (
	"errors"
	"fmt"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// Errors returned by RemoteKeySet.Verify and ValidateIDToken.
var (
	// ErrInvalidToken is the parent of every token error below.
	ErrInvalidToken = errors.New("ginauth: invalid token")
	// ErrMalformed: not a compact JWS (exactly two '.'), too long, bad
	// base64url or JSON, or a claim of the wrong type where no more specific
	// error applies.
	ErrMalformed = errors.New("ginauth: malformed token")
	// ErrSignature: bad signature, algorithm outside the allow-list (alg
	// "none" and HS* always are), unknown kid after a refetch, no suitable key,
	// or an ambiguous key. Each of these also matches one of the four more
	// specific errors below, which all wrap ErrSignature.
	ErrSignature = errors.New("ginauth: token signature invalid")
	// ErrAlgorithm: the header's alg is outside the allow-list (alg "none"
	// and HS* always are), or no acceptable algorithm is configured.
	ErrAlgorithm error = &refinedError{"ginauth: token algorithm not allowed", ErrSignature}
	// ErrUnknownKey: no JWKS key has the token's kid (after the refetch the
	// rate limit allows), or the token has no kid and no key suits its alg.
	ErrUnknownKey error = &refinedError{"ginauth: token key unknown", ErrSignature}
	// ErrKeyMismatch: the key with the token's kid does not suit its alg
	// (type, "alg" or "use" differ), or several keys share that kid.
	ErrKeyMismatch error = &refinedError{"ginauth: token key unusable", ErrSignature}
	// ErrBadSignature: the signature does not verify with the token's key
	// (or, without kid, with any suitable key).
	ErrBadSignature error = &refinedError{"ginauth: token signature does not verify", ErrSignature}
	// ErrIssuer: iss missing, not a string or not exactly the expected issuer.
	ErrIssuer = errors.New("ginauth: token issuer mismatch")
	// ErrAudience: aud missing, wrong, of the wrong type or with extra
	// audiences; or azp present and not the client ID.
	ErrAudience = errors.New("ginauth: token audience mismatch")
	// ErrExpired: exp missing, not a number or past; also nbf in the future
	// or not a number.
	ErrExpired = errors.New("ginauth: token expired")
	// ErrIssuedAt: iat missing, not a number, in the future or too old.
	ErrIssuedAt = errors.New("ginauth: token iat out of range")
	// ErrNonce: nonce missing, of the wrong type or different from the
	// expected one (or present when it must be absent).
	ErrNonce = errors.New("ginauth: token nonce mismatch")
	// ErrSubject: sub missing, empty or not a string.
	ErrSubject = errors.New("ginauth: token subject missing")
	// ErrClientID: an access token's client_id missing, empty or not a
	// string (RFC 9068 §2.2 requires it).
	ErrClientID = errors.New("ginauth: token client_id missing")
	// ErrUnsupportedHeader: the JOSE header uses an extension ginauth does
	// not implement: any "crit" member (even an empty list, which RFC 7515
	// §4.1.11 forbids) or a "b64" member (RFC 7797).
	ErrUnsupportedHeader = errors.New("ginauth: unsupported token header")
	// ErrTokenType: the token is of another kind than the one expected: a
	// logout token whose typ is not logout+jwt, an access token whose typ is
	// not at+jwt, or an ID token carrying the
	// back-channel logout "events" claim.
	ErrTokenType = errors.New("ginauth: wrong kind of token")
	// ErrKeysUnavailable: the JWKS could not be fetched and no cached key
	// could be used. Not wrapped in ErrInvalidToken.
	ErrKeysUnavailable = errors.New("ginauth: provider keys unavailable")
)

// refinedError is a sentinel that narrows a broader one: errors.Is matches
// both.
type refinedError struct {
	msg    string
	parent error
}

func (e *refinedError) Error() string { return e.msg }
func (e *refinedError) Unwrap() error { return e.parent }

// tokenError returns an error matching both ErrInvalidToken and kind.
func tokenError(kind error, format string, args ...any) error {
	return errfmt.Errorf("%w: %w: %s", ErrInvalidToken, kind, fmt.Sprintf(format, args...))
}
