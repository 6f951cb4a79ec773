package providers

import (
	"context"
	"encoding/json"

	"golang.org/x/oauth2"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/oidcjwt"
)

// fetchUserInfo calls the UserInfo endpoint through go-oidc (with the
// provider's safe client) and returns the ID token claims completed with
// UserInfo claims. ID token claims win; the subjects must match. A signed
// (application/jwt) response is refused.
func (p *OIDCProvider) fetchUserInfo(ctx context.Context, m *loadedMetadata, accessToken string, idClaims *oidcjwt.Claims) (json.RawMessage, error) {
	call := p.newHTTPCall()
	call.refuseJWT = true
	ui, err := m.op.UserInfo(call.context(ctx), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"}))
	if err != nil {
		return nil, errfmt.Errorf("%w: %w: %w", ErrUnavailable, ErrUserInfo, call.failure(ctx, "userinfo", err))
	}
	var info map[string]any
	if err := ui.Claims(&info); err != nil || info == nil {
		return nil, errfmt.Errorf("%w: %w: not a JSON object", ErrUnavailable, ErrUserInfo)
	}
	if sub, _ := info["sub"].(string); sub != idClaims.Subject {
		return nil, errfmt.Errorf("%w: sub differs from the ID token's", ErrUserInfo)
	}
	var all map[string]any
	if err := json.Unmarshal(idClaims.Raw, &all); err != nil {
		return nil, errfmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	for k, v := range info {
		if _, ok := all[k]; !ok {
			all[k] = v
		}
	}
	return json.Marshal(all)
}
