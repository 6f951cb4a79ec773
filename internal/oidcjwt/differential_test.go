package oidcjwt

import (
	"context"
	"crypto"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// The differential test feeds the same signed tokens to plain go-oidc (its
// own IDTokenVerifier over a StaticKeySet, as an application using go-oidc
// alone would) and to ginauth's verification (VerifyIDToken,
// VerifyLogoutToken). Everything ginauth accepts, go-oidc accepts too. Every
// token go-oidc accepts and ginauth refuses is listed below with the reason
// ginauth is stricter; a token refused by ginauth but not marked stricter
// must be refused by go-oidc as well.
//
// go-oidc has no clock skew setting; both sides use go-oidc with its clock
// set back by the skew (ginauth does the same in goVerifier), so that the
// comparison is about rules, not about tolerance.

const (
	diffHeader       = `{"alg":"RS256","kid":"k1","typ":"JWT"}`
	diffLogoutHeader = `{"alg":"RS256","kid":"k1","typ":"logout+jwt"}`
	googleIssuer     = "https://accounts.google.com"
)

type diffCase struct {
	name   string
	header string         // diffHeader when empty
	claims map[string]any // signed with rsaKey1 (kid k1)
	raw    string         // a ready token instead of header and claims
	issuer string         // testIssuer when empty
	logout bool           // a logout token: VerifyLogout / VerifyLogoutToken
	want   error          // ginauth's reason; nil: accepted
	// stricter, when set, says why ginauth refuses a token go-oidc accepts.
	stricter string
}

func diffIDClaims(now time.Time, set map[string]any, del ...string) map[string]any {
	m := claimsAt(now)
	maps.Copy(m, set)
	for _, k := range del {
		delete(m, k)
	}
	return m
}

func diffLogoutClaims(now time.Time, set map[string]any, del ...string) map[string]any {
	m := map[string]any{
		"iss": testIssuer, "aud": testClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": "j1", "sid": "s1", "sub": "user-1",
		"events": map[string]any{BackChannelLogoutEvent: map[string]any{}},
	}
	maps.Copy(m, set)
	for _, k := range del {
		delete(m, k)
	}
	return m
}

func diffCases(t *testing.T, now time.Time) []diffCase {
	id := func(set map[string]any, del ...string) map[string]any { return diffIDClaims(now, set, del...) }
	lo := func(set map[string]any, del ...string) map[string]any { return diffLogoutClaims(now, set, del...) }
	bcl := BackChannelLogoutEvent
	return []diffCase{
		// ID tokens, accepted by both.
		{name: "id/valid", claims: id(nil)},
		{name: "id/aud as one-element list", claims: id(map[string]any{"aud": []string{testClientID}})},
		{name: "id/azp is the client", claims: id(map[string]any{"azp": testClientID})},
		{name: "id/exp within the skew", claims: id(map[string]any{"exp": now.Add(-30 * time.Second).Unix()})},
		{name: "id/nbf within the skew", claims: id(map[string]any{"nbf": now.Add(30 * time.Second).Unix()})},
		{name: "id/fractional dates", claims: id(map[string]any{"exp": float64(now.Unix()) + 3600.5, "iat": float64(now.Unix()) - 0.5})},

		// ID tokens, refused by both.
		{name: "id/wrong iss", claims: id(map[string]any{"iss": testIssuer + "/"}), want: ErrIssuer},
		{name: "id/wrong aud", claims: id(map[string]any{"aud": "other"}), want: ErrAudience},
		{name: "id/expired", claims: id(map[string]any{"exp": now.Add(-2 * time.Hour).Unix(), "iat": now.Add(-3 * time.Hour).Unix()}), want: ErrExpired},
		{name: "id/exp missing", claims: id(nil, "exp"), want: ErrExpired},
		{name: "id/nbf ahead", claims: id(map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}), want: ErrExpired},
		{name: "id/sub a number", claims: id(map[string]any{"sub": 7}), want: ErrSubject},
		{name: "id/iss a number", claims: id(map[string]any{"iss": 7}), want: ErrIssuer},
		{name: "id/alg none", raw: rawToken(`{"alg":"none"}`, mustJSON(t, id(nil)), nil), want: ErrAlgorithm},
		{name: "id/HS256 with the client as secret", raw: hs256(`{"alg":"HS256","kid":"k1"}`, mustJSON(t, id(nil)), []byte(testClientID)), want: ErrAlgorithm},
		{name: "id/bad signature", raw: flipSignatureByte(t, signRS256Raw(t, rsaKey1, diffHeader, mustJSON(t, id(nil)), false)), want: ErrBadSignature},
		{name: "id/foreign key", raw: signRS256Raw(t, rsaKey3, `{"alg":"RS256","kid":"zz"}`, mustJSON(t, id(nil)), false), want: ErrUnknownKey},

		// ID tokens ginauth refuses and go-oidc accepts.
		{name: "id/exp a string", claims: id(map[string]any{"exp": "1800003600"}), want: ErrExpired,
			stricter: "NumericDate is a JSON number (RFC 7519 §2); go-oidc parses a quoted number too"},
		{name: "id/iat missing", claims: id(nil, "iat"), want: ErrIssuedAt,
			stricter: "iat is REQUIRED (OIDC Core §2); go-oidc does not look at it"},
		{name: "id/iat a week ahead", claims: id(map[string]any{"iat": now.Add(7 * 24 * time.Hour).Unix(), "exp": now.Add(8 * 24 * time.Hour).Unix()}), want: ErrIssuedAt,
			stricter: "iat must not be in the future (beyond the skew)"},
		{name: "id/iat two days old", claims: id(map[string]any{"iat": now.Add(-48 * time.Hour).Unix()}), want: ErrIssuedAt,
			stricter: "iat older than MaxIATAge (10 min): a replayed or long-lived ID token"},
		{name: "id/sub missing", claims: id(nil, "sub"), want: ErrSubject,
			stricter: "sub is REQUIRED and non-empty (OIDC Core §2)"},
		{name: "id/sub empty", claims: id(map[string]any{"sub": ""}), want: ErrSubject,
			stricter: "sub is REQUIRED and non-empty (OIDC Core §2)"},
		{name: "id/extra aud and foreign azp", claims: id(map[string]any{"aud": []string{testClientID, "other"}, "azp": "other"}), want: ErrAudience,
			stricter: "the token was issued to another party (azp); ginauth accepts only aud = [client]"},
		{name: "id/extra aud", claims: id(map[string]any{"aud": []string{testClientID, "other"}}), want: ErrAudience,
			stricter: "a single audience only: another audience could replay the token here"},
		{name: "id/foreign azp", claims: id(map[string]any{"azp": "other"}), want: ErrAudience,
			stricter: "azp, when present, must be the client ID (OIDC Core §3.1.3.7)"},
		{name: "id/nonce mismatch", claims: id(map[string]any{"nonce": "other"}), want: ErrNonce,
			stricter: "go-oidc leaves the nonce comparison to the caller"},
		{name: "id/nonce missing", claims: id(nil, "nonce"), want: ErrNonce,
			stricter: "a nonce was sent, so the ID token must carry it (OIDC Core §3.1.3.7)"},
		{name: "id/events claim", claims: id(map[string]any{"events": map[string]any{bcl: map[string]any{}}}), want: ErrTokenType,
			stricter: "a logout token is not an ID token (Back-Channel Logout 1.0 §2.4)"},
		{name: "id/crit empty", raw: signRS256Raw(t, rsaKey1, `{"alg":"RS256","kid":"k1","crit":[]}`, mustJSON(t, id(nil)), false), want: ErrUnsupportedHeader,
			stricter: "no JWS extension is implemented, so any crit is refused (go-jose accepts crit:[])"},
		{name: "id/sid a number", claims: id(map[string]any{"sid": 7}), want: ErrMalformed,
			stricter: "claim types are checked: sid is a string"},
		{name: "id/google issuer without scheme", issuer: googleIssuer, claims: id(map[string]any{"iss": "accounts.google.com"}), want: ErrIssuer,
			stricter: "iss is compared exactly; go-oidc lets accounts.google.com stand for https://accounts.google.com"},

		// Logout tokens, accepted by both.
		{name: "logout/valid", logout: true, header: diffLogoutHeader, claims: lo(nil)},
		{name: "logout/typ JWT, sid only", logout: true, claims: lo(nil, "sub")},

		// Logout tokens, refused by both.
		{name: "logout/nonce", logout: true, header: diffLogoutHeader, claims: lo(map[string]any{"nonce": "n"}), want: ErrNonce},
		{name: "logout/jti missing", logout: true, header: diffLogoutHeader, claims: lo(nil, "jti"), want: ErrMalformed},
		{name: "logout/events missing", logout: true, header: diffLogoutHeader, claims: lo(nil, "events"), want: ErrMalformed},
		{name: "logout/neither sub nor sid", logout: true, header: diffLogoutHeader, claims: lo(nil, "sub", "sid"), want: ErrSubject},
		{name: "logout/wrong iss", logout: true, header: diffLogoutHeader, claims: lo(map[string]any{"iss": "https://evil.example"}), want: ErrIssuer},
		{name: "logout/expired", logout: true, header: diffLogoutHeader, claims: lo(map[string]any{"exp": now.Add(-time.Hour).Unix()}), want: ErrExpired},
		{name: "logout/exp missing", logout: true, header: diffLogoutHeader, claims: lo(nil, "exp"), want: ErrExpired},

		// Logout tokens ginauth refuses and go-oidc accepts.
		{name: "logout/event null", logout: true, header: diffLogoutHeader, claims: lo(map[string]any{"events": map[string]any{bcl: nil}}), want: ErrMalformed,
			stricter: "the back-channel logout event must be a JSON object (§2.4); go-oidc only wants it present"},
		{name: "logout/event a string", logout: true, header: diffLogoutHeader, claims: lo(map[string]any{"events": map[string]any{bcl: "x"}}), want: ErrMalformed,
			stricter: "the back-channel logout event must be a JSON object (§2.4)"},
		{name: "logout/iat missing", logout: true, header: diffLogoutHeader, claims: lo(nil, "iat"), want: ErrIssuedAt,
			stricter: "iat is REQUIRED (§2.4)"},
		{name: "logout/iat ten minutes old", logout: true, header: diffLogoutHeader, claims: lo(map[string]any{"iat": now.Add(-10 * time.Minute).Unix()}), want: ErrIssuedAt,
			stricter: "a logout token older than DefaultLogoutTokenMaxAge (2 min) is refused: replay window"},
		{name: "logout/extra aud", logout: true, header: diffLogoutHeader, claims: lo(map[string]any{"aud": []string{testClientID, "other"}}), want: ErrAudience,
			stricter: "a single audience only"},
		{name: "logout/sub empty", logout: true, header: diffLogoutHeader, claims: lo(map[string]any{"sub": ""}), want: ErrSubject,
			stricter: "sub, when present, is a non-empty string"},
		{name: "logout/typ at+jwt", logout: true, header: `{"alg":"RS256","kid":"k1","typ":"at+jwt"}`, claims: lo(nil), want: ErrTokenType,
			stricter: "a token explicitly typed as another kind is not a logout token (§2.4)"},
		{name: "logout/crit empty", logout: true, header: `{"alg":"RS256","kid":"k1","typ":"logout+jwt","crit":[]}`, claims: lo(nil), want: ErrUnsupportedHeader,
			stricter: "no JWS extension is implemented, so any crit is refused"},
	}
}

func TestDifferentialGoOIDC(t *testing.T) {
	testKeys(t)
	now := testStart
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	static := &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&rsaKey1.PublicKey}}
	algs := []string{"RS256"}
	ctx := context.Background()

	stricter := 0
	for _, tc := range diffCases(t, now) {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.raw
			if token == "" {
				header := tc.header
				if header == "" {
					header = diffHeader
				}
				token = signRS256Raw(t, rsaKey1, header, mustJSON(t, tc.claims), false)
			}
			issuer := tc.issuer
			if issuer == "" {
				issuer = testIssuer
			}
			plain := oidc.NewVerifier(issuer, static, &oidc.Config{
				ClientID:             testClientID,
				SupportedSigningAlgs: algs,
				Now:                  func() time.Time { return now.Add(-DefaultSkew) },
			})
			var goErr, err error
			if tc.logout {
				_, goErr = plain.VerifyLogout(ctx, token)
				_, err = VerifyLogoutToken(ctx, ks, token, algs, LogoutExpectations{Issuer: issuer, ClientID: testClientID, Now: now})
			} else {
				_, goErr = plain.Verify(ctx, token)
				e := expectations(now)
				e.Issuer = issuer
				_, err = VerifyIDToken(ctx, ks, token, algs, e)
			}
			t.Logf("ginauth: %v; go-oidc: %v", err, goErr)

			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("ginauth refused: %v", err)
			case tc.want != nil && (!errors.Is(err, tc.want) || !errors.Is(err, ErrInvalidToken)):
				t.Fatalf("ginauth: %v, want %v", err, tc.want)
			}
			if err == nil && goErr != nil {
				t.Fatalf("ginauth accepted a token go-oidc refuses: %v", goErr)
			}
			if tc.stricter != "" && goErr != nil {
				t.Fatalf("listed as stricter, but go-oidc refuses too: %v", goErr)
			}
			if tc.stricter == "" && err != nil && goErr == nil {
				t.Fatalf("ginauth refuses (%v) and go-oidc accepts, but the case gives no reason", err)
			}
			if tc.stricter != "" {
				stricter++
			}
		})
	}
	if stricter == 0 {
		t.Fatal("no stricter case ran")
	}
}

// TestVerifyKeysUnavailable: go-oidc turns the key set's error into text;
// VerifyIDToken and VerifyLogoutToken still report ErrKeysUnavailable, not
// a token error.
func TestVerifyKeysUnavailable(t *testing.T) {
	testKeys(t)
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	srv.mode.Store(modeDown)
	ks := newKeySet(srv, newClock(), 5*time.Second)
	ctx := context.Background()
	idTok := signRS256Raw(t, rsaKey1, diffHeader, mustJSON(t, diffIDClaims(testStart, nil)), false)
	_, err := VerifyIDToken(ctx, ks, idTok, []string{"RS256"}, expectations(testStart))
	if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("ID token: %v, want ErrKeysUnavailable only", err)
	}
	loTok := signRS256Raw(t, rsaKey1, diffLogoutHeader, mustJSON(t, diffLogoutClaims(testStart, nil)), false)
	_, err = VerifyLogoutToken(ctx, ks, loTok, []string{"RS256"}, LogoutExpectations{Issuer: testIssuer, ClientID: testClientID, Now: testStart})
	if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("logout token: %v, want ErrKeysUnavailable only", err)
	}
}

// TestVerifyConcurrentReasons: concurrent verifications of good and bad
// tokens through one key set each get their own outcome (the KeySet adapter
// is per call); run with -race.
func TestVerifyConcurrentReasons(t *testing.T) {
	testKeys(t)
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	good := signRS256Raw(t, rsaKey1, diffHeader, mustJSON(t, diffIDClaims(testStart, nil)), false)
	badSig := flipSignatureByte(t, good)
	badIss := signRS256Raw(t, rsaKey1, diffHeader, mustJSON(t, diffIDClaims(testStart, map[string]any{"iss": "https://evil.example"})), false)
	cases := []struct {
		token string
		want  error
	}{{good, nil}, {badSig, ErrBadSignature}, {badIss, ErrIssuer}}
	errs := make(chan error, 300)
	for i := range 300 {
		tc := cases[i%len(cases)]
		go func() {
			_, err := VerifyIDToken(context.Background(), ks, tc.token, []string{"RS256"}, expectations(testStart))
			switch {
			case tc.want == nil && err != nil:
				errs <- err
			case tc.want != nil && !errors.Is(err, tc.want):
				errs <- errors.Join(errors.New("wrong reason"), err)
			default:
				errs <- nil
			}
		}()
	}
	for range 300 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerifyNotBeforeLargeSkew: go-oidc's nbf leeway is 5 minutes from its
// clock, which runs Skew early; with a Skew above 2.5 minutes the nbf
// tolerance is 5m-Skew, and a refusal on that account is ErrExpired.
func TestVerifyNotBeforeLargeSkew(t *testing.T) {
	testKeys(t)
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	ks := newKeySet(srv, newClock(), 5*time.Second)
	e := expectations(testStart)
	e.Skew = 4 * time.Minute
	for _, tc := range []struct {
		nbf  time.Duration
		want error
	}{{30 * time.Second, nil}, {3 * time.Minute, ErrExpired}} {
		payload := mustJSON(t, diffIDClaims(testStart, map[string]any{"nbf": testStart.Add(tc.nbf).Unix()}))
		if _, err := ValidateIDToken(payload, e); err != nil {
			t.Fatalf("nbf +%v: ValidateIDToken: %v", tc.nbf, err)
		}
		token := signRS256Raw(t, rsaKey1, diffHeader, payload, false)
		_, err := VerifyIDToken(context.Background(), ks, token, []string{"RS256"}, e)
		if (tc.want == nil && err != nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Fatalf("nbf +%v: %v, want %v", tc.nbf, err, tc.want)
		}
	}
}
