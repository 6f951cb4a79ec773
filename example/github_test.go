package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
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

// TestGitHubEndToEnd: the example app signs in through a fake GitHub
// Enterprise Server (GITHUB_ENTERPRISE_URL on loopback) and /api/me shows
// the numeric id as sub, the profile name and the primary verified email.
func TestGitHubEndToEnd(t *testing.T) {
	var (
		mu        sync.Mutex
		challenge string
		codes     = map[string]bool{}
	)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/login/oauth/authorize":
			q := r.URL.Query()
			challenge = q.Get("code_challenge")
			codes["c1"] = true
			back := q.Get("redirect_uri") + "?code=c1&state=" + url.QueryEscape(q.Get("state"))
			http.Redirect(w, r, back, http.StatusFound)
		case "/login/oauth/access_token":
			_ = r.ParseForm()
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			id, secret, _ := r.BasicAuth()
			w.Header().Set("Content-Type", "application/json")
			if !codes[r.PostForm.Get("code")] || id != "ghid" || secret != "ghsecret" ||
				base64.RawURLEncoding.EncodeToString(sum[:]) != challenge || r.Header.Get("Accept") != "application/json" {
				_, _ = w.Write([]byte(`{"error":"bad_verification_code"}`))
				return
			}
			delete(codes, r.PostForm.Get("code"))
			_, _ = w.Write([]byte(`{"access_token":"gho_test","token_type":"bearer","scope":"read:user,user:email"}`))
		case "/api/v3/user", "/api/v3/user/emails":
			if r.Header.Get("Authorization") != "Bearer gho_test" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/api/v3/user" {
				_, _ = w.Write([]byte(`{"login":"octocat","id":583231,"name":"The Octocat","email":"public@example.com"}`))
				return
			}
			_, _ = w.Write([]byte(`[{"email":"old@example.com","primary":false,"verified":true},{"email":"octocat@example.com","primary":true,"verified":true}]`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer fake.Close()
	base, logs := startApp(t, map[string]string{"GITHUB_CLIENT_ID": "ghid", "GITHUB_CLIENT_SECRET": "ghsecret", "GITHUB_ENTERPRISE_URL": fake.URL})
	b := newBrowser(t, base)
	resp, _ := b.get("/auth/signin/github")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != base+"/" {
		t.Fatalf("sign-in ended at %d %s\nlogs: %s", resp.StatusCode, resp.Request.URL, logs.String())
	}
	resp, body := b.get("/api/me")
	var me struct {
		Sub, Name, Email, Provider string
		Groups                     []string
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &me) != nil {
		t.Fatalf("/api/me: %d %s", resp.StatusCode, body)
	}
	if me.Sub != "583231" || me.Name != "The Octocat" || me.Email != "octocat@example.com" || me.Provider != "github" {
		t.Errorf("/api/me = %+v", me)
	}
	if strings.Contains(logs.String(), "gho_test") || strings.Contains(logs.String(), "ghsecret") {
		t.Error("token or secret in the logs")
	}
}
