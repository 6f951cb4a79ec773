package providers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// AppleIssuer is Sign in with Apple's issuer identifier.
const AppleIssuer = "https://appleid.apple.com"

// Client secret lifetimes (Apple accepts at most 15777000 s, about six
// months).
const (
	AppleMaxSecretLifetime     = 15777000 * time.Second
	AppleDefaultSecretLifetime = 30 * 24 * time.Hour
)

// appleMaxUserBytes bounds the "user" form field that is parsed.
const appleMaxUserBytes = 4 << 10

// AppleConfig configures the Sign in with Apple preset.
type AppleConfig struct {
	Name        string // default "apple"
	DisplayName string // default "Apple"
	// ClientID is the Services ID (e.g. com.example.web), the ID token's aud.
	ClientID string
	// TeamID is the Apple Developer team ID (the client secret's iss).
	TeamID string
	// KeyID is the ID of the Sign in with Apple private key (the client
	// secret's kid).
	KeyID string
	// PrivateKey is the key's .p8 file as downloaded: a PEM "PRIVATE KEY"
	// (PKCS #8) block holding a P-256 key. "EC PRIVATE KEY" (SEC 1) is
	// accepted too.
	PrivateKey []byte
	// SecretLifetime is the lifetime of the generated client secret.
	// Default 30 days, at most AppleMaxSecretLifetime. The secret is
	// renewed when less than a day (or half its lifetime, if shorter) is
	// left.
	SecretLifetime time.Duration

	Scopes []string // default "name", "email"

	HTTPClient *http.Client
	Timeout    time.Duration
	Now        func() time.Time

	// Issuer overrides AppleIssuer; for tests against a local provider only.
	// It is also the client secret's aud.
	Issuer string
}

// AppleProvider is the Sign in with Apple preset: the generic OpenID Connect
// provider with response_mode=form_post, a generated client secret and
// Apple's claims normalised. It has every capability of OIDCProvider.
type AppleProvider struct {
	*OIDCProvider
	secrets *appleSecrets
}

// Apple returns the Sign in with Apple preset. The private key is parsed and
// checked here; no error message ever contains key material.
func Apple(cfg AppleConfig) (*AppleProvider, error) {
	if cfg.Name == "" {
		cfg.Name = "apple"
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = "Apple"
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"name", "email"}
	}
	if cfg.Issuer == "" {
		cfg.Issuer = AppleIssuer
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	switch {
	case cfg.TeamID == "":
		return nil, errfmt.Errorf("%w: apple: TeamID is empty", ErrInvalidConfig)
	case cfg.KeyID == "":
		return nil, errfmt.Errorf("%w: apple: KeyID is empty", ErrInvalidConfig)
	case cfg.SecretLifetime < 0 || cfg.SecretLifetime > AppleMaxSecretLifetime:
		return nil, errfmt.Errorf("%w: apple: SecretLifetime must be in (0, %s]", ErrInvalidConfig, AppleMaxSecretLifetime)
	case cfg.SecretLifetime > 0 && cfg.SecretLifetime < 2*time.Minute:
		return nil, errfmt.Errorf("%w: apple: SecretLifetime is shorter than 2 minutes", ErrInvalidConfig)
	}
	if cfg.SecretLifetime == 0 {
		cfg.SecretLifetime = AppleDefaultSecretLifetime
	}
	key, err := parseAppleKey(cfg.PrivateKey)
	if err != nil {
		return nil, err
	}
	p, err := OIDC(OIDCConfig{
		Name:        cfg.Name,
		DisplayName: cfg.DisplayName,
		Issuer:      cfg.Issuer,
		ClientID:    cfg.ClientID,
		Scopes:      cfg.Scopes,
		FormPost:    true,
		HTTPClient:  cfg.HTTPClient,
		Timeout:     cfg.Timeout,
		Now:         cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	s := &appleSecrets{
		key: key, keyID: cfg.KeyID, teamID: cfg.TeamID, clientID: cfg.ClientID,
		aud: cfg.Issuer, lifetime: cfg.SecretLifetime, now: cfg.Now,
	}
	if _, err := s.sign(cfg.Now()); err != nil { // fail now rather than at the first sign-in
		return nil, errfmt.Errorf("%w: apple: cannot sign with PrivateKey", ErrInvalidConfig)
	}
	p.hooks = secretHooks{secret: s.get, post: true}
	return &AppleProvider{OIDCProvider: p, secrets: s}, nil
}

// parseAppleKey reads a PEM P-256 private key.
func parseAppleKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errfmt.Errorf("%w: apple: PrivateKey is not PEM", ErrInvalidConfig)
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, errfmt.Errorf("%w: apple: PrivateKey is a PEM %q block, want PRIVATE KEY", ErrInvalidConfig, block.Type)
	}
	if err != nil {
		// The parser's message says nothing about the key's value, but keep
		// only that parsing failed.
		return nil, errfmt.Errorf("%w: apple: PrivateKey does not parse", ErrInvalidConfig)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errfmt.Errorf("%w: apple: PrivateKey is not a P-256 (ES256) key", ErrInvalidConfig)
	}
	return ec, nil
}

// appleSecrets generates the client secret, an ES256 JWT, and caches it
// until it nears expiry. Safe for concurrent use.
type appleSecrets struct {
	key                          *ecdsa.PrivateKey
	keyID, teamID, clientID, aud string
	lifetime                     time.Duration
	now                          func() time.Time

	mu      sync.Mutex
	current string
	expires time.Time
}

// renewMargin is how long before expiry the secret is replaced.
func (s *appleSecrets) renewMargin() time.Duration {
	return min(24*time.Hour, s.lifetime/2)
}

// get returns a secret with more than renewMargin left, signing a new one
// when needed. Should signing ever fail (it cannot with a checked key), the
// cached secret is returned while unexpired, else "" (the token endpoint
// then answers invalid_client).
func (s *appleSecrets) get() string {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != "" && now.Before(s.expires.Add(-s.renewMargin())) && !now.Before(s.issued()) {
		return s.current
	}
	tok, err := s.sign(now)
	if err != nil {
		if now.Before(s.expires) {
			return s.current
		}
		return ""
	}
	s.current, s.expires = tok, now.Truncate(time.Second).Add(s.lifetime)
	return s.current
}

// issued is when the current secret was issued (its iat).
func (s *appleSecrets) issued() time.Time { return s.expires.Add(-s.lifetime) }

// sign makes a client secret issued at now.
func (s *appleSecrets) sign(now time.Time) (string, error) {
	iat := now.Unix()
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": s.keyID, "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": s.teamID,
		"sub": s.clientID,
		"aud": s.aud,
		"iat": iat,
		"exp": iat + int64(s.lifetime/time.Second),
	})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	r, sv, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64) // JWS ES256: R || S, 32 bytes each
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// ClientSecret returns the client secret the provider currently sends
// (generated and renewed as needed). It is a credential: never log it.
func (p *AppleProvider) ClientSecret() string { return p.secrets.get() }

// Exchange implements Provider. On top of the OpenID Connect checks, it
// turns Apple's string booleans (email_verified, is_private_email) into
// booleans and takes the user's name from the "user" form field Apple sends
// on the first sign-in only (given_name, family_name, name; never sub or
// email; a malformed or oversized field is ignored).
func (p *AppleProvider) Exchange(ctx context.Context, resp AuthResponse) (*Identity, error) {
	id, err := p.OIDCProvider.Exchange(ctx, resp)
	if err != nil {
		return nil, err
	}
	err = rewriteClaims(id, func(claims map[string]any) {
		for _, k := range []string{"email_verified", "is_private_email"} {
			if v, ok := claims[k]; ok {
				claims[k] = appleBool(v)
			}
		}
		applyAppleUser(claims, resp.Extra.Get("user"))
	})
	if err != nil {
		return nil, err
	}
	return id, nil
}

// appleBool reads a boolean Apple sends as true/false or "true"/"false";
// anything else is false.
func appleBool(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// applyAppleUser adds the name from Apple's "user" field to claims the ID
// token does not already carry.
func applyAppleUser(claims map[string]any, raw string) {
	if raw == "" || len(raw) > appleMaxUserBytes || !json.Valid([]byte(raw)) {
		return
	}
	var u struct {
		Name struct {
			FirstName any `json:"firstName"`
			LastName  any `json:"lastName"`
		} `json:"name"`
	}
	if json.Unmarshal([]byte(raw), &u) != nil {
		return
	}
	first, last := appleName(u.Name.FirstName), appleName(u.Name.LastName)
	set := func(k, v string) {
		if _, exists := claims[k]; !exists && v != "" {
			claims[k] = v
		}
	}
	set("given_name", first)
	set("family_name", last)
	set("name", strings.TrimSpace(first+" "+last))
}

// appleName keeps a printable name part of at most 128 runes.
func appleName(v any) string {
	s, _ := v.(string)
	s = strings.TrimSpace(s)
	if len([]rune(s)) > 128 || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
		return ""
	}
	return s
}

// Revoke implements Revoker with the generated client secret
// (client_secret_post). Apple's discovery document advertises its
// revocation_endpoint; should it not, <issuer>/auth/revoke is used.
func (p *AppleProvider) Revoke(ctx context.Context, token, hint string) error {
	m, err := p.meta.get(ctx)
	if err != nil {
		return err
	}
	endpoint := m.doc.RevocationEndpoint
	if endpoint == "" {
		endpoint = p.cfg.Issuer + "/auth/revoke"
	}
	return p.revokeAt(ctx, m, endpoint, token, hint)
}
