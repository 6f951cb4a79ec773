package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// unlockIfOwner deletes a lock only when it still holds our value.
var unlockIfOwner = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// lockPoll is how often a waiting Lock retries.
const lockPoll = 25 * time.Millisecond

// Lock implements Locker with SET NX PX on <prefix>{<tag>}:lock:<id>,
// polling until it holds the lock or ctx ends.
func (s *Redis) Lock(ctx context.Context, token []byte, ttl time.Duration) (func(), error) {
	tag, id, ok := splitToken(token)
	if !ok {
		return nil, ErrNotFound
	}
	key := s.prefix + "{" + tag + "}:lock:" + id
	var raw [16]byte
	randRead(raw[:])
	owner := string(raw[:])
	for {
		opCtx, cancel := s.ctx(ctx)
		got, err := s.client.SetNX(opCtx, key, owner, ttl).Result()
		cancel()
		if err != nil {
			return nil, unavailable(err)
		}
		if got {
			// The holder reads what another instance stored before it
			// let go of the lock, never a cached copy from before.
			s.nearWrote(ttl, tag+id)
			return func() {
				ctx, cancel := s.ctx(context.WithoutCancel(ctx))
				defer cancel()
				_ = unlockIfOwner.Run(ctx, s.client, []string{key}, owner).Err() // expires anyway
			}, nil
		}
		select {
		case <-ctx.Done():
			return nil, unavailable(errors.Join(errors.New("waiting for the refresh lock"), ctx.Err()))
		case <-time.After(lockPoll):
		}
	}
}
