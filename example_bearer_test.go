package ginauth_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/ginauthtest"
)

// An API group that accepts the session cookie and, for other clients,
// RFC 9068 access tokens issued for its audience by a configured OpenID
// Connect provider. Handlers read the user the same way either way.
func ExampleAcceptBearer() {
	app := newExampleApp()
	defer app.Close()

	api := app.r.Group("/api", app.auth.RequireAuth(ginauth.API, ginauth.AcceptBearer("https://api.example.com")))
	api.GET("/me", func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		if b, ok := ginauth.BearerFrom(c); ok {
			c.String(http.StatusOK, "%s by bearer token, scopes %v", u.Subject, b.Scopes)
			return
		}
		c.String(http.StatusOK, "%s by session", u.Subject)
	})

	call := func(token string) {
		req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/api/me", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, resp.Header.Values("WWW-Authenticate"), string(body))
	}
	call(app.op.AccessToken(ginauthtest.User{Subject: "svc-reports"}, "https://api.example.com", "reports:read"))
	call(app.op.AccessToken(ginauthtest.User{Subject: "svc-reports"}, "https://other.example.com"))
	call("")

	alice := app.browser()
	alice.get("/auth/signin/dev?callbackUrl=/api/me")

	// Output:
	// 200 [] svc-reports by bearer token, scopes [reports:read]
	// 401 [Bearer realm="ginauth", error="invalid_token"] {"error":"invalid_token"}
	// 401 [Bearer realm="ginauth" Cookie realm="ginauth"] {"error":"unauthenticated"}
	// 200 alice by session
}
