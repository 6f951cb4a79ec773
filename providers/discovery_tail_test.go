package providers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDiscoveryFailureBackoffInFetchTail: while the provider is down, a
// caller that finds the metadata expired right after a failed refetch (its
// outcome recorded, its shared call not yet ended) uses the metadata within
// its grace instead of attempting discovery again within the backoff. It
// may not take the ending call for a fetch still in progress, then find it
// ended and start one of its own.
func TestDiscoveryFailureBackoffInFetchTail(t *testing.T) {
	var hits atomic.Int32
	var down atomic.Bool
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		if down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                 srv.URL,
			"authorization_endpoint": srv.URL + "/authorize",
			"token_endpoint":         srv.URL + "/token",
			"jwks_uri":               srv.URL + "/jwks",
		})
	}))
	t.Cleanup(srv.Close)

	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p, err := OIDC(OIDCConfig{Name: "test", Issuer: srv.URL, ClientID: "client", Now: clock, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Metadata(ctx); err != nil {
		t.Fatal(err)
	}
	down.Store(true)
	mu.Lock()
	now = now.Add(11 * time.Minute) // expired, within DiscoveryStaleGrace
	mu.Unlock()

	c := p.meta
	var armed, inTail atomic.Bool
	secondAwaits := make(chan struct{}, 1)
	secondDone := make(chan error, 1)
	c.hookFetched = func() {
		if !armed.CompareAndSwap(true, false) {
			return
		}
		inTail.Store(true)
		go func() {
			_, err := p.Metadata(ctx)
			secondDone <- err
		}()
		select {
		case <-secondAwaits:
		case err := <-secondDone:
			inTail.Store(false)
			secondDone <- err
		case <-time.After(10 * time.Second):
			t.Error("second caller neither waited for discovery nor returned")
		}
	}
	c.hookAwait = func() {
		if !inTail.CompareAndSwap(true, false) {
			return
		}
		secondAwaits <- struct{}{}
		deadline := time.Now().Add(10 * time.Second)
		for c.fetch.Running() != 0 {
			if time.Now().After(deadline) {
				t.Error("the discovery call did not end")
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	armed.Store(true)
	if _, err := p.Metadata(ctx); err != nil {
		t.Fatalf("first caller, within the grace: %v", err)
	}
	if armed.Load() {
		t.Fatal("first caller did not attempt discovery")
	}
	select {
	case err := <-secondDone:
		if err != nil {
			t.Fatalf("second caller, within the grace: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second caller did not return")
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("discovery requests = %d, want 2 (one failed attempt per backoff)", n)
	}
}
