package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/internal/safehttp"
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

const (
	DiscoveryMinCacheAge = time.Minute
	DiscoveryMaxCacheAge = 24 * time.Hour
	DiscoveryCacheAge    = time.Hour
	DiscoveryStaleGrace  = 24 * time.Hour
)

// retryAfterFailure is how long a failed discovery is remembered before the
// next request tries again.
const retryAfterFailure = 5 * time.Second

var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func allowedAlg(alg string) bool { return slices.Contains(asymmetricAlgs, alg) }

type loadedMetadata struct {
	doc       *Metadata
	keys      *oidcjwt.RemoteKeySet
	algs      []string
	authStyle oauth2.AuthStyle
}

// metadataCache fetches discovery once, remembers failures briefly, and lets
// concurrent callers share one fetch.
type metadataCache struct {
	p *OIDCProvider

	mu       sync.Mutex
	loaded   *loadedMetadata
	lastErr  error
	failedAt time.Time
}

func newMetadataCache(p *OIDCProvider) *metadataCache { return &metadataCache{p: p} }

func (c *metadataCache) get(ctx context.Context) (*loadedMetadata, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded != nil {
		return c.loaded, nil
	}
	if c.lastErr != nil && c.p.cfg.Now().Sub(c.failedAt) < retryAfterFailure {
		return nil, c.lastErr
	}
	m, err := c.p.discover(ctx)
	if err != nil {
		c.lastErr, c.failedAt = err, c.p.cfg.Now()
		return nil, err
	}
	c.loaded, c.lastErr = m, nil
	return m, nil
}

func (p *OIDCProvider) discover(ctx context.Context) (*loadedMetadata, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	wellKnown := strings.TrimSuffix(p.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	var doc Metadata
	if err := p.getJSON(ctx, wellKnown, "", &doc); err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %w", ErrUnavailable, p.cfg.Name, err)
	}
	if doc.Issuer != p.cfg.Issuer {
		return nil, fmt.Errorf("%w: %w: discovery of %s names issuer %q", ErrUnavailable, ErrIssuerMismatch, p.cfg.Name, doc.Issuer)
	}
	for name, endpoint := range map[string]string{
		"authorization_endpoint": doc.AuthorizationEndpoint,
		"token_endpoint":         doc.TokenEndpoint,
		"jwks_uri":               doc.JWKSURI,
	} {
		if err := checkEndpoint(endpoint); err != nil {
			return nil, fmt.Errorf("%w: discovery of %s: %s: %w", ErrUnavailable, p.cfg.Name, name, err)
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
			return nil, fmt.Errorf("%w: discovery of %s: %s: %w", ErrUnavailable, p.cfg.Name, name, err)
		}
	}
	if len(doc.CodeChallengeMethodsSupported) > 0 && !slices.Contains(doc.CodeChallengeMethodsSupported, "S256") {
		return nil, fmt.Errorf("%w: discovery of %s: S256 PKCE is not supported", ErrUnavailable, p.cfg.Name)
	}
	algs := p.cfg.SigningAlgs
	if len(algs) == 0 {
		algs = slices.DeleteFunc(slices.Clone(doc.IDTokenSigningAlgValuesSupported), func(a string) bool { return !allowedAlg(a) })
		if len(algs) == 0 {
			algs = []string{"RS256"}
		}
	}
	return &loadedMetadata{
		doc:       &doc,
		keys:      oidcjwt.NewRemoteKeySet(doc.JWKSURI, oidcjwt.KeySetOptions{Client: p.client, Now: p.cfg.Now}),
		algs:      algs,
		authStyle: authStyle(doc.TokenEndpointAuthMethodsSupported, p.cfg.ClientSecret),
	}, nil
}

// authStyle picks one client authentication method. It is never "auto
// detect": x/oauth2 would then retry a failed exchange with the other method,
// sending the code twice.
func authStyle(supported []string, secret string) oauth2.AuthStyle {
	if secret == "" {
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

// getJSON GETs a JSON document (bearer-authenticated when token is set) and
// decodes it into v.
func (p *OIDCProvider) getJSON(ctx context.Context, endpoint, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := safehttp.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
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
