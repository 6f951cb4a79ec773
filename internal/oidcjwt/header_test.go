package oidcjwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// signRS256Raw signs header.payload with key as RS256, the way a provider
// sending this header would. With unencoded set, the signing input holds the
// payload bytes as they are (RFC 7797 "b64": false).
func signRS256Raw(tb testing.TB, key *rsa.PrivateKey, header string, payload []byte, unencoded bool) string {
	tb.Helper()
	enc := base64.RawURLEncoding
	h, p := enc.EncodeToString([]byte(header)), enc.EncodeToString(payload)
	input := h + "." + p
	if unencoded {
		input = h + "." + string(payload)
	}
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	return h + "." + p + "." + enc.EncodeToString(sig)
}

// jwkWith is the public JWK of key with extra members set (nil deletes).
func jwkWith(tb testing.TB, key jose.JSONWebKey, members map[string]any) json.RawMessage {
	tb.Helper()
	b, err := json.Marshal(key)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	for k, v := range members {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return mustJSON(tb, m)
}

func rawJWKS(tb testing.TB, keys ...json.RawMessage) []byte {
	tb.Helper()
	return mustJSON(tb, map[string]any{"keys": keys})
}

// TestJWKKeyOps: a JWK whose key_ops is present must list "verify" to be
// used (RFC 7517 §4.3); "use" other than "sig" still excludes a key.
func TestJWKKeyOps(t *testing.T) {
	testKeys(t)
	pub := func(kid string, members map[string]any) json.RawMessage {
		return jwkWith(t, pubJWK(rsaKey1, kid, "RS256", ""), members)
	}
	srv := newJWKSServer(t, rawJWKS(t,
		pub("verify", map[string]any{"key_ops": []string{"verify"}}),
		pub("sign-verify", map[string]any{"key_ops": []string{"sign", "verify"}}),
		pub("verify-use-sig", map[string]any{"key_ops": []string{"verify"}, "use": "sig"}),
		pub("null-ops", map[string]any{"key_ops": json.RawMessage("null")}),
		pub("sign-only", map[string]any{"key_ops": []string{"sign"}}),
		pub("empty-ops", map[string]any{"key_ops": []string{}}),
		pub("enc-ops", map[string]any{"key_ops": []string{"encrypt", "wrapKey"}}),
		pub("upper-case", map[string]any{"key_ops": []string{"VERIFY"}}),
		pub("ops-string", map[string]any{"key_ops": "verify"}),
		pub("ops-numbers", map[string]any{"key_ops": []int{1}}),
		pub("verify-use-enc", map[string]any{"key_ops": []string{"verify"}, "use": "enc"}),
	))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	payload := []byte(`{"sub":"x"}`)
	tests := []struct {
		kid  string
		want error // nil: accepted
	}{
		{"verify", nil},
		{"sign-verify", nil},
		{"verify-use-sig", nil},
		{"null-ops", nil}, // null is absent
		{"sign-only", ErrSignature},
		{"empty-ops", ErrSignature},
		{"enc-ops", ErrSignature},
		{"upper-case", ErrSignature}, // values are case-sensitive
		{"ops-string", ErrSignature},
		{"ops-numbers", ErrSignature},
		{"verify-use-enc", ErrSignature},
	}
	for _, tc := range tests {
		t.Run(tc.kid, func(t *testing.T) {
			_, err := ks.Verify(context.Background(), sign(t, rsaKey1, jose.RS256, tc.kid, payload), []string{"RS256"})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want %v wrapped in ErrInvalidToken", err, tc.want)
			}
		})
	}

	t.Run("no kid, only a sign-only key", func(t *testing.T) {
		srv := newJWKSServer(t, rawJWKS(t, jwkWith(t, pubJWK(rsaKey1, "", "", ""), map[string]any{"key_ops": []string{"sign"}})))
		ks := newKeySet(srv, newClock(), 5*time.Second)
		_, err := ks.Verify(context.Background(), sign(t, rsaKey1, jose.RS256, "", payload), []string{"RS256"})
		if !errors.Is(err, ErrKeysUnavailable) && !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v, want a rejection", err)
		}
		if err == nil {
			t.Fatal("a key whose key_ops excludes verify verified a token")
		}
	})
}

// TestEmptyCrit: "crit":[] is not allowed (RFC 7515 §4.1.11), although
// go-jose accepts it.
func TestEmptyCrit(t *testing.T) {
	testKeys(t)
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	payload := []byte(`{"sub":"x"}`)
	good := signRS256Raw(t, rsaKey1, `{"alg":"RS256","kid":"k1"}`, payload, false)
	if _, err := ks.Verify(context.Background(), good, []string{"RS256"}); err != nil {
		t.Fatalf("positive control: %v", err)
	}
	tok := signRS256Raw(t, rsaKey1, `{"alg":"RS256","kid":"k1","crit":[]}`, payload, false)
	got, err := ks.Verify(context.Background(), tok, []string{"RS256"})
	if !errors.Is(err, ErrUnsupportedHeader) || !errors.Is(err, ErrInvalidToken) || got != nil {
		t.Fatalf("Verify = %q, %v; want ErrUnsupportedHeader in ErrInvalidToken", got, err)
	}
}

// TestCritRejected: ginauth understands no JWS extension, so any crit is
// refused, whatever go-jose would do with it; so is "b64" (RFC 7797), which
// go-jose honours even without crit.
func TestCritRejected(t *testing.T) {
	testKeys(t)
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	payload := []byte(`{"sub":"x"}`)
	tests := []struct {
		name      string
		header    string
		unencoded bool
	}{
		{"crit b64 with b64 true", `{"alg":"RS256","kid":"k1","crit":["b64"],"b64":true}`, false},
		{"crit b64 with b64 false", `{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}`, true},
		{"b64 false without crit", `{"alg":"RS256","kid":"k1","b64":false}`, true},
		{"b64 true without crit", `{"alg":"RS256","kid":"k1","b64":true}`, false},
		{"crit naming an unknown extension", `{"alg":"RS256","kid":"k1","crit":["urn:x"],"urn:x":1}`, false},
		{"crit naming a registered parameter", `{"alg":"RS256","kid":"k1","crit":["kid"]}`, false},
		{"crit null", `{"alg":"RS256","kid":"k1","crit":null}`, false},
		{"crit a string", `{"alg":"RS256","kid":"k1","crit":"b64"}`, false},
		{"CRIT in upper case (matched case-insensitively)", `{"alg":"RS256","kid":"k1","CRIT":[]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := signRS256Raw(t, rsaKey1, tc.header, payload, tc.unencoded)
			got, err := ks.Verify(context.Background(), tok, []string{"RS256"})
			if !errors.Is(err, ErrUnsupportedHeader) || !errors.Is(err, ErrInvalidToken) || got != nil {
				t.Fatalf("Verify = %q, %v; want ErrUnsupportedHeader in ErrInvalidToken", got, err)
			}
		})
	}
	// go-jose refuses a header with a duplicate member before any of this.
	tok := signRS256Raw(t, rsaKey1, `{"alg":"RS256","kid":"k1","crit":["urn:x"],"crit":[]}`, payload, false)
	if _, err := ks.Verify(context.Background(), tok, []string{"RS256"}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("crit twice: err = %v, want ErrMalformed", err)
	}
	// Other unknown, non-critical header members are ignored.
	tok = signRS256Raw(t, rsaKey1, `{"alg":"RS256","kid":"k1","typ":"JWT","x-extra":{"a":1}}`, payload, false)
	if _, err := ks.Verify(context.Background(), tok, []string{"RS256"}); err != nil {
		t.Fatalf("unknown non-critical member: %v", err)
	}
}

// TestLogoutTyp: a logout token's typ, when present, must be logout+jwt
// (Back-Channel Logout 1.0 §2.4), compared as a media type: case-insensitive,
// with or without the application/ prefix (RFC 7515 §4.1.9).
func TestLogoutTyp(t *testing.T) {
	payload := mustJSON(t, logoutClaimsAt(testStart))
	tok := func(header string) string { return rawToken(header, payload, []byte("sig")) }
	tests := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{"typ absent", tok(`{"alg":"RS256"}`), nil},
		{"logout+jwt", tok(`{"alg":"RS256","typ":"logout+jwt"}`), nil},
		{"application/logout+jwt", tok(`{"alg":"RS256","typ":"application/logout+jwt"}`), nil},
		{"mixed case", tok(`{"alg":"RS256","typ":"Logout+JWT"}`), nil},
		{"upper-case prefix", tok(`{"alg":"RS256","typ":"APPLICATION/LOGOUT+JWT"}`), nil},

		{"JWT (untyped, as Keycloak sends)", tok(`{"alg":"RS256","typ":"JWT"}`), nil},
		{"jwt", tok(`{"alg":"RS256","typ":"jwt"}`), nil},
		{"application/jwt", tok(`{"alg":"RS256","typ":"application/jwt"}`), nil},
		{"id_token+jwt", tok(`{"alg":"RS256","typ":"id_token+jwt"}`), ErrTokenType},
		{"at+jwt", tok(`{"alg":"RS256","typ":"at+jwt"}`), ErrTokenType},
		{"secevent+jwt", tok(`{"alg":"RS256","typ":"secevent+jwt"}`), ErrTokenType},
		{"empty", tok(`{"alg":"RS256","typ":""}`), ErrTokenType},
		{"with a parameter", tok(`{"alg":"RS256","typ":"logout+jwt; charset=utf-8"}`), ErrTokenType},
		{"leading space", tok(`{"alg":"RS256","typ":" logout+jwt"}`), ErrTokenType},
		{"prefix twice", tok(`{"alg":"RS256","typ":"application/application/logout+jwt"}`), ErrTokenType},
		{"other prefix", tok(`{"alg":"RS256","typ":"text/logout+jwt"}`), ErrTokenType},
		{"suffix", tok(`{"alg":"RS256","typ":"logout+jwt2"}`), ErrTokenType},
		{"number", tok(`{"alg":"RS256","typ":1}`), ErrTokenType},
		{"null", tok(`{"alg":"RS256","typ":null}`), ErrTokenType},
		{"array", tok(`{"alg":"RS256","typ":["logout+jwt"]}`), ErrTokenType},
		{"twice, last wrong", tok(`{"alg":"RS256","typ":"logout+jwt","typ":"at+jwt"}`), ErrTokenType},

		{"header not JSON", tok(`not json`), ErrMalformed},
		{"header not an object", tok(`["logout+jwt"]`), ErrMalformed},
		{"header not base64url", "!!!.e30.c2ln", ErrMalformed},
		{"no dot", "abc", ErrMalformed},
		{"too long", strings.Repeat("a", MaxTokenSize+1) + ".e30.", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLogoutTokenType(tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want %v wrapped in ErrInvalidToken", err, tc.want)
			}
		})
	}
}

// TestLogoutTypSignedToken: the check reads the header of a real signed
// logout token; an untyped one (typ JWT) passes it, one typed at+jwt does not.
func TestLogoutTypSignedToken(t *testing.T) {
	testKeys(t)
	payload := mustJSON(t, logoutClaimsAt(testStart))
	logout := signRS256Raw(t, rsaKey1, `{"alg":"RS256","kid":"k1","typ":"logout+jwt"}`, payload, false)
	if err := CheckLogoutTokenType(logout); err != nil {
		t.Fatalf("logout+jwt: %v", err)
	}
	untyped := sign(t, rsaKey1, jose.RS256, "k1", payload) // typ JWT
	if err := CheckLogoutTokenType(untyped); err != nil {
		t.Fatalf("typ JWT: %v", err)
	}
	accessToken := signRS256Raw(t, rsaKey1, `{"alg":"RS256","kid":"k1","typ":"at+jwt"}`, payload, false)
	if err := CheckLogoutTokenType(accessToken); !errors.Is(err, ErrTokenType) {
		t.Fatalf("typ at+jwt: err = %v, want ErrTokenType", err)
	}
}

// TestIDTokenEvents: an ID token carrying the back-channel "events" claim is
// a logout token (or another security event token) used as an ID token:
// refused (Back-Channel Logout 1.0 §2.4; SECURITY.md BC-6).
func TestIDTokenEvents(t *testing.T) {
	now := testStart
	tests := []struct {
		name   string
		events any
	}{
		{"logout event", map[string]any{BackChannelLogoutEvent: map[string]any{}}},
		{"other event", map[string]any{"urn:example:event": map[string]any{}}},
		{"empty object", map[string]any{}},
		{"null", nil},
		{"string", "x"},
		{"array", []string{BackChannelLogoutEvent}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := claimsAt(now)
			m["events"] = tc.events
			c, err := ValidateIDToken(mustJSON(t, m), expectations(now))
			if !errors.Is(err, ErrTokenType) || !errors.Is(err, ErrInvalidToken) || c != nil {
				t.Fatalf("ValidateIDToken = %+v, %v; want ErrTokenType in ErrInvalidToken", c, err)
			}
		})
	}

	t.Run("a complete logout token", func(t *testing.T) {
		m := logoutClaimsAt(now)
		m["nonce"] = testNonce // even one forged to pass the nonce check
		c, err := ValidateIDToken(mustJSON(t, m), expectations(now))
		if !errors.Is(err, ErrTokenType) || c != nil {
			t.Fatalf("ValidateIDToken = %+v, %v; want ErrTokenType", c, err)
		}
	})
	t.Run("positive control", func(t *testing.T) {
		m := claimsAt(now)
		m["event"] = "not the events claim"
		if _, err := ValidateIDToken(mustJSON(t, m), expectations(now)); err != nil {
			t.Fatal(err)
		}
	})
}
