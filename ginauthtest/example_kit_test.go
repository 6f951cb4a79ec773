package ginauthtest_test

import (
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// fatal stands for the *testing.T of a real test, which is what you pass
// to SignIn and Client there.
type fatal struct{}

func (fatal) Helper()                           {}
func (fatal) Fatalf(format string, args ...any) { log.Fatalf(format, args...) }

// newApp is the app under test, built as in production: only its provider
// is this Provider.
func newApp(op *ginauthtest.Provider) (http.Handler, error) {
	dev, err := providers.OIDC(providers.OIDCConfig{
		Name:         "dev",
		Issuer:       op.Issuer(),
		ClientID:     op.ClientID(),
		ClientSecret: op.ClientSecret(),
		Scopes:       []string{"profile", "email"},
	})
	if err != nil {
		return nil, err
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   "https://app.example", // any origin: the kit serves it in-process
		Secrets:   [][]byte{[]byte("example secret: at least 32 bytes long")},
		Providers: []providers.Provider{dev},
	})
	if err != nil {
		return nil, err
	}
	r := gin.New()
	auth.Register(r.Group("/auth"))
	admin := r.Group("/admin", auth.RequireAuth(ginauth.Browser), ginauth.RequireClaim("groups", "admin"))
	admin.GET("", func(c *gin.Context) { c.String(http.StatusOK, "admin area") })
	api := r.Group("/api", auth.RequireAuth(ginauth.API, ginauth.AcceptBearer("my-api")))
	api.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.JSON(http.StatusOK, gin.H{"sub": u.Subject, "groups": u.Groups})
	})
	return r, nil
}

// get prints the status (and body, for a 200) of GET url with client c.
func get(who string, c *http.Client, url string, header ...string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		fmt.Println(who, resp.StatusCode)
		return
	}
	fmt.Println(who, resp.StatusCode, string(body))
}

// Sign in to an app's router as chosen users through the real flow, and
// call its API with a bearer token minted by the provider.
func ExampleProvider_SignIn() {
	op, err := ginauthtest.Start(ginauthtest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer op.Close()
	app, err := newApp(op)
	if err != nil {
		log.Fatal(err)
	}
	t := fatal{} // in a test: t *testing.T

	alice := op.SignIn(t, app, ginauthtest.User{Subject: "alice", Groups: []string{"admin"}})
	bob := op.SignIn(t, app, ginauthtest.User{Subject: "bob", Name: "Bob"})
	nobody := op.Client(t, app)
	get("alice", alice, "https://app.example/admin")
	get("bob", bob, "https://app.example/admin")
	get("nobody", nobody, "https://app.example/admin")

	token := op.AccessToken(ginauthtest.User{Subject: "carol", Groups: []string{"staff"}}, "my-api")
	get("bearer", nobody, "https://app.example/api/me", "Authorization", "Bearer "+token)
	// Output:
	// alice 200 admin area
	// bob 403
	// nobody 302
	// bearer 200 {"groups":["staff"],"sub":"carol"}
}
