package providers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginauth/ginauth/internal/oidcjwt"
)

// goOIDCTestOP serves discovery and UserInfo; mode picks the UserInfo answer
// and whether discovery fails.
func goOIDCTestOP(t *testing.T, discoveryDown *atomic.Bool, mode *atomic.Value) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			if discoveryDown.Load() {
				http.Error(w, "SECRET-BODY", http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "max-age=600")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
				"jwks_uri": srv.URL + "/jwks", "userinfo_endpoint": srv.URL + "/userinfo",
			})
		case "/userinfo":
			if r.Header.Get("Authorization") != "Bearer at-1" {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			switch mode.Load().(string) {
			case "jwt":
				w.Header().Set("Content-Type", "application/jwt")
				_, _ = w.Write([]byte("e30.e30.c2ln"))
			case "error":
				http.Error(w, "SECRET-BODY", http.StatusInternalServerError)
			default:
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"sub":"u1","email":"u1@example.com","name":"from userinfo"}`))
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestGoOIDCDiscoveryAndUserInfo: discovery and UserInfo go through go-oidc
// with ginauth's client; ginauth still reads the max age, refuses a signed
// UserInfo response, and keeps response bodies out of its errors.
func TestGoOIDCDiscoveryAndUserInfo(t *testing.T) {
	var down atomic.Bool
	var mode atomic.Value
	mode.Store("json")
	srv := goOIDCTestOP(t, &down, &mode)
	now := time.Unix(1_800_000_000, 0)
	p, err := OIDC(OIDCConfig{Name: "t", Issuer: srv.URL, ClientID: "c", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := p.meta.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(600 * time.Second); !m.freshUntil.Equal(want) {
		t.Errorf("freshUntil %v, want %v (Cache-Control max-age through go-oidc)", m.freshUntil, want)
	}
	if m.doc.UserinfoEndpoint != srv.URL+"/userinfo" || m.op.UserInfoEndpoint() != m.doc.UserinfoEndpoint {
		t.Errorf("userinfo endpoint %q / %q", m.doc.UserinfoEndpoint, m.op.UserInfoEndpoint())
	}

	id := &oidcjwt.Claims{Subject: "u1", Raw: json.RawMessage(`{"sub":"u1","name":"from id token"}`)}
	merged, err := p.fetchUserInfo(ctx, m, "at-1", id)
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]any
	if err := json.Unmarshal(merged, &all); err != nil || all["name"] != "from id token" || all["email"] != "u1@example.com" {
		t.Errorf("merged claims %s (%v)", merged, err)
	}
	if _, err := p.fetchUserInfo(ctx, m, "at-1", &oidcjwt.Claims{Subject: "u2", Raw: json.RawMessage(`{"sub":"u2"}`)}); !errors.Is(err, ErrUserInfo) || errors.Is(err, ErrUnavailable) {
		t.Errorf("sub mismatch: %v, want ErrUserInfo", err)
	}
	mode.Store("jwt")
	if _, err := p.fetchUserInfo(ctx, m, "at-1", id); !errors.Is(err, ErrUserInfo) || !errors.Is(err, errSignedUserInfo) {
		t.Errorf("signed userinfo: %v, want refused", err)
	}
	mode.Store("error")
	_, err = p.fetchUserInfo(ctx, m, "at-1", id)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrUserInfo) || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("userinfo 500: %v, want ErrUnavailable and ErrUserInfo without the body", err)
	}

	down.Store(true)
	p2, _ := OIDC(OIDCConfig{Name: "t2", Issuer: srv.URL, ClientID: "c"})
	_, err = p2.Metadata(ctx)
	if !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("discovery 503: %v, want ErrUnavailable, HTTP 503, no body", err)
	}
}
