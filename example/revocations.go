package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ginauth/ginauth"
	"github.com/ginauth/ginauth/revsync"
)

// With GINAUTH_REVOCATION_REDIS_URL and the cookie store, sign-outs (and
// back-channel logouts, and sessions replaced at sign-in) are shared
// between instances through Redis: see package revsync and
// docs/revocations.md.

// revocationSync is rs as a ginauth.RevocationSync: nil stays nil (an
// interface holding a nil *revsync.Sync would not be).
func revocationSync(rs *revsync.Sync) ginauth.RevocationSync {
	if rs == nil {
		return nil
	}
	return rs
}

// startRevocations checks that the revocation Redis answers a PING (as
// openRedis does for the session store) and runs the sync until ctx ends;
// the returned function waits for it to stop and closes the client. It
// does nothing without GINAUTH_REVOCATION_REDIS_URL.
func startRevocations(ctx context.Context, a *app, cfg config, log *slog.Logger) (stop func(), err error) {
	if a.revs == nil {
		return func() {}, nil
	}
	pctx, cancel := context.WithTimeout(ctx, redisStartTimeout)
	defer cancel()
	for {
		err = a.revs.Ping(pctx)
		if err == nil {
			break
		}
		select {
		case <-pctx.Done():
			_ = a.revs.Close()
			return nil, fmt.Errorf("cannot reach Redis at %s (GINAUTH_REVOCATION_REDIS_URL) within %v: %s",
				redactedURL(cfg.RevocationRedisURL), redisStartTimeout, hideUserinfo(cfg.RevocationRedisURL, err.Error()))
		case <-time.After(100 * time.Millisecond):
		}
	}
	sctx, cancelSync := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.auth.SyncRevocations(sctx)
	}()
	return func() {
		cancelSync()
		<-done
		if err := a.revs.Close(); err != nil {
			log.Warn("closing the revocation Redis client", "err", err)
		}
	}, nil
}
