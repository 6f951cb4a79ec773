package ginauthtest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// authzRequest is a validated /authorize request, enough to send a response.
type authzRequest struct {
	params      url.Values
	redirectURI string
	mode        string // "query" or "form_post"
	b           Behavior
}

// handleAuthorize serves GET|POST /authorize.
func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	params, err := parseParams(w, r)
	p.mu.Lock()
	p.counts.Authorize++
	p.lastAuthorize = copyValues(params)
	if p.lastAuthorize == nil {
		p.lastAuthorize = url.Values{}
	}
	b := p.behavior
	next := p.nextUser
	p.mu.Unlock()

	// Problems with the client or redirect URI are shown to the user and
	// never redirected (RFC 6749 §4.1.2.1).
	if err != nil {
		p.errorPage(w, http.StatusBadRequest, "The authorization request could not be parsed.")
		return
	}
	if dup := repeatedParam(params); dup == "client_id" || dup == "redirect_uri" {
		p.errorPage(w, http.StatusBadRequest, "The parameter "+dup+" is repeated.")
		return
	}
	if params.Get("client_id") != p.clientID {
		p.errorPage(w, http.StatusBadRequest, "Unknown or missing client_id.")
		return
	}
	redirectURI := params.Get("redirect_uri")
	if !allowedURI(redirectURI, p.redirectURIs) {
		p.errorPage(w, http.StatusBadRequest, "Missing, malformed or unregistered redirect_uri.")
		return
	}

	req := &authzRequest{params: params, redirectURI: redirectURI, mode: "query", b: b}
	mode := params.Get("response_mode")
	switch mode {
	case "", "query":
	case "form_post":
		req.mode = "form_post"
	default:
		p.authorizeError(w, req, "invalid_request", "unsupported response_mode")
		return
	}
	if dup := repeatedParam(params); dup != "" {
		p.authorizeError(w, req, "invalid_request", "parameter "+dup+" is repeated")
		return
	}
	if b.AuthorizeError != "" {
		p.authorizeError(w, req, b.AuthorizeError, b.AuthorizeErrorDescription)
		return
	}
	if errCode, desc := checkAuthorizeParams(params); errCode != "" {
		p.authorizeError(w, req, errCode, desc)
		return
	}

	var subject string
	if p.picker {
		subject = params.Get("user")
		if _, ok := p.user(subject); !ok {
			if hasToken(params.Get("prompt"), "none") {
				p.authorizeError(w, req, "login_required", "a user must pick an identity")
				return
			}
			p.pickerPage(w, params)
			return
		}
	} else {
		subject = p.autoUser(params.Get("login_hint"), next)
	}
	p.approve(w, req, subject)
}

// checkAuthorizeParams validates the parts of an authorization request that
// are reported back to the client. It returns an OAuth error code and
// description, or "" if the request is fine.
func checkAuthorizeParams(params url.Values) (errCode, desc string) {
	if params.Has("request") {
		return "request_not_supported", "request objects are not supported"
	}
	if params.Has("request_uri") {
		return "request_uri_not_supported", "request_uri is not supported"
	}
	if rt := params.Get("response_type"); rt != "code" {
		return "unsupported_response_type", "only response_type=code is supported"
	}
	if !hasToken(params.Get("scope"), "openid") {
		return "invalid_scope", "scope must contain openid"
	}
	challenge, method := params.Get("code_challenge"), params.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return "invalid_request", "code_challenge_method without code_challenge"
	case challenge == "":
	case method != "S256":
		// A missing method means "plain" (RFC 7636 §4.3), which is not supported.
		return "invalid_request", "only code_challenge_method=S256 is supported"
	case !validPKCEString(challenge):
		return "invalid_request", "malformed code_challenge"
	}
	return "", ""
}

// autoUser picks the user to auto-approve: login_hint, then SetNextUser, then
// the first user.
func (p *Provider) autoUser(loginHint, next string) string {
	if _, ok := p.user(loginHint); ok {
		return loginHint
	}
	if _, ok := p.user(next); ok {
		return next
	}
	return p.firstUser()
}

// approve issues a code for subject and sends it back to the client.
func (p *Provider) approve(w http.ResponseWriter, req *authzRequest, subject string) {
	now := p.now()
	g := &grant{
		subject:  subject,
		sid:      randomToken(12),
		scope:    req.params.Get("scope"),
		authTime: now,
	}
	code := randomToken(32)
	p.mu.Lock()
	p.pruneLocked(now)
	p.sessions[g.sid] = &session{subject: subject}
	p.codes[code] = &authCode{
		redirectURI: req.redirectURI,
		scope:       g.scope,
		nonce:       req.params.Get("nonce"),
		challenge:   req.params.Get("code_challenge"),
		grant:       g,
		expires:     now.Add(CodeTTL),
	}
	p.mu.Unlock()
	p.authorizeRespond(w, req, url.Values{"code": {code}})
}

// authorizeError sends an error response back to the client.
func (p *Provider) authorizeError(w http.ResponseWriter, req *authzRequest, code, desc string) {
	v := url.Values{"error": {code}}
	if desc != "" {
		v.Set("error_description", desc)
	}
	p.authorizeRespond(w, req, v)
}

// authorizeRespond sends values, plus state, iss and any extras, to the
// client's redirect URI using the request's response mode.
func (p *Provider) authorizeRespond(w http.ResponseWriter, req *authzRequest, values url.Values) {
	if req.params.Has("state") {
		values.Set("state", req.params.Get("state"))
	}
	if !req.b.OmitAuthorizeIss {
		iss := p.issuer
		if req.b.AuthorizeIss != "" {
			iss = req.b.AuthorizeIss
		}
		values.Set("iss", iss)
	}
	for k, vs := range req.b.AuthorizeExtra {
		for _, v := range vs {
			values.Add(k, v)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	if req.mode == "form_post" {
		p.formPostPage(w, req.redirectURI, values)
		return
	}
	w.Header().Set("Location", appendQuery(req.redirectURI, values))
	w.WriteHeader(http.StatusFound)
}

// hasToken reports whether the space-separated list contains tok.
func hasToken(list, tok string) bool {
	return slices.Contains(strings.Fields(list), tok)
}

// validPKCEString reports whether s is 43–128 characters of the unreserved
// set [A-Za-z0-9-._~] (RFC 7636 §4.1, §4.2).
func validPKCEString(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
