package providers_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// failUserInfo is a transport that answers /userinfo with 503 itself.
type failUserInfo struct{}

func (failUserInfo) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/userinfo") {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestOIDCUserInfoByDefault: with neither UserInfo nor SkipUserInfo, the
// UserInfo endpoint is fetched only when the ID token lacks a claim the
// scopes promise (profile: name, email: email, groups: groups); its sub
// must match; an unreachable endpoint leaves the ID token's claims.
func TestOIDCUserInfoByDefault(t *testing.T) {
	dropProfile := func(c map[string]any) { delete(c, "name"); delete(c, "email"); delete(c, "groups") }
	cases := []struct {
		name        string
		scopes      []string
		change      func(*providers.OIDCConfig)
		behave      ginauthtest.Behavior
		wantFetches int
		wantName    string // "" : no name claim
		wantErr     error
	}{
		{"ID token has the claims: no fetch", []string{"profile", "email"}, nil, ginauthtest.Behavior{}, 0, "Alice Admin", nil},
		{"ID token lacks name and email: fetched", []string{"profile", "email"}, nil, ginauthtest.Behavior{IDTokenClaims: dropProfile}, 1, "Alice Admin", nil},
		{"lacks groups with the groups scope: fetched", []string{"groups"}, nil, ginauthtest.Behavior{IDTokenClaims: func(c map[string]any) { delete(c, "groups") }}, 1, "Alice Admin", nil},
		{"lacks claims no scope promises: no fetch", []string{"offline_access"}, nil, ginauthtest.Behavior{IDTokenClaims: dropProfile}, 0, "", nil},
		{"SkipUserInfo: no fetch", []string{"profile", "email"}, func(c *providers.OIDCConfig) { c.SkipUserInfo = true }, ginauthtest.Behavior{IDTokenClaims: dropProfile}, 0, "", nil},
		{"UserInfo: always fetched", []string{"profile"}, func(c *providers.OIDCConfig) { c.UserInfo = true }, ginauthtest.Behavior{}, 1, "Alice Admin", nil},
		{"another sub: refused", []string{"profile"}, nil, ginauthtest.Behavior{IDTokenClaims: dropProfile, UserInfoSub: "mallory"}, 1, "", providers.ErrUserInfo},
		{"endpoint down: ID token claims kept", []string{"profile"}, func(c *providers.OIDCConfig) { c.HTTPClient = &http.Client{Transport: failUserInfo{}} }, ginauthtest.Behavior{IDTokenClaims: dropProfile}, 0, "", nil},
		{"endpoint down with UserInfo: refused", []string{"profile"}, func(c *providers.OIDCConfig) {
			c.UserInfo, c.HTTPClient = true, &http.Client{Transport: failUserInfo{}}
		}, ginauthtest.Behavior{}, 0, "", providers.ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := startOP(t, ginauthtest.Options{})
			op.SetBehavior(tc.behave)
			cfg := providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), Scopes: tc.scopes}
			if tc.change != nil {
				tc.change(&cfg)
			}
			p, err := providers.OIDC(cfg)
			if err != nil {
				t.Fatal(err)
			}
			id, err := signIn(t, p)
			if got := op.Counts().UserInfo; got != tc.wantFetches {
				t.Errorf("UserInfo fetched %d times, want %d", got, tc.wantFetches)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := json.Unmarshal(id.Claims, &claims); err != nil {
				t.Fatal(err)
			}
			name, _ := claims["name"].(string)
			if name != tc.wantName {
				t.Errorf("name %q, want %q (claims %v)", name, tc.wantName, claims)
			}
		})
	}
	if _, err := providers.OIDC(providers.OIDCConfig{Name: "x", Issuer: "https://op.example.com", ClientID: "c", UserInfo: true, SkipUserInfo: true}); !errors.Is(err, providers.ErrInvalidConfig) {
		t.Fatalf("UserInfo with SkipUserInfo: %v", err)
	}
}
