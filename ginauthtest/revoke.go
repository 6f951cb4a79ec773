package ginauthtest

import "net/http"

// handleRevoke serves POST /revoke (RFC 7009).
func (p *Provider) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	p.mu.Lock()
	p.counts.Revoke++
	p.mu.Unlock()

	form, err := parsePostForm(w, r)
	if err != nil {
		invalidRequest("malformed request body: " + err.Error()).write(w)
		return
	}
	if err := p.authenticateClient(r, form); err != nil {
		err.write(w)
		return
	}
	tok := form.Get("token")
	if tok == "" {
		invalidRequest("missing token").write(w)
		return
	}
	// token_type_hint is only a hint: both kinds are searched (RFC 7009 §2.1).
	p.mu.Lock()
	if g, ok := p.refresh[tok]; ok {
		// Revoking a refresh token also revokes the access tokens of the
		// same grant (RFC 7009 §2.1).
		g.revoked = true
		delete(p.refresh, tok)
	}
	delete(p.access, tok)
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
