package oidcjwt

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

const (
	// DefaultSkew is the default IDTokenExpectations.Skew.
	DefaultSkew = 60 * time.Second
	// MaxSkew caps IDTokenExpectations.Skew.
	MaxSkew = 300 * time.Second
	// DefaultMaxIATAge is the default IDTokenExpectations.MaxIATAge.
	DefaultMaxIATAge = 10 * time.Minute
	// maxNumericDate is 9999-12-31T23:59:59Z; larger dates are rejected.
	maxNumericDate = 253402300799
)

// IDTokenExpectations are the values an ID token is checked against.
type IDTokenExpectations struct {
	// Issuer must equal iss exactly: no normalisation, no trailing-slash
	// tolerance, case-sensitive. Empty rejects every token.
	Issuer string
	// IssuerCheck, when set, replaces the exact comparison of iss with
	// Issuer, for providers with no single issuer (Microsoft Entra ID's
	// multi-tenant endpoints): it gets the token's iss and all its claims
	// and returns nil only for an acceptable issuer. go-oidc's own iss
	// comparison is then skipped (SkipIssuerCheck), so this is the only one;
	// Issuer must still be non-empty. nil: the exact comparison.
	IssuerCheck func(iss string, claims map[string]json.RawMessage) error
	// ClientID: aud must be exactly ClientID or ["ClientID"]; azp, if
	// present, must equal it. Empty rejects every token.
	ClientID string
	// Nonce, if non-empty, must equal the nonce claim (constant-time).
	Nonce string
	// Now is the validation time (time.Now() when zero).
	Now time.Time
	// Skew is the clock-skew allowance: DefaultSkew when zero or negative,
	// at most MaxSkew.
	Skew time.Duration
	// MaxIATAge: iat older than Now-MaxIATAge-Skew is rejected
	// (DefaultMaxIATAge when zero or negative).
	MaxIATAge time.Duration
	// RequireNonceAbsent rejects a token that carries a nonce claim (logout
	// tokens). It has no effect when false.
	RequireNonceAbsent bool
}

// Claims are the validated claims of an ID token.
type Claims struct {
	Issuer          string
	Subject         string
	Audience        string // the only audience
	AuthorizedParty string // azp, "" when absent
	Nonce           string
	SID             string // sid, "" when absent
	Expiry          time.Time
	IssuedAt        time.Time
	AuthTime        time.Time       // zero when auth_time is absent
	Raw             json.RawMessage // the whole payload as verified
}

// ValidateIDToken parses payload, a JSON object, and checks it against e:
// no events claim (that is a logout token), iss, aud and azp, exp
// (> Now-Skew), iat (within [Now-MaxIATAge-Skew, Now+Skew]), nbf if present
// (<= Now+Skew), sub (a non-empty string) and nonce. A claim of the wrong type fails like a wrong value. payload must
// already be signature-verified; VerifyIDToken verifies and then calls it.
func ValidateIDToken(payload []byte, e IDTokenExpectations) (*Claims, error) {
	m, now, skew, err := parseClaims(payload, e.Now, e.Skew)
	if err != nil {
		return nil, err
	}
	maxAge := e.MaxIATAge
	if maxAge <= 0 {
		maxAge = DefaultMaxIATAge
	}

	// A logout token (or any security event token) is not an ID token
	// (Back-Channel Logout 1.0 §2.4), whatever else it carries.
	if _, present := m["events"]; present {
		return nil, tokenError(ErrTokenType, "events claim present: not an ID token")
	}

	c := &Claims{Raw: append(json.RawMessage(nil), payload...)}
	var ok bool

	// iss
	if e.Issuer == "" {
		return nil, tokenError(ErrIssuer, "no issuer configured")
	}
	if c.Issuer, ok = stringClaim(m, "iss"); !ok {
		return nil, tokenError(ErrIssuer, "iss missing or not a string")
	}
	if e.IssuerCheck != nil {
		if err := e.IssuerCheck(c.Issuer, m); err != nil {
			return nil, tokenError(ErrIssuer, "iss %q refused: %s", truncate(c.Issuer), err)
		}
	} else if c.Issuer != e.Issuer {
		return nil, tokenError(ErrIssuer, "iss %q is not the expected issuer", truncate(c.Issuer))
	}

	// aud, azp
	if e.ClientID == "" {
		return nil, tokenError(ErrAudience, "no client ID configured")
	}
	if c.Audience, ok = singleAudience(m["aud"]); !ok {
		return nil, tokenError(ErrAudience, "aud missing, malformed or with several audiences")
	}
	if c.Audience != e.ClientID {
		return nil, tokenError(ErrAudience, "aud %q is not the client ID", truncate(c.Audience))
	}
	if _, present := m["azp"]; present {
		if c.AuthorizedParty, ok = stringClaim(m, "azp"); !ok || c.AuthorizedParty != e.ClientID {
			return nil, tokenError(ErrAudience, "azp is not the client ID")
		}
	}

	// exp
	if c.Expiry, ok = numericDate(m["exp"]); !ok {
		return nil, tokenError(ErrExpired, "exp missing or not a valid number")
	}
	if !c.Expiry.After(now.Add(-skew)) {
		return nil, tokenError(ErrExpired, "expired at %s", c.Expiry.UTC().Format(time.RFC3339))
	}

	// iat
	if c.IssuedAt, ok = numericDate(m["iat"]); !ok {
		return nil, tokenError(ErrIssuedAt, "iat missing or not a valid number")
	}
	if c.IssuedAt.After(now.Add(skew)) {
		return nil, tokenError(ErrIssuedAt, "iat in the future")
	}
	if c.IssuedAt.Before(now.Add(-maxAge - skew)) {
		return nil, tokenError(ErrIssuedAt, "iat too old")
	}

	// nbf
	if err := checkNotBefore(m, now, skew); err != nil {
		return nil, err
	}

	// sub
	if c.Subject, ok = stringClaim(m, "sub"); !ok || c.Subject == "" {
		return nil, tokenError(ErrSubject, "sub missing, empty or not a string")
	}

	// nonce
	_, noncePresent := m["nonce"]
	if noncePresent {
		if c.Nonce, ok = stringClaim(m, "nonce"); !ok {
			return nil, tokenError(ErrNonce, "nonce not a string")
		}
	}
	if e.RequireNonceAbsent && noncePresent {
		return nil, tokenError(ErrNonce, "nonce present")
	}
	if e.Nonce != "" {
		// Compare digests so that neither the content nor the length of
		// the expected nonce leaks through timing.
		got, want := sha256.Sum256([]byte(c.Nonce)), sha256.Sum256([]byte(e.Nonce))
		if !noncePresent || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return nil, tokenError(ErrNonce, "nonce missing or different")
		}
	}

	// Optional claims: wrong types are malformed.
	if _, present := m["sid"]; present {
		if c.SID, ok = stringClaim(m, "sid"); !ok {
			return nil, tokenError(ErrMalformed, "sid not a string")
		}
	}
	if raw, present := m["auth_time"]; present {
		if c.AuthTime, ok = numericDate(raw); !ok {
			return nil, tokenError(ErrMalformed, "auth_time not a valid number")
		}
	}
	return c, nil
}

// parseClaims decodes a payload that must be a JSON object and resolves the
// validation time (time.Now() when zero) and the skew (DefaultSkew when not
// positive, at most MaxSkew).
func parseClaims(payload []byte, now time.Time, skew time.Duration) (map[string]json.RawMessage, time.Time, time.Duration, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil || m == nil {
		return nil, now, skew, tokenError(ErrMalformed, "payload is not a JSON object")
	}
	now, skew = resolveClock(now, skew)
	return m, now, skew, nil
}

// resolveClock returns the validation time (time.Now() when zero) and the
// skew (DefaultSkew when not positive, at most MaxSkew).
func resolveClock(now time.Time, skew time.Duration) (time.Time, time.Duration) {
	if now.IsZero() {
		now = time.Now()
	}
	if skew <= 0 {
		skew = DefaultSkew
	}
	return now, min(skew, MaxSkew)
}

// stringClaim returns the claim name when it is present and a JSON string.
func stringClaim(m map[string]json.RawMessage, name string) (string, bool) {
	raw, ok := m[name]
	if !ok {
		return "", false
	}
	return jsonString(raw)
}

func jsonString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// singleAudience accepts "x" or ["x"] and returns x. Anything else (missing,
// null, empty array, several entries, non-strings) fails.
func singleAudience(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	if raw[0] == '"' {
		return jsonString(raw)
	}
	if raw[0] != '[' {
		return "", false
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 {
		return "", false
	}
	return jsonString(list[0])
}

// numericDate parses a JSON number of seconds since the epoch (fractions
// allowed) between 0 and the end of year 9999.
func numericDate(raw json.RawMessage) (time.Time, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !(raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		return time.Time{}, false
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, false
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		if i < 0 || i > maxNumericDate {
			return time.Time{}, false
		}
		return time.Unix(i, 0), true
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// checkNotBefore refuses a token whose nbf, when present, is not a number
// or lies beyond now plus skew.
func checkNotBefore(m map[string]json.RawMessage, now time.Time, skew time.Duration) error {
	raw, present := m["nbf"]
	if !present {
		return nil
	}
	nbf, ok := numericDate(raw)
	if !ok {
		return tokenError(ErrExpired, "nbf not a valid number")
	}
	if nbf.After(now.Add(skew)) {
		return tokenError(ErrExpired, "token not valid yet (nbf)")
	}
	return nil
}
