package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// errFewReplicas reports a write that fewer replicas than
// RedisOptions.WaitReplicas acknowledged in time.
var errFewReplicas = errors.New("fewer replicas than WaitReplicas acknowledged the write")

// checkWaitReplicas refuses WaitReplicas with a client whose writes cannot
// be followed by WAIT on the same connection.
func checkWaitReplicas(client redis.UniversalClient, n int) error {
	switch {
	case n < 0:
		return errors.New("ginauth: NewRedis: negative WaitReplicas")
	case n == 0:
		return nil
	}
	switch client.(type) {
	case *redis.Client, *redis.ClusterClient:
		return nil
	}
	return fmt.Errorf("ginauth: NewRedis: WaitReplicas needs a *redis.Client or *redis.ClusterClient, not %T", client)
}

// acked runs do, which writes key (and keys in its slot only), and, with
// WaitReplicas set, waits on the same connection (Redis WAIT) until that
// many replicas hold the write. Writes that must survive a failover go
// through it: sid pointers and deletions. Without it, Redis's asynchronous
// replication can lose an acknowledged write when a master dies: a
// deleted session would come back, or a session would lose its pointer.
func (s *Redis) acked(ctx context.Context, key string, do func(redis.Scripter) error) error {
	if s.waitReplicas == 0 {
		return do(s.client)
	}
	var (
		conn    *redis.Conn
		cluster *redis.ClusterClient
	)
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		node, err := c.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		conn, cluster = node.Conn(), c
	case *redis.Client:
		conn = c.Conn()
	}
	defer conn.Close()
	if err := do(conn); err != nil {
		if cluster != nil && (redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")) {
			// The slot moved: this call fails (closed), the next one finds
			// the new master.
			cluster.ReloadState(ctx)
		}
		return err
	}
	wait := s.timeout / 2
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d))
	}
	n, err := conn.Wait(ctx, s.waitReplicas, max(wait, time.Millisecond)).Result()
	if err != nil {
		return err
	}
	if int(n) < s.waitReplicas {
		return fmt.Errorf("%w: %d of %d", errFewReplicas, n, s.waitReplicas)
	}
	return nil
}
