package ginauthtest_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
)

func TestAuthorizeRejectsBadClientOrRedirectWithoutRedirecting(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{RedirectURIs: []string{redirectURI}})
	c := newRP(t, op)
	for name, mutate := range map[string]func(url.Values){
		"unknown client":    func(v url.Values) { v.Set("client_id", "evil") },
		"missing client":    func(v url.Values) { v.Del("client_id") },
		"unregistered uri":  func(v url.Values) { v.Set("redirect_uri", "http://evil.test/callback") },
		"missing uri":       func(v url.Values) { v.Del("redirect_uri") },
		"repeated uri":      func(v url.Values) { v.Add("redirect_uri", redirectURI) },
		"prefix of the uri": func(v url.Values) { v.Set("redirect_uri", redirectURI+"/../x") },
	} {
		t.Run(name, func(t *testing.T) {
			params := c.authzParams(newVerifier())
			mutate(params)
			res := c.get(op.URL("/authorize") + "?" + params.Encode())
			if res.status != http.StatusBadRequest || res.header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q", res.status, res.header.Get("Location"))
			}
		})
	}
}

func TestAuthorizeAnyHTTPRedirectWhenNoneRegistered(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	for uri, ok := range map[string]bool{
		"https://app.test/cb?x=1": true,
		"javascript:alert(1)":     false,
		"/relative":               false,
		"http://app.test/cb#frag": false,
	} {
		params := c.authzParams(newVerifier())
		params.Set("redirect_uri", uri)
		res := c.get(op.URL("/authorize") + "?" + params.Encode())
		if got := res.status == http.StatusFound; got != ok {
			t.Errorf("%s: status %d", uri, res.status)
		}
		if ok && !strings.HasPrefix(res.header.Get("Location"), "https://app.test/cb?x=1&") {
			t.Errorf("%s: Location %q", uri, res.header.Get("Location"))
		}
	}
}

func TestAuthorizeErrorsRedirectBack(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	for name, tc := range map[string]struct {
		mutate func(url.Values)
		err    string
	}{
		"response_type": {func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
		"no openid":     {func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
		"response_mode": {func(v url.Values) { v.Set("response_mode", "fragment") }, "invalid_request"},
		"repeated":      {func(v url.Values) { v.Add("state", "again") }, "invalid_request"},
		"request":       {func(v url.Values) { v.Set("request", "eyJ") }, "request_not_supported"},
	} {
		t.Run(name, func(t *testing.T) {
			params := c.authzParams(newVerifier())
			tc.mutate(params)
			back := c.authorize(params)
			if back.Get("error") != tc.err || back.Has("code") {
				t.Fatalf("callback %v, want error %s", back, tc.err)
			}
		})
	}
	t.Run("no state", func(t *testing.T) {
		params := c.authzParams(newVerifier())
		params.Del("state")
		if back := c.authorize(params); back.Has("state") || back.Get("code") == "" {
			t.Fatalf("callback %v", back)
		}
	})
}

func TestAuthorizeUserSelection(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	subject := func(params url.Values) string {
		t.Helper()
		tokens, _ := c.loginWith(params)
		claims, err := c.verifyIDToken(tokens["id_token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return claims["sub"].(string)
	}
	if got := subject(nil); got != "alice" {
		t.Errorf("default user %q", got)
	}
	op.SetNextUser("bob")
	if got := subject(nil); got != "bob" {
		t.Errorf("SetNextUser: %q", got)
	}
	if got := subject(url.Values{"login_hint": {"carol"}}); got != "carol" {
		t.Errorf("login_hint: %q", got)
	}
	if got := subject(url.Values{"login_hint": {"nobody"}}); got != "bob" {
		t.Errorf("unknown login_hint: %q", got)
	}
	op.SetNextUser("")
	if got := subject(nil); got != "alice" {
		t.Errorf("after reset: %q", got)
	}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func TestPicker(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{Picker: true})
	c := newRP(t, op)
	verifier := newVerifier()
	params := c.authzParams(verifier)
	params.Set("state", `<script>"x"&y</script>`)

	res := c.get(op.URL("/authorize") + "?" + params.Encode())
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("picker: %d %q", res.status, res.header.Get("Content-Type"))
	}
	page := string(res.body)
	for _, want := range []string{"Development provider", "Alice Admin", "Bob Builder", "carol",
		`name="user" value="bob"`, `action="` + op.URL("/authorize") + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("picker page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("picker page does not escape parameters")
	}
	hidden := hiddenFields(page)
	for k := range params {
		if hidden.Get(k) != params.Get(k) {
			t.Errorf("hidden %s = %q, want %q", k, hidden.Get(k), params.Get(k))
		}
	}

	// prompt=none cannot show the page.
	none := c.authzParams(verifier)
	none.Set("prompt", "none")
	if back := c.authorize(none); back.Get("error") != "login_required" {
		t.Errorf("prompt=none: %v", back)
	}

	// The user presses "bob".
	hidden.Set("user", "bob")
	back := c.callback(c.postForm(op.URL("/authorize"), hidden, nil))
	if back.Get("state") != params.Get("state") {
		t.Fatalf("state %q", back.Get("state"))
	}
	tok := c.token(exchangeForm(back.Get("code"), verifier))
	claims, err := c.verifyIDToken(tok.json(t)["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "bob" {
		t.Errorf("sub %v", claims["sub"])
	}
}

func TestFormPost(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	params := c.authzParams(newVerifier())
	params.Set("response_mode", "form_post")
	res := c.get(op.URL("/authorize") + "?" + params.Encode())
	if res.status != http.StatusOK {
		t.Fatalf("status %d", res.status)
	}
	page := string(res.body)
	for _, want := range []string{`action="` + redirectURI + `"`, `method="post"`, `onload="document.forms[0].submit()"`, `type="submit"`} {
		if !strings.Contains(page, want) {
			t.Errorf("form_post page lacks %q:\n%s", want, page)
		}
	}
	fields := hiddenFields(page)
	if fields.Get("code") == "" || fields.Get("state") != params.Get("state") || fields.Get("iss") != op.Issuer() {
		t.Errorf("form fields %v", fields)
	}
}

func TestAuthorizeBehaviorKnobs(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	params := c.authzParams(newVerifier())

	op.SetBehavior(ginauthtest.Behavior{AuthorizeError: "access_denied", AuthorizeErrorDescription: "nope"})
	back := c.authorize(params)
	if back.Get("error") != "access_denied" || back.Get("error_description") != "nope" || back.Get("state") != params.Get("state") || back.Has("code") {
		t.Errorf("AuthorizeError: %v", back)
	}

	op.SetBehavior(ginauthtest.Behavior{AuthorizeIss: "https://evil.test", AuthorizeExtra: url.Values{"state": {"second"}}})
	back = c.authorize(params)
	if back.Get("iss") != "https://evil.test" || len(back["state"]) != 2 {
		t.Errorf("AuthorizeIss/Extra: %v", back)
	}

	op.SetBehavior(ginauthtest.Behavior{OmitAuthorizeIss: true})
	if back := c.authorize(params); back.Has("iss") {
		t.Errorf("OmitAuthorizeIss: %v", back)
	}
}

// loginWith is login with extra authorization parameters.
func (c *rp) loginWith(extra url.Values) (map[string]any, url.Values) {
	c.t.Helper()
	verifier := newVerifier()
	params := c.authzParams(verifier)
	for k, v := range extra {
		params[k] = v
	}
	back := c.authorize(params)
	res := c.token(exchangeForm(back.Get("code"), verifier))
	if res.status != http.StatusOK {
		c.t.Fatalf("token: %d %s", res.status, res.body)
	}
	return res.json(c.t), params
}
