// Command example is a runnable ginauth app.
//
//	go run ./example
//
// With no configuration it serves http://127.0.0.1:8080 with the cookie
// session store and the built-in development provider "dev" (an in-process
// OpenID Provider at /dev-oidc that lets you pick a test user). Configuration
// is by environment variables; see config.go and the README. With
// GINAUTH_REDIS_URL it keeps sessions in Redis, which must answer a PING at
// start; with GINAUTH_REVOCATION_REDIS_URL it keeps cookie sessions and
// shares sign-outs between instances through Redis (same check). A configuration error exits with status 2, a server failure
// (including an unreachable Redis) with status 1.
//
// Routes: / (public), /me (browser-protected), /api/me and /api/token
// (API-protected), /admin (browser-protected, groups must contain admin),
// /healthz, /static/app.js (the home page's script), and the auth routes
// under /auth. When GINAUTH_URL has a path (https://example.com/app), every
// route, the development provider's included, is served under that path.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ginauth/ginauth/store"
)

// Server limits.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10 // room for a chunked session cookie, far below net/http's 1 MiB
	shutdownTimeout   = 10 * time.Second
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}

// run configures and serves the app until ctx ends (SIGINT or SIGTERM in
// main), then shuts down gracefully. It returns the exit status.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	log := newLogger(stderr)
	cfg, err := parseConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "ginauth example: invalid configuration:\n  - %s\n",
			strings.ReplaceAll(err.Error(), "\n", "\n  - "))
		return exitConfig
	}
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	var st store.Store // nil: the cookie store
	rs, err := openRedis(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "ginauth example: %v\n", err)
		return exitFailed
	}
	if rs != nil {
		st = rs
		defer func() {
			if err := rs.Close(); err != nil {
				log.Warn("closing the Redis client", "err", err)
			}
		}()
	}
	handler, err := newApp(cfg, log, st)
	if err != nil {
		fmt.Fprintf(stderr, "ginauth example: invalid configuration: %v\n", err)
		return exitConfig
	}

	stopRevocations, err := startRevocations(ctx, handler, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "ginauth example: %v\n", err)
		return exitFailed
	}
	defer stopRevocations()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		log.Error("cannot listen", "addr", cfg.Addr, "err", err)
		return exitFailed
	}
	srv := newServer(handler, log)
	if cfg.DebugAddr != "" {
		dbg, err := serveDebug(cfg.DebugAddr, handler, log)
		if err != nil {
			ln.Close()
			log.Error("cannot listen", "err", err)
			return exitFailed
		}
		defer dbg.Close()
	}
	log.Info("listening", "addr", ln.Addr().String(), "url", cfg.BaseURL, "providers", describeProviders(cfg), "store", storeName(cfg))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The start-up check runs once the server listens (the development
	// provider is served by this app); it only logs, and run waits for it.
	checkCtx, cancelCheck := context.WithCancel(ctx)
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		handler.checkProviders(checkCtx, log)
	}()
	defer func() {
		cancelCheck()
		<-checked
	}()
	select {
	case err := <-errc:
		log.Error("server failed", "err", err)
		return exitFailed
	case <-ctx.Done():
	}

	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown incomplete", "err", err)
		return exitFailed
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("server failed", "err", err)
		return exitFailed
	}
	log.Info("stopped")
	return exitOK
}

// newServer wraps h in an http.Server with timeouts and a header size limit.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
