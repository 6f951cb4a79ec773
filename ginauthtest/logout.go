package ginauthtest

import (
	"net/http"
	"net/url"
	"time"
)

// handleEndSession serves GET|POST /end_session (OpenID Connect RP-Initiated
// Logout 1.0).
func (p *Provider) handleEndSession(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	params, err := parseParams(w, r)
	p.mu.Lock()
	p.counts.EndSession++
	p.lastEndSess = copyValues(params)
	if p.lastEndSess == nil {
		p.lastEndSess = url.Values{}
	}
	p.mu.Unlock()

	if err != nil {
		p.errorPage(w, http.StatusBadRequest, "The logout request could not be parsed.")
		return
	}
	if dup := repeatedParam(params); dup != "" {
		p.errorPage(w, http.StatusBadRequest, "The parameter "+dup+" is repeated.")
		return
	}
	var claims map[string]any
	if hint := params.Get("id_token_hint"); hint != "" {
		// Expired hints are fine; the signature and issuer must be ours.
		claims, err = p.verifyOwnIDToken(hint)
		if err != nil || !audienceContains(claims["aud"], p.clientID) {
			p.errorPage(w, http.StatusBadRequest, "The id_token_hint is not an ID token this provider issued to a known client.")
			return
		}
	}
	clientID := params.Get("client_id")
	if clientID != "" && clientID != p.clientID {
		p.errorPage(w, http.StatusBadRequest, "Unknown client_id.")
		return
	}
	target := params.Get("post_logout_redirect_uri")
	if target != "" {
		if claims == nil && clientID == "" {
			p.errorPage(w, http.StatusBadRequest, "post_logout_redirect_uri requires id_token_hint or client_id.")
			return
		}
		if !allowedURI(target, p.logoutURIs) {
			p.errorPage(w, http.StatusBadRequest, "Malformed or unregistered post_logout_redirect_uri.")
			return
		}
	}

	if claims != nil {
		sid, _ := claims["sid"].(string)
		sub, _ := claims["sub"].(string)
		p.endSessions(sid, sub)
	}

	w.Header().Set("Cache-Control", "no-store")
	if target != "" {
		v := url.Values{}
		if params.Has("state") {
			v.Set("state", params.Get("state"))
		}
		w.Header().Set("Location", appendQuery(target, v))
		w.WriteHeader(http.StatusFound)
		return
	}
	p.render(w, http.StatusOK, "message", map[string]string{
		"Title":   "Signed out",
		"Message": "You have been signed out of the development provider. You can close this window.",
	})
}

// endSessions ends the session sid, or, when sid is empty, every session of
// sub, and revokes the grants (refresh tokens) issued in them, as OPs that
// bind refresh tokens to the session do (Keycloak, for one).
func (p *Provider) endSessions(sid, sub string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ends := func(g *grant) bool { return g.sid == sid }
	if sid != "" {
		if s, ok := p.sessions[sid]; ok {
			s.ended = true
		}
	} else {
		ends = func(g *grant) bool { return g.subject == sub }
		for _, s := range p.sessions {
			if s.subject == sub {
				s.ended = true
			}
		}
	}
	for _, g := range p.refresh {
		if ends(g) {
			g.revoked = true
		}
	}
}

// LogoutToken returns a signed OpenID Connect Back-Channel Logout 1.0 logout
// token for subject and/or sid (at least one should be non-empty), for tests
// of a client's back-channel logout endpoint. The provider never sends it
// itself.
func (p *Provider) LogoutToken(subject, sid string) string {
	now := p.now()
	claims := map[string]any{
		"iss": p.issuer,
		"aud": p.clientID,
		"iat": now.Unix(),
		"exp": now.Add(2 * time.Minute).Unix(),
		"jti": randomToken(16),
		"events": map[string]any{
			"http://schemas.openid.net/event/backchannel-logout": map[string]any{},
		},
	}
	if subject != "" {
		claims["sub"] = subject
	}
	if sid != "" {
		claims["sid"] = sid
	}
	return p.SignJWT(map[string]any{"typ": "logout+jwt"}, claims)
}
