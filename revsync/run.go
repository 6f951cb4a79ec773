package revsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth"
)

// Reconnection pauses: from the first to the longest, doubling.
const (
	reconnectFirst = 50 * time.Millisecond
	reconnectMax   = time.Second
	loadPage       = 1000
)

// loadScript starts a load: it sets the epoch if the set was lost (or never
// was), drops expired revocations and returns the epoch and the count.
// KEYS[1]: the set, KEYS[2]: the epoch. ARGV[1]: now (Unix ms), ARGV[2]: a
// new epoch.
var loadScript = redis.NewScript(`
redis.call('SET', KEYS[2], ARGV[2], 'NX')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return {redis.call('GET', KEYS[2]), redis.call('ZCARD', KEYS[1])}
`)

// errSilent reports a subscription that did not answer a PING in time.
var errSilent = errors.New("ginauth: revsync: no answer to PING")

// Run implements ginauth.RevocationSync: subscribe, load, apply what is
// published; on any failure report sink.Synced(false), pause (50 ms
// doubling to 1 s) and start again, until ctx ends.
func (s *Sync) Run(ctx context.Context, sink ginauth.RevocationSink) error {
	var epoch string // the epoch of the last load
	pause := reconnectFirst
	lost := false
	for {
		synced, err := s.session(ctx, sink, &epoch, lost)
		sink.Synced(false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if synced {
			pause, lost = reconnectFirst, false // a new loss: say so again
		}
		if !lost {
			s.opts.Logger.Warn("ginauth: revocation sync lost its subscription; re-syncing", "err", err)
			lost = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, reconnectMax)
	}
}

// session runs one subscription: it returns when it breaks, reporting
// whether it had been in step.
func (s *Sync) session(ctx context.Context, sink ginauth.RevocationSink, epoch *string, wasLost bool) (synced bool, err error) {
	var ps *redis.PubSub
	if s.opts.ShardedPubSub {
		ps = s.client.SSubscribe(ctx, s.channel)
	} else {
		ps = s.client.Subscribe(ctx, s.channel)
	}
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()

	// Subscribed first, loaded second: a revocation published in between
	// arrives twice, never not at all.
	msg, err := ps.ReceiveTimeout(ctx, s.opts.Timeout)
	if err != nil {
		return false, err
	}
	if sub, ok := msg.(*redis.Subscription); !ok || (sub.Kind != "subscribe" && sub.Kind != "ssubscribe") {
		return false, fmt.Errorf("ginauth: revsync: unexpected %v before the subscription", msg)
	}
	if err := s.load(ctx, sink, epoch); err != nil {
		return false, err
	}
	sink.Synced(true)
	if wasLost {
		s.opts.Logger.Info("ginauth: revocation sync back in step")
	}

	pinged := false
	for {
		wait := s.opts.Heartbeat
		if pinged {
			wait = s.opts.Timeout
		}
		msg, err := ps.ReceiveTimeout(ctx, wait)
		if err != nil {
			if !isTimeout(err) || ctx.Err() != nil {
				return true, err
			}
			if pinged {
				return true, errSilent
			}
			if err := ps.Ping(ctx); err != nil {
				return true, err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Message:
			if rev, ok := decode(m.Payload); ok {
				sink.Revoke(rev)
			}
		case *redis.Subscription:
			// An unsubscription (a shard channel's slot moved) or a
			// re-subscription: messages may have been missed.
			return true, fmt.Errorf("ginauth: revsync: %s %s", m.Kind, m.Channel)
		}
	}
}

// load delivers every live revocation of the set to sink, page by page,
// and asks sink to publish its own again when the set was lost since the
// last load.
func (s *Sync) load(ctx context.Context, sink ginauth.RevocationSink, epoch *string) error {
	now := s.opts.Now()
	nowMs := strconv.FormatInt(now.UnixMilli(), 10)
	var fresh [16]byte
	_, _ = rand.Read(fresh[:])
	cctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	res, err := loadScript.Run(cctx, s.client, []string{s.setKey, s.epoch}, nowMs, hex.EncodeToString(fresh[:])).Slice()
	cancel()
	if err != nil {
		return fmt.Errorf("ginauth: revsync: load: %w", err)
	}
	got, _ := res[0].(string)
	count, _ := res[1].(int64)
	lost := *epoch != "" && got != *epoch
	*epoch = got

	if count > int64(s.opts.MaxEntries) {
		sink.Revoke(ginauth.Revocation{Kind: ginauth.RevokeAll, Before: now, Expires: now.Add(24 * time.Hour)})
	} else if err := s.loadAll(ctx, sink, nowMs); err != nil {
		return err
	}
	if lost {
		sink.Republish()
	}
	return nil
}

// loadAll reads the set by score from now on. The cursor is a score and
// the number of members of that score already read: members removed
// meanwhile all expired (lower scores), so none is skipped.
func (s *Sync) loadAll(ctx context.Context, sink ginauth.RevocationSink, nowMs string) error {
	lo, skip := "("+nowMs, int64(0)
	var lastScore float64
	for read := 0; read <= s.opts.MaxEntries; {
		cctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		page, err := s.client.ZRangeByScoreWithScores(cctx, s.setKey, &redis.ZRangeBy{Min: lo, Max: "+inf", Offset: skip, Count: loadPage}).Result()
		cancel()
		if err != nil {
			return fmt.Errorf("ginauth: revsync: load: %w", err)
		}
		for _, z := range page {
			if m, ok := z.Member.(string); ok {
				if rev, ok := decode(m); ok {
					sink.Revoke(rev)
				}
			}
			if z.Score == lastScore && lo != "("+nowMs {
				skip++
			} else {
				lastScore, skip = z.Score, 1
				lo = strconv.FormatFloat(z.Score, 'f', -1, 64)
			}
		}
		read += len(page)
		if len(page) < loadPage {
			return nil
		}
	}
	return nil
}

// isTimeout reports a read that timed out (the subscription was silent).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
