package ginauthtest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
)

func TestFullFlow(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{
		PostLogoutRedirectURIs: []string{"http://rp.test/bye"},
	})
	c := newRP(t, op)

	// Discovery.
	disc := c.get(op.URL("/.well-known/openid-configuration"))
	if disc.status != http.StatusOK {
		t.Fatalf("discovery status %d", disc.status)
	}
	doc := disc.json(t)
	for k, want := range map[string]any{
		"issuer":                 op.Issuer(),
		"authorization_endpoint": op.URL("/authorize"),
		"token_endpoint":         op.URL("/token"),
		"userinfo_endpoint":      op.URL("/userinfo"),
		"jwks_uri":               op.URL("/jwks"),
		"revocation_endpoint":    op.URL("/revoke"),
		"end_session_endpoint":   op.URL("/end_session"),
		"authorization_response_iss_parameter_supported": true,
		"backchannel_logout_supported":                   true,
	} {
		if doc[k] != want {
			t.Errorf("discovery %s = %v, want %v", k, doc[k], want)
		}
	}
	if got := doc["code_challenge_methods_supported"]; !reflect.DeepEqual(got, []any{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", got)
	}
	if !strings.HasPrefix(op.Issuer(), "http://127.0.0.1:") {
		t.Errorf("issuer %q is not on 127.0.0.1", op.Issuer())
	}

	// Authorization request, auto-approved.
	verifier := newVerifier()
	params := c.authzParams(verifier)
	back := c.authorize(params)
	if back.Get("state") != params.Get("state") || back.Get("iss") != op.Issuer() || back.Get("code") == "" {
		t.Fatalf("callback parameters %v", back)
	}
	if got := op.LastAuthorizeRequest().Get("nonce"); got != params.Get("nonce") {
		t.Errorf("LastAuthorizeRequest nonce = %q", got)
	}

	// Code exchange with PKCE.
	res := c.token(url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {back.Get("code")},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	})
	if res.status != http.StatusOK {
		t.Fatalf("token status %d: %s", res.status, res.body)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token Cache-Control = %q", cc)
	}
	tokens := res.json(t)
	if tokens["token_type"] != "Bearer" || tokens["expires_in"] != float64(3600) || tokens["scope"] != "openid profile email" {
		t.Errorf("token response %v", tokens)
	}
	if op.LastTokenAuth() != "client_secret_basic" {
		t.Errorf("LastTokenAuth = %q", op.LastTokenAuth())
	}
	if last := op.LastTokenRequest(); last.Get("code_verifier") != verifier || last.Has("client_secret") {
		t.Errorf("LastTokenRequest = %v", last)
	}

	claims, err := c.verifyIDToken(tokens["id_token"].(string))
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	for k, want := range map[string]any{
		"sub": "alice", "aud": op.ClientID(), "azp": op.ClientID(), "nonce": params.Get("nonce"),
		"name": "Alice Admin", "email": "alice@example.com", "email_verified": true,
	} {
		if claims[k] != want {
			t.Errorf("claim %s = %v, want %v", k, claims[k], want)
		}
	}
	if !reflect.DeepEqual(claims["groups"], []any{"admin", "staff"}) {
		t.Errorf("groups = %v", claims["groups"])
	}
	sid, _ := claims["sid"].(string)
	if sid == "" || claims["auth_time"] == nil {
		t.Errorf("sid/auth_time missing: %v", claims)
	}
	if !op.SessionActive(sid) {
		t.Error("session not active after sign-in")
	}

	// UserInfo.
	at := tokens["access_token"].(string)
	userinfo := func(token string) response {
		req, _ := http.NewRequest(http.MethodGet, op.URL("/userinfo"), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return c.do(req)
	}
	ui := userinfo(at)
	if ui.status != http.StatusOK {
		t.Fatalf("userinfo status %d: %s", ui.status, ui.body)
	}
	if info := ui.json(t); info["sub"] != "alice" || info["email"] != "alice@example.com" {
		t.Errorf("userinfo %v", info)
	}
	if bad := userinfo("nope"); bad.status != http.StatusUnauthorized ||
		!strings.Contains(bad.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("userinfo with bad token: %d %q", bad.status, bad.header.Get("WWW-Authenticate"))
	}

	// Refresh with client_secret_post; the refresh token rotates.
	oldRT := tokens["refresh_token"].(string)
	refresh := func(rt string) response {
		return c.postForm(op.URL("/token"), url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {rt},
			"client_id":     {op.ClientID()},
			"client_secret": {op.ClientSecret()},
		}, nil)
	}
	res = refresh(oldRT)
	if res.status != http.StatusOK {
		t.Fatalf("refresh status %d: %s", res.status, res.body)
	}
	if op.LastTokenAuth() != "client_secret_post" {
		t.Errorf("LastTokenAuth = %q", op.LastTokenAuth())
	}
	refreshed := res.json(t)
	newRT := refreshed["refresh_token"].(string)
	if newRT == oldRT || refreshed["access_token"] == at {
		t.Error("refresh did not issue new tokens")
	}
	claims2, err := c.verifyIDToken(refreshed["id_token"].(string))
	if err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	if claims2["sub"] != "alice" || claims2["sid"] != sid || claims2["nonce"] != nil {
		t.Errorf("refreshed ID token claims %v", claims2)
	}
	if res := refresh(oldRT); res.status != http.StatusBadRequest || res.json(t)["error"] != "invalid_grant" {
		t.Errorf("old refresh token: %d %s", res.status, res.body)
	}

	// Revoke the new refresh token: it and the grant's access tokens die.
	rev := c.postForm(op.URL("/revoke"), url.Values{"token": {newRT}, "token_type_hint": {"refresh_token"}},
		basicAuth(op.ClientID(), op.ClientSecret()))
	if rev.status != http.StatusOK {
		t.Fatalf("revoke status %d: %s", rev.status, rev.body)
	}
	if res := refresh(newRT); res.status != http.StatusBadRequest {
		t.Errorf("revoked refresh token accepted: %d", res.status)
	}
	if ui := userinfo(refreshed["access_token"].(string)); ui.status != http.StatusUnauthorized {
		t.Errorf("access token of revoked grant accepted: %d", ui.status)
	}
	if rev := c.postForm(op.URL("/revoke"), url.Values{"token": {"unknown"}}, basicAuth(op.ClientID(), op.ClientSecret())); rev.status != http.StatusOK {
		t.Errorf("revoking unknown token: %d", rev.status)
	}
	if rev := c.postForm(op.URL("/revoke"), url.Values{"token": {"x"}}, nil); rev.status != http.StatusUnauthorized {
		t.Errorf("revoke without client auth: %d", rev.status)
	}

	// RP-initiated logout.
	q := url.Values{
		"id_token_hint":            {tokens["id_token"].(string)},
		"post_logout_redirect_uri": {"http://rp.test/bye"},
		"state":                    {"bye-state"},
	}
	out := c.get(op.URL("/end_session") + "?" + q.Encode())
	if out.status != http.StatusFound || out.header.Get("Location") != "http://rp.test/bye?state=bye-state" {
		t.Errorf("end_session: %d %q", out.status, out.header.Get("Location"))
	}
	if op.SessionActive(sid) {
		t.Error("session still active after end_session")
	}
	q.Set("post_logout_redirect_uri", "http://evil.test/")
	if out := c.get(op.URL("/end_session") + "?" + q.Encode()); out.status != http.StatusBadRequest {
		t.Errorf("unregistered post_logout_redirect_uri: %d", out.status)
	}
	out = c.get(op.URL("/end_session"))
	if out.status != http.StatusOK || !strings.Contains(string(out.body), "Signed out") {
		t.Errorf("end_session page: %d %s", out.status, out.body)
	}
	forged := op.SignHS256(op.IDTokenClaims("alice", ""), []byte("k"))
	if out := c.get(op.URL("/end_session") + "?id_token_hint=" + forged); out.status != http.StatusBadRequest {
		t.Errorf("forged id_token_hint: %d", out.status)
	}

	want := ginauthtest.Counts{Discovery: 1, JWKS: 2, Authorize: 1, Token: 4, UserInfo: 3, Revoke: 3, EndSession: 4}
	if got := op.Counts(); got != want {
		t.Errorf("Counts = %+v, want %+v", got, want)
	}
}
