// Package revsync shares the cookie store's revocations between the
// instances of an app through Redis, so that a sign-out, a session replaced
// at sign-in, a back-channel logout or SignOutUser made on one instance is
// refused on every instance within a bounded delay, with no network I/O on
// the request path.
//
//	rs, err := revsync.New(client, revsync.Options{}) // a go-redis v9 UniversalClient
//	auth, err := ginauth.New(ginauth.Config{..., Revocations: rs})
//	go auth.SyncRevocations(ctx)
//
// # How
//
// Every revocation is kept in one Redis sorted set, scored by its expiry,
// and published on a channel, in one script (so no subscriber can miss one
// that the set holds). Each instance subscribes first, then loads the whole
// set, then applies what the channel delivers; whenever the subscription
// breaks it re-subscribes and loads the set again. A silent connection is
// found by a PING after Heartbeat without traffic, answered within
// Timeout. All keys share the hash tag {revocations}, so on Redis Cluster
// they live in one slot; with ShardedPubSub the channel is a shard channel
// of that slot (SPUBLISH, SSUBSCRIBE: Redis 7.0 or later).
//
//	<prefix>{revocations}:z      sorted set: encoded revocations, scored by
//	                             expiry (Unix ms); TTL: the latest expiry
//	<prefix>{revocations}:epoch  a random value set by the first load after
//	                             the set was lost (a restart without
//	                             persistence): instances that saw another
//	                             value publish their whole list again
//	<prefix>{revocations}:ch     the channel
//
// See docs/revocations.md for the bounds, and for what happens while Redis
// is unreachable (ginauth.Config.RevocationsFailOpen).
package revsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/redisclient"

	"github.com/ginauth/ginauth"
)

// Options configure a Sync. The zero value works.
type Options struct {
	// KeyPrefix starts every key and the channel's name. Default
	// "ginauth:", the Redis store's own default: the keys do not collide.
	KeyPrefix string
	// Timeout bounds each Redis call, and the wait for a PING's answer.
	// Default 1 s.
	Timeout time.Duration
	// Heartbeat is how long the subscription may stay silent before it is
	// checked with a PING. A lost connection is noticed within Heartbeat +
	// Timeout at most, at once when the server closes it. Default 1 s.
	Heartbeat time.Duration
	// ShardedPubSub publishes with SPUBLISH and subscribes with SSUBSCRIBE
	// (Redis 7.0 or later): on Redis Cluster the messages then stay on the
	// shard of the {revocations} slot instead of being broadcast to every
	// node. Without it (the default) PUBLISH and SUBSCRIBE are used, which
	// work on every Redis and on Cluster too.
	ShardedPubSub bool
	// WaitReplicas, when positive, makes Publish wait until that many
	// replicas hold the revocations (Redis WAIT on the same connection,
	// bounded by half of Timeout); fewer acknowledgements fail the
	// publish, which ginauth then retries. Redis replicates
	// asynchronously: without it, a master that dies right after a
	// sign-out was published can leave the set without it on the replica
	// that takes over, so an instance that starts (or re-syncs) afterwards
	// would not refuse that session. Instances subscribed at the time
	// applied it already. Set it to 1 on a Sentinel or Cluster set-up
	// whose masters have replicas. It needs a *redis.Client (Sentinel
	// included) or *redis.ClusterClient. Zero: no waiting.
	WaitReplicas int
	// MaxEntries bounds a load. When the set holds more live revocations,
	// the loading instance refuses every session created up to now
	// (everyone signs in again) instead of loading them: the safe side.
	// Default 100 000, the size of ginauth's own list.
	MaxEntries int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives a warning when the subscription is lost, and an
	// info when it is back. Default slog.Default().
	Logger *slog.Logger
}

// ErrFewReplicas is wrapped by Publish's error when fewer replicas than
// Options.WaitReplicas acknowledged the revocations in time.
var ErrFewReplicas = redisclient.ErrFewReplicas

// Defaults.
const (
	DefaultTimeout    = time.Second
	DefaultHeartbeat  = time.Second
	DefaultMaxEntries = 100_000
)

// Sync is a ginauth.RevocationSync on Redis. It is safe for concurrent use.
type Sync struct {
	client  redis.UniversalClient
	owned   bool // NewURL built the client: Close closes it
	opts    Options
	setKey  string
	epoch   string
	channel string
}

var _ ginauth.RevocationSync = (*Sync)(nil)

// New returns a Sync on client, which may be a *redis.Client, a failover
// (Sentinel) client or a *redis.ClusterClient. As for store.NewRedis, its
// options must set ContextTimeoutEnabled, so that Timeout bounds every call.
func New(client redis.UniversalClient, opts Options) (*Sync, error) {
	if err := checkClient(client); err != nil {
		return nil, err
	}
	if opts.Timeout < 0 || opts.Heartbeat < 0 || opts.MaxEntries < 0 {
		return nil, errors.New("ginauth: revsync: negative option")
	}
	if err := redisclient.CheckWaitReplicas(client, opts.WaitReplicas, "revsync"); err != nil {
		return nil, err
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = "ginauth:"
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.MaxEntries == 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	base := opts.KeyPrefix + "{revocations}:"
	return &Sync{client: client, opts: opts, setKey: base + "z", epoch: base + "epoch", channel: base + "ch"}, nil
}

// NewURL is New with a client built from a redis:// or rediss:// URL (see
// redis.ParseURL), with ContextTimeoutEnabled set. Close closes that
// client.
func NewURL(url string, opts Options) (*Sync, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ginauth: revsync: %w", err)
	}
	o.ContextTimeoutEnabled = true
	c := redis.NewClient(o)
	s, err := New(c, opts)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close closes the client when NewURL built it; a client given to New is
// the caller's to close.
func (s *Sync) Close() error {
	if s.owned {
		return s.client.Close()
	}
	return nil
}

// Ping checks that Redis answers, within Timeout.
func (s *Sync) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ginauth: revsync: %w", err)
	}
	return nil
}

// checkClient refuses a nil client and one that ignores context deadlines.
func checkClient(client redis.UniversalClient) error { return redisclient.Check(client, "revsync") }
