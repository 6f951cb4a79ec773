package ginauthtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
)

func wantOAuthError(t *testing.T, res response, status int, code string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d (body %s)", res.status, status, res.body)
	}
	if got := res.json(t)["error"]; got != code {
		t.Fatalf("error %v, want %q", got, code)
	}
}

func exchangeForm(code, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

func TestCodeReuseIsRefusedAndBurnsTokens(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	verifier := newVerifier()
	code := c.authorize(c.authzParams(verifier)).Get("code")

	first := c.token(exchangeForm(code, verifier))
	if first.status != http.StatusOK {
		t.Fatalf("first exchange: %d %s", first.status, first.body)
	}
	wantOAuthError(t, c.token(exchangeForm(code, verifier)), http.StatusBadRequest, "invalid_grant")

	// The replay revoked what the first exchange issued.
	req, _ := http.NewRequest(http.MethodGet, op.URL("/userinfo"), nil)
	req.Header.Set("Authorization", "Bearer "+first.json(t)["access_token"].(string))
	if res := c.do(req); res.status != http.StatusUnauthorized {
		t.Errorf("access token after code replay: %d", res.status)
	}
	wantOAuthError(t, c.token(url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {first.json(t)["refresh_token"].(string)},
	}), http.StatusBadRequest, "invalid_grant")
}

func TestPKCE(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)

	t.Run("wrong verifier", func(t *testing.T) {
		code := c.authorize(c.authzParams(newVerifier())).Get("code")
		wantOAuthError(t, c.token(exchangeForm(code, newVerifier())), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("missing verifier", func(t *testing.T) {
		code := c.authorize(c.authzParams(newVerifier())).Get("code")
		wantOAuthError(t, c.token(exchangeForm(code, "")), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("short verifier", func(t *testing.T) {
		verifier := "abc"
		params := c.authzParams(newVerifier())
		params.Set("code_challenge", challenge(verifier))
		code := c.authorize(params).Get("code")
		wantOAuthError(t, c.token(exchangeForm(code, verifier)), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("verifier without challenge", func(t *testing.T) {
		params := c.authzParams(newVerifier())
		params.Del("code_challenge")
		params.Del("code_challenge_method")
		code := c.authorize(params).Get("code")
		wantOAuthError(t, c.token(exchangeForm(code, newVerifier())), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("no PKCE at all", func(t *testing.T) {
		params := c.authzParams(newVerifier())
		params.Del("code_challenge")
		params.Del("code_challenge_method")
		code := c.authorize(params).Get("code")
		if res := c.token(exchangeForm(code, "")); res.status != http.StatusOK {
			t.Fatalf("status %d: %s", res.status, res.body)
		}
	})
	for _, method := range []string{"plain", ""} {
		t.Run("method "+method, func(t *testing.T) {
			verifier := newVerifier()
			params := c.authzParams(verifier)
			params.Set("code_challenge", verifier)
			if method == "" {
				params.Del("code_challenge_method")
			} else {
				params.Set("code_challenge_method", method)
			}
			back := c.authorize(params)
			if back.Get("error") != "invalid_request" || back.Has("code") || back.Get("iss") != op.Issuer() {
				t.Fatalf("callback %v", back)
			}
		})
	}
}

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{ClientID: "my client:1", ClientSecret: "s3cr%t+/="})
	c := newRP(t, op)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}}

	// Correct credentials with characters that need form-urlencoding get
	// past client authentication (to fail on the unknown refresh token).
	res := c.postForm(op.URL("/token"), form, basicAuth(op.ClientID(), op.ClientSecret()))
	wantOAuthError(t, res, http.StatusBadRequest, "invalid_grant")

	for name, setup := range map[string]func(*http.Request){
		"wrong secret": basicAuth(op.ClientID(), "wrong"),
		"wrong id":     basicAuth("other", op.ClientSecret()),
		"unencoded":    func(r *http.Request) { r.SetBasicAuth(op.ClientID(), op.ClientSecret()) },
		"none":         nil,
	} {
		t.Run(name, func(t *testing.T) {
			res := c.postForm(op.URL("/token"), form, setup)
			wantOAuthError(t, res, http.StatusUnauthorized, "invalid_client")
			if res.header.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}
	t.Run("wrong post secret", func(t *testing.T) {
		f := url.Values{"client_id": {op.ClientID()}, "client_secret": {"wrong"}}
		for k, v := range form {
			f[k] = v
		}
		wantOAuthError(t, c.postForm(op.URL("/token"), f, nil), http.StatusUnauthorized, "invalid_client")
		if op.LastTokenRequest().Has("client_secret") {
			t.Error("LastTokenRequest kept client_secret")
		}
		if op.LastTokenAuth() != "client_secret_post" {
			t.Errorf("LastTokenAuth = %q", op.LastTokenAuth())
		}
	})
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	op := startOP(t, ginauthtest.Options{Now: clock, RedirectURIs: []string{redirectURI}})
	c := newRP(t, op)

	t.Run("expired code", func(t *testing.T) {
		verifier := newVerifier()
		code := c.authorize(c.authzParams(verifier)).Get("code")
		advance(61 * time.Second)
		wantOAuthError(t, c.token(exchangeForm(code, verifier)), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("redirect_uri mismatch", func(t *testing.T) {
		verifier := newVerifier()
		code := c.authorize(c.authzParams(verifier)).Get("code")
		f := exchangeForm(code, verifier)
		f.Set("redirect_uri", redirectURI+"/x")
		wantOAuthError(t, c.token(f), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("unknown grant", func(t *testing.T) {
		wantOAuthError(t, c.token(url.Values{"grant_type": {"password"}}), http.StatusBadRequest, "unsupported_grant_type")
	})
	t.Run("repeated parameter", func(t *testing.T) {
		wantOAuthError(t, c.token(url.Values{"grant_type": {"authorization_code", "authorization_code"}}), http.StatusBadRequest, "invalid_request")
	})
	t.Run("JSON body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, op.URL("/token"), strings.NewReader(`{"grant_type":"authorization_code"}`))
		req.Header.Set("Content-Type", "application/json")
		basicAuth(op.ClientID(), op.ClientSecret())(req)
		wantOAuthError(t, c.do(req), http.StatusBadRequest, "invalid_request")
	})
	t.Run("oversized body", func(t *testing.T) {
		big := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {strings.Repeat("x", 100<<10)}}
		wantOAuthError(t, c.token(big), http.StatusBadRequest, "invalid_request")
	})
	t.Run("GET", func(t *testing.T) {
		if res := c.get(op.URL("/token")); res.status != http.StatusMethodNotAllowed {
			t.Fatalf("status %d", res.status)
		}
	})
	t.Run("expired access token", func(t *testing.T) {
		tokens, _ := c.login()
		advance(2 * time.Hour)
		req, _ := http.NewRequest(http.MethodGet, op.URL("/userinfo"), nil)
		req.Header.Set("Authorization", "Bearer "+tokens["access_token"].(string))
		if res := c.do(req); res.status != http.StatusUnauthorized {
			t.Fatalf("status %d", res.status)
		}
	})
}
