package providers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// DiscordURL is Discord's base URL.
const DiscordURL = "https://discord.com"

// DiscordConfig configures the Discord preset.
type DiscordConfig struct {
	Name         string // default "discord"
	DisplayName  string // default "Discord"
	ClientID     string
	ClientSecret string

	HTTPClient *http.Client
	Timeout    time.Duration
	Now        func() time.Time

	// BaseURL overrides DiscordURL; for tests against a local fake only.
	BaseURL string
}

// Discord returns the Discord preset, on the generic OAuth 2.0 provider:
// authorization at https://discord.com/oauth2/authorize, token at
// /api/oauth2/token, user at /api/users/@me, scopes identify and email,
// revocation (RFC 7009) at /api/oauth2/token/revoke. The subject is the
// user's snowflake id; name is global_name or else username; email_verified
// is Discord's verified flag. Discord issues refresh tokens; they are
// refreshed and revoked.
func Discord(cfg DiscordConfig) (*OAuth2Provider, error) {
	if cfg.Name == "" {
		cfg.Name = "discord"
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = "Discord"
	}
	base := DiscordURL
	if cfg.BaseURL != "" {
		base = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	if cfg.ClientSecret == "" {
		return nil, errfmt.Errorf("%w: provider %s: ClientSecret is required", ErrInvalidConfig, cfg.Name)
	}
	return OAuth2(OAuth2Config{
		Name:          cfg.Name,
		DisplayName:   cfg.DisplayName,
		Issuer:        base,
		AuthURL:       base + "/oauth2/authorize",
		TokenURL:      base + "/api/oauth2/token",
		UserURL:       base + "/api/users/@me",
		RevocationURL: base + "/api/oauth2/token/revoke",
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		ClientAuth:    ClientSecretBasic,
		Scopes:        []string{"identify", "email"},
		MapUser:       discordUser,
		HTTPClient:    cfg.HTTPClient,
		Timeout:       cfg.Timeout,
		Now:           cfg.Now,
	})
}

// discordUser maps GET /users/@me.
func discordUser(_ context.Context, _ *OAuth2API, m map[string]any) (*OAuth2User, error) {
	id, _ := m["id"].(string)
	if !isDecimalID(id) {
		return nil, errfmt.Errorf("%w: Discord user without a snowflake id", ErrUserInfo)
	}
	u := &OAuth2User{Subject: id, Extra: map[string]any{}}
	username, _ := m["username"].(string)
	if username != "" {
		u.Extra["preferred_username"] = username
	}
	if u.Name, _ = m["global_name"].(string); u.Name == "" {
		u.Name = username
	}
	u.Email, _ = m["email"].(string)
	if u.Email != "" {
		u.EmailVerified, _ = m["verified"].(bool)
	}
	return u, nil
}
