package providers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
	"golang.org/x/oauth2"
)

const redirectURI = "https://app.example.com/auth/callback/test"

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func startOP(t *testing.T, opts ginauthtest.Options) *ginauthtest.Provider {
	t.Helper()
	op, err := ginauthtest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Close)
	return op
}

// signIn runs AuthCodeURL, the provider's authorization endpoint and Exchange.
func signIn(t *testing.T, p providers.Provider) (*providers.Identity, error) {
	t.Helper()
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	authURL, err := p.AuthCodeURL(ctx, providers.AuthRequest{
		RedirectURI: redirectURI, State: "state-1", Nonce: "nonce-1",
		CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier),
	})
	if err != nil {
		return nil, err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %v", resp.StatusCode, err)
	}
	q := loc.Query()
	_, issPresent := q["iss"]
	return p.Exchange(ctx, providers.AuthResponse{
		RedirectURI: redirectURI, Code: q.Get("code"), Iss: q.Get("iss"), IssPresent: issPresent,
		CodeVerifier: verifier, Nonce: "nonce-1",
	})
}

func TestOIDCSignIn(t *testing.T) {
	op := startOP(t, ginauthtest.Options{})
	p, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), Scopes: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := signIn(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "alice" || id.Issuer != op.Issuer() || id.Token.IDToken == "" || id.Token.AccessToken == "" || id.SessionID == "" {
		t.Fatalf("identity: %+v", id)
	}
	if got := op.LastTokenAuth(); got != "client_secret_basic" {
		t.Errorf("client auth %q, want client_secret_basic", got)
	}
	if scope := op.LastAuthorizeRequest().Get("scope"); scope != "openid email" {
		t.Errorf("scope %q", scope)
	}
}

func TestOIDCConfigErrors(t *testing.T) {
	good := providers.OIDCConfig{Name: "kc", Issuer: "https://id.example.com/realms/x", ClientID: "c"}
	cases := map[string]func(*providers.OIDCConfig){
		"empty name":          func(c *providers.OIDCConfig) { c.Name = "" },
		"upper-case name":     func(c *providers.OIDCConfig) { c.Name = "Google" },
		"name with slash":     func(c *providers.OIDCConfig) { c.Name = "a/b" },
		"http issuer":         func(c *providers.OIDCConfig) { c.Issuer = "http://id.example.com" },
		"relative issuer":     func(c *providers.OIDCConfig) { c.Issuer = "/realms/x" },
		"issuer with query":   func(c *providers.OIDCConfig) { c.Issuer = "https://id.example.com/?a=b" },
		"issuer with user":    func(c *providers.OIDCConfig) { c.Issuer = "https://u@id.example.com" },
		"no client id":        func(c *providers.OIDCConfig) { c.ClientID = "" },
		"HS256 allowed":       func(c *providers.OIDCConfig) { c.SigningAlgs = []string{"HS256"} },
		"alg none allowed":    func(c *providers.OIDCConfig) { c.SigningAlgs = []string{"none"} },
		"reserved auth param": func(c *providers.OIDCConfig) { c.AuthParams = url.Values{"state": {"x"}} },
		"negative timeout":    func(c *providers.OIDCConfig) { c.Timeout = -time.Second },
		"skew over 5 min":     func(c *providers.OIDCConfig) { c.ClockSkew = 6 * time.Minute },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := good
			mutate(&cfg)
			_, err := providers.OIDC(cfg)
			if !errors.Is(err, providers.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			if n := strings.Count(err.Error(), "ginauth:"); n != 1 {
				t.Errorf("error %q has the ginauth: prefix %d times, want once", err, n)
			}
		})
	}
	for _, iss := range []string{"http://127.0.0.1:9000", "http://localhost:9000/realms/x", "http://[::1]:9000"} {
		cfg := good
		cfg.Issuer = iss
		if _, err := providers.OIDC(cfg); err != nil {
			t.Errorf("loopback issuer %s refused: %v", iss, err)
		}
	}
}

// Discovery failures are remembered for a few seconds, then retried: a
// provider down at start works once it is back (AV-3).
func TestOIDCDiscoveryRetriedAfterFailure(t *testing.T) {
	clk := &testClock{t: time.Now()}
	op := startOP(t, ginauthtest.Options{})
	op.SetBehavior(ginauthtest.Behavior{DiscoveryDown: true})
	p, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Metadata(context.Background()); !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	op.SetBehavior(ginauthtest.Behavior{})
	before := op.Counts().Discovery
	if _, err := p.Metadata(context.Background()); !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("within the retry window: err = %v, want the remembered ErrUnavailable", err)
	}
	if op.Counts().Discovery != before {
		t.Fatal("discovery refetched within the retry window")
	}
	clk.Advance(6 * time.Second)
	if _, err := p.Metadata(context.Background()); err != nil {
		t.Fatalf("after the retry window: %v", err)
	}
	if _, err := signIn(t, p); err != nil {
		t.Fatal(err)
	}
}

func TestOIDCDiscoveryIssuerMismatch(t *testing.T) {
	op := startOP(t, ginauthtest.Options{})
	op.SetBehavior(ginauthtest.Behavior{DiscoveryIssuer: op.Issuer() + "/"})
	p, _ := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID()})
	_, err := p.Metadata(context.Background())
	if !errors.Is(err, providers.ErrIssuerMismatch) || !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrIssuerMismatch and ErrUnavailable", err)
	}
	if n := strings.Count(err.Error(), "ginauth:"); n != 1 {
		t.Errorf("error %q has the ginauth: prefix %d times, want once", err, n)
	}
}

func TestOIDCDiscoveryTooLarge(t *testing.T) {
	op := startOP(t, ginauthtest.Options{})
	op.SetBehavior(ginauthtest.Behavior{DiscoveryBodySize: 50 << 20})
	p, _ := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID()})
	_, err := p.Metadata(context.Background())
	if !errors.Is(err, providers.ErrResponseTooLarge) {
		t.Fatalf("err = %v, want ErrResponseTooLarge", err)
	}
}

func TestGoogleHostedDomain(t *testing.T) {
	users := []ginauthtest.User{
		{Subject: "in", Email: "a@corp.example", Extra: map[string]any{"hd": "corp.example"}},
		{Subject: "out", Email: "b@gmail.com"},
		{Subject: "other", Email: "c@other.example", Extra: map[string]any{"hd": "other.example"}},
	}
	op := startOP(t, ginauthtest.Options{Users: users})
	g, err := providers.Google(providers.GoogleConfig{ClientID: op.ClientID(), ClientSecret: op.ClientSecret(), HostedDomain: "corp.example", Offline: true, Issuer: op.Issuer()})
	if err != nil {
		t.Fatal(err)
	}
	if g.Name() != "google" || g.DisplayName() != "Google" {
		t.Errorf("name %q display %q", g.Name(), g.DisplayName())
	}
	for _, tc := range []struct {
		sub  string
		want error
	}{{"in", nil}, {"out", providers.ErrClaimRejected}, {"other", providers.ErrClaimRejected}} {
		op.SetNextUser(tc.sub)
		_, err := signIn(t, g)
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", tc.sub, err, tc.want)
		}
	}
	q := op.LastAuthorizeRequest()
	if q.Get("hd") != "corp.example" || q.Get("access_type") != "offline" || q.Get("prompt") != "consent" {
		t.Errorf("authorize params: %v", q)
	}
	if q.Get("scope") != "openid email profile" {
		t.Errorf("scope %q", q.Get("scope"))
	}
	if g.Issuer() != op.Issuer() {
		t.Errorf("issuer %q", g.Issuer())
	}
	if def, _ := providers.Google(providers.GoogleConfig{ClientID: "x"}); def.Issuer() != providers.GoogleIssuer {
		t.Errorf("default issuer %q", def.Issuer())
	}
}

func TestOIDCRevoke(t *testing.T) {
	op := startOP(t, ginauthtest.Options{})
	p, _ := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret()})
	id, err := signIn(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Revoke(context.Background(), id.Token.RefreshToken, "refresh_token"); err != nil {
		t.Fatal(err)
	}
	if op.Counts().Revoke != 1 {
		t.Fatalf("revoke calls %d", op.Counts().Revoke)
	}
}
