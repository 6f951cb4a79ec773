package ginauthtest

// ActiveTokens returns how many tokens the provider has issued that are
// still usable: unexpired access tokens and refresh tokens whose grant has
// not been revoked. A test can check with it that a client revoked the
// tokens it was given (RFC 7009), not merely that it called the endpoint.
func (p *Provider) ActiveTokens() int {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, at := range p.access {
		if !at.grant.revoked && now.Before(at.expires) {
			n++
		}
	}
	for _, g := range p.refresh {
		if !g.revoked {
			n++
		}
	}
	return n
}
