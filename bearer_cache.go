package ginauth

import (
	"crypto/sha256"
	"slices"
	"time"

	"github.com/ginauth/ginauth/internal/ttlset"
)

// Verified bearer tokens are remembered for a short while so that a client
// calling the API repeatedly with the same access token pays for the
// signature check once, not on every request.
//
// A hit is only possible for the very same token string and audience (the
// key is a SHA-256 of both), so the cache never accepts a token it has not
// verified. An entry lives until the token's exp or bearerCacheTTL,
// whichever comes first: a token whose signing key the provider withdraws
// from its JWKS stays accepted at most bearerCacheTTL longer than without
// the cache (the JWKS itself is cached for its max-age anyway). Only
// accepted tokens are cached; refusals are verified again each time.
const (
	bearerCacheTTL = time.Minute
	// maxBearerCache bounds the cache. When it is full of live entries,
	// further tokens are verified on every request (nothing is evicted).
	maxBearerCache = 10_000
)

// bearerCache maps verified (token, audience) pairs to what RequireAuth
// attaches for them.
type bearerCache struct {
	set *ttlset.Set[[32]byte, *bearerRequest]
}

func newBearerCache() *bearerCache {
	return &bearerCache{set: ttlset.New[[32]byte, *bearerRequest](maxBearerCache)}
}

// bearerCacheKey hashes the token and audience, separated by a byte no
// token68 or audience in a verified token contains unescaped.
func bearerCacheKey(token, audience string) [32]byte {
	h := sha256.New()
	h.Write([]byte(token))
	h.Write([]byte{0})
	h.Write([]byte(audience))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// get returns a copy of the cached request for key, if it is live at now
// and its token has not expired. The copy keeps handlers that modify the
// User's or the Bearer's slices from changing the cached entry.
func (bc *bearerCache) get(key [32]byte, now time.Time) (*bearerRequest, bool) {
	b, ok := bc.set.Get(key, now)
	if !ok || !now.Before(b.Bearer.Expiry) {
		return nil, false
	}
	cp := *b
	cp.User.Groups = slices.Clone(b.User.Groups)
	cp.Bearer.Scopes = slices.Clone(b.Bearer.Scopes)
	return &cp, true
}

// put remembers a verified request until its token expires or
// bearerCacheTTL passes. A full cache is not an error: the token is simply
// verified again next time.
func (bc *bearerCache) put(key [32]byte, b *bearerRequest, now time.Time) {
	until := now.Add(bearerCacheTTL)
	if b.Bearer.Expiry.Before(until) {
		until = b.Bearer.Expiry
	}
	if !until.After(now) {
		return
	}
	cp := *b
	cp.User.Groups = slices.Clone(b.User.Groups)
	cp.Bearer.Scopes = slices.Clone(b.Bearer.Scopes)
	_ = bc.set.Put(key, &cp, until, now) // ErrFull: verify again next time
}
