package ginauth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

func TestGitLabConfigErrors(t *testing.T) {
	for name, cfg := range map[string]providers.GitLabConfig{
		"no client id":   {BaseURL: "https://gitlab.example.com"},
		"http base url":  {ClientID: "id", BaseURL: "http://gitlab.example.com"},
		"query":          {ClientID: "id", BaseURL: "https://gitlab.example.com/?x=1"},
		"relative":       {ClientID: "id", BaseURL: "gitlab.example.com"},
		"bad name":       {ClientID: "id", Name: "Git Lab"},
		"fragment in it": {ClientID: "id", BaseURL: "https://gitlab.example.com/#x"},
	} {
		if _, err := providers.GitLab(cfg); !errors.Is(err, providers.ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	p, err := providers.GitLab(providers.GitLabConfig{ClientID: "id", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "gitlab" || p.Issuer() != providers.GitLabURL || p.DisplayName() != "GitLab" {
		t.Errorf("defaults: %q %q %q", p.Name(), p.Issuer(), p.DisplayName())
	}
	p, err = providers.GitLab(providers.GitLabConfig{ClientID: "id", BaseURL: "https://example.com/gitlab/"})
	if err != nil || p.Issuer() != "https://example.com/gitlab" {
		t.Fatalf("self-managed: %v %q", err, p.Issuer())
	}
	if _, err := providers.GitLab(providers.GitLabConfig{ClientID: "id", BaseURL: "http://127.0.0.1:8080"}); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

// gitLabUser is a GitLab-shaped identity: numeric sub, groups_direct.
var gitLabUser = ginauthtest.User{
	Subject:       "4242",
	Name:          "Gita Lab",
	Email:         "gita@example.com",
	EmailVerified: true,
	Groups:        []string{"acme", "acme/platform", "acme/platform/infra"},
	Extra:         map[string]any{"groups_direct": []string{"acme/platform/infra"}, "preferred_username": "gita"},
}

func gitLabApp(t *testing.T, userInfo bool) *testApp {
	t.Helper()
	a := newTestApp(t,
		withOP(func(o *ginauthtest.Options) { o.Users = []ginauthtest.User{gitLabUser} }),
	)
	// GitLab's ID token carries groups_direct only; groups is a UserInfo claim.
	a.op.SetBehavior(ginauthtest.Behavior{IDTokenClaims: func(c map[string]any) { delete(c, "groups") }})
	gl, err := providers.GitLab(providers.GitLabConfig{
		ClientID: a.op.ClientID(), ClientSecret: a.op.ClientSecret(),
		BaseURL: a.op.Issuer(), UserInfo: userInfo, Now: a.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.auth, err = ginauth.New(ginauth.Config{
		BaseURL: a.base, Secrets: [][]byte{testSecret}, Now: a.clock.Now,
		Logger:    newCaptureLogger(a.logs, a.failures),
		Providers: []providers.Provider{gl},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.router = a.routes()
	return a
}

func signInWith(t *testing.T, b *browser, name string) map[string]any {
	t.Helper()
	r := b.get("/auth/signin/" + name + "?callbackUrl=%2Fdashboard")
	if r.status != http.StatusFound {
		t.Fatalf("signin: %d %s", r.status, r.body)
	}
	r = b.get(b.authorize(r.location()))
	if r.status != http.StatusFound || r.location() != b.app.base+"/dashboard" {
		t.Fatalf("callback: %d %q %s\nlogs: %s", r.status, r.location(), r.body, b.app.logs.String())
	}
	me := b.get("/api/me")
	if me.status != http.StatusOK {
		t.Fatalf("/api/me: %d %s", me.status, me.body)
	}
	var u map[string]any
	if err := json.Unmarshal([]byte(me.body), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestGitLabSignIn(t *testing.T) {
	a := gitLabApp(t, false)
	u := signInWith(t, a.browser(), "gitlab")
	if u["sub"] != "4242" || u["email"] != "gita@example.com" || u["email_verified"] != true || u["name"] != "Gita Lab" {
		t.Errorf("user = %v", u)
	}
	if g, _ := json.Marshal(u["groups"]); string(g) != `["acme/platform/infra"]` {
		t.Errorf("groups = %s, want the direct memberships", g)
	}
	if a.op.Counts().UserInfo != 0 {
		t.Errorf("UserInfo called without UserInfo set")
	}
}

func TestGitLabSignInUserInfoGroups(t *testing.T) {
	a := gitLabApp(t, true)
	u := signInWith(t, a.browser(), "gitlab")
	if g, _ := json.Marshal(u["groups"]); string(g) != `["acme","acme/platform","acme/platform/infra"]` {
		t.Errorf("groups = %s, want UserInfo's list", g)
	}
}
