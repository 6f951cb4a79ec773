package ginauth_test

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/providers"
)

// Whole-app tests of SECURITY.md rows ST, PK, NO, MX, ER, CD and AV: real
// HTTP through the app and the in-process OP. "Reject" is checked in full:
// the exact answer, no session, no token call after the failing check, the
// flow consumed, nothing secret in logs or responses.

// ---------------------------------------------------------------- State

func TestST1_StateMissingEmptyChangedDuplicated(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	changeOne := func(s string) string {
		c := byte('A')
		if s[0] == 'A' {
			c = 'B'
		}
		return string(c) + s[1:]
	}
	cases := []struct {
		name   string
		mangle func(t *testing.T, cb string) string
		status int    // 302 (redirect to the error page) or the error page's status
		code   string // for 302
	}{
		{"missing", func(t *testing.T, cb string) string { return sfWithoutParam(cb, "state") }, http.StatusFound, "invalid_state"},
		{"empty", func(t *testing.T, cb string) string { return withParam(cb, "state", "") }, http.StatusFound, "invalid_state"},
		{"one_char_changed", func(t *testing.T, cb string) string {
			return withParam(cb, "state", changeOne(sfParam(t, cb, "state")))
		}, http.StatusFound, "invalid_state"},
		{"state_duplicated_same", func(t *testing.T, cb string) string {
			s := url.QueryEscape(sfParam(t, cb, "state"))
			return sfWithRawQuery(cb, "code="+url.QueryEscape(sfParam(t, cb, "code"))+"&state="+s+"&state="+s+"&iss="+url.QueryEscape(sfParam(t, cb, "iss")))
		}, http.StatusBadRequest, ""},
		{"state_duplicated_different", func(t *testing.T, cb string) string {
			s := sfParam(t, cb, "state")
			return sfWithRawQuery(cb, "code="+url.QueryEscape(sfParam(t, cb, "code"))+"&state="+url.QueryEscape(s)+"&state="+url.QueryEscape(changeOne(s))+"&iss="+url.QueryEscape(sfParam(t, cb, "iss")))
		}, http.StatusBadRequest, ""},
		{"state_oversized", func(t *testing.T, cb string) string {
			return withParam(cb, "state", strings.Repeat("A", 100<<10))
		}, http.StatusRequestEntityTooLarge, ""},
		{"code_duplicated", func(t *testing.T, cb string) string {
			return sfWithRawQuery(cb, "code=x&code=y&state="+url.QueryEscape(sfParam(t, cb, "state"))+"&iss="+url.QueryEscape(sfParam(t, cb, "iss")))
		}, http.StatusBadRequest, ""},
		{"iss_duplicated", func(t *testing.T, cb string) string {
			iss := url.QueryEscape(sfParam(t, cb, "iss"))
			return sfWithRawQuery(cb, "code="+url.QueryEscape(sfParam(t, cb, "code"))+"&state="+url.QueryEscape(sfParam(t, cb, "state"))+"&iss="+iss+"&iss="+iss)
		}, http.StatusBadRequest, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			b := a.browser()
			f := b.sfBegin()
			before := a.sfTokens()
			r := b.get(tc.mangle(t, f.callback))
			if tc.status == http.StatusFound {
				a.sfRejected(b, r, tc.code)
			} else {
				a.sfRejectedPage(b, r, tc.status)
			}
			a.sfTokensDelta(before, 0)
			a.sfFlowConsumed(b, f)
		})
	}
}

func TestST2_CallbackReplayAfterSuccess(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name   string
		replay func(a *testApp, victim *browser, f sfFlow) (*browser, result)
	}{
		{"same_browser", func(a *testApp, victim *browser, f sfFlow) (*browser, result) {
			return victim, victim.get(f.callback)
		}},
		{"other_browser", func(a *testApp, _ *browser, f sfFlow) (*browser, result) {
			x := a.browser()
			return x, x.get(f.callback)
		}},
		{"other_browser_with_stolen_flow_cookie", func(a *testApp, _ *browser, f sfFlow) (*browser, result) {
			x := a.browser()
			for _, c := range f.cookies {
				x.setCookie(c.Name, c.Value)
			}
			return x, x.get(f.callback)
		}},
		{"same_browser_with_flow_cookie_replanted", func(a *testApp, victim *browser, f sfFlow) (*browser, result) {
			for _, c := range f.cookies {
				victim.setCookie(c.Name, c.Value)
			}
			return victim, victim.get(f.callback)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			victim := a.browser()
			f := victim.sfBegin()
			a.sfAccepted(victim, victim.get(f.callback))
			sessionBefore := victim.cookie(sfSessionCookie)
			before := a.sfTokens()
			b, r := tc.replay(a, victim, f)
			a.failedWith(r, "invalid_state")
			a.sfNoSessionSetCookie(r)
			a.sfTokensDelta(before, 0)
			a.sfNoLeaks([]result{r})
			if b == victim {
				// The earlier session is untouched; no new one was made.
				if got := victim.cookie(sfSessionCookie); got != sessionBefore {
					t.Fatal("the replay changed the session cookie")
				}
				return
			}
			a.sfNoSession(b)
		})
	}
}

func TestST3_FlowExpiry(t *testing.T) {
	t.Parallel()
	if ginauth.FlowTTL != 10*time.Minute {
		t.Fatalf("FlowTTL = %v, want 10m", ginauth.FlowTTL)
	}
	cases := []struct {
		name  string
		delay time.Duration
		ok    bool
	}{
		{"9m_accepted", 9 * time.Minute, true},
		{"9m59s_accepted", 10*time.Minute - time.Second, true},
		{"10m_rejected", 10 * time.Minute, false},
		{"10m1s_rejected", 10*time.Minute + time.Second, false},
		{"16m_rejected", 16 * time.Minute, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t) // own clock per case
			b := a.browser()
			authURL := b.startSignIn("/dashboard")
			cookies := b.sfFlowCookies()
			a.clock.Advance(tc.delay)
			cb := b.authorize(authURL) // a fresh code: the OP's codes live 60 s
			before := a.sfTokens()
			r := b.get(cb)
			if tc.ok {
				a.sfAccepted(b, r)
				a.sfTokensDelta(before, 1)
				return
			}
			a.sfRejected(b, r, "invalid_state")
			a.sfTokensDelta(before, 0)
			a.sfFlowConsumed(b, sfFlow{authURL: authURL, cookies: cookies})
		})
	}
}

func TestST4_CallbackDeliveredToAnotherBrowser(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name    string
		ownFlow bool // B has started a sign-in of its own
	}{
		{"B_without_flow_cookie", false},
		{"B_with_its_own_flow", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			attacker, victim := a.browser(), a.browser()
			fa := attacker.sfBegin()
			var fb sfFlow
			if tc.ownFlow {
				fb = victim.sfBegin()
			}
			before := a.sfTokens()
			r := victim.get(fa.callback)
			a.sfRejected(victim, r, "invalid_state")
			a.sfTokensDelta(before, 0)
			a.sfNoSession(attacker)
			if tc.ownFlow {
				// An invalid callback consumes the flows the browser carried.
				a.sfFlowConsumed(victim, fb)
			}
		})
	}
}

func TestST5_StateBoundToProvider(t *testing.T) {
	t.Parallel()
	a, ops := sfNewMultiApp(t, "test", "other")
	cases := []struct{ from, to string }{
		{"test", "other"},
		{"other", "test"},
	}
	for _, tc := range cases {
		t.Run(tc.from+"_state_to_"+tc.to+"_callback", func(t *testing.T) {
			a := a.sfIn(t)
			b := a.browser()
			f := b.sfBeginAt(tc.from)
			wrong := strings.Replace(f.callback, "/auth/callback/"+tc.from+"?", "/auth/callback/"+tc.to+"?", 1)
			if wrong == f.callback {
				t.Fatalf("unexpected callback URL %s", f.callback)
			}
			beforeFrom, beforeTo := ops[tc.from].Counts().Token, ops[tc.to].Counts().Token
			r := b.get(wrong)
			a.sfRejected(b, r, "invalid_state")
			if ops[tc.from].Counts().Token != beforeFrom || ops[tc.to].Counts().Token != beforeTo {
				t.Fatal("a token endpoint was called")
			}
			// The flow was consumed: its own callback now fails too.
			r = b.get(f.callback)
			a.sfRejected(b, r, "invalid_state")
			for _, c := range f.cookies {
				b.setCookie(c.Name, c.Value)
			}
			r = b.get(f.callback)
			a.sfRejected(b, r, "invalid_state")
			if ops[tc.from].Counts().Token != beforeFrom || ops[tc.to].Counts().Token != beforeTo {
				t.Fatal("a token endpoint was called")
			}
		})
	}
	t.Run("control_each_provider_signs_in", func(t *testing.T) {
		a := a.sfIn(t)
		for _, name := range []string{"test", "other"} {
			b := a.browser()
			a.sfAccepted(b, b.get(b.sfBeginAt(name).callback))
		}
	})
}

func TestST6_RandomValuesUniqueAndLong(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	// A client without a cookie jar: 1000 flow cookies would otherwise ride
	// along on every request.
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} // #nosec G402 -- the test server's certificate
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const n = 1000
	seen := make(map[string]string, 3*n)
	for i := 0; i < n; i++ {
		resp, err := c.Get(a.base + "/auth/signin/test")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body) // drained, so the connection is reused
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("start %d: status %d", i, resp.StatusCode)
		}
		q, err := url.ParseQuery(strings.SplitN(resp.Header.Get("Location"), "?", 2)[1])
		if err != nil {
			t.Fatal(err)
		}
		if m := q.Get("code_challenge_method"); m != "S256" {
			t.Fatalf("code_challenge_method %q", m)
		}
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			vs := q[k]
			if len(vs) != 1 {
				t.Fatalf("%s appears %d times", k, len(vs))
			}
			v := vs[0]
			if !sfB64url43.MatchString(v) {
				t.Fatalf("%s %q is not 43 base64url characters", k, v)
			}
			if raw, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(raw) != 32 {
				t.Fatalf("%s %q does not decode to 32 bytes", k, v)
			}
			if prev, dup := seen[v]; dup {
				t.Fatalf("value %q repeated (%s and %s)", v, prev, k)
			}
			seen[v] = k
		}
	}
	if len(seen) != 3*n {
		t.Fatalf("%d distinct values, want %d", len(seen), 3*n)
	}
}

// ---------------------------------------------------------------- PKCE

func TestPK1_PKCEOnTheWire(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	verifiers := map[string]bool{}
	for i := range 5 {
		t.Run("flow_"+string(rune('1'+i)), func(t *testing.T) {
			a := a.sfIn(t)
			b := a.browser()
			f := b.sfBegin()
			az := a.op.LastAuthorizeRequest()
			if got := az["code_challenge_method"]; len(got) != 1 || got[0] != "S256" {
				t.Fatalf("code_challenge_method %q, want exactly S256", got)
			}
			challenge := az.Get("code_challenge")
			if len(az["code_challenge"]) != 1 || len(challenge) != 43 || !sfB64url43.MatchString(challenge) {
				t.Fatalf("code_challenge %q", az["code_challenge"])
			}
			if az.Get("response_type") != "code" || az.Get("redirect_uri") != a.base+"/auth/callback/test" {
				t.Fatalf("authorization request %v", az)
			}
			before := a.sfTokens()
			a.sfAccepted(b, b.get(f.callback))
			a.sfTokensDelta(before, 1)
			tok := a.op.LastTokenRequest()
			v := tok.Get("code_verifier")
			if len(tok["code_verifier"]) != 1 || !sfPKCEVerifier.MatchString(v) {
				t.Fatalf("code_verifier %q", tok["code_verifier"])
			}
			sum := sha256.Sum256([]byte(v))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
				t.Fatal("BASE64URL(SHA256(code_verifier)) != code_challenge")
			}
			if tok.Get("grant_type") != "authorization_code" || tok.Get("code") != sfParam(t, f.callback, "code") ||
				tok.Get("redirect_uri") != a.base+"/auth/callback/test" {
				t.Fatalf("token request %v", tok)
			}
			if verifiers[v] {
				t.Fatal("code_verifier reused across flows")
			}
			verifiers[v] = true
		})
	}
}

func TestPK2_VerifierNeverReachesTheBrowser(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name  string
		start func(b *browser) result
	}{
		{"get_start", func(b *browser) result { return b.get("/auth/signin/test?callbackUrl=%2Fdashboard") }},
		{"post_form_start", func(b *browser) result {
			return b.post("/auth/signin/test", url.Values{"csrfToken": {b.csrf()}, "callbackUrl": {"/dashboard"}})
		}},
		{"post_json_start", func(b *browser) result {
			req, _ := http.NewRequest(http.MethodPost, b.abs("/auth/signin/test"),
				strings.NewReader(`{"csrfToken":"`+b.csrf()+`","callbackUrl":"/dashboard"}`))
			req.Header.Set("Content-Type", "application/json")
			return b.do(b.single, req)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			b := a.browser()
			var seen []result
			start := tc.start(b)
			seen = append(seen, start)
			authURL := start.location()
			if strings.HasPrefix(start.body, `{"url":"`) {
				authURL = strings.TrimSuffix(strings.TrimPrefix(start.body, `{"url":"`), `"}`)
				authURL = strings.ReplaceAll(authURL, `\u0026`, "&")
			}
			if !strings.HasPrefix(authURL, a.op.Issuer()+"/authorize?") {
				t.Fatalf("start: %d %q %s", start.status, start.location(), start.body)
			}
			az := b.get(authURL) // the OP's answer: it carries the code, by design
			cb := b.get(az.location())
			seen = append(seen, cb)
			a.sfAccepted(b, cb)
			for _, p := range []string{cb.location(), "/auth/session", "/api/me", "/auth/signin", "/auth/signout", "/auth/csrf"} {
				seen = append(seen, b.get(p))
			}
			v := a.op.LastTokenRequest().Get("code_verifier")
			if v == "" {
				t.Fatal("no code_verifier sent")
			}
			for _, r := range append(seen, az) {
				for k, vs := range r.header {
					for _, hv := range vs {
						if strings.Contains(hv, v) {
							t.Fatalf("header %s of a response holds the verifier", k)
						}
					}
				}
				if strings.Contains(r.body, v) {
					t.Fatal("a response body holds the verifier")
				}
			}
			// Cookie values, also base64-decoded, never hold it in plaintext.
			for _, c := range b.cookies() {
				for _, s := range []string{c.Value, sfDecodeAny(c.Value)} {
					if strings.Contains(s, v) {
						t.Fatalf("cookie %s holds the verifier", c.Name)
					}
				}
			}
			a.sfNoLeaks(seen)
		})
	}
}

func TestPK3_CodeInjection(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name string
	}{
		{"attacker_code_with_victim_state"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			attacker, victim := a.browser(), a.browser()
			fa := attacker.sfBegin() // the attacker's code, bound to the attacker's challenge
			fv := victim.sfBegin()
			injected := withParam(fv.callback, "code", sfParam(t, fa.callback, "code"))
			before := a.sfTokens()
			r := victim.get(injected)
			a.sfRejected(victim, r, "token_exchange")
			a.sfTokensDelta(before, 1) // one redemption, refused with invalid_grant; never retried
			if a.op.LastTokenRequest().Get("code") != sfParam(t, fa.callback, "code") {
				t.Fatal("the injected code was not the one redeemed")
			}
			a.sfNoLeaks([]result{r}, sfParam(t, fa.callback, "code"))
			// The victim's flow is consumed: its genuine callback fails.
			before = a.sfTokens()
			a.sfRejected(victim, victim.get(fv.callback), "invalid_state")
			a.sfTokensDelta(before, 0)
			a.sfFlowConsumed(victim, fv)
			a.sfNoSession(attacker)
		})
	}
}

// ---------------------------------------------------------------- Nonce

func TestNO1_NonceMissingOrWrong(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name   string
		mutate func(c map[string]any)
		ok     bool
	}{
		{"control", func(map[string]any) {}, true},
		{"missing", func(c map[string]any) { delete(c, "nonce") }, false},
		{"sent_plus_1", func(c map[string]any) { c["nonce"] = c["nonce"].(string) + "1" }, false},
		{"empty", func(c map[string]any) { c["nonce"] = "" }, false},
		{"not_a_string", func(c map[string]any) { c["nonce"] = 42 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			a.op.SetBehavior(ginauthtest.Behavior{IDTokenClaims: tc.mutate})
			b := a.browser()
			f := b.sfBegin()
			before, mark := a.sfTokens(), a.failMark()
			r := b.get(f.callback)
			a.sfTokensDelta(before, 1)
			if tc.ok {
				a.sfAccepted(b, r)
				return
			}
			a.sfRejected(b, r, "invalid_id_token")
			a.sfReason(mark, oidcjwt.ErrNonce)
			a.sfFlowConsumed(b, f)
		})
	}
}

func TestNO2_IDTokenReplayedIntoAnotherFlow(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name     string
		complete bool // flow A completed before B's callback
	}{
		{"from_completed_flow", true},
		{"from_pending_flow", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			ba, bb := a.browser(), a.browser()
			fa := ba.sfBegin()
			nonceA := a.op.LastAuthorizeRequest().Get("nonce")
			if nonceA == "" || nonceA != sfParam(t, fa.authURL, "nonce") {
				t.Fatal("could not capture flow A's nonce")
			}
			if tc.complete {
				a.sfAccepted(ba, ba.get(fa.callback))
			}
			fb := bb.sfBegin()
			if sfParam(t, fb.authURL, "nonce") == nonceA {
				t.Fatal("nonce reused")
			}
			// The OP answers B's code with an ID token minted for A's flow.
			a.op.SetBehavior(ginauthtest.Behavior{IDTokenClaims: func(c map[string]any) { c["nonce"] = nonceA }})
			before, mark := a.sfTokens(), a.failMark()
			r := bb.get(fb.callback)
			a.sfTokensDelta(before, 1)
			a.sfRejected(bb, r, "invalid_id_token")
			a.sfReason(mark, oidcjwt.ErrNonce)
			a.sfFlowConsumed(bb, fb)
		})
	}
}

// ---------------------------------------------------------------- Mix-up

func TestMX1_WrongIssInAuthorizationResponse(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name string
		iss  string
	}{
		{"evil_origin", "https://evil.example"},
		{"other_loopback_issuer", "http://127.0.0.1:1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			a.op.SetBehavior(ginauthtest.Behavior{AuthorizeIss: tc.iss})
			b := a.browser()
			f := b.sfBegin()
			if sfParam(t, f.callback, "iss") != tc.iss || !strings.Contains(f.callback, "iss="+url.QueryEscape(tc.iss)) {
				t.Fatalf("callback %s does not carry the encoded iss", f.callback)
			}
			before := a.sfTokens()
			r := b.get(f.callback)
			a.sfRejected(b, r, "issuer_mismatch")
			a.sfTokensDelta(before, 0) // rejected before any token endpoint call
			a.sfFlowConsumed(b, f)
		})
	}
}

func TestMX2_IssParameterPresenceVersusMetadata(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		behavior func(a *testApp) ginauthtest.Behavior
		code     string // "" = accepted
	}{
		{"advertised_and_missing", func(*testApp) ginauthtest.Behavior {
			return ginauthtest.Behavior{OmitAuthorizeIss: true}
		}, "issuer_mismatch"},
		{"advertised_and_present", func(*testApp) ginauthtest.Behavior { return ginauthtest.Behavior{} }, ""},
		// Not advertised: the policy is to compare iss when it is present.
		{"not_advertised_and_missing", func(*testApp) ginauthtest.Behavior {
			return ginauthtest.Behavior{OmitIssParameterSupported: true, OmitAuthorizeIss: true}
		}, ""},
		{"not_advertised_and_correct", func(*testApp) ginauthtest.Behavior {
			return ginauthtest.Behavior{OmitIssParameterSupported: true}
		}, ""},
		{"not_advertised_and_wrong", func(*testApp) ginauthtest.Behavior {
			return ginauthtest.Behavior{OmitIssParameterSupported: true, AuthorizeIss: "https://evil.example"}
		}, "issuer_mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t) // discovery is cached per provider: a fresh app per case
			a.op.SetBehavior(tc.behavior(a))
			b := a.browser()
			f := b.sfBegin()
			before := a.sfTokens()
			r := b.get(f.callback)
			if tc.code == "" {
				a.sfAccepted(b, r)
				a.sfTokensDelta(before, 1)
				return
			}
			a.sfRejected(b, r, tc.code)
			a.sfTokensDelta(before, 0)
			a.sfFlowConsumed(b, f)
		})
	}
}

func TestMX3_IssExactMatchAndSharedIssuer(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name string
		iss  func(iss string) string
	}{
		{"trailing_slash", func(iss string) string { return iss + "/" }},
		{"case_changed", func(iss string) string { return strings.ToUpper(iss[:4]) + iss[4:] }},
		{"suffix", func(iss string) string { return iss + "1" }},
		// The OP encodes iss once more: decoded once, it is still encoded.
		{"still_percent_encoded", func(iss string) string { return url.QueryEscape(iss) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			a.op.SetBehavior(ginauthtest.Behavior{AuthorizeIss: tc.iss(a.op.Issuer())})
			b := a.browser()
			f := b.sfBegin()
			before := a.sfTokens()
			r := b.get(f.callback)
			a.sfRejected(b, r, "issuer_mismatch")
			a.sfTokensDelta(before, 0)
			a.sfFlowConsumed(b, f)
		})
	}
	t.Run("shared_issuer_is_a_config_error", func(t *testing.T) {
		mk := func(name string) providers.Provider {
			p, err := providers.OIDC(providers.OIDCConfig{Name: name, Issuer: a.op.Issuer(), ClientID: "c"})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		_, err := ginauth.New(ginauth.Config{BaseURL: "https://app.example.com", Secrets: [][]byte{testSecret},
			Providers: []providers.Provider{mk("one"), mk("two")}})
		if !errors.Is(err, ginauth.ErrSharedIssuer) || !errors.Is(err, ginauth.ErrInvalidConfig) {
			t.Fatalf("New with a shared issuer: %v, want ErrSharedIssuer", err)
		}
	})
}

// ---------------------------------------------------------------- Provider errors

func TestER1_AccessDenied(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name, description string
	}{
		{"without_description", ""},
		{"with_description", "The user said no"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			a.op.SetBehavior(ginauthtest.Behavior{AuthorizeError: "access_denied", AuthorizeErrorDescription: tc.description})
			b := a.browser()
			f := b.sfBegin()
			if sfParam(t, f.callback, "error") != "access_denied" || sfParam(t, f.callback, "code") != "" {
				t.Fatalf("callback %s", f.callback)
			}
			before := a.sfTokens()
			r := b.get(f.callback)
			a.sfRejected(b, r, "access_denied")
			a.sfTokensDelta(before, 0)
			page := b.get(r.location())
			if page.status != http.StatusOK || !strings.Contains(page.body, "Sign-in was cancelled or refused.") {
				t.Fatalf("sign-in page: %d %s", page.status, page.body)
			}
			if tc.description != "" && strings.Contains(page.body, tc.description) {
				t.Fatal("the provider's description is shown")
			}
			a.sfFlowConsumed(b, f)
		})
	}
}

func TestER2_ErrorNotReflected(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	const errXSS = `<script>alert(1)</script>`
	const descXSS = `<img src=x onerror=alert(1)>`
	cases := []struct {
		name, err, desc string
	}{
		{"script_error", errXSS, descXSS},
		{"quote_breakout", `"><svg onload=alert(1)>`, `'--></style><script>alert(1)</script>`},
	}
	// The page has inline SVG marks of its own: look for the injected one.
	noReflection := func(t *testing.T, body string) {
		t.Helper()
		for _, bad := range []string{"alert(1)", "<script", "onerror", "onload", "&lt;script", "&lt;img", "&lt;svg", "<svg onload"} {
			if strings.Contains(body, bad) {
				t.Fatalf("page reflects %q:\n%s", bad, body)
			}
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			a.op.SetBehavior(ginauthtest.Behavior{AuthorizeError: tc.err, AuthorizeErrorDescription: tc.desc})
			b := a.browser()
			f := b.sfBegin()
			before := a.sfTokens()
			r := b.get(f.callback)
			a.sfRejected(b, r, "provider_error")
			a.sfTokensDelta(before, 0)
			noReflection(t, r.body)
			page := b.get(r.location())
			if page.status != http.StatusOK || !strings.Contains(page.body, "The identity provider could not sign you in.") {
				t.Fatalf("sign-in page: %d %s", page.status, page.body)
			}
			noReflection(t, page.body)
			// The sign-in page itself never reflects its error parameter.
			direct := b.get("/auth/signin?error=" + url.QueryEscape(tc.err) + "&error_description=" + url.QueryEscape(tc.desc))
			if direct.status != http.StatusOK {
				t.Fatalf("sign-in page: %d", direct.status)
			}
			noReflection(t, direct.body)
			a.sfFlowConsumed(b, f)
		})
	}
}

func TestER3_ProviderErrorVariants(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name     string
		behavior ginauthtest.Behavior
		mangle   func(t *testing.T, cb string) string // nil: deliver as is
		code     string
	}{
		{"login_required", ginauthtest.Behavior{AuthorizeError: "login_required"}, nil, "provider_error"},
		{"consent_required", ginauthtest.Behavior{AuthorizeError: "consent_required"}, nil, "provider_error"},
		{"interaction_required", ginauthtest.Behavior{AuthorizeError: "interaction_required"}, nil, "provider_error"},
		{"temporarily_unavailable", ginauthtest.Behavior{AuthorizeError: "temporarily_unavailable"}, nil, "provider_unavailable"},
		{"server_error", ginauthtest.Behavior{AuthorizeError: "server_error"}, nil, "provider_unavailable"},
		{"unknown_error_code", ginauthtest.Behavior{AuthorizeError: "something_else"}, nil, "provider_error"},
		{"error_with_bad_state", ginauthtest.Behavior{AuthorizeError: "access_denied"}, func(t *testing.T, cb string) string {
			return withParam(cb, "state", mutate(sfParam(t, cb, "state")))
		}, "invalid_state"},
		{"error_with_missing_state", ginauthtest.Behavior{AuthorizeError: "access_denied"}, func(t *testing.T, cb string) string {
			return sfWithoutParam(cb, "state")
		}, "invalid_state"},
		// RFC 9207 §2.4: an error is not assumed to come from the intended AS.
		{"error_with_wrong_iss", ginauthtest.Behavior{AuthorizeError: "access_denied", AuthorizeIss: "https://evil.example"}, nil, "issuer_mismatch"},
		{"error_without_iss_when_advertised", ginauthtest.Behavior{AuthorizeError: "access_denied", OmitAuthorizeIss: true}, nil, "issuer_mismatch"},
		{"code_and_error_together", ginauthtest.Behavior{AuthorizeError: "access_denied",
			AuthorizeExtra: url.Values{"code": {"injected-code-value"}}}, nil, "access_denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			a.op.SetBehavior(tc.behavior)
			b := a.browser()
			f := b.sfBegin()
			cb := f.callback
			if tc.mangle != nil {
				cb = tc.mangle(t, cb)
			}
			before := a.sfTokens()
			r := b.get(cb)
			a.sfRejected(b, r, tc.code) // never the stored callbackUrl
			a.sfTokensDelta(before, 0)
			if page := b.get(r.location()); page.status != http.StatusOK {
				t.Fatalf("error page: %d", page.status)
			}
			a.sfFlowConsumed(b, f)
		})
	}
}

// ---------------------------------------------------------------- Code and token endpoint

func TestCD1_CodeRedeemedTwice(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name string
		// second delivers the first sfFlow's code again and returns the browser and answer.
		second func(a *testApp, b *browser, first sfFlow) (*browser, result, sfFlow, int, string)
	}{
		{"replayed_callback_url", func(a *testApp, b *browser, first sfFlow) (*browser, result, sfFlow, int, string) {
			return b, b.get(first.callback), sfFlow{}, 0, "invalid_state"
		}},
		{"code_into_a_new_flow", func(a *testApp, _ *browser, first sfFlow) (*browser, result, sfFlow, int, string) {
			x := a.browser()
			f2 := x.sfBegin()
			return x, x.get(withParam(f2.callback, "code", sfParam(a.t, first.callback, "code"))), f2, 1, "token_exchange"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			b := a.browser()
			first := b.sfBegin()
			before := a.sfTokens()
			a.sfAccepted(b, b.get(first.callback))
			a.sfTokensDelta(before, 1)
			before = a.sfTokens()
			x, r, f2, calls, code := tc.second(a, b, first)
			a.failedWith(r, code)
			a.sfNoSessionSetCookie(r)
			a.sfTokensDelta(before, calls) // the RP never retries a code
			a.sfNoLeaks([]result{r}, sfParam(t, first.callback, "code"))
			if x != b {
				a.sfNoSession(x)
				a.sfFlowConsumed(x, f2)
			}
		})
	}
}

func TestCD2_TokenEndpointResponses(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name     string
		behavior ginauthtest.Behavior
		code     string  // "" = accepted
		reasons  []error // the logged error matches each, and no other reason
	}{
		{"invalid_client_401", ginauthtest.Behavior{TokenStatus: http.StatusUnauthorized, TokenError: "invalid_client"}, "provider_misconfigured",
			[]error{providers.ErrTokenExchange, providers.ErrMisconfigured}},
		{"invalid_grant_400", ginauthtest.Behavior{TokenError: "invalid_grant"}, "token_exchange", []error{providers.ErrTokenExchange}},
		{"server_error_500", ginauthtest.Behavior{TokenStatus: http.StatusInternalServerError}, "provider_unavailable",
			[]error{providers.ErrUnavailable, providers.ErrTokenExchange}},
		{"no_id_token", ginauthtest.Behavior{OmitIDToken: true}, "invalid_id_token", []error{providers.ErrMissingIDToken}},
		{"token_type_mixed_case", ginauthtest.Behavior{TokenType: "bEaReR"}, "", nil},
		{"no_expires_in", ginauthtest.Behavior{OmitExpiresIn: true}, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			a.op.SetBehavior(tc.behavior)
			b := a.browser()
			f := b.sfBegin()
			before, mark := a.sfTokens(), a.failMark()
			r := b.get(f.callback)
			a.sfTokensDelta(before, 1) // exactly one call: never retried
			if tc.code == "" {
				a.sfAccepted(b, r)
				if s := b.get("/auth/session"); !strings.Contains(s.body, `"sub":"alice"`) {
					t.Fatalf("session: %s", s.body)
				}
				return
			}
			a.sfRejected(b, r, tc.code)
			a.sfReason(mark, tc.reasons...)
			page := b.get(r.location())
			if page.status != http.StatusOK {
				t.Fatalf("error page: %d", page.status)
			}
			a.sfNoLeaks([]result{r, page})
			a.sfFlowConsumed(b, f)
		})
	}
}

// ---------------------------------------------------------------- Availability

func TestAV1_TokenEndpointHangs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		timeout time.Duration
	}{
		{"timeout_500ms", 500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, withProvider(func(p *providers.OIDCConfig) { p.Timeout = tc.timeout }))
			b := a.browser()
			f := b.sfBegin()
			a.op.SetBehavior(ginauthtest.Behavior{TokenHang: true})
			before := a.sfTokens()
			start := time.Now()
			r := b.get(f.callback)
			elapsed := time.Since(start)
			a.sfRejected(b, r, "provider_unavailable")
			a.sfTokensDelta(before, 1)
			if elapsed < tc.timeout-50*time.Millisecond || elapsed > tc.timeout+3*time.Second {
				t.Fatalf("callback took %v with a %v timeout", elapsed, tc.timeout)
			}
			a.sfFlowConsumed(b, f)
			// The app gave up on the hanging request: the OP closes without
			// waiting for it (Close waits up to 2 s for busy handlers).
			start = time.Now()
			a.op.Close()
			if d := time.Since(start); d > time.Second {
				t.Fatalf("the OP's hanging token handler was still busy (%v to close)", d)
			}
		})
	}
}

func TestAV2_TokenEndpointGarbage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	cases := []struct {
		name     string
		behavior ginauthtest.Behavior
	}{
		{"html_body", ginauthtest.Behavior{TokenRawBody: []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")}},
		{"truncated_json", ginauthtest.Behavior{TokenRawBody: []byte(`{"access_token":"at-secret","token_type":"Bearer","id_token":"eyJhbGciOiJSUzI1NiJ9.eyJ`)}},
		{"empty_body", ginauthtest.Behavior{TokenRawBody: []byte{}}},
		{"json_array", ginauthtest.Behavior{TokenRawBody: []byte(`[1,2,3]`)}},
		{"status_502", ginauthtest.Behavior{TokenStatus: http.StatusBadGateway}},
		{"status_503", ginauthtest.Behavior{TokenStatus: http.StatusServiceUnavailable, TokenError: "temporarily_unavailable"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := a.sfIn(t)
			b := a.browser()
			f := b.sfBegin()
			a.op.SetBehavior(tc.behavior)
			before := a.sfTokens()
			r := b.get(f.callback)
			a.sfRejected(b, r, "provider_unavailable")
			a.sfTokensDelta(before, 1)
			page := b.get(r.location())
			if page.status != http.StatusOK || !strings.Contains(page.body, "The identity provider is unavailable.") {
				t.Fatalf("error page: %d %s", page.status, page.body)
			}
			a.sfNoLeaks([]result{r, page}, "at-secret")
			a.sfFlowConsumed(b, f)
		})
	}
}

func TestAV3_KeysOrDiscoveryUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("jwks_down_kid_not_cached", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		a.op.SetBehavior(ginauthtest.Behavior{JWKSDown: true})
		b := a.browser()
		f := b.sfBegin()
		before := a.sfTokens()
		r := b.get(f.callback)
		a.sfRejected(b, r, "provider_unavailable")
		a.sfTokensDelta(before, 1)
		if a.op.Counts().JWKS == 0 {
			t.Fatal("the JWKS was never asked for")
		}
		a.sfFlowConsumed(b, f)
	})
	t.Run("jwks_down_rotated_kid", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		a.browser().mustSignIn() // caches the first key
		a.op.RotateKey()
		a.op.SetBehavior(ginauthtest.Behavior{JWKSDown: true})
		b := a.browser()
		f := b.sfBegin()
		r := b.get(f.callback)
		a.sfRejected(b, r, "provider_unavailable") // fail closed
		a.sfFlowConsumed(b, f)
	})
	t.Run("jwks_down_cached_key_keeps_working", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		a.browser().mustSignIn()
		a.op.SetBehavior(ginauthtest.Behavior{JWKSDown: true})
		jwks := a.op.Counts().JWKS
		b := a.browser()
		a.sfAccepted(b, b.get(b.sfBegin().callback))
		if a.op.Counts().JWKS != jwks {
			t.Fatal("a cached key caused a JWKS fetch")
		}
	})
	t.Run("discovery_down_then_back", func(t *testing.T) {
		t.Parallel()
		a := newTestApp(t)
		a.op.SetBehavior(ginauthtest.Behavior{DiscoveryDown: true})
		b := a.browser()
		r := b.get("/auth/signin/test?callbackUrl=%2Fdashboard")
		if r.status != http.StatusServiceUnavailable || r.location() != "" ||
			!strings.Contains(r.body, "The identity provider is unavailable.") {
			t.Fatalf("start with discovery down: %d %q %s", r.status, r.location(), r.body)
		}
		if len(b.sfFlowCookies()) != 0 || a.op.Counts().Authorize != 0 {
			t.Fatal("a flow was started against an unvalidated provider")
		}
		a.sfNoLeaks([]result{r})
		// Back up: the failure is remembered for 5 s, then discovery is retried.
		a.op.SetBehavior(ginauthtest.Behavior{})
		discovery := a.op.Counts().Discovery
		if r := b.get("/auth/signin/test"); r.status != http.StatusServiceUnavailable {
			t.Fatalf("within the retry window: %d", r.status)
		}
		if a.op.Counts().Discovery != discovery {
			t.Fatal("discovery refetched within the retry window")
		}
		a.clock.Advance(6 * time.Second)
		b.mustSignIn()
	})
}

// ---------------------------------------------------------------- helpers

// Helpers of the SECURITY.md flow and ID token tests (this file and
// security_idtoken_test.go). Names start with sf to stay clear of the
// helpers of other test files.

// The cookie names of the app served over TLS (__Host- prefix).
const (
	sfSessionCookie    = "__Host-ginauth"
	sfFlowCookiePrefix = "__Secure-ginauth-flow-"
)

// sfB64url43 matches 32 random bytes in unpadded base64url.
var sfB64url43 = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// sfJWT matches the start of a compact JWS with a JSON header.
var sfJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.`)

// sfRandomRun matches a long base64url run, as random tokens are.
var sfRandomRun = regexp.MustCompile(`[A-Za-z0-9_-]{40,}`)

// sfPKCEVerifier is the RFC 7636 §4.1 code_verifier syntax.
var sfPKCEVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// sfIn returns a view of the app whose assertions report to t, for use
// inside subtests (the harness helpers call a.t.Fatalf, which must be the
// running test).
func (a *testApp) sfIn(t *testing.T) *testApp {
	c := *a
	c.t = t
	return &c
}

func (a *testApp) sfTokens() int { return a.op.Counts().Token }

// sfFlow is one started sign-in: the authorization request, the browser's
// flow cookies right after the start, and the callback URL the OP answered
// with (not yet visited).
type sfFlow struct {
	authURL  string
	callback string
	cookies  []*http.Cookie
}

// sfBegin starts a sign-in at provider "test" and lets the OP authorize it.
func (b *browser) sfBegin() sfFlow {
	b.t.Helper()
	f := sfFlow{authURL: b.startSignIn("/dashboard")}
	f.cookies = b.sfFlowCookies()
	f.callback = b.authorize(f.authURL)
	return f
}

// sfBeginAt starts a sign-in at the named provider.
func (b *browser) sfBeginAt(provider string) sfFlow {
	b.t.Helper()
	r := b.get("/auth/signin/" + provider + "?callbackUrl=%2Fdashboard")
	if r.status != http.StatusFound {
		b.t.Fatalf("signin/%s: status %d, body %s", provider, r.status, r.body)
	}
	f := sfFlow{authURL: r.location()}
	f.cookies = b.sfFlowCookies()
	f.callback = b.authorize(f.authURL)
	return f
}

func (b *browser) sfFlowCookies() []*http.Cookie {
	var out []*http.Cookie
	for _, c := range b.cookies() {
		if strings.HasPrefix(c.Name, sfFlowCookiePrefix) {
			out = append(out, c)
		}
	}
	return out
}

// sfParam returns one query parameter of rawURL.
func sfParam(t *testing.T, rawURL, key string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	return u.Query().Get(key)
}

// sfWithRawQuery replaces the query of rawURL verbatim.
func sfWithRawQuery(rawURL, rawQuery string) string {
	u, _ := url.Parse(rawURL)
	u.RawQuery = rawQuery
	return u.String()
}

// sfWithoutParam removes key from the query of rawURL.
func sfWithoutParam(rawURL, key string) string {
	u, _ := url.Parse(rawURL)
	q := u.Query()
	q.Del(key)
	u.RawQuery = q.Encode()
	return u.String()
}

// sfNoSession asserts the browser is signed out and holds no session cookie.
func (a *testApp) sfNoSession(b *browser) {
	a.t.Helper()
	if b.signedIn() {
		a.t.Fatal("a session exists after a rejected sign-in")
	}
	for _, c := range b.cookies() {
		if c.Name == sfSessionCookie || strings.HasPrefix(c.Name, sfSessionCookie+".") {
			a.t.Fatalf("the jar holds session cookie %s", c.Name)
		}
	}
}

// sfNoSessionSetCookie asserts r set no session cookie with a value.
func (a *testApp) sfNoSessionSetCookie(r result) {
	a.t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if (c.Name == sfSessionCookie || strings.HasPrefix(c.Name, sfSessionCookie+".")) && c.Value != "" {
			a.t.Fatalf("response sets session cookie %s", c.Name)
		}
	}
}

// sfRejected asserts a callback response redirected (302) to the sign-in
// page with code, created no session, and leaked nothing.
func (a *testApp) sfRejected(b *browser, r result, code string) {
	a.t.Helper()
	a.failedWith(r, code)
	if strings.Contains(r.location(), "/dashboard") {
		a.t.Fatalf("rejected callback sent the user to the stored callbackUrl: %s", r.location())
	}
	a.sfNoSessionSetCookie(r)
	a.sfNoSession(b)
	a.sfNoLeaks([]result{r})
}

// sfRejectedPage asserts a callback answered status with an error page (no
// redirect), created no session, and leaked nothing.
func (a *testApp) sfRejectedPage(b *browser, r result, status int) {
	a.t.Helper()
	if r.status != status || r.location() != "" {
		a.t.Fatalf("want %d error page, got %d %q body %q", status, r.status, r.location(), r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		a.t.Fatalf("error page content type %q", ct)
	}
	a.sfNoSessionSetCookie(r)
	a.sfNoSession(b)
	a.sfNoLeaks([]result{r})
}

// sfAccepted asserts a callback signed the user in and sent them to /dashboard.
func (a *testApp) sfAccepted(b *browser, r result) {
	a.t.Helper()
	if r.status != http.StatusFound || r.location() != a.base+"/dashboard" {
		a.t.Fatalf("want 302 to /dashboard, got %d %q body %q\nlogs: %s", r.status, r.location(), r.body, a.logs.String())
	}
	if !b.signedIn() {
		a.t.Fatal("not signed in after an accepted callback")
	}
	a.sfNoLeaks([]result{r, b.get("/auth/session")})
}

// sfTokensDelta asserts the OP's token endpoint was called exactly want
// times since before.
func (a *testApp) sfTokensDelta(before, want int) {
	a.t.Helper()
	if got := a.sfTokens() - before; got != want {
		a.t.Fatalf("token endpoint called %d times, want %d", got, want)
	}
}

// sfFlowConsumed asserts f can no longer complete: with the OP behaving
// again, the same authorization request gets a fresh, valid code for the
// same state, and the callback still fails with invalid_state, without any
// token call, even with the flow cookies captured at the start planted back
// in the jar.
func (a *testApp) sfFlowConsumed(b *browser, f sfFlow) {
	a.t.Helper()
	a.op.SetBehavior(ginauthtest.Behavior{})
	for _, c := range f.cookies {
		b.setCookie(c.Name, c.Value)
	}
	cb := b.authorize(f.authURL)
	before := a.sfTokens()
	r := b.get(cb)
	a.failedWith(r, "invalid_state")
	a.sfTokensDelta(before, 0)
	a.sfNoSession(b)
}

// sfNoLeaks asserts that neither the logs nor the responses hold the client
// secret, an ID token, or the code and verifier of the last token request
// (nor any of extra).
func (a *testApp) sfNoLeaks(rs []result, extra ...string) {
	a.t.Helper()
	secrets := append([]string{a.op.ClientSecret()}, extra...)
	if tr := a.op.LastTokenRequest(); tr != nil {
		secrets = append(secrets, tr.Get("code"), tr.Get("code_verifier"))
	}
	logs := a.logs.String()
	if sfJWT.MatchString(logs) {
		a.t.Fatalf("logs hold a JWT: %s", logs)
	}
	// Codes, states, verifiers, access and refresh tokens are long random
	// base64url strings: none may be logged.
	for _, m := range sfRandomRun.FindAllString(logs, -1) {
		if strings.ContainsAny(m, "0123456789") && strings.ToLower(m) != m && strings.ToUpper(m) != m {
			a.t.Fatalf("logs hold a random token %q: %s", m, logs)
		}
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logs, s) {
			a.t.Fatalf("logs hold a secret value %q: %s", s, logs)
		}
		for _, r := range rs {
			if strings.Contains(r.body, s) || strings.Contains(r.location(), s) {
				a.t.Fatalf("response holds a secret value %q: %d %q %s", s, r.status, r.location(), r.body)
			}
		}
	}
	for _, r := range rs {
		if sfJWT.MatchString(r.body) {
			a.t.Fatalf("response body holds a JWT: %s", r.body)
		}
	}
}

// sfNewMultiApp starts an app with one provider per name, each with its own
// in-process OP sharing the app's clock. The first is a.op/a.prov.
func sfNewMultiApp(t *testing.T, names ...string) (*testApp, map[string]*ginauthtest.Provider) {
	t.Helper()
	a := &testApp{t: t, clock: newClock(), logs: &syncBuffer{}, failures: &signInFailures{}}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.router.ServeHTTP(w, r)
	}))
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	a.base = a.srv.URL
	ops := make(map[string]*ginauthtest.Provider, len(names))
	var provs []providers.Provider
	for i, name := range names {
		op, err := ginauthtest.Start(ginauthtest.Options{Now: a.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(op.Close)
		p, err := providers.OIDC(providers.OIDCConfig{
			Name: name, Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(),
			Now: a.clock.Now, Scopes: []string{"profile", "email"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			a.op, a.prov = op, p
		}
		ops[name] = op
		provs = append(provs, p)
	}
	var err error
	a.auth, err = ginauth.New(ginauth.Config{
		BaseURL:   a.base,
		Secrets:   [][]byte{testSecret},
		Providers: provs,
		Logger:    newCaptureLogger(a.logs, a.failures),
		Now:       a.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.router = a.routes()
	return a, ops
}

// sfDecodeAny base64-decodes s with the URL or standard alphabet, or returns "".
func sfDecodeAny(s string) string {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b)
		}
	}
	return ""
}
