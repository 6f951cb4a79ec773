package ginauth

import (
	"testing"
	"time"
)

func TestBearerCacheBounds(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	entry := func(exp time.Time) *bearerRequest {
		return &bearerRequest{User: User{Subject: "alice", Groups: []string{"admin"}}, Bearer: Bearer{Expiry: exp, Scopes: []string{"read"}}}
	}
	t.Run("lives at most bearerCacheTTL", func(t *testing.T) {
		bc := newBearerCache()
		k := bearerCacheKey("tok", "aud")
		bc.put(k, entry(now.Add(time.Hour)), now)
		if _, ok := bc.get(k, now.Add(bearerCacheTTL-time.Second)); !ok {
			t.Fatal("miss inside the TTL")
		}
		if _, ok := bc.get(k, now.Add(bearerCacheTTL)); ok {
			t.Fatal("hit after the TTL")
		}
	})
	t.Run("lives at most until exp", func(t *testing.T) {
		bc := newBearerCache()
		k := bearerCacheKey("tok", "aud")
		bc.put(k, entry(now.Add(10*time.Second)), now)
		if _, ok := bc.get(k, now.Add(10*time.Second)); ok {
			t.Fatal("hit at exp")
		}
	})
	t.Run("an expired token is not stored", func(t *testing.T) {
		bc := newBearerCache()
		bc.put(bearerCacheKey("tok", "aud"), entry(now), now)
		if n := bc.set.Len(); n != 0 {
			t.Fatalf("%d entries", n)
		}
	})
	t.Run("keys separate token and audience", func(t *testing.T) {
		if bearerCacheKey("ab", "c") == bearerCacheKey("a", "bc") {
			t.Fatal("same key")
		}
	})
	t.Run("the caller's slices are not shared", func(t *testing.T) {
		bc := newBearerCache()
		k := bearerCacheKey("tok", "aud")
		e := entry(now.Add(time.Hour))
		bc.put(k, e, now)
		e.User.Groups[0] = "changed"
		got, _ := bc.get(k, now)
		got.Bearer.Scopes[0] = "changed"
		again, _ := bc.get(k, now)
		if again.User.Groups[0] != "admin" || again.Bearer.Scopes[0] != "read" {
			t.Fatalf("cached entry changed: %+v", again)
		}
	})
	t.Run("full cache: no error, no eviction", func(t *testing.T) {
		bc := newBearerCache()
		for i := range maxBearerCache {
			bc.put(bearerCacheKey(string(rune(i)), "aud"), entry(now.Add(time.Hour)), now)
		}
		first := bearerCacheKey(string(rune(0)), "aud")
		bc.put(bearerCacheKey("one more", "aud"), entry(now.Add(time.Hour)), now)
		if _, ok := bc.get(first, now); !ok {
			t.Fatal("a live entry was evicted")
		}
		if _, ok := bc.get(bearerCacheKey("one more", "aud"), now); ok {
			t.Fatal("stored beyond the bound")
		}
	})
}
