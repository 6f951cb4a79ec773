package ginauthtest

import "time"

// Default values used when the corresponding Options field is zero.
const (
	DefaultClientID     = "ginauth-test-client"
	DefaultClientSecret = "ginauth-test-secret"
	DefaultTokenTTL     = time.Hour
)

// CodeTTL is how long an authorization code stays redeemable.
const CodeTTL = 60 * time.Second

// maxBodyBytes bounds every request body the provider reads.
const maxBodyBytes = 64 << 10

// User is a test identity the provider can sign in. Its claims appear in ID
// tokens and /userinfo; Extra may override the profile claims (name, email,
// email_verified, groups) but never the protocol claims (iss, sub, aud, ...).
type User struct {
	Subject       string
	Name          string
	Email         string
	EmailVerified bool
	Groups        []string
	Extra         map[string]any // more ID-token claims (e.g. "hd")
}

// Options configure a Provider. The zero value works.
type Options struct {
	ClientID               string           // default "ginauth-test-client"
	ClientSecret           string           // default "ginauth-test-secret"
	RedirectURIs           []string         // registered redirect URIs; empty = accept any http(s) URI
	PostLogoutRedirectURIs []string         // registered post-logout URIs; empty = accept any http(s) URI
	Users                  []User           // default: DefaultUsers()
	Picker                 bool             // true: /authorize shows an HTML page to pick a user; false: auto-approve
	Now                    func() time.Time // clock; default time.Now
	TokenTTL               time.Duration    // access/ID token lifetime; default 1h
}

// DefaultUsers returns the identities a Provider signs in when Options.Users
// is empty: "alice" (an admin), "bob" (staff) and "carol" (no groups).
// Each call returns a fresh slice the caller may modify.
func DefaultUsers() []User {
	return []User{
		{
			Subject:       "alice",
			Name:          "Alice Admin",
			Email:         "alice@example.com",
			EmailVerified: true,
			Groups:        []string{"admin", "staff"},
		},
		{
			Subject:       "bob",
			Name:          "Bob Builder",
			Email:         "bob@example.com",
			EmailVerified: true,
			Groups:        []string{"staff"},
		},
		{
			Subject:       "carol",
			Name:          "Carol Customer",
			Email:         "carol@example.com",
			EmailVerified: false,
		},
	}
}

// withDefaults returns a deep-enough copy of o with defaults filled in, so
// that later changes to the caller's slices do not affect the provider.
func (o Options) withDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if len(o.Users) == 0 {
		o.Users = DefaultUsers()
	} else {
		o.Users = copyUsers(o.Users)
	}
	o.RedirectURIs = append([]string(nil), o.RedirectURIs...)
	o.PostLogoutRedirectURIs = append([]string(nil), o.PostLogoutRedirectURIs...)
	return o
}

func copyUsers(in []User) []User {
	out := make([]User, len(in))
	for i, u := range in {
		u.Groups = append([]string(nil), u.Groups...)
		if u.Extra != nil {
			extra := make(map[string]any, len(u.Extra))
			for k, v := range u.Extra {
				extra[k] = v
			}
			u.Extra = extra
		}
		out[i] = u
	}
	return out
}
