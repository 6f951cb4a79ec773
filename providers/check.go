package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// Checker is implemented by providers that can check their configuration
// against the provider itself, for a start-up check (Auth.CheckProviders):
// mistakes that the constructors cannot see, such as an issuer with a
// trailing slash or a wrong client secret, would otherwise surface only at
// the first sign-in.
type Checker interface {
	// CheckConfig checks the configuration with network calls to the
	// provider. redirectURI is the redirect URI ginauth sends for this
	// provider. An error wraps ErrMisconfigured when the configuration
	// must change (its text says what to set), or ErrUnavailable when the
	// provider could not be asked.
	CheckConfig(ctx context.Context, redirectURI string) error
}

// CheckConfig implements Checker. It fetches the discovery document and
// compares the issuer it names with the configured one (naming the fix: a
// trailing slash, Microsoft Entra ID's multi-tenant template), runs the
// checks of discovery (https endpoints, PKCE S256, algorithms), and, for a
// client with a secret, checks the client credentials with one token
// request for a made-up authorization code: the token endpoint refuses it
// either way, with invalid_client when the credentials are wrong (reported)
// or invalid_grant when they are right. No code is redeemed and no token is
// issued; the request is one failed token request in the provider's logs.
func (p *OIDCProvider) CheckConfig(ctx context.Context, redirectURI string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	if err := p.checkDiscoveryIssuer(ctx); err != nil {
		return err
	}
	m, err := p.meta.get(ctx)
	if err != nil {
		return err
	}
	if p.clientSecret() == "" {
		return nil // a public client: nothing to check without a sign-in
	}
	return checkClient(context.WithValue(ctx, oauth2.HTTPClient, p.client), p.oauth2Config(m, redirectURI))
}

// CheckConfig implements Checker: for a client with a secret, it checks the
// client credentials with one token request for a made-up authorization
// code, as OIDCProvider.CheckConfig does (GitHub answers
// incorrect_client_credentials for wrong ones, bad_verification_code for
// right ones). A provider configured with endpoints only has no discovery
// to check.
func (p *OAuth2Provider) CheckConfig(ctx context.Context, redirectURI string) error {
	if p.cfg.ClientSecret == "" {
		return nil
	}
	ctx, cancel := p.ctx(ctx)
	defer cancel()
	return checkClient(ctx, p.oauth2Config(redirectURI))
}

// checkClient sends the token endpoint of cfg an authorization code grant
// for a made-up code (ctx carries the provider's HTTP client). The endpoint
// refuses the code whatever the credentials; a refusal of the client itself
// (invalid_client and the other codes of oautherr.ClientConfig) is
// reported, any other refusal means the client was accepted.
func checkClient(ctx context.Context, cfg *oauth2.Config) error {
	code := "ginauth-config-check-" + oauth2.GenerateVerifier()[:22] // random, never a real code
	_, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if err == nil {
		return errfmt.Errorf("%w: the token endpoint accepted a made-up authorization code", ErrMisconfigured)
	}
	err = exchangeError(err)
	if errors.Is(err, ErrMisconfigured) {
		return errfmt.Errorf("%w: the token endpoint refused the client: check ClientID and ClientSecret, and that the client is registered for the authorization code grant", err)
	}
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return nil // invalid_grant: the client was accepted, the made-up code was not
}

// checkDiscoveryIssuer fetches the discovery document and compares its
// issuer with the configured one, to say what to set when they differ.
func (p *OIDCProvider) checkDiscoveryIssuer(ctx context.Context) error {
	iss := p.cfg.Issuer
	wellKnown := strings.TrimSuffix(iss, "/") + "/.well-known/openid-configuration"
	hint := ""
	if strings.Contains(iss, "/.well-known/") {
		hint = ": Issuer must be the issuer URL itself, without /.well-known/openid-configuration"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return errfmt.Errorf("%w: discovery URL %q: %w%s", ErrMisconfigured, wellKnown, err, hint)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return errfmt.Errorf("%w: discovery at %s failed: %w%s", ErrUnavailable, wellKnown, err, hint)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return errfmt.Errorf("%w: discovery at %s answered HTTP 404: is Issuer %q the provider's issuer URL?%s", ErrMisconfigured, wellKnown, iss, hint)
	case resp.StatusCode != http.StatusOK:
		return errfmt.Errorf("%w: discovery at %s answered HTTP %d%s", ErrUnavailable, wellKnown, resp.StatusCode, hint)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return errfmt.Errorf("%w: discovery at %s: not a JSON document: %w", ErrUnavailable, wellKnown, err)
	}
	if p.issuers != nil || doc.Issuer == iss {
		return nil // Microsoft multi-tenant configs: the issuer rule judges it (meta.get)
	}
	return errfmt.Errorf("%w: %w: %s", ErrMisconfigured, ErrIssuerMismatch, issuerFix(iss, doc.Issuer))
}

// issuerFix says what to do when discovery names the issuer got rather
// than the configured want.
func issuerFix(want, got string) string {
	shown := got
	if len(shown) > 200 {
		shown = shown[:200] + "..."
	}
	switch {
	case strings.TrimSuffix(want, "/") == got:
		return fmt.Sprintf("issuer %q has a trailing slash; discovery says %q: set Issuer to that", want, shown)
	case want == strings.TrimSuffix(got, "/"):
		return fmt.Sprintf("issuer %q lacks the trailing slash of the issuer discovery names, %q: set Issuer to that", want, shown)
	case strings.Contains(got, "{tenantid}"):
		return fmt.Sprintf("discovery names the Microsoft Entra ID multi-tenant issuer template %q: use providers.Microsoft with Tenant \"common\", \"organizations\" or \"consumers\" instead of providers.OIDC, or a tenant's own issuer https://login.microsoftonline.com/<tenant ID>/v2.0", shown)
	case got == "":
		return "the discovery document names no issuer"
	}
	return fmt.Sprintf("discovery names issuer %q, not the configured %q: set Issuer to the provider's issuer exactly", shown, want)
}
