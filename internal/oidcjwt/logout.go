package oidcjwt

import (
	"encoding/json"
	"time"
)

// BackChannelLogoutEvent is the event a logout token must carry
// (Back-Channel Logout 1.0 §2.4).
const BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// DefaultLogoutTokenMaxAge bounds how old a logout token's iat may be
// (OPs are told to issue them at most two minutes ahead of use).
const DefaultLogoutTokenMaxAge = 2 * time.Minute

// LogoutExpectations are the values a logout token is checked against.
type LogoutExpectations struct {
	Issuer   string // exact match
	ClientID string // the only audience
	Now      time.Time
	Skew     time.Duration // DefaultSkew when zero, at most MaxSkew
	MaxAge   time.Duration // iat window; DefaultLogoutTokenMaxAge when zero
}

// LogoutClaims are the validated claims of a logout token.
type LogoutClaims struct {
	Issuer   string
	Subject  string // "" when absent
	SID      string // "" when absent; at least one of Subject and SID is set
	JTI      string
	IssuedAt time.Time
	Expiry   time.Time
}

// ValidateLogoutToken checks a signature-verified logout token payload
// (Back-Channel Logout 1.0 §2.4, §2.6): iss, aud (and azp), iat within
// MaxAge, exp present and not past, jti present, the events claim holding
// the back-channel logout event as a JSON object, no nonce, and sub or sid.
func ValidateLogoutToken(payload []byte, e LogoutExpectations) (*LogoutClaims, error) {
	m, now, skew, err := parseClaims(payload, e.Now, e.Skew)
	if err != nil {
		return nil, err
	}
	maxAge := e.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultLogoutTokenMaxAge
	}
	c := &LogoutClaims{}
	var ok bool
	if c.Issuer, ok = stringClaim(m, "iss"); !ok || e.Issuer == "" || c.Issuer != e.Issuer {
		return nil, tokenError(ErrIssuer, "iss missing or not the expected issuer")
	}
	if aud, ok := singleAudience(m["aud"]); !ok || e.ClientID == "" || aud != e.ClientID {
		return nil, tokenError(ErrAudience, "aud missing or not the client ID")
	}
	if _, present := m["azp"]; present {
		if azp, ok := stringClaim(m, "azp"); !ok || azp != e.ClientID {
			return nil, tokenError(ErrAudience, "azp is not the client ID")
		}
	}
	if c.IssuedAt, ok = numericDate(m["iat"]); !ok {
		return nil, tokenError(ErrIssuedAt, "iat missing or not a valid number")
	}
	if c.IssuedAt.After(now.Add(skew)) || c.IssuedAt.Before(now.Add(-maxAge-skew)) {
		return nil, tokenError(ErrIssuedAt, "iat outside the accepted window")
	}
	if c.Expiry, ok = numericDate(m["exp"]); !ok {
		return nil, tokenError(ErrExpired, "exp missing or not a valid number")
	}
	if !c.Expiry.After(now.Add(-skew)) {
		return nil, tokenError(ErrExpired, "expired")
	}
	if c.JTI, ok = stringClaim(m, "jti"); !ok || c.JTI == "" {
		return nil, tokenError(ErrMalformed, "jti missing")
	}
	var events map[string]json.RawMessage
	if json.Unmarshal(m["events"], &events) != nil || events == nil {
		return nil, tokenError(ErrMalformed, "events missing or not an object")
	}
	var event map[string]json.RawMessage
	if json.Unmarshal(events[BackChannelLogoutEvent], &event) != nil || event == nil {
		return nil, tokenError(ErrMalformed, "events lacks the back-channel logout event object")
	}
	if _, present := m["nonce"]; present {
		return nil, tokenError(ErrNonce, "a logout token must not carry a nonce")
	}
	if _, present := m["sub"]; present {
		if c.Subject, ok = stringClaim(m, "sub"); !ok || c.Subject == "" {
			return nil, tokenError(ErrSubject, "sub not a non-empty string")
		}
	}
	if _, present := m["sid"]; present {
		if c.SID, ok = stringClaim(m, "sid"); !ok || c.SID == "" {
			return nil, tokenError(ErrMalformed, "sid not a non-empty string")
		}
	}
	if c.Subject == "" && c.SID == "" {
		return nil, tokenError(ErrSubject, "neither sub nor sid")
	}
	return c, nil
}
