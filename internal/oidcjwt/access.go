package oidcjwt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// AccessTokenExpectations are the values a JWT access token (RFC 9068) is
// checked against.
type AccessTokenExpectations struct {
	// Issuer must equal iss exactly, unless IssuerCheck is set. Empty
	// rejects every token.
	Issuer string
	// IssuerCheck, when set, replaces the exact comparison with Issuer
	// (Microsoft multi-tenant configs): true accepts iss.
	IssuerCheck func(iss string) bool
	// Audience must be one of the token's audiences (aud is a string or a
	// list of strings; extra audiences are allowed). Empty rejects every
	// token.
	Audience string
	// Now is the validation time (time.Now() when zero).
	Now time.Time
	// Skew as for IDTokenExpectations.
	Skew time.Duration
}

// AccessClaims are the validated claims of a JWT access token.
type AccessClaims struct {
	Issuer   string
	Subject  string
	ClientID string
	Scopes   []string // the space-separated scope claim, split; nil when absent
	Expiry   time.Time
	Raw      json.RawMessage // the whole payload as verified
}

// VerifyAccessToken verifies a JWT access token (RFC 9068): the shape
// checks, the signature through keys.Verify with the allow-list algs (so
// crit and b64 are refused and unknown kids cause at most one rate-limited
// refetch), a typ header of at+jwt or application/at+jwt (case-insensitive,
// required: §4), then the claims: iss, aud containing the audience,
// exp (> Now-Skew), iat (<= Now+Skew; no maximum age: exp bounds the
// token), nbf if present (<= Now+Skew), sub and client_id (non-empty
// strings), scope a string if present. iss, exp, aud, sub, client_id and
// iat are required (RFC 9068 §2.2); jti, also required there, is not
// checked: ginauth keeps no record of access tokens to detect a replay.
//
// Unlike ID tokens, access tokens do not go through go-oidc's verifier: its
// audience rule is the client ID's, not a resource server's. Errors wrap
// ErrInvalidToken and a specific sentinel (ErrTokenType for a wrong or
// missing typ); unreachable keys are ErrKeysUnavailable.
func VerifyAccessToken(ctx context.Context, keys *RemoteKeySet, token string, algs []string, e AccessTokenExpectations) (*AccessClaims, error) {
	if err := checkShape(token, algs); err != nil {
		return nil, err
	}
	payload, err := keys.Verify(ctx, token, algs)
	if err != nil {
		return nil, err
	}
	if err := checkAccessTokenType(token); err != nil {
		return nil, err
	}
	return validateAccessToken(payload, e)
}

func validateAccessToken(payload []byte, e AccessTokenExpectations) (*AccessClaims, error) {
	m, now, skew, err := parseClaims(payload, e.Now, e.Skew)
	if err != nil {
		return nil, err
	}
	c := &AccessClaims{Raw: append(json.RawMessage(nil), payload...)}
	var ok bool

	if _, present := m["events"]; present {
		return nil, tokenError(ErrTokenType, "events claim present: not an access token")
	}
	if e.Issuer == "" && e.IssuerCheck == nil {
		return nil, tokenError(ErrIssuer, "no issuer configured")
	}
	if c.Issuer, ok = stringClaim(m, "iss"); !ok {
		return nil, tokenError(ErrIssuer, "iss missing or not a string")
	}
	if e.IssuerCheck != nil {
		if !e.IssuerCheck(c.Issuer) {
			return nil, tokenError(ErrIssuer, "iss %q refused", truncate(c.Issuer))
		}
	} else if c.Issuer != e.Issuer {
		return nil, tokenError(ErrIssuer, "iss %q is not the expected issuer", truncate(c.Issuer))
	}

	if e.Audience == "" {
		return nil, tokenError(ErrAudience, "no audience configured")
	}
	if !audienceContains(m["aud"], e.Audience) {
		return nil, tokenError(ErrAudience, "aud missing, malformed or without the expected audience")
	}

	if c.Expiry, ok = numericDate(m["exp"]); !ok {
		return nil, tokenError(ErrExpired, "exp missing or not a valid number")
	}
	if !c.Expiry.After(now.Add(-skew)) {
		return nil, tokenError(ErrExpired, "expired at %s", c.Expiry.UTC().Format(time.RFC3339))
	}
	if err := checkNotBefore(m, now, skew); err != nil {
		return nil, err
	}
	iat, ok := numericDate(m["iat"])
	if !ok {
		return nil, tokenError(ErrIssuedAt, "iat missing or not a valid number")
	}
	if iat.After(now.Add(skew)) {
		return nil, tokenError(ErrIssuedAt, "iat in the future")
	}

	if c.Subject, ok = stringClaim(m, "sub"); !ok || c.Subject == "" {
		return nil, tokenError(ErrSubject, "sub missing, empty or not a string")
	}
	if c.ClientID, ok = stringClaim(m, "client_id"); !ok || c.ClientID == "" {
		return nil, tokenError(ErrClientID, "client_id missing, empty or not a string")
	}
	if raw, present := m["scope"]; present {
		s, ok := jsonString(raw)
		if !ok {
			return nil, tokenError(ErrMalformed, "scope not a string")
		}
		c.Scopes = strings.Fields(s)
	}
	return c, nil
}

// audienceContains reports whether raw, a string or a list of strings, is
// or holds want. A list with a non-string member is malformed.
func audienceContains(raw json.RawMessage, want string) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return false
	}
	if raw[0] == '"' {
		s, ok := jsonString(raw)
		return ok && s == want
	}
	var list []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
		return false
	}
	found := false
	for _, r := range list {
		s, ok := jsonString(r)
		if !ok {
			return false
		}
		found = found || s == want
	}
	return found
}

// checkAccessTokenType requires the typ header at+jwt or
// application/at+jwt, compared case-insensitively (RFC 9068 §4).
func checkAccessTokenType(token string) error {
	typ, present, err := headerType(token)
	if err != nil {
		return err
	}
	if !present {
		return tokenError(ErrTokenType, "typ missing: not an access token")
	}
	if !asciiEqualFold(typ, "at+jwt") {
		return tokenError(ErrTokenType, "typ %q is not at+jwt", truncate(typ))
	}
	return nil
}

// UnverifiedIssuer returns the iss claim of a compact JWS without verifying
// anything, to pick the provider whose keys then verify it. Never trust it
// otherwise.
func UnverifiedIssuer(token string) (string, error) {
	if len(token) > MaxTokenSize {
		return "", tokenError(ErrMalformed, "token longer than %d bytes", MaxTokenSize)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", tokenError(ErrMalformed, "not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", tokenError(ErrMalformed, "payload is not base64url")
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil || m == nil {
		return "", tokenError(ErrMalformed, "payload is not a JSON object")
	}
	iss, ok := stringClaim(m, "iss")
	if !ok {
		return "", tokenError(ErrIssuer, "iss missing or not a string")
	}
	return iss, nil
}
