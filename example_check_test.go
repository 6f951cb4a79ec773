package ginauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// This example runs the start-up check on a provider whose issuer was
// copied with a trailing slash: New accepts it, and CheckProviders says what
// to set. A real app logs the error and keeps serving.
func ExampleAuth_CheckProviders() {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()

	oidc, err := providers.OIDC(providers.OIDCConfig{
		Name:         "oidc",
		Issuer:       op.Issuer() + "/", // discovery names it without the slash
		ClientID:     op.ClientID(),
		ClientSecret: op.ClientSecret(),
	})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   "http://127.0.0.1:8080",
		Secrets:   [][]byte{exampleKey()},
		Providers: []providers.Provider{oidc},
	})
	if err != nil {
		log.Fatal(err)
	}

	err = auth.CheckProviders(context.Background())
	fmt.Println(errors.Is(err, ginauth.ErrProviderMisconfigured))
	// The message names the provider and the fix (the issuer varies here).
	fmt.Println(strings.ReplaceAll(err.Error(), op.Issuer(), "<issuer>"))
	// Output:
	// true
	// ginauth: provider oidc: provider misconfigured: issuer mismatch: issuer "<issuer>/" has a trailing slash; discovery says "<issuer>": set Issuer to that
}
