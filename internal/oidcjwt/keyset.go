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
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/flight"
	"github.com/ginauth/ginauth/internal/safehttp"
)

const (
	// MaxTokenSize is the longest token Verify looks at, in bytes.
	MaxTokenSize = 64 << 10
	// DefaultMinRefreshInterval is the default KeySetOptions.MinRefreshInterval.
	DefaultMinRefreshInterval = 60 * time.Second
	// DefaultMinCacheAge is the default KeySetOptions.MinCacheAge: however
	// short the max age a provider gives (no-cache and no-store included), its
	// JWKS is not fetched again sooner, the pace of refetches for unknown kids.
	DefaultMinCacheAge = time.Minute
	// DefaultMaxCacheAge is the default KeySetOptions.MaxCacheAge: while the
	// provider answers, a key it removed stops verifying at most this long
	// after it was fetched, whatever max age it announced.
	DefaultMaxCacheAge = 24 * time.Hour
	// DefaultCacheAge is the default KeySetOptions.CacheAge, the max age of
	// a JWKS response without Cache-Control max-age.
	DefaultCacheAge = time.Hour
	// DefaultStaleGrace is the default KeySetOptions.StaleGrace.
	DefaultStaleGrace = 6 * time.Hour
	// maxKidlessCandidates caps the keys tried for a token without kid.
	maxKidlessCandidates = 10
	// minRSABits is the smallest RSA modulus accepted from a JWKS.
	minRSABits = 2048
	// maxInitialRetry caps how long a failed fetch is remembered, while no
	// usable key is cached, before the next attempt.
	maxInitialRetry = 5 * time.Second
)

// supportedAlgs are the only algorithms that may appear in an allow-list.
var supportedAlgs = map[jose.SignatureAlgorithm]bool{
	jose.RS256: true, jose.RS384: true, jose.RS512: true,
	jose.PS256: true, jose.PS384: true, jose.PS512: true,
	jose.ES256: true, jose.ES384: true, jose.ES512: true,
	jose.EdDSA: true,
}

// KeySetOptions configures a RemoteKeySet. The zero value works.
type KeySetOptions struct {
	// Client fetches the JWKS. Pass a safehttp client; when nil,
	// safehttp.NewClient(0) is used. Bodies are read through
	// safehttp.ReadAll, so the size cap holds for any client.
	Client *http.Client
	// MinRefreshInterval bounds refetches caused by an unknown key: at most
	// one per interval (DefaultMinRefreshInterval when zero or negative). A
	// refetch because the cached set expired counts as one; the fetch of a
	// key set when none is cached does not.
	MinRefreshInterval time.Duration

	// MinCacheAge and MaxCacheAge bound the max age of a fetched JWKS: the
	// time after which Verify fetches it again before using it. The max age
	// is the response's Cache-Control max-age less its Age header; the
	// minimum for no-cache, no-store or a max-age that cannot be parsed;
	// CacheAge without max-age. Defaults: DefaultMinCacheAge and
	// DefaultMaxCacheAge when zero or negative; a MaxCacheAge below
	// MinCacheAge is raised to it.
	MinCacheAge, MaxCacheAge time.Duration
	// CacheAge is the max age of a JWKS response without Cache-Control
	// max-age (DefaultCacheAge when zero or negative), within the bounds.
	CacheAge time.Duration
	// StaleGrace is how long past its max age a JWKS stays in use while it
	// cannot be fetched again (DefaultStaleGrace when zero; none when
	// negative). It trades availability during a provider outage against
	// how long a key the provider removed keeps verifying while ginauth
	// cannot reach it: at most max age + StaleGrace after the last successful
	// fetch. Past that, Verify fails with ErrKeysUnavailable until a fetch
	// succeeds. Within the grace a fetch is attempted at most once per
	// MinRefreshInterval; past it, with no usable key left, at most once per
	// min(MinRefreshInterval, 5 s), so that sign-ins recover soon after the
	// provider does.
	StaleGrace time.Duration

	// Now returns the current time (time.Now when nil).
	Now func() time.Time
}

// RemoteKeySet verifies JWS tokens with keys from a remote JWKS. It is safe
// for concurrent use. Its only I/O is fetching the JWKS, one fetch at a time,
// shared by every caller that needs it (each waits as long as its own
// context allows).
type RemoteKeySet struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	minAge     time.Duration
	maxAge     time.Duration
	defaultAge time.Duration
	grace      time.Duration
	now        func() time.Time

	// fetch runs the fetch attempts, keyed by the number of attempts
	// completed when the attempt was decided.
	fetch flight.Group[uint64, *keySnapshot]

	mu          sync.Mutex
	cur         *keySnapshot // last good key set; nil before the first success
	attempts    uint64       // fetch attempts completed
	fetching    bool         // an attempt was decided and has not completed
	nextRefetch time.Time    // earliest refetch caused by an unknown key
	lastErr     error        // error of the last attempt; nil if it succeeded
	lastErrAt   time.Time
	fetches     int

	hookRefetch func() // tests only: called by refetch with mu held
	hookAwait   func() // tests only: called by await before it starts or joins the fetch
	hookFetched func() // tests only: called by the fetch call after fetchOnce, before the call ends
}

// keySnapshot is the key set of one successful fetch. A fetch replaces it
// as a whole.
type keySnapshot struct {
	keys        []verifyKey
	freshUntil  time.Time // from then on, fetch again before use
	usableUntil time.Time // freshUntil + grace: from then on, never used
}

// verifyKey is a usable public key from the JWKS.
type verifyKey struct {
	kid string
	alg string // "" when the JWK has none
	key any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// NewRemoteKeySet returns a key set for the JWKS at jwksURL. It does no I/O:
// keys are fetched on first use and cached for their max age.
func NewRemoteKeySet(jwksURL string, opts KeySetOptions) *RemoteKeySet {
	k := &RemoteKeySet{
		url:        jwksURL,
		client:     opts.Client,
		minRefresh: opts.MinRefreshInterval,
		minAge:     opts.MinCacheAge,
		maxAge:     opts.MaxCacheAge,
		defaultAge: opts.CacheAge,
		grace:      opts.StaleGrace,
		now:        opts.Now,
	}
	if k.client == nil {
		k.client = safehttp.NewClient(0)
	}
	if k.minRefresh <= 0 {
		k.minRefresh = DefaultMinRefreshInterval
	}
	if k.minAge <= 0 {
		k.minAge = DefaultMinCacheAge
	}
	if k.maxAge <= 0 {
		k.maxAge = DefaultMaxCacheAge
	}
	k.maxAge = max(k.maxAge, k.minAge)
	if k.defaultAge <= 0 {
		k.defaultAge = DefaultCacheAge
	}
	switch {
	case k.grace == 0:
		k.grace = DefaultStaleGrace
	case k.grace < 0:
		k.grace = 0
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
// HS* in algs are ignored, so such tokens are always refused). A header with
// "crit" (ginauth implements no JWS extension) or "b64" is refused.
//
// The cached JWKS is used until its max age (see KeySetOptions); then it is
// fetched again before use. With a kid, the JWKS key with that kid is used;
// an unknown kid causes at most one refetch per MinRefreshInterval
// (concurrent misses share one fetch). Without a kid, each suitable key is
// tried (at most 10). A key is suitable when its type fits alg and its
// "alg", "use" and "key_ops" members, if present, agree ("use" must be "sig",
// "key_ops" must list "verify").
//
// Token errors wrap ErrInvalidToken. When the JWKS cannot be fetched and no
// cached key fits (or the cached set is past its max age and grace), the
// error wraps ErrKeysUnavailable instead.
func (k *RemoteKeySet) Verify(ctx context.Context, token string, algs []string) ([]byte, error) {
	jws, alg, err := parseCompact(token, algs)
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID

	set, err := k.usableSet(ctx)
	if err != nil {
		return nil, err
	}
	payload, found, err := verifyWith(jws, set.keys, kid, alg)
	if found {
		return payload, err
	}
	miss := err

	// No key known for this token: the provider may have rotated. Refetch,
	// at most once per interval.
	newer, attempted, ferr := k.refetch(ctx)
	if !attempted && newer == set {
		return nil, miss
	}
	// Either a fetch was made or joined, or one that another caller started
	// finished since our read of the cache: its keys may hold the token's.
	if newer != nil {
		payload, found, err = verifyWith(jws, newer.keys, kid, alg)
		if found {
			return payload, err
		}
	}
	if ferr != nil {
		return nil, ferr
	}
	return nil, err
}

// checkShape makes the cheap checks done before any parsing
// (CVE-2025-27144): the size, the compact form, and an algorithm to accept.
func checkShape(token string, algs []string) error {
	if len(token) > MaxTokenSize {
		return tokenError(ErrMalformed, "token longer than %d bytes", MaxTokenSize)
	}
	if strings.Count(token, ".") != 2 {
		return tokenError(ErrMalformed, "not a compact JWS")
	}
	if len(allowList(algs)) == 0 {
		return tokenError(ErrAlgorithm, "no acceptable signature algorithm configured")
	}
	return nil
}

// parseCompact makes the checks of Verify that need no key: size, compact
// form, one signature, an allowed algorithm, no crit or b64 header. It
// returns the parsed token and its algorithm.
func parseCompact(token string, algs []string) (*jose.JSONWebSignature, string, error) {
	if err := checkShape(token, algs); err != nil {
		return nil, "", err
	}
	allowed := allowList(algs)
	jws, err := jose.ParseSignedCompact(token, allowed)
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) && unexpected.Got != "" {
			return nil, "", tokenError(ErrAlgorithm, "algorithm %q not allowed", truncate(string(unexpected.Got)))
		}
		return nil, "", tokenError(ErrMalformed, "%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, "", tokenError(ErrMalformed, "want exactly one signature")
	}
	if err := checkHeaderExtensions(token[:strings.IndexByte(token, '.')]); err != nil {
		return nil, "", err
	}
	alg := jws.Signatures[0].Header.Algorithm
	if !allowedContains(allowed, jose.SignatureAlgorithm(alg)) {
		// ParseSignedCompact already checked this; keep the guarantee local.
		return nil, "", tokenError(ErrAlgorithm, "algorithm %q not allowed", truncate(alg))
	}
	return jws, alg, nil
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

// usableSet returns the cached key set while it is fresh. Past its max age
// it fetches the set again (or joins the fetch in progress) and returns the
// new one; when that fails, the old set while within its grace. A failed
// attempt is not repeated for a while: MinRefreshInterval while the old set
// is usable, at most 5 s when none is.
func (k *RemoteKeySet) usableSet(ctx context.Context) (*keySnapshot, error) {
	k.mu.Lock()
	now := k.now()
	cur := k.cur
	if cur != nil && now.Before(cur.freshUntil) {
		k.mu.Unlock()
		return cur, nil
	}
	stale := cur != nil && now.Before(cur.usableUntil)
	if k.lastErr != nil && !k.fetching {
		backoff := min(k.minRefresh, maxInitialRetry)
		if stale {
			backoff = k.minRefresh
		}
		if now.Sub(k.lastErrAt) < backoff {
			err := k.lastErr
			k.mu.Unlock()
			if stale {
				return cur, nil
			}
			return nil, err
		}
	}
	if cur != nil {
		// The refetch of an expired set serves unknown kids as well.
		k.nextRefetch = later(k.nextRefetch, now.Add(k.minRefresh))
	}
	k.fetching = true
	seen := k.attempts
	k.mu.Unlock()

	set, err := k.await(ctx, seen)
	if err == nil {
		return set, nil
	}
	if ctx.Err() == nil {
		// The fetch failed: the last good set, within its grace.
		k.mu.Lock()
		cur, now = k.cur, k.now()
		k.mu.Unlock()
		if cur != nil && now.Before(cur.usableUntil) {
			return cur, nil
		}
	}
	return nil, err
}

// refetch fetches the JWKS again unless one was started within the last
// MinRefreshInterval; a fetch in progress is joined. attempted reports
// whether a fetch was made or joined. set is the key set afterwards (the old
// one if the fetch failed, nil if ctx ended first); err is set when the
// fetch failed.
func (k *RemoteKeySet) refetch(ctx context.Context) (set *keySnapshot, attempted bool, err error) {
	k.mu.Lock()
	if k.hookRefetch != nil {
		k.hookRefetch()
	}
	if !k.fetching {
		now := k.now()
		if now.Before(k.nextRefetch) {
			set = k.cur
			k.mu.Unlock()
			return set, false, nil
		}
		k.nextRefetch = now.Add(k.minRefresh)
		k.fetching = true
	}
	seen := k.attempts
	k.mu.Unlock()
	set, err = k.await(ctx, seen)
	return set, true, err
}

// await joins the fetch in progress or starts one. seen is the number of
// completed attempts when the caller decided to fetch, or found an attempt
// decided (k.fetching), under k.mu; callers with the same seen share one
// call. If that attempt completed since, its outcome is returned instead of
// fetching again. The
// caller stops waiting when ctx ends; the fetch goes on for the others,
// bounded by the client's timeout (safehttp.DefaultTimeout when it has none).
func (k *RemoteKeySet) await(ctx context.Context, seen uint64) (*keySnapshot, error) {
	if k.hookAwait != nil {
		k.hookAwait()
	}
	set, err := k.fetch.Do(ctx, seen, func(fctx context.Context) (*keySnapshot, error) {
		set, err := k.fetchOnce(fctx, seen)
		if k.hookFetched != nil {
			k.hookFetched()
		}
		return set, err
	})
	if err != nil && !errors.Is(err, ErrKeysUnavailable) {
		// ctx ended, or the fetch panicked.
		err = errfmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	return set, err
}

// fetchOnce fetches the JWKS and records the outcome: on success a new key
// set, fresh for the response's max age; on failure (also a panic) the
// error, keeping the last good set.
func (k *RemoteKeySet) fetchOnce(ctx context.Context, seen uint64) (set *keySnapshot, err error) {
	k.mu.Lock()
	if k.attempts != seen {
		set, err = k.cur, k.lastErr
		k.mu.Unlock()
		return set, err
	}
	k.fetches++
	start := k.now()
	k.mu.Unlock()

	var keys []verifyKey
	var lifetime time.Duration
	err = errors.New("JWKS fetch did not complete") // if it panics
	defer func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.attempts++
		k.fetching = false
		if err != nil {
			err = errfmt.Errorf("%w: %w", ErrKeysUnavailable, err)
			k.lastErr, k.lastErrAt = err, k.now()
			set = k.cur
			return
		}
		// The max age runs from the request, not the answer.
		fresh := start.Add(lifetime)
		k.cur = &keySnapshot{keys: keys, freshUntil: fresh, usableUntil: fresh.Add(k.grace)}
		k.lastErr = nil
		set = k.cur
	}()

	if k.client.Timeout <= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, safehttp.DefaultTimeout)
		defer cancel()
	}
	keys, lifetime, err = k.get(ctx)
	return set, err
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// get downloads and parses the JWKS, and returns its max age.
func (k *RemoteKeySet) get(ctx context.Context) ([]verifyKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("JWKS endpoint returned HTTP %d", resp.StatusCode)
	}
	body, err := safehttp.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, errfmt.Errorf("reading JWKS: %w", err)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, 0, err
	}
	return keys, CacheLifetime(resp.Header, k.defaultAge, k.minAge, k.maxAge), nil
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
		return nil, errfmt.Errorf("parsing JWKS: %w", err)
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
		Kty    string          `json:"kty"`
		Use    string          `json:"use"`
		KeyOps json.RawMessage `json:"key_ops"`
		Alg    string          `json:"alg"`
		D      json.RawMessage `json:"d"`
		K      json.RawMessage `json:"k"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return verifyKey{}, false
	}
	switch m.Kty {
	case "RSA", "EC", "OKP":
	default:
		return verifyKey{}, false
	}
	if m.D != nil || m.K != nil || (m.Use != "" && m.Use != "sig") || !allowsVerify(m.KeyOps) {
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

// allowsVerify reports whether a JWK's key_ops member (RFC 7517 §4.3),
// absent or null when raw is nil or "null", permits verifying signatures. A
// member that is not an array of strings permits nothing.
func allowsVerify(raw json.RawMessage) bool {
	if raw == nil || string(raw) == "null" {
		return true
	}
	var ops []string
	if err := json.Unmarshal(raw, &ops); err != nil {
		return false
	}
	return slices.Contains(ops, "verify")
}
