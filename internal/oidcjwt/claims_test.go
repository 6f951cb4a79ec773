package oidcjwt

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidateIDToken(t *testing.T) {
	now := testStart
	with := func(mut func(m map[string]any)) []byte {
		m := claimsAt(now)
		mut(m)
		return mustJSON(t, m)
	}
	set := func(k string, v any) []byte { return with(func(m map[string]any) { m[k] = v }) }
	del := func(k string) []byte { return with(func(m map[string]any) { delete(m, k) }) }
	exp := expectations(now)

	tests := []struct {
		name    string
		payload []byte
		exp     IDTokenExpectations
		want    error // nil: accepted
	}{
		{"positive control", with(func(map[string]any) {}), exp, nil},
		{"positive control aud array", set("aud", []string{testClientID}), exp, nil},
		{"positive control azp", set("azp", testClientID), exp, nil},
		{"positive control no nonce expected", del("nonce"), IDTokenExpectations{Issuer: testIssuer, ClientID: testClientID, Now: now}, nil},
		{"positive control nbf now", set("nbf", now.Unix()), exp, nil},
		{"positive control fractional exp", set("exp", json.Number("1800003600.5")), exp, nil},
		{"positive control exp within skew", set("exp", now.Add(-30*time.Second).Unix()), exp, nil},
		{"positive control iat within skew in the future", set("iat", now.Add(30*time.Second).Unix()), exp, nil},
		{"positive control iat 9 min old", set("iat", now.Add(-9*time.Minute).Unix()), exp, nil},

		// IT-1 issuer
		{"iss + 1", set("iss", testIssuer+"1"), exp, ErrIssuer},
		{"iss missing", del("iss"), exp, ErrIssuer},
		{"iss trailing slash", set("iss", testIssuer+"/"), exp, ErrIssuer},
		{"iss case change", set("iss", strings.ToUpper(testIssuer)), exp, ErrIssuer},
		{"iss host case change", set("iss", "https://OP.example"), exp, ErrIssuer},
		{"iss number", set("iss", 1), exp, ErrIssuer},
		{"iss null", set("iss", nil), exp, ErrIssuer},
		{"iss array", set("iss", []string{testIssuer}), exp, ErrIssuer},
		{"no issuer configured", with(func(map[string]any) {}), IDTokenExpectations{ClientID: testClientID, Now: now}, ErrIssuer},

		// IT-2 audience
		{"aud + 1", set("aud", testClientID+"1"), exp, ErrAudience},
		{"aud missing", del("aud"), exp, ErrAudience},
		{"aud client and other", set("aud", []string{testClientID, "other"}), exp, ErrAudience},
		{"aud other and client", set("aud", []string{"other", testClientID}), exp, ErrAudience},
		{"aud client twice", set("aud", []string{testClientID, testClientID}), exp, ErrAudience},
		{"aud empty array", set("aud", []string{}), exp, ErrAudience},
		{"aud empty string", set("aud", ""), exp, ErrAudience},
		{"aud null", set("aud", nil), exp, ErrAudience},
		{"aud number", set("aud", 42), exp, ErrAudience},
		{"aud array of number", set("aud", []int{42}), exp, ErrAudience},
		{"aud object", set("aud", map[string]any{"client": true}), exp, ErrAudience},
		{"azp other", set("azp", "other"), exp, ErrAudience},
		{"azp empty", set("azp", ""), exp, ErrAudience},
		{"azp number", set("azp", 1), exp, ErrAudience},
		{"no client configured", with(func(map[string]any) {}), IDTokenExpectations{Issuer: testIssuer, Now: now}, ErrAudience},

		// IT-3 expiry
		{"exp now-360s", set("exp", now.Add(-360*time.Second).Unix()), exp, ErrExpired},
		{"exp now-61s", set("exp", now.Add(-61*time.Second).Unix()), exp, ErrExpired},
		{"exp missing", del("exp"), exp, ErrExpired},
		{"exp string", set("exp", "1900000000"), exp, ErrExpired},
		{"exp bool", set("exp", true), exp, ErrExpired},
		{"exp null", set("exp", nil), exp, ErrExpired},
		{"exp negative", set("exp", -1), exp, ErrExpired},
		{"exp huge", set("exp", json.Number("1e300")), exp, ErrExpired},
		{"exp huge integer", set("exp", json.Number("99999999999999999999999")), exp, ErrExpired},
		{"skew capped at 300s", set("exp", now.Add(-10*time.Minute).Unix()), func() IDTokenExpectations {
			e := exp
			e.Skew = time.Hour
			return e
		}(), ErrExpired},
		{"nbf in the future", set("nbf", now.Add(10*time.Minute).Unix()), exp, ErrExpired},
		{"nbf string", set("nbf", "0"), exp, ErrExpired},

		// IT-4 issued at
		{"iat missing", del("iat"), exp, ErrIssuedAt},
		{"iat now+600s", set("iat", now.Add(600*time.Second).Unix()), exp, ErrIssuedAt},
		{"iat now-7d", set("iat", now.Add(-7*24*time.Hour).Unix()), exp, ErrIssuedAt},
		{"iat now-11m+", set("iat", now.Add(-11*time.Minute-time.Second).Unix()), exp, ErrIssuedAt},
		{"iat string", set("iat", "1800000000"), exp, ErrIssuedAt},
		{"iat object", set("iat", map[string]any{}), exp, ErrIssuedAt},

		// IT-5 subject
		{"sub missing", del("sub"), exp, ErrSubject},
		{"sub empty", set("sub", ""), exp, ErrSubject},
		{"sub number", set("sub", 1), exp, ErrSubject},
		{"sub null", set("sub", nil), exp, ErrSubject},

		// NO-1 nonce
		{"nonce missing", del("nonce"), exp, ErrNonce},
		{"nonce + 1", set("nonce", testNonce+"1"), exp, ErrNonce},
		{"nonce prefix", set("nonce", testNonce[:5]), exp, ErrNonce},
		{"nonce empty", set("nonce", ""), exp, ErrNonce},
		{"nonce number", set("nonce", 1), exp, ErrNonce},
		{"nonce present, must be absent", with(func(map[string]any) {}), IDTokenExpectations{Issuer: testIssuer, ClientID: testClientID, Now: now, RequireNonceAbsent: true}, ErrNonce},

		// Payload shape
		{"not JSON", []byte("not json"), exp, ErrMalformed},
		{"empty", nil, exp, ErrMalformed},
		{"null", []byte("null"), exp, ErrMalformed},
		{"array", []byte(`[{"iss":"x"}]`), exp, ErrMalformed},
		{"string", []byte(`"x"`), exp, ErrMalformed},
		{"number", []byte(`1`), exp, ErrMalformed},
		{"trailing data", append(with(func(map[string]any) {}), []byte(`{}`)...), exp, ErrMalformed},
		{"sid number", set("sid", 1), exp, ErrMalformed},
		{"auth_time string", set("auth_time", "x"), exp, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ValidateIDToken(tc.payload, tc.exp)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ValidateIDToken: %v", err)
				}
				if c == nil || c.Subject == "" || c.Issuer != testIssuer || c.Audience != testClientID {
					t.Fatalf("claims = %+v", c)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want %v wrapped in ErrInvalidToken", err, tc.want)
			}
			if c != nil {
				t.Fatalf("claims returned with an error: %+v", c)
			}
		})
	}
}

func TestValidateIDTokenClaims(t *testing.T) {
	now := testStart
	m := claimsAt(now)
	m["azp"] = testClientID
	m["sid"] = "sess-1"
	m["auth_time"] = now.Add(-time.Minute).Unix()
	m["extra"] = map[string]any{"nested": []int{1, 2}}
	payload := mustJSON(t, m)
	c, err := ValidateIDToken(payload, expectations(now))
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{
		Issuer:          testIssuer,
		Subject:         "user-1",
		Audience:        testClientID,
		AuthorizedParty: testClientID,
		Nonce:           testNonce,
		SID:             "sess-1",
		Expiry:          now.Add(time.Hour),
		IssuedAt:        now,
		AuthTime:        now.Add(-time.Minute),
	}
	got := *c
	got.Raw = nil
	if !got.Expiry.Equal(want.Expiry) || !got.IssuedAt.Equal(want.IssuedAt) || !got.AuthTime.Equal(want.AuthTime) {
		t.Fatalf("times = %v %v %v", got.Expiry, got.IssuedAt, got.AuthTime)
	}
	got.Expiry, got.IssuedAt, got.AuthTime = want.Expiry, want.IssuedAt, want.AuthTime
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("claims = %+v\nwant %+v", got, want)
	}
	if string(c.Raw) != string(payload) {
		t.Fatal("Raw differs from the payload")
	}
	payload[0] = 'X' // Raw is a copy
	if c.Raw[0] != '{' {
		t.Fatal("Raw aliases the caller's slice")
	}

	// No auth_time: zero.
	c, err = ValidateIDToken(mustJSON(t, claimsAt(now)), expectations(now))
	if err != nil || !c.AuthTime.IsZero() || c.SID != "" || c.AuthorizedParty != "" {
		t.Fatalf("claims = %+v, %v", c, err)
	}
}

func TestValidateIDTokenDefaults(t *testing.T) {
	// Zero Now means the wall clock.
	m := claimsAt(time.Now())
	e := expectations(time.Time{})
	if _, err := ValidateIDToken(mustJSON(t, m), e); err != nil {
		t.Fatal(err)
	}
	// A custom, larger MaxIATAge accepts an older iat.
	m = claimsAt(testStart)
	m["iat"] = testStart.Add(-30 * time.Minute).Unix()
	e = expectations(testStart)
	if _, err := ValidateIDToken(mustJSON(t, m), e); !errors.Is(err, ErrIssuedAt) {
		t.Fatalf("default MaxIATAge: err = %v", err)
	}
	e.MaxIATAge = time.Hour
	if _, err := ValidateIDToken(mustJSON(t, m), e); err != nil {
		t.Fatalf("MaxIATAge 1h: %v", err)
	}
}

// IssuerCheck replaces the exact iss comparison; it sees the token's claims.
func TestValidateIDTokenIssuerCheck(t *testing.T) {
	now := testStart
	m := claimsAt(now)
	m["iss"], m["tid"] = "https://other.example/t1", "t1"
	payload := mustJSON(t, m)
	exp := expectations(now)
	if _, err := ValidateIDToken(payload, exp); !errors.Is(err, ErrIssuer) {
		t.Fatalf("exact comparison: %v", err)
	}
	exp.IssuerCheck = func(iss string, claims map[string]json.RawMessage) error {
		if iss != "https://other.example/"+strings.Trim(string(claims["tid"]), `"`) {
			return errors.New("no")
		}
		return nil
	}
	if c, err := ValidateIDToken(payload, exp); err != nil || c.Issuer != "https://other.example/t1" {
		t.Fatalf("IssuerCheck accepting: %v", err)
	}
	m["tid"] = "t2"
	if _, err := ValidateIDToken(mustJSON(t, m), exp); !errors.Is(err, ErrIssuer) {
		t.Fatalf("IssuerCheck refusing: %v", err)
	}
	exp.Issuer = ""
	if _, err := ValidateIDToken(payload, exp); !errors.Is(err, ErrIssuer) {
		t.Fatalf("no issuer configured: %v", err)
	}
}
