package ginauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/providers"
)

// TestDiag_CheckProvidersGitHub: the start-up check of an OAuth 2.0 preset
// tells a wrong client secret (GitHub's incorrect_client_credentials) from
// a right one (bad_verification_code for the made-up code), and the
// sign-in with the wrong one ends on the "misconfigured" page.
func TestDiag_CheckProvidersGitHub(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"github", "generic"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFakeOAuth(t, kind)
			build := func(secret string) providers.Provider {
				if kind == "github" {
					return newGitHub(t, f, func(c *providers.GitHubConfig) { c.ClientSecret = secret })
				}
				return newGeneric(t, f, func(c *providers.OAuth2Config) { c.ClientSecret = secret })
			}
			right := newOAuth2App(t, build(f.secret))
			if err := right.auth.CheckProviders(context.Background()); err != nil {
				t.Fatalf("right secret: %v", err)
			}
			wrong := newOAuth2App(t, build("not-the-secret"))
			err := wrong.auth.CheckProviders(context.Background())
			if !errors.Is(err, ginauth.ErrProviderMisconfigured) || !strings.Contains(err.Error(), "check ClientID and ClientSecret") {
				t.Fatalf("wrong secret: %v", err)
			}
			if n := strings.Count(err.Error(), "ginauth:"); n != 1 {
				t.Errorf("error %q has the ginauth: prefix %d times", err, n)
			}
			name := map[string]string{"github": "github", "generic": "plain"}[kind]
			wrong.failedWith(wrong.browserT(t).signInWith(name), "provider_misconfigured")
		})
	}
}
