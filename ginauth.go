// Package ginauth signs people in and out of Gin applications with OAuth 2.0
// and OpenID Connect providers (Google, Microsoft, Keycloak, any OIDC issuer).
//
// It brings the two flows of the JavaScript library Light-Auth,
// signIn(providerName, callbackUrl) and signOut(revokeToken, callbackUrl), to
// Go, with every protection of the specifications on by default: state, PKCE
// S256 and nonce on every sign-in, RFC 9207 issuer checks, full ID token
// validation, sealed single-use flow cookies, open-redirect-proof callback
// URLs, CSRF-protected sign-in and sign-out, and sealed, size-checked session
// cookies with absolute and idle timeouts enforced on the server.
//
// # Usage
//
//	google, err := providers.Google(providers.GoogleConfig{ClientID: id, ClientSecret: secret})
//	if err != nil { log.Fatal(err) }
//	auth, err := ginauth.New(ginauth.Config{
//		BaseURL:   "https://app.example.com",
//		Secrets:   [][]byte{key}, // >= 32 bytes
//		Providers: []providers.Provider{google},
//	})
//	if err != nil { log.Fatal(err) } // every config mistake is reported here
//
//	r := gin.Default()
//	auth.Register(r.Group("/auth"))
//	api := r.Group("/api", auth.RequireAuth(ginauth.API))
//	api.GET("/me", func(c *gin.Context) {
//		u, _ := ginauth.UserFrom(c)
//		c.JSON(200, u)
//	})
//
// # Routes
//
// [Auth.Register] mounts the sign-in page, signin/:provider (GET, and POST
// with a CSRF token), callback/:provider (GET, and POST for form_post),
// signout (GET shows a confirmation form, POST signs out), signout/complete
// (the return from a provider's end-session endpoint), session, csrf,
// providers, backchannel-logout/:provider (OpenID Connect Back-Channel
// Logout) and client.js (the browser client: signIn, signOut, getSession).
//
// # Tokens
//
// [Auth.AccessToken] returns the provider's access token, refreshed first
// when it is about to expire (single-flight; across instances with the
// Redis store). [Auth.SignOut] can revoke the tokens and end the provider's
// own session; [Auth.SignOutUser] ends every session of a user.
//
// # Sessions
//
// The default store ([store.Cookie]) keeps the whole session in AES-GCM sealed
// cookies; server-side stores keep it elsewhere and put an opaque ID in the
// cookie. Tokens never reach the browser in readable form.
package ginauth

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/redirect"
	"github.com/ginauth/ginauth/internal/seal"
	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// Defaults and limits of the session lifetimes.
const (
	DefaultSessionMaxAge      = 8 * time.Hour
	DefaultSessionIdleTimeout = 30 * time.Minute
	MaxSessionMaxAge          = 30 * 24 * time.Hour
	MinSessionLifetime        = time.Second
	// FlowTTL is how long a sign-in may take, from the redirect to the
	// provider to the callback.
	FlowTTL = 10 * time.Minute
)

// Config configures an Auth. Only BaseURL, Secrets and Providers are required.
type Config struct {
	// BaseURL is the app's public origin, e.g. "https://app.example.com".
	// Redirect URIs are built from it, never from request headers. With https,
	// cookies are Secure and use the __Host- prefix. Plain http is accepted on
	// loopback hosts only, unless InsecureAllowHTTP is set.
	BaseURL string
	// Secrets are keys of at least 32 bytes each. The first seals cookies
	// and signs CSRF tokens; all of them open, so keys can be rotated.
	Secrets [][]byte
	// Providers are the identity providers, with unique names and issuers.
	Providers []providers.Provider
	// Store keeps sessions. Default: store.NewCookie().
	Store store.Store

	// SessionMaxAge is the absolute session lifetime. Default 8 h, at most 30 days.
	SessionMaxAge time.Duration
	// SessionIdleTimeout ends a session after this long without requests.
	// Default 30 min; at most SessionMaxAge.
	SessionIdleTimeout time.Duration

	// RefreshMargin: AccessToken refreshes an access token that expires
	// within it. Default 60 s.
	RefreshMargin time.Duration

	// AllowedRedirectHosts lists other hosts ("host" or "host:port") that
	// callbackUrl may name as absolute https URLs. Same-origin paths are
	// always allowed; anything else falls back to "/".
	AllowedRedirectHosts []string

	// InsecureAllowHTTP accepts a plain-http BaseURL on a non-loopback host.
	// Cookies are then not Secure. MUST NOT be used in production.
	InsecureAllowHTTP bool

	// Logger receives warnings (failed sign-ins, store errors). It never
	// receives tokens, codes or secrets. Default slog.Default().
	Logger *slog.Logger
	// RenderPage replaces the built-in HTML pages (sign-in, sign-out
	// confirmation, error, forbidden).
	RenderPage func(c *gin.Context, p Page)
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Auth signs users in and out. Create it with New; it is safe for concurrent
// use. Call Register before serving requests.
type Auth struct {
	cfg       Config
	origin    string
	secure    bool
	providers map[string]providers.Provider
	ordered   []providers.Provider
	store     store.Store
	redirects *redirect.Policy
	now       func() time.Time
	log       *slog.Logger
	render    func(c *gin.Context, p Page)

	sessionSeal *seal.Sealer
	tokensSeal  *seal.Sealer
	flowSeal    *seal.Sealer
	logoutSeal  *seal.Sealer
	clientSide  bool // the store keeps sessions in the cookie itself
	csrf        *csrfSigner
	crossOrigin *http.CrossOriginProtection
	used        *usedStates

	revoked       revocations
	refreshes     flights
	recent        recentRefreshes
	refreshMargin time.Duration
	lockTTL       time.Duration
	logouts       *usedStates // jti of processed logout tokens

	cookies   cookieNames
	basePath  string
	idle      time.Duration
	maxAge    time.Duration
	touchEach time.Duration
}

// New validates cfg and returns an Auth. Every configuration mistake is
// reported here, wrapped in ErrInvalidConfig.
func New(cfg Config) (*Auth, error) {
	a := &Auth{cfg: cfg, basePath: "/auth"}
	if err := a.init(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return a, nil
}

func (a *Auth) init() error {
	cfg := a.cfg
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.User != nil || (base.Path != "" && base.Path != "/") || base.RawQuery != "" || base.Fragment != "" {
		return fmt.Errorf("%w: %q must be an absolute http(s) origin without path, query or user info", ErrInvalidBaseURL, cfg.BaseURL)
	}
	a.secure = base.Scheme == "https"
	if !a.secure && !cfg.InsecureAllowHTTP && !providers.IsLoopback(base.Hostname()) {
		return fmt.Errorf("%w: %q is plain http on a non-loopback host (set InsecureAllowHTTP to allow it, never in production)", ErrInvalidBaseURL, cfg.BaseURL)
	}
	// The redirect policy checks the base URL more strictly than url.Parse
	// (an empty "?" or "#", spaces, backslashes); report that as a BaseURL
	// error, and only then check the allow-list entries.
	if _, err := redirect.New(cfg.BaseURL, nil); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBaseURL, err)
	}
	a.redirects, err = redirect.New(cfg.BaseURL, cfg.AllowedRedirectHosts)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRedirectHost, err)
	}
	a.origin = a.redirects.Origin()

	if len(cfg.Secrets) == 0 {
		return fmt.Errorf("%w: Secrets is empty", ErrWeakSecret)
	}
	for i, s := range cfg.Secrets {
		if len(s) < seal.MinSecretLen {
			return fmt.Errorf("%w: secret %d has %d bytes", ErrWeakSecret, i, len(s))
		}
	}
	if a.sessionSeal, err = seal.New(cfg.Secrets, "session"); err != nil {
		return fmt.Errorf("%w: %w", ErrWeakSecret, err)
	}
	if a.tokensSeal, err = seal.New(cfg.Secrets, "tokens"); err != nil {
		return fmt.Errorf("%w: %w", ErrWeakSecret, err)
	}
	if a.logoutSeal, err = seal.New(cfg.Secrets, "logout"); err != nil {
		return fmt.Errorf("%w: %w", ErrWeakSecret, err)
	}
	if a.flowSeal, err = seal.New(cfg.Secrets, "flow"); err != nil {
		return fmt.Errorf("%w: %w", ErrWeakSecret, err)
	}
	a.csrf = newCSRFSigner(cfg.Secrets)
	a.crossOrigin = http.NewCrossOriginProtection()

	if err := a.initProviders(); err != nil {
		return err
	}

	a.maxAge, a.idle = cfg.SessionMaxAge, cfg.SessionIdleTimeout
	if a.maxAge == 0 {
		a.maxAge = DefaultSessionMaxAge
	}
	if a.idle == 0 {
		a.idle = min(DefaultSessionIdleTimeout, a.maxAge)
	}
	if a.maxAge < MinSessionLifetime || a.maxAge > MaxSessionMaxAge {
		return fmt.Errorf("%w: SessionMaxAge %v is outside [%v, %v]", ErrInvalidLifetime, a.maxAge, MinSessionLifetime, MaxSessionMaxAge)
	}
	if a.idle < MinSessionLifetime || a.idle > a.maxAge {
		return fmt.Errorf("%w: SessionIdleTimeout %v is outside [%v, SessionMaxAge]", ErrInvalidLifetime, a.idle, MinSessionLifetime)
	}
	a.touchEach = min(time.Minute, a.idle/4)
	a.refreshMargin = cfg.RefreshMargin
	if a.refreshMargin == 0 {
		a.refreshMargin = DefaultRefreshMargin
	}
	if a.refreshMargin < 0 || a.refreshMargin > time.Hour {
		return fmt.Errorf("%w: RefreshMargin %v is outside [0, 1h]", ErrInvalidLifetime, a.refreshMargin)
	}
	a.lockTTL = 15 * time.Second
	a.logouts = newUsedStates()

	a.store = cfg.Store
	if a.store == nil {
		a.store = store.NewCookie()
	}
	if cs, ok := a.store.(interface{ ClientSide() bool }); ok {
		a.clientSide = cs.ClientSide()
	}
	a.now = cfg.Now
	if a.now == nil {
		a.now = time.Now
	}
	a.log = cfg.Logger
	if a.log == nil {
		a.log = slog.Default()
	}
	a.render = cfg.RenderPage
	if a.render == nil {
		a.render = renderBuiltinPage
	}
	a.cookies = newCookieNames(a.secure)
	a.used = newUsedStates()
	return nil
}

func (a *Auth) initProviders() error {
	if len(a.cfg.Providers) == 0 {
		return ErrNoProviders
	}
	a.providers = make(map[string]providers.Provider, len(a.cfg.Providers))
	issuers := make(map[string]string, len(a.cfg.Providers))
	for _, p := range a.cfg.Providers {
		if p == nil || isNilPointer(p) {
			return fmt.Errorf("%w: a provider is nil", ErrNoProviders)
		}
		name := p.Name()
		if !providers.ValidName(name) {
			return fmt.Errorf("%w: %q", ErrInvalidProviderName, name)
		}
		if _, dup := a.providers[name]; dup {
			return fmt.Errorf("%w: %q", ErrDuplicateProvider, name)
		}
		if iss := p.Issuer(); iss != "" {
			if other, dup := issuers[iss]; dup {
				return fmt.Errorf("%w: %q and %q both use %s", ErrSharedIssuer, other, name, iss)
			}
			issuers[iss] = name
		}
		a.providers[name] = p
		a.ordered = append(a.ordered, p)
	}
	return nil
}

// isNilPointer reports whether p holds a nil pointer (for example the
// result of a provider constructor whose error was ignored), which would
// panic on its first method call.
func isNilPointer(p providers.Provider) bool {
	v := reflect.ValueOf(p)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// url returns the absolute URL of a route under the registered group.
func (a *Auth) url(path string) string {
	return a.origin + a.basePath + path
}

// redirectURI is the exact redirect URI registered at the provider for name.
func (a *Auth) redirectURI(name string) string {
	return a.url("/callback/" + name)
}

// Register mounts the auth routes on g (for example r.Group("/auth")). Call it
// once, before serving requests; redirect URIs are <BaseURL><group>/callback/<provider>.
func (a *Auth) Register(g *gin.RouterGroup) {
	a.basePath = strings.TrimSuffix(g.BasePath(), "/")
	a.routes(g)
}
