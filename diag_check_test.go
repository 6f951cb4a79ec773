package ginauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// checkApp returns an Auth with one OIDC provider "test" for op, configured
// by cfg's changes.
func checkApp(t *testing.T, op *ginauthtest.Provider, change func(*providers.OIDCConfig)) *ginauth.Auth {
	t.Helper()
	cfg := providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret()}
	if change != nil {
		change(&cfg)
	}
	p, err := providers.OIDC(cfg)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := ginauth.New(ginauth.Config{BaseURL: "https://app.example.com", Secrets: [][]byte{testSecret}, Providers: []providers.Provider{p}})
	if err != nil {
		t.Fatal(err)
	}
	return auth
}

// TestDiag_CheckProviders: the start-up check passes a right configuration
// and names the provider and the fix for each mistake that New cannot see.
func TestDiag_CheckProviders(t *testing.T) {
	t.Parallel()
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	ctx := context.Background()

	if err := checkApp(t, op, nil).CheckProviders(ctx); err != nil {
		t.Fatalf("right configuration: %v", err)
	}
	cases := []struct {
		name   string
		change func(*providers.OIDCConfig)
		behave ginauthtest.Behavior
		want   []error
		text   []string
	}{
		{"issuer with a trailing slash", func(c *providers.OIDCConfig) { c.Issuer += "/" }, ginauthtest.Behavior{},
			[]error{ginauth.ErrProviderMisconfigured, ginauth.ErrIssuerMismatch},
			[]string{"provider test:", `issuer "` + op.Issuer() + `/" has a trailing slash; discovery says "` + op.Issuer() + `": set Issuer to that`}},
		{"discovery names a trailing slash", nil, ginauthtest.Behavior{DiscoveryIssuer: op.Issuer() + "/"},
			[]error{ginauth.ErrProviderMisconfigured, ginauth.ErrIssuerMismatch},
			[]string{"lacks the trailing slash", "set Issuer to that"}},
		{"Entra multi-tenant template", nil, ginauthtest.Behavior{DiscoveryIssuer: "https://login.microsoftonline.com/{tenantid}/v2.0"},
			[]error{ginauth.ErrProviderMisconfigured},
			[]string{"multi-tenant issuer template", "providers.Microsoft"}},
		{"another issuer", nil, ginauthtest.Behavior{DiscoveryIssuer: "https://elsewhere.example.com"},
			[]error{ginauth.ErrProviderMisconfigured},
			[]string{`discovery names issuer "https://elsewhere.example.com"`}},
		{"wrong client secret", func(c *providers.OIDCConfig) { c.ClientSecret = "wrong" }, ginauthtest.Behavior{},
			[]error{ginauth.ErrProviderMisconfigured, ginauth.ErrTokenExchange},
			[]string{"invalid_client", "check ClientID and ClientSecret"}},
		{"discovery down", nil, ginauthtest.Behavior{DiscoveryDown: true},
			[]error{ginauth.ErrProviderUnavailable},
			[]string{"provider test:", "discovery at " + op.Issuer() + "/.well-known/openid-configuration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op.SetBehavior(tc.behave)
			defer op.SetBehavior(ginauthtest.Behavior{})
			err := checkApp(t, op, tc.change).CheckProviders(ctx)
			if err == nil {
				t.Fatal("CheckProviders passed")
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not wrap %q", err, w)
				}
			}
			for _, s := range tc.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if n := strings.Count(err.Error(), "ginauth:"); n != 1 {
				t.Errorf("error %q has the ginauth: prefix %d times", err, n)
			}
		})
	}
	if err := checkApp(t, op, nil).CheckProviders(ctx, "nope"); !errors.Is(err, ginauth.ErrUnknownProvider) {
		t.Fatalf("unknown name: %v", err)
	}
}
