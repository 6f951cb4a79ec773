package ginauthtest

import "time"

// session is one OP sign-in, identified by the sid claim.
type session struct {
	subject string
	ended   bool
}

// authCode is an issued authorization code and what it was issued for.
type authCode struct {
	redirectURI string
	scope       string
	nonce       string
	challenge   string // S256 code_challenge, "" if none was sent
	grant       *grant
	expires     time.Time
	used        bool
}

// grant ties together the tokens issued from one authorization.
type grant struct {
	subject  string
	sid      string
	scope    string
	authTime time.Time
	revoked  bool
}

// accessToken is an issued access token.
type accessToken struct {
	grant   *grant
	expires time.Time
}

// SessionActive reports whether the OP session with this sid (the ID token's
// sid claim) exists and has not been ended through /end_session. Ending a
// session also revokes the refresh tokens (and their access tokens) issued
// in it.
func (p *Provider) SessionActive(sid string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[sid]
	return ok && !s.ended
}

// pruneLocked drops expired codes and access tokens, revoked grants and
// ended sessions, so that long-running development servers do not grow
// without bound. p.mu must be held.
func (p *Provider) pruneLocked(now time.Time) {
	for k, c := range p.codes {
		// Keep used codes around for a while so reuse is reported as such.
		if now.After(c.expires.Add(CodeTTL)) {
			delete(p.codes, k)
		}
	}
	for k, t := range p.access {
		if now.After(t.expires) || t.grant.revoked {
			delete(p.access, k)
		}
	}
	for k, g := range p.refresh {
		if g.revoked {
			delete(p.refresh, k)
		}
	}
	// An ended session answers SessionActive false whether it is kept or
	// not, and nothing else reads it.
	for k, s := range p.sessions {
		if s.ended {
			delete(p.sessions, k)
		}
	}
}
