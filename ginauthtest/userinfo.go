package ginauthtest

import (
	"net/http"
	"strings"
)

// handleUserInfo serves GET|POST /userinfo.
func (p *Provider) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	p.mu.Lock()
	p.counts.UserInfo++
	b := p.behavior
	p.mu.Unlock()

	tok, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok && r.Method == http.MethodPost && r.Header.Get("Authorization") == "" {
		// RFC 6750 §2.2: form-encoded body parameter.
		if form, err := parsePostForm(w, r); err == nil && form.Get("access_token") != "" {
			tok, ok = form.Get("access_token"), true
		}
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ginauthtest"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid_request", "missing bearer token")
		return
	}

	now := p.now()
	p.mu.Lock()
	at, found := p.access[tok]
	valid := found && !at.grant.revoked && now.Before(at.expires)
	var subject string
	if valid {
		subject = at.grant.subject
	}
	p.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ginauthtest", error="invalid_token", error_description="the access token is unknown, expired or revoked"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", "the access token is unknown, expired or revoked")
		return
	}
	claims := map[string]any{"sub": subject}
	if u, ok := p.user(subject); ok {
		claims = profileClaims(u)
	}
	if b.UserInfoSub != "" {
		claims["sub"] = b.UserInfoSub
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, claims)
}

// bearerToken extracts the token from an "Authorization: Bearer <token>"
// header; the scheme is matched case-insensitively.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
