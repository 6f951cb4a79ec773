package redisclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrFewReplicas reports a write that fewer replicas than asked
// acknowledged in time.
var ErrFewReplicas = errors.New("fewer replicas than WaitReplicas acknowledged the write")

// CheckWaitReplicas refuses WaitReplicas n with a client whose writes
// cannot be followed by WAIT on the same connection. who names the caller
// in the error ("NewRedis", "revsync").
func CheckWaitReplicas(client redis.UniversalClient, n int, who string) error {
	switch {
	case n < 0:
		return errors.New("ginauth: " + who + ": negative WaitReplicas")
	case n == 0:
		return nil
	}
	switch client.(type) {
	case *redis.Client, *redis.ClusterClient:
		return nil
	}
	return fmt.Errorf("ginauth: %s: WaitReplicas needs a *redis.Client (Sentinel included) or *redis.ClusterClient, not %T", who, client)
}

// Acker runs scripts whose writes must survive a failover: with Replicas
// set, each script is followed on its connection by a WAIT until that many
// replicas hold its writes.
//
// The script and its WAIT are sent as one pipeline, which go-redis runs on
// one connection of the client's own pool. (A sticky Conn() would do too,
// but go-redis v9.23 shares the client's options with it under a second
// lock, and its maintenance-notification "auto" mode writes them when a
// Redis 7 refuses the probe: a data race in go-redis that the pipeline
// never meets.)
type Acker struct {
	Client   redis.UniversalClient
	Replicas int           // 0: run the script alone
	Wait     time.Duration // how long WAIT may block; bounded by MaxWait(Client)
}

// MaxWait returns how long a WAIT may block on client's connections: a
// pipeline's replies are read within the client's ReadTimeout (unlike a
// lone WAIT command, whose read go-redis extends by its timeout), so a WAIT
// that outlasted it would end in an i/o timeout, and a retry of the whole
// pipeline, instead of its count. 0: no bound.
func MaxWait(client redis.UniversalClient) time.Duration {
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

// Run runs script, whose keys are all in key's slot, and returns its
// command. With Replicas set, it fails with ErrFewReplicas when fewer
// replicas acknowledge the writes within Wait (and the context).
func (a Acker) Run(ctx context.Context, key string, script *redis.Script, keys []string, args ...any) (*redis.Cmd, error) {
	if a.Replicas == 0 {
		cmd := script.Run(ctx, a.Client, keys, args...)
		return cmd, cmd.Err()
	}
	var (
		node    redis.Cmdable = a.Client
		cluster *redis.ClusterClient
	)
	if c, ok := a.Client.(*redis.ClusterClient); ok {
		master, err := c.MasterForKey(ctx, key)
		if err != nil {
			return nil, err
		}
		node, cluster = master, c
	}
	wait := a.Wait
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d))
	}
	if m := MaxWait(a.Client); m > 0 {
		wait = min(wait, m)
	}
	wait = max(wait, time.Millisecond)
	cmd, n, err := a.runAndWait(ctx, node, script, keys, args, wait)
	if err != nil {
		if cluster != nil && (redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")) {
			// The slot moved: this call fails (closed), the next one finds
			// the new master.
			cluster.ReloadState(ctx)
		}
		return cmd, err
	}
	if int(n) < a.Replicas {
		return cmd, fmt.Errorf("%w: %d of %d", ErrFewReplicas, n, a.Replicas)
	}
	return cmd, nil
}

// runAndWait sends script and a WAIT in one pipeline on node, and returns
// the script's command, how many replicas acknowledged it, and the first
// error. The script goes by its body (EVAL), not its hash: a NOSCRIPT
// answer would cost a second WAIT. Such writes are rare and the bodies
// small.
func (a Acker) runAndWait(ctx context.Context, node redis.Cmdable, script *redis.Script,
	keys []string, args []any, wait time.Duration) (*redis.Cmd, int64, error) {
	pipe := node.Pipeline()
	cmd := script.Eval(ctx, pipe, keys, args...)
	// Pipeliner has no Wait method; WAIT's timeout is in milliseconds.
	acks := pipe.Do(ctx, "WAIT", a.Replicas, max(wait.Milliseconds(), 1))
	_, _ = pipe.Exec(ctx)
	if err := cmd.Err(); err != nil {
		return cmd, 0, err
	}
	n, err := acks.Int64()
	return cmd, n, err
}
