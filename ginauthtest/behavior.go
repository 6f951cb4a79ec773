package ginauthtest

import (
	"net/url"
	"time"
)

// Values for Behavior.IDTokenAlg.
const (
	AlgRS256         = ""                 // correct: RS256 with the current RSA key
	AlgNone          = "none"             // alg "none" with an empty signature
	AlgHS256PubPEM   = "HS256-pubkey-pem" // HS256 keyed with the PEM (PKIX) encoding of the RSA public key
	AlgHS256PubDER   = "HS256-pubkey-der" // HS256 keyed with the DER (PKIX) encoding of the RSA public key
	AlgHS256PubJWK   = "HS256-pubkey-jwk" // HS256 keyed with the public JWK exactly as /jwks serves it
	AlgHS256Secret   = "HS256-secret"     // HS256 keyed with the client secret
	AlgES256Stranger = "ES256"            // ES256 signed by a fresh P-256 key, header kid of the RSA key
)

// Behavior makes the provider misbehave; the zero value is a correct OP.
// Install one with Provider.SetBehavior.
//
// The /token knobs that replace the whole answer take effect after the
// request is counted and recorded but before client authentication and grant
// validation (so no code is consumed), with this precedence: TokenDelay /
// TokenHang first, then TokenRawBody, TokenBodySize, TokenStatus/TokenError.
type Behavior struct {
	// IDTokenClaims mutates ID token claims before signing (delete a key to omit it).
	IDTokenClaims func(claims map[string]any)
	// IDTokenHeader mutates the JOSE header (e.g. drop "kid", set "kid":"x").
	IDTokenHeader func(header map[string]any)
	// IDTokenAlg selects how ID tokens are signed; see the Alg* constants.
	IDTokenAlg string
	// CorruptSignature flips one byte of the ID token signature.
	CorruptSignature bool
	// OmitIDToken leaves id_token out of token responses.
	OmitIDToken bool
	// TokenType overrides token_type, e.g. "bEaReR".
	TokenType string
	// OmitExpiresIn leaves expires_in out of token responses.
	OmitExpiresIn bool
	// TokenStatus, if non-zero, makes /token answer this status with
	// {"error": TokenError} (TokenError defaults to "server_error").
	TokenStatus int
	// TokenError, if set, makes /token answer {"error": TokenError} with
	// TokenStatus (default 400).
	TokenError string
	// TokenRawBody, if non-nil, makes /token answer 200 with exactly these
	// bytes (content-type application/json).
	TokenRawBody []byte
	// TokenBodySize, if > 0, makes /token stream a JSON-ish body of exactly
	// this many bytes ('{"a":"' followed by 'x'...), never terminated.
	TokenBodySize int
	// JWKSBodySize is TokenBodySize for /jwks.
	JWKSBodySize int
	// DiscoveryBodySize is TokenBodySize for the discovery document.
	DiscoveryBodySize int
	// TokenDelay sleeps before answering /token; the sleep ends early when
	// the request context ends (no answer) or Close is called (503).
	TokenDelay time.Duration
	// TokenHang never answers /token until the client goes away (no answer)
	// or Close is called (503).
	TokenHang bool
	// DiscoveryDown makes discovery answer 503.
	DiscoveryDown bool
	// JWKSDown makes /jwks answer 503.
	JWKSDown bool
	// DiscoveryIssuer, if set, is the issuer the discovery document claims.
	DiscoveryIssuer string
	// OmitIssParameterSupported omits authorization_response_iss_parameter_supported from discovery.
	OmitIssParameterSupported bool
	// AuthorizeError makes /authorize redirect back with
	// error=<this>&error_description=<AuthorizeErrorDescription>&state=...
	// instead of a code.
	AuthorizeError string
	// AuthorizeErrorDescription is the error_description sent with AuthorizeError.
	AuthorizeErrorDescription string
	// AuthorizeIss, if set, is the iss parameter sent back from /authorize.
	AuthorizeIss string
	// OmitAuthorizeIss leaves iss out of the /authorize response.
	OmitAuthorizeIss bool
	// AuthorizeExtra holds extra parameters appended to the /authorize
	// response (e.g. a second state).
	AuthorizeExtra url.Values
	// UserInfoSub, if set, is the sub /userinfo answers instead of the real one.
	UserInfoSub string
	// RefreshError makes the refresh_token grant answer 400 with this error.
	RefreshError string
}

// clone copies the reference-typed fields so callers cannot race with the provider.
func (b Behavior) clone() Behavior {
	if b.AuthorizeExtra != nil {
		extra := make(url.Values, len(b.AuthorizeExtra))
		for k, v := range b.AuthorizeExtra {
			extra[k] = append([]string(nil), v...)
		}
		b.AuthorizeExtra = extra
	}
	if b.TokenRawBody != nil {
		b.TokenRawBody = append([]byte{}, b.TokenRawBody...)
	}
	return b
}

// SetBehavior replaces the current behaviour (the zero Behavior is a correct OP).
// It is safe for concurrent use; requests already in flight keep the behaviour
// they started with.
func (p *Provider) SetBehavior(b Behavior) {
	b = b.clone()
	p.mu.Lock()
	p.behavior = b
	p.mu.Unlock()
}

// Behavior returns a copy of the current behaviour.
func (p *Provider) Behavior() Behavior {
	return p.currentBehavior().clone()
}

func (p *Provider) currentBehavior() Behavior {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.behavior
}

// SetNextUser selects the user /authorize auto-approves when the request has no
// login_hint naming a known user. The choice stays in effect until changed;
// SetNextUser("") restores the default (the first user). An unknown subject is
// ignored at approval time.
func (p *Provider) SetNextUser(subject string) {
	p.mu.Lock()
	p.nextUser = subject
	p.mu.Unlock()
}
