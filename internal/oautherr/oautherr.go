// Package oautherr classifies and sanitizes the error fields of OAuth 2.0
// responses (RFC 6749 §4.1.2.1 and §5.2) for ginauth's logs. A response's
// error and error_description are the sender's text: they go to logs,
// printable and capped, and never to pages.
package oautherr

import "strings"

// Caps of the logged fields.
const (
	MaxCodeLen        = 64
	MaxDescriptionLen = 200
)

// ClientConfig reports whether an OAuth error code, from a token endpoint
// or an authorization response, blames the client's registration or
// configuration (its ID or secret, its redirect URI, the grants, response
// types or scopes it may use) rather than the user or a passing outage.
func ClientConfig(code string) bool {
	switch code {
	case "invalid_client", "unauthorized_client", "unsupported_grant_type", "unsupported_response_type",
		"invalid_scope",
		"incorrect_client_credentials", "redirect_uri_mismatch": // GitHub's names
		return true
	}
	return false
}

// Code returns an error code printable and at most MaxCodeLen bytes.
func Code(s string) string { return clean(s, MaxCodeLen) }

// Description returns an error_description printable and at most
// MaxDescriptionLen bytes.
func Description(s string) string { return clean(s, MaxDescriptionLen) }

// clean cuts s to max bytes and replaces every byte outside printable
// ASCII with '?'.
func clean(s string, max int) string {
	if len(s) > max {
		s = s[:max]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
