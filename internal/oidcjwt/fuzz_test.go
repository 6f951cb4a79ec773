package oidcjwt

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

func FuzzVerify(f *testing.F) {
	testKeys(f)
	srv := newJWKSServer(f, jwksJSON(f,
		pubJWK(rsaKey1, "k1", "RS256", "sig"),
		pubJWK(ecKey1, "e1", "ES256", "sig"),
		pubJWK(rsaKey2, "", "", ""),
	))
	ks := newKeySet(srv, newClock(), 5*time.Second) // the clock never moves: one refetch at most
	payload := mustJSON(f, claimsAt(testStart))
	valid := sign(f, rsaKey1, jose.RS256, "k1", payload)
	for _, s := range []string{
		valid,
		sign(f, ecKey1, jose.ES256, "e1", payload),
		sign(f, rsaKey2, jose.RS256, "", payload),
		sign(f, rsaKey2, jose.PS256, "", payload),
		sign(f, rsaKey3, jose.RS256, "zz", payload),
		flipSignatureByte(f, valid),
		rawToken(`{"alg":"none"}`, payload, nil),
		rawToken(`{"alg":"RS256","kid":"k1","crit":["b64"],"b64":false}`, payload, []byte("sig")),
		rawToken(`{"alg":"RS256","jwk":{"kty":"oct","k":"AAAA"}}`, payload, []byte("sig")),
		signRS256Raw(f, rsaKey1, `{"alg":"RS256","kid":"k1","crit":[]}`, payload, false),
		signRS256Raw(f, rsaKey1, `{"alg":"RS256","kid":"k1","b64":false}`, payload, true),
		signRS256Raw(f, rsaKey1, `{"alg":"RS256","kid":"k1","typ":"logout+jwt"}`, payload, false),
		hs256(`{"alg":"HS256","kid":"k1"}`, payload, []byte("secret")),
		"", ".", "..", "a.b.c", "e30.e30.", strings.Repeat(".", 100),
		`{"payload":"e30","signatures":[]}`,
	} {
		f.Add(s)
	}
	algs := []string{"RS256", "PS256", "ES256", "EdDSA"}
	f.Fuzz(func(t *testing.T, token string) {
		got, err := ks.Verify(context.Background(), token, algs)
		if err != nil {
			if got != nil {
				t.Fatal("payload returned with an error")
			}
			if !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrKeysUnavailable) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		// Accepted: the token must be a compact JWS whose payload is the
		// returned one, signed by one of the published keys.
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token with %d parts", len(parts))
		}
		p, derr := base64.RawURLEncoding.DecodeString(parts[1])
		if derr != nil || !bytes.Equal(p, got) {
			t.Fatal("returned payload is not the token's payload")
		}
		jws, perr := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256})
		if perr != nil {
			t.Fatalf("accepted token fails to parse: %v", perr)
		}
		// No JWS extension: no crit, no b64, in any form.
		h, herr := base64.RawURLEncoding.DecodeString(parts[0])
		var hdr map[string]json.RawMessage
		if herr != nil || json.Unmarshal(h, &hdr) != nil {
			t.Fatal("accepted a token whose header does not decode")
		}
		if _, ok := hdr["crit"]; ok {
			t.Fatal("accepted a token with crit")
		}
		if _, ok := hdr["b64"]; ok {
			t.Fatal("accepted a token with b64")
		}
		ok := false
		for _, k := range []any{&rsaKey1.PublicKey, &ecKey1.PublicKey, &rsaKey2.PublicKey} {
			if _, verr := jws.Verify(k); verr == nil {
				ok = true
			}
		}
		if !ok {
			t.Fatal("accepted a token no published key signed")
		}
	})
}

// fuzzVerifiers is the ginauth key set and the plain go-oidc key set the
// token fuzz targets verify with: one ES256 key (fast to sign with).
func fuzzVerifiers(f *testing.F) (*RemoteKeySet, oidc.KeySet) {
	testKeys(f)
	srv := newJWKSServer(f, jwksJSON(f, pubJWK(ecKey1, "e1", "ES256", "sig")))
	return newKeySet(srv, newClock(), 5*time.Second), &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&ecKey1.PublicKey}}
}

// plainGoOIDC is go-oidc on its own, its clock set back by the default skew
// (see differential_test.go).
func plainGoOIDC(ks oidc.KeySet, now time.Time) *oidc.IDTokenVerifier {
	return oidc.NewVerifier(testIssuer, ks, &oidc.Config{
		ClientID:             testClientID,
		SupportedSigningAlgs: []string{"ES256"},
		Now:                  func() time.Time { return now.Add(-DefaultSkew) },
	})
}

// FuzzValidateIDToken: random payloads, signed, go through VerifyIDToken
// (go-oidc, then ValidateIDToken). An accepted token satisfies every rule
// of ValidateIDToken, and plain go-oidc accepts it too.
func FuzzValidateIDToken(f *testing.F) {
	now := testStart
	e := expectations(now)
	keys, static := fuzzVerifiers(f)
	plain := plainGoOIDC(static, now)
	base := claimsAt(now)
	seeds := []map[string]any{base}
	for k, v := range map[string]any{
		"aud": []string{testClientID}, "azp": testClientID, "nbf": now.Unix(),
		"exp": "x", "iat": 1e300, "sub": "", "nonce": 1, "iss": testIssuer + "/",
		"events": map[string]any{BackChannelLogoutEvent: map[string]any{}},
	} {
		m := claimsAt(now)
		m[k] = v
		seeds = append(seeds, m)
	}
	for _, s := range seeds {
		f.Add(mustJSON(f, s))
	}
	for _, s := range []string{"", "null", "[]", "{}", `{"aud":[]}`, `{"exp":1e999}`, `{"iss":"a","iss":"b"}`} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, payload []byte) {
		token := sign(t, ecKey1, jose.ES256, "e1", payload)
		c, err := VerifyIDToken(context.Background(), keys, token, []string{"ES256"}, e)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error not wrapped in ErrInvalidToken: %v", err)
			}
			return
		}
		if _, err := ValidateIDToken(payload, e); err != nil {
			t.Fatalf("VerifyIDToken accepted what ValidateIDToken refuses: %v", err)
		}
		if _, err := plain.Verify(context.Background(), token); err != nil {
			t.Fatalf("accepted a token plain go-oidc refuses: %v", err)
		}
		// Accepted: check the expectations from the returned claims...
		skew := DefaultSkew
		switch {
		case c.Issuer != e.Issuer:
			t.Fatalf("iss %q", c.Issuer)
		case c.Audience != e.ClientID:
			t.Fatalf("aud %q", c.Audience)
		case c.AuthorizedParty != "" && c.AuthorizedParty != e.ClientID:
			t.Fatalf("azp %q", c.AuthorizedParty)
		case c.Subject == "":
			t.Fatal("empty sub")
		case c.Nonce != e.Nonce:
			t.Fatalf("nonce %q", c.Nonce)
		case !c.Expiry.After(now.Add(-skew)):
			t.Fatalf("exp %v", c.Expiry)
		case c.IssuedAt.After(now.Add(skew)), c.IssuedAt.Before(now.Add(-DefaultMaxIATAge - skew)):
			t.Fatalf("iat %v", c.IssuedAt)
		case !bytes.Equal(c.Raw, payload):
			t.Fatal("Raw differs")
		}
		// ...and independently from a generic decoding of the payload.
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(payload))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("accepted payload does not decode: %v", err)
		}
		if m["iss"] != e.Issuer || m["nonce"] != e.Nonce {
			t.Fatalf("iss/nonce in payload: %v %v", m["iss"], m["nonce"])
		}
		if _, ok := m["events"]; ok {
			t.Fatal("accepted an ID token with an events claim")
		}
		if s, ok := m["sub"].(string); !ok || s == "" {
			t.Fatalf("sub in payload: %v", m["sub"])
		}
		switch aud := m["aud"].(type) {
		case string:
			if aud != e.ClientID {
				t.Fatalf("aud %q", aud)
			}
		case []any:
			if len(aud) != 1 || aud[0] != e.ClientID {
				t.Fatalf("aud %v", aud)
			}
		default:
			t.Fatalf("aud of type %T", aud)
		}
		for _, name := range []string{"exp", "iat"} {
			if _, ok := m[name].(json.Number); !ok {
				t.Fatalf("%s is %T", name, m[name])
			}
		}
	})
}

// FuzzValidateLogoutToken: random payloads, signed, go through
// VerifyLogoutToken (go-oidc's VerifyLogout, then ValidateLogoutToken) and
// never panic; an accepted token satisfies every rule of Back-Channel Logout
// 1.0 §2.4, and plain go-oidc accepts it too.
func FuzzValidateLogoutToken(f *testing.F) {
	now := testStart
	e := LogoutExpectations{Issuer: testIssuer, ClientID: testClientID, Now: now}
	keys, static := fuzzVerifiers(f)
	plain := plainGoOIDC(static, now)
	good := map[string]any{
		"iss": testIssuer, "aud": testClientID, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": "j1", "sid": "s1", "events": map[string]any{BackChannelLogoutEvent: map[string]any{}},
	}
	f.Add(mustJSON(f, good))
	for k, v := range map[string]any{"nonce": "n", "events": "x", "sid": nil, "sub": "", "jti": 1, "aud": []string{testClientID, "x"}} {
		m := map[string]any{}
		for gk, gv := range good {
			m[gk] = gv
		}
		m[k] = v
		f.Add(mustJSON(f, m))
	}
	for _, s := range []string{"", "null", "{}", `{"events":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		token := sign(t, ecKey1, jose.ES256, "e1", payload)
		c, err := VerifyLogoutToken(context.Background(), keys, token, []string{"ES256"}, e)
		if err != nil {
			if c != nil || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("claims %v with error %v", c, err)
			}
			return
		}
		if _, err := ValidateLogoutToken(payload, e); err != nil {
			t.Fatalf("VerifyLogoutToken accepted what ValidateLogoutToken refuses: %v", err)
		}
		if _, err := plain.VerifyLogout(context.Background(), token); err != nil {
			t.Fatalf("accepted a token plain go-oidc refuses: %v", err)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(payload, &m) != nil {
			t.Fatal("accepted a payload that is not a JSON object")
		}
		if _, nonce := m["nonce"]; nonce || c.JTI == "" || (c.Subject == "" && c.SID == "") || c.Issuer != testIssuer {
			t.Fatalf("accepted an invalid logout token: %s", payload)
		}
		if !c.Expiry.After(now.Add(-MaxSkew)) || c.IssuedAt.After(now.Add(MaxSkew)) {
			t.Fatalf("accepted a stale logout token: %s", payload)
		}
	})
}

// FuzzCheckLogoutTokenType: any token; an accepted one has no typ, or a typ
// that is logout+jwt as a media type.
func FuzzCheckLogoutTokenType(f *testing.F) {
	for _, h := range []string{
		`{"alg":"RS256"}`, `{"typ":"logout+jwt"}`, `{"typ":"application/LOGOUT+jwt"}`, `{"typ":"JWT"}`,
		`{"typ":null}`, `{"typ":1}`, `{"typ":"application/"}`, `{"typ":"logout+jwt","typ":"JWT"}`,
		`{"typ":"logout+jwt\u212a"}`, `[]`, `null`, `not json`,
	} {
		f.Add(rawToken(h, []byte(`{}`), nil))
	}
	for _, s := range []string{"", ".", "..", "a", "!!!.e30.", strings.Repeat(".", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		err := CheckLogoutTokenType(token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) || !(errors.Is(err, ErrTokenType) || errors.Is(err, ErrMalformed)) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		seg, _, _ := strings.Cut(token, ".")
		raw, derr := base64.RawURLEncoding.DecodeString(seg)
		var hdr map[string]any
		if derr != nil || json.Unmarshal(raw, &hdr) != nil || hdr == nil {
			t.Fatalf("accepted a token whose header is not a JSON object: %q", token)
		}
		typ, present := hdr["typ"]
		if !present {
			return
		}
		s, ok := typ.(string)
		if !ok {
			t.Fatalf("accepted typ %v", typ)
		}
		if l := strings.TrimPrefix(strings.ToLower(s), "application/"); l != "logout+jwt" && l != "jwt" {
			t.Fatalf("accepted typ %q", s)
		}
	})
}

// FuzzCacheLifetime: any Cache-Control and Age give a lifetime within the
// bounds; no-store always gives the minimum.
func FuzzCacheLifetime(f *testing.F) {
	for _, s := range [][2]string{
		{"max-age=600", ""}, {"no-cache", ""}, {`max-age="60"`, "5"}, {"max-age=99999999999999999999", ""},
		{"public, max-age=0, no-store", ""}, {"max-age=-1", "x"}, {"", ""}, {"=,=,", "-"},
	} {
		f.Add(s[0], s[1])
	}
	const lo, def, hi = time.Minute, time.Hour, 24 * time.Hour
	f.Fuzz(func(t *testing.T, cc, age string) {
		h := http.Header{"Cache-Control": {cc}, "Age": {age}}
		got := CacheLifetime(h, def, lo, hi)
		if got < lo || got > hi {
			t.Fatalf("CacheLifetime(%q, Age %q) = %v, outside [%v, %v]", cc, age, got, lo, hi)
		}
		h.Add("Cache-Control", "no-store")
		if got := CacheLifetime(h, def, lo, hi); got != lo {
			t.Fatalf("with no-store: %v, want %v", got, lo)
		}
	})
}
