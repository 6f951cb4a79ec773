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
// # Apps under a path prefix
//
// Behind a reverse proxy that forwards the full path, put the path in
// BaseURL and mount every route below it:
//
//	auth, err := ginauth.New(ginauth.Config{BaseURL: "https://example.com/app", CookieName: "app", ...})
//	app := r.Group("/app")
//	auth.Register(app.Group("/auth")) // Config.AuthPath defaults to "/app/auth"
//
// Redirect URIs, pages and links keep the prefix; cookies get Path=/app
// (and __Secure- instead of __Host- with https); callbackUrl values on the
// app's origin must stay under /app. [Config.CookieName] keeps the cookies of
// several apps on one host apart.
//
// # Tokens
//
// [Auth.AccessToken] returns the provider's access token, refreshed first
// when it is about to expire (single-flight; across instances with the
// Redis store). [Auth.SignOut] can revoke the tokens and end the provider's
// own session; [Auth.SignOutUser] ends every session of a user.
//
// # Start-up check
//
// New does no network I/O. [Auth.CheckProviders] asks the providers
// themselves (discovery, the issuer it names, the client secret) and says
// what to set for each mistake; run it once the server listens and log its
// error.
//
// # Sessions
//
// By default (Config.Store nil) the whole session lives in AES-GCM sealed
// cookies; a server-side [store.Store] (Redis, memory, any
// gin-contrib/sessions backend) keeps it instead and puts an opaque ID in
// the cookie. Tokens never reach the browser in readable form. With cookie
// sessions on several instances, [Config.Revocations] (package revsync, on
// Redis) makes a sign-out hold on all of them; run [Auth.SyncRevocations].
package ginauth

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/flight"
	"github.com/ginauth/ginauth/internal/redirect"
	"github.com/ginauth/ginauth/internal/seal"
	"github.com/ginauth/ginauth/internal/ttlset"
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
	// BaseURL is the app's public URL: its origin, e.g.
	// "https://app.example.com", optionally followed by a path prefix, e.g.
	// "https://example.com/app" for an app behind a reverse proxy that
	// forwards the full path ("/app" and "/app/" are the same prefix; its
	// segments hold only letters, digits and "-._~"). Redirect URIs and every
	// link ginauth builds come from it, never from request headers. Without a
	// prefix, cookies have Path=/ and, with https, the __Host- name prefix;
	// with one, they have Path=<prefix> and, with https, the __Secure- name
	// prefix, and callbackUrl values on the app's origin must stay under the
	// prefix (anything else falls back to <prefix>/). With https, cookies are
	// Secure. Plain http is accepted on loopback hosts only, unless
	// InsecureAllowHTTP is set.
	BaseURL string
	// Secrets are keys of at least 32 bytes each. The first seals cookies
	// and signs CSRF tokens; all of them open, so keys can be rotated.
	Secrets [][]byte
	// Providers are the identity providers, with unique names and issuers.
	Providers []providers.Provider
	// Store keeps sessions on the server (store.NewRedis, store.NewMemory,
	// store.FromSessions). When nil, the default, sessions live in sealed
	// cookies: nothing to run, any number of instances, but a session
	// cannot be deleted on the server, so sign-outs are enforced by a
	// revocation list kept in each process (see SECURITY.md).
	Store store.Store
	// Revocations shares the cookie store's revocations (sign-out, a
	// session replaced at sign-in, back-channel logout, SignOutUser)
	// between the instances of the app, so that each holds on all of them
	// within a bounded delay; package revsync implements it on Redis. Run
	// Auth.SyncRevocations beside the server. Cookie sessions only (Store
	// nil): a server-side store ends sessions everywhere by itself. See
	// docs/revocations.md.
	Revocations RevocationSync
	// RevocationsFailOpen chooses what happens to cookie sessions while
	// this instance's revocation list is not in step with the others (at
	// start, before its first load, and while the connection to the shared
	// record is lost). Unset (fail closed, the default): requests with a
	// session get 503, as with an unreachable session store. Set (fail
	// open): sessions are served from the list as it was, so a sign-out
	// made on another instance meanwhile is not refused here until the
	// list is back in step. Availability against revocation: the choice
	// is the app's.
	RevocationsFailOpen bool

	// AuthPath is the full path the auth routes are mounted at, the path of
	// the group given to Register: redirect URIs are
	// <origin><AuthPath>/callback/<provider>. It includes BaseURL's path
	// prefix and must be the prefix or below it. Default <prefix>/auth:
	// "/auth", or "/app/auth" for BaseURL "https://example.com/app".
	AuthPath string

	// CookieName is the name every ginauth cookie starts with, so that two
	// apps on one origin (for example under two path prefixes) can keep
	// their cookies apart: the session is <CookieName>, the others
	// <CookieName>-tokens, -csrf, -logout and -flow-<hash>, each preceded by
	// __Host- or __Secure- with https. 1 to 32 letters, digits, '-' or '_',
	// starting with a letter or digit. Default "ginauth".
	CookieName string

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
	// always allowed (under BaseURL's path prefix, when it has one);
	// anything else falls back to BaseURL's path followed by "/".
	AllowedRedirectHosts []string

	// SignInHook decides who may sign in; see SignInHook. Default: anyone
	// the provider signs in.
	SignInHook SignInHook
	// AllowedEmails, AllowedEmailDomains and AllowedGroups, when any is
	// set, admit only users with a verified email address equal to one of
	// AllowedEmails (case-insensitive), a verified email address in one of
	// AllowedEmailDomains (exact domain, IDNA-normalised: no subdomains), or
	// one of AllowedGroups; anyone else gets the 403 access-denied page. They
	// are checked before SignInHook. See NewAllowList for what is invalid.
	AllowedEmails       []string
	AllowedEmailDomains []string
	AllowedGroups       []string

	// Events are callbacks for audit logs and metrics (sign-ins, refusals,
	// sign-outs, refreshes); see Events. Default: none.
	Events Events

	// InsecureAllowHTTP accepts a plain-http BaseURL on a non-loopback host.
	// Cookies are then not Secure. MUST NOT be used in production.
	InsecureAllowHTTP bool

	// Logger receives warnings (failed sign-ins, store errors). It never
	// receives tokens, codes or secrets. Default slog.Default().
	Logger *slog.Logger
	// AppName is the app's name, shown on every built-in page (at most
	// MaxAppNameLen bytes). Default: BaseURL's host.
	AppName string
	// Texts replaces texts of the built-in pages by message ID, for
	// another language or other words; IDs left out keep their English
	// default. DefaultTexts lists every ID. An unknown ID, an empty or
	// overlong text, or an unknown placeholder fails New.
	Texts map[string]string
	// RenderPage replaces the built-in HTML pages (sign-in, sign-out
	// confirmation, error, forbidden, access denied: PageAccessDenied with
	// Page.Reason).
	RenderPage func(c *gin.Context, p Page)
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Auth signs users in and out. Create it with New; it is safe for concurrent
// use. Mount its routes with Register before serving requests.
type Auth struct {
	*sessions        // the session side: loading, saving, tokens, revocations
	flows     *flows // the flow side: sign-in state cookies, consumed flows

	origin      string // BaseURL's origin
	basePath    string // BaseURL's path prefix: "" or "/app", no trailing slash
	authPath    string // where Register mounts the routes (below basePath)
	secure      bool
	providers   map[string]providers.Provider
	ordered     []providers.Provider
	redirects   *redirect.Policy
	csrf        *csrfSigner
	crossOrigin *http.CrossOriginProtection
	cookies     *cookieNames
	logoutSeal  *seal.Sealer
	render      func(c *gin.Context, p Page)
	appName     string    // Config.AppName, or BaseURL's host
	texts       pageTexts // the pages' texts: defaults and Config.Texts
	pageCSP     string    // the pages' Content-Security-Policy
	now         func() time.Time
	warn        *warnings
	signInHook  SignInHook   // the allow-list and Config.SignInHook; nil: anyone
	bearers     *bearerCache // verified bearer tokens, see bearerCacheTTL
	events      Events       // Config.Events

	revSync     RevocationSync // Config.Revocations; nil: the list is this process's own
	revFailOpen bool           // Config.RevocationsFailOpen
	revRunning  atomic.Bool    // SyncRevocations is running
}

// sessions is the session side of Auth: it reads, writes, refreshes and
// ends sessions, whichever way they are kept.
type sessions struct {
	store       store.Store // nil: sessions live in sealed cookies (client-side)
	clientSide  bool
	sessionSeal *seal.Sealer
	tokensSeal  *seal.Sealer
	cookies     *cookieNames
	providers   map[string]providers.Provider
	now         func() time.Time
	warn        *warnings

	idle, maxAge, touchEach time.Duration
	refreshMargin, lockTTL  time.Duration

	revoked   *revocations
	refreshes flight.Group[[32]byte, providers.Token]
	recent    *ttlset.Set[[32]byte, providers.Token] // recent refreshes, see recentRefreshTTL
	logouts   *ttlset.Set[string, struct{}]          // jti of processed logout tokens
}

// maxLogoutJTIs bounds the record of processed logout tokens. When it is
// full of live entries, logout tokens are answered 503 (the provider
// retries) rather than processed without replay protection.
const maxLogoutJTIs = 100_000

// New validates cfg and returns an Auth. Every configuration mistake is
// reported here, wrapped in ErrInvalidConfig.
func New(cfg Config) (*Auth, error) {
	a := &Auth{}
	if err := a.init(cfg); err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return a, nil
}

func (a *Auth) init(cfg Config) error {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.User != nil || base.RawQuery != "" || base.ForceQuery || base.Fragment != "" {
		return errfmt.Errorf("%w: %q must be an absolute http(s) URL without query, fragment or user info", ErrInvalidBaseURL, cfg.BaseURL)
	}
	a.secure = base.Scheme == "https"
	if !a.secure && !cfg.InsecureAllowHTTP && !providers.IsLoopback(base.Hostname()) {
		return errfmt.Errorf("%w: %q is plain http on a non-loopback host (set InsecureAllowHTTP to allow it, never in production)", ErrInvalidBaseURL, cfg.BaseURL)
	}
	// The redirect policy checks the base URL more strictly than url.Parse
	// (an empty "?" or "#", spaces, backslashes, the path prefix's
	// characters and segments); report that as a BaseURL error, and only
	// then check the allow-list entries.
	if _, err := redirect.New(cfg.BaseURL, nil); err != nil {
		return errfmt.Errorf("%w: %w", ErrInvalidBaseURL, err)
	}
	a.redirects, err = redirect.New(cfg.BaseURL, cfg.AllowedRedirectHosts)
	if err != nil {
		return errfmt.Errorf("%w: %w", ErrInvalidRedirectHost, err)
	}
	a.origin, a.basePath = a.redirects.Origin(), a.redirects.Prefix()

	if len(cfg.Secrets) == 0 {
		return errfmt.Errorf("%w: Secrets is empty", ErrWeakSecret)
	}
	for i, s := range cfg.Secrets {
		if len(s) < seal.MinSecretLen {
			return errfmt.Errorf("%w: secret %d has %d bytes", ErrWeakSecret, i, len(s))
		}
	}
	s := &sessions{}
	var flowSeal *seal.Sealer
	for _, k := range []struct {
		purpose string // one key per purpose: a value sealed for one never opens as another
		dst     **seal.Sealer
	}{{"session", &s.sessionSeal}, {"tokens", &s.tokensSeal}, {"logout", &a.logoutSeal}, {"flow", &flowSeal}} {
		if *k.dst, err = seal.New(cfg.Secrets, k.purpose); err != nil {
			return errfmt.Errorf("%w: %w", ErrWeakSecret, err)
		}
	}
	a.csrf = newCSRFSigner(cfg.Secrets)
	a.crossOrigin = http.NewCrossOriginProtection()

	if err := a.initProviders(cfg.Providers); err != nil {
		return err
	}

	a.authPath = cfg.AuthPath
	if a.authPath == "" {
		a.authPath = a.basePath + "/auth"
	}
	if !validAuthPath(a.authPath) {
		return errfmt.Errorf("%w: %q must be \"/\" or start with \"/\", not end with \"/\", and hold only path characters", ErrInvalidAuthPath, cfg.AuthPath)
	}
	if !underPath(a.authPath, a.basePath) {
		return errfmt.Errorf("%w: %q is not below BaseURL's path %q (AuthPath is the full path, e.g. %q)", ErrInvalidAuthPath, cfg.AuthPath, a.basePath, a.basePath+"/auth")
	}
	cookieName := cfg.CookieName
	if cookieName == "" {
		cookieName = DefaultCookieName
	}
	if !validCookieName(cookieName) {
		return errfmt.Errorf("%w: %q must be 1 to %d letters, digits, '-' or '_', starting with a letter or digit", ErrInvalidCookieName, cfg.CookieName, maxCookieNameLen)
	}

	s.maxAge, s.idle = cfg.SessionMaxAge, cfg.SessionIdleTimeout
	if s.maxAge == 0 {
		s.maxAge = DefaultSessionMaxAge
	}
	if s.idle == 0 {
		s.idle = min(DefaultSessionIdleTimeout, s.maxAge)
	}
	if s.maxAge < MinSessionLifetime || s.maxAge > MaxSessionMaxAge {
		return errfmt.Errorf("%w: SessionMaxAge %v is outside [%v, %v]", ErrInvalidLifetime, s.maxAge, MinSessionLifetime, MaxSessionMaxAge)
	}
	if s.idle < MinSessionLifetime || s.idle > s.maxAge {
		return errfmt.Errorf("%w: SessionIdleTimeout %v is outside [%v, SessionMaxAge]", ErrInvalidLifetime, s.idle, MinSessionLifetime)
	}
	s.touchEach = min(time.Minute, s.idle/4)
	s.refreshMargin = cfg.RefreshMargin
	if s.refreshMargin == 0 {
		s.refreshMargin = DefaultRefreshMargin
	}
	if s.refreshMargin < 0 || s.refreshMargin > time.Hour {
		return errfmt.Errorf("%w: RefreshMargin %v is outside [0, 1h]", ErrInvalidLifetime, s.refreshMargin)
	}
	s.lockTTL = 15 * time.Second

	a.now = cfg.Now
	if a.now == nil {
		a.now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	a.warn = newWarnings(logger, a.now)
	if err := a.initPages(cfg, base.Host); err != nil {
		return err
	}
	a.cookies = newCookieNames(cookieName, a.basePath, a.secure)

	if cfg.Store != nil && isNilPointer(cfg.Store) {
		return errfmt.Errorf("%w: Store is a nil pointer (leave it nil for cookie sessions)", ErrInvalidStore)
	}
	s.store = cfg.Store
	s.clientSide = s.store == nil
	s.cookies, s.providers, s.now, s.warn = a.cookies, a.providers, a.now, a.warn
	s.revoked = newRevocations()
	s.revoked.maxAge = s.maxAge
	s.recent = ttlset.New[[32]byte, providers.Token](maxRecent)
	s.logouts = ttlset.New[string, struct{}](maxLogoutJTIs)
	var list *AllowList
	if len(cfg.AllowedEmails)+len(cfg.AllowedEmailDomains)+len(cfg.AllowedGroups) > 0 {
		if list, err = NewAllowList(cfg.AllowedEmails, cfg.AllowedEmailDomains, cfg.AllowedGroups); err != nil {
			return err
		}
	}
	a.signInHook = chainHooks(list, cfg.SignInHook)
	a.bearers = newBearerCache()
	a.events = cfg.Events
	a.sessions = s
	if err := a.initRevocationSync(cfg); err != nil {
		return err
	}
	a.flows = newFlows(flowSeal, a.cookies, cookieName, a.authPath, a.now)
	return nil
}

// initRevocationSync sets up Config.Revocations.
func (a *Auth) initRevocationSync(cfg Config) error {
	if cfg.Revocations == nil {
		if cfg.RevocationsFailOpen {
			return errfmt.Errorf("%w: RevocationsFailOpen is set without Revocations", ErrInvalidStore)
		}
		return nil
	}
	if isNilPointer(cfg.Revocations) {
		return errfmt.Errorf("%w: Revocations is a nil pointer", ErrInvalidStore)
	}
	if cfg.Store != nil {
		return errfmt.Errorf("%w: Revocations is for cookie sessions (Store nil); a server-side store ends sessions on every instance by itself", ErrInvalidStore)
	}
	a.revSync, a.revFailOpen = cfg.Revocations, cfg.RevocationsFailOpen
	r := a.sessions.revoked
	r.out = newOutbox(maxRevocations, r.maxAge)
	r.blocked.Store(!a.revFailOpen) // until the first load completes
	return nil
}

// underPath reports whether path is prefix or below it; every path is
// below the empty prefix.
func underPath(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '/')
}

// validAuthPath reports whether p can be the auth routes' path.
func validAuthPath(p string) bool {
	if p == "/" {
		return true
	}
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/-._~", r)) {
			return false
		}
	}
	return !strings.Contains(p+"/", "/./") && !strings.Contains(p+"/", "/../")
}

func (a *Auth) initProviders(list []providers.Provider) error {
	if len(list) == 0 {
		return ErrNoProviders
	}
	a.providers = make(map[string]providers.Provider, len(list))
	issuers := make(map[string]string, len(list))
	for _, p := range list {
		if p == nil || isNilPointer(p) {
			return errfmt.Errorf("%w: a provider is nil", ErrNoProviders)
		}
		name := p.Name()
		if !providers.ValidName(name) {
			return errfmt.Errorf("%w: %q", ErrInvalidProviderName, name)
		}
		if _, dup := a.providers[name]; dup {
			return errfmt.Errorf("%w: %q", ErrDuplicateProvider, name)
		}
		if iss := p.Issuer(); iss != "" {
			if other, dup := issuers[iss]; dup {
				return errfmt.Errorf("%w: %q and %q both use %s", ErrSharedIssuer, other, name, iss)
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
func isNilPointer(p any) bool {
	v := reflect.ValueOf(p)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// url returns the absolute URL of an auth route.
func (a *Auth) url(path string) string {
	if a.authPath == "/" {
		return a.origin + path
	}
	return a.origin + a.authPath + path
}

// redirectURI is the exact redirect URI registered at the provider for name.
func (a *Auth) redirectURI(name string) string {
	return a.url("/callback/" + name)
}

// Register mounts the auth routes on g, whose path must be Config.AuthPath
// ("/auth", or "<prefix>/auth" when BaseURL has a path, unless set):
// auth.Register(r.Group("/auth")), or auth.Register(r.Group("/app/auth"))
// for BaseURL "https://example.com/app". Every URL ginauth
// builds (redirect URIs, the sign-in page, cookie paths) comes from the
// Config, so Register may be called before or after the rest of the app is
// set up. It panics when g's path is not AuthPath, a mistake in the program
// that would otherwise send providers and browsers to routes that do not
// exist.
func (a *Auth) Register(g *gin.RouterGroup) {
	if got := strings.TrimSuffix(g.BasePath(), "/"); got != strings.TrimSuffix(a.authPath, "/") {
		panic(fmt.Sprintf("ginauth: Register: the group's path is %q but Config.AuthPath is %q; set AuthPath to the group's path", g.BasePath(), a.authPath))
	}
	a.routes(g)
}
