package oidcjwt

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

func TestValidateAccessTokenClaims(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	e := AccessTokenExpectations{Issuer: "https://op.example", Audience: "api", Now: now}
	base := `"iss":"https://op.example","sub":"a","client_id":"c","exp":1700000300,"iat":1699999990`
	cases := []struct {
		name    string
		payload string
		e       AccessTokenExpectations
		want    error
	}{
		{"valid", `{` + base + `,"aud":"api","scope":"a  b"}`, e, nil},
		{"aud list", `{` + base + `,"aud":["x","api"]}`, e, nil},
		{"aud list with a number", `{` + base + `,"aud":["api",1]}`, e, ErrAudience},
		{"aud object", `{` + base + `,"aud":{"api":1}}`, e, ErrAudience},
		{"scope not a string", `{` + base + `,"aud":"api","scope":["a"]}`, e, ErrMalformed},
		{"client_id empty", `{"iss":"https://op.example","sub":"a","client_id":"","exp":1700000300,"iat":1699999990,"aud":"api"}`, e, ErrClientID},
		{"iat missing", `{"iss":"https://op.example","sub":"a","client_id":"c","exp":1700000300,"aud":"api"}`, e, ErrIssuedAt},
		{"events", `{` + base + `,"aud":"api","events":{}}`, e, ErrTokenType},
		{"no audience configured", `{` + base + `,"aud":""}`, AccessTokenExpectations{Issuer: "https://op.example", Now: now}, ErrAudience},
		{"no issuer configured", `{` + base + `,"aud":"api"}`, AccessTokenExpectations{Audience: "api", Now: now}, ErrIssuer},
		{"issuer check refuses", `{` + base + `,"aud":"api"}`, AccessTokenExpectations{Issuer: "x", IssuerCheck: func(string) bool { return false }, Audience: "api", Now: now}, ErrIssuer},
		{"issuer check accepts", `{` + base + `,"aud":"api"}`, AccessTokenExpectations{Issuer: "x", IssuerCheck: func(iss string) bool { return iss == "https://op.example" }, Audience: "api", Now: now}, nil},
		{"iat within skew", `{"iss":"https://op.example","sub":"a","client_id":"c","exp":1700000300,"aud":"api","iat":1700000030}`, e, nil},
		{"iat beyond skew", `{"iss":"https://op.example","sub":"a","client_id":"c","exp":1700000300,"aud":"api","iat":1700000100}`, e, ErrIssuedAt},
		{"exp within skew", `{"iss":"https://op.example","sub":"a","client_id":"c","exp":1699999970,"iat":1699999900,"aud":"api"}`, e, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := validateAccessToken([]byte(c.payload), c.e)
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got.ClientID != "c" || got.Subject != "a" {
					t.Fatalf("%+v", got)
				}
				return
			}
			if !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
	c, _ := validateAccessToken([]byte(`{`+base+`,"aud":"api","scope":" a  b "}`), e)
	if len(c.Scopes) != 2 || c.Scopes[0] != "a" || c.Scopes[1] != "b" {
		t.Fatalf("scopes %q", c.Scopes)
	}
}

func TestCheckAccessTokenType(t *testing.T) {
	for typ, ok := range map[string]bool{
		`"at+jwt"`: true, `"AT+JWT"`: true, `"application/at+jwt"`: true, `"Application/At+Jwt"`: true,
		`"JWT"`: false, `"at+jwt "`: false, `"application/"`: false, `"logout+jwt"`: false, `1`: false, `"at\u212ajwt"`: false,
	} {
		tok := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":`+typ+`}`)) + ".e30.sig"
		if err := checkAccessTokenType(tok); (err == nil) != ok || (err != nil && !errors.Is(err, ErrTokenType)) {
			t.Errorf("typ %s: %v", typ, err)
		}
	}
}
