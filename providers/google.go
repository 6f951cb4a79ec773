package providers

import (
	"net/url"
	"time"

	"net/http"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// GoogleIssuer is Google's issuer identifier.
const GoogleIssuer = "https://accounts.google.com"

// GoogleConfig configures the Google preset.
type GoogleConfig struct {
	Name         string // default "google"
	DisplayName  string // default "Google"
	ClientID     string
	ClientSecret string
	Scopes       []string // default "email", "profile"

	// Offline asks for a refresh token: access_type=offline and prompt=consent.
	Offline bool
	// HostedDomain restricts sign-in to one Google Workspace domain. It is sent
	// as the hd parameter (a hint only) and enforced on the ID token's hd claim.
	HostedDomain string

	HTTPClient *http.Client
	Timeout    time.Duration
	Now        func() time.Time

	// Issuer overrides GoogleIssuer; for tests against a local provider only.
	Issuer string
}

// Google returns the Google preset: OpenID Connect with Google's issuer.
func Google(cfg GoogleConfig) (*OIDCProvider, error) {
	if cfg.Name == "" {
		cfg.Name = "google"
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = "Google"
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"email", "profile"}
	}
	if cfg.Issuer == "" {
		cfg.Issuer = GoogleIssuer
	}
	params := url.Values{}
	if cfg.Offline {
		params.Set("access_type", "offline")
		params.Set("prompt", "consent")
	}
	if cfg.HostedDomain != "" {
		if cfg.HostedDomain == "*" {
			return nil, errfmt.Errorf("%w: google: HostedDomain must name one domain", ErrInvalidConfig)
		}
		params.Set("hd", cfg.HostedDomain)
	}
	p, err := OIDC(OIDCConfig{
		Name:         cfg.Name,
		DisplayName:  cfg.DisplayName,
		Issuer:       cfg.Issuer,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Scopes:       cfg.Scopes,
		AuthParams:   params,
		HTTPClient:   cfg.HTTPClient,
		Timeout:      cfg.Timeout,
		Now:          cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	if hd := cfg.HostedDomain; hd != "" {
		p.checkFn = func(claims map[string]any) error {
			if got, _ := claims["hd"].(string); got != hd {
				return errfmt.Errorf("%w: hd claim is not %q", ErrClaimRejected, hd)
			}
			return nil
		}
	}
	return p, nil
}
