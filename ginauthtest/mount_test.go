package ginauthtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ginauth/ginauth/ginauthtest"
)

func TestNewValidatesIssuer(t *testing.T) {
	t.Parallel()
	for _, issuer := range []string{"", "ftp://x", "http://", "http://x?q=1", "http://x/#f", "://bad"} {
		if _, err := ginauthtest.New(issuer, ginauthtest.Options{}); err == nil {
			t.Errorf("New(%q) succeeded", issuer)
		}
	}
	if _, err := ginauthtest.New("http://x", ginauthtest.Options{Users: []ginauthtest.User{{Name: "no subject"}}}); err == nil {
		t.Error("user without subject accepted")
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	op, err := ginauthtest.New("http://127.0.0.1:8080/dev-oidc/", ginauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	if op.Issuer() != "http://127.0.0.1:8080/dev-oidc" || op.URL("/jwks") != "http://127.0.0.1:8080/dev-oidc/jwks" {
		t.Fatalf("issuer %q", op.Issuer())
	}
	serve := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		op.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}
	if rec := serve("GET", "/dev-oidc/.well-known/openid-configuration"); rec.Code != 200 ||
		!strings.Contains(rec.Body.String(), `"token_endpoint":"http://127.0.0.1:8080/dev-oidc/token"`) {
		t.Errorf("discovery: %d %s", rec.Code, rec.Body)
	}
	for _, path := range []string{"/jwks", "/dev-oidcjwks", "/dev-oidc/", "/dev-oidc/jwks/", "/other/dev-oidc/jwks"} {
		if rec := serve("GET", path); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", path, rec.Code)
		}
	}
	if rec := serve("DELETE", "/dev-oidc/jwks"); rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
		t.Errorf("DELETE: %d", rec.Code)
	}
}

// TestMalformedInput throws garbage at every endpoint; a panic would fail
// the test binary, and nothing may answer 5xx.
func TestMalformedInput(t *testing.T) {
	t.Parallel()
	op, err := ginauthtest.New("http://op.test", ginauthtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	paths := []string{"/.well-known/openid-configuration", "/jwks", "/authorize", "/token", "/userinfo", "/revoke", "/end_session"}
	queries := []string{"", "?%zz", "?a=%", "?client_id=ginauth-test-client&redirect_uri=%00", "?id_token_hint=a.b.c",
		"?id_token_hint=" + strings.Repeat(".", 3) + "&client_id=x", "?id_token_hint=eyJhbGciOiJSUzI1NiJ9.e30.AAAA",
		"?response_type=code&client_id=ginauth-test-client&redirect_uri=http://x/&scope=openid&code_challenge=" + strings.Repeat("a", 300) + "&code_challenge_method=S256"}
	bodies := []string{"", "%", "grant_type=authorization_code&code=", "grant_type=refresh_token&refresh_token=x&client_id=%ff",
		"token=&token_type_hint=bogus", "access_token=x", strings.Repeat("a=b&", 20000)}
	auths := []string{"", "Basic", "Basic !!!", "Basic " + "Og==", "Bearer", "Bearer  ", "bearer x y"}
	for _, path := range paths {
		for _, q := range queries {
			for _, body := range bodies {
				for _, auth := range auths {
					for _, method := range []string{"GET", "POST", "PUT"} {
						req := httptest.NewRequest(method, path+q, strings.NewReader(body))
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						if auth != "" {
							req.Header.Set("Authorization", auth)
						}
						rec := httptest.NewRecorder()
						op.ServeHTTP(rec, req)
						if rec.Code >= 500 {
							t.Fatalf("%s %s%s body %.20q auth %q: %d %s", method, path, q, body, auth, rec.Code, rec.Body)
						}
					}
				}
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	op := startOP(t, ginauthtest.Options{})
	c := newRP(t, op)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				verifier := newVerifier()
				params := c.authzParams(verifier)
				params.Set("login_hint", []string{"alice", "bob", "carol"}[(i+j)%3])
				res, err := c.c.Get(op.URL("/authorize") + "?" + params.Encode())
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				loc, _ := url.Parse(res.Header.Get("Location"))
				form := exchangeForm(loc.Query().Get("code"), verifier)
				req, _ := http.NewRequest(http.MethodPost, op.URL("/token"), strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				basicAuth(op.ClientID(), op.ClientSecret())(req)
				res, err = c.c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Errorf("token status %d", res.StatusCode)
				}
				op.SetBehavior(ginauthtest.Behavior{TokenType: fmt.Sprint(i)})
				_ = op.Behavior()
				op.SetBehavior(ginauthtest.Behavior{})
				_ = op.Counts()
				_ = op.LastAuthorizeRequest()
				_ = op.LastTokenRequest()
			}
		}()
	}
	wg.Wait()
	if got := op.Counts(); got.Authorize != 40 || got.Token != 40 {
		t.Errorf("Counts = %+v", got)
	}
}
