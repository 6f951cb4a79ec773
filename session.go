package ginauth

import (
	"encoding/json"
	"time"

	"github.com/ginauth/ginauth/providers"
)

// User is the signed-in user, keyed by provider and subject (never by email).
type User struct {
	Provider      string   `json:"provider"`
	Issuer        string   `json:"iss"`
	Subject       string   `json:"sub"`
	Name          string   `json:"name"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Picture       string   `json:"picture,omitempty"`
	Groups        []string `json:"groups"`

	claims string // the other claims, JSON (see Claim)
}

// Claim returns one claim of the provider's ID token (merged with UserInfo
// when the provider fetched it), decoded as encoding/json would. The claims
// that only serve token validation (aud, exp, iat, nbf, nonce, azp, jti,
// at_hash, c_hash) are not kept.
func (u User) Claim(name string) (any, bool) {
	switch name {
	case "iss":
		return u.Issuer, true
	case "sub":
		return u.Subject, true
	case "name":
		return u.Name, u.Name != ""
	case "email":
		return u.Email, u.Email != ""
	case "picture":
		return u.Picture, u.Picture != ""
	case "email_verified":
		return u.EmailVerified, true
	case "groups":
		if u.Groups == nil {
			return nil, false
		}
		list := make([]any, len(u.Groups))
		for i, g := range u.Groups {
			list[i] = g
		}
		return list, true
	}
	if u.claims == "" {
		return nil, false
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal([]byte(u.claims), &all); err != nil {
		return nil, false
	}
	raw, ok := all[name]
	if !ok {
		return nil, false
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false
	}
	return v, true
}

// Session is a signed-in session as seen by handlers. It never exposes tokens.
type Session struct {
	// ID identifies the session inside ginauth (CSRF binding, logs). It is
	// not the cookie value and changes at every sign-in.
	ID        string
	Provider  string
	User      User
	CreatedAt time.Time
	LastSeen  time.Time
	// SID is the provider's session ID (the ID token's sid claim), if any.
	SID string

	maxAge, idle time.Duration
	tokens       providers.Token
	data         string // the AppData, encoded (see encodeAppData); "" when none
}

// ExpiresAt is when the session ends unless used again: the earlier of the
// absolute limit and the idle limit.
func (s *Session) ExpiresAt() time.Time {
	abs, idle := s.CreatedAt.Add(s.maxAge), s.LastSeen.Add(s.idle)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// expired reports whether the session is past either limit at now.
func (s *Session) expired(now time.Time) bool {
	return !now.Before(s.CreatedAt.Add(s.maxAge)) || !now.Before(s.LastSeen.Add(s.idle))
}

// userFromClaims builds the User from validated claims.
func userFromClaims(provider string, id *providers.Identity) User {
	var c struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
		EmailVerified     any    `json:"email_verified"`
		Picture           string `json:"picture"`
		Groups            any    `json:"groups"`
	}
	_ = json.Unmarshal(id.Claims, &c) // claims were validated as a JSON object; wrong types leave fields empty
	u := User{
		Provider: provider,
		Issuer:   id.Issuer,
		Subject:  id.Subject,
		Name:     c.Name,
		Email:    c.Email,
		Picture:  c.Picture,
		claims:   otherClaims(id.Claims),
	}
	if u.Name == "" {
		u.Name = c.PreferredUsername
	}
	switch v := c.EmailVerified.(type) {
	case bool:
		u.EmailVerified = v
	case string: // some providers send "true"
		u.EmailVerified = v == "true"
	}
	u.Groups = stringList(c.Groups)
	return u
}

// stringList reads a claim that is a string or a list of strings.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// keptElsewhere lists claims that are fields of User or Session, and claims
// that only serve token validation: otherClaims leaves them out, so the
// session (and its cookie) holds each value once.
var keptElsewhere = map[string]bool{
	"iss": true, "sub": true, "name": true, "email": true, "email_verified": true, "picture": true, "groups": true, "sid": true,
	"aud": true, "exp": true, "iat": true, "nbf": true, "nonce": true, "azp": true, "jti": true, "at_hash": true, "c_hash": true,
}

// otherClaims returns the claims JSON without the keptElsewhere claims.
func otherClaims(claims json.RawMessage) string {
	var all map[string]json.RawMessage
	if json.Unmarshal(claims, &all) != nil {
		return ""
	}
	for k := range all {
		if keptElsewhere[k] {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		return ""
	}
	out, err := json.Marshal(all)
	if err != nil {
		return ""
	}
	return string(out)
}
