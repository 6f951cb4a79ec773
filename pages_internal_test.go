package ginauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/providers"
)

// pageStub is a provider with a name and a display name, for rendering
// pages; New never calls its network methods, and neither do the pages.
type pageStub struct{ name, display string }

func (p pageStub) Name() string        { return p.name }
func (p pageStub) DisplayName() string { return p.display }
func (p pageStub) Issuer() string      { return "https://" + p.name + ".example.com" }
func (p pageStub) AuthCodeURL(context.Context, providers.AuthRequest) (string, error) {
	return "", errors.New("stub")
}
func (p pageStub) Exchange(context.Context, providers.AuthResponse) (*providers.Identity, error) {
	return nil, errors.New("stub")
}

// pageStubs are the providers of the page tests: every provider with a
// mark of its own, and one with the generic mark.
func pageStubs() []providers.Provider {
	return []providers.Provider{
		pageStub{"google", "Google"}, pageStub{"github", "GitHub"}, pageStub{"microsoft", "Microsoft"},
		pageStub{"apple", "Apple"}, pageStub{"gitlab", "GitLab"}, pageStub{"discord", "Discord"},
		pageStub{"corp", "Acme SSO"},
	}
}

// newPageAuth returns an Auth with the built-in pages, on baseURL.
func newPageAuth(t *testing.T, baseURL string, edit func(*Config)) *Auth {
	t.Helper()
	cfg := Config{BaseURL: baseURL, Secrets: [][]byte{make([]byte, 32)}, Providers: pageStubs()}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// renderPage renders p with a's renderer and returns the response.
func renderPage(a *Auth, p Page) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	a.page(c, p)
	return w
}

// pageFixtures are one page of each kind, as the routes render them.
func pageFixtures(a *Auth) []struct {
	name string
	page Page
} {
	user := &User{Name: "Alice Admin", Subject: "alice"}
	return []struct {
		name string
		page Page
	}{
		{"signin", Page{Kind: PageSignIn, Providers: a.providerInfos(), CSRFToken: "token", CallbackURL: "/"}},
		{"signin-error", Page{Kind: PageSignIn, Providers: a.providerInfos()[:2], CSRFToken: "token", CallbackURL: "/", ErrorCode: "invalid_state"}},
		{"signout", Page{Kind: PageSignOut, CSRFToken: "token", CallbackURL: "/", FormAction: a.url("/signout"), User: user}},
		{"error-provider_unavailable", Page{Kind: PageError, Status: http.StatusBadGateway, ErrorCode: "provider_unavailable"}},
		{"error-csrf", Page{Kind: PageError, Status: http.StatusForbidden, ErrorCode: "csrf"}},
		{"error-session_store_unavailable", Page{Kind: PageError, Status: http.StatusServiceUnavailable, ErrorCode: "session_store_unavailable"}},
		{"error-unknown", Page{Kind: PageError, Status: http.StatusBadRequest}},
		{"access-denied", Page{Kind: PageAccessDenied, Status: http.StatusForbidden, Reason: "Only employees of Example Corp may sign in here."}},
		{"forbidden", Page{Kind: PageForbidden, Status: http.StatusForbidden, User: user}},
	}
}
