package ginauth_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/providers"
)

// Whole sign-ins with the GitHub preset against a fake GitHub (Enterprise
// Server layout, so that every URL is the fake's).

func newGitHub(t *testing.T, f *fakeOAuth, mod ...func(*providers.GitHubConfig)) *providers.GitHubProvider {
	t.Helper()
	cfg := providers.GitHubConfig{ClientID: f.clientID, ClientSecret: f.secret, EnterpriseURL: f.URL() + "/"}
	for _, m := range mod {
		m(&cfg)
	}
	p, err := providers.GitHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGitHub_SignIn(t *testing.T) {
	f := newFakeOAuth(t, "github")
	p := newGitHub(t, f)
	a := newOAuth2App(t, p)
	b := a.browser()
	r := b.signInWith("github")
	if r.status != http.StatusFound || r.location() != a.base+"/dashboard" {
		t.Fatalf("callback: %d %q\nlogs: %s", r.status, r.location(), a.logs.String())
	}
	status, u := b.me()
	if status != http.StatusOK {
		t.Fatalf("/api/me: %d", status)
	}
	if u.Subject != "583231" || u.Issuer != f.URL() || u.Provider != "github" {
		t.Errorf("sub/iss/provider = %q %q %q; want the numeric id, the server URL, github", u.Subject, u.Issuer, u.Provider)
	}
	if u.Name != "The Octocat" || u.Email != "octocat@example.com" || !u.EmailVerified {
		t.Errorf("name/email/verified = %q %q %v", u.Name, u.Email, u.EmailVerified)
	}
	if len(u.Groups) != 0 {
		t.Errorf("groups without a restriction: %v", u.Groups)
	}
	// The authorization request: S256 PKCE, state, the scopes, no nonce.
	az := f.reqs("/login/oauth/authorize")[0].URL.Query()
	if az.Get("code_challenge_method") != "S256" || az.Get("code_challenge") == "" || az.Get("state") == "" || az.Has("nonce") {
		t.Errorf("authorization request: %v", az)
	}
	if az.Get("scope") != "read:user user:email" {
		t.Errorf("scope = %q", az.Get("scope"))
	}
	tr := f.reqs("/login/oauth/access_token")[0]
	if tr.Header.Get("Accept") != "application/json" || tr.PostForm.Get("code_verifier") == "" {
		t.Errorf("token request: Accept %q, verifier %q", tr.Header.Get("Accept"), tr.PostForm.Get("code_verifier"))
	}
	for _, r := range f.reqs("/user") {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") || r.URL.RawQuery != "" {
			t.Errorf("API call not with a Bearer header only: %v %q", r.Header, r.URL.RawQuery)
		}
	}
	// No refresh token (OAuth app): /api/token gives the token while valid.
	if tok := b.get("/api/token"); tok.status != http.StatusOK {
		t.Errorf("/api/token: %d %s", tok.status, tok.body)
	}
}

// The subject is the numeric id: a login re-used by another account is
// another user, a renamed login is the same user.
func TestGitHub_SubjectIsIDNotLogin(t *testing.T) {
	f := newFakeOAuth(t, "github")
	a := newOAuth2App(t, newGitHub(t, f))
	f.setUser(&fakeUser{ID: 1, Login: "alice", Emails: []fakeEmail{{"a@example.com", true, true}}})
	b1 := a.browser()
	b1.signInWith("github")
	_, u1 := b1.me()
	f.setUser(&fakeUser{ID: 2, Login: "alice", Emails: []fakeEmail{{"a2@example.com", true, true}}})
	b2 := a.browser()
	b2.signInWith("github")
	_, u2 := b2.me()
	if u1.Subject != "1" || u2.Subject != "2" {
		t.Fatalf("subjects %q %q, want 1 and 2 (the ids, not the shared login)", u1.Subject, u2.Subject)
	}
	if u1.Name != "alice" {
		t.Errorf("name without a profile name = %q, want the login", u1.Name)
	}
}

func TestGitHub_Emails(t *testing.T) {
	cases := []struct {
		name      string
		emails    []fakeEmail
		apiStatus int // /user/emails status, 0: normal
		wantEmail string
		wantVer   bool
	}{
		{"primary verified among others", []fakeEmail{{"x@example.com", false, true}, {"p@example.com", true, true}}, 0, "p@example.com", true},
		{"primary unverified, other verified", []fakeEmail{{"p@example.com", true, false}, {"v@example.com", false, true}}, 0, "", false},
		{"no emails", nil, 0, "", false},
		{"emails not readable (403)", []fakeEmail{{"p@example.com", true, true}}, http.StatusForbidden, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOAuth(t, "github")
			f.setUser(&fakeUser{ID: 7, Login: "u7", Emails: tc.emails})
			if tc.apiStatus != 0 {
				f.apiHook = func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path == "/api/v3/user/emails" {
						writeJSON(w, tc.apiStatus, map[string]string{"message": "Resource not accessible by integration"})
						return true
					}
					return false
				}
			}
			a := newOAuth2App(t, newGitHub(t, f))
			b := a.browser()
			if r := b.signInWith("github"); r.location() != a.base+"/dashboard" {
				t.Fatalf("sign-in failed: %q", r.location())
			}
			_, u := b.me()
			if u.Email != tc.wantEmail || u.EmailVerified != tc.wantVer {
				t.Errorf("email %q verified %v; want %q %v", u.Email, u.EmailVerified, tc.wantEmail, tc.wantVer)
			}
		})
	}
}

func TestGitHub_FailedSignIns(t *testing.T) {
	cases := []struct {
		name      string
		token     func(w http.ResponseWriter, r *http.Request) bool
		api       func(w http.ResponseWriter, r *http.Request) bool
		code      string
		want      []error
		wantCalls bool // the user API was called
	}{
		{
			name: "token endpoint 200 with error",
			token: func(w http.ResponseWriter, r *http.Request) bool {
				writeJSON(w, http.StatusOK, map[string]string{"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
				return true
			},
			code: "token_exchange", want: []error{providers.ErrTokenExchange},
		},
		{
			name: "token endpoint 200 without access_token",
			token: func(w http.ResponseWriter, r *http.Request) bool {
				writeJSON(w, http.StatusOK, map[string]string{"token_type": "bearer"})
				return true
			},
			code: "provider_unavailable", want: []error{providers.ErrUnavailable, providers.ErrTokenExchange},
		},
		{
			name: "API 401",
			api: func(w http.ResponseWriter, r *http.Request) bool {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
				return true
			},
			code: "invalid_user_info", want: []error{providers.ErrUserInfo}, wantCalls: true,
		},
		{
			name: "user without a numeric id",
			api: func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path == "/api/v3/user" {
					writeJSON(w, http.StatusOK, map[string]any{"login": "octocat", "id": "583231"})
					return true
				}
				return false
			},
			code: "invalid_user_info", want: []error{providers.ErrUserInfo}, wantCalls: true,
		},
		{
			name: "emails 500",
			api: func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path == "/api/v3/user/emails" {
					w.WriteHeader(http.StatusInternalServerError)
					return true
				}
				return false
			},
			code: "provider_unavailable", want: []error{providers.ErrUnavailable, providers.ErrUserInfo}, wantCalls: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOAuth(t, "github")
			f.tokenHook, f.apiHook = tc.token, tc.api
			a := newOAuth2App(t, newGitHub(t, f))
			b := a.browser()
			mark := a.failMark()
			a.failedWith(b.signInWith("github"), tc.code)
			a.sfReason(mark, tc.want...)
			if b.signedIn() {
				t.Error("signed in")
			}
			if !tc.wantCalls && len(f.reqs("/user")) != 0 {
				t.Error("the API was called after a failed token exchange")
			}
		})
	}
}

func TestGitHub_OrgsAndTeams(t *testing.T) {
	member := &fakeUser{ID: 10, Login: "m", Orgs: []string{"Other", "Acme", "x1", "x2", "x3"}, Teams: []string{"other/devs", "acme/devs", "acme/admins"},
		Emails: []fakeEmail{{"m@example.com", true, true}}}
	outsider := &fakeUser{ID: 11, Login: "o", Orgs: []string{"other"}, Teams: []string{"other/admins"}}
	cases := []struct {
		name       string
		orgs       []string
		teams      []string
		user       *fakeUser
		ok         bool
		wantGroups []string
		orgAdmin   bool
	}{
		{"org member (paginated, case-insensitive)", []string{"acme"}, nil, member, true,
			[]string{"acme", "acme/admins", "acme/devs", "other", "other/devs", "x1", "x2", "x3"}, true},
		{"team member", nil, []string{"Acme/admins"}, member, true, nil, true},
		{"org outsider refused", []string{"acme"}, nil, outsider, false, nil, false},
		{"team outsider refused", nil, []string{"acme/admins"}, outsider, false, nil, false},
		{"member of the org but not the team refused", nil, []string{"acme/ops"}, member, false, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOAuth(t, "github")
			f.setUser(tc.user)
			p := newGitHub(t, f, func(c *providers.GitHubConfig) { c.AllowedOrgs, c.AllowedTeams = tc.orgs, tc.teams })
			a := newOAuth2App(t, p)
			b := a.browser()
			mark := a.failMark()
			r := b.signInWith("github")
			if !tc.ok {
				a.deniedWith(r, "") // 403 since issue 9 (was a redirect to ?error=not_allowed)
				a.sfReason(mark, providers.ErrClaimRejected)
				if b.signedIn() {
					t.Error("outsider signed in")
				}
				return
			}
			if r.location() != a.base+"/dashboard" {
				t.Fatalf("sign-in failed: %q\n%s", r.location(), a.logs.String())
			}
			_, u := b.me()
			if tc.wantGroups != nil && !slices.Equal(u.Groups, tc.wantGroups) {
				t.Errorf("groups = %v, want %v", u.Groups, tc.wantGroups)
			}
			if got := b.get("/app/org-admins").status; (got == http.StatusOK) != tc.orgAdmin {
				t.Errorf("RequireClaim(groups, acme/admins): %d", got)
			}
			if az := f.reqs("/login/oauth/authorize")[0].URL.Query().Get("scope"); az != "read:user user:email read:org" {
				t.Errorf("scope = %q", az)
			}
			if n := len(f.reqs("/user/orgs")); n != 3 {
				t.Errorf("%d /user/orgs pages read, want 3", n)
			}
		})
	}
}

// Pagination is bounded: a server that always has a next page is read for
// at most 10 pages, and a next link off the API is refused.
func TestGitHub_PaginationBounded(t *testing.T) {
	t.Run("endless", func(t *testing.T) {
		f := newFakeOAuth(t, "github")
		f.setUser(&fakeUser{ID: 12, Login: "e", Orgs: []string{"acme"}})
		f.apiHook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/api/v3/user/teams" {
				w.Header().Set("Link", `<`+f.URL()+`/api/v3/user/teams?page=2>; rel="next"`)
				writeJSON(w, http.StatusOK, []any{})
				return true
			}
			return false
		}
		a := newOAuth2App(t, newGitHub(t, f, func(c *providers.GitHubConfig) { c.AllowedOrgs = []string{"acme"} }))
		b := a.browser()
		if r := b.signInWith("github"); r.location() != a.base+"/dashboard" {
			t.Fatalf("sign-in: %q", r.location())
		}
		if n := len(f.reqs("/user/teams")); n != 10 {
			t.Errorf("%d pages read, want 10", n)
		}
	})
	t.Run("next link off the API", func(t *testing.T) {
		f := newFakeOAuth(t, "github")
		f.setUser(&fakeUser{ID: 12, Login: "e", Orgs: []string{"acme"}})
		f.apiHook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/api/v3/user/orgs" {
				w.Header().Set("Link", `<`+f.URL()+`/elsewhere?page=2>; rel="next"`)
				writeJSON(w, http.StatusOK, []any{map[string]any{"login": "other"}})
				return true
			}
			return false
		}
		a := newOAuth2App(t, newGitHub(t, f, func(c *providers.GitHubConfig) { c.AllowedOrgs = []string{"acme"} }))
		mark := a.failMark()
		a.failedWith(a.browser().signInWith("github"), "invalid_user_info")
		a.sfReason(mark, providers.ErrUserInfo)
		if len(f.reqs("/elsewhere")) != 0 {
			t.Error("followed a next link off the API")
		}
	})
}

// Sign-out with revokeToken deletes the token at GitHub.
func TestGitHub_SignOutRevokes(t *testing.T) {
	f := newFakeOAuth(t, "github")
	a := newOAuth2App(t, newGitHub(t, f))
	b := a.browser()
	b.signInWith("github")
	if f.liveTokens() != 1 {
		t.Fatalf("%d live tokens", f.liveTokens())
	}
	b.signOut(true, "/")
	if b.signedIn() {
		t.Error("still signed in")
	}
	if f.liveTokens() != 0 || len(f.revokedTokens()) != 1 {
		t.Errorf("token not deleted at GitHub: live %d, revoked %v", f.liveTokens(), f.revokedTokens())
	}
	// Without revokeToken nothing is deleted.
	b2 := a.browser()
	b2.signInWith("github")
	b2.signOut(false, "/")
	if f.liveTokens() != 1 {
		t.Errorf("token deleted without revokeToken")
	}
}

// GitHub Apps with expiring user tokens: refresh with the refresh token; a
// refused one (200 with error=bad_refresh_token) ends the session.
func TestGitHub_Refresh(t *testing.T) {
	f := newFakeOAuth(t, "github")
	f.issueRT, f.expiresIn = true, 600
	a := newOAuth2App(t, newGitHub(t, f))
	b := a.browser()
	b.signInWith("github")
	first := tokenOf(t, b)
	a.clock.Advance(590e9)
	second := tokenOf(t, b)
	if second == first || second == "" {
		t.Fatalf("no refresh: %q then %q", first, second)
	}
	if n := len(f.reqs("/login/oauth/access_token")); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	// The fake forgets every refresh token: the next refresh is refused.
	f.mu.Lock()
	clear(f.refresh)
	f.mu.Unlock()
	a.clock.Advance(590e9)
	if r := b.get("/api/token"); r.status != http.StatusUnauthorized {
		t.Errorf("refused refresh: /api/token %d", r.status)
	}
	if b.signedIn() {
		t.Error("session survived a refused refresh token")
	}
}

func tokenOf(t *testing.T, b *browser) string {
	t.Helper()
	r := b.get("/api/token")
	if r.status != http.StatusOK {
		t.Fatalf("/api/token: %d %s", r.status, r.body)
	}
	var v struct{ Token string }
	_ = json.Unmarshal([]byte(r.body), &v)
	return v.Token
}
