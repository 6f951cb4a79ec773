package ginauthtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
)

// TB is the part of testing.TB the test kit uses: *testing.T, *testing.B
// and *testing.F satisfy it. Fatalf must end the test (as testing's does).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// A SignInOption is a per-call extra of Client and SignIn. The set is
// closed: only this package makes them (WithAuthPath, WithProvider,
// WithCallbackURL).
type SignInOption interface{ applyKit(*kitConfig) }

type kitOption func(*kitConfig)

func (f kitOption) applyKit(c *kitConfig) { f(c) }

type kitConfig struct {
	authPath    string
	provider    string
	callbackURL string
}

// DefaultAuthPath is where Client and SignIn look for the app's auth routes
// unless WithAuthPath says otherwise: ginauth's default Config.AuthPath.
const DefaultAuthPath = "/auth"

// WithAuthPath names the path at which the app's router serves the auth
// routes, when it is not DefaultAuthPath: the path of the group given to
// Register, as the router sees it (for an app whose BaseURL carries a path
// and whose router sees full request paths, with that path first).
func WithAuthPath(path string) SignInOption {
	return kitOption(func(c *kitConfig) { c.authPath = path })
}

// WithProvider names the app's provider that signs in with this Provider
// (its providers.OIDCConfig.Name). It is needed only when the app has more
// than one provider.
func WithProvider(name string) SignInOption {
	return kitOption(func(c *kitConfig) { c.provider = name })
}

// WithCallbackURL sets the callbackUrl of the sign-in (default "/"): where
// the app sends the browser once signed in. Use it when the app refuses
// "/" (an app under a path prefix takes only callbackUrl values under it).
func WithCallbackURL(callbackURL string) SignInOption {
	return kitOption(func(c *kitConfig) { c.callbackURL = callbackURL })
}

// kit is one client of one app, and what was learned about the app.
type kit struct {
	p        *Provider
	client   *http.Client
	origin   string // the app's origin, from its BaseURL
	authURL  string // absolute URL of the auth routes, without trailing slash
	provider string // the provider's name in the app
	signIn   string // absolute sign-in URL of that provider
}

// Client returns an HTTP client of app, signed out, with its own cookie
// jar. Requests to the app's origin (its BaseURL's, which Client learns
// from the app's <auth>/providers route) are served by app in-process, and
// requests to this Provider's origin by the Provider, with no network;
// requests to any other origin fail. The client does not follow redirects:
// a test sees each response as the app sent it (set CheckRedirect to nil to
// follow them). On any problem Client calls tb.Fatalf and returns nil.
func (p *Provider) Client(tb TB, app http.Handler, opts ...SignInOption) *http.Client {
	tb.Helper()
	k, err := p.newKit(app, kitOptions(opts))
	if err != nil {
		tb.Fatalf("ginauthtest: Client: %v", err)
		return nil
	}
	return k.client
}

// SignIn returns a client of app (as Client makes them) signed in as u: it
// makes u one of the provider's users (SetUser: replacing any user with the
// same Subject, so the provider's tokens carry u's claims and groups), then
// drives the sign-in a browser would, over HTTP only: GET <auth>/csrf, POST
// <auth>/signin/<provider> with the CSRF token, this Provider's authorize
// endpoint (choosing u, with no picker page), and the app's callback, which
// must redirect without an error code. It finally checks that
// <auth>/session names u.Subject. ginauth's code runs as in production: nothing is
// reached through a back door.
//
// The app's provider must sign in with this Provider: built with
// Issuer op.Issuer(), ClientID op.ClientID() and ClientSecret
// op.ClientSecret(), and able to reach the issuer (a Provider made by
// Start listens on a loopback port; one made by New must be mounted in the
// app). When anything goes wrong, SignIn calls tb.Fatalf with what the app
// or the Provider answered and what to check, and returns nil.
//
// SignIn is safe to call concurrently for different subjects.
func (p *Provider) SignIn(tb TB, app http.Handler, u User, opts ...SignInOption) *http.Client {
	tb.Helper()
	if u.Subject == "" {
		tb.Fatalf("ginauthtest: SignIn: the User has no Subject")
		return nil
	}
	if err := p.SetUser(u); err != nil {
		tb.Fatalf("ginauthtest: SignIn: %v", err)
		return nil
	}
	cfg := kitOptions(opts)
	k, err := p.newKit(app, cfg)
	if err == nil {
		err = k.signInAs(u.Subject, cfg.callbackURL)
	}
	if err != nil {
		tb.Fatalf("ginauthtest: SignIn(%q): %v", u.Subject, err)
		return nil
	}
	return k.client
}

func kitOptions(opts []SignInOption) kitConfig {
	cfg := kitConfig{authPath: DefaultAuthPath, callbackURL: "/"}
	for _, o := range opts {
		if o != nil {
			o.applyKit(&cfg)
		}
	}
	cfg.authPath = "/" + strings.Trim(cfg.authPath, "/")
	return cfg
}

// probeOrigin is the origin of the first request, made before the app's
// own origin is known; it is reserved and never resolves (RFC 6761).
const probeOrigin = "http://ginauthtest.invalid"

// newKit learns the app's origin and provider from its <auth>/providers
// route and builds the client.
func (p *Provider) newKit(app http.Handler, cfg kitConfig) (*kit, error) {
	if app == nil {
		return nil, fmt.Errorf("the app handler is nil")
	}
	providersPath := strings.TrimSuffix(cfg.authPath, "/") + "/providers"
	req := httptest.NewRequest(http.MethodGet, probeOrigin+providersPath, nil)
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %d, not 200: are ginauth's routes mounted at %s (auth.Register(r.Group(%q)))? If not, pass WithAuthPath with their path", providersPath, rec.Code, cfg.authPath, cfg.authPath)
	}
	var list []struct {
		Name      string `json:"name"`
		SignInURL string `json:"signinUrl"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list) == 0 {
		return nil, fmt.Errorf("GET %s did not answer ginauth's provider list (%s): is %s where auth.Register mounts the routes?", providersPath, excerpt(rec.Body.String()), cfg.authPath)
	}
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = e.Name
	}
	k := &kit{p: p, provider: cfg.provider}
	switch {
	case k.provider == "" && len(list) == 1:
		k.provider = list[0].Name
	case k.provider == "":
		return nil, fmt.Errorf("the app has several providers %q: pass WithProvider with the name of the one that signs in with this Provider (issuer %s)", names, p.issuer)
	}
	for _, e := range list {
		if e.Name == k.provider {
			k.signIn = e.SignInURL
		}
	}
	if k.signIn == "" {
		return nil, fmt.Errorf("the app has no provider named %q (it has %q)", k.provider, names)
	}
	signIn, err := url.Parse(k.signIn)
	suffix := "/signin/" + k.provider
	if err != nil || !signIn.IsAbs() || !strings.HasSuffix(k.signIn, suffix) {
		return nil, fmt.Errorf("the app lists %q as the sign-in URL of %q: not an absolute URL ending in %s", k.signIn, k.provider, suffix)
	}
	k.origin = origin(signIn)
	k.authURL = strings.TrimSuffix(k.signIn, suffix)

	handlers := map[string]http.Handler{k.origin: app}
	if op, err := url.Parse(p.issuer); err == nil && origin(op) != k.origin {
		handlers[origin(op)] = p
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	k.client = &http.Client{
		Transport: &inProcess{handlers: handlers},
		Jar:       jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return k, nil
}

// excerpt shortens s for an error message.
func excerpt(s string) string {
	const max = 200
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}
