package ginauthtest_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

const kitBase = "https://app.example"

// kitApp is an app under test for the kit's tests.
type kitApp struct {
	cfg      ginauth.Config
	provider providers.OIDCConfig
	authPath string // where Register mounts the routes; default "/auth"
	extra    []providers.Provider
}

type kitOption func(*kitApp)

// newKitApp builds a Gin app whose provider "dev" signs in with op, with
// routes that show what a handler sees.
func newKitApp(t testing.TB, op *ginauthtest.Provider, opts ...kitOption) http.Handler {
	t.Helper()
	a := &kitApp{
		cfg: ginauth.Config{
			BaseURL: kitBase,
			Secrets: [][]byte{[]byte("kit test secret: at least 32 bytes long")},
			Logger:  slog.New(slog.DiscardHandler),
		},
		provider: providers.OIDCConfig{
			Name:         "dev",
			Issuer:       op.Issuer(),
			ClientID:     op.ClientID(),
			ClientSecret: op.ClientSecret(),
			Scopes:       []string{"profile", "email"},
		},
		authPath: "/auth",
	}
	for _, o := range opts {
		o(a)
	}
	dev, err := providers.OIDC(a.provider)
	if err != nil {
		t.Fatal(err)
	}
	a.cfg.Providers = append([]providers.Provider{dev}, a.extra...)
	a.cfg.AuthPath = a.authPath
	auth, err := ginauth.New(a.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	auth.Register(r.Group(a.authPath))
	r.GET("/", func(c *gin.Context) { c.String(http.StatusOK, "home") })
	r.GET("/me", auth.RequireAuth(ginauth.Browser), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		dept, _ := u.Claim("dept")
		c.JSON(http.StatusOK, gin.H{"sub": u.Subject, "name": u.Name, "email": u.Email,
			"email_verified": u.EmailVerified, "groups": u.Groups, "dept": dept})
	})
	r.GET("/admin", auth.RequireAuth(ginauth.Browser), ginauth.RequireClaim("groups", "admin"),
		func(c *gin.Context) { c.String(http.StatusOK, "admin area") })
	api := r.Group("/api", auth.RequireAuth(ginauth.API, ginauth.AcceptBearer("kit-api")))
	api.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		b, bearer := ginauth.BearerFrom(c)
		c.JSON(http.StatusOK, gin.H{"sub": u.Subject, "name": u.Name, "groups": u.Groups,
			"bearer": bearer, "scopes": b.Scopes, "client_id": b.ClientID})
	})
	return r
}

// kitGet sends GET url with c and returns the status and body.
func kitGet(t *testing.T, c *http.Client, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// The README's snippet, as a test.
func TestSignInAsChosenUsers(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	app := newKitApp(t, op)

	alice := op.SignIn(t, app, ginauthtest.User{Subject: "alice", Groups: []string{"admin"}})
	bob := op.SignIn(t, app, ginauthtest.User{Subject: "bob"})
	if code, body := kitGet(t, alice, kitBase+"/admin"); code != http.StatusOK || body != "admin area" {
		t.Errorf("alice /admin: %d %q, want 200", code, body)
	}
	if code, _ := kitGet(t, bob, kitBase+"/admin"); code != http.StatusForbidden {
		t.Errorf("bob /admin: %d, want 403", code)
	}
	if code, _ := kitGet(t, op.Client(t, app), kitBase+"/admin"); code != http.StatusFound {
		t.Errorf("signed out /admin: %d, want 302 to the sign-in page", code)
	}
	// Through the real flow: the app exchanged a code at the provider
	// for each sign-in, and asked for the chosen user.
	if c := op.Counts(); c.Authorize != 2 || c.Token != 2 {
		t.Errorf("provider counts %+v, want 2 authorize and 2 token requests", c)
	}
	if got := op.LastAuthorizeRequest().Get("login_hint"); got != "bob" {
		t.Errorf("last authorize login_hint %q, want bob", got)
	}
}

func TestSignInCarriesChosenClaims(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	app := newKitApp(t, op)
	u := ginauthtest.User{
		Subject:       "dora",
		Name:          "Dora Dev",
		Email:         "dora@example.org",
		EmailVerified: true,
		Groups:        []string{"dev", "ops"},
		Extra:         map[string]any{"dept": "R&D"},
	}
	c := op.SignIn(t, app, u)
	code, body := kitGet(t, c, kitBase+"/me")
	want := `{"dept":"R\u0026D","email":"dora@example.org","email_verified":true,"groups":["dev","ops"],"name":"Dora Dev","sub":"dora"}`
	if code != http.StatusOK || body != want {
		t.Fatalf("/me: %d %s\nwant 200 %s", code, body, want)
	}
	// A second SignIn of the same subject replaces the user's claims.
	c = op.SignIn(t, app, ginauthtest.User{Subject: "dora", Groups: []string{"admin"}})
	if code, _ := kitGet(t, c, kitBase+"/admin"); code != http.StatusOK {
		t.Fatalf("dora with group admin /admin: %d, want 200", code)
	}
}

func TestSignInResponseModes(t *testing.T) {
	t.Parallel()
	for _, formPost := range []bool{false, true} {
		t.Run(fmt.Sprintf("form_post=%v", formPost), func(t *testing.T) {
			t.Parallel()
			op := startOP(t, ginauthtest.Options{})
			app := newKitApp(t, op, func(a *kitApp) { a.provider.FormPost = formPost })
			c := op.SignIn(t, app, ginauthtest.User{Subject: "erin"})
			if code, _ := kitGet(t, c, kitBase+"/me"); code != http.StatusOK {
				t.Fatalf("/me: %d", code)
			}
			if got := op.LastAuthorizeRequest().Get("response_mode"); (got == "form_post") != formPost {
				t.Fatalf("response_mode %q", got)
			}
		})
	}
}

// A development provider mounted in the app itself, with the picker page,
// as the example app and devprovider run it: the app's server-side calls
// go over a real listener, the kit's browser requests stay in-process.
func TestSignInWithMountedPickerProvider(t *testing.T) {
	t.Parallel()
	var app http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	op, err := ginauthtest.New(srv.URL+"/dev-oidc", ginauthtest.Options{
		Picker:       true,
		RedirectURIs: []string{srv.URL + "/auth/callback/dev"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	r := newKitApp(t, op, func(a *kitApp) { a.cfg.BaseURL = srv.URL }).(*gin.Engine)
	r.Any("/dev-oidc/*endpoint", gin.WrapH(op))
	app = r

	c := op.SignIn(t, app, ginauthtest.User{Subject: "frank", Groups: []string{"admin"}})
	if code, _ := kitGet(t, c, srv.URL+"/admin"); code != http.StatusOK {
		t.Fatalf("/admin: %d, want 200", code)
	}
	if got := op.LastAuthorizeRequest().Get("user"); got != "frank" {
		t.Fatalf("picker choice %q, want frank", got)
	}
}

func TestSignInConcurrently(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	app := newKitApp(t, op)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			sub := fmt.Sprintf("user%d", i)
			c := op.SignIn(t, app, ginauthtest.User{Subject: sub})
			if c == nil {
				return
			}
			code, body := kitGet(t, c, kitBase+"/me")
			if code != http.StatusOK || !strings.Contains(body, `"sub":"`+sub+`"`) {
				t.Errorf("%s /me: %d %s", sub, code, body)
			}
		})
	}
	wg.Wait()
}

func TestAccessTokenForBearerAPI(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	app := newKitApp(t, op)
	c := op.Client(t, app)
	u := ginauthtest.User{Subject: "svc", Name: "Service", Groups: []string{"admin"}}

	tok := op.AccessToken(u, "kit-api", "read", "write")
	code, body := kitGet(t, c, kitBase+"/api/me", "Authorization", "Bearer "+tok)
	want := `{"bearer":true,"client_id":"ginauth-test-client","groups":["admin"],"name":"Service","scopes":["read","write"],"sub":"svc"}`
	if code != http.StatusOK || body != want {
		t.Fatalf("bearer /api/me: %d %s\nwant 200 %s", code, body, want)
	}

	// The header and claims RFC 9068 asks for.
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var header, claims map[string]any
	for i, v := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, v) != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if header["typ"] != "at+jwt" || header["alg"] != "RS256" || header["kid"] != op.KeyID() {
		t.Errorf("header %v", header)
	}
	for _, k := range []string{"iss", "sub", "aud", "client_id", "iat", "exp", "jti", "scope"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing: %v", k, claims)
		}
	}
	if _, ok := claims["email"]; ok {
		t.Errorf("email claim without an email: %v", claims)
	}

	// Another audience's token is refused with the RFC 6750 answer.
	other := op.AccessToken(u, "another-api")
	if code, _ := kitGet(t, c, kitBase+"/api/me", "Authorization", "Bearer "+other); code != http.StatusUnauthorized {
		t.Fatalf("token for another audience: %d, want 401", code)
	}
	// Extra cannot replace the protocol claims.
	forged := op.AccessToken(ginauthtest.User{Subject: "svc", Extra: map[string]any{"iss": "https://evil.example", "aud": "x", "sub": "root"}}, "kit-api")
	if code, body := kitGet(t, c, kitBase+"/api/me", "Authorization", "Bearer "+forged); code != http.StatusOK || !strings.Contains(body, `"sub":"svc"`) {
		t.Fatalf("token with protocol claims in Extra: %d %s", code, body)
	}
}

func TestClientReachesOnlyAppAndProvider(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := op.Client(t, newKitApp(t, op))
	if code, body := kitGet(t, c, kitBase+"/"); code != http.StatusOK || body != "home" {
		t.Fatalf("app: %d %q", code, body)
	}
	if code, _ := kitGet(t, c, op.URL("/.well-known/openid-configuration")); code != http.StatusOK {
		t.Fatalf("provider discovery: %d", code)
	}
	_, err := c.Get("https://elsewhere.example/")
	if err == nil || !strings.Contains(err.Error(), "not served in-process") {
		t.Fatalf("other origin: err = %v, want a refusal", err)
	}
}

func TestSetUser(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	if err := op.SetUser(ginauthtest.User{Name: "no subject"}); err == nil {
		t.Fatal("SetUser without Subject succeeded")
	}
	groups := []string{"x"}
	if err := op.SetUser(ginauthtest.User{Subject: "alice", Groups: groups}); err != nil {
		t.Fatal(err)
	}
	if err := op.SetUser(ginauthtest.User{Subject: "zed"}); err != nil {
		t.Fatal(err)
	}
	groups[0] = "changed"
	users := op.Users()
	if len(users) != 4 || users[0].Subject != "alice" || users[0].Name != "" ||
		len(users[0].Groups) != 1 || users[0].Groups[0] != "x" || users[3].Subject != "zed" {
		t.Fatalf("users after SetUser: %+v", users)
	}
}

// fakeTB records Fatalf calls instead of ending the test.
type fakeTB struct {
	mu    sync.Mutex
	fatal []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = append(f.fatal, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// The kit fails with a message that says what went wrong and what to check.
func TestSignInFailsClearly(t *testing.T) {
	t.Parallel()
	alice := ginauthtest.User{Subject: "alice", Email: "alice@example.com", EmailVerified: true}
	cases := []struct {
		name  string
		op    ginauthtest.Options
		app   func(t *testing.T, op *ginauthtest.Provider) http.Handler
		user  ginauthtest.User
		opts  []ginauthtest.SignInOption
		wants []string // substrings of the one Fatalf message
	}{
		{
			name:  "empty subject",
			user:  ginauthtest.User{Name: "nobody"},
			wants: []string{"ginauthtest: SignIn: the User has no Subject"},
		},
		{
			name:  "nil app",
			app:   func(*testing.T, *ginauthtest.Provider) http.Handler { return nil },
			wants: []string{"app handler is nil"},
		},
		{
			name: "routes elsewhere",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				return newKitApp(t, op, func(a *kitApp) { a.authPath = "/login"; a.cfg.AuthPath = "/login" })
			},
			wants: []string{"GET /auth/providers answered 404", "WithAuthPath"},
		},
		{
			name: "routes elsewhere, said so",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				return newKitApp(t, op, func(a *kitApp) { a.authPath = "/login" })
			},
			opts: []ginauthtest.SignInOption{ginauthtest.WithAuthPath("/login/")},
		},
		{
			name: "several providers",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				return newKitApp(t, op, withOtherProvider(t, op))
			},
			wants: []string{`several providers ["dev" "other"]`, "WithProvider"},
		},
		{
			name: "several providers, named",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				return newKitApp(t, op, withOtherProvider(t, op))
			},
			opts: []ginauthtest.SignInOption{ginauthtest.WithProvider("dev")},
		},
		{
			name: "a callbackUrl with an error parameter is not a failure",
			opts: []ginauthtest.SignInOption{ginauthtest.WithCallbackURL("/me?error=none")},
		},
		{
			name:  "unknown provider name",
			opts:  []ginauthtest.SignInOption{ginauthtest.WithProvider("google")},
			wants: []string{`no provider named "google"`, `["dev"]`},
		},
		{
			name: "provider of another issuer",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				other := startOP(t, ginauthtest.Options{})
				return newKitApp(t, op, func(a *kitApp) { a.provider.Issuer = other.Issuer() })
			},
			wants: []string{`provider "dev" of the app sends the browser to`, "not to this Provider's", "Issuer op.Issuer()"},
		},
		{
			name: "unreachable issuer",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				return newKitApp(t, op, func(a *kitApp) { a.provider.Issuer = "http://127.0.0.1:1" })
			},
			wants: []string{"answered 503", "could not start the sign-in", "Issuer op.Issuer()", "can the app reach it"},
		},
		{
			name:  "unregistered redirect URI",
			op:    ginauthtest.Options{RedirectURIs: []string{"https://other.example/cb"}},
			wants: []string{"refused the authorization request with 400", "unregistered redirect_uri", "https://app.example/auth/callback/dev", "RedirectURIs"},
		},
		{
			name: "sign-in form refused",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				app := newKitApp(t, op)
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPost {
						http.Error(w, "blocked by a firewall", http.StatusForbidden)
						return
					}
					app.ServeHTTP(w, r)
				})
			},
			wants: []string{`answered 403 "blocked by a firewall"`, "refused the sign-in form", "Origin https://app.example"},
		},
		{
			name: "wrong client secret",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				return newKitApp(t, op, func(a *kitApp) { a.provider.ClientSecret = "wrong" })
			},
			wants: []string{"callback refused the sign-in", "/auth/signin?error=token_exchange", "ClientSecret op.ClientSecret()"},
		},
		{
			name: "refused by an allow-list",
			app: func(t *testing.T, op *ginauthtest.Provider) http.Handler {
				return newKitApp(t, op, func(a *kitApp) { a.cfg.AllowedEmails = []string{"boss@example.com"} })
			},
			user:  alice,
			wants: []string{"403", "allow-list", `"alice"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			op := startOP(t, tc.op)
			var app http.Handler
			if tc.app != nil {
				app = tc.app(t, op)
			} else {
				app = newKitApp(t, op)
			}
			u := tc.user
			if u.Subject == "" && u.Name == "" {
				u = alice
			}
			tb := &fakeTB{}
			c := op.SignIn(tb, app, u, tc.opts...)
			if len(tc.wants) == 0 {
				if c == nil || len(tb.fatal) != 0 {
					t.Fatalf("SignIn failed: %q", tb.fatal)
				}
				if code, _ := kitGet(t, c, kitBase+"/me"); code != http.StatusOK {
					t.Fatalf("/me: %d", code)
				}
				return
			}
			if c != nil || len(tb.fatal) != 1 {
				t.Fatalf("SignIn returned %v with Fatalf calls %q, want nil and one call", c, tb.fatal)
			}
			t.Log(tb.fatal[0])
			for _, w := range tc.wants {
				if !strings.Contains(tb.fatal[0], w) {
					t.Errorf("message %q\nlacks %q", tb.fatal[0], w)
				}
			}
			if !strings.HasPrefix(tb.fatal[0], "ginauthtest: SignIn") {
				t.Errorf("message %q does not start with ginauthtest: SignIn", tb.fatal[0])
			}
		})
	}
}

func TestSignInReportsProviderErrors(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	app := newKitApp(t, op)
	op.SetBehavior(ginauthtest.Behavior{AuthorizeError: "access_denied", AuthorizeErrorDescription: "no entry"})
	tb := &fakeTB{}
	if c := op.SignIn(tb, app, ginauthtest.User{Subject: "alice"}); c != nil || len(tb.fatal) != 1 ||
		!strings.Contains(tb.fatal[0], "error=access_denied (no entry)") {
		t.Fatalf("SignIn = %v, Fatalf %q", c, tb.fatal)
	}
	op.SetBehavior(ginauthtest.Behavior{CorruptSignature: true})
	tb = &fakeTB{}
	if c := op.SignIn(tb, app, ginauthtest.User{Subject: "alice"}); c != nil || len(tb.fatal) != 1 ||
		!strings.Contains(tb.fatal[0], "error=invalid_id_token") || !strings.Contains(tb.fatal[0], "is a Behavior set") {
		t.Fatalf("SignIn = %v, Fatalf %q", c, tb.fatal)
	}
}

func TestClientFailsClearly(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	tb := &fakeTB{}
	if c := op.Client(tb, gin.New()); c != nil || len(tb.fatal) != 1 ||
		!strings.Contains(tb.fatal[0], "ginauthtest: Client: GET /auth/providers answered 404") {
		t.Fatalf("Client = %v, Fatalf %q", c, tb.fatal)
	}
}

// withOtherProvider adds a second OpenID Connect provider, "other".
func withOtherProvider(t *testing.T, op *ginauthtest.Provider) kitOption {
	other := startOP(t, ginauthtest.Options{})
	p, err := providers.OIDC(providers.OIDCConfig{Name: "other", Issuer: other.Issuer(), ClientID: "x", ClientSecret: "y"})
	if err != nil {
		t.Fatal(err)
	}
	return func(a *kitApp) { a.extra = append(a.extra, p) }
}
