package store

import (
	"context"
	"crypto/sha1" // #nosec G505 -- names index keys; not a security property
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/errfmt"
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
}

// Redis keeps sessions in Redis, so that every instance of an app shares
// them and a session ends everywhere the moment it is deleted.
//
// The cookie carries an opaque token: a tag derived from the user, and 32
// random bytes. All keys of one user share a Redis Cluster hash slot (the
// tag is the hash tag), so the session and its index entries change together
// in one Lua script, on standalone servers, Sentinel set-ups and Cluster alike:
//
//	<prefix>{<tag>}:s:<id>          hash: d (expiry, 8 bytes big-endian Unix ms, then the data),
//	                                p, u, i (provider, subject, sid)
//	<prefix>{<tag>}:u               set of the user's session ids
//	<prefix>{<tag>}:sid:<sha1>      set of the ids created from one provider session
//	<prefix>sid:<sha1>              the tag of that provider session (for DeleteSID)
//
// Every key has a TTL: a session's is its remaining lifetime, an index's the
// longest remaining lifetime of the sessions it serves. TTLs are relative, so
// the Redis server's clock does not matter. Loading a session is one round
// trip (HGET); saving one is one round trip (a pipeline when it has a sid).
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

// NewRedis returns a store on client, which may be a *redis.Client, a
// failover (Sentinel) client or a *redis.ClusterClient, built with the
// client's own options (addresses, TLS, pool sizes, timeouts). The options
// must set ContextTimeoutEnabled: without it go-redis ignores context
// deadlines on the socket, and a Redis that accepts connections but stops
// answering would hold every request for the client's ReadTimeout instead
// of Timeout. NewRedis refuses such a client.
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
	return &Redis{client: client, prefix: opts.KeyPrefix, timeout: opts.Timeout, now: opts.Now}, nil
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

// checkClient refuses a nil client and, among go-redis's own client types,
// one that ignores context deadlines.
func checkClient(client redis.UniversalClient) error {
	const noCtx = "ginauth: NewRedis: the client ignores context deadlines, so Timeout could not bound a call " +
		"to a Redis that stops answering; set ContextTimeoutEnabled: true in its options"
	isNil, ctxTimeouts := client == nil, true
	switch c := client.(type) {
	case *redis.Client:
		isNil = c == nil
		ctxTimeouts = isNil || c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		isNil = c == nil
		ctxTimeouts = isNil || c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		isNil = c == nil
		ctxTimeouts = isNil || c.Options().ContextTimeoutEnabled
	}
	switch {
	case isNil:
		return errors.New("ginauth: NewRedis: nil client")
	case !ctxTimeouts:
		return errors.New(noCtx)
	}
	return nil
}

// Close closes the underlying client.
func (s *Redis) Close() error { return s.client.Close() }

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
func (s *Redis) userKey(tag string) string        { return s.prefix + "{" + tag + "}:u" }
func (s *Redis) sidSetKey(tag, h string) string   { return s.prefix + "{" + tag + "}:sid:" + h }
func (s *Redis) sidPointer(h string) string       { return s.prefix + "sid:" + h }

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

// Load implements Store with one HGET.
func (s *Redis) Load(ctx context.Context, token []byte) ([]byte, bool, error) {
	if !validToken(token) {
		return nil, false, nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	key := s.prefix + "{" + string(token[:tagLen]) + "}:s:" + string(token[tagLen:]) // sessionKey, in one allocation
	v, err := s.client.HGet(ctx, key, "d").Bytes()
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

// The scripts get only the keys they use (a session without a sid has no
// sid set): every key of one script is in the user's hash slot, so that they
// run on Redis Cluster too, where an empty key name would hash elsewhere.
// Those that judge whether a session is live get the store's clock (now,
// Unix ms) and read the expiry at the start of d; an index keeps an id as
// long as its session key exists.

// luaLive defines live(key, now): the session at key exists and has not
// expired at now. The expiry (< 2^53) decodes exactly into a Lua number.
const luaLive = `
local function live(key, now)
  local d = redis.call('HGET', key, 'd')
  if not d or string.len(d) < 8 then return false end
  local e = 0
  for i = 1, 8 do e = e * 256 + string.byte(d, i) end
  return e > now
end
`

// saveNew writes a new session and its index entries. KEYS: session, user
// set, [sid set]. ARGV: id, d, provider, subject, sid, ttl (ms). It also
// drops ids of ended sessions from the user set.
var saveNew = redis.NewScript(`
local ttl = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'p', ARGV[3], 'u', ARGV[4], 'i', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ttl)
local prefix = string.sub(KEYS[1], 1, string.len(KEYS[1]) - string.len(ARGV[1]))
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('EXISTS', prefix .. m) == 0 then redis.call('SREM', KEYS[2], m) end
end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`)

// saveExisting updates a live session; it never recreates one, nor revives
// an expired one. KEYS: session, user set, [sid set]. ARGV: id, d, ttl (ms),
// now (ms), '1' to write only if the stored data (after its expiry prefix)
// equals ARGV[6] (else it returns 2). The index sets keep the id and live at least as long as the
// session.
var saveExisting = redis.NewScript(luaLive + `
if not live(KEYS[1], tonumber(ARGV[4])) then return 0 end
if ARGV[5] == '1' and string.sub(redis.call('HGET', KEYS[1], 'd'), 9) ~= ARGV[6] then return 2 end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`)

// pointSID records which user tag a provider session belongs to, keeping
// the longer TTL. KEYS: pointer. ARGV: tag, ttl (ms).
var pointSID = redis.NewScript(`
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
end
return 1
`)

// scriptCall is one script run of a pipeline.
type scriptCall struct {
	script *redis.Script
	keys   []string
	args   []any
}

// runScripts runs calls in one pipeline (one round trip on a standalone
// server) and returns the result of the last. When the server lacks a script
// (NOSCRIPT, after a restart) the whole pipeline is sent again with the
// scripts' source: every script here is idempotent.
func (s *Redis) runScripts(ctx context.Context, calls ...scriptCall) *redis.Cmd {
	if len(calls) == 1 {
		c := calls[0]
		return c.script.Run(ctx, s.client, c.keys, c.args...)
	}
	run := func(eval bool) []redis.Cmder {
		cmds, _ := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range calls {
				if eval {
					c.script.Eval(ctx, p, c.keys, c.args...)
				} else {
					c.script.EvalSha(ctx, p, c.keys, c.args...)
				}
			}
			return nil
		})
		return cmds
	}
	cmds := run(false)
	for _, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			cmds = run(true)
			break
		}
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			cmd := redis.NewCmd(ctx)
			cmd.SetErr(err)
			return cmd
		}
	}
	if len(cmds) != len(calls) {
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(errors.New("pipeline answered with too few replies"))
		return cmd
	}
	return cmds[len(cmds)-1].(*redis.Cmd)
}

// Save implements Store.
func (s *Redis) Save(ctx context.Context, token []byte, rec Record) ([]byte, error) {
	if rec.Subject == "" || rec.Provider == "" {
		return nil, errors.New("ginauth: redis store: record without provider or subject")
	}
	now := s.now()
	if !rec.Expiry.After(now) {
		return nil, errors.New("ginauth: redis store: record already expired")
	}
	ttl := ttlMillis(rec.Expiry, now)
	tag := userTag(rec.Provider, rec.Subject)
	var id string
	if token != nil {
		gotTag, gotID, ok := splitToken(token)
		if !ok || gotTag != tag {
			return nil, ErrNotFound // checked without any I/O
		}
		id = gotID
	} else {
		var raw [32]byte
		randRead(raw[:])
		id = base64.RawURLEncoding.EncodeToString(raw[:])
	}
	keys := []string{s.sessionKey(tag, id), s.userKey(tag)}
	var calls []scriptCall
	if rec.SID != "" {
		h := sidHash(rec.Provider, rec.SID)
		keys = append(keys, s.sidSetKey(tag, h))
		// The pointer first, and refreshed with every save: a session with
		// a sid is never without one, however long activity extends it.
		calls = append(calls, scriptCall{pointSID, []string{s.sidPointer(h)}, []any{tag, ttl}})
	}
	if token != nil {
		cond := "0"
		if rec.IfMatch != nil {
			cond = "1"
		}
		calls = append(calls, scriptCall{saveExisting, keys, []any{id, stored(&rec), ttl, now.UnixMilli(), cond, rec.IfMatch}})
	} else {
		calls = append(calls, scriptCall{saveNew, keys, []any{id, stored(&rec), rec.Provider, rec.Subject, rec.SID, ttl}})
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := s.runScripts(ctx, calls...).Int()
	if err != nil {
		return nil, unavailable(err)
	}
	switch n {
	case 0:
		return nil, ErrNotFound
	case 2:
		return nil, ErrConflict
	}
	if token != nil {
		return token, nil
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
	return s.deleteKeys(ctx, tag, id)
}

func (s *Redis) deleteKeys(ctx context.Context, tag, id string) error {
	err := deleteOne.Run(ctx, s.client, []string{s.sessionKey(tag, id), s.userKey(tag)},
		id, s.prefix+"{"+tag+"}:sid:").Err()
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// listLive returns the ids of a set whose sessions are live, and drops the
// ids whose keys are gone. KEYS: set. ARGV: session key prefix
// ("<prefix>{tag}:s:"), now (ms).
var listLive = redis.NewScript(luaLive + `
local now, ids = tonumber(ARGV[2]), {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. m
  if live(key, now) then
    table.insert(ids, m)
  elseif redis.call('EXISTS', key) == 0 then
    redis.call('SREM', KEYS[1], m)
  end
end
return ids
`)

// List implements Index.
func (s *Redis) List(ctx context.Context, provider, subject string) ([][]byte, error) {
	tag := userTag(provider, subject)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	ids, err := listLive.Run(ctx, s.client, []string{s.userKey(tag)}, s.prefix+"{"+tag+"}:s:", s.now().UnixMilli()).StringSlice()
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
// deletes KEYS[1]. It returns how many of them were live. ARGV: session key
// prefix, sid set key prefix, now (ms).
var deleteSet = redis.NewScript(luaLive + `
local n, now = 0, tonumber(ARGV[3])
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. m
  if live(key, now) then n = n + 1 end
  local p, sid = unpack(redis.call('HMGET', key, 'p', 'i'))
  redis.call('DEL', key)
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
		s.prefix+"{"+tag+"}:s:", s.prefix+"{"+tag+"}:sid:", s.now().UnixMilli()).Int()
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
		s.prefix+"{"+tag+"}:s:", s.prefix+"{"+tag+"}:sid:", s.now().UnixMilli()).Int()
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}
