package store

import (
	"context"
	"crypto/sha1" //nolint:gosec // names index keys; not a security property
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions configure a Redis store.
type RedisOptions struct {
	// KeyPrefix starts every key. Default "ginauth:".
	KeyPrefix string
	// Timeout bounds each store operation. Default 1 s.
	Timeout time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Redis keeps sessions in Redis, so that every instance of an app shares
// them and a session ends everywhere the moment it is deleted.
//
// The cookie carries an opaque token: a tag derived from the user, and 32
// random bytes. All keys of one user share a Redis Cluster hash slot (the
// tag is the hash tag), so the session and its index entries change together
// in one Lua script, on standalone servers, Sentinel set-ups and Cluster alike:
//
//	<prefix>{<tag>}:s:<id>          hash: d (data), p, u, i (provider, subject, sid)
//	<prefix>{<tag>}:u               set of the user's session ids
//	<prefix>{<tag>}:sid:<sha1>      set of the ids created from one provider session
//	<prefix>sid:<sha1>              the tag of that provider session (for DeleteSID)
//
// Every key expires with the sessions it serves. Loading a session is one
// round trip (HGET).
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

// NewRedis returns a store on client, which may be a *redis.Client, a
// failover (Sentinel) client or a *redis.ClusterClient, built with the
// client's own options (addresses, TLS, pool sizes, timeouts).
func NewRedis(client redis.UniversalClient, opts RedisOptions) (*Redis, error) {
	if client == nil {
		return nil, errors.New("ginauth: NewRedis: nil client")
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
	return &Redis{client: client, prefix: opts.KeyPrefix, timeout: opts.Timeout, now: opts.Now}, nil
}

// NewRedisURL is NewRedis with a client built from a redis:// or rediss://
// URL (see redis.ParseURL).
func NewRedisURL(url string, opts RedisOptions) (*Redis, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ginauth: NewRedisURL: %w", err)
	}
	return NewRedis(redis.NewClient(o), opts)
}

// Close closes the underlying client.
func (s *Redis) Close() error { return s.client.Close() }

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
	sum := sha1.Sum([]byte(provider + "\x00" + sid)) //nolint:gosec // key naming only
	return hex.EncodeToString(sum[:])
}

// splitToken checks a token's shape without any I/O.
func splitToken(token []byte) (tag, id string, ok bool) {
	if len(token) != tokenLen {
		return "", "", false
	}
	tag, id = string(token[:tagLen]), string(token[tagLen:])
	if _, err := hex.DecodeString(tag); err != nil {
		return "", "", false
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(id); err != nil || len(b) != 32 {
		return "", "", false
	}
	return tag, id, true
}

func (s *Redis) sessionKey(tag, id string) string { return s.prefix + "{" + tag + "}:s:" + id }
func (s *Redis) userKey(tag string) string        { return s.prefix + "{" + tag + "}:u" }
func (s *Redis) sidSetKey(tag, h string) string   { return s.prefix + "{" + tag + "}:sid:" + h }
func (s *Redis) sidPointer(h string) string       { return s.prefix + "sid:" + h }

func (s *Redis) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

func unavailable(err error) error { return fmt.Errorf("%w: redis: %w", ErrUnavailable, err) }

// Load implements Store with one HGET.
func (s *Redis) Load(ctx context.Context, token []byte) ([]byte, bool, error) {
	tag, id, ok := splitToken(token)
	if !ok {
		return nil, false, nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	data, err := s.client.HGet(ctx, s.sessionKey(tag, id), "d").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable(err)
	}
	return data, true, nil
}

// saveNew writes a new session and its index entries. KEYS: session, user
// set, sid set (or ""). ARGV: id, data, provider, subject, sid, expiry (ms),
// now (ms). It also drops ids of expired sessions from the user set.
var saveNew = redis.NewScript(`
local exp = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'p', ARGV[3], 'u', ARGV[4], 'i', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], exp)
local prefix = string.sub(KEYS[1], 1, string.len(KEYS[1]) - string.len(ARGV[1]))
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', prefix .. m) == 0 then redis.call('SREM', KEYS[2], m) end
end
local function add(set)
  redis.call('SADD', set, ARGV[1])
  local left = redis.call('PTTL', set)
  if left < 0 or left < exp - tonumber(ARGV[7]) then redis.call('PEXPIREAT', set, exp) end
end
add(KEYS[2])
if ARGV[5] ~= '' then add(KEYS[3]) end
return 1
`)

// saveExisting updates a live session; it never recreates one. KEYS:
// session, user set, sid set (or ""). ARGV: data, expiry (ms), now (ms).
var saveExisting = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local exp = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'd', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], exp)
for i = 2, 3 do
  if KEYS[i] ~= '' and redis.call('EXISTS', KEYS[i]) == 1 then
    local left = redis.call('PTTL', KEYS[i])
    if left >= 0 and left < exp - tonumber(ARGV[3]) then redis.call('PEXPIREAT', KEYS[i], exp) end
  end
end
return 1
`)

// pointSID records which user tag a provider session belongs to, keeping
// the longer expiry. KEYS: pointer. ARGV: tag, expiry (ms), now (ms).
var pointSID = redis.NewScript(`
local left = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[2]) - tonumber(ARGV[3])
if left < want then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', want)
else
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
end
return 1
`)

// Save implements Store.
func (s *Redis) Save(ctx context.Context, token []byte, rec Record) ([]byte, error) {
	if rec.Subject == "" || rec.Provider == "" {
		return nil, errors.New("ginauth: redis store: record without provider or subject")
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	now := s.now()
	expMs := rec.Expiry.UnixMilli()
	if !rec.Expiry.After(now) {
		return nil, errors.New("ginauth: redis store: record already expired")
	}
	tag := userTag(rec.Provider, rec.Subject)
	sidSet := ""
	if rec.SID != "" {
		sidSet = s.sidSetKey(tag, sidHash(rec.Provider, rec.SID))
	}
	if token != nil {
		gotTag, id, ok := splitToken(token)
		if !ok || gotTag != tag {
			return nil, ErrNotFound
		}
		n, err := saveExisting.Run(ctx, s.client, []string{s.sessionKey(tag, id), s.userKey(tag), sidSet},
			rec.Data, expMs, now.UnixMilli()).Int()
		if err != nil {
			return nil, unavailable(err)
		}
		if n == 0 {
			return nil, ErrNotFound
		}
		return token, nil
	}
	var raw [32]byte
	randRead(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	if rec.SID != "" {
		// The pointer first: a session with a sid is never without one.
		if err := pointSID.Run(ctx, s.client, []string{s.sidPointer(sidHash(rec.Provider, rec.SID))}, tag, expMs, now.UnixMilli()).Err(); err != nil {
			return nil, unavailable(err)
		}
	}
	err := saveNew.Run(ctx, s.client, []string{s.sessionKey(tag, id), s.userKey(tag), sidSet},
		id, rec.Data, rec.Provider, rec.Subject, rec.SID, expMs, now.UnixMilli()).Err()
	if err != nil {
		return nil, unavailable(err)
	}
	return []byte(tag + id), nil
}

// deleteOne removes one session and its index entries. KEYS: session, user
// set. ARGV: id, prefix of sid set keys ("<prefix>{tag}:sid:").
var deleteOne = redis.NewScript(`
local p, sid = unpack(redis.call('HMGET', KEYS[1], 'p', 'i'))
local n = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
if sid and sid ~= '' then
  redis.call('SREM', ARGV[2] .. redis.sha1hex(p .. '\0' .. sid), ARGV[1])
end
return n
`)

// Delete implements Store.
func (s *Redis) Delete(ctx context.Context, token []byte) error {
	tag, id, ok := splitToken(token)
	if !ok {
		return nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	err := deleteOne.Run(ctx, s.client, []string{s.sessionKey(tag, id), s.userKey(tag)},
		id, s.prefix+"{"+tag+"}:sid:").Err()
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// listLive returns the live ids of a set, dropping dead ones. KEYS: set.
// ARGV: session key prefix ("<prefix>{tag}:s:").
var listLive = redis.NewScript(`
local live = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. m) == 1 then table.insert(live, m) else redis.call('SREM', KEYS[1], m) end
end
return live
`)

// List implements Index.
func (s *Redis) List(ctx context.Context, provider, subject string) ([][]byte, error) {
	tag := userTag(provider, subject)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	ids, err := listLive.Run(ctx, s.client, []string{s.userKey(tag)}, s.prefix+"{"+tag+"}:s:").StringSlice()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = []byte(tag + id)
	}
	return out, nil
}

// deleteSet deletes every session whose id is in KEYS[1], removes them from
// the user set KEYS[2] (unless it is KEYS[1]) and from their sid sets, then
// deletes KEYS[1]. ARGV: session key prefix, sid set key prefix.
var deleteSet = redis.NewScript(`
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. m
  local p, sid = unpack(redis.call('HMGET', key, 'p', 'i'))
  n = n + redis.call('DEL', key)
  if KEYS[2] ~= KEYS[1] then redis.call('SREM', KEYS[2], m) end
  if sid and sid ~= '' then redis.call('SREM', ARGV[2] .. redis.sha1hex(p .. '\0' .. sid), m) end
end
redis.call('DEL', KEYS[1])
return n
`)

// DeleteUser implements Index.
func (s *Redis) DeleteUser(ctx context.Context, provider, subject string) (int, error) {
	tag := userTag(provider, subject)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := deleteSet.Run(ctx, s.client, []string{s.userKey(tag), s.userKey(tag)},
		s.prefix+"{"+tag+"}:s:", s.prefix+"{"+tag+"}:sid:").Int()
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

// DeleteSID implements Index.
func (s *Redis) DeleteSID(ctx context.Context, provider, sid string) (int, error) {
	h := sidHash(provider, sid)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tag, err := s.client.Get(ctx, s.sidPointer(h)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	if _, err := hex.DecodeString(tag); err != nil || len(tag) != tagLen {
		return 0, nil
	}
	n, err := deleteSet.Run(ctx, s.client, []string{s.sidSetKey(tag, h), s.userKey(tag)},
		s.prefix+"{"+tag+"}:s:", s.prefix+"{"+tag+"}:sid:").Int()
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

