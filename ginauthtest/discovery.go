package ginauthtest

import "net/http"

// Discovery returns the OpenID Provider metadata document a correct provider
// serves at /.well-known/openid-configuration.
func (p *Provider) Discovery() map[string]any {
	return map[string]any{
		"issuer":                                     p.issuer,
		"authorization_endpoint":                     p.URL("/authorize"),
		"token_endpoint":                             p.URL("/token"),
		"userinfo_endpoint":                          p.URL("/userinfo"),
		"jwks_uri":                                   p.URL("/jwks"),
		"revocation_endpoint":                        p.URL("/revoke"),
		"end_session_endpoint":                       p.URL("/end_session"),
		"response_types_supported":                   []string{"code"},
		"response_modes_supported":                   []string{"query", "form_post"},
		"grant_types_supported":                      []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                    []string{"public"},
		"id_token_signing_alg_values_supported":      []string{"RS256"},
		"scopes_supported":                           []string{"openid", "profile", "email", "groups", "offline_access"},
		"token_endpoint_auth_methods_supported":      []string{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":           []string{"S256"},
		"claims_supported": []string{
			"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "sid",
			"name", "email", "email_verified", "groups",
		},
		"authorization_response_iss_parameter_supported": true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
	}
}

// handleDiscovery serves GET /.well-known/openid-configuration.
func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	p.mu.Lock()
	p.counts.Discovery++
	b := p.behavior
	p.mu.Unlock()

	switch {
	case b.DiscoveryDown:
		writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "discovery is down (Behavior.DiscoveryDown)")
		return
	case b.DiscoveryBodySize > 0:
		p.streamBody(w, r, b.DiscoveryBodySize)
		return
	}
	doc := p.Discovery()
	if b.DiscoveryIssuer != "" {
		doc["issuer"] = b.DiscoveryIssuer
	}
	if b.OmitIssParameterSupported {
		delete(doc, "authorization_response_iss_parameter_supported")
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, doc)
}
