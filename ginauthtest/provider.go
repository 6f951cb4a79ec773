package ginauthtest

import (
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// closeGrace is how long Close waits for in-flight requests to finish before
// it forcibly closes the client connections of a server started by Start.
const closeGrace = 2 * time.Second

// Provider is an in-process OpenID Provider. Create one with New or Start.
// All methods are safe for concurrent use.
type Provider struct {
	issuer       string
	prefix       string // issuer URL path without trailing slash
	clientID     string
	clientSecret string
	redirectURIs []string
	logoutURIs   []string
	picker       bool
	now          func() time.Time
	ttl          time.Duration
	pages        *template.Template

	server    *httptest.Server // only for Start
	closing   chan struct{}    // closed by Close; wakes blocked handlers
	closeOnce sync.Once

	usersMu sync.RWMutex // guards users
	users   []User       // never empty

	mu            sync.Mutex
	behavior      Behavior
	nextUser      string
	counts        Counts
	lastAuthorize url.Values
	lastToken     url.Values
	lastTokenAuth string
	lastEndSess   url.Values
	keys          []*signingKey // published keys; the last one signs
	retired       []*signingKey // keys removed from the JWKS (still accepted as id_token_hint)
	codes         map[string]*authCode
	access        map[string]*accessToken
	refresh       map[string]*grant
	sessions      map[string]*session
	streams       map[*http.ResponseController]struct{} // handlers streaming a body knob
}

// Counts is the number of requests each endpoint has received so far.
type Counts struct {
	Discovery, JWKS, Authorize, Token, UserInfo, Revoke, EndSession int
}

// New returns a Provider that will be served at issuer (for example
// "http://127.0.0.1:8080/dev-oidc"). A trailing slash on issuer is removed.
// The caller mounts the Provider, which is an http.Handler that routes on
// r.URL.Path using the issuer's path as prefix, so it must receive the full,
// unstripped request path.
func New(issuer string, opts Options) (*Provider, error) {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("ginauthtest: invalid issuer: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("ginauthtest: issuer must be an http or https URL")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, errors.New("ginauthtest: issuer must have a host and no user info, query or fragment")
	}
	issuer = strings.TrimSuffix(issuer, "/")
	opts = opts.withDefaults()
	for i, usr := range opts.Users {
		if usr.Subject == "" {
			return nil, fmt.Errorf("ginauthtest: user %d has an empty Subject", i)
		}
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	return &Provider{
		issuer:       issuer,
		prefix:       strings.TrimSuffix(u.EscapedPath(), "/"),
		clientID:     opts.ClientID,
		clientSecret: opts.ClientSecret,
		redirectURIs: opts.RedirectURIs,
		logoutURIs:   opts.PostLogoutRedirectURIs,
		users:        opts.Users,
		picker:       opts.Picker,
		now:          opts.Now,
		ttl:          opts.TokenTTL,
		pages:        pages,
		closing:      make(chan struct{}),
		keys:         []*signingKey{key},
		codes:        make(map[string]*authCode),
		access:       make(map[string]*accessToken),
		refresh:      make(map[string]*grant),
		sessions:     make(map[string]*session),
		streams:      make(map[*http.ResponseController]struct{}),
	}, nil
}

// Start runs a Provider on its own httptest server listening on 127.0.0.1 with
// a random port; the issuer is the server URL (no path). Call Close when done.
func Start(opts Options) (*Provider, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ginauthtest: listen: %w", err)
	}
	p, err := New("http://"+l.Addr().String(), opts)
	if err != nil {
		l.Close()
		return nil, err
	}
	srv := &httptest.Server{
		Listener: l,
		Config: &http.Server{
			Handler:           p,
			ReadHeaderTimeout: 10 * time.Second,
		},
	}
	srv.Start()
	p.server = srv
	return p, nil
}

// Close unblocks every handler waiting on a TokenDelay or TokenHang knob or
// streaming a body-size knob and,
// for a Provider created by Start, stops its server and waits for its
// connections to finish. Connections still busy after a short grace period
// are closed forcibly. Close is idempotent.
func (p *Provider) Close() {
	p.closeOnce.Do(func() {
		close(p.closing)
		// Handlers streaming a large body may be stuck in Write to a client
		// that does not read; an expired write deadline unblocks them.
		p.mu.Lock()
		for rc := range p.streams {
			_ = rc.SetWriteDeadline(time.Now())
		}
		p.mu.Unlock()
		if p.server != nil {
			t := time.AfterFunc(closeGrace, p.server.CloseClientConnections)
			p.server.Close()
			t.Stop()
		}
	})
}

// Issuer returns the issuer identifier (without trailing slash).
func (p *Provider) Issuer() string { return p.issuer }

// ClientID returns the client ID the provider accepts.
func (p *Provider) ClientID() string { return p.clientID }

// ClientSecret returns the client secret the provider accepts.
func (p *Provider) ClientSecret() string { return p.clientSecret }

// URL returns issuer + path, e.g. p.URL("/token").
func (p *Provider) URL(path string) string { return p.issuer + path }

// ServeHTTP routes a request to the endpoint named by the part of r.URL.Path
// after the issuer's path.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, p.prefix) {
		http.NotFound(w, r)
		return
	}
	switch path[len(p.prefix):] {
	case "/.well-known/openid-configuration":
		p.handleDiscovery(w, r)
	case "/jwks":
		p.handleJWKS(w, r)
	case "/authorize":
		p.handleAuthorize(w, r)
	case "/token":
		p.handleToken(w, r)
	case "/userinfo":
		p.handleUserInfo(w, r)
	case "/revoke":
		p.handleRevoke(w, r)
	case "/end_session":
		p.handleEndSession(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Counts returns the number of requests per endpoint so far.
func (p *Provider) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

// LastAuthorizeRequest returns a copy of the parameters of the last /authorize
// request, or nil if there was none.
func (p *Provider) LastAuthorizeRequest() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyValues(p.lastAuthorize)
}

// LastTokenRequest returns a copy of the form of the last /token request
// without client_secret, or nil if there was none.
func (p *Provider) LastTokenRequest() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyValues(p.lastToken)
}

// LastTokenAuth returns how the client authenticated on the last /token
// request: "client_secret_basic", "client_secret_post" or "" (none).
func (p *Provider) LastTokenAuth() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastTokenAuth
}

// LastEndSessionRequest returns a copy of the parameters of the last
// /end_session request, or nil if there was none.
func (p *Provider) LastEndSessionRequest() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyValues(p.lastEndSess)
}

// wait blocks for d (forever if d < 0) or until the request ends or the
// provider closes. It reports whether the full duration elapsed, and whether
// the provider is closing.
func (p *Provider) wait(r *http.Request, d time.Duration) (elapsed, closing bool) {
	var timeout <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true, false
	case <-r.Context().Done():
		return false, false
	case <-p.closing:
		return false, true
	}
}

func copyValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
