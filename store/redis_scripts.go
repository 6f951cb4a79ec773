package store

import "github.com/redis/go-redis/v9"

// The Lua scripts of the Redis store. Every key a script touches is in its
// KEYS, and all KEYS of one script share a hash tag: the user's, or the
// provider session's for the sid pointer. So each runs on one Redis Cluster
// node, and during a slot migration the cluster redirects it (ASK, or
// TRYAGAIN while the keys are split) instead of letting it read a key that
// has moved away. Member and field names may come from data; key names never
// do.
//
// A session hash holds:
//
//	d   expiry (8 bytes, big-endian Unix ms) then the data
//	p, u, i   provider, subject, sid
//	m   its member in the user's index: the id, then "." and the sid hash
//	w   the token of the last write (a conditional update recognises its own)
//	pe  Unix ms until which the sid pointer is known to live (with a sid)
//
// The user's index is a sorted set of members scored by expiry (Unix ms on
// the store's clock). The scripts that judge whether a session is live get
// that clock (now) and read the expiry at the start of d.

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

// luaKeepTTL defines keep(key, ttl): the key lives at least ttl ms more.
const luaKeepTTL = `
local function keep(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
`

// saveNew writes a new session and indexes it, after pruning the index of
// expired entries (those scored at or before now: a range removal, no scan).
// KEYS: session, index. ARGV: member, d, provider, subject, sid, ttl (ms),
// now (ms), expiry (ms), write token, pointer expiry (ms, or ""), cap.
// It returns the members to evict (the index's lowest-scored, never the new
// one) to bring the index back to cap; usually none.
var saveNew = redis.NewScript(luaKeepTTL + `
local ttl, now, cap = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[11])
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'p', ARGV[3], 'u', ARGV[4], 'i', ARGV[5], 'm', ARGV[1], 'w', ARGV[9])
if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'pe', ARGV[10]) end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], ARGV[8], ARGV[1])
keep(KEYS[2], ttl)
local over = redis.call('ZCARD', KEYS[2]) - cap
if over <= 0 then return {} end
local out = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, over)) do
  if m ~= ARGV[1] and #out < over then table.insert(out, m) end
end
return out
`)

// saveExisting updates a live session; it never recreates one, nor revives
// an expired one. KEYS: session, index. ARGV: d, ttl (ms), now (ms), '1' for
// a conditional write, the data it expects (after the expiry prefix), write
// token, expiry (ms), new pointer expiry (ms, or "").
//
// It returns 1 when written (or when this write token already wrote it: a
// retried call), 0 when the session is gone, 2 on a conflict, and, when the
// new expiry passes the sid pointer's, the sid hash (a string) without
// writing: the caller extends the pointer, then calls again with its new
// expiry.
var saveExisting = redis.NewScript(luaLive + luaKeepTTL + `
local ttl, now, exp = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[7])
if not live(KEYS[1], now) then return 0 end
local d, w, m, sid, pe = unpack(redis.call('HMGET', KEYS[1], 'd', 'w', 'm', 'i', 'pe'))
if ARGV[4] == '1' and string.sub(d, 9) ~= ARGV[5] then
  if w == ARGV[6] then return 1 end
  return 2
end
local dot = m and string.find(m, '.', 1, true)
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[1], 'pe', ARGV[8])
elseif dot and pe and tonumber(pe) < exp then
  return string.sub(m, dot + 1)
end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'w', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], exp, m)
keep(KEYS[2], ttl)
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

// deleteOne removes one session and its index entry. KEYS: session, index.
// ARGV: id (the member, when the session no longer says).
var deleteOne = redis.NewScript(`
local m = redis.call('HGET', KEYS[1], 'm') or ARGV[1]
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], m)
return n
`)

// deleteMembers removes sessions and their index entries. KEYS: index,
// then the session of each member. ARGV: now (ms), then the members. It
// returns how many of them were live.
var deleteMembers = redis.NewScript(luaLive + `
local now, n = tonumber(ARGV[1]), 0
for i = 2, #KEYS do
  if live(KEYS[i], now) then n = n + 1 end
  redis.call('DEL', KEYS[i])
  redis.call('ZREM', KEYS[1], ARGV[i])
end
return n
`)

// listLive returns which of the members are live sessions, and drops from
// the index those whose session is gone. KEYS: index, then the session of
// each member. ARGV: now (ms), then the members.
var listLive = redis.NewScript(luaLive + `
local now, out = tonumber(ARGV[1]), {}
for i = 2, #KEYS do
  if live(KEYS[i], now) then
    table.insert(out, ARGV[i])
  elseif redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return out
`)
