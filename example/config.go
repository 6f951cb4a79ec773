package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/providers"
)

// config is the example app's configuration, read from the environment by
// parseConfig. Provider settings are kept as the providers package's own
// config structs; newApp builds the providers from them.
type config struct {
	Addr    string // listen address
	BaseURL string // public URL (origin and optional path), without trailing slash
	// BasePath is BaseURL's path ("" or "/app"): every route of the app,
	// auth routes and the development provider included, is served under it.
	BasePath string

	Secret       []byte
	RandomSecret bool // Secret was generated at start: sessions end at restart

	SessionMaxAge time.Duration // 0: the library's default
	SessionIdle   time.Duration // 0: the library's default

	RedisURL string // GINAUTH_REDIS_URL: the Redis session store; "": the cookie store
	// RedisNearCache (GINAUTH_REDIS_NEAR_CACHE): the Redis store's near
	// cache TTL (store.RedisOptions.NearCacheTTL); 0: no near cache.
	RedisNearCache time.Duration

	// RevocationRedisURL (GINAUTH_REVOCATION_REDIS_URL): with the cookie
	// store, share sign-outs between instances through this Redis
	// (package revsync); "": each instance keeps its own list.
	RevocationRedisURL string
	// RevocationsFailOpen (GINAUTH_REVOCATION_FAIL_OPEN=1): serve cookie
	// sessions while the shared list is not in step, instead of 503.
	RevocationsFailOpen bool

	// APIAudience (GINAUTH_API_AUDIENCE): when set, /api/* also accepts
	// bearer access tokens with this audience.
	APIAudience string

	// AllowedDomains and AllowedEmails (GINAUTH_ALLOWED_DOMAINS,
	// GINAUTH_ALLOWED_EMAILS): when either is set, only users with a
	// verified email in a domain, or equal to an address, may sign in.
	AllowedDomains []string
	AllowedEmails  []string

	OIDC      *providers.OIDCConfig      // generic provider "oidc", when configured
	Google    *providers.GoogleConfig    // Google, when configured
	Microsoft *providers.MicrosoftConfig // Microsoft Entra ID, when configured
	GitHub    *providers.GitHubConfig    // GitHub (OAuth 2.0, no ID token), when configured
	Dev       bool                       // mount the development provider "dev"

	// DebugAddr (GINAUTH_DEBUG_ADDR): a loopback listen address for the
	// debug listener (runtime figures, pprof; see debug.go); "": none.
	DebugAddr string
	// DevTokenTTL (GINAUTH_DEV_TOKEN_TTL): the development provider's
	// access and ID token lifetime; 0: its default (1h).
	DevTokenTTL time.Duration

	// Warnings are logged at start.
	Warnings []string
}

const (
	defaultAddr     = "127.0.0.1:8080"
	minSecretLength = 32
)

// defaultOIDCScopes are requested (with openid) when OIDC_SCOPES is unset.
var defaultOIDCScopes = []string{"profile", "email"}

// parseConfig reads the configuration through getenv (os.Getenv in main).
// An empty variable counts as unset. It reports every problem it finds, joined
// into one error; the messages never include secret values.
func parseConfig(getenv func(string) string) (config, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	env := func(name string) string { return strings.TrimSpace(getenv(name)) }

	cfg := config{Addr: env("GINAUTH_ADDR")}
	if cfg.Addr == "" {
		cfg.Addr = defaultAddr
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		fail("GINAUTH_ADDR %q is not a host:port listen address", cfg.Addr)
	}

	cfg.BaseURL = strings.TrimSuffix(env("GINAUTH_URL"), "/")
	switch {
	case cfg.BaseURL != "":
		if path, err := checkBaseURL(cfg.BaseURL); err != nil {
			fail("GINAUTH_URL: %v", err)
		} else {
			cfg.BasePath = path
		}
	case err != nil:
		// Already reported: no default URL can be derived.
	case listensEverywhere(host):
		fail("GINAUTH_URL must be set when GINAUTH_ADDR (%q) listens on all interfaces: the public URL cannot be guessed", cfg.Addr)
	default:
		cfg.BaseURL = "http://" + cfg.Addr
	}

	if s := getenv("GINAUTH_SECRET"); s != "" {
		if len(s) < minSecretLength {
			fail("GINAUTH_SECRET must be at least %d bytes long (it has %d)", minSecretLength, len(s))
		}
		cfg.Secret = []byte(s)
	} else {
		cfg.Secret = make([]byte, minSecretLength)
		rand.Read(cfg.Secret) // never fails since Go 1.24
		cfg.RandomSecret = true
		cfg.Warnings = append(cfg.Warnings, "GINAUTH_SECRET is not set: using a random secret, so every restart signs everyone out and instances cannot share sessions")
	}

	if u := env("GINAUTH_REDIS_URL"); u != "" {
		if _, err := redis.ParseURL(u); err != nil {
			fail("GINAUTH_REDIS_URL is not a Redis URL such as redis://[:password@]host:6379/0 or rediss://... (%s)", hideUserinfo(u, err.Error()))
		} else {
			cfg.RedisURL = u
		}
		if cfg.RandomSecret {
			cfg.Warnings = append(cfg.Warnings, "GINAUTH_REDIS_URL is set without GINAUTH_SECRET: sessions kept in Redis cannot be shared with other instances or survive a restart of this one")
		}
	}

	cfg.RedisNearCache = parseDuration("GINAUTH_REDIS_NEAR_CACHE", env("GINAUTH_REDIS_NEAR_CACHE"), fail)
	switch {
	case cfg.RedisNearCache > time.Minute:
		fail("GINAUTH_REDIS_NEAR_CACHE %v is above one minute: it bounds how long a session ended elsewhere may still be served here", cfg.RedisNearCache)
	case cfg.RedisNearCache > 0 && env("GINAUTH_REDIS_URL") == "":
		fail("GINAUTH_REDIS_NEAR_CACHE needs GINAUTH_REDIS_URL (it caches the Redis store's sessions)")
	}

	parseRevocations(env, &cfg, fail)

	cfg.AllowedDomains = parseList("GINAUTH_ALLOWED_DOMAINS", env("GINAUTH_ALLOWED_DOMAINS"), func(d string) error {
		_, err := ginauth.NewAllowList(nil, []string{d}, nil)
		return err
	}, fail)
	cfg.AllowedEmails = parseList("GINAUTH_ALLOWED_EMAILS", env("GINAUTH_ALLOWED_EMAILS"), func(e string) error {
		_, err := ginauth.NewAllowList([]string{e}, nil, nil)
		return err
	}, fail)

	cfg.SessionMaxAge = parseDuration("GINAUTH_SESSION_MAX_AGE", env("GINAUTH_SESSION_MAX_AGE"), fail)
	cfg.SessionIdle = parseDuration("GINAUTH_SESSION_IDLE", env("GINAUTH_SESSION_IDLE"), fail)

	// Generic OpenID Connect provider.
	if env("OIDC_ISSUER") != "" || env("OIDC_CLIENT_ID") != "" || getenv("OIDC_CLIENT_SECRET") != "" || env("OIDC_SCOPES") != "" {
		issuer, clientID := env("OIDC_ISSUER"), env("OIDC_CLIENT_ID")
		switch {
		case issuer == "":
			fail("OIDC_ISSUER is required when any OIDC_* variable is set")
		default:
			if err := providers.CheckIssuerURL(issuer); err != nil {
				fail("OIDC_ISSUER: %v", err)
			}
		}
		if clientID == "" {
			fail("OIDC_CLIENT_ID is required when any OIDC_* variable is set")
		}
		scopes := strings.Fields(env("OIDC_SCOPES"))
		if len(scopes) == 0 {
			scopes = defaultOIDCScopes
		}
		cfg.OIDC = &providers.OIDCConfig{
			Name:         "oidc",
			DisplayName:  "OpenID Connect",
			Issuer:       issuer,
			ClientID:     clientID,
			ClientSecret: getenv("OIDC_CLIENT_SECRET"), // empty: a public client (PKCE only)
			Scopes:       scopes,
		}
	}
	// RP-initiated logout: signing out also ends the provider's session,
	// when its discovery document advertises an end_session_endpoint.
	switch env("OIDC_END_SESSION") {
	case "", "0":
	case "1":
		if cfg.OIDC != nil {
			cfg.OIDC.EndSession = true
		} else {
			cfg.Warnings = append(cfg.Warnings, "OIDC_END_SESSION=1 has no effect without OIDC_ISSUER: it applies to the generic provider \"oidc\" only")
		}
	default:
		fail("OIDC_END_SESSION must be 0 or 1")
	}

	// Google.
	if id, secret := env("GOOGLE_CLIENT_ID"), getenv("GOOGLE_CLIENT_SECRET"); id != "" || secret != "" {
		if id == "" || secret == "" {
			fail("GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET must be set together")
		}
		cfg.Google = &providers.GoogleConfig{ClientID: id, ClientSecret: secret}
	}

	// GitHub: OAuth 2.0 only (no ID token), github.com or an Enterprise Server.
	if id, secret, ghes := env("GITHUB_CLIENT_ID"), getenv("GITHUB_CLIENT_SECRET"), env("GITHUB_ENTERPRISE_URL"); id != "" || secret != "" || ghes != "" {
		if id == "" || secret == "" {
			fail("GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET must be set together")
		}
		if ghes != "" {
			if err := providers.CheckIssuerURL(strings.TrimSuffix(ghes, "/")); err != nil {
				fail("GITHUB_ENTERPRISE_URL: %v", err)
			}
		}
		cfg.GitHub = &providers.GitHubConfig{ClientID: id, ClientSecret: secret, EnterpriseURL: ghes}
	}

	// Microsoft Entra ID: one tenant, or multi-tenant (common, organizations,
	// consumers) with an optional allow-list of tenant IDs.
	if id, secret := env("MICROSOFT_CLIENT_ID"), getenv("MICROSOFT_CLIENT_SECRET"); id != "" || secret != "" ||
		env("MICROSOFT_TENANT") != "" || env("MICROSOFT_ALLOWED_TENANTS") != "" || env("MICROSOFT_AUTHORITY") != "" {
		cfg.Microsoft = parseMicrosoft(env, id, secret, fail)
	}

	// The development provider.
	others := cfg.OIDC != nil || cfg.Google != nil || cfg.Microsoft != nil || cfg.GitHub != nil
	dev := env("GINAUTH_DEV")
	switch dev {
	case "1":
		cfg.Dev = true
	case "0":
		if !others {
			fail("GINAUTH_DEV=0 and no provider is configured: set OIDC_*, GOOGLE_*, GITHUB_* or MICROSOFT_* variables")
		}
	case "":
		cfg.Dev = !others
	default:
		fail("GINAUTH_DEV must be 0 or 1")
	}
	if cfg.Dev {
		release := getenv("GIN_MODE") == "release"
		switch {
		case release && dev != "1":
			fail("GIN_MODE=release and no identity provider is configured: refusing to start the development provider, which signs anyone in as a test user without a password; configure a real provider, or set GINAUTH_DEV=1 to run it anyway")
		case release:
			cfg.Warnings = append(cfg.Warnings, "the development provider is enabled in release mode (GINAUTH_DEV=1): anyone can sign in as a test user without a password")
		default:
			cfg.Warnings = append(cfg.Warnings, "the development provider \"dev\" is enabled: anyone can sign in as a test user without a password; never use it in production")
		}
	}

	// Bearer access tokens on /api/* (GINAUTH_API_AUDIENCE).
	cfg.APIAudience = env("GINAUTH_API_AUDIENCE")

	cfg.DebugAddr = parseDebugAddr(env("GINAUTH_DEBUG_ADDR"), fail)
	cfg.DevTokenTTL = parseDuration("GINAUTH_DEV_TOKEN_TTL", env("GINAUTH_DEV_TOKEN_TTL"), fail)
	if cfg.DevTokenTTL != 0 && !cfg.Dev {
		cfg.Warnings = append(cfg.Warnings, "GINAUTH_DEV_TOKEN_TTL has no effect without the development provider")
	}

	if len(errs) > 0 {
		return config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// parseRevocations reads GINAUTH_REVOCATION_REDIS_URL and
// GINAUTH_REVOCATION_FAIL_OPEN.
func parseRevocations(env func(string) string, cfg *config, fail func(string, ...any)) {
	if u := env("GINAUTH_REVOCATION_REDIS_URL"); u != "" {
		if _, err := redis.ParseURL(u); err != nil {
			fail("GINAUTH_REVOCATION_REDIS_URL is not a Redis URL such as redis://[:password@]host:6379/0 or rediss://... (%s)", hideUserinfo(u, err.Error()))
		} else {
			cfg.RevocationRedisURL = u
		}
		if cfg.RedisURL != "" {
			fail("GINAUTH_REVOCATION_REDIS_URL is for the cookie store; with GINAUTH_REDIS_URL a sign-out already ends the session on every instance: unset one of them")
		}
		if cfg.RandomSecret {
			cfg.Warnings = append(cfg.Warnings, "GINAUTH_REVOCATION_REDIS_URL is set without GINAUTH_SECRET: instances cannot share sessions, so there is nothing to share sign-outs for")
		}
	}
	switch env("GINAUTH_REVOCATION_FAIL_OPEN") {
	case "", "0":
	case "1":
		if cfg.RevocationRedisURL == "" {
			fail("GINAUTH_REVOCATION_FAIL_OPEN=1 needs GINAUTH_REVOCATION_REDIS_URL")
		}
		cfg.RevocationsFailOpen = true
	default:
		fail("GINAUTH_REVOCATION_FAIL_OPEN must be 0 or 1")
	}
}

// parseMicrosoft reads the MICROSOFT_* variables; each mistake names its
// variable. The rules are those of providers.Microsoft.
func parseMicrosoft(env func(string) string, id, secret string, fail func(string, ...any)) *providers.MicrosoftConfig {
	if id == "" || secret == "" {
		fail("MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET must be set together when any MICROSOFT_* variable is set")
	}
	m := &providers.MicrosoftConfig{ClientID: id, ClientSecret: secret, Tenant: strings.ToLower(env("MICROSOFT_TENANT"))}
	multi := true
	switch m.Tenant {
	case "":
		m.Tenant = providers.MicrosoftCommon
	case providers.MicrosoftCommon, providers.MicrosoftOrganizations, providers.MicrosoftConsumers:
	default:
		multi = false
		if !providers.IsMicrosoftTenantID(m.Tenant) {
			fail("MICROSOFT_TENANT %q is not a tenant ID (a GUID such as 00000000-0000-0000-0000-000000000000) nor common, organizations or consumers (domain names are not accepted: use the directory (tenant) ID)", m.Tenant)
		}
	}
	if list := env("MICROSOFT_ALLOWED_TENANTS"); list != "" {
		for _, t := range strings.Split(list, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if !providers.IsMicrosoftTenantID(t) {
				fail("MICROSOFT_ALLOWED_TENANTS: %q is not a tenant ID (a GUID)", t)
			}
			m.AllowedTenants = append(m.AllowedTenants, t)
		}
		if !multi || m.Tenant == providers.MicrosoftConsumers {
			fail("MICROSOFT_ALLOWED_TENANTS needs MICROSOFT_TENANT common or organizations (it is %q)", m.Tenant)
		}
	}
	if a := env("MICROSOFT_AUTHORITY"); a != "" {
		m.Authority = a
		probe := providers.MicrosoftConfig{ClientID: "probe", Authority: a}
		if _, err := providers.Microsoft(probe); err != nil {
			fail("MICROSOFT_AUTHORITY %q must be an https origin without path, such as %s", a, providers.MicrosoftAuthority)
		}
	}
	return m
}

// checkBaseURL accepts an absolute http(s) origin, optionally followed by a
// path prefix of plain segments (letters, digits, "-._~"), and returns that
// path without its trailing slash ("" or "/app"). ginauth.New applies the
// full rules (plain http only on loopback hosts).
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%q must be an origin (scheme and host) with an optional path, without query, fragment or user info", raw)
	}
	path := strings.TrimSuffix(u.Path, "/")
	if u.RawPath != "" || !basePathRe.MatchString(path) {
		return "", fmt.Errorf("the path of %q must be segments of letters, digits and \"-._~\", such as /app (no percent-encoding, no \".\" or \"..\" segment)", raw)
	}
	return path, nil
}

// basePathRe matches "" and paths of non-empty segments of unreserved
// characters; "." and ".." segments are refused by ginauth.New.
var basePathRe = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)*$`)

// hideUserinfo removes the user information (which may hold a password)
// of the URL raw from msg, as written and as decoded.
func hideUserinfo(raw, msg string) string {
	rest := raw
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	i := strings.LastIndex(rest, "@")
	if i <= 0 {
		return msg
	}
	info := rest[:i]
	msg = strings.ReplaceAll(msg, info, "xxxxx")
	if dec, err := url.PathUnescape(info); err == nil && dec != info {
		msg = strings.ReplaceAll(msg, dec, "xxxxx")
	}
	if _, pw, ok := strings.Cut(info, ":"); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
		if dec, err := url.PathUnescape(pw); err == nil {
			msg = strings.ReplaceAll(msg, dec, "xxxxx")
		}
	}
	return msg
}

// redactedURL is raw with its password replaced by "xxxxx", for logs.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return hideUserinfo(raw, raw)
	}
	return u.Redacted()
}

// listensEverywhere reports whether a listen host means all interfaces, so
// that it names no host a browser could use.
func listensEverywhere(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}

// parseDuration parses a positive Go duration; "" means the default (0).
func parseDuration(name, v string, fail func(string, ...any)) time.Duration {
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		fail("%s %q is not a positive Go duration such as 8h, 30m or 45s", name, v)
		return 0
	}
	return d
}

// parseList splits a comma-separated variable, trimming spaces; an empty
// entry or one check refuses is reported with the variable's name.
func parseList(name, v string, check func(string) error, fail func(string, ...any)) []string {
	if v == "" {
		return nil
	}
	var list []string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			fail("%s: empty entry in %q", name, v)
			continue
		}
		if err := check(item); err != nil {
			fail("%s: %q is not valid: %v", name, item, err)
			continue
		}
		list = append(list, item)
	}
	return list
}
