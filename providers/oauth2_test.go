package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/providers"
)

func validOAuth2() providers.OAuth2Config {
	return providers.OAuth2Config{
		Name:     "plain",
		AuthURL:  "https://as.example.com/authorize",
		TokenURL: "https://as.example.com/token",
		UserURL:  "https://api.example.com/me",
		ClientID: "id",
	}
}

func TestOAuth2Config(t *testing.T) {
	cases := []struct {
		name string
		edit func(*providers.OAuth2Config)
	}{
		{"bad name", func(c *providers.OAuth2Config) { c.Name = "Bad Name" }},
		{"no AuthURL", func(c *providers.OAuth2Config) { c.AuthURL = "" }},
		{"http TokenURL", func(c *providers.OAuth2Config) { c.TokenURL = "http://as.example.com/token" }},
		{"http UserURL", func(c *providers.OAuth2Config) { c.UserURL = "http://api.example.com/me" }},
		{"relative RevocationURL", func(c *providers.OAuth2Config) { c.RevocationURL = "/revoke" }},
		{"Issuer with query", func(c *providers.OAuth2Config) { c.Issuer = "https://as.example.com/?x=1" }},
		{"http ExpectedIss", func(c *providers.OAuth2Config) { c.ExpectedIss = "http://as.example.com" }},
		{"no ClientID", func(c *providers.OAuth2Config) { c.ClientID = "" }},
		{"reserved AuthParams", func(c *providers.OAuth2Config) { c.AuthParams = url.Values{"code_challenge_method": {"plain"}} }},
		{"unknown ClientAuth", func(c *providers.OAuth2Config) { c.ClientAuth = 7 }},
		{"negative Timeout", func(c *providers.OAuth2Config) { c.Timeout = -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validOAuth2()
			tc.edit(&cfg)
			if _, err := providers.OAuth2(cfg); !errors.Is(err, providers.ErrInvalidConfig) {
				t.Errorf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
	p, err := providers.OAuth2(validOAuth2())
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer() != "https://as.example.com" || p.DisplayName() != "plain" {
		t.Errorf("Issuer %q DisplayName %q", p.Issuer(), p.DisplayName())
	}
	loop := validOAuth2()
	loop.AuthURL, loop.TokenURL, loop.UserURL = "http://127.0.0.1:9/a", "http://localhost:9/t", "http://[::1]:9/u"
	if _, err := providers.OAuth2(loop); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

func TestOAuth2AuthCodeURL(t *testing.T) {
	p, _ := providers.OAuth2(validOAuth2())
	raw, err := p.AuthCodeURL(context.Background(), providers.AuthRequest{RedirectURI: redirectURI, State: "st", Nonce: "nn", CodeChallenge: "ch"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	if q.Get("state") != "st" || q.Get("code_challenge") != "ch" || q.Get("code_challenge_method") != "S256" || q.Has("nonce") ||
		q.Get("redirect_uri") != redirectURI || q.Get("response_type") != "code" {
		t.Errorf("authorization URL %s", raw)
	}
	// No revocation configured.
	if err := p.Revoke(context.Background(), "t", "access_token"); !errors.Is(err, providers.ErrNoRevocation) {
		t.Errorf("Revoke: %v", err)
	}
	if _, err := p.Refresh(context.Background(), providers.Token{AccessToken: "a"}, "", ""); !errors.Is(err, providers.ErrNoRefreshToken) {
		t.Errorf("Refresh: %v", err)
	}
}

func TestGitHubConfig(t *testing.T) {
	ctx := context.Background()
	p, err := providers.GitHub(providers.GitHubConfig{ClientID: "cid", ClientSecret: "sec"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := p.AuthCodeURL(ctx, providers.AuthRequest{RedirectURI: redirectURI, State: "s", CodeChallenge: "c"})
	if !strings.HasPrefix(raw, "https://github.com/login/oauth/authorize?") || p.Issuer() != "https://github.com" || p.Name() != "github" {
		t.Errorf("github.com: %s, issuer %s", raw, p.Issuer())
	}
	ghes, err := providers.GitHub(providers.GitHubConfig{ClientID: "cid", ClientSecret: "sec", EnterpriseURL: "https://ghe.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = ghes.AuthCodeURL(ctx, providers.AuthRequest{RedirectURI: redirectURI, State: "s", CodeChallenge: "c"})
	if !strings.HasPrefix(raw, "https://ghe.example.com/login/oauth/authorize?") || ghes.Issuer() != "https://ghe.example.com" {
		t.Errorf("GHES: %s, issuer %s", raw, ghes.Issuer())
	}
	for _, bad := range []providers.GitHubConfig{
		{ClientSecret: "s"},
		{ClientID: "c"},
		{ClientID: "c", ClientSecret: "s", EnterpriseURL: "http://ghe.example.com"},
		{ClientID: "c", ClientSecret: "s", EnterpriseURL: "ghe.example.com"},
		{ClientID: "c", ClientSecret: "s", AllowedTeams: []string{"acme"}},
		{ClientID: "c", ClientSecret: "s", AllowedOrgs: []string{"a/b"}},
	} {
		if _, err := providers.GitHub(bad); !errors.Is(err, providers.ErrInvalidConfig) {
			t.Errorf("%+v: err = %v", bad, err)
		}
	}
}

// GitHub revocation: DELETE <api>/applications/<client_id>/token, basic
// auth, JSON body; 204 is success, a refresh token is not sent.
func TestGitHubRevoke(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		id, secret, _ := r.BasicAuth()
		if r.Method != http.MethodDelete || r.URL.Path != "/api/v3/applications/cid/token" || id != "cid" || secret != "sec" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	p, err := providers.GitHub(providers.GitHubConfig{ClientID: "cid", ClientSecret: "sec", EnterpriseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Revoke(context.Background(), "tok", "access_token"); err != nil {
		t.Errorf("Revoke: %v", err)
	}
	if err := p.Revoke(context.Background(), "rt", "refresh_token"); err != nil || calls != 1 {
		t.Errorf("refresh token: %v, %d calls", err, calls)
	}
	bad, _ := providers.GitHub(providers.GitHubConfig{ClientID: "cid", ClientSecret: "wrong", EnterpriseURL: srv.URL})
	if err := bad.Revoke(context.Background(), "tok", "access_token"); !errors.Is(err, providers.ErrUnavailable) {
		t.Errorf("401: %v", err)
	}
	srv.CloseClientConnections()
}

func TestDiscordConfig(t *testing.T) {
	p, err := providers.Discord(providers.DiscordConfig{ClientID: "cid", ClientSecret: "sec"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := p.AuthCodeURL(context.Background(), providers.AuthRequest{RedirectURI: redirectURI, State: "s", CodeChallenge: "c"})
	if !strings.HasPrefix(raw, "https://discord.com/oauth2/authorize?") || p.Issuer() != "https://discord.com" || p.Name() != "discord" {
		t.Errorf("discord: %s issuer %s", raw, p.Issuer())
	}
	if _, err := providers.Discord(providers.DiscordConfig{ClientID: "cid"}); !errors.Is(err, providers.ErrInvalidConfig) {
		t.Errorf("no secret: %v", err)
	}
}
