// Package redisclient holds what ginauth's Redis users (the session store
// and revsync) require of the go-redis client they are given.
package redisclient

import (
	"errors"

	"github.com/redis/go-redis/v9"
)

// Check refuses a nil client and, among go-redis's own client types, one
// that ignores context deadlines: a call to a Redis that stops answering
// could then not be bounded. who names the caller in the error
// ("NewRedis", "revsync").
func Check(client redis.UniversalClient, who string) error {
	isNil, ctxTimeouts := client == nil, true
	switch c := client.(type) {
	case *redis.Client:
		isNil = c == nil
		ctxTimeouts = isNil || c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		isNil = c == nil
		ctxTimeouts = isNil || c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		isNil = c == nil
		ctxTimeouts = isNil || c.Options().ContextTimeoutEnabled
	}
	switch {
	case isNil:
		return errors.New("ginauth: " + who + ": nil client")
	case !ctxTimeouts:
		return errors.New("ginauth: " + who + ": the client ignores context deadlines, so Timeout could not bound a call " +
			"to a Redis that stops answering; set ContextTimeoutEnabled: true in its options")
	}
	return nil
}
