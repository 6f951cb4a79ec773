package ginauthtest_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const redirectURI = "http://rp.test/callback"

// rp is a minimal relying party driving a Provider over real HTTP.
type rp struct {
	t  *testing.T
	op *ginauthtest.Provider
	c  *http.Client
}

// startOP starts a provider that is closed when the test ends.
func startOP(t *testing.T, opts ginauthtest.Options) *ginauthtest.Provider {
	t.Helper()
	op, err := ginauthtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	return op
}

func newRP(t *testing.T, op *ginauthtest.Provider) *rp {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &rp{t: t, op: op, c: &http.Client{
		Transport: tr,
		Timeout:   10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// Stop when the OP sends the browser back to an RP URI.
			if !strings.HasPrefix(req.URL.String(), op.Issuer()) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON (%v): %q", err, r.body)
	}
	return m
}

func (c *rp) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, body}
}

func (c *rp) get(rawURL string) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *rp) postForm(rawURL string, form url.Values, setup func(*http.Request)) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if setup != nil {
		setup(req)
	}
	return c.do(req)
}

// basicAuth sets client_secret_basic credentials, form-urlencoded first as
// RFC 6749 §2.3.1 requires.
func basicAuth(id, secret string) func(*http.Request) {
	return func(r *http.Request) {
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
}

// token posts to /token with client_secret_basic.
func (c *rp) token(form url.Values) response {
	c.t.Helper()
	return c.postForm(c.op.URL("/token"), form, basicAuth(c.op.ClientID(), c.op.ClientSecret()))
}

// authzParams returns a correct authorization request with PKCE.
func (c *rp) authzParams(verifier string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {c.op.ClientID()},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid profile email"},
		"state":                 {"st-" + verifier[:8]},
		"nonce":                 {"n-" + verifier[:8]},
		"code_challenge":        {challenge(verifier)},
		"code_challenge_method": {"S256"},
	}
}

// authorize sends an authorization request and returns the parameters of
// the redirect back to the RP.
func (c *rp) authorize(params url.Values) url.Values {
	c.t.Helper()
	res := c.get(c.op.URL("/authorize") + "?" + params.Encode())
	if res.status != http.StatusFound {
		c.t.Fatalf("authorize: status %d, body %s", res.status, res.body)
	}
	return c.callback(res)
}

func (c *rp) callback(res response) url.Values {
	c.t.Helper()
	loc, err := url.Parse(res.header.Get("Location"))
	if err != nil {
		c.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		c.t.Fatalf("redirected to %q, want %q", got, redirectURI)
	}
	return loc.Query()
}

// login runs the authorization request and code exchange and returns the
// token response.
func (c *rp) login() (tokens map[string]any, params url.Values) {
	c.t.Helper()
	verifier := newVerifier()
	params = c.authzParams(verifier)
	back := c.authorize(params)
	res := c.token(url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {back.Get("code")},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	})
	if res.status != http.StatusOK {
		c.t.Fatalf("token: status %d, body %s", res.status, res.body)
	}
	return res.json(c.t), params
}

// verifyIDToken checks the ID token's signature against /jwks with go-jose
// and validates iss/aud/exp; it returns the claims.
func (c *rp) verifyIDToken(idToken string) (map[string]any, error) {
	c.t.Helper()
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(c.get(c.op.URL("/jwks")).body, &jwks); err != nil {
		c.t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(idToken, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	keys := jwks.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		c.t.Fatalf("kid %q: %d keys in JWKS", tok.Headers[0].KeyID, len(keys))
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(keys[0].Key, &std, &all); err != nil {
		return nil, err
	}
	if err := std.Validate(jwt.Expected{
		Issuer:      c.op.Issuer(),
		AnyAudience: jwt.Audience{c.op.ClientID()},
		Time:        time.Now(),
	}); err != nil {
		return nil, err
	}
	return all, nil
}

func newVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ctxTimeout returns a context cancelled after d and when the test ends.
func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
