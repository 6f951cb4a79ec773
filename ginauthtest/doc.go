// Package ginauthtest is an in-process OpenID Connect Provider (OP) for tests
// and local development.
//
// It implements discovery, JWKS, the authorization code flow with PKCE (S256
// only), the query and form_post response modes, RFC 9207 iss in
// authorization responses, refresh-token rotation, UserInfo, token revocation
// (RFC 7009) and RP-Initiated Logout. ID tokens are RS256 JWTs signed by a
// 2048-bit RSA key generated per Provider.
//
// A Behavior installed with SetBehavior makes the provider misbehave in
// controlled ways (bad signatures, wrong issuer, huge or hanging responses,
// …) so that a relying party's defences can be tested. Counts and the Last*
// methods let a test observe what the client sent.
//
// The package has no global state: every Provider is independent and safe
// for concurrent use.
//
// # Tests
//
//	func TestLogin(t *testing.T) {
//		op, err := ginauthtest.Start(ginauthtest.Options{})
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer op.Close()
//		op.SetNextUser("bob")
//		// Point the client at op.Issuer(), op.ClientID(), op.ClientSecret()
//		// and drive a sign-in; then inspect op.Counts(), op.LastTokenAuth()...
//		op.SetBehavior(ginauthtest.Behavior{CorruptSignature: true})
//		// ...and check that the client now refuses the ID token.
//	}
//
// # Development server
//
// New builds a Provider for a given issuer URL so it can be mounted inside an
// existing server; it routes on the full request path, so mount it without
// stripping the prefix:
//
//	op, err := ginauthtest.New("http://127.0.0.1:8080/dev-oidc", ginauthtest.Options{
//		Picker:       true, // show a page to choose the user
//		RedirectURIs: []string{"http://127.0.0.1:8080/auth/callback"},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("/dev-oidc/", op)                  // net/http
//	router.Any("/dev-oidc/*path", gin.WrapH(op)) // or Gin
//
// The provider signs in fake users without passwords; never expose it in
// production.
package ginauthtest
