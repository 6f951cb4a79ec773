package oidcjwt

import (
	"context"
	"errors"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ID tokens and logout tokens are verified in two layers. go-oidc's
// IDTokenVerifier runs first (Verify or VerifyLogout), with a RemoteKeySet
// as its oidc.KeySet: go-oidc parses the token, applies the algorithm
// allow-list, asks the key set for the signature check and checks iss, aud,
// exp and nbf (and, for logout tokens, events, nonce, jti and sub or sid).
// ginauth's own claim checks (ValidateIDToken, ValidateLogoutToken,
// CheckLogoutTokenType) then run on the verified payload: they are stricter
// than go-oidc's (claim types, a single audience, azp, iat window, sub,
// nonce, the events claim as an object...), so a token passes only when
// both layers accept it.
//
// go-oidc reports a KeySet's error as text, which would lose both the reason
// (ErrBadSignature, ErrUnknownKey...) and the difference between a bad token
// and unreachable keys (ErrKeysUnavailable). Each verification therefore
// uses its own keySetCall, which keeps the typed error and the payload of the
// signature check; when go-oidc refuses, the error returned is the most
// specific one ginauth can name (see explain).

// keySetCall adapts a RemoteKeySet to oidc.KeySet for one verification: it
// records the outcome of the signature check. It is made per call, so
// concurrent verifications share nothing but the RemoteKeySet (which is safe
// for concurrent use); go-oidc calls VerifySignature synchronously, at most
// once, on the caller's goroutine.
type keySetCall struct {
	keys    *RemoteKeySet
	algs    []string
	goNow   time.Time // go-oidc's clock: Now less the skew
	called  bool
	payload []byte
	err     error
}

// VerifySignature implements oidc.KeySet.
func (c *keySetCall) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	c.called = true
	c.payload, c.err = c.keys.Verify(ctx, jwt, c.algs)
	return c.payload, c.err
}

// goVerifier returns a go-oidc verifier over a keySetCall. go-oidc's clock is
// set Skew early: it tolerates no skew on exp, so exp must then be at or after
// Now-Skew, which everything ValidateIDToken accepts satisfies. Its nbf
// leeway is a fixed 5 minutes from that clock: nbf up to Now+5m-Skew, which
// covers ginauth's Now+Skew for any Skew up to 2.5 minutes; with a larger
// Skew, nbf is tolerated 5m-Skew only (ErrExpired beyond).
//
// skipIssuer turns go-oidc's exact iss comparison off: only for an ID token
// whose IDTokenExpectations.IssuerCheck then does that work in the post-pass.
func goVerifier(keys *RemoteKeySet, algs []string, issuer, clientID string, now time.Time, skew time.Duration, skipIssuer bool) (*oidc.IDTokenVerifier, *keySetCall) {
	call := &keySetCall{keys: keys, algs: algs, goNow: now.Add(-skew)}
	var supported []string
	for _, a := range allowList(algs) {
		supported = append(supported, string(a))
	}
	v := oidc.NewVerifier(issuer, call, &oidc.Config{
		ClientID:             clientID,
		SupportedSigningAlgs: supported,
		SkipIssuerCheck:      skipIssuer,
		Now:                  func() time.Time { return call.goNow },
	})
	return v, call
}

// VerifyIDToken verifies an ID token: the shape checks of Verify, then
// go-oidc's verifier with keys as its key set (signature through
// RemoteKeySet.Verify with the allow-list algs), then ValidateIDToken on the
// verified payload. Errors are those of Verify and ValidateIDToken: a wrong
// iss is ErrIssuer whichever layer saw it first, unreachable keys
// ErrKeysUnavailable. A refusal by go-oidc that ginauth's checks do not
// explain is ErrExpired (exp, nbf) or ErrMalformed.
func VerifyIDToken(ctx context.Context, keys *RemoteKeySet, token string, algs []string, e IDTokenExpectations) (*Claims, error) {
	if err := checkShape(token, algs); err != nil {
		return nil, err
	}
	e.Now, e.Skew = resolveClock(e.Now, e.Skew)
	v, call := goVerifier(keys, algs, e.Issuer, e.ClientID, e.Now, e.Skew, e.IssuerCheck != nil)
	var claims *Claims
	post := func(payload []byte) (err error) {
		claims, err = ValidateIDToken(payload, e)
		return err
	}
	if _, err := v.Verify(ctx, token); err != nil {
		return nil, explain(err, call, token, algs, post)
	}
	if err := post(call.payload); err != nil {
		return nil, err
	}
	return claims, nil
}

// VerifyLogoutToken verifies a back-channel logout token: the shape checks
// of Verify, then go-oidc's VerifyLogout with keys as its key set, then
// ValidateLogoutToken on the verified payload and CheckLogoutTokenType on
// the header. Errors as for VerifyIDToken.
func VerifyLogoutToken(ctx context.Context, keys *RemoteKeySet, token string, algs []string, e LogoutExpectations) (*LogoutClaims, error) {
	if err := checkShape(token, algs); err != nil {
		return nil, err
	}
	e.Now, e.Skew = resolveClock(e.Now, e.Skew)
	v, call := goVerifier(keys, algs, e.Issuer, e.ClientID, e.Now, e.Skew, false)
	var claims *LogoutClaims
	post := func(payload []byte) (err error) {
		if claims, err = ValidateLogoutToken(payload, e); err != nil {
			return err
		}
		// Back-Channel Logout 1.0 §2.4: a typ other than logout+jwt is
		// another kind of token.
		return CheckLogoutTokenType(token)
	}
	if _, err := v.VerifyLogout(ctx, token); err != nil {
		return nil, explain(err, call, token, algs, post)
	}
	if err := post(call.payload); err != nil {
		return nil, err
	}
	return claims, nil
}

// explain turns go-oidc's refusal err into ginauth's error: the key set's own
// (typed) error when the signature check failed; the reason parseCompact
// gives when go-oidc refused the token before asking for the signature
// check; otherwise the post-pass's reason on the verified payload. Only a
// refusal none of these explains gets a generic reason.
func explain(err error, call *keySetCall, token string, algs []string, post func([]byte) error) error {
	switch {
	case call.err != nil:
		return call.err
	case !call.called:
		if _, _, perr := parseCompact(token, algs); perr != nil {
			return perr
		}
		return tokenError(ErrMalformed, "refused by go-oidc: %s", truncate(err.Error()))
	}
	if perr := post(call.payload); perr != nil {
		return perr
	}
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return tokenError(ErrExpired, "expired at %s", expired.Expiry.UTC().Format(time.RFC3339))
	}
	if m, _, _, perr := parseClaims(call.payload, call.goNow, 0); perr == nil {
		if nbf, ok := numericDate(m["nbf"]); ok && nbf.After(call.goNow.Add(goOIDCNotBeforeLeeway)) {
			return tokenError(ErrExpired, "token not valid yet (nbf, go-oidc's leeway)")
		}
	}
	return tokenError(ErrMalformed, "refused by go-oidc: %s", truncate(err.Error()))
}

// goOIDCNotBeforeLeeway is the fixed leeway go-oidc allows on nbf.
const goOIDCNotBeforeLeeway = 5 * time.Minute
