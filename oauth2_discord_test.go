package ginauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ginauth/ginauth/providers"
)

// Whole sign-ins with the Discord preset against a fake Discord.

func newDiscord(t *testing.T, f *fakeOAuth) *providers.OAuth2Provider {
	t.Helper()
	p, err := providers.Discord(providers.DiscordConfig{ClientID: f.clientID, ClientSecret: f.secret, BaseURL: f.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiscord_SignInRefreshRevoke(t *testing.T) {
	f := newFakeOAuth(t, "discord")
	f.expiresIn = 600
	a := newOAuth2App(t, newDiscord(t, f))
	b := a.browser()
	if r := b.signInWith("discord"); r.location() != a.base+"/dashboard" {
		t.Fatalf("sign-in: %q\n%s", r.location(), a.logs.String())
	}
	_, u := b.me()
	if u.Subject != "80351110224678912" || u.Issuer != f.URL() || u.Provider != "discord" {
		t.Errorf("sub/iss/provider = %q %q %q", u.Subject, u.Issuer, u.Provider)
	}
	if u.Name != "Nelly" || u.Email != "nelly@example.com" || !u.EmailVerified {
		t.Errorf("name/email/verified = %q %q %v", u.Name, u.Email, u.EmailVerified)
	}
	az := f.reqs("/oauth2/authorize")[0].URL.Query()
	if az.Get("scope") != "identify email" || az.Get("code_challenge_method") != "S256" {
		t.Errorf("authorization request: %v", az)
	}
	first := tokenOf(t, b)
	a.clock.Advance(590 * time.Second)
	if tokenOf(t, b) == first {
		t.Error("not refreshed")
	}
	live := f.liveTokens()
	b.signOut(true, "/")
	revs := f.reqs("/api/oauth2/token/revoke")
	if len(revs) != 2 {
		t.Fatalf("%d revocation requests, want 2 (refresh and access token)", len(revs))
	}
	for _, r := range revs {
		if id, secret, ok := r.BasicAuth(); !ok || id != f.clientID || secret != f.secret {
			t.Error("revocation without client authentication")
		}
	}
	if f.liveTokens() != live-1 {
		t.Error("access token not revoked")
	}
}

func TestDiscord_Identity(t *testing.T) {
	cases := []struct {
		name               string
		user               *fakeUser
		wantName, wantMail string
		wantVerified       bool
	}{
		{"global_name", &fakeUser{ID: 1234567890123, Login: "nelly", Name: "Nelly", Emails: []fakeEmail{{"n@example.com", true, true}}}, "Nelly", "n@example.com", true},
		{"username without global_name", &fakeUser{ID: 1234567890124, Login: "nelly2", Emails: []fakeEmail{{"n2@example.com", true, true}}}, "nelly2", "n2@example.com", true},
		{"unverified email", &fakeUser{ID: 1234567890125, Login: "u", Emails: []fakeEmail{{"u@example.com", true, false}}}, "u", "u@example.com", false},
		{"no email", &fakeUser{ID: 1234567890126, Login: "n"}, "n", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOAuth(t, "discord")
			f.setUser(tc.user)
			a := newOAuth2App(t, newDiscord(t, f))
			b := a.browser()
			if r := b.signInWith("discord"); r.location() != a.base+"/dashboard" {
				t.Fatalf("sign-in: %q", r.location())
			}
			_, u := b.me()
			if u.Name != tc.wantName || u.Email != tc.wantMail || u.EmailVerified != tc.wantVerified {
				t.Errorf("name/email/verified = %q %q %v", u.Name, u.Email, u.EmailVerified)
			}
		})
	}
}

func TestDiscord_Failures(t *testing.T) {
	cases := []struct {
		name  string
		token func(w http.ResponseWriter, r *http.Request) bool
		api   func(w http.ResponseWriter, r *http.Request) bool
		code  string
	}{
		{"invalid_grant", func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "Invalid \"code\" in request."})
			return true
		}, nil, "token_exchange"},
		{"@me 401", nil, func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "401: Unauthorized", "code": 0})
			return true
		}, "invalid_user_info"},
		{"numeric id", nil, func(w http.ResponseWriter, r *http.Request) bool {
			writeJSON(w, http.StatusOK, map[string]any{"id": 80351110224678912, "username": "n"})
			return true
		}, "invalid_user_info"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOAuth(t, "discord")
			f.tokenHook, f.apiHook = tc.token, tc.api
			a := newOAuth2App(t, newDiscord(t, f))
			b := a.browser()
			a.failedWith(b.signInWith("discord"), tc.code)
			if b.signedIn() {
				t.Error("signed in")
			}
		})
	}
}
