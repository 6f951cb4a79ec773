package ginauth_test

import (
	"crypto/rand"
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

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// exampleKey returns a fresh 32-byte secret. A real app loads its secrets
// from configuration, so that sessions survive restarts.
func exampleKey() []byte {
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

// This example signs a user in and out with the in-process provider of
// package ginauthtest, driving the app with an HTTP client and a cookie jar
// as a browser would.
func Example() {
	// A provider that approves every sign-in at once, as user "alice".
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()

	r := gin.New()
	srv := httptest.NewServer(r) // plain http is accepted on loopback hosts only
	defer srv.Close()

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
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   srv.URL,
		Secrets:   [][]byte{exampleKey()},
		Providers: []providers.Provider{dev},
	})
	if err != nil {
		log.Fatal(err)
	}
	auth.Register(r.Group("/auth"))
	api := r.Group("/api", auth.RequireAuth(ginauth.API))
	api.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.JSON(http.StatusOK, gin.H{"sub": u.Subject, "email": u.Email, "groups": u.Groups})
	})

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	show := func(resp *http.Response, err error) {
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	}

	// Sign in: ginauth redirects to the provider, which redirects back to
	// the callback, which redirects to callbackUrl.
	show(browser.Get(srv.URL + "/auth/signin/dev?callbackUrl=" + url.QueryEscape("/api/me")))

	// Sign out: a POST with the CSRF token (a GET never signs anyone out).
	resp, err := browser.Get(srv.URL + "/auth/csrf")
	if err != nil {
		log.Fatal(err)
	}
	var csrf struct {
		Token string `json:"csrfToken"`
	}
	err = json.NewDecoder(resp.Body).Decode(&csrf)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	resp, err = browser.PostForm(srv.URL+"/auth/signout", url.Values{"csrfToken": {csrf.Token}, "callbackUrl": {"/api/me"}})
	show(resp, err)

	// Output:
	// 200 {"email":"alice@example.com","groups":["admin","staff"],"sub":"alice"}
	// 401 {"error":"unauthenticated"}
}

// RequireAuth answers a request without a valid session according to its
// mode: 401 JSON for APIs, a redirect to the sign-in page for browsers.
func ExampleAuth_RequireAuth() {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()
	dev, err := providers.OIDC(providers.OIDCConfig{
		Name: "dev", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(),
	})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   "https://app.example.com",
		Secrets:   [][]byte{exampleKey()},
		Providers: []providers.Provider{dev},
	})
	if err != nil {
		log.Fatal(err)
	}

	r := gin.New()
	auth.Register(r.Group("/auth"))
	api := r.Group("/api", auth.RequireAuth(ginauth.API))
	api.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.JSON(http.StatusOK, u)
	})
	app := r.Group("/app", auth.RequireAuth(ginauth.Browser))
	app.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, "hello "+u.Name)
	})

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/me", nil))
	fmt.Println(rec.Code, rec.Body.String())

	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app/me?tab=2", nil))
	loc, _ := url.Parse(rec.Header().Get("Location"))
	fmt.Println(rec.Code, loc.Path, "callbackUrl="+loc.Query().Get("callbackUrl"))

	// Output:
	// 401 {"error":"unauthenticated"}
	// 302 /auth/signin callbackUrl=/app/me?tab=2
}

// New checks the whole configuration up front: a mistake is reported here,
// never while serving requests, and errors.Is tells which one it is.
func ExampleNew() {
	google, err := providers.OIDC(providers.OIDCConfig{
		Name:         "google",
		Issuer:       "https://accounts.google.com", // discovery happens on first use, not here
		ClientID:     "client-id",
		ClientSecret: "client-secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	cfg := ginauth.Config{
		BaseURL:   "https://app.example.com",
		Secrets:   [][]byte{exampleKey()},
		Providers: []providers.Provider{google},
	}

	weak := cfg
	weak.Secrets = [][]byte{[]byte("too short")}
	_, err = ginauth.New(weak)
	fmt.Println(errors.Is(err, ginauth.ErrInvalidConfig), errors.Is(err, ginauth.ErrWeakSecret))

	plain := cfg
	plain.BaseURL = "http://app.example.com" // plain http outside loopback
	_, err = ginauth.New(plain)
	fmt.Println(errors.Is(err, ginauth.ErrInvalidBaseURL))

	auth, err := ginauth.New(cfg)
	fmt.Println(auth != nil, err)

	// Output:
	// true true
	// true
	// true <nil>
}
