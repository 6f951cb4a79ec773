package providers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ginauth/ginauth/internal/oidcjwt"
)

// fetchUserInfo calls the UserInfo endpoint and returns the ID token claims
// completed with UserInfo claims. ID token claims win; the subjects must match.
func (p *OIDCProvider) fetchUserInfo(ctx context.Context, endpoint, accessToken string, idClaims *oidcjwt.Claims) (json.RawMessage, error) {
	var info map[string]any
	if err := p.getJSON(ctx, endpoint, accessToken, &info); err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrUnavailable, ErrUserInfo, err)
	}
	if sub, _ := info["sub"].(string); sub != idClaims.Subject {
		return nil, fmt.Errorf("%w: sub differs from the ID token's", ErrUserInfo)
	}
	var all map[string]any
	if err := json.Unmarshal(idClaims.Raw, &all); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUserInfo, err)
	}
	for k, v := range info {
		if _, ok := all[k]; !ok {
			all[k] = v
		}
	}
	return json.Marshal(all)
}
