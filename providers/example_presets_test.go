package providers_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/ginauth/ginauth/providers"
)

// GitLab signs in against gitlab.com by default; BaseURL selects a
// self-managed instance, which is also the issuer.
func ExampleGitLab() {
	gitlab, err := providers.GitLab(providers.GitLabConfig{
		ClientID:     "application-id",
		ClientSecret: "secret",
		BaseURL:      "https://gitlab.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(gitlab.Name(), gitlab.Issuer())
	// Output: gitlab https://gitlab.example.com
}

// Apple checks its private key at construction: a key that is not a P-256
// PEM is a configuration error, and the message never contains the key.
func ExampleApple() {
	_, err := providers.Apple(providers.AppleConfig{
		ClientID:   "com.example.web", // the Services ID
		TeamID:     "TEAMID1234",
		KeyID:      "KEYID12345",
		PrivateKey: []byte("not a PEM"), // the AuthKey_<KeyID>.p8 file's contents
	})
	fmt.Println(errors.Is(err, providers.ErrInvalidConfig))
	// Output: true
}
