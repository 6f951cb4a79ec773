package ginauth

import "sync/atomic"

// A guard such as RequireClaim("groups", "admin") refuses, with a 403 and
// nothing else, every user whose session lacks the claim. When the provider
// never sends it (a scope not requested, a claim kept in UserInfo), every
// user is refused and the app's developer has no clue why. claimPresence
// notices that case and logs it once per guard. It costs the hot path one
// atomic load and no allocation.

type claimPresence struct {
	present atomic.Bool // some user had the claim: a refusal is then a plain "no"
	warned  atomic.Bool
}

// seen records that a user had the claim (the guard let them through).
func (p *claimPresence) seen() {
	if !p.present.Load() {
		p.present.Store(true)
	}
}

// refused is called when the guard refuses l's user. When the user has no
// claim name at all and no user so far had it, it logs, once per guard,
// what to check.
func (p *claimPresence) refused(l *loaded, name string) {
	if p.present.Load() {
		return
	}
	if _, ok := l.User.Claim(name); ok {
		p.seen()
		return
	}
	if l.auth == nil || !p.warned.CompareAndSwap(false, true) {
		return
	}
	l.auth.warn.log.Warn("ginauth: RequireClaim refused a user who has no such claim; does the provider send it? Check the requested scopes, and that UserInfo is fetched (providers.OIDCConfig.UserInfo); this is logged once per guard",
		"claim", name, "provider", l.Provider)
}
