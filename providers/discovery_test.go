package providers_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ginauth/ginauth/ginauthtest"
	"github.com/ginauth/ginauth/providers"
)

// discoveryOP serves a replaceable discovery document and JWKS documents
// under /jwks1 and /jwks2, with replaceable caching headers. Discovery can be
// taken down or made to block until released.
type discoveryOP struct {
	*httptest.Server
	discoveryHits atomic.Int32
	jwksHits      atomic.Int32

	mu      sync.Mutex
	doc     map[string]any
	header  http.Header // sent with discovery
	down    bool
	gate    chan struct{}
	entered chan<- struct{}
	jwks    map[string][]byte // path -> JWKS
}

func newDiscoveryOP(t *testing.T) *discoveryOP {
	t.Helper()
	op := &discoveryOP{jwks: map[string][]byte{}}
	op.Server = httptest.NewServer(http.HandlerFunc(op.serve))
	op.doc = map[string]any{
		"issuer":                 op.URL,
		"authorization_endpoint": op.URL + "/authorize",
		"token_endpoint":         op.URL + "/token",
		"jwks_uri":               op.URL + "/jwks1",
	}
	t.Cleanup(func() {
		op.release()
		op.Close()
	})
	return op
}

func (op *discoveryOP) setDoc(mutate func(doc map[string]any), header http.Header) {
	op.mu.Lock()
	defer op.mu.Unlock()
	doc := maps.Clone(op.doc)
	if mutate != nil {
		mutate(doc)
	}
	op.doc, op.header = doc, header
}

func (op *discoveryOP) setDown(down bool) {
	op.mu.Lock()
	op.down = down
	op.mu.Unlock()
}

func (op *discoveryOP) setJWKS(path string, body []byte) {
	op.mu.Lock()
	op.jwks[path] = body
	op.mu.Unlock()
}

// hold makes discovery requests block until release; each blocked request
// is announced on entered.
func (op *discoveryOP) hold(entered chan<- struct{}) {
	op.mu.Lock()
	op.gate, op.entered = make(chan struct{}), entered
	op.mu.Unlock()
}

func (op *discoveryOP) release() {
	op.mu.Lock()
	if op.gate != nil {
		close(op.gate)
		op.gate = nil
	}
	op.mu.Unlock()
}

func (op *discoveryOP) serve(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	doc, header, down, gate, entered := op.doc, op.header, op.down, op.gate, op.entered
	jwks, isJWKS := op.jwks[r.URL.Path]
	op.mu.Unlock()
	if isJWKS {
		op.jwksHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
		return
	}
	if r.URL.Path != "/.well-known/openid-configuration" {
		http.NotFound(w, r)
		return
	}
	op.discoveryHits.Add(1)
	if gate != nil {
		entered <- struct{}{}
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	maps.Copy(w.Header(), header)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func newDiscoveryProvider(t *testing.T, op *discoveryOP, clk *testClock) *providers.OIDCProvider {
	t.Helper()
	p, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.URL, ClientID: "client", Now: clk.Now, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ccHeader(v string) http.Header {
	if v == "" {
		return nil
	}
	return http.Header{"Cache-Control": {v}}
}

// TestDiscoveryMaxAgeCacheControl: discovery is refetched once it is older
// than its Cache-Control max-age, within the bounds; DiscoveryCacheAge when
// the header is absent.
func TestDiscoveryMaxAgeCacheControl(t *testing.T) {
	tests := []struct {
		name string
		cc   string
		want time.Duration
	}{
		{"absent", "", providers.DiscoveryCacheAge},
		{"max-age=600", "max-age=600", 10 * time.Minute},
		{"no-cache", "no-cache", providers.DiscoveryMinCacheAge},
		{"below the minimum", "max-age=1", providers.DiscoveryMinCacheAge},
		{"above the maximum", "max-age=31536000", providers.DiscoveryMaxCacheAge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &testClock{t: time.Now()}
			op := newDiscoveryOP(t)
			op.setDoc(nil, ccHeader(tc.cc))
			p := newDiscoveryProvider(t, op, clk)
			ctx := context.Background()
			if _, err := p.Metadata(ctx); err != nil {
				t.Fatal(err)
			}
			// The provider adds an endpoint meanwhile.
			op.setDoc(func(d map[string]any) { d["end_session_endpoint"] = op.URL + "/logout" }, ccHeader(tc.cc))
			clk.Advance(tc.want - time.Second)
			m, err := p.Metadata(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := op.discoveryHits.Load(); n != 1 || m.EndSessionEndpoint != "" {
				t.Fatalf("refetched before %v (%d fetches)", tc.want, n)
			}
			clk.Advance(2 * time.Second)
			if m, err = p.Metadata(ctx); err != nil {
				t.Fatal(err)
			}
			if n := op.discoveryHits.Load(); n != 2 {
				t.Fatalf("discovery fetches just after %v = %d, want 2", tc.want, n)
			}
			if m.EndSessionEndpoint != op.URL+"/logout" {
				t.Fatalf("refetched metadata not used: end_session_endpoint %q", m.EndSessionEndpoint)
			}
		})
	}
}

// TestDiscoveryMaxAgeNewJWKSURI: refetched metadata with a new jwks_uri
// brings a new key set; the same jwks_uri keeps the cached keys.
func TestDiscoveryMaxAgeNewJWKSURI(t *testing.T) {
	clk := &testClock{t: time.Now()}
	op := newDiscoveryOP(t)
	keyA, keyB := newRSAKey(t), newRSAKey(t)
	op.setJWKS("/jwks1", jwksOf(t, keyA, "a"))
	op.setJWKS("/jwks2", jwksOf(t, keyB, "b"))
	op.setDoc(nil, ccHeader("max-age=600"))
	p := newDiscoveryProvider(t, op, clk)
	ctx := context.Background()

	if _, err := p.VerifyLogoutToken(ctx, signLogout(t, op.URL, clk, keyA, "a")); err != nil {
		t.Fatal(err)
	}
	// Refetched with the same jwks_uri: the cached keys are kept.
	clk.Advance(10*time.Minute + time.Second)
	if _, err := p.VerifyLogoutToken(ctx, signLogout(t, op.URL, clk, keyA, "a")); err != nil {
		t.Fatal(err)
	}
	if d, j := op.discoveryHits.Load(), op.jwksHits.Load(); d != 2 || j != 1 {
		t.Fatalf("discovery fetches %d (want 2), JWKS fetches %d (want 1: key set kept)", d, j)
	}

	// The provider moves its keys.
	op.setDoc(func(d map[string]any) { d["jwks_uri"] = op.URL + "/jwks2" }, ccHeader("max-age=600"))
	clk.Advance(10*time.Minute + time.Second)
	if _, err := p.VerifyLogoutToken(ctx, signLogout(t, op.URL, clk, keyB, "b")); err != nil {
		t.Fatalf("token signed with a key at the new jwks_uri: %v", err)
	}
	_, err := p.VerifyLogoutToken(ctx, signLogout(t, op.URL, clk, keyA, "a"))
	if !errors.Is(err, providers.ErrTokenSignature) {
		t.Fatalf("token signed with a key only at the old jwks_uri: err = %v, want ErrTokenSignature", err)
	}
}

// TestDiscoveryMaxAgeOutageGrace: when discovery fails as the metadata
// expires, the last good metadata is used for DiscoveryStaleGrace past its
// max age (one attempt per DiscoveryMinCacheAge meanwhile), then the provider
// is unavailable until discovery works again.
func TestDiscoveryMaxAgeOutageGrace(t *testing.T) {
	clk := &testClock{t: time.Now()}
	op := newDiscoveryOP(t)
	op.setDoc(nil, ccHeader("max-age=600"))
	p := newDiscoveryProvider(t, op, clk)
	ctx := context.Background()
	if _, err := p.Metadata(ctx); err != nil {
		t.Fatal(err)
	}
	op.setDown(true)
	clk.Advance(10*time.Minute + time.Second)
	if m, err := p.Metadata(ctx); err != nil || m.Issuer != op.URL {
		t.Fatalf("expired metadata, discovery down, within the grace: %v", err)
	}
	if n := op.discoveryHits.Load(); n != 2 {
		t.Fatalf("discovery fetches = %d, want 2 (a refetch was attempted)", n)
	}
	for range 10 {
		clk.Advance(5 * time.Second)
		if _, err := p.Metadata(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := op.discoveryHits.Load(); n != 2 {
		t.Fatalf("discovery fetches = %d, want 2 (attempts rate-limited)", n)
	}
	clk.Advance(providers.DiscoveryStaleGrace - 52*time.Second) // fetch + max age + grace - 1 s
	if _, err := p.Metadata(ctx); err != nil {
		t.Fatalf("just before max age + grace: %v", err)
	}
	clk.Advance(2 * time.Second)
	if _, err := p.Metadata(ctx); !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("past max age + grace: err = %v, want ErrUnavailable", err)
	}
	op.setDown(false)
	clk.Advance(6 * time.Second)
	if _, err := p.Metadata(ctx); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// TestDiscoveryMaxAgeRefetchChecked: a refetched document is checked like
// the first one (issuer, endpoints); a bad one is never used, the last good
// one is kept within the grace, then the provider is unavailable.
func TestDiscoveryMaxAgeRefetchChecked(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(op *discoveryOP, d map[string]any)
		want   error
	}{
		{"issuer mismatch", func(op *discoveryOP, d map[string]any) { d["issuer"] = op.URL + "/" }, providers.ErrIssuerMismatch},
		{"http token_endpoint", func(_ *discoveryOP, d map[string]any) { d["token_endpoint"] = "http://op.example/token" }, providers.ErrUnavailable},
		{"relative jwks_uri", func(_ *discoveryOP, d map[string]any) { d["jwks_uri"] = "/jwks" }, providers.ErrUnavailable},
		{"no S256", func(_ *discoveryOP, d map[string]any) { d["code_challenge_methods_supported"] = []string{"plain"} }, providers.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &testClock{t: time.Now()}
			op := newDiscoveryOP(t)
			op.setDoc(nil, ccHeader("max-age=600"))
			p := newDiscoveryProvider(t, op, clk)
			ctx := context.Background()
			good, err := p.Metadata(ctx)
			if err != nil {
				t.Fatal(err)
			}
			op.setDoc(func(d map[string]any) { tc.mutate(op, d) }, ccHeader("max-age=600"))
			clk.Advance(10*time.Minute + time.Second)
			m, err := p.Metadata(ctx)
			if err != nil {
				t.Fatalf("within the grace: %v", err)
			}
			if n := op.discoveryHits.Load(); n != 2 {
				t.Fatalf("discovery fetches = %d, want 2", n)
			}
			if !reflect.DeepEqual(m, good) {
				t.Fatalf("a rejected document was used: %+v", m)
			}
			clk.Advance(providers.DiscoveryStaleGrace)
			if _, err := p.Metadata(ctx); !errors.Is(err, providers.ErrUnavailable) || !errors.Is(err, tc.want) {
				t.Fatalf("past the grace: err = %v, want ErrUnavailable and %v", err, tc.want)
			}
		})
	}
}

// TestDiscoveryWaiterHonoursContext: while one request's discovery fetch
// hangs, another request returns at its own deadline instead of waiting for
// that fetch; both share the one fetch.
func TestDiscoveryWaiterHonoursContext(t *testing.T) {
	clk := &testClock{t: time.Now()}
	op := newDiscoveryOP(t)
	entered := make(chan struct{}, 2)
	op.hold(entered)
	p := newDiscoveryProvider(t, op, clk)

	first := make(chan error, 1)
	go func() {
		_, err := p.Metadata(context.Background())
		first <- err
	}()
	<-entered // the first request's fetch has reached the provider and hangs

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := p.Metadata(ctx)
		second <- err
	}()
	select {
	case err := <-second:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiter: err = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("waiter returned after %v", d)
		}
	case <-time.After(3 * time.Second):
		op.release()
		<-first
		t.Fatal("the waiter did not return at its deadline: it waited for another request's discovery fetch")
	}
	op.release()
	if err := <-first; err != nil {
		t.Fatalf("the request whose fetch was held: %v", err)
	}
	if n := op.discoveryHits.Load(); n != 1 {
		t.Fatalf("discovery fetches = %d, want 1 (the waiter joined the running fetch)", n)
	}
}

// TestLogoutTypVerifyLogoutToken: end to end through VerifyLogoutToken, a
// logout token's typ, when present, must be logout+jwt.
func TestLogoutTypVerifyLogoutToken(t *testing.T) {
	op := startOP(t, ginauthtest.Options{})
	p, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	claims := func() map[string]any {
		now := time.Now()
		return map[string]any{
			"iss": op.Issuer(), "aud": op.ClientID(), "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
			"jti": "jti-" + now.Format(time.RFC3339Nano), "sid": "sid-1",
			"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
		}
	}
	for _, tc := range []struct {
		typ  any // nil: no typ
		want error
	}{
		{nil, nil},
		{"logout+jwt", nil},
		{"application/logout+JWT", nil},
		{"JWT", nil},
		{"at+jwt", providers.ErrTokenType},
	} {
		header := map[string]any{"typ": tc.typ}
		tok := op.SignJWT(header, claims())
		_, err := p.VerifyLogoutToken(context.Background(), tok)
		if tc.want == nil {
			if err != nil {
				t.Errorf("typ %v: %v", tc.typ, err)
			}
			continue
		}
		if !errors.Is(err, providers.ErrInvalidLogoutToken) || !errors.Is(err, providers.ErrInvalidToken) || !errors.Is(err, tc.want) {
			t.Errorf("typ %v: err = %v, want ErrInvalidLogoutToken and %v", tc.typ, err, tc.want)
		}
	}
}

// TestIDTokenEventsSignIn: an ID token carrying the back-channel events
// claim fails sign-in (SECURITY.md BC-6, second half).
func TestIDTokenEventsSignIn(t *testing.T) {
	op := startOP(t, ginauthtest.Options{})
	p, err := providers.OIDC(providers.OIDCConfig{Name: "test", Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret()})
	if err != nil {
		t.Fatal(err)
	}
	op.SetBehavior(ginauthtest.Behavior{IDTokenClaims: func(c map[string]any) {
		c["events"] = map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}
	}})
	if _, err := signIn(t, p); !errors.Is(err, providers.ErrTokenType) || !errors.Is(err, providers.ErrInvalidToken) {
		t.Fatalf("sign-in with events in the ID token: err = %v, want ErrTokenType", err)
	}
	op.SetBehavior(ginauthtest.Behavior{})
	if _, err := signIn(t, p); err != nil {
		t.Fatalf("positive control: %v", err)
	}
}

func newRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jwksOf(t *testing.T, key *rsa.PrivateKey, kid string) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: kid, Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signLogout signs a valid logout token for issuer and audience "client".
func signLogout(t *testing.T, issuer string, clk *testClock, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	now := clk.Now()
	claims, err := json.Marshal(map[string]any{
		"iss": issuer, "aud": "client", "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": "jti-" + now.Format(time.RFC3339Nano), "sid": "sid-1",
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
