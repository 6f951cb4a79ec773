package providers

import (
	"context"
	"encoding/json"
	"slices"

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

// scopeClaims maps a scope to the claim that signals its data is there:
// OpenID Connect Core §5.4 for profile and email, and the common groups
// scope.
var scopeClaims = map[string]string{"profile": "name", "email": "email", "groups": "groups"}

// promisedClaims returns the claims the scopes promise.
func promisedClaims(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if c, ok := scopeClaims[s]; ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// lacksPromisedClaim reports whether the ID token's claims miss one of the
// claims the requested scopes promise.
func (p *OIDCProvider) lacksPromisedClaim(raw json.RawMessage) bool {
	if len(p.promised) == 0 {
		return false
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(raw, &present); err != nil {
		return false // verified claims are an object; nothing to complete otherwise
	}
	for _, c := range p.promised {
		if _, ok := present[c]; !ok {
			return true
		}
	}
	return false
}
