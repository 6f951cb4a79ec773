package providers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/safehttp"
)

// ClientAuth is how an OAuth 2.0 client authenticates at the token and
// revocation endpoints. It is fixed by configuration, never auto-detected.
type ClientAuth int

const (
	// ClientSecretBasic sends the client credentials as HTTP Basic
	// authentication (RFC 6749 §2.3.1, the default).
	ClientSecretBasic ClientAuth = iota
	// ClientSecretPost sends client_id and client_secret in the form body.
	ClientSecretPost
)

func (a ClientAuth) style() oauth2.AuthStyle {
	if a == ClientSecretPost {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

// OAuth2User is the identity a user endpoint's answer maps to.
type OAuth2User struct {
	// Subject is the provider's stable, immutable identifier of the user
	// (never a login name or an email address). Required.
	Subject       string
	Name          string
	Email         string
	EmailVerified bool // true only when the provider vouches for Email
	Groups        []string
	// Extra claims kept with the session (Claims); the names above win.
	Extra map[string]any
}

// OAuth2API makes authenticated calls to the provider's API for a MapUser
// hook: the fresh access token goes in the Authorization header, with the
// provider's API headers, through the provider's capped, timed client.
type OAuth2API struct {
	client  *http.Client
	token   string
	headers http.Header
}

// APIError is a non-2xx answer of the provider's API.
type APIError struct {
	URL    string
	Status int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s answered HTTP %d", e.URL, e.Status)
}

// GetJSON calls GET rawURL and decodes a 200 answer into v. It returns the
// response header (for pagination), or an *APIError for another status.
func (a *OAuth2API) GetJSON(ctx context.Context, rawURL string, v any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range a.headers {
		req.Header[k] = slices.Clone(vs)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := safehttp.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	u := rawURL
	if pu, err := url.Parse(rawURL); err == nil {
		pu.RawQuery = ""
		u = pu.String()
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &APIError{URL: u, Status: resp.StatusCode}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return nil, errfmt.Errorf("%s: malformed JSON: %w", u, err)
	}
	return resp.Header, nil
}

// OAuth2Config configures a generic OAuth 2.0 provider: one without ID
// tokens, whose users are identified by a user endpoint called with the
// access token.
type OAuth2Config struct {
	Name        string // route name; required
	DisplayName string // default: Name

	// Issuer is the stable identifier of this authorization server; users
	// are keyed by (Issuer, Subject) and flows and sessions are bound to it,
	// so it must not change for a deployment. Default: the origin
	// (scheme://host[:port]) of AuthURL.
	Issuer string

	AuthURL  string // authorization endpoint; required
	TokenURL string // token endpoint; required
	UserURL  string // user endpoint, called with GET and the access token; required
	// RevocationURL is an RFC 7009 revocation endpoint; optional.
	RevocationURL string

	ClientID     string
	ClientSecret string
	ClientAuth   ClientAuth // default ClientSecretBasic

	Scopes     []string
	AuthParams url.Values // extra authorization request parameters

	// TokenHeaders are added to token endpoint requests (for example
	// Accept: application/json).
	TokenHeaders http.Header
	// APIHeaders are added to the user endpoint request and to every
	// OAuth2API call.
	APIHeaders http.Header

	// MapUser maps the user endpoint's JSON (numbers decoded as
	// json.Number) to the identity. It may call the API for more. An error
	// wrapping ErrClaimRejected refuses the user (not_allowed); any other
	// fails the sign-in. Default: the OpenID Connect claim names sub (a
	// string), name, email, email_verified (a boolean) and groups.
	MapUser func(ctx context.Context, api *OAuth2API, user map[string]any) (*OAuth2User, error)

	// ExpectedIss turns on RFC 9207: authorization responses must carry
	// exactly this iss parameter. Empty: the parameter is ignored.
	ExpectedIss string

	// InsecureDisablePKCE leaves PKCE (S256) out of the flow, for an
	// authorization server that rejects it. INSECURE: authorization codes
	// are then no longer bound to the browser that started the flow.
	InsecureDisablePKCE bool

	// Revoke replaces RFC 7009 revocation with a provider-specific call;
	// client is the provider's capped, timed client.
	Revoke func(ctx context.Context, client *http.Client, token, hint string) error

	HTTPClient *http.Client     // wrapped by safehttp (1 MiB cap, no redirects)
	Timeout    time.Duration    // each call, and all the calls of one sign-in together; default 10 s
	Now        func() time.Time // default time.Now

	// invalidGrantCodes are token endpoint error codes, besides
	// invalid_grant, that refuse a refresh token.
	invalidGrantCodes []string
}

// OAuth2Provider is a generic OAuth 2.0 provider (no ID token).
type OAuth2Provider struct {
	cfg         OAuth2Config
	client      *http.Client
	tokenClient *http.Client
}

// OAuth2 returns a generic OAuth 2.0 provider. State and PKCE S256 are always
// used (unless InsecureDisablePKCE); there is no nonce, as there is no ID
// token. It does no network I/O.
func OAuth2(cfg OAuth2Config) (*OAuth2Provider, error) {
	if !ValidName(cfg.Name) {
		return nil, errfmt.Errorf("%w: name %q must match [a-z0-9][a-z0-9-]{0,31}", ErrInvalidConfig, cfg.Name)
	}
	bad := func(format string, a ...any) error {
		return errfmt.Errorf("%w: provider %s: %s", ErrInvalidConfig, cfg.Name, fmt.Sprintf(format, a...))
	}
	for _, e := range []struct{ name, v string }{{"AuthURL", cfg.AuthURL}, {"TokenURL", cfg.TokenURL}, {"UserURL", cfg.UserURL}} {
		if e.v == "" {
			return nil, bad("%s is empty", e.name)
		}
		if err := checkOAuth2Endpoint(e.v); err != nil {
			return nil, bad("%s: %v", e.name, err)
		}
	}
	if cfg.RevocationURL != "" {
		if err := checkOAuth2Endpoint(cfg.RevocationURL); err != nil {
			return nil, bad("RevocationURL: %v", err)
		}
	}
	if cfg.Issuer == "" {
		u, _ := url.Parse(cfg.AuthURL)
		cfg.Issuer = u.Scheme + "://" + u.Host
	}
	if err := CheckIssuerURL(cfg.Issuer); err != nil {
		return nil, bad("Issuer: %v", err)
	}
	if cfg.ExpectedIss != "" {
		if err := CheckIssuerURL(cfg.ExpectedIss); err != nil {
			return nil, bad("ExpectedIss: %v", err)
		}
	}
	if cfg.ClientID == "" {
		return nil, bad("ClientID is empty")
	}
	if cfg.ClientAuth != ClientSecretBasic && cfg.ClientAuth != ClientSecretPost {
		return nil, bad("unknown ClientAuth %d", cfg.ClientAuth)
	}
	if cfg.Timeout < 0 {
		return nil, bad("negative Timeout")
	}
	for k := range cfg.AuthParams {
		switch k {
		case "state", "nonce", "code_challenge", "code_challenge_method", "redirect_uri", "client_id", "response_type", "scope":
			return nil, bad("AuthParams may not set %q", k)
		}
	}
	if cfg.DisplayName == "" {
		cfg.DisplayName = cfg.Name
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = safehttp.DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MapUser == nil {
		cfg.MapUser = standardUser
	}
	cfg.Scopes = slices.DeleteFunc(slices.Clone(cfg.Scopes), func(s string) bool { return s == "" })
	p := &OAuth2Provider{cfg: cfg}
	if cfg.HTTPClient != nil {
		p.client = safehttp.Wrap(cfg.HTTPClient)
	} else {
		p.client = safehttp.NewClient(cfg.Timeout)
	}
	tc := *p.client
	if len(cfg.TokenHeaders) > 0 {
		tc.Transport = &headerTransport{base: p.client.Transport, headers: cfg.TokenHeaders}
	}
	p.tokenClient = &tc
	return p, nil
}

// checkOAuth2Endpoint: an absolute https URL (http only on loopback hosts),
// without user info or fragment.
func checkOAuth2Endpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q is not an absolute URL without user info or fragment", endpoint)
	}
	if u.Scheme == "https" || (u.Scheme == "http" && IsLoopback(u.Hostname())) {
		return nil
	}
	return fmt.Errorf("%q must use https (http only on loopback hosts)", endpoint)
}

// headerTransport adds fixed headers to every request.
type headerTransport struct {
	base    http.RoundTripper
	headers http.Header
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, vs := range t.headers {
		req.Header[k] = slices.Clone(vs)
	}
	return t.base.RoundTrip(req)
}

// Name implements Provider.
func (p *OAuth2Provider) Name() string { return p.cfg.Name }

// DisplayName implements Provider.
func (p *OAuth2Provider) DisplayName() string { return p.cfg.DisplayName }

// Issuer implements Provider: the configured identifier of the server.
func (p *OAuth2Provider) Issuer() string { return p.cfg.Issuer }

func (p *OAuth2Provider) oauth2Config(redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   p.cfg.AuthURL,
			TokenURL:  p.cfg.TokenURL,
			AuthStyle: p.cfg.ClientAuth.style(),
		},
		RedirectURL: redirectURI,
		Scopes:      p.cfg.Scopes,
	}
}

// AuthCodeURL implements Provider. The request's nonce is not sent.
func (p *OAuth2Provider) AuthCodeURL(_ context.Context, req AuthRequest) (string, error) {
	var opts []oauth2.AuthCodeOption
	if !p.cfg.InsecureDisablePKCE {
		opts = append(opts,
			oauth2.SetAuthURLParam("code_challenge", req.CodeChallenge),
			oauth2.SetAuthURLParam("code_challenge_method", "S256"))
	}
	for k, vs := range p.cfg.AuthParams {
		if len(vs) > 0 {
			opts = append(opts, oauth2.SetAuthURLParam(k, vs[0]))
		}
	}
	return p.oauth2Config(req.RedirectURI).AuthCodeURL(req.State, opts...), nil
}

// CheckAuthorizationIss implements AuthorizationIssChecker: with
// ExpectedIss set, iss must be present and equal to it; otherwise the
// parameter is ignored.
func (p *OAuth2Provider) CheckAuthorizationIss(_ context.Context, iss string, present bool) error {
	if p.cfg.ExpectedIss == "" {
		return nil
	}
	if !present {
		return errfmt.Errorf("%w: authorization response lacks the iss parameter", ErrIssuerMismatch)
	}
	if iss != p.cfg.ExpectedIss {
		return errfmt.Errorf("%w: authorization response iss is not the expected one", ErrIssuerMismatch)
	}
	return nil
}

func (p *OAuth2Provider) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	return context.WithValue(ctx, oauth2.HTTPClient, p.tokenClient), cancel
}

func (p *OAuth2Provider) token(tok *oauth2.Token, sent time.Time) (Token, error) {
	if tok.AccessToken == "" {
		return Token{}, errfmt.Errorf("%w: token response without access_token", ErrTokenExchange)
	}
	if t := tok.Type(); !strings.EqualFold(t, "bearer") {
		return Token{}, errfmt.Errorf("%w: token_type %q is not bearer", ErrTokenExchange, sanitizeCode(t))
	}
	out := Token{AccessToken: tok.AccessToken, TokenType: "Bearer", RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	if tok.ExpiresIn > 0 {
		out.Expiry = sent.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return out, nil
}

// Exchange implements Provider: it checks iss (when configured), redeems the
// code with the PKCE verifier, calls the user endpoint with the access
// token and maps the answer.
func (p *OAuth2Provider) Exchange(ctx context.Context, resp AuthResponse) (*Identity, error) {
	if err := p.CheckAuthorizationIss(ctx, resp.Iss, resp.IssPresent); err != nil {
		return nil, err
	}
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	var opts []oauth2.AuthCodeOption
	if !p.cfg.InsecureDisablePKCE {
		opts = append(opts, oauth2.VerifierOption(resp.CodeVerifier))
	}
	sent := p.cfg.Now()
	otok, err := p.oauth2Config(resp.RedirectURI).Exchange(ctx, resp.Code, opts...)
	if err != nil {
		return nil, exchangeError(err)
	}
	tok, err := p.token(otok, sent)
	if err != nil {
		return nil, err
	}
	api := &OAuth2API{client: p.client, token: tok.AccessToken, headers: p.cfg.APIHeaders}
	var raw map[string]any
	if _, err := api.GetJSON(ctx, p.cfg.UserURL, &raw); err != nil {
		return nil, userEndpointError(err)
	}
	if raw == nil {
		return nil, errfmt.Errorf("%w: user endpoint answered null", ErrUserInfo)
	}
	u, err := p.cfg.MapUser(ctx, api, raw)
	if err != nil {
		if errors.Is(err, ErrClaimRejected) || errors.Is(err, ErrUserInfo) || errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		return nil, userEndpointError(err)
	}
	if u == nil || u.Subject == "" || len(u.Subject) > 255 {
		return nil, errfmt.Errorf("%w: no usable subject", ErrUserInfo)
	}
	claims := make(map[string]any, len(u.Extra)+6)
	for k, v := range u.Extra {
		claims[k] = v
	}
	claims["iss"] = p.cfg.Issuer
	claims["sub"] = u.Subject
	delete(claims, "name")
	delete(claims, "email")
	delete(claims, "email_verified")
	delete(claims, "groups")
	if u.Name != "" {
		claims["name"] = u.Name
	}
	if u.Email != "" {
		claims["email"] = u.Email
		claims["email_verified"] = u.EmailVerified
	}
	if len(u.Groups) > 0 {
		claims["groups"] = u.Groups
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	return &Identity{Issuer: p.cfg.Issuer, Subject: u.Subject, Claims: b, Token: tok}, nil
}

// Refresh implements Refresher. Without a refresh token (GitHub OAuth apps,
// for one) it fails with ErrNoRefreshToken.
func (p *OAuth2Provider) Refresh(ctx context.Context, t Token, _, _ string) (Token, error) {
	if t.RefreshToken == "" {
		return Token{}, ErrNoRefreshToken
	}
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	sent := p.cfg.Now()
	otok, err := p.oauth2Config("").TokenSource(ctx, &oauth2.Token{RefreshToken: t.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || slices.Contains(p.cfg.invalidGrantCodes, re.ErrorCode)) {
			return Token{}, ErrInvalidGrant
		}
		return Token{}, exchangeError(err)
	}
	out, err := p.token(otok, sent)
	if err != nil {
		return Token{}, err
	}
	if out.RefreshToken == "" {
		out.RefreshToken = t.RefreshToken
	}
	return out, nil
}

// Revoke implements Revoker: the configured Revoke hook, else RFC 7009 at
// RevocationURL, else ErrNoRevocation.
func (p *OAuth2Provider) Revoke(ctx context.Context, token, hint string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	if p.cfg.Revoke != nil {
		return p.cfg.Revoke(ctx, p.client, token, hint)
	}
	if p.cfg.RevocationURL == "" {
		return ErrNoRevocation
	}
	return postRevocation(ctx, p.client, p.cfg.RevocationURL, p.cfg.ClientID, p.cfg.ClientSecret, p.cfg.ClientAuth == ClientSecretPost, token, hint)
}

// standardUser is the default MapUser: OpenID Connect claim names.
func standardUser(_ context.Context, _ *OAuth2API, m map[string]any) (*OAuth2User, error) {
	sub, _ := m["sub"].(string)
	if sub == "" {
		return nil, errfmt.Errorf("%w: no sub", ErrUserInfo)
	}
	u := &OAuth2User{Subject: sub}
	u.Name, _ = m["name"].(string)
	u.Email, _ = m["email"].(string)
	u.EmailVerified, _ = m["email_verified"].(bool)
	switch g := m["groups"].(type) {
	case []any:
		for _, e := range g {
			if s, ok := e.(string); ok {
				u.Groups = append(u.Groups, s)
			}
		}
	case string:
		u.Groups = []string{g}
	}
	return u, nil
}

// userEndpointError maps a failed API call: a 4xx answer is ErrUserInfo;
// an unreachable or slow provider, a 5xx or an oversized answer is also
// ErrUnavailable. Nothing was trusted.
func userEndpointError(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status < 500 {
		// A refusal (401, 404, ...): the provider is up but gave no user.
		return errfmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	return errfmt.Errorf("%w: %w: %w", ErrUnavailable, ErrUserInfo, err)
}
