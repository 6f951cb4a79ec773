package revsync

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/internal/redisclient"
)

// publishScript adds revocations to the set and publishes those it did not
// hold, in one step, then drops expired ones and keeps the set's TTL at
// its latest expiry. KEYS[1]: the set, KEYS[2]: the channel (same slot).
// ARGV[1]: now (Unix ms, the app's clock, as the scores), ARGV[2]: PUBLISH
// or SPUBLISH, then score and member pairs.
var publishScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local top = 0
for i = 3, #ARGV, 2 do
  local score = tonumber(ARGV[i])
  if redis.call('ZADD', KEYS[1], score, ARGV[i + 1]) == 1 then
    redis.call(ARGV[2], KEYS[2], ARGV[i + 1])
  end
  if score > top then top = score end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local ttl = top - now
if ttl > 0 and redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 0
`)

// Publish implements ginauth.RevocationSync: one script, bounded by
// Timeout (followed by a WAIT with Options.WaitReplicas). Expired revocations and ones that cannot be encoded are left
// out; publishing one again is a no-op.
func (s *Sync) Publish(ctx context.Context, revs []ginauth.Revocation) error {
	now := s.opts.Now()
	args := make([]any, 0, 2+2*len(revs))
	cmd := "PUBLISH"
	if s.opts.ShardedPubSub {
		cmd = "SPUBLISH"
	}
	args = append(args, strconv.FormatInt(now.UnixMilli(), 10), cmd)
	for _, r := range revs {
		m, ok := encode(r)
		if !ok || !r.Expires.After(now) {
			continue
		}
		args = append(args, strconv.FormatInt(r.Expires.UnixMilli(), 10), m)
	}
	if len(args) == 2 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	a := redisclient.Acker{Client: s.client, Replicas: s.opts.WaitReplicas, Wait: s.opts.Timeout / 2}
	if _, err := a.Run(ctx, s.setKey, publishScript, []string{s.setKey, s.channel}, args...); err != nil {
		return fmt.Errorf("ginauth: revsync: publish: %w", err)
	}
	return nil
}
