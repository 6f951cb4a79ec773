package ginauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// exampleApp is the set-up the examples below share: the in-process
// provider of package ginauthtest (it approves every sign-in at once, as
// alice unless told otherwise), an app served on a loopback httptest server
// with the auth routes at /auth, and a provider named "dev" pointing at the
// test provider.
type exampleApp struct {
	op   *ginauthtest.Provider
	srv  *httptest.Server
	r    *gin.Engine
	auth *ginauth.Auth
}

// newExampleApp starts the set-up; opts may change the Config before New.
func newExampleApp(opts ...func(*ginauth.Config)) *exampleApp {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	srv := httptest.NewServer(r)
	dev, err := providers.OIDC(providers.OIDCConfig{
		Name:         "dev",
		Issuer:       op.Issuer(),
		ClientID:     op.ClientID(),
		ClientSecret: op.ClientSecret(),
		Scopes:       []string{"profile", "email"},
	})
	if err != nil {
		log.Fatal(err)
	}
	cfg := ginauth.Config{
		BaseURL:   srv.URL, // plain http is accepted on loopback hosts only
		Secrets:   [][]byte{exampleKey()},
		Providers: []providers.Provider{dev},
	}
	for _, o := range opts {
		o(&cfg)
	}
	auth, err := ginauth.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	auth.Register(r.Group("/auth"))
	return &exampleApp{op: op, srv: srv, r: r, auth: auth}
}

func (a *exampleApp) Close() {
	a.srv.Close()
	a.op.Close()
}

// exampleBrowser is an HTTP client with a cookie jar, as a browser.
type exampleBrowser struct {
	base   string
	client *http.Client
}

// browser returns a new browser (a cookie jar of its own).
func (a *exampleApp) browser() *exampleBrowser {
	jar, _ := cookiejar.New(nil)
	return &exampleBrowser{base: a.srv.URL, client: &http.Client{Jar: jar}}
}

// show prints the status and body of the answer to a request, after
// following redirects.
func (b *exampleBrowser) show(resp *http.Response, err error) {
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", string(body))))
}

func (b *exampleBrowser) get(path string) { b.show(b.client.Get(b.base + path)) }

func (b *exampleBrowser) post(path string, form url.Values) {
	b.show(b.client.PostForm(b.base+path, form))
}

// csrf returns the browser's CSRF token, from the /auth/csrf route (a page
// of the app would rather put Auth.CSRFToken in its forms).
func (b *exampleBrowser) csrf() string {
	resp, err := b.client.Get(b.base + "/auth/csrf")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Token string `json:"csrfToken"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		log.Fatal(err)
	}
	return v.Token
}

// SignIn starts a sign-in from a handler of the app, like Light-Auth's
// server-side signIn(providerName, callbackUrl): here a form of the app's
// own page posts to /login. The handler checks the CSRF token first, then
// SignIn answers 303 to the provider; once the user is back, ginauth sends
// the browser to the callback URL.
func ExampleAuth_SignIn() {
	app := newExampleApp()
	defer app.Close()
	auth := app.auth

	app.r.GET("/", func(c *gin.Context) {
		// A real page renders a form: <input type="hidden" name="csrfToken" value="...">.
		c.String(http.StatusOK, auth.CSRFToken(c))
	})
	app.r.POST("/login", func(c *gin.Context) {
		if err := auth.CheckCSRF(c, c.PostForm("csrfToken")); err != nil {
			c.AbortWithStatus(http.StatusForbidden)
			return
		}
		// On failure (an unknown provider, a provider that is down) SignIn
		// has already answered with an error page; the error is for logs.
		_ = auth.SignIn(c, "dev", "/app/me")
	})
	app.r.GET("/app/me", auth.RequireAuth(ginauth.Browser), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, "hello "+u.Subject)
	})

	b := app.browser()
	b.post("/login", url.Values{"csrfToken": {"forged"}})

	resp, err := b.client.Get(b.base + "/")
	if err != nil {
		log.Fatal(err)
	}
	token, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.post("/login", url.Values{"csrfToken": {string(token)}}) // to the provider and back

	// Output:
	// 403
	// 200 hello alice
}

// SignOut ends the session from a handler of the app, like Light-Auth's
// server-side signOut(revokeToken, callbackUrl). Call it from a POST
// handler after CheckCSRF: a GET must never sign anyone out. RevokeToken
// also revokes the provider's tokens (RFC 7009), best effort: a failing
// revocation never keeps the session alive.
func ExampleAuth_SignOut() {
	app := newExampleApp()
	defer app.Close()
	auth := app.auth

	app.r.POST("/logout", func(c *gin.Context) {
		if err := auth.CheckCSRF(c, c.PostForm("csrfToken")); err != nil {
			c.AbortWithStatus(http.StatusForbidden)
			return
		}
		// Ends the session (store entry and cookies), revokes the tokens,
		// and answers 303 to "/bye". Its error reports a session store that
		// could not be reached (it has answered 503 then).
		_ = auth.SignOut(c, ginauth.SignOut{RevokeToken: true, CallbackURL: "/bye"})
	})
	app.r.GET("/bye", func(c *gin.Context) { c.String(http.StatusOK, "signed out") })
	app.r.GET("/api/me", auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, "hello "+u.Subject)
	})

	b := app.browser()
	b.get("/auth/signin/dev?callbackUrl=/api/me")
	b.post("/logout", url.Values{"csrfToken": {b.csrf()}})
	b.get("/api/me")
	fmt.Println("revocation requests:", app.op.Counts().Revoke > 0)

	// Output:
	// 200 hello alice
	// 200 signed out
	// 401 {"error":"unauthenticated"}
	// revocation requests: true
}

// AccessToken returns the provider's access token for calling the
// provider's APIs from the server, refreshed first when it is about to
// expire. The token never goes to the browser. errors.Is tells why there is
// none: no session, a session that the refusal of its refresh ended, or a
// provider or store that is down (the session is kept: try again later).
func ExampleAuth_AccessToken() {
	app := newExampleApp()
	defer app.Close()
	auth := app.auth
	userinfo := app.op.URL("/userinfo") // an API of the provider
	apiClient := &http.Client{Timeout: 10 * time.Second}

	app.r.GET("/api/profile", auth.LoadSession(), func(c *gin.Context) {
		tok, err := auth.AccessToken(c)
		switch {
		case errors.Is(err, ginauth.ErrNotSignedIn), errors.Is(err, ginauth.ErrSessionEnded):
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "sign in first"})
			return
		case errors.Is(err, ginauth.ErrProviderUnavailable), errors.Is(err, ginauth.ErrStoreUnavailable):
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "try again"})
			return
		case err != nil:
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		req, _ := http.NewRequestWithContext(c.Request.Context(), http.MethodGet, userinfo, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := apiClient.Do(req)
		if err != nil {
			c.AbortWithStatus(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var info struct {
			Email string `json:"email"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&info)
		c.JSON(http.StatusOK, gin.H{"email": info.Email})
	})

	b := app.browser()
	b.get("/api/profile")
	b.get("/auth/signin/dev?callbackUrl=/api/profile")

	// Output:
	// 401 {"error":"sign in first"}
	// 200 {"email":"alice@example.com"}
}

// RequireClaim, after RequireAuth, lets a request through only when the
// user's claim holds one of the values; the claim may be a string or a list
// of strings, such as groups. Here alice is in the groups admin and staff,
// bob only in staff.
func ExampleRequireClaim() {
	app := newExampleApp()
	defer app.Close()

	admin := app.r.Group("/admin", app.auth.RequireAuth(ginauth.Browser), ginauth.RequireClaim("groups", "admin"))
	admin.GET("", func(c *gin.Context) { c.String(http.StatusOK, "admin area") })
	staff := app.r.Group("/staff", app.auth.RequireAuth(ginauth.Browser), ginauth.RequireClaim("groups", "admin", "staff"))
	staff.GET("", func(c *gin.Context) { c.String(http.StatusOK, "staff area") })

	alice := app.browser()
	alice.get("/auth/signin/dev?callbackUrl=/admin")

	app.op.SetNextUser("bob")
	bob := app.browser()
	bob.get("/auth/signin/dev?callbackUrl=/staff")
	resp, err := bob.client.Get(bob.base + "/admin")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	// Output:
	// 200 admin area
	// 200 staff area
	// 403
}
