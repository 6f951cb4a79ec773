package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Revoker is implemented by providers that can revoke tokens (RFC 7009).
type Revoker interface {
	// Revoke revokes token; hint is "refresh_token" or "access_token".
	Revoke(ctx context.Context, token, hint string) error
}

// ErrNoRevocation: the provider advertises no revocation endpoint.
var ErrNoRevocation = errors.New("ginauth: provider has no revocation endpoint")

// Revoke implements Revoker with the discovery document's
// revocation_endpoint, authenticating like the token endpoint.
func (p *OIDCProvider) Revoke(ctx context.Context, token, hint string) error {
	m, err := p.meta.get(ctx)
	if err != nil {
		return err
	}
	if m.doc.RevocationEndpoint == "" {
		return ErrNoRevocation
	}
	return p.revokeAt(ctx, m, m.doc.RevocationEndpoint, token, hint)
}

// revokeAt posts an RFC 7009 revocation request to endpoint.
func (p *OIDCProvider) revokeAt(ctx context.Context, m *loadedMetadata, endpoint, token, hint string) error {
	secret := p.clientSecret()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	if m.authStyle == oauth2.AuthStyleInParams {
		form.Set("client_id", p.cfg.ClientID)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if m.authStyle == oauth2.AuthStyleInHeader {
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(secret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: revocation: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: revocation answered HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	return nil
}
