package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestGitHubWiring: GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET mount the
// provider "github", whose sign-in goes to GitHub's authorization endpoint
// with state, PKCE S256, the scopes and the redirect URI
// <GINAUTH_URL>/auth/callback/github.
func TestGitHubWiring(t *testing.T) {
	for _, tc := range []struct {
		name, ghes, wantAuth string
	}{
		{"github.com", "", "https://github.com/login/oauth/authorize"},
		{"Enterprise Server", "https://ghe.example.com", "https://ghe.example.com/login/oauth/authorize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig(envOf(map[string]string{"GITHUB_CLIENT_ID": "ghid", "GITHUB_CLIENT_SECRET": "ghsecret", "GITHUB_ENTERPRISE_URL": tc.ghes}))
			if err != nil {
				t.Fatal(err)
			}
			h, err := newApp(cfg, newLogger(&bytes.Buffer{}), nil)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/auth/signin/github", nil))
			loc := w.Header().Get("Location")
			if w.Code != http.StatusFound || !strings.HasPrefix(loc, tc.wantAuth+"?") {
				t.Fatalf("sign-in: %d %q", w.Code, loc)
			}
			u, _ := url.Parse(loc)
			q := u.Query()
			if q.Get("client_id") != "ghid" || q.Get("scope") != "read:user user:email" || q.Get("code_challenge_method") != "S256" ||
				q.Get("state") == "" || q.Get("redirect_uri") != cfg.BaseURL+"/auth/callback/github" {
				t.Errorf("authorization request %v", q)
			}
			if strings.Contains(loc, "ghsecret") {
				t.Error("client secret in the authorization URL")
			}
		})
	}
}
