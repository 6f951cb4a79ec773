package providers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// GitLabURL is gitlab.com's base URL, which is also its issuer.
const GitLabURL = "https://gitlab.com"

// GitLabConfig configures the GitLab preset (gitlab.com or a self-managed
// instance), an OpenID Connect provider whose issuer is the instance's base
// URL.
type GitLabConfig struct {
	Name         string // default "gitlab"
	DisplayName  string // default "GitLab"
	ClientID     string // the application ID
	ClientSecret string

	// BaseURL is the instance's URL, e.g. https://gitlab.example.com or
	// https://example.com/gitlab (relative URL root). It is the issuer. It
	// must be https (http only on loopback hosts, for tests). Default
	// GitLabURL.
	BaseURL string

	Scopes []string // default "openid", "profile", "email"

	// UserInfo also fetches the UserInfo endpoint. Its "groups" claim (every
	// group the user belongs to, ancestors of direct memberships included)
	// then replaces the ID token's direct memberships as "groups".
	UserInfo bool
	// EndSession makes sign-out also end the GitLab session.
	EndSession bool

	HTTPClient *http.Client
	Timeout    time.Duration
	Now        func() time.Time
}

// GitLabProvider is the GitLab preset: the generic OpenID Connect provider
// with GitLab's claims normalised. It has every capability of OIDCProvider.
type GitLabProvider struct {
	*OIDCProvider
}

// GitLab returns the GitLab preset. The subject is GitLab's sub, the user's
// numeric ID as a string; email_verified is kept as GitLab sends it. The
// "groups" claim is the full paths of the groups the user is a direct member
// of (the ID token's groups_direct, also kept under that name), unless
// UserInfo is set and UserInfo answers a "groups" list.
func GitLab(cfg GitLabConfig) (*GitLabProvider, error) {
	if cfg.Name == "" {
		cfg.Name = "gitlab"
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = "GitLab"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = GitLabURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if err := CheckIssuerURL(cfg.BaseURL); err != nil {
		return nil, errfmt.Errorf("%w: gitlab: BaseURL: %w", ErrInvalidConfig, err)
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"openid", "profile", "email"}
	}
	p, err := OIDC(OIDCConfig{
		Name:         cfg.Name,
		DisplayName:  cfg.DisplayName,
		Issuer:       cfg.BaseURL,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Scopes:       cfg.Scopes,
		UserInfo:     cfg.UserInfo,
		EndSession:   cfg.EndSession,
		HTTPClient:   cfg.HTTPClient,
		Timeout:      cfg.Timeout,
		Now:          cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	return &GitLabProvider{p}, nil
}

// Exchange implements Provider.
func (p *GitLabProvider) Exchange(ctx context.Context, resp AuthResponse) (*Identity, error) {
	id, err := p.OIDCProvider.Exchange(ctx, resp)
	if err != nil {
		return nil, err
	}
	if err := rewriteClaims(id, gitLabGroups); err != nil {
		return nil, err
	}
	return id, nil
}

// gitLabGroups exposes groups_direct as groups unless groups (from
// UserInfo) is already a list.
func gitLabGroups(claims map[string]any) {
	if _, ok := claims["groups"].([]any); ok {
		return
	}
	if direct, ok := claims["groups_direct"].([]any); ok {
		claims["groups"] = direct
	} else {
		delete(claims, "groups")
	}
}
