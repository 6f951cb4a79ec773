package devprovider_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/devprovider"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// An app under a path prefix, with the development provider below it and
// the test kit signing in through /app/auth.
func TestKitUnderPathPrefix(t *testing.T) {
	t.Parallel()
	r := gin.New()
	base := devApp(t, r) + "/app"
	d, err := devprovider.New(base, devprovider.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Mount(r); err != nil {
		t.Fatal(err)
	}
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   base,
		Secrets:   [][]byte{[]byte("devprovider test secret: at least 32 bytes")},
		Providers: []providers.Provider{d.Provider},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	app := r.Group("/app")
	auth.Register(app.Group("/auth"))
	app.GET("/me", auth.RequireAuth(ginauth.Browser), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, u.Subject+" "+strings.Join(u.Groups, ","))
	})

	c := d.OP.SignIn(t, r, ginauthtest.User{Subject: "ann", Groups: []string{"ops"}}, ginauthtest.WithAuthPath("/app/auth"))
	resp, err := c.Get(base + "/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ann ops" {
		t.Fatalf("/app/me: %d %q, want 200 \"ann ops\"", resp.StatusCode, body)
	}
	in, _ := url.Parse(base + "/me")
	out, _ := url.Parse(strings.TrimSuffix(base, "/app") + "/me")
	if len(c.Jar.Cookies(in)) == 0 || len(c.Jar.Cookies(out)) != 0 {
		t.Errorf("cookies: %d under /app, %d outside it; want some and none", len(c.Jar.Cookies(in)), len(c.Jar.Cookies(out)))
	}
}
