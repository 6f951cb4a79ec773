package store

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/redisclient"
)

// acked runs script, which writes keys (all in key's slot), and returns
// its command; with WaitReplicas set, it waits until that many replicas
// hold the write (see redisclient.Acker), bounded by half of Timeout.
// Writes that must survive a failover go through it: sid pointers and
// deletions. Without it, Redis's asynchronous replication can lose an
// acknowledged write when a master dies: a deleted session would come
// back, or a session would lose its pointer.
func (s *Redis) acked(ctx context.Context, key string, script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	a := redisclient.Acker{Client: s.client, Replicas: s.waitReplicas, Wait: s.timeout / 2}
	return a.Run(ctx, key, script, keys, args...)
}
