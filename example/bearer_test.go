package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
)

// GINAUTH_API_AUDIENCE: /api/me accepts a bearer access token with that
// audience from the OIDC provider and answers with the token's sub,
// provider and whatever of name, email and groups it carries.
func TestAPIBearer(t *testing.T) {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	const audience = "https://api.example.com"
	env := map[string]string{
		"OIDC_ISSUER": op.Issuer(), "OIDC_CLIENT_ID": op.ClientID(), "OIDC_CLIENT_SECRET": op.ClientSecret(),
		"GINAUTH_DEV": "0",
	}
	claims := func(extra map[string]any) map[string]any {
		now := time.Now()
		c := map[string]any{"iss": op.Issuer(), "sub": "alice", "aud": audience, "client_id": op.ClientID(),
			"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix()}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	call := func(base, token string) (int, http.Header, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		return resp.StatusCode, resp.Header, body
	}
	at := map[string]any{"typ": "at+jwt"}

	t.Run("unset: cookies only", func(t *testing.T) {
		base, _ := startApp(t, env)
		status, hdr, _ := call(base, op.SignJWT(at, claims(nil)))
		if status != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != `Cookie realm="ginauth"` {
			t.Fatalf("%d %q", status, hdr.Get("WWW-Authenticate"))
		}
	})

	env["GINAUTH_API_AUDIENCE"] = audience
	base, _ := startApp(t, env)
	t.Run("minimal token", func(t *testing.T) {
		status, hdr, body := call(base, op.SignJWT(at, claims(nil)))
		if status != http.StatusOK || len(hdr.Values("Set-Cookie")) != 0 {
			t.Fatalf("%d %v", status, body)
		}
		if len(body) != 2 || body["sub"] != "alice" || body["provider"] != "oidc" {
			t.Fatalf("body %v, want sub and provider only", body)
		}
	})
	t.Run("profile claims", func(t *testing.T) {
		status, _, body := call(base, op.SignJWT(at, claims(map[string]any{"name": "Alice", "email": "alice@example.com", "groups": []string{"admin"}})))
		if status != http.StatusOK || body["name"] != "Alice" || body["email"] != "alice@example.com" || len(body["groups"].([]any)) != 1 {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("other audience", func(t *testing.T) {
		status, hdr, _ := call(base, op.SignJWT(at, claims(map[string]any{"aud": "https://other.example"})))
		if status != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != `Bearer realm="ginauth", error="invalid_token"` || len(hdr.Values("Set-Cookie")) != 0 {
			t.Fatalf("%d %q", status, hdr.Get("WWW-Authenticate"))
		}
	})
}
