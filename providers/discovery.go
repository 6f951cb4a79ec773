package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/flight"
	"github.com/ginauth/ginauth/internal/oidcjwt"
)

// Metadata is the part of an OpenID Provider's discovery document ginauth uses.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// Discovery caching. The metadata is fetched again, before use, once older
// than its max age: the discovery response's Cache-Control max-age less its
// Age; DiscoveryMinCacheAge for no-cache, no-store or an unusable value;
// DiscoveryCacheAge without max-age; always within [DiscoveryMinCacheAge,
// DiscoveryMaxCacheAge]. Each refetched document passes every check the
// first one did. When a refetch fails or its document is refused, the last
// good metadata is used for DiscoveryStaleGrace more (one attempt per
// DiscoveryMinCacheAge meanwhile); past that the provider is unavailable
// until discovery succeeds again. The metadata holds only endpoints and
// algorithms, whose checks do not depend on its age, so availability gets the
// longer grace here; the keys have their own, shorter one
// (oidcjwt.DefaultStaleGrace).
const (
	DiscoveryMinCacheAge = time.Minute
	DiscoveryMaxCacheAge = 24 * time.Hour
	DiscoveryCacheAge    = time.Hour
	DiscoveryStaleGrace  = 24 * time.Hour
)

// retryAfterFailure is how long a failed discovery is remembered, while no
// usable metadata is cached, before the next request tries again.
const retryAfterFailure = 5 * time.Second

var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func allowedAlg(alg string) bool { return slices.Contains(asymmetricAlgs, alg) }

type loadedMetadata struct {
	doc         *Metadata
	op          *oidc.Provider // go-oidc's view of the same document (UserInfo)
	keys        *oidcjwt.RemoteKeySet
	algs        []string
	authStyle   oauth2.AuthStyle
	freshUntil  time.Time // from then on, fetch again before use
	usableUntil time.Time // freshUntil + DiscoveryStaleGrace: never used from then on
}

// metadataCache fetches discovery on first use and again after its max age,
// remembers failures briefly, and lets concurrent callers share one fetch;
// each caller waits only as long as its own context allows.
type metadataCache struct {
	p *OIDCProvider
	// fetch runs the discovery attempts, keyed by the number of attempts
	// completed when the attempt was decided.
	fetch flight.Group[uint64, *loadedMetadata]

	mu       sync.Mutex
	loaded   *loadedMetadata // last good metadata; nil before the first success
	attempts uint64          // discovery attempts completed
	fetching bool            // an attempt was decided and has not completed
	lastErr  error           // error of the last attempt; nil if it succeeded
	failedAt time.Time

	hookAwait   func() // tests only: called by get before it starts or joins the fetch
	hookFetched func() // tests only: called by the fetch call after refresh, before the call ends
}

func newMetadataCache(p *OIDCProvider) *metadataCache { return &metadataCache{p: p} }

func (c *metadataCache) get(ctx context.Context) (*loadedMetadata, error) {
	c.mu.Lock()
	now := c.p.cfg.Now()
	cur := c.loaded
	if cur != nil && now.Before(cur.freshUntil) {
		c.mu.Unlock()
		return cur, nil
	}
	stale := cur != nil && now.Before(cur.usableUntil)
	if c.lastErr != nil && !c.fetching {
		backoff := retryAfterFailure
		if stale {
			backoff = DiscoveryMinCacheAge
		}
		if now.Sub(c.failedAt) < backoff {
			err := c.lastErr
			c.mu.Unlock()
			if stale {
				return cur, nil
			}
			return nil, err
		}
	}
	c.fetching = true
	seen := c.attempts
	c.mu.Unlock()

	if c.hookAwait != nil {
		c.hookAwait()
	}
	m, err := c.fetch.Do(ctx, seen, func(fctx context.Context) (*loadedMetadata, error) {
		m, err := c.refresh(fctx, seen)
		if c.hookFetched != nil {
			c.hookFetched()
		}
		return m, err
	})
	if err == nil {
		return m, nil
	}
	if !errors.Is(err, ErrUnavailable) {
		// ctx ended, or the fetch panicked.
		err = errfmt.Errorf("%w: discovery of %s: %w", ErrUnavailable, c.p.cfg.Name, err)
	}
	if ctx.Err() == nil {
		// The fetch failed: the last good metadata, within its grace.
		c.mu.Lock()
		cur, now = c.loaded, c.p.cfg.Now()
		c.mu.Unlock()
		if cur != nil && now.Before(cur.usableUntil) {
			return cur, nil
		}
	}
	return nil, err
}

// refresh runs discovery and records the outcome, unless an attempt
// completed since the caller looked (seen): then it returns that one's.
func (c *metadataCache) refresh(ctx context.Context, seen uint64) (m *loadedMetadata, err error) {
	c.mu.Lock()
	if c.attempts != seen {
		m, err = c.loaded, c.lastErr
		c.mu.Unlock()
		return m, err
	}
	prev := c.loaded
	c.mu.Unlock()

	err = errfmt.Errorf("%w: discovery of %s did not complete", ErrUnavailable, c.p.cfg.Name) // if it panics
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.attempts++
		c.fetching = false
		if err != nil {
			c.lastErr, c.failedAt = err, c.p.cfg.Now()
			m = nil
			return
		}
		c.loaded, c.lastErr = m, nil
	}()
	m, err = c.p.discover(ctx, prev)
	return m, err
}

// discover fetches and checks the discovery document. The key set of prev is
// kept when the jwks_uri is the same, so its cached keys stay in use.
func (p *OIDCProvider) discover(ctx context.Context, prev *loadedMetadata) (*loadedMetadata, error) {
	start := p.cfg.Now() // the max age runs from the request
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	// go-oidc fetches the document (through ginauth's safe client: 1 MiB
	// cap, no redirects, timeouts) and checks its issuer; the call record
	// gives the response's caching headers, which go-oidc does not expose.
	call := p.newHTTPCall()
	octx := call.context(ctx)
	if p.issuers != nil {
		// No single issuer (Microsoft multi-tenant): go-oidc's exact
		// comparison is off, and the issuer rule judges the document's.
		octx = oidc.InsecureIssuerURLContext(octx, p.cfg.Issuer)
	}
	op, err := oidc.NewProvider(octx, p.cfg.Issuer)
	if err != nil {
		return nil, errfmt.Errorf("%w: discovery of %s: %w", ErrUnavailable, p.cfg.Name, call.failure(ctx, "discovery document", err))
	}
	var doc Metadata // go-oidc's Provider exposes few fields: ginauth reads the rest
	if err := op.Claims(&doc); err != nil {
		return nil, errfmt.Errorf("%w: discovery of %s: malformed JSON: %w", ErrUnavailable, p.cfg.Name, err)
	}
	if p.issuers != nil && !p.issuers.discovery(doc.Issuer) {
		return nil, errfmt.Errorf("%w: discovery of %s: %w: %w: discovery document names issuer %q", ErrUnavailable, p.cfg.Name, ErrMisconfigured, ErrIssuerMismatch, truncate(doc.Issuer))
	}
	for name, endpoint := range map[string]string{
		"authorization_endpoint": doc.AuthorizationEndpoint,
		"token_endpoint":         doc.TokenEndpoint,
		"jwks_uri":               doc.JWKSURI,
	} {
		if err := checkEndpoint(endpoint); err != nil {
			return nil, errfmt.Errorf("%w: discovery of %s: %s: %w", ErrUnavailable, p.cfg.Name, name, err)
		}
	}
	for name, endpoint := range map[string]string{
		"userinfo_endpoint":    doc.UserinfoEndpoint,
		"revocation_endpoint":  doc.RevocationEndpoint,
		"end_session_endpoint": doc.EndSessionEndpoint,
	} {
		if endpoint == "" {
			continue
		}
		if err := checkEndpoint(endpoint); err != nil {
			return nil, errfmt.Errorf("%w: discovery of %s: %s: %w", ErrUnavailable, p.cfg.Name, name, err)
		}
	}
	if len(doc.CodeChallengeMethodsSupported) > 0 && !slices.Contains(doc.CodeChallengeMethodsSupported, "S256") {
		return nil, errfmt.Errorf("%w: discovery of %s: S256 PKCE is not supported", ErrUnavailable, p.cfg.Name)
	}
	algs := p.cfg.SigningAlgs
	if len(algs) == 0 {
		algs = slices.DeleteFunc(slices.Clone(doc.IDTokenSigningAlgValuesSupported), func(a string) bool { return !allowedAlg(a) })
		if len(algs) == 0 {
			algs = []string{"RS256"}
		}
	}
	var keys *oidcjwt.RemoteKeySet
	if prev != nil && prev.doc.JWKSURI == doc.JWKSURI {
		keys = prev.keys
	} else {
		keys = oidcjwt.NewRemoteKeySet(doc.JWKSURI, oidcjwt.KeySetOptions{Client: p.client, Now: p.cfg.Now})
	}
	fresh := start.Add(oidcjwt.CacheLifetime(call.header, DiscoveryCacheAge, DiscoveryMinCacheAge, DiscoveryMaxCacheAge))
	return &loadedMetadata{
		doc:         &doc,
		op:          op,
		keys:        keys,
		algs:        algs,
		authStyle:   p.pickAuthStyle(doc.TokenEndpointAuthMethodsSupported),
		freshUntil:  fresh,
		usableUntil: fresh.Add(DiscoveryStaleGrace),
	}, nil
}

// authStyle picks one client authentication method. It is never "auto
// detect": x/oauth2 would then retry a failed exchange with the other method,
// sending the code twice.
func authStyle(supported []string, hasSecret bool) oauth2.AuthStyle {
	if !hasSecret {
		return oauth2.AuthStyleInParams
	}
	if len(supported) == 0 || slices.Contains(supported, "client_secret_basic") {
		return oauth2.AuthStyleInHeader
	}
	if slices.Contains(supported, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// CheckIssuerURL reports whether issuer is acceptable as an issuer or
// endpoint: an absolute https URL without query or fragment, or http on a
// loopback host (local providers in development and tests).
func CheckIssuerURL(issuer string) error {
	if issuer == "" {
		return fmt.Errorf("issuer is empty")
	}
	if err := checkEndpoint(issuer); err != nil {
		return err
	}
	u, _ := url.Parse(issuer)
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("issuer %q has a query or fragment", issuer)
	}
	return nil
}

func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an absolute URL", endpoint)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%q must use https (http only on loopback hosts)", endpoint)
}

// IsLoopback reports whether host is localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
