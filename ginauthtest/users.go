package ginauthtest

import (
	"errors"
	"slices"
)

// Users returns a copy of the identities the provider can sign in.
func (p *Provider) Users() []User {
	p.usersMu.RLock()
	defer p.usersMu.RUnlock()
	return copyUsers(p.users)
}

// SetUser adds u to the identities the provider can sign in, replacing the
// user with the same Subject if there is one (its claims are then u's only:
// nothing of the old user is kept). Tokens issued later carry u's claims.
// It returns an error if u.Subject is empty.
func (p *Provider) SetUser(u User) error {
	if u.Subject == "" {
		return errors.New("ginauthtest: SetUser: empty Subject")
	}
	u = copyUsers([]User{u})[0]
	p.usersMu.Lock()
	defer p.usersMu.Unlock()
	if i := slices.IndexFunc(p.users, func(x User) bool { return x.Subject == u.Subject }); i >= 0 {
		// Replace in a new slice: Users and the picker may hold the old one.
		p.users = slices.Clone(p.users)
		p.users[i] = u
		return nil
	}
	p.users = append(slices.Clip(p.users), u)
	return nil
}

// user returns the user with this subject.
func (p *Provider) user(subject string) (User, bool) {
	p.usersMu.RLock()
	defer p.usersMu.RUnlock()
	for _, u := range p.users {
		if u.Subject == subject {
			return u, true
		}
	}
	return User{}, false
}

// firstUser is the subject auto-approved when nothing else names one.
func (p *Provider) firstUser() string {
	p.usersMu.RLock()
	defer p.usersMu.RUnlock()
	return p.users[0].Subject
}
