package ginauth

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
)

// TestPrefix_URLsAndRegister: with a path in BaseURL, AuthPath defaults to
// <prefix>/auth, every URL ginauth builds keeps the prefix, and Register
// wants the group at the full path.
func TestPrefix_URLsAndRegister(t *testing.T) {
	for _, tc := range []struct {
		name, baseURL, authPath  string
		wantAuthPath, wantSignIn string
		wantCallback, wantLogout string
		wantHome                 string
		groupOK, groupWrong      string
	}{
		{"no prefix", "https://app.example", "", "/auth",
			"https://app.example/auth/signin", "https://app.example/auth/callback/p", "https://app.example/auth/signout/complete",
			"https://app.example/", "/auth", "/app/auth"},
		{"prefix", "https://app.example/app", "", "/app/auth",
			"https://app.example/app/auth/signin", "https://app.example/app/auth/callback/p", "https://app.example/app/auth/signout/complete",
			"https://app.example/app/", "/app/auth", "/auth"},
		{"prefix with trailing slash", "https://app.example/app/", "", "/app/auth",
			"https://app.example/app/auth/signin", "https://app.example/app/auth/callback/p", "https://app.example/app/auth/signout/complete",
			"https://app.example/app/", "/app/auth/", "/app"},
		{"nested prefix and AuthPath", "https://app.example/a/b", "/a/b/login", "/a/b/login",
			"https://app.example/a/b/login/signin", "https://app.example/a/b/login/callback/p", "https://app.example/a/b/login/signout/complete",
			"https://app.example/a/b/", "/a/b/login", "/login"},
		{"AuthPath at the prefix", "https://app.example/app", "/app", "/app",
			"https://app.example/app/signin", "https://app.example/app/callback/p", "https://app.example/app/signout/complete",
			"https://app.example/app/", "/app", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(Config{
				BaseURL: tc.baseURL, AuthPath: tc.authPath,
				Secrets:   [][]byte{[]byte("0123456789abcdef0123456789abcdef-unit")},
				Providers: []providers.Provider{stubProvider{name: "p"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if a.authPath != tc.wantAuthPath {
				t.Errorf("auth path %q, want %q", a.authPath, tc.wantAuthPath)
			}
			for _, c := range []struct{ got, want string }{
				{a.url("/signin"), tc.wantSignIn},
				{a.redirectURI("p"), tc.wantCallback},
				{a.url("/signout/complete"), tc.wantLogout},
				{a.redirects.Default(), tc.wantHome},
				{a.providerInfos()[0].SignInURL, strings.TrimSuffix(tc.wantSignIn, "/signin") + "/signin/p"},
				{a.ClientScriptURL(), strings.TrimSuffix(tc.wantAuthPath, "/") + "/client.js?v=" + clientVersion},
			} {
				if c.got != c.want {
					t.Errorf("got %q, want %q", c.got, c.want)
				}
			}
			register := func(group string) (panicked bool) {
				defer func() { panicked = recover() != nil }()
				a.Register(gin.New().Group(group))
				return false
			}
			if register(tc.groupOK) {
				t.Errorf("Register(%q) panicked", tc.groupOK)
			}
			if !register(tc.groupWrong) {
				t.Errorf("Register(%q) did not panic", tc.groupWrong)
			}
		})
	}
}

// TestPrefix_CookieNames: the names and Path of the cookies by scheme, path
// prefix and CookieName. __Host- needs Secure and Path=/; with a path
// prefix the cookies are scoped to it and take __Secure-.
func TestPrefix_CookieNames(t *testing.T) {
	for _, tc := range []struct {
		name, cookieName, basePath, authPath string
		secure                               bool
		session, tokens, csrf, logout, path  string
		flow, flowPath                       string
	}{
		{"https at the root", "ginauth", "", "/auth", true,
			"__Host-ginauth", "__Host-ginauth-tokens", "__Host-ginauth-csrf", "__Host-ginauth-logout", "/",
			"__Secure-ginauth-flow-", "/auth"},
		{"https at the root, auth routes at the root", "ginauth", "", "/", true,
			"__Host-ginauth", "__Host-ginauth-tokens", "__Host-ginauth-csrf", "__Host-ginauth-logout", "/",
			"__Host-ginauth-flow-", "/"},
		{"https under a prefix", "ginauth", "/app", "/app/auth", true,
			"__Secure-ginauth", "__Secure-ginauth-tokens", "__Secure-ginauth-csrf", "__Secure-ginauth-logout", "/app",
			"__Secure-ginauth-flow-", "/app/auth"},
		{"http at the root", "ginauth", "", "/auth", false,
			"ginauth", "ginauth-tokens", "ginauth-csrf", "ginauth-logout", "/",
			"ginauth-flow-", "/auth"},
		{"http under a prefix", "ginauth", "/app", "/app/auth", false,
			"ginauth", "ginauth-tokens", "ginauth-csrf", "ginauth-logout", "/app",
			"ginauth-flow-", "/app/auth"},
		{"https under a prefix with a name", "shop", "/shop", "/shop/auth", true,
			"__Secure-shop", "__Secure-shop-tokens", "__Secure-shop-csrf", "__Secure-shop-logout", "/shop",
			"__Secure-shop-flow-", "/shop/auth"},
		{"http at the root with a name", "shop_2", "", "/auth", false,
			"shop_2", "shop_2-tokens", "shop_2-csrf", "shop_2-logout", "/",
			"shop_2-flow-", "/auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newCookieNames(tc.cookieName, tc.basePath, tc.secure)
			fl := newFlows(nil, n, tc.cookieName, tc.authPath, nil)
			for _, c := range []struct{ got, want string }{
				{n.session.name, tc.session}, {n.session.chunks[3], tc.session + ".3"},
				{n.tokens.name, tc.tokens}, {n.csrf, tc.csrf}, {n.logout, tc.logout},
				{n.path, tc.path}, {fl.prefix, tc.flow}, {fl.path, tc.flowPath},
			} {
				if c.got != c.want {
					t.Errorf("got %q, want %q", c.got, c.want)
				}
			}
			// The attributes each Set-Cookie carries.
			w := httptest.NewRecorder()
			n.set(w, n.csrf, "v", 0, 0)
			fl.set(w, fl.prefix+"x", "v", 60, 0)
			lines := w.Result().Header.Values("Set-Cookie")
			if len(lines) != 2 {
				t.Fatalf("Set-Cookie %q", lines)
			}
			for i, want := range []string{tc.path, tc.flowPath} {
				if !strings.Contains(lines[i], "; Path="+want+";") || strings.Contains(lines[i], "Domain=") ||
					strings.Contains(lines[i], "; Secure") != tc.secure || !strings.Contains(lines[i], "; HttpOnly") {
					t.Errorf("Set-Cookie %q: want Path=%s, no Domain, Secure %v, HttpOnly", lines[i], want, tc.secure)
				}
			}
		})
	}
}

func TestValidCookieName(t *testing.T) {
	for name, want := range map[string]bool{
		"ginauth": true, "a": true, "A-b_C9": true, "9lives": true, strings.Repeat("x", 32): true,
		"": false, strings.Repeat("x", 33): false, "_a": false, "-a": false, "__Host-a": false, "__Secure-a": false,
		"a.b": false, "a b": false, "a;b": false, "a=b": false, "a,b": false, "a\"b": false, "a/b": false, "é": false, "a\x00": false,
	} {
		if got := validCookieName(name); got != want {
			t.Errorf("validCookieName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestPrefix_PageLinks: every page a renderer gets carries the home and
// auth URLs with the path prefix.
func TestPrefix_PageLinks(t *testing.T) {
	for _, tc := range []struct{ baseURL, home, auth string }{
		{"https://app.example", "https://app.example/", "https://app.example/auth"},
		{"https://app.example/app/", "https://app.example/app/", "https://app.example/app/auth"},
	} {
		var got Page
		a, err := New(Config{
			BaseURL:    tc.baseURL,
			Secrets:    [][]byte{[]byte("0123456789abcdef0123456789abcdef-unit")},
			Providers:  []providers.Provider{stubProvider{name: "p"}},
			RenderPage: func(_ *gin.Context, p Page) { got = p },
		})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		a.page(c, Page{Kind: PageError, ErrorCode: "csrf"})
		if got.HomeURL != tc.home || got.AuthURL != tc.auth {
			t.Errorf("%s: HomeURL, AuthURL = %q, %q, want %q, %q", tc.baseURL, got.HomeURL, got.AuthURL, tc.home, tc.auth)
		}
	}
}
