package main

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/devprovider"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// The development provider (package devprovider) is an in-process OpenID
// Provider (ginauthtest) mounted on the app's own server under devPath. A
// page lets you pick a test user (alice: groups admin and staff; bob: staff;
// carol: no groups), with no password. The app reaches it exactly like a
// real provider: providers.OIDC fetches discovery, keys and tokens over HTTP
// from <GINAUTH_URL>/dev-oidc.
//
// Signing out also ends the user's session at the development provider
// (RP-initiated logout, EndSession): the browser visits its end_session
// endpoint and comes back through <GINAUTH_URL>/auth/signout/complete to the
// callbackUrl, so the example shows the round trip that OIDC_END_SESSION=1
// turns on for a real provider.
const (
	devPath        = devprovider.DefaultPath
	devName        = devprovider.DefaultName
	devDisplayName = devprovider.DefaultDisplayName
)

// devProvider builds the development OpenID Provider for an app served at
// baseURL, and the relying-party side that signs in with it.
func devProvider(baseURL string, tokenTTL time.Duration) (*ginauthtest.Provider, *providers.OIDCProvider, error) {
	d, err := devprovider.New(baseURL, devprovider.Options{
		Path:        devPath,
		Name:        devName,
		DisplayName: devDisplayName,
		AuthPath:    authPath,
		EndSession:  true,
		TokenTTL:    tokenTTL,
		// parseConfig already refuses release mode unless GINAUTH_DEV=1,
		// and warns when it is set.
		InsecureAllowReleaseMode: true,
	})
	if err != nil {
		return nil, nil, err
	}
	return d.OP, d.Provider, nil
}

// mountDevProvider serves op under devPath, below the app's path prefix
// (r's path). The provider routes on the full request path, which gin.WrapH
// leaves untouched.
func mountDevProvider(r *gin.RouterGroup, op *ginauthtest.Provider) {
	r.Any(devPath+"/*endpoint", gin.WrapH(op))
}
