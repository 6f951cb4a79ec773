package ginauth_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/providers"
)

// Whole-app tests of SECURITY.md rows IT-1..IT-11: the OP misbehaves in its
// ID tokens and the app must refuse the sign-in (302 to
// /auth/signin?error=invalid_id_token, no session, flow consumed) for the
// reason each case names, while the positive controls sign in.

// itCase is one ID token variant. behavior builds the OP's behaviour for the
// app (so it can read the app's clock). reason nil means accepted; otherwise
// the sign-in is refused with invalid_id_token, and reason is the error the
// failing check must report (the code alone is also what any unclassified
// failure becomes).
type itCase struct {
	name     string
	behavior func(a *testApp) ginauthtest.Behavior
	reason   error
}

func itClaims(f func(a *testApp, c map[string]any)) func(a *testApp) ginauthtest.Behavior {
	return func(a *testApp) ginauthtest.Behavior {
		return ginauthtest.Behavior{IDTokenClaims: func(c map[string]any) { f(a, c) }}
	}
}

func itBehavior(b ginauthtest.Behavior) func(a *testApp) ginauthtest.Behavior {
	return func(*testApp) ginauthtest.Behavior { return b }
}

// itRun runs cases one after the other on one app, each with its
// own browser. The OP is told to misbehave only for the token response.
func itRun(t *testing.T, cases []itCase, opts ...appOption) {
	t.Helper()
	a := newTestApp(t, opts...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			b := a.browser()
			f := b.sfBegin()
			bh := tc.behavior(a)
			a.op.SetBehavior(bh)
			defer a.op.SetBehavior(ginauthtest.Behavior{})
			before, userinfo, mark := a.sfTokens(), a.op.Counts().UserInfo, a.failMark()
			r := b.get(f.callback)
			a.sfTokensDelta(before, 1)
			if tc.reason == nil {
				a.sfAccepted(b, r)
				return
			}
			code := "invalid_id_token"
			if errors.Is(tc.reason, providers.ErrUserInfo) {
				code = "invalid_user_info" // the ID token was fine; UserInfo was not
			}
			a.sfRejected(b, r, code)
			a.sfReason(mark, tc.reason)
			if bh.UserInfoSub == "" && a.op.Counts().UserInfo != userinfo {
				t.Fatal("UserInfo called after the ID token was refused")
			}
			a.sfFlowConsumed(b, f)
		})
	}
}

func TestIT1_Issuer(t *testing.T) {
	t.Parallel()
	itRun(t, []itCase{
		{"control", itBehavior(ginauthtest.Behavior{}), nil},
		{"suffix_1", itClaims(func(_ *testApp, c map[string]any) { c["iss"] = c["iss"].(string) + "1" }), oidcjwt.ErrIssuer},
		{"missing", itClaims(func(_ *testApp, c map[string]any) { delete(c, "iss") }), oidcjwt.ErrIssuer},
		{"trailing_slash", itClaims(func(_ *testApp, c map[string]any) { c["iss"] = c["iss"].(string) + "/" }), oidcjwt.ErrIssuer},
		{"case_change", itClaims(func(_ *testApp, c map[string]any) {
			iss := c["iss"].(string)
			c["iss"] = strings.ToUpper(iss[:4]) + iss[4:]
		}), oidcjwt.ErrIssuer},
		{"localhost_for_127", itClaims(func(_ *testApp, c map[string]any) {
			c["iss"] = strings.Replace(c["iss"].(string), "127.0.0.1", "localhost", 1)
		}), oidcjwt.ErrIssuer},
		{"not_a_string", itClaims(func(_ *testApp, c map[string]any) { c["iss"] = []string{c["iss"].(string)} }), oidcjwt.ErrIssuer},
	})
}

func TestIT2_Audience(t *testing.T) {
	t.Parallel()
	itRun(t, []itCase{
		{"control_string", itBehavior(ginauthtest.Behavior{}), nil},
		{"control_single_element_array", itClaims(func(a *testApp, c map[string]any) { c["aud"] = []string{a.op.ClientID()} }), nil},
		{"control_no_azp", itClaims(func(_ *testApp, c map[string]any) { delete(c, "azp") }), nil},
		{"client_id_plus_1", itClaims(func(a *testApp, c map[string]any) { c["aud"] = a.op.ClientID() + "1" }), oidcjwt.ErrAudience},
		{"missing", itClaims(func(_ *testApp, c map[string]any) { delete(c, "aud") }), oidcjwt.ErrAudience},
		{"empty_array", itClaims(func(_ *testApp, c map[string]any) { c["aud"] = []string{} }), oidcjwt.ErrAudience},
		{"extra_audience", itClaims(func(a *testApp, c map[string]any) { c["aud"] = []string{a.op.ClientID(), "other"} }), oidcjwt.ErrAudience},
		{"azp_other", itClaims(func(_ *testApp, c map[string]any) { c["azp"] = "other" }), oidcjwt.ErrAudience},
		{"azp_not_a_string", itClaims(func(a *testApp, c map[string]any) { c["azp"] = []string{a.op.ClientID()} }), oidcjwt.ErrAudience},
	})
}

func TestIT3_Expiry(t *testing.T) {
	t.Parallel()
	itRun(t, []itCase{
		{"control_within_skew", itClaims(func(a *testApp, c map[string]any) {
			c["exp"] = a.clock.Now().Add(-30 * time.Second).Unix()
			c["iat"] = a.clock.Now().Add(-5 * time.Minute).Unix()
		}), nil},
		{"expired_360s", itClaims(func(a *testApp, c map[string]any) { c["exp"] = a.clock.Now().Add(-360 * time.Second).Unix() }), oidcjwt.ErrExpired},
		{"missing", itClaims(func(_ *testApp, c map[string]any) { delete(c, "exp") }), oidcjwt.ErrExpired},
		{"string", itClaims(func(a *testApp, c map[string]any) {
			c["exp"] = a.clock.Now().Add(time.Hour).Format("2006-01-02T15:04:05Z")
		}), oidcjwt.ErrExpired},
		{"numeric_string", itClaims(func(_ *testApp, c map[string]any) { c["exp"] = "99999999999" }), oidcjwt.ErrExpired},
		{"null", itClaims(func(_ *testApp, c map[string]any) { c["exp"] = nil }), oidcjwt.ErrExpired},
		{"huge", itClaims(func(_ *testApp, c map[string]any) { c["exp"] = 1e300 }), oidcjwt.ErrExpired},
	})
}

func TestIT4_IssuedAt(t *testing.T) {
	t.Parallel()
	itRun(t, []itCase{
		{"control_5m_old", itClaims(func(a *testApp, c map[string]any) { c["iat"] = a.clock.Now().Add(-5 * time.Minute).Unix() }), nil},
		{"control_30s_ahead_within_skew", itClaims(func(a *testApp, c map[string]any) { c["iat"] = a.clock.Now().Add(30 * time.Second).Unix() }), nil},
		{"missing", itClaims(func(_ *testApp, c map[string]any) { delete(c, "iat") }), oidcjwt.ErrIssuedAt},
		{"future_600s", itClaims(func(a *testApp, c map[string]any) { c["iat"] = a.clock.Now().Add(600 * time.Second).Unix() }), oidcjwt.ErrIssuedAt},
		{"week_old", itClaims(func(a *testApp, c map[string]any) { c["iat"] = a.clock.Now().Add(-7 * 24 * time.Hour).Unix() }), oidcjwt.ErrIssuedAt},
		{"string", itClaims(func(a *testApp, c map[string]any) { c["iat"] = "now" }), oidcjwt.ErrIssuedAt},
	})
}

func TestIT5_Subject(t *testing.T) {
	t.Parallel()
	itRun(t, []itCase{
		{"control", itBehavior(ginauthtest.Behavior{}), nil},
		{"missing", itClaims(func(_ *testApp, c map[string]any) { delete(c, "sub") }), oidcjwt.ErrSubject},
		{"empty", itClaims(func(_ *testApp, c map[string]any) { c["sub"] = "" }), oidcjwt.ErrSubject},
		{"number", itClaims(func(_ *testApp, c map[string]any) { c["sub"] = 12345 }), oidcjwt.ErrSubject},
		{"null", itClaims(func(_ *testApp, c map[string]any) { c["sub"] = nil }), oidcjwt.ErrSubject},
	})
}

func TestIT6_SignatureByteFlipped(t *testing.T) {
	t.Parallel()
	itRun(t, []itCase{
		{"control", itBehavior(ginauthtest.Behavior{}), nil},
		{"rs256_signature_flipped", itBehavior(ginauthtest.Behavior{CorruptSignature: true}), oidcjwt.ErrBadSignature},
		{"rs256_signature_flipped_no_kid", itBehavior(ginauthtest.Behavior{CorruptSignature: true,
			IDTokenHeader: func(h map[string]any) { delete(h, "kid") }}), oidcjwt.ErrBadSignature},
	})
}

func TestIT7_AlgNone(t *testing.T) {
	t.Parallel()
	itRun(t, []itCase{
		{"alg_none_empty_signature", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgNone}), oidcjwt.ErrAlgorithm},
		{"alg_None_mixed_case", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgNone,
			IDTokenHeader: func(h map[string]any) { h["alg"] = "None" }}), oidcjwt.ErrAlgorithm},
		{"alg_none_no_kid", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgNone,
			IDTokenHeader: func(h map[string]any) { delete(h, "kid") }}), oidcjwt.ErrAlgorithm},
	})
}

func TestIT8_AlgorithmConfusion(t *testing.T) {
	t.Parallel()
	itRun(t, []itCase{
		{"control_rs256", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgRS256}), nil},
		{"hs256_public_key_pem", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgHS256PubPEM}), oidcjwt.ErrAlgorithm},
		{"hs256_public_key_der", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgHS256PubDER}), oidcjwt.ErrAlgorithm},
		{"hs256_public_key_jwk", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgHS256PubJWK}), oidcjwt.ErrAlgorithm},
		{"hs256_client_secret", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgHS256Secret}), oidcjwt.ErrAlgorithm},
		{"es256_instead_of_rs256", itBehavior(ginauthtest.Behavior{IDTokenAlg: ginauthtest.AlgES256Stranger}), oidcjwt.ErrAlgorithm},
		{"rs256_signature_labelled_ps256", itBehavior(ginauthtest.Behavior{
			IDTokenHeader: func(h map[string]any) { h["alg"] = "PS256" }}), oidcjwt.ErrAlgorithm},
	})
}

func itRandomKID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func TestIT9_KeyRotation(t *testing.T) {
	t.Parallel()
	t.Run("rotated_kid_one_refetch_then_random_kids_bounded", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		a.browser().mustSignIn()
		jwks := a.op.Counts().JWKS
		if jwks != 1 {
			t.Fatalf("first sign-in fetched the JWKS %d times", jwks)
		}
		// The OP rotates: the next token carries a kid the app has not seen.
		newKID := a.op.RotateKey()
		b := a.browser()
		f := b.sfBegin()
		a.sfAccepted(b, b.get(f.callback))
		if got := a.op.Counts().JWKS - jwks; got != 1 {
			t.Fatalf("rotation caused %d JWKS fetches, want exactly 1", got)
		}
		if a.op.KeyID() != newKID {
			t.Fatal("the key changed again")
		}
		// 100 tokens with random kids: all refused, refetches bounded to 1/min.
		jwks = a.op.Counts().JWKS
		a.op.SetBehavior(ginauthtest.Behavior{IDTokenHeader: func(h map[string]any) { h["kid"] = itRandomKID() }})
		for i := range 100 {
			if i == 50 {
				// Within the minute after the rotation's refetch: none more.
				if got := a.op.Counts().JWKS - jwks; got > 1 {
					t.Fatalf("50 random kids within a minute caused %d JWKS fetches, want at most 1", got)
				}
				// A minute later (fake clock) one more refetch is allowed.
				a.clock.Advance(61 * time.Second)
				jwks = a.op.Counts().JWKS
			}
			b := a.browser()
			f := b.sfBegin()
			before, mark := a.sfTokens(), a.failMark()
			r := b.get(f.callback)
			a.sfTokensDelta(before, 1)
			a.sfRejected(b, r, "invalid_id_token")
			a.sfReason(mark, oidcjwt.ErrUnknownKey)
		}
		if got := a.op.Counts().JWKS - jwks; got > 1 {
			t.Fatalf("50 random kids within the next minute caused %d JWKS fetches, want at most 1", got)
		}
		// The rotated key still works afterwards, without another fetch.
		a.op.SetBehavior(ginauthtest.Behavior{})
		jwks = a.op.Counts().JWKS
		b = a.browser()
		a.sfAccepted(b, b.get(b.sfBegin().callback))
		if a.op.Counts().JWKS != jwks {
			t.Fatal("a known kid caused a JWKS fetch")
		}
	})
	t.Run("concurrent_callbacks_share_one_refetch", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		a.browser().mustSignIn()
		a.op.RotateKey()
		const n = 8
		bs := make([]*browser, n)
		fs := make([]sfFlow, n)
		for i := range bs {
			bs[i] = a.browser()
			fs[i] = bs[i].sfBegin()
		}
		jwks := a.op.Counts().JWKS
		type answer struct {
			status   int
			location string
			err      error
		}
		answers := make(chan answer, n)
		for i := range bs {
			go func() {
				resp, err := bs[i].single.Get(fs[i].callback)
				if err != nil {
					answers <- answer{err: err}
					return
				}
				resp.Body.Close()
				answers <- answer{status: resp.StatusCode, location: resp.Header.Get("Location")}
			}()
		}
		for range n {
			ans := <-answers
			if ans.err != nil || ans.status != http.StatusFound || ans.location != a.base+"/dashboard" {
				t.Fatalf("concurrent callback: %d %q %v", ans.status, ans.location, ans.err)
			}
		}
		if got := a.op.Counts().JWKS - jwks; got != 1 {
			t.Fatalf("%d concurrent callbacks with a new kid caused %d JWKS fetches, want 1", n, got)
		}
		for _, b := range bs {
			if !b.signedIn() {
				t.Fatal("not signed in")
			}
		}
	})
	t.Run("new_key_added_just_before_signing", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		a.browser().mustSignIn()
		jwks := a.op.Counts().JWKS
		a.op.AddKey() // published and signing at once
		b := a.browser()
		a.sfAccepted(b, b.get(b.sfBegin().callback))
		if got := a.op.Counts().JWKS - jwks; got != 1 {
			t.Fatalf("new key caused %d JWKS fetches, want exactly 1", got)
		}
	})
}

func TestIT10_NoKid(t *testing.T) {
	t.Parallel()
	dropKID := func(h map[string]any) { delete(h, "kid") }
	t.Run("single_key_accepted", func(t *testing.T) {
		t.Parallel()
		itRun(t, []itCase{
			{"no_kid_single_key", itBehavior(ginauthtest.Behavior{IDTokenHeader: dropKID}), nil},
			{"empty_kid_single_key", itBehavior(ginauthtest.Behavior{IDTokenHeader: func(h map[string]any) { h["kid"] = "" }}), nil},
		})
	})
	t.Run("several_keys", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		a.browser().mustSignIn() // caches the first key
		a.op.AddKey()            // the JWKS now has two keys; the new one signs
		// ginauth tries every suitable key (at most 10) when there is no kid.
		a.op.SetBehavior(ginauthtest.Behavior{IDTokenHeader: dropKID})
		b := a.browser()
		a.sfAccepted(b, b.get(b.sfBegin().callback))
		// With several keys and no kid, a bad signature is still refused.
		a.op.SetBehavior(ginauthtest.Behavior{IDTokenHeader: dropKID, CorruptSignature: true})
		b = a.browser()
		f := b.sfBegin()
		mark := a.failMark()
		a.sfRejected(b, b.get(f.callback), "invalid_id_token")
		a.sfReason(mark, oidcjwt.ErrBadSignature)
		a.sfFlowConsumed(b, f)
	})
}

func TestIT11_UserInfoSubAndDiscoveryIssuer(t *testing.T) {
	t.Parallel()
	t.Run("userinfo", func(t *testing.T) {
		t.Parallel()
		itRun(t, []itCase{
			{"control_same_sub", itBehavior(ginauthtest.Behavior{}), nil},
			{"userinfo_sub_differs", itBehavior(ginauthtest.Behavior{UserInfoSub: "mallory"}), providers.ErrUserInfo},
		}, withProvider(func(p *providers.OIDCConfig) { p.UserInfo = true }))
	})
	cases := []struct {
		name string
		iss  func(iss string) string
	}{
		{"discovery_issuer_evil", func(string) string { return "https://evil.example" }},
		{"discovery_issuer_trailing_slash", func(iss string) string { return iss + "/" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t)
			a.op.SetBehavior(ginauthtest.Behavior{DiscoveryIssuer: tc.iss(a.op.Issuer())})
			b := a.browser()
			r := b.get("/auth/signin/test?callbackUrl=%2Fdashboard")
			if r.status != http.StatusServiceUnavailable || r.location() != "" {
				t.Fatalf("start with a mismatched discovery issuer: %d %q", r.status, r.location())
			}
			if len(b.sfFlowCookies()) != 0 || a.op.Counts().Authorize != 0 || a.op.Counts().JWKS != 0 {
				t.Fatal("the provider was used despite its discovery issuer")
			}
			// Still refused later: nothing from that document was kept.
			a.clock.Advance(6 * time.Second)
			if r := b.get("/auth/signin/test"); r.status != http.StatusServiceUnavailable {
				t.Fatalf("second start: %d", r.status)
			}
			if _, err := a.prov.Metadata(t.Context()); !errors.Is(err, providers.ErrIssuerMismatch) {
				t.Fatalf("Metadata: %v, want ErrIssuerMismatch", err)
			}
			a.sfNoSession(b)
			a.sfNoLeaks([]result{r})
		})
	}
}
