package ginauthtest

import "strings"

// AccessToken returns a JWT access token (RFC 9068) for u, signed with the
// provider's current key, as an authorization server would issue it for a
// resource server known as audience. An app that accepts bearer tokens from
// this provider for that audience (ginauth's AcceptBearer) takes it as the
// "Authorization: Bearer" credential of an API request.
//
// The header is {"alg":"RS256","kid":<current kid>,"typ":"at+jwt"}. The
// claims are iss, sub, aud (audience), client_id (the provider's client ID),
// iat, exp (now plus the token lifetime, Options.TokenTTL), jti, scope
// (scopes joined with spaces, left out when there are none) and, when set
// in u, name, email, email_verified, groups and the Extra claims (which
// cannot replace the claims above, nor add nbf or events). u need not be one of the provider's
// users: the token is minted directly, with no flow and no consent.
//
// AccessToken returns "" if u.Extra cannot be encoded as JSON. For a token
// that breaks a rule (expired, another typ, another issuer), build the
// claims yourself and sign them with SignJWT.
func (p *Provider) AccessToken(u User, audience string, scopes ...string) string {
	now := p.now()
	claims := map[string]any{}
	for k, v := range u.Extra {
		claims[k] = v
	}
	if u.Name != "" {
		claims["name"] = u.Name
	}
	if u.Email != "" {
		claims["email"] = u.Email
		claims["email_verified"] = u.EmailVerified
	}
	if len(u.Groups) > 0 {
		claims["groups"] = append([]string(nil), u.Groups...)
	}
	claims["iss"] = p.issuer
	claims["sub"] = u.Subject
	claims["aud"] = audience
	claims["client_id"] = p.clientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(p.ttl).Unix()
	claims["jti"] = randomToken(16)
	delete(claims, "nbf")
	delete(claims, "events")
	delete(claims, "scope")
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	return p.SignJWT(map[string]any{"typ": "at+jwt"}, claims)
}
