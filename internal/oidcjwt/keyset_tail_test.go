package oidcjwt

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// A fetch records its outcome (under the key set's lock) a moment before its
// shared call ends. A caller that looks at the key set in that moment must
// take the recorded outcome into account: it may not treat the call as a
// fetch still in progress, then find it ended and start a fetch of its own
// that the rate limit (or the failure backoff) would have refused.

// inFetchTail runs first, which must start a fetch. When that fetch has
// recorded its outcome but its call has not ended yet, it runs second; if
// second goes on to join or start a fetch, it does so only after the call
// has ended. It returns the errors of both.
func inFetchTail(t *testing.T, ks *RemoteKeySet, first, second func() error) (error, error) {
	t.Helper()
	var armed, inTail atomic.Bool
	secondAwaits := make(chan struct{}, 1)
	secondDone := make(chan error, 1)
	ks.hookFetched = func() {
		if !armed.CompareAndSwap(true, false) {
			return
		}
		inTail.Store(true)
		go func() { secondDone <- second() }()
		select {
		case <-secondAwaits:
		case err := <-secondDone:
			inTail.Store(false)
			secondDone <- err
		case <-time.After(10 * time.Second):
			t.Error("second caller neither waited for a fetch nor returned")
		}
	}
	ks.hookAwait = func() {
		if !inTail.CompareAndSwap(true, false) {
			return
		}
		secondAwaits <- struct{}{}
		deadline := time.Now().Add(10 * time.Second)
		for ks.fetch.Running() != 0 {
			if time.Now().After(deadline) {
				t.Error("the fetch call did not end")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	defer func() { ks.hookFetched, ks.hookAwait = nil, nil }()
	armed.Store(true)
	errFirst := first()
	if armed.Load() {
		t.Fatal("first caller did not fetch")
	}
	var errSecond error
	select {
	case errSecond = <-secondDone:
	case <-time.After(10 * time.Second):
		t.Fatal("second caller did not return")
	}
	return errFirst, errSecond
}

// TestUnknownKidRefetchRateLimitInFetchTail: an unknown kid right after a
// refetch (the refetch's outcome recorded, its call not yet ended) must not
// cause a second refetch within MinRefreshInterval.
func TestUnknownKidRefetchRateLimitInFetchTail(t *testing.T) {
	testKeys(t)
	g := &gatedJWKS{body: jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig"))}
	ks := NewRemoteKeySet("https://op.example/jwks", KeySetOptions{
		Client:             &http.Client{Transport: g},
		MinRefreshInterval: time.Minute,
		Now:                newClock().Now,
	})
	ctx := context.Background()
	rs256 := []string{"RS256"}
	if _, err := ks.Verify(ctx, sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`)), rs256); err != nil {
		t.Fatal(err)
	}
	unknown1 := sign(t, rsaKey2, jose.RS256, "x1", []byte(`{}`))
	unknown2 := sign(t, rsaKey2, jose.RS256, "x2", []byte(`{}`))
	err1, err2 := inFetchTail(t, ks,
		func() error { _, err := ks.Verify(ctx, unknown1, rs256); return err },
		func() error { _, err := ks.Verify(ctx, unknown2, rs256); return err })
	for i, err := range []error{err1, err2} {
		if !errors.Is(err, ErrUnknownKey) {
			t.Errorf("unknown kid %d: err = %v, want ErrUnknownKey", i+1, err)
		}
	}
	if n := ks.Fetches(); n != 2 {
		t.Fatalf("Fetches = %d, want 2 (first use + one refetch per MinRefreshInterval)", n)
	}
	if n := g.hits.Load(); n != 2 {
		t.Fatalf("JWKS requests = %d, want 2", n)
	}
}

// TestExpiredSetFailureBackoffInFetchTail: while the provider is down, a
// caller that finds the set expired right after a failed refetch (its
// outcome recorded, its call not yet ended) uses the set within its grace
// instead of attempting again within MinRefreshInterval.
func TestExpiredSetFailureBackoffInFetchTail(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newCachingJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")), cacheControl("max-age=600"))
	ks := newCachingKeySet(srv, clock) // MinRefreshInterval 1 min
	ctx := context.Background()
	rs256 := []string{"RS256"}
	token := sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`))
	if _, err := ks.Verify(ctx, token, rs256); err != nil {
		t.Fatal(err)
	}
	srv.down.Store(true)
	clock.Advance(11 * time.Minute)
	verify := func() error { _, err := ks.Verify(ctx, token, rs256); return err }
	err1, err2 := inFetchTail(t, ks, verify, verify)
	if err1 != nil || err2 != nil {
		t.Fatalf("within the grace: errs = %v, %v", err1, err2)
	}
	if n := ks.Fetches(); n != 2 {
		t.Fatalf("Fetches = %d, want 2 (one failed attempt per MinRefreshInterval)", n)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Fatalf("JWKS requests = %d, want 2", n)
	}
}
