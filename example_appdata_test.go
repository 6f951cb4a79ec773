package ginauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
)

// appUser is a user record of the application, as its database would
// hold it, keyed by provider and subject.
type appUser struct {
	id    string
	roles []string
}

// exampleUsers stands in for the application's user table.
var exampleUsers = map[string]appUser{
	"dev/alice": {id: "1001", roles: []string{"editor"}},
	"dev/bob":   {id: "1002", roles: []string{"viewer"}},
}

// lookUpUser is a SignInHook that attaches the application's own user ID
// and roles to the session: handlers and RequireRole then read them from
// the session, with no database call per request.
func lookUpUser(ctx context.Context, in ginauth.SignInAttempt) (ginauth.SignInDecision, error) {
	u, ok := exampleUsers[in.Provider+"/"+in.User.Subject]
	if !ok {
		return ginauth.Deny("Ask an administrator for an account."), nil
	}
	return ginauth.Allow().WithData(ginauth.AppData{
		UserID: u.id,
		Roles:  u.roles,
		Values: map[string]string{"tenant": "acme"},
	}), nil
}

// A SignInHook attaches the application's own data to the session at
// sign-in with WithData; handlers read it with AppDataFrom.
func ExampleSignInDecision_WithData() {
	app := newExampleApp(func(c *ginauth.Config) { c.SignInHook = lookUpUser })
	defer app.Close()

	app.r.GET("/api/me", app.auth.RequireAuth(ginauth.API), func(c *gin.Context) {
		d, _ := ginauth.AppDataFrom(c)
		c.JSON(http.StatusOK, gin.H{"userId": d.UserID, "roles": d.Roles, "tenant": d.Values["tenant"]})
	})

	b := app.browser()
	b.get("/auth/signin/dev?callbackUrl=/api/me")

	// Output:
	// 200 {"roles":["editor"],"tenant":"acme","userId":"1001"}
}

// RequireRole, after RequireAuth, lets a request through only when the
// session's app data holds one of the roles. Here alice is an editor and
// bob a viewer.
func ExampleRequireRole() {
	app := newExampleApp(func(c *ginauth.Config) { c.SignInHook = lookUpUser })
	defer app.Close()

	api := app.r.Group("/api", app.auth.RequireAuth(ginauth.API))
	api.GET("/articles", ginauth.RequireRole("viewer", "editor"), func(c *gin.Context) { c.String(http.StatusOK, "articles") })
	api.POST("/articles", ginauth.RequireRole("editor"), func(c *gin.Context) { c.String(http.StatusCreated, "created") })

	alice := app.browser()
	alice.get("/auth/signin/dev?callbackUrl=/api/articles")
	alice.post("/api/articles", nil)

	app.op.SetNextUser("bob")
	bob := app.browser()
	bob.get("/auth/signin/dev?callbackUrl=/api/articles")
	bob.post("/api/articles", nil)

	// Output:
	// 200 articles
	// 201 created
	// 200 articles
	// 403 {"error":"forbidden"}
}

// SetAppData replaces the app data of the current session, like
// Light-Auth's setAuthSession: here after an administrator made bob an
// editor. It changes state, so it runs in a POST handler that checks the
// CSRF token first.
func ExampleAuth_SetAppData() {
	app := newExampleApp(func(c *ginauth.Config) { c.SignInHook = lookUpUser })
	defer app.Close()
	auth := app.auth

	api := app.r.Group("/api", auth.RequireAuth(ginauth.API))
	api.POST("/refresh-roles", func(c *gin.Context) {
		if err := auth.CheckCSRF(c, c.PostForm("csrfToken")); err != nil {
			c.AbortWithStatus(http.StatusForbidden)
			return
		}
		d, _ := ginauth.AppDataFrom(c)
		d.Roles = []string{"editor"} // as the application's database now says
		err := auth.SetAppData(c, d)
		switch {
		case errors.Is(err, ginauth.ErrNotSignedIn):
			c.AbortWithStatus(http.StatusUnauthorized)
		case err != nil: // out of bounds, too large for cookies, store down
			c.AbortWithStatus(http.StatusInternalServerError)
		default:
			c.String(http.StatusOK, "roles updated")
		}
	})
	api.POST("/articles", ginauth.RequireRole("editor"), func(c *gin.Context) { c.String(http.StatusCreated, "created") })
	api.GET("/me", func(c *gin.Context) {
		d, _ := ginauth.AppDataFrom(c)
		c.JSON(http.StatusOK, gin.H{"userId": d.UserID, "roles": d.Roles})
	})

	app.op.SetNextUser("bob")
	bob := app.browser()
	bob.get("/auth/signin/dev?callbackUrl=/api/me")
	bob.post("/api/articles", nil)
	bob.post("/api/refresh-roles", url.Values{"csrfToken": {bob.csrf()}})
	bob.post("/api/articles", nil) // the same session, now with the editor role
	bob.get("/api/me")

	// Output:
	// 200 {"roles":["viewer"],"userId":"1002"}
	// 403 {"error":"forbidden"}
	// 200 roles updated
	// 201 created
	// 200 {"roles":["editor"],"userId":"1002"}
}
