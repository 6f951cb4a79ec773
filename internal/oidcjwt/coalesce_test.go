package oidcjwt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Coalescing of concurrent JWKS fetches, tested black-box: the JWKS endpoint
// counts the requests it gets, and it holds them until every Verify caller
// is blocked (synctest.Wait), so that all callers overlap one fetch for
// certain. Without coalescing each caller would be blocked in a fetch of its
// own, and the endpoint would count them all.

// gatedJWKS is an in-memory JWKS endpoint (an http.RoundTripper) that counts
// requests and, while gated, holds each one until the gate opens.
type gatedJWKS struct {
	body []byte
	hits atomic.Int32

	mu   sync.Mutex
	gate chan struct{} // nil: answer at once
}

func (g *gatedJWKS) RoundTrip(r *http.Request) (*http.Response, error) {
	g.hits.Add(1)
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(g.body)),
		ContentLength: int64(len(g.body)),
		Request:       r,
	}, nil
}

// close makes later requests wait until open is called.
func (g *gatedJWKS) close() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

// open lets every held and later request through.
func (g *gatedJWKS) open() {
	g.mu.Lock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
	g.mu.Unlock()
}

// jumpingClock returns a clock that moves by step at every reading.
func jumpingClock(step time.Duration) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return testStart.Add(time.Duration(n.Add(1)) * step) }
}

// verifyAll runs Verify for every token in its own goroutine, waits until
// all of them are blocked, then opens the endpoint's gate and returns the
// errors. It must run inside a synctest bubble.
func verifyAll(ks *RemoteKeySet, g *gatedJWKS, tokens []string) []error {
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() {
			_, errs[i] = ks.Verify(context.Background(), tok, []string{"RS256"})
		})
	}
	// Every caller is now durably blocked: either waiting for a fetch it
	// shares, or (without coalescing) in a fetch of its own.
	synctest.Wait()
	g.open()
	wg.Wait()
	return errs
}

// TestConcurrentUnknownKidCoalesced: concurrent Verify calls that miss the
// cache (unknown kids) share one refetch. The clock moves past
// MinRefreshInterval at every reading, so the rate limit never holds a
// refetch back: only coalescing keeps the endpoint at one refetch.
func TestConcurrentUnknownKidCoalesced(t *testing.T) {
	testKeys(t)
	const n = 20
	good := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = sign(t, rsaKey2, jose.RS256, randomKid(t), []byte(`{}`))
	}
	synctest.Test(t, func(t *testing.T) {
		g := &gatedJWKS{body: jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig"))}
		ks := NewRemoteKeySet("https://op.example/jwks", KeySetOptions{
			Client:             &http.Client{Transport: g},
			MinRefreshInterval: time.Minute,
			Now:                jumpingClock(2 * time.Minute),
		})
		if _, err := ks.Verify(context.Background(), good, []string{"RS256"}); err != nil {
			t.Fatal(err)
		}
		if got := g.hits.Load(); got != 1 {
			t.Fatalf("first use: %d JWKS requests, want 1", got)
		}

		g.close()
		for i, err := range verifyAll(ks, g, tokens) {
			if !errors.Is(err, ErrUnknownKey) {
				t.Errorf("token %d: err = %v, want ErrUnknownKey", i, err)
			}
		}
		if got := g.hits.Load(); got != 2 {
			t.Fatalf("%d concurrent unknown kids: %d JWKS requests, want 2 (first use + one shared refetch)", n, got)
		}
		if got := ks.Fetches(); got != 2 {
			t.Fatalf("Fetches = %d, want 2", got)
		}
	})
}

// TestConcurrentFirstUseCoalesced: concurrent first uses share one fetch.
func TestConcurrentFirstUseCoalesced(t *testing.T) {
	testKeys(t)
	const n = 20
	token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = token
	}
	synctest.Test(t, func(t *testing.T) {
		g := &gatedJWKS{body: jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig"))}
		ks := NewRemoteKeySet("https://op.example/jwks", KeySetOptions{
			Client:             &http.Client{Transport: g},
			MinRefreshInterval: time.Minute,
			Now:                jumpingClock(2 * time.Minute),
		})
		g.close()
		for i, err := range verifyAll(ks, g, tokens) {
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		}
		if got := g.hits.Load(); got != 1 {
			t.Fatalf("%d concurrent first uses: %d JWKS requests, want 1", n, got)
		}
		if got := ks.Fetches(); got != 1 {
			t.Fatalf("Fetches = %d, want 1", got)
		}
	})
}
