package ginauth

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
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

// TestPagesEveryCode: every code of the message table renders, on the
// error page and as the sign-in page's notice, with its own non-empty
// title, explanation and next step, and links onward.
func TestPagesEveryCode(t *testing.T) {
	a := newPageAuth(t, "https://app.example.com", nil)
	if len(errorMessages) < 18 {
		t.Fatalf("the message table has %d codes", len(errorMessages))
	}
	for code, m := range errorMessages {
		if m.title == "" || m.text == "" || m.next == "" {
			t.Errorf("code %s lacks a title, an explanation or a next step: %+v", code, m)
		}
		for _, kind := range []PageKind{PageError, PageSignIn} {
			w := renderPage(a, Page{Kind: kind, Status: http.StatusBadRequest, ErrorCode: code, Providers: a.providerInfos()})
			body := w.Body.String()
			if w.Code != http.StatusBadRequest {
				t.Errorf("%s (kind %d): status %d", code, kind, w.Code)
			}
			for _, want := range []string{html.EscapeString(m.title), html.EscapeString(m.text), html.EscapeString(m.next)} {
				if !strings.Contains(body, want) {
					t.Errorf("%s (kind %d): the page lacks %q", code, kind, want)
				}
			}
			if kind == PageError {
				if !strings.Contains(body, `<h1>`+html.EscapeString(m.title)+`</h1>`) || !strings.Contains(body, `<code>`+code+`</code>`) {
					t.Errorf("%s: the error page's heading is not the code's title, or it does not show the code:\n%s", code, body)
				}
				if !strings.Contains(body, `href="https://app.example.com/auth/signin"`) || !strings.Contains(body, `href="https://app.example.com/"`) {
					t.Errorf("%s: the error page does not link to the sign-in page and the home page:\n%s", code, body)
				}
			}
		}
	}
}

// TestPagesUnknownCodeNotShown: a code that is not in the table (as a
// visitor may put in ?error=) is never reflected.
func TestPagesUnknownCodeNotShown(t *testing.T) {
	a := newPageAuth(t, "https://app.example.com", nil)
	for _, kind := range []PageKind{PageError, PageSignIn} {
		body := renderPage(a, Page{Kind: kind, ErrorCode: "made_up_code"}).Body.String()
		if strings.Contains(body, "made_up_code") {
			t.Errorf("kind %d reflects an unknown code:\n%s", kind, body)
		}
		if kind == PageSignIn && strings.Contains(body, `role="alert"`) {
			t.Errorf("the sign-in page shows a notice for an unknown code")
		}
		if kind == PageError && !strings.Contains(body, "<h1>Something went wrong</h1>") {
			t.Errorf("the error page without a known code lacks the generic title:\n%s", body)
		}
	}
}

// TestPagesKinds: each page's heading, texts and links.
func TestPagesKinds(t *testing.T) {
	a := newPageAuth(t, "https://app.example.com", func(c *Config) { c.AppName = "Example Corp" })
	for _, f := range pageFixtures(a) {
		w := renderPage(a, f.page)
		body := w.Body.String()
		var want []string
		switch f.name {
		case "signin":
			want = []string{`<h1>Sign in to Example Corp</h1>`, `<title>Sign in · Example Corp</title>`, `Sign in with Acme SSO`, `action="https://app.example.com/auth/signin/google"`, `<path stroke="#4285f4"`}
		case "signout":
			want = []string{`<h1>Sign out of Example Corp?</h1>`, `You are signed in as Alice Admin.`, `<button class="btn primary" type="submit">Sign out</button>`, `<a class="btn" href="/">Cancel</a>`, `action="https://app.example.com/auth/signout"`}
		case "forbidden":
			want = []string{`<h1>You don&#39;t have access</h1>`, `<a class="btn primary" href="https://app.example.com/">Go to the home page</a>`, `href="https://app.example.com/auth/signout">Sign in with another account</a>`}
		case "access-denied":
			want = []string{`<h1>Access denied</h1>`, `<strong>Reason:</strong> Only employees`, `<a class="btn primary" href="https://app.example.com/auth/signin">Back to sign-in</a>`}
		}
		want = append(want, `<html lang="en" dir="ltr">`, `<meta name="viewport"`, `<span>Example Corp</span>`)
		for _, s := range want {
			if !strings.Contains(body, s) {
				t.Errorf("%s lacks %s:\n%s", f.name, s, body)
			}
		}
		if strings.Contains(body, "Something went wrong") && f.name != "error-unknown" {
			t.Errorf("%s is titled Something went wrong", f.name)
		}
	}
}

// TestPagesForbiddenFromRequireClaim: the 403 of RequireClaim (a.abort with
// "forbidden" in browser mode) is the forbidden page, not an error page.
func TestPagesForbiddenFromRequireClaim(t *testing.T) {
	a := newPageAuth(t, "https://app.example.com", nil)
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/admin", nil)
	a.abort(c, Browser, http.StatusForbidden, "forbidden")
	body := w.Body.String()
	if w.Code != http.StatusForbidden || !strings.Contains(body, "<h1>You don&#39;t have access</h1>") || !strings.Contains(body, "Sign in with another account</a>") {
		t.Errorf("RequireClaim's page: %d\n%s", w.Code, body)
	}
}

// TestPagesTexts: overridden texts show up, with their placeholders
// filled; the others keep their English default.
func TestPagesTexts(t *testing.T) {
	a := newPageAuth(t, "https://app.example.com", func(c *Config) {
		c.Texts = map[string]string{
			"lang":                 "fr",
			"signin.heading":       "Connexion à {app}",
			"signin.button":        "Continuer avec {provider}",
			"error.csrf.title":     "Formulaire expiré",
			"error.csrf.next":      "Rechargez la page.",
			"link.signin":          "Retour à la connexion",
			"error.forbidden.text": "Pas pour vous.",
		}
	})
	signin := renderPage(a, Page{Kind: PageSignIn, Providers: a.providerInfos()}).Body.String()
	for _, want := range []string{`<html lang="fr" dir="ltr">`, `<h1>Connexion à app.example.com</h1>`, `Continuer avec GitHub`, `Choose how you want to sign in.`} {
		if !strings.Contains(signin, want) {
			t.Errorf("sign-in page lacks %q:\n%s", want, signin)
		}
	}
	csrf := renderPage(a, Page{Kind: PageError, ErrorCode: "csrf"}).Body.String()
	for _, want := range []string{`<h1>Formulaire expiré</h1>`, `Rechargez la page.`, `Retour à la connexion`, html.EscapeString(errorMessages["csrf"].text)} {
		if !strings.Contains(csrf, want) {
			t.Errorf("csrf page lacks %q:\n%s", want, csrf)
		}
	}
	// A custom renderer gets the same texts in Page.
	var got Page
	b := newPageAuth(t, "https://app.example.com", func(c *Config) {
		c.Texts = map[string]string{"error.forbidden.text": "Pas pour vous."}
		c.RenderPage = func(c *gin.Context, p Page) { got = p }
	})
	renderPage(b, Page{Kind: PageForbidden})
	if got.Message != "Pas pour vous." || got.Title != errorMessages["forbidden"].title || got.NextStep == "" || got.ErrorCode != "forbidden" ||
		got.AppName != "app.example.com" || got.HomeURL != "https://app.example.com/" || got.AuthURL != "https://app.example.com/auth" || got.Lang != "en" {
		t.Errorf("RenderPage got %+v", got)
	}
}

// TestPagesInvalidTexts: New refuses bad texts and app names with
// ErrInvalidPageText.
func TestPagesInvalidTexts(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"unknown ID":          func(c *Config) { c.Texts = map[string]string{"signin.titel": "x"} },
		"unknown error code":  func(c *Config) { c.Texts = map[string]string{"error.nope.title": "x"} },
		"empty text":          func(c *Config) { c.Texts = map[string]string{"signin.title": " "} },
		"control character":   func(c *Config) { c.Texts = map[string]string{"signin.title": "a\nb"} },
		"not UTF-8":           func(c *Config) { c.Texts = map[string]string{"signin.title": "\xff"} },
		"too long":            func(c *Config) { c.Texts = map[string]string{"signin.intro": strings.Repeat("a", MaxTextLen+1)} },
		"unknown placeholder": func(c *Config) { c.Texts = map[string]string{"signin.button": "Use {Provider}"} },
		"placeholder of another text": func(c *Config) {
			c.Texts = map[string]string{"signin.intro": "Welcome to {app}"}
		},
		"bad lang":         func(c *Config) { c.Texts = map[string]string{"lang": "en_US"} },
		"bad dir":          func(c *Config) { c.Texts = map[string]string{"dir": "right"} },
		"long app name":    func(c *Config) { c.AppName = strings.Repeat("a", MaxAppNameLen+1) },
		"app name control": func(c *Config) { c.AppName = "App\x00" },
	} {
		cfg := Config{BaseURL: "https://app.example.com", Secrets: [][]byte{make([]byte, 32)}, Providers: pageStubs()}
		edit(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrInvalidPageText) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New = %v; want ErrInvalidPageText", name, err)
		} else if strings.Count(err.Error(), "ginauth: ") != 1 {
			t.Errorf("%s: %q repeats a prefix", name, err)
		}
	}
	cfg := Config{BaseURL: "https://app.example.com", Secrets: [][]byte{make([]byte, 32)}, Providers: pageStubs(),
		AppName: strings.Repeat("é", MaxAppNameLen/2), Texts: map[string]string{"lang": "pt-BR", "dir": "rtl", "signin.title": "Entrar {x}"}}
	if _, err := New(cfg); !errors.Is(err, ErrInvalidPageText) {
		t.Errorf("{x} in a text without placeholders: %v", err)
	}
	delete(cfg.Texts, "signin.title")
	if _, err := New(cfg); err != nil {
		t.Errorf("valid texts: %v", err)
	}
}

// TestPagesEscape: untrusted and configured values are escaped: the deny
// reason, a provider's display name, the user's name, the app name.
func TestPagesEscape(t *testing.T) {
	const evil = `<script>alert(1)</script>"'`
	a := newPageAuth(t, "https://app.example.com", func(c *Config) {
		c.AppName = "<b>App</b>"
		c.Providers = append(pageStubs(), pageStub{"evil", evil})
	})
	pages := []Page{
		{Kind: PageAccessDenied, Reason: evil},
		{Kind: PageSignIn, Providers: a.providerInfos(), CallbackURL: `/"><script>`},
		{Kind: PageSignOut, User: &User{Name: evil}, CallbackURL: "javascript:alert(1)"},
	}
	for _, p := range pages {
		body := renderPage(a, p).Body.String()
		if strings.Contains(body, "<script") || strings.Contains(body, "<b>") || strings.Contains(body, `href="javascript:`) {
			t.Errorf("kind %d is not escaped:\n%s", p.Kind, body)
		}
		if !strings.Contains(body, "&lt;b&gt;App&lt;/b&gt;") {
			t.Errorf("kind %d lacks the escaped app name", p.Kind)
		}
		if p.Kind != PageSignIn && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("kind %d lacks the escaped value:\n%s", p.Kind, body)
		}
	}
}

// TestPagesCSP: the built-in pages allow their stylesheet by hash, and
// nothing inline besides; a custom renderer keeps inline styles.
func TestPagesCSP(t *testing.T) {
	a := newPageAuth(t, "https://app.example.com", nil)
	for _, f := range pageFixtures(a) {
		w := renderPage(a, f.page)
		csp := w.Header().Get("Content-Security-Policy")
		body := w.Body.String()
		_, style, _ := strings.Cut(body, "<style>")
		style, _, _ = strings.Cut(style, "</style>")
		if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "style-src "+cspHash(style)+";") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q does not allow exactly its style by hash", f.name, csp)
		}
		if strings.Count(body, "<style") != 1 || strings.Contains(body, "<script") || strings.Contains(body, " style=") {
			t.Errorf("%s: inline styles or scripts beyond the one stylesheet:\n%s", f.name, body)
		}
	}
	if PageStyleHash() != cspHash(PageStylesheet()) {
		t.Error("PageStyleHash does not match PageStylesheet")
	}
	b := newPageAuth(t, "https://app.example.com", func(c *Config) { c.RenderPage = func(*gin.Context, Page) {} })
	if csp := renderPage(b, Page{Kind: PageError}).Header().Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'unsafe-inline'") {
		t.Errorf("custom renderer's CSP %q", csp)
	}
}

// TestDefaultTexts: a fresh map with every ID, each error code's three.
func TestDefaultTexts(t *testing.T) {
	m := DefaultTexts()
	if len(m) != len(baseTexts)+3*len(errorMessages) {
		t.Errorf("DefaultTexts has %d IDs", len(m))
	}
	m["lang"] = "xx"
	if DefaultTexts()["lang"] != "en" {
		t.Error("DefaultTexts shares its map")
	}
}

// BenchmarkSignInPage renders the built-in sign-in page with seven
// providers and an error notice.
func BenchmarkSignInPage(b *testing.B) {
	a, err := New(Config{BaseURL: "https://app.example.com", Secrets: [][]byte{make([]byte, 32)}, Providers: pageStubs()})
	if err != nil {
		b.Fatal(err)
	}
	p := Page{Kind: PageSignIn, Providers: a.providerInfos(), CSRFToken: "token", CallbackURL: "/", ErrorCode: "invalid_state"}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		a.page(c, p)
	}
}
