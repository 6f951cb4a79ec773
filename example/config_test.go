package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/providers"
)

// envOf returns a getenv over m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const (
	testSecret = "0123456789abcdef0123456789abcdef-example-test"
	testTenant = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"
)

func hasWarning(cfg config, substr string) bool {
	return slices.ContainsFunc(cfg.Warnings, func(w string) bool { return strings.Contains(w, substr) })
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, cfg config)
	}{
		{"defaults", nil, func(t *testing.T, cfg config) {
			if cfg.Addr != "127.0.0.1:8080" || cfg.BaseURL != "http://127.0.0.1:8080" {
				t.Errorf("Addr, BaseURL = %q, %q; want 127.0.0.1:8080, http://127.0.0.1:8080", cfg.Addr, cfg.BaseURL)
			}
			if !cfg.RandomSecret || len(cfg.Secret) != 32 || !hasWarning(cfg, "GINAUTH_SECRET is not set") {
				t.Errorf("want a random 32-byte secret with a warning; got random=%v len=%d warnings=%q", cfg.RandomSecret, len(cfg.Secret), cfg.Warnings)
			}
			if !cfg.Dev || cfg.OIDC != nil || cfg.Google != nil || cfg.Microsoft != nil {
				t.Errorf("want the development provider only; got %+v", cfg)
			}
			if !hasWarning(cfg, "development provider") {
				t.Errorf("want a development-provider warning; got %q", cfg.Warnings)
			}
			if cfg.SessionMaxAge != 0 || cfg.SessionIdle != 0 {
				t.Errorf("session lifetimes = %v, %v; want the library defaults (0)", cfg.SessionMaxAge, cfg.SessionIdle)
			}
		}},
		{"random secrets differ", nil, func(t *testing.T, cfg config) {
			other, err := parseConfig(envOf(nil))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(cfg.Secret, other.Secret) {
				t.Error("two starts got the same random secret")
			}
		}},
		{"GINAUTH_ADDR sets the default URL", map[string]string{"GINAUTH_ADDR": "127.0.0.1:9000"}, func(t *testing.T, cfg config) {
			if cfg.Addr != "127.0.0.1:9000" || cfg.BaseURL != "http://127.0.0.1:9000" {
				t.Errorf("Addr, BaseURL = %q, %q", cfg.Addr, cfg.BaseURL)
			}
		}},
		{"GINAUTH_ADDR IPv6", map[string]string{"GINAUTH_ADDR": "[::1]:9000"}, func(t *testing.T, cfg config) {
			if cfg.BaseURL != "http://[::1]:9000" {
				t.Errorf("BaseURL = %q", cfg.BaseURL)
			}
		}},
		{"GINAUTH_URL", map[string]string{"GINAUTH_ADDR": "0.0.0.0:8080", "GINAUTH_URL": "https://app.example.com/"}, func(t *testing.T, cfg config) {
			if cfg.Addr != "0.0.0.0:8080" || cfg.BaseURL != "https://app.example.com" {
				t.Errorf("Addr, BaseURL = %q, %q", cfg.Addr, cfg.BaseURL)
			}
		}},
		{"GINAUTH_URL with a path", map[string]string{"GINAUTH_URL": "https://example.com/team/app/"}, func(t *testing.T, cfg config) {
			if cfg.BaseURL != "https://example.com/team/app" || cfg.BasePath != "/team/app" {
				t.Errorf("BaseURL, BasePath = %q, %q", cfg.BaseURL, cfg.BasePath)
			}
		}},
		{"GINAUTH_URL without a path", map[string]string{"GINAUTH_URL": "https://example.com"}, func(t *testing.T, cfg config) {
			if cfg.BasePath != "" {
				t.Errorf("BasePath = %q", cfg.BasePath)
			}
		}},
		{"GINAUTH_SECRET", map[string]string{"GINAUTH_SECRET": testSecret}, func(t *testing.T, cfg config) {
			if string(cfg.Secret) != testSecret || cfg.RandomSecret || hasWarning(cfg, "GINAUTH_SECRET") {
				t.Errorf("secret not taken from GINAUTH_SECRET: random=%v warnings=%q", cfg.RandomSecret, cfg.Warnings)
			}
		}},
		{"no GINAUTH_REDIS_URL: the cookie store", nil, func(t *testing.T, cfg config) {
			if cfg.RedisURL != "" || storeName(cfg) != "cookie" {
				t.Errorf("RedisURL = %q, store %q", cfg.RedisURL, storeName(cfg))
			}
		}},
		{"GINAUTH_REDIS_URL", map[string]string{"GINAUTH_SECRET": testSecret, "GINAUTH_REDIS_URL": " redis://:p%40ss@127.0.0.1:6379/2 "}, func(t *testing.T, cfg config) {
			if cfg.RedisURL != "redis://:p%40ss@127.0.0.1:6379/2" {
				t.Errorf("RedisURL = %q", cfg.RedisURL)
			}
			if name := storeName(cfg); name != "redis redis://:xxxxx@127.0.0.1:6379/2" {
				t.Errorf("store name %q; want the URL without its password", name)
			}
			if len(cfg.Warnings) != 1 { // the development provider only
				t.Errorf("warnings %q", cfg.Warnings)
			}
		}},
		{"GINAUTH_REDIS_URL variants", map[string]string{"GINAUTH_SECRET": testSecret, "GINAUTH_REDIS_URL": "rediss://user:pw@redis.example.com:6380/0?dial_timeout=2s"}, func(t *testing.T, cfg config) {
			if cfg.RedisURL == "" {
				t.Error("a rediss:// URL with options was refused")
			}
		}},
		{"GINAUTH_REDIS_URL without GINAUTH_SECRET warns", map[string]string{"GINAUTH_REDIS_URL": "redis://127.0.0.1:6379"}, func(t *testing.T, cfg config) {
			if cfg.RedisURL == "" || !hasWarning(cfg, "cannot be shared with other instances") {
				t.Errorf("RedisURL %q, warnings %q", cfg.RedisURL, cfg.Warnings)
			}
		}},
		{"GINAUTH_REDIS_NEAR_CACHE", map[string]string{"GINAUTH_SECRET": testSecret, "GINAUTH_REDIS_URL": "redis://127.0.0.1:6379/0", "GINAUTH_REDIS_NEAR_CACHE": "2s"}, func(t *testing.T, cfg config) {
			if cfg.RedisNearCache != 2*time.Second {
				t.Errorf("RedisNearCache = %v; want 2s", cfg.RedisNearCache)
			}
			if name := storeName(cfg); name != "redis redis://127.0.0.1:6379/0, near cache 2s" {
				t.Errorf("store name %q", name)
			}
		}},
		{"session lifetimes", map[string]string{"GINAUTH_SESSION_MAX_AGE": "8h", "GINAUTH_SESSION_IDLE": "5s"}, func(t *testing.T, cfg config) {
			if cfg.SessionMaxAge != 8*time.Hour || cfg.SessionIdle != 5*time.Second {
				t.Errorf("lifetimes = %v, %v", cfg.SessionMaxAge, cfg.SessionIdle)
			}
		}},
		{"OIDC", map[string]string{
			"OIDC_ISSUER": "https://idp.example.com/realms/x", "OIDC_CLIENT_ID": "app", "OIDC_CLIENT_SECRET": "s3cret",
			"OIDC_SCOPES": " groups  offline_access ", "OIDC_END_SESSION": "0",
		}, func(t *testing.T, cfg config) {
			o := cfg.OIDC
			if o == nil || o.Name != "oidc" || o.Issuer != "https://idp.example.com/realms/x" || o.ClientID != "app" || o.ClientSecret != "s3cret" ||
				!slices.Equal(o.Scopes, []string{"groups", "offline_access"}) {
				t.Fatalf("OIDC = %+v", o)
			}
			if o.EndSession {
				t.Error("OIDC_END_SESSION=0 turned EndSession on")
			}
			if cfg.Dev || len(cfg.Warnings) != 1 { // the random secret only
				t.Errorf("Dev = %v, warnings %q; want no development provider", cfg.Dev, cfg.Warnings)
			}
		}},
		{"OIDC default scopes, public client", map[string]string{"OIDC_ISSUER": "http://127.0.0.1:5556/dex", "OIDC_CLIENT_ID": "app"}, func(t *testing.T, cfg config) {
			if cfg.OIDC == nil || cfg.OIDC.ClientSecret != "" || !slices.Equal(cfg.OIDC.Scopes, []string{"profile", "email"}) {
				t.Errorf("OIDC = %+v", cfg.OIDC)
			}
		}},
		{"OIDC_END_SESSION=1", map[string]string{"OIDC_ISSUER": "https://idp.example.com", "OIDC_CLIENT_ID": "app", "OIDC_END_SESSION": "1"}, func(t *testing.T, cfg config) {
			if cfg.OIDC == nil || !cfg.OIDC.EndSession {
				t.Errorf("OIDC = %+v; want EndSession", cfg.OIDC)
			}
			if hasWarning(cfg, "OIDC_END_SESSION") {
				t.Errorf("warnings = %q", cfg.Warnings)
			}
		}},
		{"OIDC_END_SESSION unset", map[string]string{"OIDC_ISSUER": "https://idp.example.com", "OIDC_CLIENT_ID": "app"}, func(t *testing.T, cfg config) {
			if cfg.OIDC == nil || cfg.OIDC.EndSession {
				t.Errorf("OIDC = %+v; want no EndSession", cfg.OIDC)
			}
		}},
		{"OIDC_END_SESSION=1 without OIDC warns", map[string]string{"GOOGLE_CLIENT_ID": "gid", "GOOGLE_CLIENT_SECRET": "gsecret", "OIDC_END_SESSION": "1"}, func(t *testing.T, cfg config) {
			if cfg.OIDC != nil || !hasWarning(cfg, "OIDC_END_SESSION=1 has no effect without OIDC_ISSUER") {
				t.Errorf("OIDC = %+v, warnings = %q", cfg.OIDC, cfg.Warnings)
			}
		}},
		{"Google", map[string]string{"GOOGLE_CLIENT_ID": "gid", "GOOGLE_CLIENT_SECRET": "gsecret"}, func(t *testing.T, cfg config) {
			if g := cfg.Google; g == nil || g.ClientID != "gid" || g.ClientSecret != "gsecret" || cfg.Dev {
				t.Errorf("Google = %+v, Dev = %v", g, cfg.Dev)
			}
		}},
		{"Microsoft", map[string]string{"MICROSOFT_CLIENT_ID": "mid", "MICROSOFT_CLIENT_SECRET": "msecret", "MICROSOFT_TENANT": testTenant}, func(t *testing.T, cfg config) {
			m := cfg.Microsoft
			if m == nil || m.ClientID != "mid" || m.ClientSecret != "msecret" || m.Tenant != strings.ToLower(testTenant) ||
				m.AllowedTenants != nil || m.Authority != "" || cfg.Dev {
				t.Errorf("Microsoft = %+v", m)
			}
			p, err := providers.Microsoft(*m)
			if err != nil || p.Name() != "microsoft" || p.Issuer() != "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0" {
				t.Errorf("provider: %v", err)
			}
		}},
		{"Microsoft multi-tenant by default", map[string]string{"MICROSOFT_CLIENT_ID": "mid", "MICROSOFT_CLIENT_SECRET": "msecret"}, func(t *testing.T, cfg config) {
			if m := cfg.Microsoft; m == nil || m.Tenant != "common" || m.AllowedTenants != nil {
				t.Errorf("Microsoft = %+v", m)
			}
		}},
		{"Microsoft allowed tenants and authority", map[string]string{"MICROSOFT_CLIENT_ID": "mid", "MICROSOFT_CLIENT_SECRET": "msecret",
			"MICROSOFT_TENANT": "Organizations", "MICROSOFT_ALLOWED_TENANTS": " " + testTenant + ", f8cdef31-a31e-4b4a-93e4-5f571e91255a,",
			"MICROSOFT_AUTHORITY": "https://login.microsoftonline.us"}, func(t *testing.T, cfg config) {
			m := cfg.Microsoft
			if m == nil || m.Tenant != "organizations" || len(m.AllowedTenants) != 2 || m.AllowedTenants[0] != testTenant || m.Authority != "https://login.microsoftonline.us" {
				t.Fatalf("Microsoft = %+v", m)
			}
			p, err := providers.Microsoft(*m)
			if err != nil || p.Issuer() != "https://login.microsoftonline.us/organizations/v2.0" ||
				!p.AcceptsIssuer("https://login.microsoftonline.us/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0") ||
				p.AcceptsIssuer("https://login.microsoftonline.us/00000000-0000-0000-0000-000000000001/v2.0") {
				t.Errorf("provider: %v", err)
			}
		}},
		{"Microsoft consumers", map[string]string{"MICROSOFT_CLIENT_ID": "mid", "MICROSOFT_CLIENT_SECRET": "msecret", "MICROSOFT_TENANT": "consumers"}, func(t *testing.T, cfg config) {
			if m := cfg.Microsoft; m == nil || m.Tenant != "consumers" {
				t.Errorf("Microsoft = %+v", m)
			}
		}},
		{"GINAUTH_DEV=1 adds dev to other providers", map[string]string{"GINAUTH_DEV": "1", "GOOGLE_CLIENT_ID": "gid", "GOOGLE_CLIENT_SECRET": "gsecret"}, func(t *testing.T, cfg config) {
			if !cfg.Dev || cfg.Google == nil {
				t.Errorf("Dev = %v, Google = %v", cfg.Dev, cfg.Google)
			}
		}},
		{"GINAUTH_DEV=0", map[string]string{"GINAUTH_DEV": "0", "GOOGLE_CLIENT_ID": "gid", "GOOGLE_CLIENT_SECRET": "gsecret"}, func(t *testing.T, cfg config) {
			if cfg.Dev || hasWarning(cfg, "development provider") {
				t.Errorf("Dev = %v, warnings %q", cfg.Dev, cfg.Warnings)
			}
		}},
		{"GitHub", map[string]string{"GITHUB_CLIENT_ID": "ghid", "GITHUB_CLIENT_SECRET": "ghsecret"}, func(t *testing.T, cfg config) {
			if cfg.GitHub == nil || cfg.GitHub.ClientID != "ghid" || cfg.GitHub.ClientSecret != "ghsecret" || cfg.GitHub.EnterpriseURL != "" || cfg.Dev {
				t.Fatalf("GitHub = %+v, Dev = %v", cfg.GitHub, cfg.Dev)
			}
			p, err := providers.GitHub(*cfg.GitHub)
			if err != nil || p.Name() != "github" || p.Issuer() != "https://github.com" {
				t.Errorf("provider: %v", err)
			}
			if names := describeProviders(cfg); len(names) != 1 || names[0] != "github" {
				t.Errorf("providers = %v", names)
			}
		}},
		{"GitHub Enterprise Server", map[string]string{"GITHUB_CLIENT_ID": "ghid", "GITHUB_CLIENT_SECRET": "ghsecret", "GITHUB_ENTERPRISE_URL": "https://ghe.example.com/"}, func(t *testing.T, cfg config) {
			if cfg.GitHub == nil || cfg.GitHub.EnterpriseURL != "https://ghe.example.com/" {
				t.Fatalf("GitHub = %+v", cfg.GitHub)
			}
			p, err := providers.GitHub(*cfg.GitHub)
			if err != nil || p.Issuer() != "https://ghe.example.com" {
				t.Fatalf("provider: %v", err)
			}
			u, _ := p.AuthCodeURL(context.Background(), providers.AuthRequest{RedirectURI: "http://127.0.0.1:8080/auth/callback/github", State: "s", CodeChallenge: "c"})
			if !strings.HasPrefix(u, "https://ghe.example.com/login/oauth/authorize?") {
				t.Errorf("authorization URL %s", u)
			}
		}},
		{"release mode with a real provider", map[string]string{"GIN_MODE": "release", "GOOGLE_CLIENT_ID": "gid", "GOOGLE_CLIENT_SECRET": "gsecret"}, func(t *testing.T, cfg config) {
			if cfg.Dev {
				t.Error("Dev = true")
			}
		}},
		{"release mode with GINAUTH_DEV=1", map[string]string{"GIN_MODE": "release", "GINAUTH_DEV": "1"}, func(t *testing.T, cfg config) {
			if !cfg.Dev || !hasWarning(cfg, "release mode") {
				t.Errorf("Dev = %v, warnings %q", cfg.Dev, cfg.Warnings)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(envOf(tt.env))
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	google := map[string]string{"GOOGLE_CLIENT_ID": "gid", "GOOGLE_CLIENT_SECRET": "gsecret"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want string // in the error message
	}{
		{"bad GINAUTH_ADDR", with(nil, "GINAUTH_ADDR", "localhost"), "GINAUTH_ADDR"},
		{"all interfaces without GINAUTH_URL", with(nil, "GINAUTH_ADDR", ":8080"), "GINAUTH_URL must be set"},
		{"unspecified IP without GINAUTH_URL", with(nil, "GINAUTH_ADDR", "0.0.0.0:8080"), "GINAUTH_URL must be set"},
		{"GINAUTH_URL not http", with(nil, "GINAUTH_URL", "ftp://app.example.com"), "not an absolute http(s) URL"},
		{"GINAUTH_URL with a query", with(nil, "GINAUTH_URL", "https://app.example.com/app?x=1"), "without query"},
		{"GINAUTH_URL path percent-encoded", with(nil, "GINAUTH_URL", "https://app.example.com/a%70p"), "the path of"},
		{"GINAUTH_URL path with a space", with(nil, "GINAUTH_URL", "https://app.example.com/my%20app"), "the path of"},
		{"GINAUTH_URL path with an empty segment", with(nil, "GINAUTH_URL", "https://app.example.com/a//b"), "the path of"},
		{"GINAUTH_URL path with a semicolon", with(nil, "GINAUTH_URL", "https://app.example.com/app;x"), "the path of"},
		{"short GINAUTH_SECRET", with(nil, "GINAUTH_SECRET", "too-short"), "at least 32 bytes"},
		{"GINAUTH_REDIS_URL not redis", with(nil, "GINAUTH_REDIS_URL", "http://127.0.0.1:6379/0"), "GINAUTH_REDIS_URL is not a Redis URL"},
		{"GINAUTH_REDIS_URL bad database", with(nil, "GINAUTH_REDIS_URL", "redis://:hunter2-secret@127.0.0.1:6379/zero"), "GINAUTH_REDIS_URL is not a Redis URL"},
		{"GINAUTH_REDIS_URL unknown option", with(nil, "GINAUTH_REDIS_URL", "redis://127.0.0.1:6379/0?colour=blue"), "GINAUTH_REDIS_URL is not a Redis URL"},
		{"GINAUTH_REDIS_URL unparsable", with(nil, "GINAUTH_REDIS_URL", "redis://:hunter2-secret@bad host:6379"), "GINAUTH_REDIS_URL"},
		{"GINAUTH_REDIS_NEAR_CACHE without Redis", with(nil, "GINAUTH_REDIS_NEAR_CACHE", "2s"), "GINAUTH_REDIS_NEAR_CACHE needs GINAUTH_REDIS_URL"},
		{"GINAUTH_REDIS_NEAR_CACHE above a minute", with(nil, "GINAUTH_REDIS_URL", "redis://127.0.0.1:6379/0", "GINAUTH_REDIS_NEAR_CACHE", "61s"), "above one minute"},
		{"GINAUTH_REDIS_NEAR_CACHE not a duration", with(nil, "GINAUTH_REDIS_URL", "redis://127.0.0.1:6379/0", "GINAUTH_REDIS_NEAR_CACHE", "2"), "GINAUTH_REDIS_NEAR_CACHE"},
		{"bad GINAUTH_SESSION_MAX_AGE", with(nil, "GINAUTH_SESSION_MAX_AGE", "8 hours"), "GINAUTH_SESSION_MAX_AGE"},
		{"negative GINAUTH_SESSION_IDLE", with(nil, "GINAUTH_SESSION_IDLE", "-5m"), "GINAUTH_SESSION_IDLE"},
		{"zero GINAUTH_SESSION_IDLE", with(nil, "GINAUTH_SESSION_IDLE", "0s"), "GINAUTH_SESSION_IDLE"},
		{"OIDC without issuer", with(nil, "OIDC_CLIENT_ID", "app"), "OIDC_ISSUER is required"},
		{"OIDC without client ID", with(nil, "OIDC_ISSUER", "https://idp.example.com"), "OIDC_CLIENT_ID is required"},
		{"OIDC issuer over http", with(nil, "OIDC_ISSUER", "http://idp.example.com", "OIDC_CLIENT_ID", "app"), "OIDC_ISSUER"},
		{"bad OIDC_END_SESSION", with(google, "OIDC_END_SESSION", "yes"), "OIDC_END_SESSION must be 0 or 1"},
		{"Google without secret", with(nil, "GOOGLE_CLIENT_ID", "gid"), "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET"},
		{"GitHub without secret", with(nil, "GITHUB_CLIENT_ID", "ghid"), "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET"},
		{"GitHub without ID", with(nil, "GITHUB_CLIENT_SECRET", "ghsecret"), "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET"},
		{"GitHub Enterprise URL alone", with(nil, "GITHUB_ENTERPRISE_URL", "https://ghe.example.com"), "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET"},
		{"GitHub Enterprise URL over http", with(nil, "GITHUB_CLIENT_ID", "ghid", "GITHUB_CLIENT_SECRET", "ghsecret", "GITHUB_ENTERPRISE_URL", "http://ghe.example.com"), "GITHUB_ENTERPRISE_URL"},
		{"GitHub Enterprise URL not absolute", with(nil, "GITHUB_CLIENT_ID", "ghid", "GITHUB_CLIENT_SECRET", "ghsecret", "GITHUB_ENTERPRISE_URL", "ghe.example.com"), "GITHUB_ENTERPRISE_URL"},
		{"GitHub Enterprise URL with a query", with(nil, "GITHUB_CLIENT_ID", "ghid", "GITHUB_CLIENT_SECRET", "ghsecret", "GITHUB_ENTERPRISE_URL", "https://ghe.example.com/?a=b"), "GITHUB_ENTERPRISE_URL"},
		{"Microsoft without secret", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_TENANT", testTenant), "MICROSOFT_CLIENT_SECRET"},
		{"Microsoft without ID", with(nil, "MICROSOFT_CLIENT_SECRET", "ms-secret-value"), "MICROSOFT_CLIENT_ID"},
		{"Microsoft tenant alone", with(nil, "MICROSOFT_TENANT", "common"), "MICROSOFT_CLIENT_ID"},
		{"Microsoft domain tenant", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_CLIENT_SECRET", "ms-secret-value", "MICROSOFT_TENANT", "contoso.onmicrosoft.com"), "MICROSOFT_TENANT"},
		{"Microsoft unknown alias", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_CLIENT_SECRET", "ms-secret-value", "MICROSOFT_TENANT", "adfs"), "MICROSOFT_TENANT"},
		{"Microsoft allowed tenant not a GUID", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_CLIENT_SECRET", "ms-secret-value", "MICROSOFT_ALLOWED_TENANTS", "contoso.com"), "MICROSOFT_ALLOWED_TENANTS"},
		{"Microsoft allowed tenants with a tenant ID", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_CLIENT_SECRET", "ms-secret-value", "MICROSOFT_TENANT", testTenant, "MICROSOFT_ALLOWED_TENANTS", testTenant), "MICROSOFT_ALLOWED_TENANTS"},
		{"Microsoft allowed tenants with consumers", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_CLIENT_SECRET", "ms-secret-value", "MICROSOFT_TENANT", "consumers", "MICROSOFT_ALLOWED_TENANTS", testTenant), "MICROSOFT_ALLOWED_TENANTS"},
		{"Microsoft authority over http", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_CLIENT_SECRET", "ms-secret-value", "MICROSOFT_AUTHORITY", "http://login.microsoftonline.com"), "MICROSOFT_AUTHORITY"},
		{"Microsoft authority with a path", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_CLIENT_SECRET", "ms-secret-value", "MICROSOFT_AUTHORITY", "https://login.microsoftonline.com/common"), "MICROSOFT_AUTHORITY"},
		{"Microsoft authority not a URL", with(nil, "MICROSOFT_CLIENT_ID", "mid", "MICROSOFT_CLIENT_SECRET", "ms-secret-value", "MICROSOFT_AUTHORITY", "login.microsoftonline.us"), "MICROSOFT_AUTHORITY"},
		{"GINAUTH_DEV=0 without providers", with(nil, "GINAUTH_DEV", "0"), "no provider is configured"},
		{"bad GINAUTH_DEV", with(nil, "GINAUTH_DEV", "true"), "GINAUTH_DEV must be 0 or 1"},
		{"release mode without providers", with(nil, "GIN_MODE", "release"), "GIN_MODE=release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseConfig error = %v; want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2-secret") {
				t.Errorf("error message reveals the Redis password: %v", err)
			}
			for _, k := range []string{"GINAUTH_SECRET", "GOOGLE_CLIENT_SECRET", "GITHUB_CLIENT_SECRET", "MICROSOFT_CLIENT_SECRET", "OIDC_CLIENT_SECRET"} {
				if v := tt.env[k]; v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("error message reveals %s", k)
				}
			}
		})
	}
}

func TestParseConfigReportsEveryError(t *testing.T) {
	_, err := parseConfig(envOf(map[string]string{"GINAUTH_SECRET": "short", "GINAUTH_REDIS_URL": "redis:/x/y", "GINAUTH_DEV": "2"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"GINAUTH_SECRET", "GINAUTH_REDIS_URL", "GINAUTH_DEV"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

// TestReleaseModeRefusal runs the program's entry point: with GIN_MODE=release
// and no provider it must exit non-zero with a clear message, before
// listening.
func TestReleaseModeRefusal(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), envOf(map[string]string{"GIN_MODE": "release", "GINAUTH_ADDR": "127.0.0.1:0"}), &stderr)
	if code != exitConfig {
		t.Errorf("exit status = %d; want %d", code, exitConfig)
	}
	out := stderr.String()
	for _, want := range []string{"invalid configuration", "GIN_MODE=release", "development provider", "GINAUTH_DEV=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "listening") {
		t.Errorf("the app started:\n%s", out)
	}
}

// TestNewAppErrors: settings that only ginauth.New can judge are reported as
// errors too, never as panics.
func TestNewAppErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want error
	}{
		{"idle longer than max age", map[string]string{"GINAUTH_SESSION_MAX_AGE": "1h", "GINAUTH_SESSION_IDLE": "2h"}, ginauth.ErrInvalidLifetime},
		{"max age too long", map[string]string{"GINAUTH_SESSION_MAX_AGE": "9000h"}, ginauth.ErrInvalidLifetime},
		{"plain http on a public host", map[string]string{"GINAUTH_URL": "http://app.example.com", "GOOGLE_CLIENT_ID": "gid", "GOOGLE_CLIENT_SECRET": "gsecret"}, ginauth.ErrInvalidBaseURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(envOf(tt.env))
			if err != nil {
				t.Fatalf("parseConfig: %v", err)
			}
			_, err = newApp(cfg, newLogger(&bytes.Buffer{}), nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("newApp error = %v; want %v", err, tt.want)
			}
			var stderr bytes.Buffer
			env := map[string]string{"GINAUTH_ADDR": "127.0.0.1:0"}
			for k, v := range tt.env {
				env[k] = v
			}
			if code := run(context.Background(), envOf(env), &stderr); code != exitConfig || !strings.Contains(stderr.String(), "invalid configuration") {
				t.Errorf("run = %d, stderr %q; want %d and a message", code, stderr.String(), exitConfig)
			}
		})
	}
}

func TestHideUserinfo(t *testing.T) {
	for _, tc := range []struct{ raw, msg, want string }{
		{"redis://:pw1@h:1/0", `parse "redis://:pw1@h:1/0": bad`, `parse "redis://xxxxx@h:1/0": bad`},
		{"redis://user:p%40ss@h/0", "user:p@ss and p%40ss", "xxxxx and xxxxx"},
		{"rediss://u:secret@h", "secret", "xxxxx"},
		{"redis://h:6379/0", "redis://h:6379/0 fails", "redis://h:6379/0 fails"},
		{"redis://h/0?x=a@b", "x=a@b", "x=a@b"}, // an @ after the host is not user information
	} {
		if got := hideUserinfo(tc.raw, tc.msg); got != tc.want {
			t.Errorf("hideUserinfo(%q, %q) = %q; want %q", tc.raw, tc.msg, got, tc.want)
		}
	}
	if got := redactedURL("redis://u:secret@h:1/0"); got != "redis://u:xxxxx@h:1/0" {
		t.Errorf("redactedURL = %q", got)
	}
}

// TestNewAppMicrosoft: the MICROSOFT_* variables build the preset, named
// microsoft, listed with its sign-in URL (construction does no network I/O).
func TestNewAppMicrosoft(t *testing.T) {
	cfg, err := parseConfig(envOf(map[string]string{"MICROSOFT_CLIENT_ID": "mid", "MICROSOFT_CLIENT_SECRET": "msecret",
		"MICROSOFT_ALLOWED_TENANTS": testTenant}))
	if err != nil {
		t.Fatal(err)
	}
	h, err := newApp(cfg, newLogger(&bytes.Buffer{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/providers", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"microsoft"`) {
		t.Fatalf("/auth/providers: %d %s", rec.Code, rec.Body.String())
	}
	if names := describeProviders(cfg); !slices.Contains(names, "microsoft") {
		t.Errorf("describeProviders = %v", names)
	}
}
