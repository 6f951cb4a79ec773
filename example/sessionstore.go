package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ginauth/ginauth/store"
)

// redisStartTimeout bounds the start-up check that Redis answers: PINGs,
// each bounded by the store's timeout, until one answers.
const redisStartTimeout = 3 * time.Second

// openRedis returns the Redis session store when cfg asks for one (nil
// otherwise: ginauth then uses its default cookie store), after checking
// that Redis answers a PING. The caller closes it at shutdown.
func openRedis(ctx context.Context, cfg config) (*store.Redis, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	s, err := store.NewRedisURL(cfg.RedisURL, store.RedisOptions{NearCacheTTL: cfg.RedisNearCache})
	if err != nil {
		name := "GINAUTH_REDIS_URL"
		if cfg.RedisNearCache > 0 {
			name += " with GINAUTH_REDIS_NEAR_CACHE"
		}
		return nil, fmt.Errorf("%s: %s", name, hideUserinfo(cfg.RedisURL, err.Error()))
	}
	ctx, cancel := context.WithTimeout(ctx, redisStartTimeout)
	defer cancel()
	for {
		err = s.Ping(ctx)
		if err == nil {
			return s, nil
		}
		select {
		case <-ctx.Done():
			_ = s.Close()
			return nil, fmt.Errorf("cannot reach Redis at %s (GINAUTH_REDIS_URL) within %v: %s",
				redactedURL(cfg.RedisURL), redisStartTimeout, hideUserinfo(cfg.RedisURL, err.Error()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// storeName names the session store for the start-up log.
func storeName(cfg config) string {
	if cfg.RedisURL != "" {
		if cfg.RedisNearCache > 0 {
			return fmt.Sprintf("redis %s, near cache %v", redactedURL(cfg.RedisURL), cfg.RedisNearCache)
		}
		return "redis " + redactedURL(cfg.RedisURL)
	}
	if cfg.RevocationRedisURL != "" {
		return "cookie, revocations shared via redis " + redactedURL(cfg.RevocationRedisURL)
	}
	return "cookie"
}
