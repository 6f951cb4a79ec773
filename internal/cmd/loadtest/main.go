// Command loadtest measures the example app's HTTP throughput like a user
// would: it builds and starts the example (cookie store, and Redis on a
// redis-server it starts on a free port), signs in through the development
// provider over HTTP, then drives a public route and a protected route with
// keep-alive connections in interleaved time slices and prints requests per
// second for each and their ratio. Every request carries the browser's
// cookies, as a browser's would.
//
//	go run ./internal/cmd/loadtest                  # both stores, 8 connections, 10 x 1 s
//	go run ./internal/cmd/loadtest -store redis -slices 20
//	go run ./internal/cmd/loadtest -cpuprofile cpu.out -allocprofile allocs.out
//	go run ./internal/cmd/loadtest -public /auth/providers   # a public JSON route as the baseline
//
// It is not run by go test ./... (but for a short smoke test).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/ginauth/ginauth/internal/loadkit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	stores    []string
	conns     int
	slices    int
	slice     time.Duration
	warmup    time.Duration
	public    string
	protected string
	cpuProf   string
	allocProf string
	verbose   bool
	env       envFlag
}

// envFlag collects -env NAME=VALUE flags.
type envFlag map[string]string

func (e envFlag) String() string { return fmt.Sprint(map[string]string(e)) }

func (e envFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", v)
	}
	e[k] = val
	return nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var o options
	storeFlag := fs.String("store", "both", "session store: cookie, redis or both")
	fs.IntVar(&o.conns, "conns", 8, "keep-alive connections")
	fs.IntVar(&o.slices, "slices", 10, "time slices in all, alternating public and protected")
	fs.DurationVar(&o.slice, "slice", time.Second, "length of one slice")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "untimed load first")
	fs.StringVar(&o.public, "public", "/healthz", "the public route")
	fs.StringVar(&o.protected, "protected", "/api/me", "the protected route")
	fs.StringVar(&o.cpuProf, "cpuprofile", "", "write the example's CPU profile over the timed slices to this file (suffixed with the store)")
	fs.StringVar(&o.allocProf, "allocprofile", "", "write the example's allocation profile after the run to this file (suffixed with the store)")
	fs.BoolVar(&o.verbose, "v", false, "print every slice")
	o.env = envFlag{}
	fs.Var(o.env, "env", "NAME=VALUE: one more environment variable of the example (repeatable), e.g. a store option")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *storeFlag {
	case "both":
		o.stores = []string{"cookie", "redis"}
	case "cookie", "redis":
		o.stores = []string{*storeFlag}
	default:
		return fmt.Errorf("-store %q: want cookie, redis or both", *storeFlag)
	}

	dir, err := os.MkdirTemp("", "ginauth-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := loadkit.BuildExample(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "loadtest: %d connections, %d slices of %v (alternating %s and %s), warm-up %v\n",
		o.conns, o.slices, o.slice, o.public, o.protected, o.warmup)
	for _, st := range o.stores {
		if err := measure(ctx, o, st, bin, dir, out); err != nil {
			return fmt.Errorf("%s store: %w", st, err)
		}
	}
	return nil
}

// measure runs one store's measurement.
func measure(ctx context.Context, o options, storeName, bin, dir string, out io.Writer) error {
	env := map[string]string{
		"GINAUTH_SECRET": "loadtest-secret-loadtest-secret-loadtest-secret",
		"GIN_MODE":       "release",
		"GINAUTH_DEV":    "1",
	}
	for k, v := range o.env {
		env[k] = v
	}
	if storeName == "redis" {
		rd, err := loadkit.StartRedis(dir)
		if err != nil {
			return err
		}
		defer rd.Stop()
		env["GINAUTH_REDIS_URL"] = loadkit.RedisURL(rd)
	}
	app, err := loadkit.StartExample(loadkit.ExampleOptions{Bin: bin, Env: env, LogPath: filepath.Join(dir, "example-"+storeName+".log")})
	if err != nil {
		return err
	}
	defer app.Stop()

	b := loadkit.NewBrowser(loadkit.NewTransport(2))
	if err := b.SignIn(app.URL, "alice"); err != nil {
		return err
	}
	cookie := b.CookieHeader(app.URL)
	if o.verbose {
		for _, part := range strings.Split(cookie, "; ") {
			name, value, _ := strings.Cut(part, "=")
			fmt.Fprintf(out, "  cookie %s: %d bytes\n", name, len(value))
		}
	}
	// The protected route must answer 200 with these cookies before any figure counts.
	if st, err := b.Get(app.URL + o.protected); err != nil || st.Code != http.StatusOK {
		return fmt.Errorf("%s after sign-in: %d %v", o.protected, st.Code, err)
	}

	var profDone chan error
	if o.cpuProf != "" {
		profDone = make(chan error, 1)
		secs := int((o.slice*time.Duration(o.slices) + o.warmup).Seconds())
		go func() {
			profDone <- loadkit.Fetch(app.Debug+fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), suffixed(o.cpuProf, storeName))
		}()
	}
	var cpu func() (time.Duration, error)
	if runtime.GOOS == "linux" {
		cpu = app.CPU
	}
	var log io.Writer
	if o.verbose {
		log = out
	}
	res, err := loadkit.Interleaved(ctx, loadkit.InterleavedOptions{
		Routes: []loadkit.Route{{Name: "public", URL: app.URL + o.public}, {Name: "protected", URL: app.URL + o.protected}},
		Cookie: cookie,
		Conns:  o.conns,
		Slices: o.slices,
		Slice:  o.slice,
		Warmup: o.warmup,
		Log:    log,
		CPU:    cpu,
	})
	if err != nil {
		return err
	}
	if profDone != nil {
		if err := <-profDone; err != nil {
			return fmt.Errorf("CPU profile: %w", err)
		}
	}
	if o.allocProf != "" {
		if err := loadkit.Fetch(app.Debug+"/debug/pprof/allocs", suffixed(o.allocProf, storeName)); err != nil {
			return fmt.Errorf("allocation profile: %w", err)
		}
	}
	pub, prot := res[0], res[1]
	fmt.Fprintf(out, "%-6s public %-10s %8.0f req/s  protected %-10s %8.0f req/s  ratio %.2f  errors %d  (cookie header %d bytes)\n",
		storeName, o.public, pub.PerSecond(), o.protected, prot.PerSecond(), prot.PerSecond()/pub.PerSecond(), pub.Errors+prot.Errors, len(cookie))
	if pairs := loadkit.PairRatios(pub, prot); len(pairs) > 1 {
		fmt.Fprintf(out, "%-6s ratio per pair of adjacent slices: median %.2f, range %.2f to %.2f (%d pairs)\n",
			storeName, loadkit.Median(pairs), slices.Min(pairs), slices.Max(pairs), len(pairs))
	}
	if cpu != nil {
		fmt.Fprintf(out, "%-6s example's CPU per request: public %v, protected %v (ratio %.2f)\n",
			storeName, pub.CPUPerRequest().Round(100*time.Nanosecond), prot.CPUPerRequest().Round(100*time.Nanosecond),
			float64(pub.CPUPerRequest())/float64(prot.CPUPerRequest()))
	}
	if pub.Errors+prot.Errors > 0 {
		return fmt.Errorf("%d failed requests", pub.Errors+prot.Errors)
	}
	return nil
}

func suffixed(path, storeName string) string {
	ext := filepath.Ext(path)
	return path[:len(path)-len(ext)] + "-" + storeName + ext
}
