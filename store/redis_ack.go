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

// maxWait returns how long a WAIT may block on client's connections: a
// pipeline's replies are read within the client's ReadTimeout (unlike a
// lone WAIT command, whose read go-redis extends by its timeout), so a WAIT
// that outlasted it would end in an i/o timeout, and a retry of the whole
// pipeline, instead of its count. 0: no bound.
func maxWait(client redis.UniversalClient) time.Duration {
	var rt time.Duration
	switch c := client.(type) {
	case *redis.Client:
		rt = c.Options().ReadTimeout
	case *redis.ClusterClient:
		rt = c.Options().ReadTimeout
	}
	if rt <= 0 {
		return 0 // go-redis: no read deadline
	}
	return rt * 3 / 4
}

// acked runs script, which writes keys (all in key's slot), and returns
// its command. With WaitReplicas set, it waits on the same connection
// (Redis WAIT) until that many replicas hold the write. Writes that must
// survive a failover go through it: sid pointers and deletions. Without it,
// Redis's asynchronous replication can lose an acknowledged write when a
// master dies: a deleted session would come back, or a session would lose
// its pointer.
//
// The script and its WAIT are sent as one pipeline, which go-redis runs on
// one connection of the client's own pool. (A sticky Conn() would do too,
// but go-redis v9.23 shares the client's options with it under a second
// lock, and its maintenance-notification "auto" mode writes them when a
// Redis 7 refuses the probe: a data race in go-redis that the pipeline
// never meets.)
func (s *Redis) acked(ctx context.Context, key string, script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	if s.waitReplicas == 0 {
		cmd := script.Run(ctx, s.client, keys, args...)
		return cmd, cmd.Err()
	}
	var (
		node    redis.Cmdable = s.client
		cluster *redis.ClusterClient
	)
	if c, ok := s.client.(*redis.ClusterClient); ok {
		master, err := c.MasterForKey(ctx, key)
		if err != nil {
			return nil, err
		}
		node, cluster = master, c
	}
	wait := s.timeout / 2
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d))
	}
	if s.waitMax > 0 {
		wait = min(wait, s.waitMax)
	}
	wait = max(wait, time.Millisecond)
	cmd, n, err := s.runAndWait(ctx, node, script, keys, args, wait)
	if err != nil {
		if cluster != nil && (redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")) {
			// The slot moved: this call fails (closed), the next one finds
			// the new master.
			cluster.ReloadState(ctx)
		}
		return cmd, err
	}
	if int(n) < s.waitReplicas {
		return cmd, fmt.Errorf("%w: %d of %d", errFewReplicas, n, s.waitReplicas)
	}
	return cmd, nil
}

// runAndWait sends script and a WAIT for WaitReplicas in one pipeline on
// node, and returns the script's command, how many replicas acknowledged
// it, and the first error. The script goes by its body (EVAL), not its
// hash: a NOSCRIPT answer would cost a second WAIT. These writes are rare
// (sign-ins with a provider session, deletions) and the bodies small.
func (s *Redis) runAndWait(ctx context.Context, node redis.Cmdable, script *redis.Script,
	keys []string, args []any, wait time.Duration) (*redis.Cmd, int64, error) {
	pipe := node.Pipeline()
	cmd := script.Eval(ctx, pipe, keys, args...)
	// Pipeliner has no Wait method; WAIT's timeout is in milliseconds.
	acks := pipe.Do(ctx, "WAIT", s.waitReplicas, max(wait.Milliseconds(), 1))
	_, _ = pipe.Exec(ctx)
	if err := cmd.Err(); err != nil {
		return cmd, 0, err
	}
	if err := acks.Err(); err != nil {
		return cmd, 0, err
	}
	n, err := acks.Int64()
	return cmd, n, err
}
