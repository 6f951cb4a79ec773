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
// # Testing an app's handlers
//
// SignIn gives, in one line, an HTTP client signed in to an app as a chosen
// user with chosen claims and groups. It drives the real flow over HTTP (the
// CSRF token, the sign-in form, this Provider's authorize endpoint, the
// app's callback, which exchanges the code at the Provider) with no back
// door into ginauth. The client serves requests to the app's origin (its
// BaseURL's, a name that need not resolve) and to the Provider's
// in-process, with no listener, and does not follow redirects. AccessToken mints a JWT access token (RFC 9068) for
// an API that accepts bearer tokens (ginauth.AcceptBearer):
//
//	func TestAdmin(t *testing.T) {
//		op, err := ginauthtest.Start(ginauthtest.Options{})
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer op.Close()
//		// The app under test, its provider built with Issuer op.Issuer(),
//		// ClientID op.ClientID(), ClientSecret op.ClientSecret(), and
//		// BaseURL "https://app.test".
//		app := newApp(op)
//
//		alice := op.SignIn(t, app, ginauthtest.User{Subject: "alice", Groups: []string{"admin"}})
//		resp, err := alice.Get("https://app.test/admin") // 200
//		...
//		bob := op.SignIn(t, app, ginauthtest.User{Subject: "bob"})
//		resp, err = bob.Get("https://app.test/admin") // 403
//		...
//		req, _ := http.NewRequest("GET", "https://app.test/api/me", nil)
//		req.Header.Set("Authorization", "Bearer "+op.AccessToken(ginauthtest.User{Subject: "carol"}, "my-api"))
//		resp, err = op.Client(t, app).Do(req) // 200
//	}
//
// When the flow fails, SignIn ends the test with what the app or the
// Provider answered and what to check (the auth path, the provider's
// issuer and client, the registered redirect URI, an allow-list).
//
// # Testing a relying party
//
// The knobs test a client's defences:
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
// stripping the prefix. The redirect URI to register is the app's
// <BaseURL><AuthPath>/callback/<provider name>:
//
//	op, err := ginauthtest.New("http://127.0.0.1:8080/dev-oidc", ginauthtest.Options{
//		Picker:       true, // show a page to choose the user
//		RedirectURIs: []string{"http://127.0.0.1:8080/auth/callback/dev"},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("/dev-oidc/", op)                  // net/http
//	router.Any("/dev-oidc/*path", gin.WrapH(op)) // or Gin
//
// Package devprovider does all of this for a Gin app in one call, and
// builds the app's provider too.
//
// The provider signs in fake users without passwords; never expose it in
// production.
package ginauthtest
