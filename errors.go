package ginauth

import (
	"errors"

	"github.com/ginauth/ginauth/providers"
	"github.com/ginauth/ginauth/store"
)

// Configuration errors, returned by New wrapped in ErrInvalidConfig and with
// detail. Test them with errors.Is.
var (
	// ErrInvalidConfig is the parent of every configuration error.
	ErrInvalidConfig = errors.New("ginauth: invalid config")
	// ErrNoProviders: Config.Providers is empty or holds a nil provider.
	ErrNoProviders = errors.New("ginauth: no providers")
	// ErrDuplicateProvider: two providers share a name.
	ErrDuplicateProvider = errors.New("ginauth: duplicate provider name")
	// ErrInvalidProviderName: a name is not [a-z0-9][a-z0-9-]{0,31}.
	ErrInvalidProviderName = errors.New("ginauth: invalid provider name")
	// ErrSharedIssuer: two providers share an issuer, which makes mix-up
	// attacks undetectable (RFC 9207 §4).
	ErrSharedIssuer = errors.New("ginauth: providers share an issuer")
	// ErrWeakSecret: no secret, or a secret shorter than 32 bytes.
	ErrWeakSecret = errors.New("ginauth: secret missing or shorter than 32 bytes")
	// ErrInvalidBaseURL: BaseURL is not an absolute http(s) URL made of an
	// origin and an optional clean path prefix, or is plain http on a
	// non-loopback host without InsecureAllowHTTP.
	ErrInvalidBaseURL = errors.New("ginauth: invalid BaseURL")
	// ErrInvalidLifetime: a session lifetime, or the refresh margin, out of range.
	ErrInvalidLifetime = errors.New("ginauth: invalid session lifetime")
	// ErrInvalidStore: Config.Store holds a nil pointer (for example the
	// result of a store constructor whose error was ignored).
	ErrInvalidStore = errors.New("ginauth: invalid store")
	// ErrInvalidAuthPath: Config.AuthPath is not a clean absolute path, or
	// not below BaseURL's path prefix.
	ErrInvalidAuthPath = errors.New("ginauth: invalid auth path")
	// ErrInvalidRedirectHost: an AllowedRedirectHosts entry is not a plain host.
	ErrInvalidRedirectHost = errors.New("ginauth: invalid allowed redirect host")
	// ErrInvalidPageText: Config.AppName or a Config.Texts entry is empty,
	// too long, not UTF-8, holds a control character or an unknown
	// placeholder, or Texts names an unknown message ID.
	ErrInvalidPageText = errors.New("ginauth: invalid page text")
	// ErrInvalidCookieName: Config.CookieName is not 1 to 32 letters,
	// digits, '-' or '_' starting with a letter or digit.
	ErrInvalidCookieName = errors.New("ginauth: invalid cookie name")
)

// Request errors. The route handlers map them to fixed error codes; the
// helpers (SignIn, SignOut, CheckCSRF) return them wrapped.
var (
	// ErrUnknownProvider: no provider has that name.
	ErrUnknownProvider = errors.New("ginauth: unknown provider")
	// ErrInvalidState: the callback's state is missing, duplicated, unknown,
	// expired, already used, or bound to another provider or browser.
	ErrInvalidState = errors.New("ginauth: invalid or expired sign-in state")
	// ErrInvalidCallback: a malformed authorization response (duplicated or
	// oversized parameters, no code).
	ErrInvalidCallback = errors.New("ginauth: invalid authorization response")
	// ErrProviderDenied: the provider answered with an OAuth error (for
	// example access_denied).
	ErrProviderDenied = errors.New("ginauth: provider returned an error")
	// ErrCSRF: a state-changing request without a valid CSRF token, or sent
	// cross-site.
	ErrCSRF = errors.New("ginauth: CSRF check failed")
	// ErrSessionTooLarge: the session does not fit in the cookies allowed.
	ErrSessionTooLarge = errors.New("ginauth: session too large for cookies")
	// ErrStoreUnavailable: the session store failed; the request is refused.
	ErrStoreUnavailable = store.ErrUnavailable
)

// Provider errors, re-exported from package providers for convenience.
var (
	ErrProviderUnavailable = providers.ErrUnavailable    // discovery, keys or token endpoint down
	ErrIssuerMismatch      = providers.ErrIssuerMismatch // RFC 9207 or discovery issuer mismatch
	ErrTokenExchange       = providers.ErrTokenExchange  // the code was refused
	ErrMissingIDToken      = providers.ErrMissingIDToken // token response without id_token
	ErrInvalidIDToken      = providers.ErrInvalidToken   // any ID token validation failure
	// ErrProviderMisconfigured: a configuration mistake that only the
	// site's administrators can fix (see Auth.CheckProviders).
	ErrProviderMisconfigured = providers.ErrMisconfigured
)
