package ginauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// stubProvider is a Provider with any name and issuer; New never calls its
// network methods.
type stubProvider struct{ name, issuer string }

func (p stubProvider) Name() string        { return p.name }
func (p stubProvider) DisplayName() string { return p.name }
func (p stubProvider) Issuer() string      { return p.issuer }
func (p stubProvider) AuthCodeURL(context.Context, providers.AuthRequest) (string, error) {
	return "", errors.New("stub")
}
func (p stubProvider) Exchange(context.Context, providers.AuthResponse) (*providers.Identity, error) {
	return nil, errors.New("stub")
}

// validConfig returns a configuration New accepts; each case breaks one thing.
func validConfig(t *testing.T) ginauth.Config {
	t.Helper()
	p, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: "https://op.example.com", ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	return ginauth.Config{
		BaseURL:   "https://app.example.com",
		Secrets:   [][]byte{testSecret},
		Providers: []providers.Provider{p},
	}
}

func oidcProvider(t *testing.T, name, issuer string) providers.Provider {
	t.Helper()
	p, err := providers.OIDC(providers.OIDCConfig{Name: name, Issuer: issuer, ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfig_NewRejectsInvalidConfig: every configuration mistake is
// reported by New, wrapped in ErrInvalidConfig and in its own sentinel.
func TestConfig_NewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(t *testing.T, c *ginauth.Config)
		want   error
	}{
		{"no providers", func(t *testing.T, c *ginauth.Config) { c.Providers = nil }, ginauth.ErrNoProviders},
		{"empty provider list", func(t *testing.T, c *ginauth.Config) { c.Providers = []providers.Provider{} }, ginauth.ErrNoProviders},
		{"nil provider", func(t *testing.T, c *ginauth.Config) { c.Providers = append(c.Providers, nil) }, ginauth.ErrNoProviders},
		{"typed nil provider", func(t *testing.T, c *ginauth.Config) {
			var p *providers.OIDCProvider
			c.Providers = append(c.Providers, p)
		}, ginauth.ErrNoProviders},
		{"typed nil store", func(t *testing.T, c *ginauth.Config) {
			var r *store.Redis
			c.Store = r
		}, ginauth.ErrInvalidStore},
		{"auth path with a trailing slash", func(t *testing.T, c *ginauth.Config) { c.AuthPath = "/auth/" }, ginauth.ErrInvalidAuthPath},
		{"duplicate name", func(t *testing.T, c *ginauth.Config) {
			c.Providers = append(c.Providers, oidcProvider(t, "test", "https://other-op.example.com"))
		}, ginauth.ErrDuplicateProvider},
		{"invalid name upper case", func(t *testing.T, c *ginauth.Config) {
			c.Providers = append(c.Providers, stubProvider{"Google", "https://accounts.google.com"})
		}, ginauth.ErrInvalidProviderName},
		{"invalid name with slash", func(t *testing.T, c *ginauth.Config) {
			c.Providers = append(c.Providers, stubProvider{"a/b", "https://ab.example.com"})
		}, ginauth.ErrInvalidProviderName},
		{"invalid empty name", func(t *testing.T, c *ginauth.Config) {
			c.Providers = append(c.Providers, stubProvider{"", "https://empty.example.com"})
		}, ginauth.ErrInvalidProviderName},
		{"invalid name too long", func(t *testing.T, c *ginauth.Config) {
			c.Providers = append(c.Providers, stubProvider{strings.Repeat("a", 33), "https://long.example.com"})
		}, ginauth.ErrInvalidProviderName},
		{"shared issuer", func(t *testing.T, c *ginauth.Config) {
			c.Providers = append(c.Providers, oidcProvider(t, "other", "https://op.example.com"))
		}, ginauth.ErrSharedIssuer},
		{"no secret", func(t *testing.T, c *ginauth.Config) { c.Secrets = nil }, ginauth.ErrWeakSecret},
		{"31-byte secret", func(t *testing.T, c *ginauth.Config) { c.Secrets = [][]byte{make([]byte, 31)} }, ginauth.ErrWeakSecret},
		{"31-byte rotation secret", func(t *testing.T, c *ginauth.Config) { c.Secrets = append(c.Secrets, make([]byte, 31)) }, ginauth.ErrWeakSecret},
		{"nil secret", func(t *testing.T, c *ginauth.Config) { c.Secrets = [][]byte{nil} }, ginauth.ErrWeakSecret},
		{"BaseURL empty", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL relative", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "/app" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL without scheme", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "app.example.com" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path with two trailing slashes", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/app//" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path with an empty segment", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/a//b" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path with a dot-dot segment", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/app/../x" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path with a dot segment", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/./app" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path percent-encoded", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/a%70p" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path with an encoded slash", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/a%2Fb" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path with a semicolon", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/app;Domain=evil" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path with a space", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/my app" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path with non-ASCII", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/café" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path and query", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/app?x=1" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path and fragment", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/app#x" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL path and user info", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://u@app.example.com/app" }, ginauth.ErrInvalidBaseURL},
		{"AuthPath outside the BaseURL path", func(t *testing.T, c *ginauth.Config) {
			c.BaseURL, c.AuthPath = "https://app.example.com/app", "/auth"
		}, ginauth.ErrInvalidAuthPath},
		{"AuthPath beside the BaseURL path", func(t *testing.T, c *ginauth.Config) {
			c.BaseURL, c.AuthPath = "https://app.example.com/app", "/application/auth"
		}, ginauth.ErrInvalidAuthPath},
		{"AuthPath at the root with a BaseURL path", func(t *testing.T, c *ginauth.Config) {
			c.BaseURL, c.AuthPath = "https://app.example.com/app", "/"
		}, ginauth.ErrInvalidAuthPath},
		{"CookieName with a space", func(t *testing.T, c *ginauth.Config) { c.CookieName = "my app" }, ginauth.ErrInvalidCookieName},
		{"CookieName with a semicolon", func(t *testing.T, c *ginauth.Config) { c.CookieName = "a;b" }, ginauth.ErrInvalidCookieName},
		{"CookieName with an equals sign", func(t *testing.T, c *ginauth.Config) { c.CookieName = "a=b" }, ginauth.ErrInvalidCookieName},
		{"CookieName with a dot", func(t *testing.T, c *ginauth.Config) { c.CookieName = "a.b" }, ginauth.ErrInvalidCookieName},
		{"CookieName with a __Host- prefix", func(t *testing.T, c *ginauth.Config) { c.CookieName = "__Host-app" }, ginauth.ErrInvalidCookieName},
		{"CookieName with a __Secure- prefix", func(t *testing.T, c *ginauth.Config) { c.CookieName = "__Secure-app" }, ginauth.ErrInvalidCookieName},
		{"CookieName starting with a dash", func(t *testing.T, c *ginauth.Config) { c.CookieName = "-app" }, ginauth.ErrInvalidCookieName},
		{"CookieName non-ASCII", func(t *testing.T, c *ginauth.Config) { c.CookieName = "appé" }, ginauth.ErrInvalidCookieName},
		{"CookieName of 33 bytes", func(t *testing.T, c *ginauth.Config) { c.CookieName = strings.Repeat("a", 33) }, ginauth.ErrInvalidCookieName},
		{"BaseURL with query", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com?x=1" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL with empty query", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com?" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL with fragment", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com#x" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL with empty fragment", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com#" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL with user info", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://user@app.example.com" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL with a space", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com /" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL ftp", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "ftp://app.example.com" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL plain http on a public host", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "http://app.example.com" }, ginauth.ErrInvalidBaseURL},
		{"BaseURL plain http on a private address", func(t *testing.T, c *ginauth.Config) { c.BaseURL = "http://10.0.0.1:8080" }, ginauth.ErrInvalidBaseURL},
		{"SessionMaxAge negative", func(t *testing.T, c *ginauth.Config) { c.SessionMaxAge = -time.Hour }, ginauth.ErrInvalidLifetime},
		{"SessionMaxAge over 30 days", func(t *testing.T, c *ginauth.Config) { c.SessionMaxAge = 30*24*time.Hour + time.Second }, ginauth.ErrInvalidLifetime},
		{"SessionMaxAge under a second", func(t *testing.T, c *ginauth.Config) { c.SessionMaxAge = time.Millisecond }, ginauth.ErrInvalidLifetime},
		{"SessionIdleTimeout negative", func(t *testing.T, c *ginauth.Config) { c.SessionIdleTimeout = -time.Minute }, ginauth.ErrInvalidLifetime},
		{"idle over max age", func(t *testing.T, c *ginauth.Config) {
			c.SessionMaxAge, c.SessionIdleTimeout = time.Hour, time.Hour+time.Second
		}, ginauth.ErrInvalidLifetime},
		{"idle over the default max age", func(t *testing.T, c *ginauth.Config) { c.SessionIdleTimeout = 9 * time.Hour }, ginauth.ErrInvalidLifetime},
		{"allowed host with scheme", func(t *testing.T, c *ginauth.Config) {
			c.AllowedRedirectHosts = []string{"https://partner.example.com"}
		}, ginauth.ErrInvalidRedirectHost},
		{"allowed host with wildcard", func(t *testing.T, c *ginauth.Config) {
			c.AllowedRedirectHosts = []string{"*.example.com"}
		}, ginauth.ErrInvalidRedirectHost},
		{"allowed host with leading dot", func(t *testing.T, c *ginauth.Config) {
			c.AllowedRedirectHosts = []string{".example.com"}
		}, ginauth.ErrInvalidRedirectHost},
		{"allowed host with path", func(t *testing.T, c *ginauth.Config) {
			c.AllowedRedirectHosts = []string{"partner.example.com/cb"}
		}, ginauth.ErrInvalidRedirectHost},
		{"allowed host empty", func(t *testing.T, c *ginauth.Config) {
			c.AllowedRedirectHosts = []string{""}
		}, ginauth.ErrInvalidRedirectHost},
	}
	sentinels := []error{ginauth.ErrNoProviders, ginauth.ErrDuplicateProvider, ginauth.ErrInvalidProviderName,
		ginauth.ErrSharedIssuer, ginauth.ErrWeakSecret, ginauth.ErrInvalidBaseURL, ginauth.ErrInvalidLifetime,
		ginauth.ErrInvalidRedirectHost, ginauth.ErrInvalidAuthPath, ginauth.ErrInvalidCookieName}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig(t)
			tc.mutate(t, &cfg)
			var (
				auth *ginauth.Auth
				err  error
			)
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("New panicked: %v", p)
					}
				}()
				auth, err = ginauth.New(cfg)
			}()
			if err == nil || auth != nil {
				t.Fatalf("New accepted the config (auth %v)", auth)
			}
			if !errors.Is(err, ginauth.ErrInvalidConfig) {
				t.Errorf("error %q does not wrap ErrInvalidConfig", err)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %q", err, tc.want)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Errorf("error %q also wraps %q", err, s)
				}
			}
		})
	}
}

// TestConfig_NewAcceptsValidConfig: the positive controls of the rows above.
func TestConfig_NewAcceptsValidConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(t *testing.T, c *ginauth.Config)
	}{
		{"minimal https", func(*testing.T, *ginauth.Config) {}},
		{"BaseURL with trailing slash", func(_ *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/" }},
		{"BaseURL with port", func(_ *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com:8443" }},
		{"plain http on a public host with InsecureAllowHTTP", func(_ *testing.T, c *ginauth.Config) {
			c.BaseURL, c.InsecureAllowHTTP = "http://app.example.com", true
		}},
		{"plain http on 127.0.0.1", func(_ *testing.T, c *ginauth.Config) { c.BaseURL = "http://127.0.0.1:8080" }},
		{"plain http on localhost", func(_ *testing.T, c *ginauth.Config) { c.BaseURL = "http://localhost:8080" }},
		{"plain http on [::1]", func(_ *testing.T, c *ginauth.Config) { c.BaseURL = "http://[::1]:8080" }},
		{"two providers", func(t *testing.T, c *ginauth.Config) {
			c.Providers = append(c.Providers, oidcProvider(t, "other", "https://other-op.example.com"))
		}},
		{"rotation secrets", func(_ *testing.T, c *ginauth.Config) { c.Secrets = append(c.Secrets, make([]byte, 32)) }},
		{"32-byte secret", func(_ *testing.T, c *ginauth.Config) { c.Secrets = [][]byte{make([]byte, 32)} }},
		{"SessionMaxAge 30 days", func(_ *testing.T, c *ginauth.Config) { c.SessionMaxAge = 30 * 24 * time.Hour }},
		{"idle equal to max age", func(_ *testing.T, c *ginauth.Config) {
			c.SessionMaxAge, c.SessionIdleTimeout = time.Hour, time.Hour
		}},
		{"short max age with the default idle", func(_ *testing.T, c *ginauth.Config) { c.SessionMaxAge = 10 * time.Minute }},
		{"allowed hosts", func(_ *testing.T, c *ginauth.Config) {
			c.AllowedRedirectHosts = []string{"partner.example.com", "api.example.com:8443", "[::1]:9000"}
		}},
		{"BaseURL with a path", func(_ *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/app" }},
		{"BaseURL with a path and a trailing slash", func(_ *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/app/" }},
		{"BaseURL with a nested path", func(_ *testing.T, c *ginauth.Config) { c.BaseURL = "https://app.example.com/team-1/app_2.v~3" }},
		{"AuthPath at the BaseURL path", func(_ *testing.T, c *ginauth.Config) {
			c.BaseURL, c.AuthPath = "https://app.example.com/app", "/app"
		}},
		{"AuthPath below the BaseURL path", func(_ *testing.T, c *ginauth.Config) {
			c.BaseURL, c.AuthPath = "https://app.example.com/app/", "/app/x/login"
		}},
		{"CookieName", func(_ *testing.T, c *ginauth.Config) { c.CookieName = "shop_2-auth" }},
		{"CookieName of 32 bytes", func(_ *testing.T, c *ginauth.Config) { c.CookieName = strings.Repeat("a", 32) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig(t)
			tc.mutate(t, &cfg)
			if auth, err := ginauth.New(cfg); err != nil || auth == nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
}
