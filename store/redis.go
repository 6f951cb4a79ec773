package store

import (
	"context"
	"crypto/sha1" // #nosec G505 -- names keys and members; not a security property
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/errfmt"
	"github.com/ginauth/ginauth/internal/redisclient"
)

// RedisOptions configure a Redis store.
type RedisOptions struct {
	// KeyPrefix starts every key. Default "ginauth:".
	KeyPrefix string
	// Timeout bounds each store operation. Default 1 s. It needs a client
	// that honours context deadlines (ContextTimeoutEnabled, see NewRedis).
	Timeout time.Duration
	// Now is the clock that decides when a session has expired. Default
	// time.Now. Redis's own expiry (a TTL of the remaining lifetime, set at
	// each save) only cleans up: Load checks the expiry against Now.
	Now func() time.Time
	// MaxSessionsPerUser caps the sessions one user (provider and subject)
	// has at a time. A sign-in beyond it ends the user's session that
	// expires soonest: with an idle timeout, the one used least recently.
	// The cap bounds the work of a sign-in and of Index calls, whatever
	// anyone does with an account at the provider. Zero: 100
	// (DefaultMaxSessionsPerUser).
	MaxSessionsPerUser int
	// WaitReplicas, when positive, makes the writes that must survive a
	// failover wait until that many replicas hold them (Redis WAIT, on the
	// same connection, bounded by half of Timeout and by three quarters of
	// the client's ReadTimeout; fewer acknowledgements
	// fail the call with ErrUnavailable): deletions (sign-out, DeleteUser,
	// DeleteSID) and sid pointers. Redis replicates asynchronously, so
	// without it a master that dies right after acknowledging a sign-out
	// can leave the session alive on the replica that takes over. Set it
	// to 1 on a Cluster or Sentinel set-up whose masters have replicas;
	// never more than the replicas a master has. It needs a *redis.Client
	// (Sentinel included) or *redis.ClusterClient. Zero: no waiting.
	WaitReplicas int
	// NearCacheTTL, when positive, turns on the near cache: Load serves a
	// session from this process's memory, with no round trip, for as long
	// as Redis does not report it changed, and at most NearCacheTTL after
	// it was read from Redis. The store opens a second connection pool for
	// it, with RESP3 client-side caching (CLIENT TRACKING): Redis tells it
	// of every write, delete or expiry of a session it holds, and an entry
	// read over a connection that closes is dropped with it. A session
	// deleted on any instance stops loading everywhere within the delivery
	// of that message (about a millisecond on a LAN), and in any case
	// within NearCacheTTL; the instance that deletes or writes a session
	// reads its own write at once. Only session loads are cached: writes,
	// index calls and locks always go to Redis. It needs a standalone
	// *redis.Client on database 0, or a *redis.ClusterClient (the store
	// then opens a caching client per master), and at most one minute. A
	// Sentinel (failover) client is refused: go-redis would leave the
	// caching connections on the old master after a failover. A few
	// seconds is a good value. Zero: no near cache. See docs/stores.md.
	NearCacheTTL time.Duration
	// NearCacheSize is the most sessions the near cache holds (per master
	// on Redis Cluster; the least recently used go first). Zero: 10 000
	// (DefaultNearCacheSize).
	NearCacheSize int
}

// DefaultMaxSessionsPerUser is the default of RedisOptions and
// MemoryOptions MaxSessionsPerUser.
const DefaultMaxSessionsPerUser = 100

// Redis keeps sessions in Redis, so that every instance of an app shares
// them and a session ends everywhere the moment it is deleted.
//
// The cookie carries an opaque token: a tag derived from the user, and 32
// random bytes. A user's keys share a Redis Cluster hash slot (the tag is
// the hash tag), so a session and its index entry change together in one
// Lua script, on standalone servers, Sentinel set-ups and Cluster alike:
//
//	<prefix>{<tag>}:s:<id>   hash: d (expiry, 8 bytes big-endian Unix ms,
//	                         then the data), p, u, i (provider, subject,
//	                         sid), m (index member), w, pe (see below)
//	<prefix>{<tag>}:z        sorted set: the user's sessions, scored by
//	                         expiry; a member is <id>, or <id>.<sha1> for a
//	                         session with a sid
//	<prefix>{<sha1>}:sid     the tag of a provider session's user (DeleteSID)
//
// <sha1> is the SHA-1 of provider and sid. Every key has a TTL: a session's
// is its remaining lifetime, the index's the longest of its sessions'. TTLs
// are relative, so the Redis server's clock does not matter. Expired index
// entries are removed by score at each sign-in, and a user has at most
// MaxSessionsPerUser sessions, so no operation's cost grows with the
// number of sign-ins.
//
// The sid pointer lives in its provider session's own hash slot, so it is
// written apart from the session: first, with a TTL twice the session's
// (its expiry recorded in the session as pe), so that a session never
// outlives its pointer, and a failed save leaves at worst a pointer to no
// session, which DeleteSID ignores. Updates write the pointer again only
// when they would extend the session past pe.
//
// Loading a session is one round trip (HGET); updating one is one script;
// creating one is one script, plus one for the sid pointer and one to evict
// when the user is at the cap.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	now     func() time.Time
	perUser int

	waitReplicas int
	near         *nearCache // nil without NearCacheTTL
}

// NewRedis returns a store on client, which may be a *redis.Client, a
// failover (Sentinel) client or a *redis.ClusterClient, built with the
// client's own options (addresses, TLS, pool sizes, timeouts). The options
// must set ContextTimeoutEnabled: without it go-redis ignores context
// deadlines on the socket, and a Redis that accepts connections but stops
// answering would hold every request for the client's ReadTimeout instead
// of Timeout. NewRedis refuses such a client.
//
// For Redis Cluster, set ClusterStateReloadInterval to about 2 s in the
// client's options (go-redis's default, 60 s, keeps a client sending to a
// dead master long after its replica took over), and leave reads on the
// masters (no ReadOnly, RouteByLatency or RouteRandomly: replicas lag, so a
// session just ended could still load there). See docs/stores.md.
func NewRedis(client redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if err := checkClient(client); err != nil {
		return nil, err
	}
	if opts.Timeout < 0 {
		return nil, errors.New("ginauth: NewRedis: negative Timeout")
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = "ginauth:"
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxSessionsPerUser < 0 {
		return nil, errors.New("ginauth: NewRedis: negative MaxSessionsPerUser")
	}
	if opts.MaxSessionsPerUser == 0 {
		opts.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if err := redisclient.CheckWaitReplicas(client, opts.WaitReplicas, "NewRedis"); err != nil {
		return nil, err
	}
	if err := checkUncached(client); err != nil {
		return nil, err
	}
	near, err := newNearCache(client, opts.NearCacheTTL, opts.NearCacheSize)
	if err != nil {
		return nil, err
	}
	return &Redis{client: client, prefix: opts.KeyPrefix, timeout: opts.Timeout, now: opts.Now,
		perUser: opts.MaxSessionsPerUser, waitReplicas: opts.WaitReplicas, near: near}, nil
}

// NewRedisURL is NewRedis with a client built from a redis:// or rediss://
// URL (see redis.ParseURL), with ContextTimeoutEnabled set. Close closes
// that client.
func NewRedisURL(url string, opts RedisOptions) (*Redis, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, errfmt.Errorf("ginauth: NewRedisURL: %w", err)
	}
	o.ContextTimeoutEnabled = true
	c := redis.NewClient(o)
	s, err := NewRedis(c, opts)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return s, nil
}

// checkClient refuses a nil client and one that ignores context deadlines.
func checkClient(client redis.UniversalClient) error { return redisclient.Check(client, "NewRedis") }

// Close closes the underlying client, and the near cache's.
func (s *Redis) Close() error {
	err := s.client.Close()
	if s.near != nil {
		err = errors.Join(err, s.near.close())
	}
	return err
}

// Ping checks that Redis answers (a PING, bounded by Timeout), for start-up
// and health checks. Its error wraps ErrUnavailable.
func (s *Redis) Ping(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

const (
	tagLen   = 16 // hex characters
	idLen    = 43 // base64url of 32 bytes
	tokenLen = tagLen + idLen
)

func userTag(provider, subject string) string {
	sum := sha256.Sum256([]byte(provider + "\x00" + subject))
	return hex.EncodeToString(sum[:tagLen/2])
}

func sidHash(provider, sid string) string {
	sum := sha1.Sum([]byte(provider + "\x00" + sid)) // #nosec G401 -- key naming only
	return hex.EncodeToString(sum[:])
}

// splitToken checks a token's shape without any I/O.
func splitToken(token []byte) (tag, id string, ok bool) {
	if !validToken(token) {
		return "", "", false
	}
	return string(token[:tagLen]), string(token[tagLen:]), true
}

// validToken checks a token's shape without any I/O or allocation.
func validToken(token []byte) bool {
	if len(token) != tokenLen {
		return false
	}
	for _, c := range token[:tagLen] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false // lower-case hex only: one token, one key
		}
	}
	var raw [32]byte
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], token[tagLen:])
	return err == nil && n == len(raw)
}

func (s *Redis) sessionKey(tag, id string) string { return s.prefix + "{" + tag + "}:s:" + id }
func (s *Redis) indexKey(tag string) string       { return s.prefix + "{" + tag + "}:z" }
func (s *Redis) sidPointer(h string) string       { return s.prefix + "{" + h + "}:sid" }

func (s *Redis) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

func unavailable(err error) error { return errfmt.Errorf("%w: redis: %w", ErrUnavailable, err) }

// ttlMillis is the TTL, in whole milliseconds rounded up, of something that
// expires at exp.
func ttlMillis(exp, now time.Time) int64 {
	ms := int64((exp.Sub(now) + time.Millisecond - 1) / time.Millisecond)
	return max(ms, 1)
}

// Load implements Store with one HGET, or none when the near cache holds
// the session (RedisOptions.NearCacheTTL).
func (s *Redis) Load(ctx context.Context, token []byte) ([]byte, bool, error) {
	if !validToken(token) {
		return nil, false, nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	key := s.prefix + "{" + string(token[:tagLen]) + "}:s:" + string(token[tagLen:]) // sessionKey, in one allocation
	var v []byte
	var err error
	if s.near != nil {
		v, err = s.near.hget(ctx, token, key, "d")
	} else {
		v, err = s.client.HGet(ctx, key, "d").Bytes()
	}
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable(err)
	}
	if len(v) < 8 {
		return nil, false, nil // not written by this store
	}
	if exp := int64(binary.BigEndian.Uint64(v)); s.now().UnixMilli() >= exp {
		// Expired by our clock before Redis's TTL ran out (clocks differ):
		// forget it now. A failure here is harmless; the TTL ends it.
		_ = s.deleteKeys(ctx, string(token[:tagLen]), string(token[tagLen:]))
		return nil, false, nil
	}
	return v[8:], true, nil
}

// stored is the value of a session's d field: the expiry (Unix ms, rounded
// down: a session ends up to a millisecond early, never late), then the data.
func stored(rec *Record) []byte {
	v := make([]byte, 8+len(rec.Data))
	binary.BigEndian.PutUint64(v, uint64(rec.Expiry.UnixMilli()))
	copy(v[8:], rec.Data)
	return v
}
