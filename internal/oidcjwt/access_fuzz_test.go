package oidcjwt

import (
	"encoding/base64"
	"testing"
	"time"
)

// FuzzAccessToken: the access token checks that need no key (typ header,
// unverified iss, claim validation) never panic, and an accepted payload
// has the required claims.
func FuzzAccessToken(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	f.Add(`{"typ":"at+jwt","alg":"RS256"}`, `{"iss":"https://op.example","sub":"a","aud":["x","api"],"client_id":"c","exp":1700000300,"iat":1700000000,"scope":"a b"}`)
	f.Add(`{"typ":"JWT"}`, `{"iss":1,"aud":{"a":1},"exp":"x"}`)
	f.Add(`{"typ":"application/AT+JWT"}`, `{"iss":"https://op.example","sub":"a","aud":"api","client_id":"c","exp":1e30}`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		tok := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
		_ = checkAccessTokenType(tok)
		_, _ = UnverifiedIssuer(tok)
		c, err := validateAccessToken([]byte(payload), AccessTokenExpectations{Issuer: "https://op.example", Audience: "api", Now: now})
		if err != nil {
			return
		}
		if c.Issuer != "https://op.example" || c.Subject == "" || c.ClientID == "" || !c.Expiry.After(now.Add(-DefaultSkew)) {
			t.Fatalf("accepted %s as %+v", payload, c)
		}
	})
}
