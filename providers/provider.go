// Package providers holds the identity providers ginauth signs users in with: a
// generic OpenID Connect provider configured by discovery, and presets for
// well-known providers built on it.
//
// A Provider runs the provider-facing half of the authorization code flow: it
// builds the authorization request and, on the way back, checks the
// authorization response, redeems the code and validates the ID token. The
// root package keeps the browser-facing half (state, PKCE, nonce, cookies).
package providers

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"time"
)

// Provider is an identity provider. Implementations must be safe for
// concurrent use.
type Provider interface {
	// Name is the identifier used in routes (/auth/signin/<name>): lower-case
	// letters, digits and '-', at most 32 characters.
	Name() string
	// DisplayName is shown on the sign-in page.
	DisplayName() string
	// Issuer is the configured issuer identifier (exact string).
	Issuer() string
	// AuthCodeURL returns the URL of the authorization request.
	AuthCodeURL(ctx context.Context, req AuthRequest) (string, error)
	// Exchange checks the authorization response, redeems the code and
	// validates the ID token. It never retries a code.
	Exchange(ctx context.Context, resp AuthResponse) (*Identity, error)
}

// AuthRequest carries the per-flow values of an authorization request.
type AuthRequest struct {
	RedirectURI   string // exact registered redirect URI
	State         string
	Nonce         string
	CodeChallenge string // BASE64URL(SHA256(verifier)); the method is always S256
}

// AuthResponse carries what came back to the redirect URI, with the flow's
// stored values.
type AuthResponse struct {
	RedirectURI  string
	Code         string
	Iss          string // RFC 9207 iss parameter, if IssPresent
	IssPresent   bool
	CodeVerifier string
	Nonce        string

	// Extra holds the other parameters of a form_post authorization
	// response (POST callbacks only), one value each, for providers that
	// send more than the protocol's (Apple's "user"). Untrusted: it is not
	// covered by any signature. See MaxExtraBytes for its bound.
	Extra url.Values
}

// MaxExtraBytes bounds AuthResponse.Extra: at most 16 parameters whose
// names and values add up to 16 KiB. Parameters beyond the bound, or sent
// more than once, are left out; they never fail the callback.
const MaxExtraBytes = 16 << 10

// Identity is a signed-in user as established by a provider.
type Identity struct {
	Issuer    string
	Subject   string
	SessionID string          // the provider's sid claim, when present
	Claims    json.RawMessage // validated ID token claims, merged with UserInfo when fetched
	Token     Token
}

// Token holds the provider's tokens. They never leave the server.
type Token struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      string
	Expiry       time.Time // zero when the provider did not say
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ValidName reports whether name can be used as a provider name.
func ValidName(name string) bool { return namePattern.MatchString(name) }
