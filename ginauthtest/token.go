package ginauthtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// Client authentication methods as reported by LastTokenAuth.
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
)

// tokenError is an OAuth error to answer with.
type tokenError struct {
	status      int
	code        string
	description string
}

func (e *tokenError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="ginauthtest", charset="UTF-8"`)
	}
	writeJSONError(w, e.status, e.code, e.description)
}

func invalidRequest(desc string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_request", desc}
}

func invalidGrant(desc string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_grant", desc}
}

// handleToken serves POST /token.
func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	form, formErr := parsePostForm(w, r)
	if form == nil {
		form = url.Values{}
	}
	recorded := copyValues(form)
	recorded.Del("client_secret")
	p.mu.Lock()
	p.counts.Token++
	p.lastToken = recorded
	p.lastTokenAuth = authMethod(r, form)
	b := p.behavior
	p.mu.Unlock()

	if b.TokenHang || b.TokenDelay > 0 {
		d := b.TokenDelay
		if b.TokenHang {
			d = -1
		}
		if elapsed, closing := p.wait(r, d); !elapsed {
			if closing {
				writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "provider closed")
			}
			return
		}
	}
	switch {
	case b.TokenRawBody != nil:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b.TokenRawBody)
		return
	case b.TokenBodySize > 0:
		p.streamBody(w, r, b.TokenBodySize)
		return
	case b.TokenStatus != 0 || b.TokenError != "":
		status, code := b.TokenStatus, b.TokenError
		if status == 0 {
			status = http.StatusBadRequest
		}
		if code == "" {
			code = "server_error"
		}
		(&tokenError{status, code, "forced by Behavior"}).write(w)
		return
	}

	if err := p.tokenRequest(w, r, form, formErr, b); err != nil {
		err.write(w)
	}
}

func (p *Provider) tokenRequest(w http.ResponseWriter, r *http.Request, form url.Values, formErr error, b Behavior) *tokenError {
	if formErr != nil {
		return invalidRequest("malformed request body: " + formErr.Error())
	}
	if dup := repeatedParam(form); dup != "" {
		return invalidRequest("parameter " + dup + " is repeated")
	}
	if err := p.authenticateClient(r, form); err != nil {
		return err
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		return p.codeGrant(w, form, b)
	case "refresh_token":
		return p.refreshGrant(w, form, b)
	case "":
		return invalidRequest("missing grant_type")
	default:
		return &tokenError{http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type " + gt}
	}
}

// authMethod names the client authentication method the request attempts.
func authMethod(r *http.Request, form url.Values) string {
	if _, _, ok := r.BasicAuth(); ok {
		return AuthClientSecretBasic
	}
	if form.Has("client_secret") {
		return AuthClientSecretPost
	}
	return ""
}

// authenticateClient checks client_secret_basic (with the RFC 6749 §2.3.1
// form-urlencoding of id and secret) or client_secret_post credentials.
func (p *Provider) authenticateClient(r *http.Request, form url.Values) *tokenError {
	fail := func(desc string) *tokenError {
		return &tokenError{http.StatusUnauthorized, "invalid_client", desc}
	}
	var id, secret string
	if user, pass, ok := r.BasicAuth(); ok {
		if form.Has("client_secret") {
			return invalidRequest("more than one client authentication method")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(user)
		secret, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return fail("malformed client credentials")
		}
		if form.Has("client_id") && form.Get("client_id") != id {
			return fail("client_id does not match the authenticated client")
		}
	} else if form.Has("client_secret") {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	} else {
		return fail("client authentication required")
	}
	if id != p.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) != 1 {
		return fail("client authentication failed")
	}
	return nil
}

// codeGrant redeems an authorization code.
func (p *Provider) codeGrant(w http.ResponseWriter, form url.Values, b Behavior) *tokenError {
	code := form.Get("code")
	if code == "" {
		return invalidRequest("missing code")
	}
	now := p.now()
	p.mu.Lock()
	c, ok := p.codes[code]
	if ok && c.used {
		// Replay: burn everything issued from this code (RFC 6749 §4.1.2).
		c.grant.revoked = true
	}
	var used bool
	if ok {
		used = c.used
		c.used = true // every redemption attempt consumes the code
	}
	p.mu.Unlock()
	switch {
	case !ok:
		return invalidGrant("unknown authorization code")
	case used:
		return invalidGrant("authorization code already used")
	case now.After(c.expires):
		return invalidGrant("authorization code expired")
	case form.Get("redirect_uri") != c.redirectURI:
		return invalidGrant("redirect_uri does not match the authorization request")
	}
	verifier := form.Get("code_verifier")
	if c.challenge != "" {
		if !validPKCEString(verifier) {
			return invalidGrant("missing or malformed code_verifier")
		}
		sum := sha256.Sum256([]byte(verifier))
		if subtle.ConstantTimeCompare([]byte(b64(sum[:])), []byte(c.challenge)) != 1 {
			return invalidGrant("code_verifier does not match code_challenge")
		}
	} else if form.Has("code_verifier") {
		return invalidGrant("code_verifier sent but no code_challenge was")
	}
	return p.issueTokens(w, c.grant, c.nonce, "", b)
}

// refreshGrant redeems and rotates a refresh token.
func (p *Provider) refreshGrant(w http.ResponseWriter, form url.Values, b Behavior) *tokenError {
	if b.RefreshError != "" {
		return &tokenError{http.StatusBadRequest, b.RefreshError, "forced by Behavior.RefreshError"}
	}
	rt := form.Get("refresh_token")
	if rt == "" {
		return invalidRequest("missing refresh_token")
	}
	p.mu.Lock()
	g, ok := p.refresh[rt]
	if !ok || g.revoked {
		p.mu.Unlock()
		return invalidGrant("unknown, used or revoked refresh token")
	}
	scope := g.scope
	if requested := form.Get("scope"); requested != "" {
		for _, s := range strings.Fields(requested) {
			if !hasToken(g.scope, s) {
				p.mu.Unlock()
				return &tokenError{http.StatusBadRequest, "invalid_scope", "scope " + s + " was not granted"}
			}
		}
		scope = requested // narrowing applies to this response only (RFC 6749 §6)
	}
	delete(p.refresh, rt) // rotation: the old refresh token is spent
	p.mu.Unlock()
	return p.issueTokens(w, g, "", scope, b)
}

// issueTokens answers a successful token request for g. scope, if non-empty,
// overrides the granted scope in the response.
func (p *Provider) issueTokens(w http.ResponseWriter, g *grant, nonce, scope string, b Behavior) *tokenError {
	if scope == "" {
		scope = g.scope
	}
	var idToken string
	if !b.OmitIDToken {
		var err error
		idToken, err = p.signIDToken(p.idTokenClaims(g.subject, nonce, g.sid, g.authTime), b)
		if err != nil {
			return &tokenError{http.StatusInternalServerError, "server_error", err.Error()}
		}
	}
	now := p.now()
	at, rt := randomToken(32), randomToken(32)
	p.mu.Lock()
	if g.revoked {
		p.mu.Unlock()
		return invalidGrant("grant revoked")
	}
	p.pruneLocked(now)
	p.access[at] = &accessToken{grant: g, expires: now.Add(p.ttl)}
	p.refresh[rt] = g
	p.mu.Unlock()

	resp := map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    int64(p.ttl.Seconds()),
		"refresh_token": rt,
		"scope":         scope,
	}
	if idToken != "" {
		resp["id_token"] = idToken
	}
	if b.TokenType != "" {
		resp["token_type"] = b.TokenType
	}
	if b.OmitExpiresIn {
		delete(resp, "expires_in")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
	return nil
}
