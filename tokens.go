package ginauth

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
)

// revoke revokes the session's refresh and access tokens at the provider,
// best effort: failures are logged (never with the token) and the local
// sign-out goes on.
func (a *Auth) revoke(c *gin.Context, l *loaded) {
	p, ok := a.providers[l.Provider].(providers.Revoker)
	if !ok {
		return
	}
	tokens, err := a.tokensOf(l)
	if err != nil {
		a.log.Warn("ginauth: session tokens unreadable; nothing revoked", "provider", l.Provider)
		return
	}
	for _, t := range []struct{ value, hint string }{
		{tokens.RefreshToken, "refresh_token"},
		{tokens.AccessToken, "access_token"},
	} {
		if t.value == "" {
			continue
		}
		err := p.Revoke(c.Request.Context(), t.value, t.hint)
		if errors.Is(err, providers.ErrNoRevocation) {
			return // nothing to revoke with: not a failure worth a warning
		}
		if err != nil {
			a.log.Warn("ginauth: token revocation failed", "provider", l.Provider, "token_type", t.hint, "err", err)
		}
	}
}
