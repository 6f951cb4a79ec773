package oidcjwt

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ginauth/ginauth/internal/safehttp"
)

// cachingJWKSServer serves a replaceable JWKS with replaceable caching
// headers; it can be taken down, or made to block until released.
type cachingJWKSServer struct {
	*httptest.Server
	hits atomic.Int32
	down atomic.Bool

	mu      sync.Mutex
	body    []byte
	header  http.Header     // added to each 200 answer
	gate    chan struct{}   // when set, requests block until it is closed
	entered chan<- struct{} // when set, told of each request that blocks
}

func newCachingJWKSServer(tb testing.TB, body []byte, header http.Header) *cachingJWKSServer {
	tb.Helper()
	s := &cachingJWKSServer{body: body, header: header}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(func() {
		s.open()
		s.Close()
	})
	return s
}

func (s *cachingJWKSServer) set(body []byte, header http.Header) {
	s.mu.Lock()
	s.body, s.header = body, header
	s.mu.Unlock()
}

// block makes requests wait until open is called; entered (if not nil)
// receives one value per blocked request.
func (s *cachingJWKSServer) block(entered chan<- struct{}) {
	s.mu.Lock()
	s.gate, s.entered = make(chan struct{}), entered
	s.mu.Unlock()
}

func (s *cachingJWKSServer) open() {
	s.mu.Lock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
	s.mu.Unlock()
}

func (s *cachingJWKSServer) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	s.mu.Lock()
	body, header, gate, entered := s.body, s.header, s.gate, s.entered
	s.mu.Unlock()
	if gate != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if s.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	for k, vs := range header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func cacheControl(v string) http.Header {
	if v == "" {
		return nil
	}
	return http.Header{"Cache-Control": {v}}
}

func newCachingKeySet(srv *cachingJWKSServer, clock *fakeClock) *RemoteKeySet {
	return NewRemoteKeySet(srv.URL, KeySetOptions{
		Client:             safehttp.NewClient(5 * time.Second),
		MinRefreshInterval: time.Minute,
		Now:                clock.Now,
	})
}

// TestJWKSMaxAgeRemovedKeyStopsVerifying: a key the provider removed from its
// JWKS stops verifying once the cached set is older than its max age, with or
// without Cache-Control (SECURITY.md IT-9).
func TestJWKSMaxAgeRemovedKeyStopsVerifying(t *testing.T) {
	testKeys(t)
	rs256 := []string{"RS256"}
	both := jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig"), pubJWK(rsaKey2, "k2", "RS256", "sig"))
	onlyK2 := jwksJSON(t, pubJWK(rsaKey2, "k2", "RS256", "sig"))
	for _, tc := range []struct {
		name   string
		header http.Header
		maxAge time.Duration
	}{
		{"max-age=600", cacheControl("max-age=600"), 10 * time.Minute},
		{"no Cache-Control (default)", nil, DefaultCacheAge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			srv := newCachingJWKSServer(t, both, tc.header)
			ks := newCachingKeySet(srv, clock)
			ctx := context.Background()
			removed := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
			kept := sign(t, rsaKey2, jose.RS256, "k2", []byte(`{}`))
			if _, err := ks.Verify(ctx, removed, rs256); err != nil {
				t.Fatal(err)
			}
			// The provider removes k1.
			srv.set(onlyK2, tc.header)
			clock.Advance(tc.maxAge - time.Second)
			if _, err := ks.Verify(ctx, removed, rs256); err != nil {
				t.Fatalf("within the max age: %v", err)
			}
			if n := ks.Fetches(); n != 1 {
				t.Fatalf("Fetches within the max age = %d, want 1", n)
			}
			clock.Advance(2 * time.Second)
			_, err := ks.Verify(ctx, removed, rs256)
			if !errors.Is(err, ErrSignature) || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("removed key after the max age: err = %v, want ErrSignature", err)
			}
			// One refetch for the expired set; the unknown kid right after
			// it is not worth another.
			if n := ks.Fetches(); n != 2 {
				t.Fatalf("Fetches after the max age = %d, want 2", n)
			}
			if _, err := ks.Verify(ctx, kept, rs256); err != nil {
				t.Fatalf("key still published: %v", err)
			}
			if n := ks.Fetches(); n != 2 {
				t.Fatalf("Fetches = %d, want 2", n)
			}
		})
	}
}

// TestJWKSMaxAgeCacheControl: the cached set lives as long as the response's
// Cache-Control says, within [DefaultMinCacheAge, DefaultMaxCacheAge];
// no-cache, no-store and unusable values mean the minimum.
func TestJWKSMaxAgeCacheControl(t *testing.T) {
	testKeys(t)
	body := jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig"))
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"absent", nil, DefaultCacheAge},
		{"max-age=600", cacheControl("max-age=600"), 10 * time.Minute},
		{"with other directives", cacheControl("public, max-age=7200, must-revalidate"), 2 * time.Hour},
		{"directive name in upper case", cacheControl("MAX-AGE=900"), 15 * time.Minute},
		{"quoted value", cacheControl(`max-age="900"`), 15 * time.Minute},
		{"spaces around", cacheControl(" private ,  max-age=900 "), 15 * time.Minute},
		{"no-cache", cacheControl("no-cache"), DefaultMinCacheAge},
		{"no-store", cacheControl("no-store"), DefaultMinCacheAge},
		{"no-cache with max-age", cacheControl("max-age=900, no-cache"), DefaultMinCacheAge},
		{"no-store on a second line", http.Header{"Cache-Control": {"max-age=900", "no-store"}}, DefaultMinCacheAge},
		{"max-age=0", cacheControl("max-age=0"), DefaultMinCacheAge},
		{"below the minimum", cacheControl("max-age=5"), DefaultMinCacheAge},
		{"above the maximum", cacheControl("max-age=31536000"), DefaultMaxCacheAge},
		{"overflowing value", cacheControl("max-age=999999999999999999999999"), DefaultMaxCacheAge},
		{"two max-age: the smaller", cacheControl("max-age=900, max-age=120"), 2 * time.Minute},
		{"not a number", cacheControl("max-age=abc"), DefaultMinCacheAge},
		{"negative", cacheControl("max-age=-5"), DefaultMinCacheAge},
		{"empty value", cacheControl("max-age="), DefaultMinCacheAge},
		{"s-maxage is for shared caches", cacheControl("s-maxage=900"), DefaultCacheAge},
		{"Age is subtracted", http.Header{"Cache-Control": {"max-age=900"}, "Age": {"300"}}, 10 * time.Minute},
		{"Age beyond max-age", http.Header{"Cache-Control": {"max-age=900"}, "Age": {"5000"}}, DefaultMinCacheAge},
		{"malformed Age is ignored", http.Header{"Cache-Control": {"max-age=900"}, "Age": {"soon"}}, 15 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			srv := newCachingJWKSServer(t, body, tc.header)
			ks := newCachingKeySet(srv, clock)
			ctx := context.Background()
			token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
			if _, err := ks.Verify(ctx, token, []string{"RS256"}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tc.want - time.Second)
			if _, err := ks.Verify(ctx, token, []string{"RS256"}); err != nil {
				t.Fatal(err)
			}
			if n := ks.Fetches(); n != 1 {
				t.Fatalf("refetched before %v (Fetches = %d)", tc.want, n)
			}
			clock.Advance(2 * time.Second)
			if _, err := ks.Verify(ctx, token, []string{"RS256"}); err != nil {
				t.Fatal(err)
			}
			if n := ks.Fetches(); n != 2 {
				t.Fatalf("Fetches just after %v = %d, want 2", tc.want, n)
			}
		})
	}
}

// TestJWKSMaxAgeOptions: the bounds, the age used without Cache-Control and
// the grace period are options.
func TestJWKSMaxAgeOptions(t *testing.T) {
	testKeys(t)
	body := jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig"))
	opts := func(clock *fakeClock) KeySetOptions {
		return KeySetOptions{
			Client:      safehttp.NewClient(5 * time.Second),
			Now:         clock.Now,
			MinCacheAge: 10 * time.Second,
			MaxCacheAge: 2 * time.Hour,
			CacheAge:    30 * time.Minute,
			StaleGrace:  time.Hour,
		}
	}
	tests := []struct {
		name   string
		header http.Header
		opts   func(*KeySetOptions)
		want   time.Duration
	}{
		{"CacheAge without header", nil, nil, 30 * time.Minute},
		{"MinCacheAge", cacheControl("no-store"), nil, 10 * time.Second},
		{"MaxCacheAge", cacheControl("max-age=86400"), nil, 2 * time.Hour},
		{"CacheAge clamped to the bounds", nil, func(o *KeySetOptions) { o.CacheAge = 48 * time.Hour }, 2 * time.Hour},
		{"MaxCacheAge below MinCacheAge is raised", cacheControl("max-age=86400"), func(o *KeySetOptions) { o.MaxCacheAge = time.Second }, 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			srv := newCachingJWKSServer(t, body, tc.header)
			o := opts(clock)
			if tc.opts != nil {
				tc.opts(&o)
			}
			ks := NewRemoteKeySet(srv.URL, o)
			ctx := context.Background()
			token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
			if _, err := ks.Verify(ctx, token, []string{"RS256"}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(tc.want - time.Second)
			_, _ = ks.Verify(ctx, token, []string{"RS256"})
			if n := ks.Fetches(); n != 1 {
				t.Fatalf("refetched before %v", tc.want)
			}
			clock.Advance(2 * time.Second)
			_, _ = ks.Verify(ctx, token, []string{"RS256"})
			if n := ks.Fetches(); n != 2 {
				t.Fatalf("Fetches just after %v = %d, want 2", tc.want, n)
			}
		})
	}

	t.Run("StaleGrace", func(t *testing.T) {
		clock := newClock()
		srv := newCachingJWKSServer(t, body, cacheControl("max-age=600"))
		ks := NewRemoteKeySet(srv.URL, opts(clock))
		ctx := context.Background()
		token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
		if _, err := ks.Verify(ctx, token, []string{"RS256"}); err != nil {
			t.Fatal(err)
		}
		srv.down.Store(true)
		clock.Advance(10*time.Minute + time.Hour - time.Second)
		if _, err := ks.Verify(ctx, token, []string{"RS256"}); err != nil {
			t.Fatalf("within max age + StaleGrace: %v", err)
		}
		clock.Advance(2 * time.Second)
		if _, err := ks.Verify(ctx, token, []string{"RS256"}); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("after max age + StaleGrace: err = %v, want ErrKeysUnavailable", err)
		}
	})

	t.Run("negative StaleGrace: none", func(t *testing.T) {
		clock := newClock()
		srv := newCachingJWKSServer(t, body, cacheControl("max-age=600"))
		o := opts(clock)
		o.StaleGrace = -1
		ks := NewRemoteKeySet(srv.URL, o)
		ctx := context.Background()
		token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
		if _, err := ks.Verify(ctx, token, []string{"RS256"}); err != nil {
			t.Fatal(err)
		}
		srv.down.Store(true)
		clock.Advance(10*time.Minute + time.Second)
		if _, err := ks.Verify(ctx, token, []string{"RS256"}); !errors.Is(err, ErrKeysUnavailable) {
			t.Fatalf("expired set, provider down, no grace: err = %v, want ErrKeysUnavailable", err)
		}
	})
}

// TestJWKSMaxAgeOutageGrace: when the provider is down as the cached set
// expires, its keys keep working for DefaultStaleGrace past the max age (one
// attempt per MinRefreshInterval meanwhile), then Verify fails closed with
// ErrKeysUnavailable; once the provider is back, keys work again.
func TestJWKSMaxAgeOutageGrace(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newCachingJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")), cacheControl("max-age=600"))
	ks := newCachingKeySet(srv, clock)
	ctx := context.Background()
	rs256 := []string{"RS256"}
	token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	if _, err := ks.Verify(ctx, token, rs256); err != nil {
		t.Fatal(err)
	}
	srv.down.Store(true)
	clock.Advance(10*time.Minute + time.Second)
	if _, err := ks.Verify(ctx, token, rs256); err != nil {
		t.Fatalf("expired set, provider down, within the grace: %v", err)
	}
	if n := ks.Fetches(); n != 2 {
		t.Fatalf("Fetches = %d, want 2 (a refetch was attempted)", n)
	}
	// No refetch storm: at most one attempt per MinRefreshInterval.
	for range 10 {
		clock.Advance(5 * time.Second)
		if _, err := ks.Verify(ctx, token, rs256); err != nil {
			t.Fatalf("within the grace: %v", err)
		}
	}
	if n := ks.Fetches(); n != 2 {
		t.Fatalf("Fetches = %d, want 2 (attempts rate-limited)", n)
	}
	// Until the grace ends, with an attempt each minute at most.
	clock.Advance(DefaultStaleGrace - 52*time.Second) // to fetch time + max age + grace - 1 s
	if _, err := ks.Verify(ctx, token, rs256); err != nil {
		t.Fatalf("just before max age + grace: %v", err)
	}
	if n := ks.Fetches(); n != 3 {
		t.Fatalf("Fetches = %d, want 3", n)
	}
	// Past it: fail closed, and it is not the token's fault.
	clock.Advance(2 * time.Second)
	_, err := ks.Verify(ctx, token, rs256)
	if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("past max age + grace with the provider down: err = %v, want ErrKeysUnavailable only", err)
	}
	// A bad signature is not saved by the outage either.
	if _, err := ks.Verify(ctx, flipSignatureByte(t, token), rs256); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("err = %v, want ErrKeysUnavailable", err)
	}
	// The provider comes back: after the short retry delay, keys work again.
	srv.down.Store(false)
	clock.Advance(maxInitialRetry)
	if _, err := ks.Verify(ctx, token, rs256); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// TestJWKSMaxAgeRefetchHonoursContext: a Verify that must wait for the
// refetch of an expired set returns when its own context ends, while the
// refetch goes on for the others.
func TestJWKSMaxAgeRefetchHonoursContext(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newCachingJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")), cacheControl("max-age=600"))
	ks := newCachingKeySet(srv, clock)
	rs256 := []string{"RS256"}
	token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	if _, err := ks.Verify(context.Background(), token, rs256); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Minute)
	entered := make(chan struct{}, 1)
	srv.block(entered)

	first := make(chan error, 1)
	go func() {
		_, err := ks.Verify(context.Background(), token, rs256)
		first <- err
	}()
	select {
	case <-entered: // the refetch is in progress and held
	case err := <-first:
		t.Fatalf("Verify of an expired set returned (%v) without refetching", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() {
		_, err := ks.Verify(ctx, token, rs256)
		second <- err
	}()
	select {
	case err := <-second:
		if !errors.Is(err, ErrKeysUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiter whose deadline passed: err = %v, want ErrKeysUnavailable and DeadlineExceeded", err)
		}
	case <-time.After(3 * time.Second):
		srv.open()
		t.Fatal("a waiter did not return at its deadline")
	}
	srv.open()
	if err := <-first; err != nil {
		t.Fatalf("the caller that started the refetch: %v", err)
	}
	if n := ks.Fetches(); n != 2 {
		t.Fatalf("Fetches = %d, want 2 (the waiter joined the refetch)", n)
	}
}

// TestJWKSMaxAgeConcurrentExpiryOneFetch: callers that find the set expired
// while a refetch is running share it.
func TestJWKSMaxAgeConcurrentExpiryOneFetch(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newCachingJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")), cacheControl("max-age=600"))
	ks := newCachingKeySet(srv, clock)
	rs256 := []string{"RS256"}
	token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	if _, err := ks.Verify(context.Background(), token, rs256); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Minute)
	entered := make(chan struct{}, 20)
	srv.block(entered)
	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := ks.Verify(context.Background(), token, rs256)
			errs <- err
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-entered:
	case <-done:
		t.Fatal("every Verify of an expired set returned without a refetch")
	}
	srv.open()
	<-done
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := ks.Fetches(); got != 2 {
		t.Fatalf("Fetches = %d, want 2 (first use + one shared refetch)", got)
	}
}
