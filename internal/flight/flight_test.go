package flight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConcurrentCallersShareOneCall(t *testing.T) {
	var g Group[string, int]
	var calls atomic.Int32
	release := make(chan struct{})
	const n = 20
	var wg sync.WaitGroup
	results := make(chan int, n)
	for range n {
		wg.Go(func() {
			v, err := g.Do(context.Background(), "k", func(context.Context) (int, error) {
				calls.Add(1)
				<-release
				return 42, nil
			})
			if err != nil {
				t.Errorf("Do: %v", err)
			}
			results <- v
		})
	}
	// Every caller is inside Do (one running call, the rest waiting on it)
	// before the call may finish: the overlap is certain.
	waitFor(t, func() bool { return g.Running() == 1 && g.joinedCount() == n-1 })
	close(release)
	wg.Wait()
	close(results)
	for v := range results {
		if v != 42 {
			t.Fatalf("a caller got %d, want 42", v)
		}
	}
	if c := calls.Load(); c != 1 {
		t.Fatalf("%d calls for %d overlapping callers, want 1", c, n)
	}
}

func TestJoinersShareResult(t *testing.T) {
	var g Group[string, int]
	started, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	fn := func(context.Context) (int, error) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return 7, nil
	}
	first := make(chan int)
	go func() { v, _ := g.Do(context.Background(), "k", fn); first <- v }()
	<-started
	second := make(chan int)
	go func() { v, _ := g.Do(context.Background(), "k", fn); second <- v }()
	waitFor(t, func() bool { return g.joinedCount() == 1 })
	close(release)
	if a, b := <-first, <-second; a != 7 || b != 7 {
		t.Fatalf("results %d, %d; want 7, 7", a, b)
	}
	if c := calls.Load(); c != 1 {
		t.Fatalf("calls = %d, want 1", c)
	}
	// Once the call is over, the key runs a new call.
	if v, _ := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 8, nil }); v != 8 {
		t.Fatalf("Do after the call ended = %d, want a fresh 8", v)
	}
}

func TestWaiterHonoursItsContext(t *testing.T) {
	var g Group[string, int]
	release := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_, _ = g.Do(context.Background(), "k", func(context.Context) (int, error) {
			close(started)
			<-release
			return 1, nil
		})
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.Do(ctx, "k", func(context.Context) (int, error) {
		t.Error("second call ran while the first held the key")
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Do with a cancelled context = %v, want context.Canceled", err)
	}
	close(release)
	waitFor(t, func() bool { return g.Running() == 0 })
}

func TestCallIsDetachedFromCallerCancellation(t *testing.T) {
	var g Group[string, int]
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		_, _ = g.Do(ctx, "k", func(fctx context.Context) (int, error) {
			close(started)
			time.Sleep(20 * time.Millisecond)
			got <- fctx.Err()
			return 0, nil
		})
	}()
	<-started
	cancel()
	if err := <-got; err != nil {
		t.Fatalf("the call's context ended with its caller's: %v", err)
	}
	waitFor(t, func() bool { return g.Running() == 0 })
}

func TestPanicFreesKey(t *testing.T) {
	var g Group[string, int]
	_, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { panic("boom") })
	if !errors.Is(err, ErrPanicked) {
		t.Fatalf("Do of a panicking call = %v, want ErrPanicked", err)
	}
	v, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 5, nil })
	if err != nil || v != 5 {
		t.Fatalf("Do after a panic = %v, %v; want 5, nil (the key must be free)", v, err)
	}
}

func (g *Group[K, V]) joinedCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.joined
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
