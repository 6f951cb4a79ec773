package oidcjwt

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// decodeHeader decodes the first segment of a compact JWS, which must be a
// base64url JSON object.
func decodeHeader(segment string) (map[string]json.RawMessage, error) {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return nil, tokenError(ErrMalformed, "header is not base64url")
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr == nil {
		return nil, tokenError(ErrMalformed, "header is not a JSON object")
	}
	return hdr, nil
}

// checkHeaderExtensions refuses a protected header that asks for processing
// ginauth does not do. ginauth understands no JWS extension, so any "crit"
// is refused, in whatever form ("crit":[] is invalid anyway, RFC 7515
// §4.1.11; go-jose accepts it, and accepts "crit":["b64"]). "b64" is refused
// too: go-jose honours "b64":false even without crit, which changes what the
// signature covers (RFC 7797). The members are matched case-insensitively
// (a struct decode, fewer allocations than a map on this hot path), so a
// "CRIT" member is refused as well.
func checkHeaderExtensions(segment string) error {
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil {
		return tokenError(ErrMalformed, "header is not base64url")
	}
	var hdr struct {
		Crit json.RawMessage `json:"crit"`
		B64  json.RawMessage `json:"b64"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		return tokenError(ErrMalformed, "header is not a JSON object")
	}
	if hdr.Crit != nil {
		return tokenError(ErrUnsupportedHeader, "crit header parameter present; no extension is supported")
	}
	if hdr.B64 != nil {
		return tokenError(ErrUnsupportedHeader, "b64 header parameter present; RFC 7797 is not supported")
	}
	return nil
}

// CheckLogoutTokenType checks the typ header of a compact logout token: when
// present it must be "logout+jwt" (Back-Channel Logout 1.0 §2.4 recommends
// explicit typing) or the generic "JWT", compared as media types (ASCII
// case-insensitive, "application/" prefix optional; RFC 7515 §4.1.9). A
// token explicitly typed as something else (an access token's at+jwt, a
// security event's secevent+jwt) is refused. The generic "JWT" stays
// accepted because providers that do not type their logout tokens (Keycloak
// among them) send it; an ID token sent as a logout token is refused by the
// claim checks (events required, nonce forbidden). A typ that is not a
// string is refused. It reads the header only: call it on a token that
// RemoteKeySet.Verify accepted. Errors wrap ErrInvalidToken and ErrTokenType
// (ErrMalformed for an unreadable header).
func CheckLogoutTokenType(token string) error {
	if len(token) > MaxTokenSize {
		return tokenError(ErrMalformed, "token longer than %d bytes", MaxTokenSize)
	}
	typ, present, err := headerType(token)
	if err != nil || !present {
		return err
	}
	if !asciiEqualFold(typ, "logout+jwt") && !asciiEqualFold(typ, "jwt") {
		return tokenError(ErrTokenType, "typ %q is neither logout+jwt nor JWT", truncate(typ))
	}
	return nil
}

// headerType returns the typ header of a compact JWS without an
// "application/" prefix (RFC 7515 §4.1.9: the media type may omit it;
// compare the rest case-insensitively). present is false when there is no
// typ; a typ that is not a string is an error wrapping ErrTokenType.
func headerType(token string) (typ string, present bool, err error) {
	segment, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", false, tokenError(ErrMalformed, "not a compact JWS")
	}
	hdr, err := decodeHeader(segment)
	if err != nil {
		return "", false, err
	}
	raw, present := hdr["typ"]
	if !present {
		return "", false, nil
	}
	typ, ok = jsonString(raw)
	if !ok {
		return "", true, tokenError(ErrTokenType, "typ %s is not a string", truncate(string(raw)))
	}
	const prefix = "application/"
	if len(typ) > len(prefix) && asciiEqualFold(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	return typ, true, nil
}

// asciiEqualFold is strings.EqualFold for ASCII only: no Unicode folding
// (such as the Kelvin sign to "k") takes part.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
