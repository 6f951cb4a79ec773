package ginauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/internal/oidcjwt"
	"github.com/ginauth/ginauth/providers"
)

// Back-channel logout (SECURITY.md BC-1..BC-6, LM-2 for logout_token),
// SignOutUser, and the replay of a signed-out cookie (TM-4).

const (
	backChannelPath  = "/auth/backchannel-logout/test"
	backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"
)

// postLogoutToken posts logout_token from a client without cookies, as the
// OP does.
func (l *lcApp) postLogoutToken(t *testing.T, token string) result {
	t.Helper()
	return l.browserT(t).post(backChannelPath, url.Values{"logout_token": {token}})
}

// logoutClaims are the claims of a valid logout token for sub and sid.
func (l *lcApp) logoutClaims(sub, sid string) map[string]any {
	now := l.clock.Now()
	c := map[string]any{
		"iss":    l.op.Issuer(),
		"aud":    l.op.ClientID(),
		"iat":    now.Unix(),
		"exp":    now.Add(2 * time.Minute).Unix(),
		"jti":    "jti-" + sid + sub + now.Format(time.RFC3339Nano),
		"events": map[string]any{backChannelEvent: map[string]any{}},
	}
	if sub != "" {
		c["sub"] = sub
	}
	if sid != "" {
		c["sid"] = sid
	}
	return c
}

// threeSessions signs in alice twice (two browsers, two provider sessions)
// and bob once.
func (l *lcApp) threeSessions(t *testing.T) (alice1, alice2, bob *browser) {
	t.Helper()
	alice1, alice2, bob = l.signInLC(t, "alice"), l.signInLC(t, "alice"), l.signInLC(t, "bob")
	s1, s2 := alice1.session(), alice2.session()
	if s1.SID == "" || s2.SID == "" || s1.SID == s2.SID {
		t.Fatalf("provider session IDs %q and %q: want two different ones", s1.SID, s2.SID)
	}
	return alice1, alice2, bob
}

// wantOK checks an exact 200 with Cache-Control: no-store.
func wantBackChannelOK(t *testing.T, r result) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("back-channel logout: %d %s, want exactly 200", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// TestBC1_LogoutBySID: a valid logout token with the sid of one session
// ends that session at once, leaves the others alone, and answers exactly
// 200 with no-store; the same token re-sent is 200 and changes nothing.
func TestBC1_LogoutBySID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		token func(l *lcApp, sid string) string
		sc    storeCase
	}{
		{"sid only, from the OP", func(l *lcApp, sid string) string { return l.op.LogoutToken("", sid) }, storeCases[0]},
		{"sid only, memory store", func(l *lcApp, sid string) string { return l.op.LogoutToken("", sid) }, storeCases[1]},
		{"sub and sid, from the OP", func(l *lcApp, sid string) string { return l.op.LogoutToken("alice", sid) }, storeCases[0]},
		{"aud as a one-element array, no typ", func(l *lcApp, sid string) string {
			c := l.logoutClaims("alice", sid)
			c["aud"] = []string{l.op.ClientID()}
			return l.op.SignJWT(map[string]any{"typ": nil}, c) // typ JWT is refused (BC-6)
		}, storeCases[0]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycleAppWith(t, tc.sc)
			alice1, alice2, bob := l.threeSessions(t)
			captured := alice1.cookieHeader()
			tok := tc.token(l, alice1.session().SID)

			r := l.postLogoutToken(t, tok)
			wantBackChannelOK(t, r)
			if len(r.header.Values("Set-Cookie")) != 0 {
				t.Errorf("the logout answer sets cookies: %v", r.header.Values("Set-Cookie"))
			}
			if alice1.signedIn() {
				t.Error("the logged-out session is still accepted")
			}
			l.wantAnonymous(t, captured)
			if !alice2.signedIn() || !bob.signedIn() {
				t.Error("another session ended")
			}
			l.wantStored(t, "alice", 1)
			// The same token again: 200, idempotent.
			wantBackChannelOK(t, l.postLogoutToken(t, tok))
			if !alice2.signedIn() || !bob.signedIn() {
				t.Error("the replay ended another session")
			}
			// A new sign-in in that browser works (new provider session).
			alice1.mustSignIn()
		})
	}
}

// TestBC_InvalidLogoutTokens (BC-2..BC-5, BC-6 first half): every invalid
// logout token answers 400 and ends nothing.
func TestBC_InvalidLogoutTokens(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t)
	alice, _, bob := l.threeSessions(t)
	sid := alice.session().SID
	valid := func(mutate func(c map[string]any)) func() string {
		return func() string {
			c := l.logoutClaims("alice", sid)
			mutate(c)
			return l.op.SignJWT(map[string]any{"typ": "logout+jwt"}, c)
		}
	}
	withHeader := func(h map[string]any) func() string {
		return func() string { return l.op.SignJWT(h, l.logoutClaims("alice", sid)) }
	}
	cases := []struct {
		row, name string
		token     func() string
		want      error // what the provider's VerifyLogoutToken reports
	}{
		{"BC-2", "events missing", valid(func(c map[string]any) { delete(c, "events") }), providers.ErrTokenMalformed},
		{"BC-2", "wrong event", valid(func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/foobar": map[string]any{}}
		}), providers.ErrTokenMalformed},
		{"BC-2", "events is x", valid(func(c map[string]any) { c["events"] = "x" }), providers.ErrTokenMalformed},
		{"BC-2", "event value is x", valid(func(c map[string]any) { c["events"] = map[string]any{backChannelEvent: "x"} }), providers.ErrTokenMalformed},
		{"BC-2", "event value is null", valid(func(c map[string]any) { c["events"] = map[string]any{backChannelEvent: nil} }), providers.ErrTokenMalformed},
		{"BC-2", "events is an array", valid(func(c map[string]any) { c["events"] = []string{backChannelEvent} }), providers.ErrTokenMalformed},
		{"BC-3", "nonce present", valid(func(c map[string]any) { c["nonce"] = "n" }), providers.ErrTokenNonce},
		{"BC-3", "neither sub nor sid", valid(func(c map[string]any) { delete(c, "sub"); delete(c, "sid") }), providers.ErrTokenSubject},
		{"BC-3", "empty sub and sid", valid(func(c map[string]any) { c["sub"] = ""; c["sid"] = "" }), providers.ErrTokenSubject},
		{"BC-4", "alg none", withHeader(map[string]any{"alg": "none"}), providers.ErrTokenSignature},
		{"BC-4", "ES256 where RS256 is expected", withHeader(map[string]any{"alg": "ES256"}), providers.ErrTokenSignature},
		{"BC-4", "HS256 with the client secret", withHeader(map[string]any{"alg": "HS256"}), providers.ErrTokenSignature},
		{"BC-4", "bad signature", func() string { return flipSignature(l.op.LogoutToken("alice", sid)) }, providers.ErrTokenSignature},
		{"BC-4", "unknown kid", withHeader(map[string]any{"kid": "no-such-key"}), providers.ErrTokenSignature},
		{"BC-5", "iss plus 1", valid(func(c map[string]any) { c["iss"] = c["iss"].(string) + "1" }), providers.ErrTokenIssuer},
		{"BC-5", "aud plus 1", valid(func(c map[string]any) { c["aud"] = c["aud"].(string) + "1" }), providers.ErrTokenAudience},
		{"BC-5", "another audience too", valid(func(c map[string]any) { c["aud"] = []string{l.op.ClientID(), "other"} }), providers.ErrTokenAudience},
		{"BC-5", "exp in the past", valid(func(c map[string]any) { c["exp"] = l.clock.Now().Add(-2 * time.Minute).Unix() }), providers.ErrTokenExpired},
		{"BC-5", "exp missing", valid(func(c map[string]any) { delete(c, "exp") }), providers.ErrTokenExpired},
		{"BC-5", "iat missing", valid(func(c map[string]any) { delete(c, "iat") }), providers.ErrTokenIssuedAt},
		{"BC-5", "iat too old", valid(func(c map[string]any) { c["iat"] = l.clock.Now().Add(-time.Hour).Unix() }), providers.ErrTokenIssuedAt},
		{"BC-5", "iat in the future", valid(func(c map[string]any) { c["iat"] = l.clock.Now().Add(time.Hour).Unix() }), providers.ErrTokenIssuedAt},
		{"BC-5", "jti missing", valid(func(c map[string]any) { delete(c, "jti") }), providers.ErrTokenMalformed},
		{"BC-6", "an ID token", func() string { return l.op.SignJWT(nil, l.op.IDTokenClaims("alice", "some-nonce")) }, providers.ErrTokenMalformed},
		{"BC-6", "an ID token without nonce (as from a refresh)", func() string {
			c := l.op.IDTokenClaims("alice", "")
			c["sid"] = sid
			return l.op.SignJWT(nil, c)
		}, providers.ErrTokenMalformed},
		{"BC-4", "empty crit", withHeader(map[string]any{"typ": "logout+jwt", "crit": []string{}}), providers.ErrTokenHeader},
		{"BC-6", "typ id_token+jwt", withHeader(map[string]any{"typ": "id_token+jwt"}), providers.ErrTokenType},
		{"BC-6", "typ at+jwt", withHeader(map[string]any{"typ": "at+jwt"}), providers.ErrTokenType},
		{"malformed", "not a JWT", func() string { return "not-a-jwt" }, providers.ErrTokenMalformed},
		{"malformed", "payload not JSON", func() string {
			parts := strings.Split(l.op.LogoutToken("alice", sid), ".")
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("not json")) + "." + parts[2]
		}, providers.ErrTokenSignature},
	}
	for _, tc := range cases {
		t.Run(tc.row+" "+tc.name, func(t *testing.T) {
			tok := tc.token()
			_, err := l.prov.VerifyLogoutToken(context.Background(), tok)
			if !errors.Is(err, providers.ErrInvalidLogoutToken) || !errors.Is(err, providers.ErrInvalidToken) || !errors.Is(err, tc.want) {
				t.Errorf("VerifyLogoutToken: %v, want ErrInvalidLogoutToken and %v", err, tc.want)
			}
			r := l.postLogoutToken(t, tok)
			if r.status != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", r.status, r.body)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if !alice.signedIn() || !bob.signedIn() {
				t.Fatal("an invalid logout token ended a session")
			}
		})
	}
	// Malformed requests.
	reqs := []struct {
		name  string
		path  string
		ctype string
		body  string
	}{
		{"no logout_token", backChannelPath, "application/x-www-form-urlencoded", "foo=bar"},
		{"empty logout_token", backChannelPath, "application/x-www-form-urlencoded", "logout_token="},
		{"two logout_tokens", backChannelPath, "application/x-www-form-urlencoded",
			url.Values{"logout_token": {l.op.LogoutToken("alice", sid), l.op.LogoutToken("alice", sid)}}.Encode()},
		{"token in the query, not the body", backChannelPath + "?logout_token=" + l.op.LogoutToken("alice", sid), "application/x-www-form-urlencoded", ""},
		{"JSON body", backChannelPath, "application/json", `{"logout_token":"` + l.op.LogoutToken("alice", sid) + `"}`},
		{"unknown provider", "/auth/backchannel-logout/nope", "application/x-www-form-urlencoded",
			url.Values{"logout_token": {l.op.LogoutToken("alice", sid)}}.Encode()},
	}
	for _, tc := range reqs {
		t.Run(tc.name, func(t *testing.T) {
			r := l.browserT(t).send(http.MethodPost, tc.path, strings.NewReader(tc.body), "Content-Type", tc.ctype)
			if r.status != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", r.status, r.body)
			}
			if !alice.signedIn() || !bob.signedIn() {
				t.Fatal("a malformed request ended a session")
			}
		})
	}
	// GET is not a logout.
	if r := l.browserT(t).get(backChannelPath + "?logout_token=" + l.op.LogoutToken("alice", sid)); r.status == http.StatusOK {
		t.Errorf("GET answered 200")
	}
	// Control: the valid token for the same session works.
	wantBackChannelOK(t, l.postLogoutToken(t, l.op.LogoutToken("alice", sid)))
	if alice.signedIn() {
		t.Error("control: the valid token did not end the session")
	}
}

// flipSignature changes one byte of a JWT's signature.
func flipSignature(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	sig[len(sig)/2] ^= 0xff
	return tok[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// TestBC6_LogoutTokenAsIDToken: a logout token fed to the callback as an ID
// token (events, no nonce) is not a sign-in.
func TestBC6_LogoutTokenAsIDToken(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t)
	l.op.SetBehavior(ginauthtest.Behavior{
		IDTokenHeader: func(h map[string]any) { h["typ"] = "logout+jwt" },
		IDTokenClaims: func(c map[string]any) {
			delete(c, "nonce")
			delete(c, "auth_time")
			c["jti"] = "logout-jti"
			c["events"] = map[string]any{backChannelEvent: map[string]any{}}
		},
	})
	b := l.browserT(t)
	mark := l.failMark()
	r := b.signIn()
	l.failedWith(r, "invalid_id_token")
	// The check that refuses it: an ID token never carries the
	// back-channel events claim (it would fail on the missing nonce next).
	l.sfReason(mark, oidcjwt.ErrTokenType)
	if b.signedIn() {
		t.Fatal("signed in with a logout token")
	}
}

// TestBC6_LogoutBySubject: a logout token with sub only ends every session
// of (issuer, sub): both of alice's browsers, not bob's. A new sign-in of
// alice afterwards works, also within the same second.
func TestBC6_LogoutBySubject(t *testing.T) {
	t.Parallel()
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			testLogoutBySubject(t, sc)
		})
	}
}

func testLogoutBySubject(t *testing.T, sc storeCase) {
	l := newLifecycleAppWith(t, sc)
	alice1, alice2, bob := l.threeSessions(t)
	captured1, captured2 := alice1.cookieHeader(), alice2.cookieHeader()
	wantBackChannelOK(t, l.postLogoutToken(t, l.op.LogoutToken("alice", "")))
	if alice1.signedIn() || alice2.signedIn() {
		t.Fatal("a session of alice survived")
	}
	l.wantAnonymous(t, captured1)
	l.wantAnonymous(t, captured2)
	if !bob.signedIn() {
		t.Fatal("bob's session ended")
	}
	l.wantStored(t, "alice", 0)
	l.wantStored(t, "bob", 1)
	// A new sign-in 1 ms later (creation times are kept to the
	// millisecond) works and keeps working.
	l.clock.Advance(time.Millisecond)
	alice1.mustSignIn()
	l.clock.Advance(20 * time.Minute) // within the idle timeout
	if !alice1.signedIn() {
		t.Fatal("the new session of alice is refused later")
	}
	// Another logout of alice, 1 ms or more after that sign-in, ends it.
	l.clock.Advance(time.Millisecond)
	alice2.mustSignIn()
	l.clock.Advance(time.Millisecond)
	wantBackChannelOK(t, l.postLogoutToken(t, l.op.LogoutToken("alice", "")))
	if alice1.signedIn() || alice2.signedIn() {
		t.Fatal("a session of alice survived the second logout")
	}
	if !bob.signedIn() {
		t.Fatal("bob's session ended")
	}
}

// TestSignOutUser: ends every session of a user, leaves the others alone,
// and lets the user sign in again.
func TestSignOutUser(t *testing.T) {
	t.Parallel()
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			testSignOutUser(t, sc)
		})
	}
}

func testSignOutUser(t *testing.T, sc storeCase) {
	l := newLifecycleAppWith(t, sc)
	alice1, alice2, bob := l.threeSessions(t)
	captured := alice1.cookieHeader()
	ctx := context.Background()
	if err := l.auth.SignOutUser(ctx, "nope", "alice"); !errors.Is(err, ginauth.ErrUnknownProvider) {
		t.Errorf("unknown provider: err %v, want ErrUnknownProvider", err)
	}
	if err := l.auth.SignOutUser(ctx, "test", ""); err == nil {
		t.Error("empty subject accepted")
	}
	if !alice1.signedIn() || !alice2.signedIn() {
		t.Fatal("a refused call ended sessions")
	}
	if err := l.auth.SignOutUser(ctx, "test", "alice"); err != nil {
		t.Fatalf("SignOutUser: %v", err)
	}
	if alice1.signedIn() || alice2.signedIn() {
		t.Fatal("a session of alice survived")
	}
	l.wantAnonymous(t, captured)
	if !bob.signedIn() {
		t.Fatal("bob's session ended")
	}
	l.wantStored(t, "alice", 0)
	// Signing in again 1 ms later works; signing out
	// everywhere again 1 ms after that ends that session too.
	l.clock.Advance(time.Millisecond)
	alice2.mustSignIn()
	l.wantStored(t, "alice", 1)
	l.clock.Advance(time.Millisecond)
	if err := l.auth.SignOutUser(ctx, "test", "alice"); err != nil {
		t.Fatal(err)
	}
	if alice2.signedIn() {
		t.Fatal("the second sign-out-everywhere missed a session")
	}
	l.clock.Advance(time.Millisecond)
	alice2.mustSignIn()
	if err := l.auth.SignOutUser(ctx, "test", "nobody"); err != nil {
		t.Errorf("unknown subject: %v", err)
	}
	if !alice2.signedIn() || !bob.signedIn() {
		t.Error("signing out nobody ended sessions")
	}
}

// TestTM4_ReplayAfterSignOut: the session cookie captured before sign-out
// is refused afterwards (the cookie store's revocation list).
func TestTM4_ReplayAfterSignOut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		revoke bool
		sc     storeCase
	}{
		{"sign-out", false, storeCases[0]},
		{"sign-out with revokeToken", true, storeCases[0]},
		{"sign-out, memory store", false, storeCases[1]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLifecycleAppWith(t, tc.sc)
			b := l.signInLC(t, "alice")
			other := l.signInLC(t, "alice")
			captured := b.cookieHeader()
			r := b.signOut(tc.revoke, "/")
			if r.status != http.StatusSeeOther {
				t.Fatalf("sign-out: %d", r.status)
			}
			l.wantAnonymous(t, captured)
			if r := l.anonGet(t, "/api/token", captured); r.status != http.StatusUnauthorized {
				t.Errorf("/api/token with the captured cookie: %d", r.status)
			}
			if !other.signedIn() {
				t.Error("the user's other session ended")
			}
			l.wantStored(t, "alice", 1)
		})
	}
}

// TestLM2_OversizedLogoutToken: an absurd logout_token or body is refused
// fast, before any parsing of the token.
func TestLM2_OversizedLogoutToken(t *testing.T) {
	t.Parallel()
	l := newLifecycleApp(t)
	alice := l.signInLC(t, "alice")
	dots := "logout_token=" + strings.Repeat(".", 1_000_000)
	cases := []struct {
		name string
		body string
		want []int
	}{
		{"1,000,000 dots", dots, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}},
		{"60,000 dots (under the body cap)", "logout_token=" + strings.Repeat(".", 60_000), []int{http.StatusBadRequest}},
		{"token over its own cap", "logout_token=" + strings.Repeat("a", 17<<10), []int{http.StatusBadRequest}},
		{"5 MB body", "logout_token=x&pad=" + strings.Repeat("a", 5<<20), []int{http.StatusRequestEntityTooLarge}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := l.browserT(t).send(http.MethodPost, backChannelPath, bytes.NewReader([]byte(tc.body)),
				"Content-Type", "application/x-www-form-urlencoded")
			if d := time.Since(start); d > fastLimit {
				t.Errorf("took %v", d)
			}
			ok := false
			for _, s := range tc.want {
				ok = ok || r.status == s
			}
			if !ok {
				t.Errorf("status %d %.100s, want one of %v", r.status, r.body, tc.want)
			}
		})
	}
	if !alice.signedIn() {
		t.Error("a session ended")
	}
}
