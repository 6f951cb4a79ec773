package providers_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"strings"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// OIDC builds a provider from its issuer alone: the endpoints come from the
// issuer's discovery document, fetched on first use, so construction does no
// network I/O and cannot fail because the provider is down. It checks the
// configuration instead, and errors.Is tells a mistake apart.
func ExampleOIDC() {
	keycloak, err := providers.OIDC(providers.OIDCConfig{
		Name:         "keycloak", // the route name: /auth/signin/keycloak
		DisplayName:  "Company SSO",
		Issuer:       "https://sso.example.com/realms/acme", // compared as an exact string
		ClientID:     "my-app",
		ClientSecret: "client-secret", // empty for a public client (PKCE only)
		Scopes:       []string{"profile", "email"},
		EndSession:   true, // sign-out also ends the session at Keycloak
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keycloak.Name(), "|", keycloak.DisplayName(), "|", keycloak.Issuer())

	// Mistakes are reported at construction.
	_, err = providers.OIDC(providers.OIDCConfig{
		Name:     "keycloak",
		Issuer:   "http://sso.example.com/realms/acme", // plain http outside loopback
		ClientID: "my-app",
	})
	fmt.Println(errors.Is(err, providers.ErrInvalidConfig))
	_, err = providers.OIDC(providers.OIDCConfig{
		Name:        "keycloak",
		Issuer:      "https://sso.example.com/realms/acme",
		ClientID:    "my-app",
		SigningAlgs: []string{"HS256"}, // symmetric algorithms are never accepted
	})
	fmt.Println(errors.Is(err, providers.ErrInvalidConfig))

	// Output:
	// keycloak | Company SSO | https://sso.example.com/realms/acme
	// true
	// true
}

// Metadata returns the provider's discovery document, fetched (and checked:
// its issuer must be the configured one) on first use. Here the provider is
// the in-process test provider of package ginauthtest.
func ExampleOIDCProvider_Metadata() {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()

	p, err := providers.OIDC(providers.OIDCConfig{
		Name:         "dev",
		Issuer:       op.Issuer(), // http is accepted on loopback hosts
		ClientID:     op.ClientID(),
		ClientSecret: op.ClientSecret(),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("discovery requests before:", op.Counts().Discovery)
	meta, err := p.Metadata(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("discovery requests after:", op.Counts().Discovery)
	fmt.Println("issuer matches:", meta.Issuer == op.Issuer())
	fmt.Println("token endpoint:", strings.TrimPrefix(meta.TokenEndpoint, op.Issuer()))
	fmt.Println("PKCE methods:", meta.CodeChallengeMethodsSupported)

	// Output:
	// discovery requests before: 0
	// discovery requests after: 1
	// issuer matches: true
	// token endpoint: /token
	// PKCE methods: [S256]
}

// Google is the OpenID Connect preset for Google: issuer
// https://accounts.google.com, name "google", scopes "email profile".
// Offline asks for a refresh token (so that Auth.AccessToken can refresh),
// and HostedDomain restricts sign-in to one Google Workspace domain: sent as
// a hint, and enforced on the ID token's hd claim.
func ExampleGoogle() {
	google, err := providers.Google(providers.GoogleConfig{
		ClientID:     "1234.apps.googleusercontent.com",
		ClientSecret: "client-secret",
		Offline:      true,
		HostedDomain: "example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(google.Name(), "|", google.DisplayName(), "|", google.Issuer())

	// "*" (any domain) would not restrict anything: it is refused.
	_, err = providers.Google(providers.GoogleConfig{ClientID: "id", HostedDomain: "*"})
	fmt.Println(errors.Is(err, providers.ErrInvalidConfig))

	// Output:
	// google | Google | https://accounts.google.com
	// true
}

// What the Google preset asks for in its authorization requests. ginauth
// builds these requests itself (with fresh state, nonce and PKCE values);
// the example calls AuthCodeURL directly to show them. Issuer points the
// preset at a local test provider instead of Google: tests only.
func ExampleGoogle_authorizationRequest() {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()

	google, err := providers.Google(providers.GoogleConfig{
		ClientID:     op.ClientID(),
		ClientSecret: op.ClientSecret(),
		Offline:      true,
		HostedDomain: "example.com",
		Issuer:       op.Issuer(), // tests only
	})
	if err != nil {
		log.Fatal(err)
	}
	authURL, err := google.AuthCodeURL(context.Background(), providers.AuthRequest{
		RedirectURI:   "https://app.example.com/auth/callback/google",
		State:         "state-value",
		Nonce:         "nonce-value",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", // RFC 7636 Appendix B
	})
	if err != nil {
		log.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		log.Fatal(err)
	}
	q := u.Query()
	for _, k := range []string{"scope", "access_type", "prompt", "hd", "code_challenge_method"} {
		fmt.Printf("%s=%s\n", k, q.Get(k))
	}

	// Output:
	// scope=openid email profile
	// access_type=offline
	// prompt=consent
	// hd=example.com
	// code_challenge_method=S256
}
