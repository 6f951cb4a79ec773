package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/oautherr"
	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/internal/safehttp"
)

// OIDCConfig configures a generic OpenID Connect provider. Endpoints come from
// the issuer's discovery document, fetched on first use and again after its
// max age (see DiscoveryCacheAge); keys come from its jwks_uri, cached the
// same way (oidcjwt.KeySetOptions defaults).
type OIDCConfig struct {
	Name        string // route name, e.g. "keycloak"; required
	DisplayName string // default: Name

	// Issuer is the issuer identifier, compared as an exact string with the
	// discovery document, the RFC 9207 iss parameter and the ID token's iss.
	// It must be https, except on loopback hosts.
	Issuer       string
	ClientID     string
	ClientSecret string // empty for a public client (PKCE only)

	Scopes     []string   // requested in addition to "openid"
	AuthParams url.Values // extra parameters of every authorization request (e.g. prompt)

	// SigningAlgs is the ID token algorithm allow-list. Default: the
	// discovery document's id_token_signing_alg_values_supported restricted to
	// asymmetric algorithms, or RS256. HS* and none are never accepted.
	SigningAlgs []string

	// FormPost asks for response_mode=form_post.
	FormPost bool
	// EndSession makes sign-out also end the provider's session
	// (RP-Initiated Logout 1.0) when discovery advertises an
	// end_session_endpoint. Off by default.
	EndSession bool
	// UserInfo always fetches the UserInfo endpoint after the code exchange
	// and merges its claims (ID token claims win); its sub must equal the
	// ID token's, and a failure fails the sign-in.
	//
	// Without UserInfo or SkipUserInfo, the default, the endpoint is
	// fetched only when the ID token lacks a claim that the requested
	// scopes promise: "name" for the profile scope, "email" for email,
	// "groups" for groups (some providers, such as panva's oidc-provider,
	// keep them out of ID tokens). Its sub must then equal the ID token's
	// too (a different sub fails the sign-in), but a UserInfo endpoint that
	// cannot be reached or answers garbage leaves the ID token's claims as
	// they are.
	UserInfo bool
	// SkipUserInfo never fetches the UserInfo endpoint: the identity has
	// the ID token's claims only. It cannot be set with UserInfo.
	SkipUserInfo bool

	// HTTPClient is used for every call to the provider. It is wrapped so that
	// responses are capped at 1 MiB and redirects are not followed. Default: a
	// client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call to the provider. Default 10 s.
	Timeout time.Duration
	// ClockSkew tolerated on exp, iat and nbf. Default 60 s, at most 5 min.
	// Above 2.5 min, nbf is tolerated 5 min less ClockSkew only (go-oidc's
	// fixed nbf leeway, from a clock set back by ClockSkew).
	ClockSkew time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// OIDCProvider is a generic OpenID Connect provider.
type OIDCProvider struct {
	cfg   OIDCConfig
	hooks secretHooks // presets' client secret; see oidc_secret.go
	// promised are the claims the requested scopes promise (see
	// OIDCConfig.UserInfo): the default fetches UserInfo when the ID
	// token lacks one.
	promised []string
	client   *http.Client
	scopes   []string
	meta     *metadataCache
	checkFn  func(claims map[string]any) error

	// Set by presets with no single issuer (Microsoft's multi-tenant
	// configs); nil for every other provider, which compares with
	// cfg.Issuer exactly everywhere.
	issuers *issuerRule
	// adjustFn, when set, checks and may rewrite the identity's claims
	// (numbers decoded as json.Number); an error refuses the sign-in.
	adjustFn func(claims map[string]any) error
}

// OIDC returns a provider for any OpenID Connect issuer. It does no network
// I/O: discovery happens on first use, is refreshed after its max age and is
// retried after failures.
func OIDC(cfg OIDCConfig) (*OIDCProvider, error) {
	if !ValidName(cfg.Name) {
		return nil, errfmt.Errorf("%w: name %q must match [a-z0-9][a-z0-9-]{0,31}", ErrInvalidConfig, cfg.Name)
	}
	if err := CheckIssuerURL(cfg.Issuer); err != nil {
		return nil, errfmt.Errorf("%w: provider %s: %w", ErrInvalidConfig, cfg.Name, err)
	}
	if cfg.ClientID == "" {
		return nil, errfmt.Errorf("%w: provider %s: ClientID is empty", ErrInvalidConfig, cfg.Name)
	}
	for _, alg := range cfg.SigningAlgs {
		if !allowedAlg(alg) {
			return nil, errfmt.Errorf("%w: provider %s: signing algorithm %q is not allowed", ErrInvalidConfig, cfg.Name, alg)
		}
	}
	if cfg.UserInfo && cfg.SkipUserInfo {
		return nil, errfmt.Errorf("%w: provider %s: UserInfo and SkipUserInfo are both set", ErrInvalidConfig, cfg.Name)
	}
	if cfg.Timeout < 0 || cfg.ClockSkew < 0 || cfg.ClockSkew > 5*time.Minute {
		return nil, errfmt.Errorf("%w: provider %s: negative Timeout, or ClockSkew outside [0, 5m]", ErrInvalidConfig, cfg.Name)
	}
	for k := range cfg.AuthParams {
		switch k {
		case "state", "nonce", "code_challenge", "code_challenge_method", "redirect_uri", "client_id", "response_type", "scope":
			return nil, errfmt.Errorf("%w: provider %s: AuthParams may not set %q", ErrInvalidConfig, cfg.Name, k)
		}
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = cfg.Name
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = safehttp.DefaultTimeout
	}
	if cfg.ClockSkew == 0 {
		cfg.ClockSkew = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &OIDCProvider{cfg: cfg}
	if cfg.HTTPClient != nil {
		p.client = safehttp.Wrap(cfg.HTTPClient)
	} else {
		p.client = safehttp.NewClient(cfg.Timeout)
	}
	p.scopes = append([]string{"openid"}, slices.DeleteFunc(slices.Clone(cfg.Scopes), func(s string) bool { return s == "openid" || s == "" })...)
	p.promised = promisedClaims(p.scopes)
	p.meta = newMetadataCache(p)
	return p, nil
}

// Name implements Provider.
func (p *OIDCProvider) Name() string { return p.cfg.Name }

// DisplayName implements Provider.
func (p *OIDCProvider) DisplayName() string { return p.cfg.DisplayName }

// Issuer implements Provider.
func (p *OIDCProvider) Issuer() string { return p.cfg.Issuer }

// UsesFormPost reports whether the provider answers with response_mode=form_post.
func (p *OIDCProvider) UsesFormPost() bool { return p.cfg.FormPost }

// Metadata returns the discovery document, fetching it when needed.
func (p *OIDCProvider) Metadata(ctx context.Context) (*Metadata, error) {
	m, err := p.meta.get(ctx)
	if err != nil {
		return nil, err
	}
	return m.doc, nil
}

func (p *OIDCProvider) oauth2Config(m *loadedMetadata, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.clientSecret(),
		Endpoint: oauth2.Endpoint{
			AuthURL:   m.doc.AuthorizationEndpoint,
			TokenURL:  m.doc.TokenEndpoint,
			AuthStyle: m.authStyle,
		},
		RedirectURL: redirectURI,
		Scopes:      p.scopes,
	}
}

// AuthCodeURL implements Provider.
func (p *OIDCProvider) AuthCodeURL(ctx context.Context, req AuthRequest) (string, error) {
	m, err := p.meta.get(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("nonce", req.Nonce),
		oauth2.SetAuthURLParam("code_challenge", req.CodeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	}
	if p.cfg.FormPost {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", "form_post"))
	}
	for k, vs := range p.cfg.AuthParams {
		if len(vs) > 0 {
			opts = append(opts, oauth2.SetAuthURLParam(k, vs[0]))
		}
	}
	return p.oauth2Config(m, req.RedirectURI).AuthCodeURL(req.State, opts...), nil
}

// Exchange implements Provider.
func (p *OIDCProvider) Exchange(ctx context.Context, resp AuthResponse) (*Identity, error) {
	m, err := p.meta.get(ctx)
	if err != nil {
		return nil, err
	}
	// RFC 9207: check the authorization response's iss before any token call.
	if err := p.checkIss(m, resp.Iss, resp.IssPresent); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	sent := p.cfg.Now()
	tok, err := p.oauth2Config(m, resp.RedirectURI).Exchange(ctx, resp.Code, oauth2.VerifierOption(resp.CodeVerifier))
	if err != nil {
		return nil, exchangeError(err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, ErrMissingIDToken
	}
	claims, err := oidcjwt.VerifyIDToken(ctx, m.keys, rawID, m.algs, oidcjwt.IDTokenExpectations{
		Issuer:      p.cfg.Issuer,
		IssuerCheck: p.issuers.tokenCheck(),
		ClientID:    p.cfg.ClientID,
		Nonce:       resp.Nonce,
		Now:         p.cfg.Now(),
		Skew:        p.cfg.ClockSkew,
	})
	if err != nil {
		return nil, p.tokenError(err)
	}
	expiry := tok.Expiry
	if tok.ExpiresIn > 0 { // measured on the configured clock, like the ID token checks
		expiry = sent.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	merged := claims.Raw
	if m.doc.UserinfoEndpoint != "" && !p.cfg.SkipUserInfo {
		switch {
		case p.cfg.UserInfo:
			if merged, err = p.fetchUserInfo(ctx, m, tok.AccessToken, claims); err != nil {
				return nil, err
			}
		case p.lacksPromisedClaim(claims.Raw):
			more, err := p.fetchUserInfo(ctx, m, tok.AccessToken, claims)
			switch {
			case err == nil:
				merged = more
			case !errors.Is(err, ErrUnavailable):
				return nil, err // another subject: never ignored
			}
		}
	}
	if p.checkFn != nil {
		var all map[string]any
		if err := json.Unmarshal(merged, &all); err != nil {
			return nil, errfmt.Errorf("%w: %w", ErrClaimRejected, err)
		}
		if err := p.checkFn(all); err != nil {
			return nil, err
		}
	}
	if p.adjustFn != nil {
		if merged, err = adjustClaims(merged, p.adjustFn); err != nil {
			return nil, err
		}
	}
	return &Identity{
		Issuer:    claims.Issuer,
		Subject:   claims.Subject,
		SessionID: claims.SID,
		Claims:    merged,
		Token: Token{
			AccessToken:  tok.AccessToken,
			TokenType:    tok.Type(),
			RefreshToken: tok.RefreshToken,
			IDToken:      rawID,
			Expiry:       expiry,
		},
	}, nil
}

// VerifyAccessToken implements AccessTokenVerifier: the token's signature
// with the provider's RemoteKeySet (cached keys, rate-limited refetch, max
// age) and the ID token algorithm allow-list, then oidcjwt's RFC 9068 rules
// with the provider's issuer (AcceptsIssuer for multi-tenant configs), clock
// and skew.
func (p *OIDCProvider) VerifyAccessToken(ctx context.Context, token, audience string) (*AccessToken, error) {
	m, err := p.meta.get(ctx)
	if err != nil {
		return nil, err
	}
	e := oidcjwt.AccessTokenExpectations{
		Issuer:   p.cfg.Issuer,
		Audience: audience,
		Now:      p.cfg.Now(),
		Skew:     p.cfg.ClockSkew,
	}
	if p.issuers != nil {
		e.IssuerCheck = p.issuers.accepts
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	c, err := oidcjwt.VerifyAccessToken(ctx, m.keys, token, m.algs, e)
	if err != nil {
		return nil, p.tokenError(err)
	}
	return &AccessToken{
		Issuer:   c.Issuer,
		Subject:  c.Subject,
		ClientID: c.ClientID,
		Audience: audience,
		Scopes:   c.Scopes,
		Expiry:   c.Expiry,
		Claims:   c.Raw,
	}, nil
}

// AcceptsIssuer implements IssuerMatcher: iss is the configured issuer
// exactly, or, for a Microsoft multi-tenant config, a tenant's issuer that
// config accepts (see MicrosoftConfig).
func (p *OIDCProvider) AcceptsIssuer(iss string) bool {
	if p.issuers != nil {
		return p.issuers.accepts(iss)
	}
	return iss == p.cfg.Issuer
}

// CheckAuthorizationIss applies the RFC 9207 checks to the iss parameter of
// an authorization response that carries no code, such as an error response:
// §2.4 applies to those too, so an error is not trusted to come from this
// provider unless its iss says so. Exchange makes the same checks itself.
func (p *OIDCProvider) CheckAuthorizationIss(ctx context.Context, iss string, present bool) error {
	m, err := p.meta.get(ctx)
	if err != nil {
		return err
	}
	return p.checkIss(m, iss, present)
}

// checkIss: a present iss must be the configured issuer exactly (also when
// the provider does not advertise the parameter: local policy), and a
// provider that advertises the parameter must send it.
func (p *OIDCProvider) checkIss(m *loadedMetadata, iss string, present bool) error {
	switch {
	case present && p.issuers != nil:
		if !p.issuers.accepts(iss) {
			return errfmt.Errorf("%w: authorization response iss is not an issuer of this provider", ErrIssuerMismatch)
		}
	case present && iss != p.cfg.Issuer:
		return errfmt.Errorf("%w: authorization response iss is not the configured issuer", ErrIssuerMismatch)
	case !present && m.doc.AuthorizationResponseIssParameterSupported:
		return errfmt.Errorf("%w: authorization response lacks the iss parameter the provider advertises", ErrIssuerMismatch)
	}
	return nil
}

func (p *OIDCProvider) tokenError(err error) error {
	if errors.Is(err, oidcjwt.ErrKeysUnavailable) {
		return errfmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// exchangeError maps a token endpoint failure to a sentinel, keeping the
// provider's error code and a short, escaped error_description for logs,
// but never the response body. A refusal of the client itself also wraps
// ErrMisconfigured.
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := re.ErrorCode
		if code == "" && re.Response != nil {
			code = "http " + fmt.Sprint(re.Response.StatusCode)
		}
		detail := sanitizeCode(code)
		if re.ErrorDescription != "" {
			detail += fmt.Sprintf(" (%q)", oautherr.Description(re.ErrorDescription))
		}
		if re.Response != nil && re.Response.StatusCode >= 500 {
			return errfmt.Errorf("%w: %w: token endpoint answered %s", ErrUnavailable, ErrTokenExchange, detail)
		}
		if oautherr.ClientConfig(re.ErrorCode) {
			return errfmt.Errorf("%w: %w: %s", ErrMisconfigured, ErrTokenExchange, detail)
		}
		return errfmt.Errorf("%w: %s", ErrTokenExchange, detail)
	}
	if errors.Is(err, safehttp.ErrResponseTooLarge) {
		return errfmt.Errorf("%w: %w: %w", ErrUnavailable, ErrTokenExchange, safehttp.ErrResponseTooLarge)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errfmt.Errorf("%w: %w: token endpoint timed out", ErrUnavailable, ErrTokenExchange)
	}
	return errfmt.Errorf("%w: %w: token endpoint unreachable or answered garbage", ErrUnavailable, ErrTokenExchange)
}

// sanitizeCode keeps an OAuth error code printable and short for logs.
func sanitizeCode(code string) string { return oautherr.Code(code) }
