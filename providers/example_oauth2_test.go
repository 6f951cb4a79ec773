package providers_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ginauth/ginauth/providers"
)

// GitHub signs users in with an OAuth app; AllowedTeams lets only members of
// one team in, and their orgs and teams become groups values.
func ExampleGitHub() {
	gh, err := providers.GitHub(providers.GitHubConfig{
		ClientID:     "Iv1.0123456789abcdef",
		ClientSecret: "client-secret",
		AllowedTeams: []string{"acme/admins"}, // adds the read:org scope
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(gh.Name(), "|", gh.Issuer())
	// Output: github | https://github.com
}

// OAuth2 takes a provider without ID tokens: MapUser picks a stable subject
// (never a login name or an email address) from the user endpoint's JSON.
func ExampleOAuth2() {
	p, err := providers.OAuth2(providers.OAuth2Config{
		Name:          "acme",
		AuthURL:       "https://auth.acme.example/oauth/authorize",
		TokenURL:      "https://auth.acme.example/oauth/token",
		UserURL:       "https://api.acme.example/v1/me",
		RevocationURL: "https://auth.acme.example/oauth/revoke",
		ClientID:      "my-app",
		ClientSecret:  "client-secret",
		Scopes:        []string{"profile"},
		MapUser: func(ctx context.Context, api *providers.OAuth2API, user map[string]any) (*providers.OAuth2User, error) {
			id, _ := user["user_id"].(string)
			name, _ := user["display_name"].(string)
			return &providers.OAuth2User{Subject: id, Name: name}, nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Name(), "|", p.Issuer())
	// Output: acme | https://auth.acme.example
}
