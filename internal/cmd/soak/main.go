// Command soak runs two example instances on one redis-server for a fixed
// time under mixed load and prints p50/p99 latency and errors per kind of
// operation, and each instance's heap and goroutines at the start, after the
// warm-up, at half time and at the end.
//
//	go run ./internal/cmd/soak                     # 5 minutes
//	go run ./internal/cmd/soak -duration 30s -workers 2
//
// It builds the example, starts a redis-server (no persistence, free
// loopback port) and the instances A and B with the same GINAUTH_SECRET and
// GINAUTH_REDIS_URL, B with GINAUTH_URL set to A's URL, as two instances
// behind one public URL: the browsers' cookies (host cookies of 127.0.0.1)
// reach both, and both use A's development provider. Its tokens live
// GINAUTH_DEV_TOKEN_TTL (-token-ttl, 62 s by default), just over ginauth's
// 60 s refresh margin, so /api/token refreshes them about every 2 s of a
// session's life.
//
// Each worker repeats a journey: sign in as alice or bob (on A or B), then
// for -journey alternate GET /api/me on A and B with GET /api/token (which
// refreshes), then sign out through POST /auth/signout (with the development
// provider's end-session round trip) on A or B, and check that /api/me
// answers 401 on both. One more worker does the same as carol but ends with
// a back-channel logout: a logout token for carol signed by A's development
// provider (fetched from A's debug listener) posted to
// /auth/backchannel-logout/dev of A or B. Any status other than the expected
// one counts as an error.
//
// It is not part of go test ./....
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ginauth/ginauth/internal/loadkit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	duration time.Duration
	workers  int
	journey  time.Duration
	think    time.Duration
	tokenTTL time.Duration
	idle     time.Duration
	keepLogs bool
	heapProf string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	var o options
	fs.DurationVar(&o.duration, "duration", 5*time.Minute, "how long the load runs")
	fs.IntVar(&o.workers, "workers", 4, "sign-in/sign-out workers (one back-channel worker runs besides)")
	fs.DurationVar(&o.journey, "journey", 4*time.Second, "how long each signed-in session is used")
	fs.DurationVar(&o.think, "think", 2*time.Millisecond, "pause between a worker's requests")
	fs.DurationVar(&o.tokenTTL, "token-ttl", 62*time.Second, "the development provider's token lifetime (GINAUTH_DEV_TOKEN_TTL)")
	fs.DurationVar(&o.idle, "idle", 10*time.Minute, "GINAUTH_SESSION_IDLE")
	fs.BoolVar(&o.keepLogs, "keep", false, "keep the temporary directory with the instances' logs")
	fs.StringVar(&o.heapProf, "heapprofile", "", "save each instance's heap profile (after a GC) at every figure to PREFIX-<when>-<instance>.pb.gz; compare with go tool pprof -diff_base")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.workers < 1 || o.duration <= 0 || o.journey <= 0 {
		return errors.New("-workers, -duration and -journey must be positive")
	}

	dir, err := os.MkdirTemp("", "ginauth-soak-")
	if err != nil {
		return err
	}
	if o.keepLogs {
		fmt.Fprintln(out, "soak: logs in", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin, err := loadkit.BuildExample(dir)
	if err != nil {
		return err
	}
	rd, err := loadkit.StartRedis(dir)
	if err != nil {
		return err
	}
	defer rd.Stop()
	env := map[string]string{
		"GINAUTH_SECRET":        "soak-secret-soak-secret-soak-secret-soak",
		"GINAUTH_REDIS_URL":     loadkit.RedisURL(rd),
		"GINAUTH_DEV":           "1",
		"GINAUTH_DEV_TOKEN_TTL": o.tokenTTL.String(),
		"GINAUTH_SESSION_IDLE":  o.idle.String(),
	}
	a, err := loadkit.StartExample(loadkit.ExampleOptions{Bin: bin, Env: env, LogPath: filepath.Join(dir, "a.log")})
	if err != nil {
		return fmt.Errorf("instance A: %w", err)
	}
	defer a.Stop()
	envB := map[string]string{"GINAUTH_URL": a.URL}
	for k, v := range env {
		envB[k] = v
	}
	b, err := loadkit.StartExample(loadkit.ExampleOptions{Bin: bin, Env: envB, LogPath: filepath.Join(dir, "b.log")})
	if err != nil {
		return fmt.Errorf("instance B: %w", err)
	}
	defer b.Stop()

	plain := &http.Client{Transport: loadkit.NewTransport(4), Timeout: 30 * time.Second}
	fmt.Fprintf(out, "soak: redis %s, A %s, B %s (GINAUTH_URL %s), %d workers + 1 back-channel worker, %v\n",
		rd.Addr, a.URL, b.URL, a.URL, o.workers, o.duration)
	snap := func(label string) error {
		for _, in := range []struct {
			name string
			e    *loadkit.Example
		}{{"A", a}, {"B", b}} {
			s, err := loadkit.ReadStats(plain, in.e.Debug)
			if err != nil {
				return fmt.Errorf("%s stats: %w", in.name, err)
			}
			fmt.Fprintf(out, "  %-8s %s: heap %6.2f MiB (%7d objects)  goroutines %3d  GCs %d\n",
				label, in.name, float64(s.HeapAlloc)/(1<<20), s.HeapObjects, s.Goroutines, s.NumGC)
			if o.heapProf != "" {
				path := fmt.Sprintf("%s-%s-%s.pb.gz", o.heapProf, label, in.name)
				if err := loadkit.Fetch(in.e.Debug+"/debug/pprof/heap?gc=1", path); err != nil {
					return fmt.Errorf("%s heap profile: %w", in.name, err)
				}
			}
		}
		return nil
	}
	if err := snap("start"); err != nil {
		return err
	}

	rec := loadkit.NewRecorder()
	refreshes := &counter{}
	tr := loadkit.NewTransport(o.workers * 4)
	defer tr.CloseIdleConnections()
	start := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	// Figures after the warm-up (a tenth of the run) and at half time: the
	// in-process caches with a lifetime (refreshes, logout tokens) fill up
	// during the first minutes, so growth is judged from half time to end.
	warm := make(chan struct{})
	go func() {
		defer close(warm)
		for _, at := range []struct {
			label string
			after time.Duration
		}{{"warm-up", o.duration / 10}, {"half", o.duration / 2}} {
			select {
			case <-time.After(time.Until(start.Add(at.after))):
				if err := snap(at.label); err != nil {
					fmt.Fprintln(out, "soak:", err)
				}
			case <-runCtx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i <= o.workers; i++ {
		w := &worker{o: o, rec: rec, refreshes: refreshes, a: a, b: b, tr: tr, plain: plain, rnd: rand.New(rand.NewPCG(uint64(i), 42))}
		w.user, w.backChannel = []string{"alice", "bob"}[i%2], i == o.workers
		if w.backChannel {
			w.user = "carol"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				w.journey(runCtx)
			}
		}()
	}
	wg.Wait()
	<-warm
	took := time.Since(start)
	tr.CloseIdleConnections()
	plain.CloseIdleConnections()
	time.Sleep(time.Second) // let the servers' connection goroutines end
	if err := snap("end"); err != nil {
		return err
	}

	total, errs := 0, 0
	fmt.Fprintf(out, "  %-12s %8s %7s %9s %9s %9s\n", "kind", "count", "errors", "p50", "p99", "max")
	for _, s := range rec.Summaries() {
		total += s.Count
		errs += s.Errors
		fmt.Fprintf(out, "  %-12s %8d %7d %9s %9s %9s\n", s.Kind, s.Count, s.Errors, round(s.P50), round(s.P99), round(s.Max))
		if s.Errors > 0 {
			fmt.Fprintf(out, "    last error: %s\n", s.LastErr)
		}
	}
	fmt.Fprintf(out, "  %d operations in %v (%.0f/s), %d errors; refreshes seen by /api/token: %d\n",
		total, took.Round(time.Second), float64(total)/took.Seconds(), errs, refreshes.count())
	if a.Exited() || b.Exited() {
		return errors.New("an instance exited during the run")
	}
	if errs > 0 {
		return fmt.Errorf("%d errors", errs)
	}
	return nil
}

// worker runs journeys of one user.
type worker struct {
	o           options
	rec         *loadkit.Recorder
	refreshes   *counter // /api/token answers with a new expiry
	a, b        *loadkit.Example
	tr          http.RoundTripper
	plain       *http.Client
	rnd         *rand.Rand
	user        string
	backChannel bool
}

func (w *worker) pick() *loadkit.Example {
	if w.rnd.IntN(2) == 0 {
		return w.a
	}
	return w.b
}

// timed runs f and records it as kind, unless ctx ended meanwhile (an
// operation cut short by the end of the run is not an error).
func (w *worker) timed(ctx context.Context, kind string, f func() error) error {
	start := time.Now()
	err := f()
	if err != nil && ctx.Err() != nil {
		return err
	}
	w.rec.Add(kind, time.Since(start), err)
	return err
}

// journey signs in, uses the session, and ends it.
func (w *worker) journey(ctx context.Context) {
	br := loadkit.NewBrowser(w.tr)
	if w.timed(ctx, "sign-in", func() error { return br.SignIn(w.pick().URL, w.user) }) != nil {
		return
	}
	lastExpiry := ""
	end := time.Now().Add(w.o.journey)
	for i := 0; time.Now().Before(end) && ctx.Err() == nil; i++ {
		e := []*loadkit.Example{w.a, w.b}[i%2]
		if i%10 == 9 {
			_ = w.timed(ctx, "token", func() error {
				st, err := br.Get(e.URL + "/api/token")
				if err != nil {
					return err
				}
				if st.Code != http.StatusOK || !strings.Contains(st.Body, "expiresAt") {
					return fmt.Errorf("/api/token on %s: %d %s", e.URL, st.Code, st.Body)
				}
				if lastExpiry != "" && st.Body != lastExpiry {
					w.refreshes.add()
				}
				lastExpiry = st.Body
				return nil
			})
		} else {
			_ = w.timed(ctx, "protected", func() error { return expect(br, e.URL+"/api/me", http.StatusOK) })
		}
		time.Sleep(w.o.think)
	}
	if ctx.Err() != nil {
		return
	}
	if w.backChannel {
		if w.timed(ctx, "back-channel", func() error { return loadkit.BackChannelLogout(w.plain, w.a.Debug, w.pick().URL, w.user) }) != nil {
			return
		}
	} else if w.timed(ctx, "sign-out", func() error { return br.SignOut(w.pick().URL) }) != nil {
		return
	}
	for _, e := range []*loadkit.Example{w.a, w.b} {
		_ = w.timed(ctx, "ended", func() error { return expect(br, e.URL+"/api/me", http.StatusUnauthorized) })
	}
}

func expect(br *loadkit.Browser, url string, code int) error {
	st, err := br.Get(url)
	if err != nil {
		return err
	}
	if st.Code != code {
		return fmt.Errorf("GET %s: %d, want %d: %s", url, st.Code, code, st.Body)
	}
	return nil
}

// counter is a shared count.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
