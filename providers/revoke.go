package providers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/errfmt"
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
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	return postRevocation(ctx, p.client, endpoint, p.cfg.ClientID, p.clientSecret(), m.authStyle == oauth2.AuthStyleInParams, token, hint)
}

// postRevocation sends an RFC 7009 revocation request for token to
// endpoint, with the client credentials in the form (inForm) or as basic
// auth. Any answer but 200 is a failure wrapping ErrUnavailable (§2.2.1:
// 503 means the token still exists); the body is discarded unread.
func postRevocation(ctx context.Context, client *http.Client, endpoint, clientID, secret string, inForm bool, token, hint string) error {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	if inForm {
		form.Set("client_id", clientID)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !inForm {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := client.Do(req)
	if err != nil {
		return errfmt.Errorf("%w: revocation: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errfmt.Errorf("%w: revocation answered HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	return nil
}
