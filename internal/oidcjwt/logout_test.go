package oidcjwt

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// logoutClaimsAt are the claims of a valid logout token issued at now.
func logoutClaimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss":    testIssuer,
		"aud":    testClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(2 * time.Minute).Unix(),
		"jti":    "jti-1",
		"sub":    "user-1",
		"sid":    "sid-1",
		"events": map[string]any{BackChannelLogoutEvent: map[string]any{}},
	}
}

// TestValidateLogoutToken covers every check of ValidateLogoutToken
// (Back-Channel Logout 1.0 §2.4, §2.6; SECURITY.md BC-2, BC-3, BC-5, BC-6).
func TestValidateLogoutToken(t *testing.T) {
	now := testStart
	with := func(mut func(m map[string]any)) []byte {
		m := logoutClaimsAt(now)
		mut(m)
		return mustJSON(t, m)
	}
	set := func(k string, v any) []byte { return with(func(m map[string]any) { m[k] = v }) }
	del := func(k string) []byte { return with(func(m map[string]any) { delete(m, k) }) }
	exp := LogoutExpectations{Issuer: testIssuer, ClientID: testClientID, Now: now}
	idToken := mustJSON(t, claimsAt(now))

	tests := []struct {
		name    string
		payload []byte
		exp     LogoutExpectations
		want    error // nil: accepted
	}{
		{"positive control", with(func(map[string]any) {}), exp, nil},
		{"positive control sub only", del("sid"), exp, nil},
		{"positive control sid only", del("sub"), exp, nil},
		{"positive control aud array", set("aud", []string{testClientID}), exp, nil},
		{"positive control azp", set("azp", testClientID), exp, nil},
		{"positive control event with members", set("events", map[string]any{BackChannelLogoutEvent: map[string]any{"x": 1}}), exp, nil},
		{"positive control other events too", set("events", map[string]any{BackChannelLogoutEvent: map[string]any{}, "urn:other": map[string]any{}}), exp, nil},
		{"positive control iat within skew in the future", set("iat", now.Add(30*time.Second).Unix()), exp, nil},
		{"positive control iat at max age", set("iat", now.Add(-2*time.Minute).Unix()), exp, nil},
		{"positive control exp within skew", set("exp", now.Add(-30*time.Second).Unix()), exp, nil},
		{"positive control longer max age", set("iat", now.Add(-9*time.Minute).Unix()),
			LogoutExpectations{Issuer: testIssuer, ClientID: testClientID, Now: now, MaxAge: 10 * time.Minute}, nil},

		// Not a JSON object.
		{"payload not JSON", []byte("not json"), exp, ErrMalformed},
		{"payload null", []byte("null"), exp, ErrMalformed},
		{"payload array", []byte(`[1]`), exp, ErrMalformed},
		{"payload string", []byte(`"x"`), exp, ErrMalformed},

		// BC-5 iss
		{"iss + 1", set("iss", testIssuer+"1"), exp, ErrIssuer},
		{"iss missing", del("iss"), exp, ErrIssuer},
		{"iss number", set("iss", 1), exp, ErrIssuer},
		{"iss trailing slash", set("iss", testIssuer+"/"), exp, ErrIssuer},
		{"no issuer configured", with(func(map[string]any) {}), LogoutExpectations{ClientID: testClientID, Now: now}, ErrIssuer},

		// BC-5 aud, azp
		{"aud + 1", set("aud", testClientID+"1"), exp, ErrAudience},
		{"aud missing", del("aud"), exp, ErrAudience},
		{"aud with another audience", set("aud", []string{testClientID, "other"}), exp, ErrAudience},
		{"aud empty array", set("aud", []string{}), exp, ErrAudience},
		{"aud number", set("aud", 1), exp, ErrAudience},
		{"no client ID configured", with(func(map[string]any) {}), LogoutExpectations{Issuer: testIssuer, Now: now}, ErrAudience},
		{"azp other", set("azp", "other"), exp, ErrAudience},
		{"azp number", set("azp", 1), exp, ErrAudience},

		// BC-5 iat
		{"iat missing", del("iat"), exp, ErrIssuedAt},
		{"iat string", set("iat", "1800000000"), exp, ErrIssuedAt},
		{"iat negative", set("iat", -1), exp, ErrIssuedAt},
		{"iat beyond skew in the future", set("iat", now.Add(2*time.Minute).Unix()), exp, ErrIssuedAt},
		{"iat older than max age and skew", set("iat", now.Add(-3*time.Minute-time.Second).Unix()), exp, ErrIssuedAt},

		// BC-5 exp
		{"exp missing", del("exp"), exp, ErrExpired},
		{"exp string", set("exp", "soon"), exp, ErrExpired},
		{"exp past beyond skew", set("exp", now.Add(-61*time.Second).Unix()), exp, ErrExpired},
		{"exp past, skew capped at MaxSkew", set("exp", now.Add(-6*time.Minute).Unix()),
			LogoutExpectations{Issuer: testIssuer, ClientID: testClientID, Now: now, Skew: time.Hour, MaxAge: time.Hour}, ErrExpired},

		// jti
		{"jti missing", del("jti"), exp, ErrMalformed},
		{"jti empty", set("jti", ""), exp, ErrMalformed},
		{"jti number", set("jti", 7), exp, ErrMalformed},

		// BC-2 events
		{"events missing", del("events"), exp, ErrMalformed},
		{"events null", set("events", nil), exp, ErrMalformed},
		{"events x", set("events", "x"), exp, ErrMalformed},
		{"events array", set("events", []string{BackChannelLogoutEvent}), exp, ErrMalformed},
		{"wrong event", set("events", map[string]any{"http://schemas.openid.net/event/foobar": map[string]any{}}), exp, ErrMalformed},
		{"event value x", set("events", map[string]any{BackChannelLogoutEvent: "x"}), exp, ErrMalformed},
		{"event value null", set("events", map[string]any{BackChannelLogoutEvent: nil}), exp, ErrMalformed},
		{"event value array", set("events", map[string]any{BackChannelLogoutEvent: []int{}}), exp, ErrMalformed},
		{"event value true", set("events", map[string]any{BackChannelLogoutEvent: true}), exp, ErrMalformed},

		// BC-3 nonce, sub, sid
		{"nonce present", set("nonce", "n"), exp, ErrNonce},
		{"nonce null", set("nonce", nil), exp, ErrNonce},
		{"nonce empty", set("nonce", ""), exp, ErrNonce},
		{"neither sub nor sid", with(func(m map[string]any) { delete(m, "sub"); delete(m, "sid") }), exp, ErrSubject},
		{"sub empty", set("sub", ""), exp, ErrSubject},
		{"sub number", set("sub", 1), exp, ErrSubject},
		{"sub null", set("sub", nil), exp, ErrSubject},
		{"sid empty", set("sid", ""), exp, ErrMalformed},
		{"sid number", set("sid", 1), exp, ErrMalformed},
		{"sid empty, no sub", with(func(m map[string]any) { delete(m, "sub"); m["sid"] = "" }), exp, ErrMalformed},

		// BC-6 an ID token is not a logout token.
		{"an ID token", idToken, LogoutExpectations{Issuer: testIssuer, ClientID: testClientID, Now: now}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ValidateLogoutToken(tc.payload, tc.exp)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if c == nil || c.Issuer != testIssuer || c.JTI == "" || (c.Subject == "" && c.SID == "") {
					t.Fatalf("claims %+v", c)
				}
				return
			}
			if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want ErrInvalidToken and %v", err, tc.want)
			}
			if c != nil {
				t.Error("claims returned with an error")
			}
		})
	}
}

// TestValidateLogoutTokenClaims checks the returned values, and the
// defaults of Now (the real clock) and Skew.
func TestValidateLogoutTokenClaims(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	m := logoutClaimsAt(now)
	c, err := ValidateLogoutToken(mustJSON(t, m), LogoutExpectations{Issuer: testIssuer, ClientID: testClientID})
	if err != nil {
		t.Fatal(err)
	}
	want := LogoutClaims{Issuer: testIssuer, Subject: "user-1", SID: "sid-1", JTI: "jti-1", IssuedAt: now, Expiry: now.Add(2 * time.Minute)}
	if c.Issuer != want.Issuer || c.Subject != want.Subject || c.SID != want.SID || c.JTI != want.JTI ||
		!c.IssuedAt.Equal(want.IssuedAt) || !c.Expiry.Equal(want.Expiry) {
		t.Errorf("claims %+v, want %+v", *c, want)
	}
	// Default skew (60 s): an exp 59 s past passes, 61 s past does not.
	for _, tc := range []struct {
		past time.Duration
		ok   bool
	}{{59 * time.Second, true}, {61 * time.Second, false}} {
		m := logoutClaimsAt(testStart)
		m["exp"] = testStart.Add(-tc.past).Unix()
		_, err := ValidateLogoutToken(mustJSON(t, m), LogoutExpectations{Issuer: testIssuer, ClientID: testClientID, Now: testStart, Skew: -1})
		if (err == nil) != tc.ok {
			t.Errorf("exp %v past with the default skew: %v", tc.past, err)
		}
	}
	// Fractional dates are accepted.
	m = logoutClaimsAt(testStart)
	m["iat"] = json.Number("1800000000.5")
	if _, err := ValidateLogoutToken(mustJSON(t, m), LogoutExpectations{Issuer: testIssuer, ClientID: testClientID, Now: testStart}); err != nil {
		t.Errorf("fractional iat: %v", err)
	}
}
