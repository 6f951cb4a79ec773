package oidcjwt

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ginauth/ginauth/internal/safehttp"
)

// hs256 MACs header.payload with key, as an attacker would.
func hs256(header string, payload, key []byte) string {
	t := rawToken(header, payload, nil)
	signingInput := t[:len(t)-1]
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signingInput))
	return rawToken(header, payload, mac.Sum(nil))
}

func flipSignatureByte(tb testing.TB, token string) string {
	tb.Helper()
	i := strings.LastIndexByte(token, '.')
	sig := []byte(token[i+1:])
	// Change a middle character so the base64url stays decodable.
	j := len(sig) / 2
	if sig[j] == 'A' {
		sig[j] = 'B'
	} else {
		sig[j] = 'A'
	}
	return token[:i+1] + string(sig)
}

func TestVerify(t *testing.T) {
	testKeys(t)
	clock := newClock()
	rsaPubDER, err := x509.MarshalPKIXPublicKey(&rsaKey1.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubPKCS1 := x509.MarshalPKCS1PublicKey(&rsaKey1.PublicKey)
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER})
	rsaPubJWK := jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig"))
	rsaPubJWKOnly, err := json.Marshal(pubJWK(rsaKey1, "k1", "RS256", "sig"))
	if err != nil {
		t.Fatal(err)
	}

	srv := newJWKSServer(t, jwksJSON(t,
		pubJWK(rsaKey1, "k1", "RS256", "sig"),
		pubJWK(rsaKey2, "k2", "", ""), // no alg, no use
		pubJWK(ecKey1, "e1", "ES256", "sig"),
		jose.JSONWebKey{Key: edPub, KeyID: "ed1"},
		pubJWK(rsaKey3, "rs384only", "RS384", "sig"),
		pubJWK(rsaKey3, "enc", "RSA-OAEP", "enc"),
		pubJWK(rsaWeak, "weak", "RS256", "sig"),
		jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct", Algorithm: "HS256"},
	))
	ks := newKeySet(srv, clock, 5*time.Second)
	payload := mustJSON(t, claimsAt(testStart))
	valid := sign(t, rsaKey1, jose.RS256, "k1", payload)
	hsHeader := `{"alg":"HS256","kid":"k1","typ":"JWT"}`
	hsHeaderNoKid := `{"alg":"HS256","typ":"JWT"}`
	rs256 := []string{"RS256"}
	all := []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	hostile := []string{"RS256", "HS256", "none"} // a careless caller

	tests := []struct {
		name  string
		token string
		algs  []string
		want  error // nil: accepted with payload
	}{
		{"valid RS256", valid, rs256, nil},
		{"valid RS256, key without alg/use", sign(t, rsaKey2, jose.RS256, "k2", payload), rs256, nil},
		{"valid PS256", sign(t, rsaKey2, jose.PS256, "k2", payload), all, nil},
		{"valid ES256", sign(t, ecKey1, jose.ES256, "e1", payload), all, nil},
		{"valid EdDSA", sign(t, edKey, jose.EdDSA, "ed1", payload), all, nil},
		{"signature byte flipped", flipSignatureByte(t, valid), rs256, ErrBadSignature},
		{"signature removed", valid[:strings.LastIndexByte(valid, '.')+1], rs256, ErrBadSignature},
		{"payload swapped", func() string {
			p := strings.Split(valid, ".")
			other := strings.Split(sign(t, rsaKey1, jose.RS256, "k1", []byte(`{"sub":"admin"}`)), ".")
			return p[0] + "." + other[1] + "." + p[2]
		}(), rs256, ErrBadSignature},
		{"alg none h.p.", rawToken(`{"alg":"none"}`, payload, nil), rs256, ErrAlgorithm},
		{"alg none with kid", rawToken(`{"alg":"none","kid":"k1"}`, payload, nil), rs256, ErrAlgorithm},
		{"alg None", rawToken(`{"alg":"None"}`, payload, nil), rs256, ErrAlgorithm},
		{"alg none even if allowed", rawToken(`{"alg":"none"}`, payload, nil), hostile, ErrAlgorithm},
		{"HS256 keyed with RSA public key PEM", hs256(hsHeader, payload, rsaPubPEM), rs256, ErrAlgorithm},
		{"HS256 keyed with RSA public key DER", hs256(hsHeader, payload, rsaPubDER), rs256, ErrAlgorithm},
		{"HS256 keyed with RSA public key PKCS1 DER", hs256(hsHeader, payload, rsaPubPKCS1), rs256, ErrAlgorithm},
		{"HS256 keyed with RSA JWKS JSON", hs256(hsHeader, payload, rsaPubJWK), rs256, ErrAlgorithm},
		{"HS256 keyed with RSA JWK JSON", hs256(hsHeader, payload, rsaPubJWKOnly), rs256, ErrAlgorithm},
		{"HS256 keyed with RSA PEM, HS256 wrongly allowed", hs256(hsHeader, payload, rsaPubPEM), hostile, ErrAlgorithm},
		{"HS256 no kid keyed with RSA PEM", hs256(hsHeaderNoKid, payload, rsaPubPEM), rs256, ErrAlgorithm},
		{"HS256 with client secret", hs256(hsHeader, payload, []byte("client-secret-client-secret-1234")), rs256, ErrAlgorithm},
		{"HS256 with the oct key in the JWKS", hs256(`{"alg":"HS256","kid":"oct"}`, payload, []byte("0123456789abcdef0123456789abcdef")), hostile, ErrAlgorithm},
		{"ES256 when only RS256 allowed", sign(t, ecKey1, jose.ES256, "e1", payload), rs256, ErrAlgorithm},
		{"ES256 header on the RSA kid", sign(t, ecKey1, jose.ES256, "k1", payload), all, ErrKeyMismatch},
		{"RS256 header on the EC kid", sign(t, rsaKey1, jose.RS256, "e1", payload), all, ErrKeyMismatch},
		{"RS256 with a key whose JWK alg is RS384", sign(t, rsaKey3, jose.RS256, "rs384only", payload), all, ErrKeyMismatch},
		{"RS256 with an enc key", sign(t, rsaKey3, jose.RS256, "enc", payload), rs256, ErrUnknownKey},
		{"RS256 with a 1024-bit key", sign(t, rsaWeak, jose.RS256, "weak", payload), rs256, ErrUnknownKey},
		{"right kid, other key", sign(t, rsaKey3, jose.RS256, "k1", payload), rs256, ErrBadSignature},
		{"empty allow-list", valid, nil, ErrAlgorithm},
		{"only unsupported algs allowed", valid, []string{"HS256", "none"}, ErrAlgorithm},
		{"empty", "", rs256, ErrMalformed},
		{"no dots", "abc", rs256, ErrMalformed},
		{"one dot", "a.b", rs256, ErrMalformed},
		{"three dots", valid + ".x", rs256, ErrMalformed},
		{"JWE-shaped (4 dots)", "a.b.c.d.e", rs256, ErrMalformed},
		{"only dots", "..", rs256, ErrMalformed},
		{"header not base64url", "!!!." + strings.SplitN(valid, ".", 2)[1], rs256, ErrMalformed},
		{"header not JSON", rawToken("not json", payload, []byte("x")), rs256, ErrMalformed},
		{"padding in segments", strings.Replace(valid, ".", "=.", 1), rs256, ErrMalformed},
		{"JSON serialization", `{"payload":"e30","protected":"e30","signature":"AA"}`, rs256, ErrMalformed},
		{"1,000,000 dots", strings.Repeat(".", 1_000_000), rs256, ErrMalformed},
		{"100 KB token", valid + strings.Repeat("A", 100<<10), rs256, ErrMalformed},
		{"100 KB payload", sign(t, rsaKey1, jose.RS256, "k1", []byte(`{"x":"`+strings.Repeat("a", 100<<10)+`"}`)), rs256, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ks.Verify(context.Background(), tc.token, tc.algs)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if string(got) != string(payload) {
					t.Fatalf("payload = %q", got)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want %v wrapped in ErrInvalidToken", err, tc.want)
			}
			if got != nil {
				t.Fatalf("payload returned with an error: %q", got)
			}
		})
	}
}

func TestVerifyThenValidate(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, clock, 5*time.Second)
	token := sign(t, rsaKey1, jose.RS256, "k1", mustJSON(t, claimsAt(testStart)))
	payload, err := ks.Verify(context.Background(), token, []string{"RS256"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ValidateIDToken(payload, expectations(testStart))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "user-1" || c.Issuer != testIssuer || c.Audience != testClientID || c.Nonce != testNonce {
		t.Fatalf("claims = %+v", c)
	}
}

func TestVerifyBadSignatureDoesNotRefetch(t *testing.T) {
	testKeys(t)
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	valid := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	if _, err := ks.Verify(context.Background(), valid, []string{"RS256"}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_, err := ks.Verify(context.Background(), flipSignatureByte(t, valid), []string{"RS256"})
		if !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := ks.Fetches(); n != 1 {
		t.Fatalf("Fetches = %d, want 1", n)
	}
}

func TestNoIOBeforeFirstUse(t *testing.T) {
	srv := newJWKSServer(t, []byte(`{"keys":[]}`))
	ks := newKeySet(srv, newClock(), time.Second)
	if ks.Fetches() != 0 || srv.hits.Load() != 0 {
		t.Fatal("NewRemoteKeySet did I/O")
	}
	// A malformed token or a refused algorithm must not cause a fetch.
	_, _ = ks.Verify(context.Background(), "a.b", []string{"RS256"})
	_, _ = ks.Verify(context.Background(), rawToken(`{"alg":"none"}`, []byte(`{}`), nil), []string{"RS256"})
	if ks.Fetches() != 0 || srv.hits.Load() != 0 {
		t.Fatal("rejected-before-keys token caused a fetch")
	}
}

func TestKeyRotation(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, clock, 5*time.Second)
	ctx := context.Background()
	rs256 := []string{"RS256"}

	if _, err := ks.Verify(ctx, sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`)), rs256); err != nil {
		t.Fatal(err)
	}
	if n := ks.Fetches(); n != 1 {
		t.Fatalf("Fetches after first use = %d, want 1", n)
	}
	// The OP rotates: k2 is published and used at once.
	srv.set(jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig"), pubJWK(rsaKey2, "k2", "RS256", "sig")))
	rotated := sign(t, rsaKey2, jose.RS256, "k2", []byte(`{}`))
	if _, err := ks.Verify(ctx, rotated, rs256); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := ks.Fetches(); n != 2 {
		t.Fatalf("Fetches after rotation = %d, want exactly 2", n)
	}
	if _, err := ks.Verify(ctx, rotated, rs256); err != nil {
		t.Fatal(err)
	}
	if n := ks.Fetches(); n != 2 {
		t.Fatalf("Fetches after reuse = %d, want 2 (cached)", n)
	}
}

func randomKid(tb testing.TB) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func TestUnknownKidRateLimit(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, clock, 5*time.Second) // MinRefreshInterval 1 min
	ctx := context.Background()
	rs256 := []string{"RS256"}
	if _, err := ks.Verify(ctx, sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`)), rs256); err != nil {
		t.Fatal(err)
	}
	base := ks.Fetches()

	for i := range 100 {
		tok := sign(t, rsaKey2, jose.RS256, randomKid(t), []byte(`{}`))
		if _, err := ks.Verify(ctx, tok, rs256); !errors.Is(err, ErrSignature) || !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("token %d: err = %v, want ErrSignature", i, err)
		}
		clock.Advance(100 * time.Millisecond) // 10 s in all, inside the interval
	}
	if grew := ks.Fetches() - base; grew > 1 {
		t.Fatalf("100 unknown kids caused %d fetches, want at most 1", grew)
	}
	if srv.hits.Load() != int32(ks.Fetches()) {
		t.Fatalf("server hits %d != Fetches %d", srv.hits.Load(), ks.Fetches())
	}
	// The known key still works, without a fetch.
	if _, err := ks.Verify(ctx, sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`)), rs256); err != nil {
		t.Fatal(err)
	}

	// After the interval one more refetch is allowed, and only one.
	clock.Advance(time.Minute)
	before := ks.Fetches()
	for range 5 {
		_, err := ks.Verify(ctx, sign(t, rsaKey2, jose.RS256, randomKid(t), []byte(`{}`)), rs256)
		if !errors.Is(err, ErrSignature) {
			t.Fatalf("err = %v", err)
		}
	}
	if grew := ks.Fetches() - before; grew != 1 {
		t.Fatalf("after the interval: %d fetches, want exactly 1", grew)
	}
}

func TestKidAbsent(t *testing.T) {
	testKeys(t)
	ctx := context.Background()
	rs256 := []string{"RS256"}
	payload := []byte(`{"sub":"x"}`)

	t.Run("one key", func(t *testing.T) {
		srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "", "", "")))
		ks := newKeySet(srv, newClock(), 5*time.Second)
		got, err := ks.Verify(ctx, sign(t, rsaKey1, jose.RS256, "", payload), rs256)
		if err != nil || string(got) != string(payload) {
			t.Fatalf("Verify = %q, %v", got, err)
		}
	})

	t.Run("several keys", func(t *testing.T) {
		srv := newJWKSServer(t, jwksJSON(t,
			pubJWK(ecKey1, "e1", "", ""), // not suitable for RS256
			pubJWK(rsaKey1, "k1", "", ""),
			pubJWK(rsaKey2, "", "RS256", "sig"),
		))
		ks := newKeySet(srv, newClock(), 5*time.Second)
		tests := []struct {
			name  string
			token string
			want  error
		}{
			{"signed by first RSA key", sign(t, rsaKey1, jose.RS256, "", payload), nil},
			{"signed by second RSA key", sign(t, rsaKey2, jose.RS256, "", payload), nil},
			{"signed by a third key", sign(t, rsaKey3, jose.RS256, "", payload), ErrBadSignature},
			{"flipped signature", flipSignatureByte(t, sign(t, rsaKey2, jose.RS256, "", payload)), ErrBadSignature},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := ks.Verify(ctx, tc.token, rs256)
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			})
		}
		if n := ks.Fetches(); n > 2 {
			t.Fatalf("Fetches = %d, want at most 2 (first use + one rate-limited refetch)", n)
		}
	})

	t.Run("key appears after rotation", func(t *testing.T) {
		clock := newClock()
		srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "", "", "")))
		ks := newKeySet(srv, clock, 5*time.Second)
		if _, err := ks.Verify(ctx, sign(t, rsaKey1, jose.RS256, "", payload), rs256); err != nil {
			t.Fatal(err)
		}
		srv.set(jwksJSON(t, pubJWK(rsaKey2, "", "", "")))
		if _, err := ks.Verify(ctx, sign(t, rsaKey2, jose.RS256, "", payload), rs256); err != nil {
			t.Fatalf("rotated kid-less key: %v", err)
		}
	})
}

func TestAmbiguousKid(t *testing.T) {
	testKeys(t)
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "dup", "", ""), pubJWK(rsaKey2, "dup", "", "")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	_, err := ks.Verify(context.Background(), sign(t, rsaKey1, jose.RS256, "dup", []byte(`{}`)), []string{"RS256"})
	if !errors.Is(err, ErrSignature) {
		t.Fatalf("err = %v, want ErrSignature", err)
	}
	// Same kid on keys of different types is not ambiguous for a given alg.
	srv2 := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "same", "", ""), pubJWK(ecKey1, "same", "", "")))
	ks2 := newKeySet(srv2, newClock(), 5*time.Second)
	if _, err := ks2.Verify(context.Background(), sign(t, ecKey1, jose.ES256, "same", []byte(`{}`)), []string{"RS256", "ES256"}); err != nil {
		t.Fatal(err)
	}
}

func TestKeysUnavailable(t *testing.T) {
	testKeys(t)
	token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	rs256 := []string{"RS256"}

	tests := []struct {
		name    string
		mode    int32
		body    string
		timeout time.Duration
		wantIs  error
	}{
		{"502 HTML", modeDown, "", 5 * time.Second, ErrKeysUnavailable},
		{"hangs", modeHang, "", 200 * time.Millisecond, ErrKeysUnavailable},
		{"50 MB JWKS", modeHuge, "", 10 * time.Second, safehttp.ErrResponseTooLarge},
		{"truncated JSON", modeOK, `{"keys":[{"kty":"RSA","n":"`, 5 * time.Second, ErrKeysUnavailable},
		{"not JSON", modeOK, `<html>`, 5 * time.Second, ErrKeysUnavailable},
		{"no usable key", modeOK, `{"keys":[{"kty":"oct","k":"AAAA"}]}`, 5 * time.Second, ErrKeysUnavailable},
		{"empty set", modeOK, `{"keys":[]}`, 5 * time.Second, ErrKeysUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newJWKSServer(t, []byte(tc.body))
			srv.mode.Store(tc.mode)
			ks := newKeySet(srv, newClock(), tc.timeout)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := ks.Verify(context.Background(), token, rs256)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrKeysUnavailable) || !errors.Is(err, tc.wantIs) {
				t.Fatalf("err = %v, want ErrKeysUnavailable (and %v)", err, tc.wantIs)
			}
			if errors.Is(err, ErrInvalidToken) {
				t.Fatalf("ErrKeysUnavailable wrapped in ErrInvalidToken: %v", err)
			}
			if elapsed > tc.timeout+2*time.Second {
				t.Fatalf("took %v", elapsed)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
				t.Fatalf("allocated %d bytes", grew)
			}
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		srv := newJWKSServer(t, nil)
		url := srv.URL
		srv.Close()
		ks := NewRemoteKeySet(url, KeySetOptions{Client: safehttp.NewClient(time.Second)})
		if _, err := ks.Verify(context.Background(), token, rs256); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFirstUseRetryAfterFailure(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	srv.mode.Store(modeDown)
	ks := newKeySet(srv, clock, 5*time.Second)
	token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	ctx := context.Background()
	for range 10 {
		if _, err := ks.Verify(ctx, token, []string{"RS256"}); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := ks.Fetches(); n != 1 {
		t.Fatalf("Fetches = %d, want 1 (failed first fetch backs off)", n)
	}
	srv.mode.Store(modeOK)
	clock.Advance(maxInitialRetry)
	if _, err := ks.Verify(ctx, token, []string{"RS256"}); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if n := ks.Fetches(); n != 2 {
		t.Fatalf("Fetches = %d, want 2", n)
	}
}

func TestCachedKeysSurviveOutage(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, clock, 300*time.Millisecond)
	ctx := context.Background()
	rs256 := []string{"RS256"}
	good := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	if _, err := ks.Verify(ctx, good, rs256); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []int32{modeDown, modeHang, modeHuge} {
		srv.mode.Store(mode)
		clock.Advance(2 * time.Minute) // allow a refetch each round
		// An unknown kid makes the refetch fail: keys unavailable.
		_, err := ks.Verify(ctx, sign(t, rsaKey2, jose.RS256, "k2", []byte(`{}`)), rs256)
		if !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("mode %d: unknown kid during outage: err = %v", mode, err)
		}
		// The cached key keeps working.
		if _, err := ks.Verify(ctx, good, rs256); err != nil {
			t.Fatalf("mode %d: cached key after failed refetch: %v", mode, err)
		}
		// A bad signature on a cached key is still a signature error.
		if _, err := ks.Verify(ctx, flipSignatureByte(t, good), rs256); !errors.Is(err, ErrSignature) {
			t.Fatalf("mode %d: err = %v", mode, err)
		}
	}
	// A refetch that returns an unusable set keeps the last good one.
	srv.mode.Store(modeOK)
	srv.set([]byte(`{"keys":[]}`))
	clock.Advance(2 * time.Minute)
	_, _ = ks.Verify(ctx, sign(t, rsaKey2, jose.RS256, "k2", []byte(`{}`)), rs256)
	if _, err := ks.Verify(ctx, good, rs256); err != nil {
		t.Fatalf("cached key after an empty JWKS: %v", err)
	}
}

func TestVerifyContextCancelled(t *testing.T) {
	testKeys(t)
	srv := newJWKSServer(t, nil)
	srv.mode.Store(modeHang)
	ks := newKeySet(srv, newClock(), 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ks.Verify(ctx, sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`)), []string{"RS256"})
	if !errors.Is(err, ErrKeysUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("Verify ignored the context: %v", time.Since(start))
	}
}

func TestMalformedIsFast(t *testing.T) {
	ks := NewRemoteKeySet("http://127.0.0.1:1/never", KeySetOptions{})
	dots := strings.Repeat(".", 1_000_000)
	big := strings.Repeat("A", 100<<10)
	start := time.Now()
	for range 100 {
		if _, err := ks.Verify(context.Background(), dots, []string{"RS256"}); !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
		if _, err := ks.Verify(context.Background(), big, []string{"RS256"}); !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("200 oversized tokens took %v", d)
	}
	if ks.Fetches() != 0 {
		t.Fatal("malformed token caused a fetch")
	}
	// Just under the cap with too many dots is still rejected before parsing.
	if _, err := ks.Verify(context.Background(), strings.Repeat(".", MaxTokenSize), []string{"RS256"}); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
}

func BenchmarkVerify(b *testing.B) {
	testKeys(b)
	srv := newJWKSServer(b, jwksJSON(b, pubJWK(rsaKey1, "k1", "RS256", "sig"), pubJWK(ecKey1, "e1", "ES256", "sig")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	token := sign(b, rsaKey1, jose.RS256, "k1", mustJSON(b, claimsAt(testStart)))
	ctx := context.Background()
	algs := []string{"RS256"}
	if _, err := ks.Verify(ctx, token, algs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.Verify(ctx, token, algs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyIDToken compares, in one run, the ID token verification
// the providers did before go-oidc (Verify, then ValidateIDToken) with the
// one they do now (VerifyIDToken: go-oidc's verifier over the key set, then
// ValidateIDToken).
//
//	go test -run='^$' -bench=BenchmarkVerifyIDToken -count=5 ./internal/oidcjwt
func BenchmarkVerifyIDToken(b *testing.B) {
	testKeys(b)
	srv := newJWKSServer(b, jwksJSON(b, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	token := sign(b, rsaKey1, jose.RS256, "k1", mustJSON(b, claimsAt(testStart)))
	ctx := context.Background()
	algs := []string{"RS256"}
	e := expectations(testStart)
	b.Run("keyset+claims", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			payload, err := ks.Verify(ctx, token, algs)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ValidateIDToken(payload, e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("go-oidc+claims", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := VerifyIDToken(ctx, ks, token, algs, e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
