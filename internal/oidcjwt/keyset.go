package oidcjwt

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ginauth/ginauth/internal/safehttp"
)

const (
	// MaxTokenSize is the longest token Verify looks at, in bytes.
	MaxTokenSize = 64 << 10
	// DefaultMinRefreshInterval is the default KeySetOptions.MinRefreshInterval.
	DefaultMinRefreshInterval = 60 * time.Second
	// maxKidlessCandidates caps the keys tried for a token without kid.
	maxKidlessCandidates = 10
	// minRSABits is the smallest RSA modulus accepted from a JWKS.
	minRSABits = 2048
	// maxInitialRetry caps how long a failed first fetch is remembered
	// before the next attempt.
	maxInitialRetry = 5 * time.Second
)

// supportedAlgs are the only algorithms that may appear in an allow-list.
var supportedAlgs = map[jose.SignatureAlgorithm]bool{
	jose.RS256: true, jose.RS384: true, jose.RS512: true,
	jose.PS256: true, jose.PS384: true, jose.PS512: true,
	jose.ES256: true, jose.ES384: true, jose.ES512: true,
	jose.EdDSA: true,
}

// KeySetOptions configures a RemoteKeySet.
type KeySetOptions struct {
	// Client fetches the JWKS. Pass a safehttp client; when nil,
	// safehttp.NewClient(0) is used. Bodies are read through
	// safehttp.ReadAll, so the size cap holds for any client.
	Client *http.Client
	// MinRefreshInterval bounds refetches caused by an unknown key: at most
	// one per interval (DefaultMinRefreshInterval when zero or negative).
	MinRefreshInterval time.Duration
	// Now returns the current time (time.Now when nil).
	Now func() time.Time
}

// RemoteKeySet verifies JWS tokens with keys from a remote JWKS. It is safe
// for concurrent use.
type RemoteKeySet struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	now        func() time.Time

	mu          sync.Mutex
	keys        []verifyKey // last good key set; nil before the first success
	inflight    *fetchCall  // fetch in progress, shared by all waiters
	nextRefetch time.Time   // earliest refetch caused by an unknown key
	lastErr     error       // error of the last fetch while no keys are cached
	lastErrAt   time.Time
	fetches     int
}

// verifyKey is a usable public key from the JWKS.
type verifyKey struct {
	kid string
	alg string // "" when the JWK has none
	key any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

type fetchCall struct {
	done chan struct{}
	keys []verifyKey // key set after the fetch (the old one if it failed)
	err  error
}

// NewRemoteKeySet returns a key set for the JWKS at jwksURL. It does no I/O:
// keys are fetched on first use and cached.
func NewRemoteKeySet(jwksURL string, opts KeySetOptions) *RemoteKeySet {
	k := &RemoteKeySet{
		url:        jwksURL,
		client:     opts.Client,
		minRefresh: opts.MinRefreshInterval,
		now:        opts.Now,
	}
	if k.client == nil {
		k.client = safehttp.NewClient(0)
	}
	if k.minRefresh <= 0 {
		k.minRefresh = DefaultMinRefreshInterval
	}
	if k.now == nil {
		k.now = time.Now
	}
	return k
}

// Fetches returns how many JWKS fetches were started.
func (k *RemoteKeySet) Fetches() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fetches
}

// Verify checks the compact JWS token and returns its payload, which it does
// not parse. algs is the allow-list: the header's alg must be in it, and only
// RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA count ("none" and
// HS* in algs are ignored, so such tokens are always refused).
//
// With a kid, the JWKS key with that kid is used; an unknown kid causes at
// most one refetch per MinRefreshInterval (concurrent misses share one
// fetch). Without a kid, each suitable key is tried (at most 10). A key is
// suitable when its type fits alg and its "alg" and "use" members, if
// present, agree ("use" must be "sig").
//
// Token errors wrap ErrInvalidToken. When the JWKS cannot be fetched and no
// cached key fits, the error wraps ErrKeysUnavailable instead.
func (k *RemoteKeySet) Verify(ctx context.Context, token string, algs []string) ([]byte, error) {
	// Cheap shape checks before any parsing (CVE-2025-27144).
	if len(token) > MaxTokenSize {
		return nil, tokenError(ErrMalformed, "token longer than %d bytes", MaxTokenSize)
	}
	if strings.Count(token, ".") != 2 {
		return nil, tokenError(ErrMalformed, "not a compact JWS")
	}
	allowed := allowList(algs)
	if len(allowed) == 0 {
		return nil, tokenError(ErrAlgorithm, "no acceptable signature algorithm configured")
	}
	jws, err := jose.ParseSignedCompact(token, allowed)
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) && unexpected.Got != "" {
			return nil, tokenError(ErrAlgorithm, "algorithm %q not allowed", truncate(string(unexpected.Got)))
		}
		return nil, tokenError(ErrMalformed, "%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, tokenError(ErrMalformed, "want exactly one signature")
	}
	hdr := jws.Signatures[0].Header
	alg := hdr.Algorithm
	if !allowedContains(allowed, jose.SignatureAlgorithm(alg)) {
		// ParseSignedCompact already checked this; keep the guarantee local.
		return nil, tokenError(ErrAlgorithm, "algorithm %q not allowed", truncate(alg))
	}
	kid := hdr.KeyID

	keys, err := k.cachedOrFetch(ctx)
	if err != nil {
		return nil, err
	}
	payload, found, err := verifyWith(jws, keys, kid, alg)
	if found {
		return payload, err
	}
	miss := err

	// No key known for this token: the provider may have rotated. Refetch,
	// at most once per interval.
	stale := keys
	keys, attempted, ferr := k.refetch(ctx)
	if !attempted && sameKeySet(stale, keys) {
		return nil, miss
	}
	// Either a fetch was made or joined, or one that another caller started
	// finished since our read of the cache: its keys may hold the token's.
	payload, found, err = verifyWith(jws, keys, kid, alg)
	if found {
		return payload, err
	}
	if ferr != nil {
		return nil, ferr
	}
	return nil, err
}

// sameKeySet reports whether a and b are the same cached key set. A fetch
// replaces the set as a whole, so identity is enough.
func sameKeySet(a, b []verifyKey) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// verifyWith verifies jws with the keys. found is false when no key for the
// token is known (unknown kid, or no kid and no key verifies), so a refetch
// may help; err then says why, should the refetch not help. Otherwise err
// is the final answer.
func verifyWith(jws *jose.JSONWebSignature, keys []verifyKey, kid, alg string) (payload []byte, found bool, err error) {
	if kid != "" {
		var match *verifyKey
		seen, suitable := 0, 0
		for i := range keys {
			if keys[i].kid != kid {
				continue
			}
			seen++
			if keys[i].suits(alg) {
				suitable++
				match = &keys[i]
			}
		}
		switch {
		case seen == 0:
			return nil, false, tokenError(ErrUnknownKey, "unknown key id %q", truncate(kid))
		case suitable == 0:
			return nil, true, tokenError(ErrKeyMismatch, "key %q is not usable with %s", truncate(kid), alg)
		case suitable > 1:
			return nil, true, tokenError(ErrKeyMismatch, "ambiguous key id %q", truncate(kid))
		}
		payload, err := jws.Verify(match.key)
		if err != nil {
			return nil, true, tokenError(ErrBadSignature, "signature does not verify")
		}
		return payload, true, nil
	}
	tried := 0
	for i := range keys {
		if !keys[i].suits(alg) {
			continue
		}
		if tried == maxKidlessCandidates {
			break
		}
		tried++
		if payload, err := jws.Verify(keys[i].key); err == nil {
			return payload, true, nil
		}
	}
	if tried == 0 {
		return nil, false, tokenError(ErrUnknownKey, "no key suits %s", alg)
	}
	return nil, false, tokenError(ErrBadSignature, "no key verifies the signature")
}

// suits reports whether the key may verify a signature made with alg.
func (v *verifyKey) suits(alg string) bool {
	if v.alg != "" && v.alg != alg {
		return false
	}
	switch jose.SignatureAlgorithm(alg) {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		_, ok := v.key.(*rsa.PublicKey)
		return ok
	case jose.ES256:
		return isCurve(v.key, elliptic.P256())
	case jose.ES384:
		return isCurve(v.key, elliptic.P384())
	case jose.ES512:
		return isCurve(v.key, elliptic.P521())
	case jose.EdDSA:
		_, ok := v.key.(ed25519.PublicKey)
		return ok
	}
	return false
}

func isCurve(key any, c elliptic.Curve) bool {
	k, ok := key.(*ecdsa.PublicKey)
	return ok && k.Curve == c
}

func allowList(algs []string) []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, a := range algs {
		if sa := jose.SignatureAlgorithm(a); supportedAlgs[sa] && !allowedContains(out, sa) {
			out = append(out, sa)
		}
	}
	return out
}

func allowedContains(list []jose.SignatureAlgorithm, a jose.SignatureAlgorithm) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// truncate shortens attacker-controlled strings put into error messages.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// cachedOrFetch returns the cached keys, fetching them on first use.
func (k *RemoteKeySet) cachedOrFetch(ctx context.Context) ([]verifyKey, error) {
	k.mu.Lock()
	if k.keys != nil {
		keys := k.keys
		k.mu.Unlock()
		return keys, nil
	}
	// No key yet. After a failed attempt, wait a little before hitting the
	// provider again (joining a fetch already in flight is always fine).
	if k.inflight == nil && k.lastErr != nil && k.now().Sub(k.lastErrAt) < min(k.minRefresh, maxInitialRetry) {
		err := k.lastErr
		k.mu.Unlock()
		return nil, err
	}
	call := k.startFetchLocked(ctx)
	k.mu.Unlock()
	keys, err := call.wait(ctx)
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// refetch fetches the JWKS again unless one was started within the last
// MinRefreshInterval. attempted reports whether a fetch was made or joined.
// keys is the key set afterwards (the old one if the fetch failed); err is
// set when the fetch failed.
func (k *RemoteKeySet) refetch(ctx context.Context) (keys []verifyKey, attempted bool, err error) {
	k.mu.Lock()
	call := k.inflight
	if call == nil {
		now := k.now()
		if now.Before(k.nextRefetch) {
			keys = k.keys
			k.mu.Unlock()
			return keys, false, nil
		}
		k.nextRefetch = now.Add(k.minRefresh)
		call = k.startFetchLocked(ctx)
	}
	k.mu.Unlock()
	keys, err = call.wait(ctx)
	return keys, true, err
}

// startFetchLocked starts a JWKS fetch in its own goroutine. k.mu must be
// held and no fetch be in flight. The fetch does not stop when ctx is
// cancelled (other callers may be waiting for it); the client's timeout
// bounds it.
func (k *RemoteKeySet) startFetchLocked(ctx context.Context) *fetchCall {
	if k.inflight != nil {
		return k.inflight
	}
	call := &fetchCall{done: make(chan struct{})}
	k.inflight = call
	k.fetches++
	fctx := context.WithoutCancel(ctx)
	go func() {
		var cancel context.CancelFunc = func() {}
		if k.client.Timeout <= 0 {
			fctx, cancel = context.WithTimeout(fctx, safehttp.DefaultTimeout)
		}
		keys, err := k.fetch(fctx)
		cancel()

		k.mu.Lock()
		if err == nil {
			k.keys = keys
			k.lastErr = nil
		} else {
			err = fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
			if k.keys == nil {
				k.lastErr = err
				k.lastErrAt = k.now()
			}
		}
		call.keys, call.err = k.keys, err
		k.inflight = nil
		k.mu.Unlock()
		close(call.done)
	}()
	return call
}

func (c *fetchCall) wait(ctx context.Context) ([]verifyKey, error) {
	select {
	case <-c.done:
		return c.keys, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, ctx.Err())
	}
}

// fetch downloads and parses the JWKS.
func (k *RemoteKeySet) fetch(ctx context.Context) ([]verifyKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("JWKS endpoint returned HTTP %d", resp.StatusCode)
	}
	body, err := safehttp.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading JWKS: %w", err)
	}
	return parseJWKS(body)
}

// parseJWKS returns the usable signature keys of a JWKS document. Keys that
// cannot be parsed, are symmetric, carry private material, are marked for
// another use or are too weak are skipped. A set without any usable key is an
// error, so that the last good set is kept.
func parseJWKS(body []byte) ([]verifyKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("parsing JWKS: %w", err)
	}
	var keys []verifyKey
	for _, raw := range doc.Keys {
		if v, ok := parseJWK(raw); ok {
			keys = append(keys, v)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS holds no usable signature key")
	}
	return keys, nil
}

func parseJWK(raw json.RawMessage) (verifyKey, bool) {
	// Look at the members before handing the key to go-jose: skip symmetric
	// and private keys without parsing them.
	var m struct {
		Kty string          `json:"kty"`
		Use string          `json:"use"`
		Alg string          `json:"alg"`
		D   json.RawMessage `json:"d"`
		K   json.RawMessage `json:"k"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return verifyKey{}, false
	}
	switch m.Kty {
	case "RSA", "EC", "OKP":
	default:
		return verifyKey{}, false
	}
	if m.D != nil || m.K != nil || (m.Use != "" && m.Use != "sig") {
		return verifyKey{}, false
	}
	if m.Alg != "" && !supportedAlgs[jose.SignatureAlgorithm(m.Alg)] {
		return verifyKey{}, false
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil || !jwk.Valid() || !jwk.IsPublic() {
		return verifyKey{}, false
	}
	switch key := jwk.Key.(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < minRSABits {
			return verifyKey{}, false
		}
	case *ecdsa.PublicKey:
		switch key.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return verifyKey{}, false
		}
	case ed25519.PublicKey:
	default:
		return verifyKey{}, false
	}
	return verifyKey{kid: jwk.KeyID, alg: m.Alg, key: jwk.Key}, true
}
