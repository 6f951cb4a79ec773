// Package flight collapses concurrent calls for one key into one.
//
// ginauth uses it wherever many requests may ask for the same slow thing at
// once: a token refresh of one session, a JWKS refetch, a discovery fetch.
// Unlike golang.org/x/sync/singleflight, every caller honours its own
// context while the shared call goes on, the call runs detached from any
// one caller's cancellation, and a panic in the call becomes an error for
// every waiter instead of tearing down a request goroutine.
package flight

import (
	"context"
	"errors"
	"sync"

	"github.com/ginauth/ginauth/internal/errfmt"
)

// ErrPanicked wraps the value of a panic raised by a call.
var ErrPanicked = errors.New("ginauth: call panicked")

// Group runs at most one call per key at a time. The zero value is ready to
// use; a Group must not be copied after first use.
type Group[K comparable, V any] struct {
	mu     sync.Mutex
	m      map[K]*call[V]
	joined int // callers that joined a running call (for tests)
}

type call[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// Do runs fn for key, or joins the call for key already running, and
// returns its result. A caller whose ctx ends first gets ctx's error at
// once; the call itself goes on (fn gets a context that keeps ctx's values
// but not its cancellation or deadline, so fn must bound itself, for
// example with a timeout). The key is free again as soon as fn returns or
// panics.
func (g *Group[K, V]) Do(ctx context.Context, key K, fn func(ctx context.Context) (V, error)) (V, error) {
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[K]*call[V])
	}
	c, running := g.m[key]
	if !running {
		c = &call[V]{done: make(chan struct{})}
		g.m[key] = c
		go g.run(context.WithoutCancel(ctx), key, c, fn)
	} else {
		g.joined++
	}
	g.mu.Unlock()

	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// run calls fn, publishes its result and frees key, also when fn panics.
func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], fn func(ctx context.Context) (V, error)) {
	defer func() {
		if r := recover(); r != nil {
			c.err = errfmt.Errorf("%w: %v", ErrPanicked, r)
		}
		g.mu.Lock()
		delete(g.m, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
}

// Running reports how many calls are in progress.
func (g *Group[K, V]) Running() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}
