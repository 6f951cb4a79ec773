// Package devprovider mounts a development OpenID Provider in a Gin app, so
// that the app signs in test users with no account anywhere, as ginauth's
// example app does when no provider is configured.
//
// The provider is ginauthtest's in-process OpenID Provider, served by the
// app's own router under the app's base URL (default path /dev-oidc), with
// a page to pick a test user (ginauthtest.DefaultUsers unless
// Options.Users says otherwise). The app reaches it as it reaches a real
// provider: discovery, keys and tokens over HTTP from its issuer URL, so
// the app must be served at the base URL it is given.
//
// In development mode, one call:
//
//	r := gin.Default()
//	var list []providers.Provider
//	if gin.IsDebugging() { // never in release mode
//		dev, err := devprovider.Mount(r, baseURL)
//		if err != nil {
//			log.Fatal(err)
//		}
//		list = append(list, dev)
//	}
//	auth, err := ginauth.New(ginauth.Config{BaseURL: baseURL, Providers: list, ...})
//	...
//	auth.Register(r.Group("/auth"))
//
// The development provider signs anyone in as a test user without a
// password: never run it in production. New and Mount refuse to build it
// in Gin's release mode unless Options.InsecureAllowReleaseMode is set.
package devprovider

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/providers"
)

// Defaults of the Options fields.
const (
	DefaultPath        = "/dev-oidc"
	DefaultName        = "dev"
	DefaultDisplayName = "Development provider (test users)"
	DefaultAuthPath    = "/auth"
)

// ErrReleaseMode is returned by New and Mount in Gin's release mode, unless
// Options.InsecureAllowReleaseMode is set.
var ErrReleaseMode = errors.New("ginauth: development provider refused in release mode")

// ErrInvalidOptions reports an unusable base URL or Options field.
var ErrInvalidOptions = errors.New("ginauth: invalid development provider options")

// Options configure a development provider. The zero value works.
type Options struct {
	// Path is where the provider is served, under the base URL's path.
	// Default DefaultPath ("/dev-oidc").
	Path string
	// Name is the provider's name in the app (its routes and redirect URI):
	// default DefaultName ("dev"). DisplayName is shown on sign-in buttons:
	// default DefaultDisplayName.
	Name, DisplayName string
	// AuthPath is where the app mounts ginauth's routes: its
	// ginauth.Config.AuthPath, default "/auth". The provider accepts
	// exactly the redirect URI <baseURL><AuthPath>/callback/<Name> and the
	// post-logout URI <baseURL><AuthPath>/signout/complete.
	AuthPath string
	// Users are the test users offered on the picker page. Default
	// ginauthtest.DefaultUsers(): alice (groups admin and staff), bob
	// (staff), carol (no groups, unverified email).
	Users []ginauthtest.User
	// EndSession makes signing out also end the user's session at the
	// development provider (RP-Initiated Logout), as the example app does.
	EndSession bool
	// TokenTTL is the lifetime of the access and ID tokens the provider
	// issues; 0: ginauthtest.DefaultTokenTTL (1h). A short one makes
	// ginauth refresh tokens often (load and soak runs).
	TokenTTL time.Duration
	// InsecureAllowReleaseMode builds the provider even in Gin's release
	// mode. Anyone can then sign in as a test user without a password:
	// MUST NOT be used in production.
	InsecureAllowReleaseMode bool
}

// Dev is a development provider: the OpenID Provider and the app's
// provider that signs in with it.
type Dev struct {
	// OP is the OpenID Provider: serve it with Mount (or MountOP). Its
	// methods also drive tests, such as OP.SignIn.
	OP *ginauthtest.Provider
	// Provider is the app's side: put it in ginauth.Config.Providers.
	Provider *providers.OIDCProvider
}

// Mount builds a development provider with the default Options for an app
// served at baseURL, serves it on r, and returns the provider to put in
// ginauth.Config.Providers. It is New followed by Dev.Mount.
func Mount(r *gin.Engine, baseURL string) (*providers.OIDCProvider, error) {
	d, err := New(baseURL, Options{})
	if err != nil {
		return nil, err
	}
	if err := d.Mount(r); err != nil {
		return nil, err
	}
	return d.Provider, nil
}

// New builds a development provider for an app served at baseURL (the
// app's ginauth.Config.BaseURL; it may carry a path). Its issuer is
// baseURL + opts.Path. New does no network I/O; serve the provider with
// Dev.Mount before the app gets requests.
func New(baseURL string, opts Options) (*Dev, error) {
	if gin.Mode() == gin.ReleaseMode && !opts.InsecureAllowReleaseMode {
		return nil, fmt.Errorf("%w: it signs anyone in as a test user without a password; configure a real provider (or set InsecureAllowReleaseMode, never in production)", ErrReleaseMode)
	}
	opts = opts.withDefaults()
	if err := opts.check(); err != nil {
		return nil, err
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: base URL %q is not an absolute http(s) URL without query", ErrInvalidOptions, baseURL)
	}
	base := strings.TrimSuffix(baseURL, "/")
	op, err := ginauthtest.New(base+opts.Path, ginauthtest.Options{
		Picker:                 true,
		TokenTTL:               opts.TokenTTL,
		Users:                  opts.Users,
		RedirectURIs:           []string{base + opts.AuthPath + "/callback/" + opts.Name},
		PostLogoutRedirectURIs: []string{base + opts.AuthPath + "/signout/complete"},
	})
	if err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	rp, err := providers.OIDC(providers.OIDCConfig{
		Name:         opts.Name,
		DisplayName:  opts.DisplayName,
		Issuer:       op.Issuer(),
		ClientID:     op.ClientID(),
		ClientSecret: op.ClientSecret(),
		Scopes:       []string{"profile", "email"},
		EndSession:   opts.EndSession,
	})
	if err != nil {
		return nil, fmt.Errorf("development provider: %w", err)
	}
	return &Dev{OP: op, Provider: rp}, nil
}

// Mount serves the development provider on r at its issuer's path: see
// MountOP.
func (d *Dev) Mount(r *gin.Engine) error { return MountOP(r, d.OP) }

// MountOP serves op on r for every method at the path of op's issuer URL,
// left untouched as op requires (an issuer http://host/app/dev-oidc is
// served at /app/dev-oidc/*, so r must see the full request path). The
// issuer must have a path: a provider at the root of its origin would take
// every route of the app.
func MountOP(r *gin.Engine, op *ginauthtest.Provider) error {
	u, err := url.Parse(op.Issuer())
	if err != nil {
		return errfmt.Errorf("%w: issuer: %w", ErrInvalidOptions, err)
	}
	path := strings.TrimSuffix(u.Path, "/")
	if path == "" {
		return fmt.Errorf("%w: issuer %q has no path to serve it at", ErrInvalidOptions, op.Issuer())
	}
	r.Any(path+"/*endpoint", gin.WrapH(op))
	return nil
}

func (o Options) withDefaults() Options {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.DisplayName == "" {
		o.DisplayName = DefaultDisplayName
	}
	if o.AuthPath == "" {
		o.AuthPath = DefaultAuthPath
	}
	// "/" becomes "": Path is then refused, AuthPath means the root.
	o.Path = strings.TrimSuffix(o.Path, "/")
	o.AuthPath = strings.TrimSuffix(o.AuthPath, "/")
	return o
}

// check reports a Path or AuthPath that is not a plain absolute path
// (AuthPath may be "/": the routes at the root).
func (o Options) check() error {
	bad := func(p string) bool {
		return !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#*: \\") || strings.Contains(p, "//")
	}
	if bad(o.Path) {
		return fmt.Errorf("%w: Path %q must be an absolute path other than /, such as /dev-oidc", ErrInvalidOptions, o.Path)
	}
	if o.AuthPath != "" && bad(o.AuthPath) {
		return fmt.Errorf("%w: AuthPath %q must be an absolute path, such as /auth", ErrInvalidOptions, o.AuthPath)
	}
	return nil
}
