package oidcjwt

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ginauth/ginauth/internal/safehttp"
)

// TestVerifyUsesKeysFetchedByAnotherCaller: a caller reads the cached keys,
// misses the token's kid, and by the time it asks for a refetch another
// caller's refetch has already finished (so a new one is rate-limited). The
// keys that fetch brought must still be tried: the new kid is in them.
// Without that, concurrent sign-ins right after a key rotation fail at random.
func TestVerifyUsesKeysFetchedByAnotherCaller(t *testing.T) {
	testKeys(t)
	clock := newClock()
	srv := newJWKSServer(t, jwksJSON(t, pubJWK(rsaKey1, "k1", "RS256", "sig")))
	rotated, err := parseJWKS(jwksJSON(t, pubJWK(rsaKey2, "k2", "RS256", "sig")))
	if err != nil {
		t.Fatal(err)
	}
	ks := NewRemoteKeySet(srv.URL, KeySetOptions{
		Client:             safehttp.NewClient(5 * time.Second),
		MinRefreshInterval: time.Minute,
		Now:                clock.Now,
	})
	var armed atomic.Bool
	ks.hookRefetch = func() {
		if armed.CompareAndSwap(true, false) {
			// Called by refetch with ks.mu held: play the other caller,
			// whose refetch has just stored the rotated keys.
			now := clock.Now()
			ks.cur = &keySnapshot{keys: rotated, freshUntil: now.Add(time.Hour), usableUntil: now.Add(time.Hour)}
			ks.nextRefetch = now.Add(time.Minute)
		}
	}
	ctx := context.Background()
	rs256 := []string{"RS256"}
	if _, err := ks.Verify(ctx, sign(t, rsaKey1, jose.RS256, "k1", []byte(`{}`)), rs256); err != nil {
		t.Fatal(err)
	}
	fetches := ks.Fetches()
	armed.Store(true)
	if _, err := ks.Verify(ctx, sign(t, rsaKey2, jose.RS256, "k2", []byte(`{}`)), rs256); err != nil {
		t.Fatalf("token signed with a key fetched meanwhile: %v", err)
	}
	if armed.Load() {
		t.Fatal("the refetch path was not taken")
	}
	if n := ks.Fetches(); n != fetches {
		t.Fatalf("Fetches = %d, want %d (the rate limit holds)", n, fetches)
	}
	// An unknown kid is still refused without a fetch.
	if _, err := ks.Verify(ctx, sign(t, rsaKey3, jose.RS256, "k3", []byte(`{}`)), rs256); err == nil {
		t.Fatal("unknown kid accepted")
	}
	if n := ks.Fetches(); n != fetches {
		t.Fatalf("Fetches = %d, want %d", n, fetches)
	}
}
