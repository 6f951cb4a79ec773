package providers

import "golang.org/x/oauth2"

// The client secret of token-endpoint and revocation requests comes from
// OIDCConfig.ClientSecret, or, for presets whose secret changes over time
// (Apple's is a JWT the library signs and renews), from the provider's
// secret hook, asked once per request.

// secretHooks are set by presets only.
type secretHooks struct {
	secret func() string // the client secret to send now; nil: OIDCConfig.ClientSecret
	post   bool          // always client_secret_post, whatever discovery says
}

// clientSecret returns the client secret to send now.
func (p *OIDCProvider) clientSecret() string {
	if p.hooks.secret != nil {
		return p.hooks.secret()
	}
	return p.cfg.ClientSecret
}

// pickAuthStyle selects the token endpoint's client authentication from
// discovery's token_endpoint_auth_methods_supported (see authStyle).
func (p *OIDCProvider) pickAuthStyle(supported []string) oauth2.AuthStyle {
	if p.hooks.post {
		return oauth2.AuthStyleInParams
	}
	return authStyle(supported, p.hooks.secret != nil || p.cfg.ClientSecret != "")
}
