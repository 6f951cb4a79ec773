package devprovider_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/devprovider"
	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// devApp serves r at a loopback URL and returns it: the app's base URL,
// under which the provider's issuer is.
func devApp(t *testing.T, r *gin.Engine) string {
	t.Helper()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL
}

// finishApp adds ginauth with the given providers and a /me route.
func finishApp(t *testing.T, r *gin.Engine, baseURL string, list ...providers.Provider) {
	t.Helper()
	auth, err := ginauth.New(ginauth.Config{
		BaseURL:   baseURL,
		Secrets:   [][]byte{[]byte("devprovider test secret: at least 32 bytes")},
		Providers: list,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	auth.Register(r.Group("/auth"))
	r.GET("/me", auth.RequireAuth(ginauth.Browser), func(c *gin.Context) {
		u, _ := ginauth.UserFrom(c)
		c.String(http.StatusOK, u.Subject+" "+strings.Join(u.Groups, ","))
	})
}

// One call, then a browser's sign-in through the picker page.
func TestMountSignsInThroughThePicker(t *testing.T) {
	t.Parallel()
	r := gin.New()
	base := devApp(t, r)
	dev, err := devprovider.Mount(r, base)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Name() != "dev" || dev.DisplayName() != devprovider.DefaultDisplayName || dev.Issuer() != base+"/dev-oidc" {
		t.Fatalf("provider %q %q %q", dev.Name(), dev.DisplayName(), dev.Issuer())
	}
	finishApp(t, r, base, dev)

	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Jar: jar, Transport: tr}
	// Follows: sign-in → authorize → the picker page.
	resp, err := c.Get(base + "/auth/signin/dev?callbackUrl=/me")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Alice Admin") ||
		!strings.HasPrefix(resp.Request.URL.String(), base+"/dev-oidc/authorize?") {
		t.Fatalf("picker: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	// Choosing alice posts the authorization request back with user=alice.
	form := resp.Request.URL.Query()
	form.Set("user", "alice")
	resp, err = c.PostForm(base+"/dev-oidc/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "alice admin,staff" || resp.Request.URL.Path != "/me" {
		t.Fatalf("after picking alice: %d at %s: %q", resp.StatusCode, resp.Request.URL, body)
	}
}

// New with Options, Mount, and the test kit on the Dev's OP.
func TestNewWithOptionsAndTheKit(t *testing.T) {
	t.Parallel()
	r := gin.New()
	base := devApp(t, r)
	d, err := devprovider.New(base, devprovider.Options{
		Path:        "/local-idp/",
		Name:        "local",
		DisplayName: "Local",
		Users:       []ginauthtest.User{{Subject: "zoe", Groups: []string{"qa"}}},
		EndSession:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Mount(r); err != nil {
		t.Fatal(err)
	}
	finishApp(t, r, base, d.Provider)
	if d.Provider.Name() != "local" || d.OP.Issuer() != base+"/local-idp" {
		t.Fatalf("provider %q at %q", d.Provider.Name(), d.OP.Issuer())
	}
	if users := d.OP.Users(); len(users) != 1 || users[0].Subject != "zoe" {
		t.Fatalf("users %+v", users)
	}
	c := d.OP.SignIn(t, r, ginauthtest.User{Subject: "zoe", Groups: []string{"qa"}})
	resp, err := c.Get(base + "/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "zoe qa" {
		t.Fatalf("/me: %d %q", resp.StatusCode, body)
	}
	// The provider accepts only the app's own redirect URI.
	for _, uri := range []string{base + "/auth/callback/other", "http://evil.example/auth/callback/local"} {
		q := url.Values{"client_id": {d.OP.ClientID()}, "redirect_uri": {uri}, "response_type": {"code"}, "scope": {"openid"}}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/local-idp/authorize?"+q.Encode(), nil))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("redirect_uri %s: %d, want 400", uri, rec.Code)
		}
	}
}

// A base URL with a path (an app behind a proxy that forwards the full
// path): the provider lives under it, and so do its redirect URIs.
func TestBaseURLWithPath(t *testing.T) {
	t.Parallel()
	d, err := devprovider.New("https://example.com/app/", devprovider.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.OP.Issuer() != "https://example.com/app/dev-oidc" {
		t.Fatalf("issuer %q", d.OP.Issuer())
	}
	r := gin.New()
	if err := d.Mount(r); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app/dev-oidc/.well-known/openid-configuration", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"issuer":"https://example.com/app/dev-oidc"`) {
		t.Fatalf("discovery: %d %s", rec.Code, rec.Body)
	}
	q := url.Values{"client_id": {d.OP.ClientID()}, "redirect_uri": {"https://example.com/app/auth/callback/dev"},
		"response_type": {"code"}, "scope": {"openid"}}
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app/dev-oidc/authorize?"+q.Encode(), nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Sign in as") {
		t.Fatalf("authorize with the prefixed redirect URI: %d", rec.Code)
	}
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		base string
		opts devprovider.Options
	}{
		{"", devprovider.Options{}},
		{"ftp://x", devprovider.Options{}},
		{"http://x?q=1", devprovider.Options{}},
		{"/relative", devprovider.Options{}},
		{"http://127.0.0.1:8080", devprovider.Options{Path: "/"}},
		{"http://127.0.0.1:8080", devprovider.Options{Path: "dev"}},
		{"http://127.0.0.1:8080", devprovider.Options{Path: "/a*b"}},
		{"http://127.0.0.1:8080", devprovider.Options{Path: "/a//b"}},
		{"http://127.0.0.1:8080", devprovider.Options{AuthPath: "auth"}},
		{"http://127.0.0.1:8080", devprovider.Options{Users: []ginauthtest.User{{Name: "no subject"}}}},
	}
	for _, tc := range cases {
		if _, err := devprovider.New(tc.base, tc.opts); !errors.Is(err, devprovider.ErrInvalidOptions) {
			t.Errorf("New(%q, %+v): err = %v, want ErrInvalidOptions", tc.base, tc.opts, err)
		}
	}
	// An issuer the app's provider refuses (plain http off loopback).
	if _, err := devprovider.New("http://dev.example.com", devprovider.Options{}); !errors.Is(err, providers.ErrInvalidConfig) {
		t.Errorf("plain http on a public host: err = %v, want providers.ErrInvalidConfig", err)
	}
	// AuthPath "/": the routes at the root.
	if _, err := devprovider.New("http://127.0.0.1:8080", devprovider.Options{AuthPath: "/"}); err != nil {
		t.Errorf("AuthPath /: %v", err)
	}
	op, err := ginauthtest.New("http://127.0.0.1:8080", ginauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := devprovider.MountOP(gin.New(), op); !errors.Is(err, devprovider.ErrInvalidOptions) {
		t.Errorf("MountOP of a root issuer: err = %v, want ErrInvalidOptions", err)
	}
}

// Not parallel: Gin's mode is process-wide.
func TestRefusedInReleaseMode(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	defer gin.SetMode(gin.TestMode)
	if _, err := devprovider.Mount(gin.New(), "http://127.0.0.1:8080"); !errors.Is(err, devprovider.ErrReleaseMode) ||
		strings.Count(err.Error(), "ginauth: ") != 1 {
		t.Fatalf("Mount in release mode: err = %v, want ErrReleaseMode", err)
	}
	if _, err := devprovider.New("http://127.0.0.1:8080", devprovider.Options{InsecureAllowReleaseMode: true}); err != nil {
		t.Fatalf("New with InsecureAllowReleaseMode: %v", err)
	}
}
