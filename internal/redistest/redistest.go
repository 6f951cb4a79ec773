// Package redistest runs a real redis-server for tests.
//
// Start launches redis-server on a free loopback port, in a temporary
// directory, with persistence off; the test's cleanup stops it by PID.
// Without the binary, tests skip with a clear message, unless the
// environment variable CI is set (non-empty): then they fail, so that a CI
// machine missing Redis cannot pass by skipping (internal/testenv).
//
// The binary is looked up as $REDIS_SERVER, then redis-server on PATH, then
// /usr/bin/redis-server and /usr/sbin/redis-server.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ginauth/ginauth/internal/testenv"
)

const (
	readyTimeout = 5 * time.Second // from exec to the first PONG
	termTimeout  = 5 * time.Second // from SIGTERM to SIGKILL
	startTries   = 3               // another process may take the free port first
)

// Server is one redis-server process (restartable on the same port).
type Server struct {
	bin string
	p   *proc

	mu     sync.Mutex
	client *redis.Client
}

// Binary returns the redis-server binary's path, or "" when there is none.
func Binary() string {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		return p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/sbin/redis-server"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// Available reports whether tests can start a server. When they cannot, it
// skips tb (CI unset) or fails it (CI set), with a message saying why (see
// internal/testenv).
func Available(tb testing.TB) bool {
	tb.Helper()
	return available(tb, Binary())
}

func available(tb testing.TB, bin string) bool {
	tb.Helper()
	if bin != "" {
		return true
	}
	testenv.SkipOrFail(tb, "redistest: redis-server not found ($REDIS_SERVER, PATH, /usr/bin, /usr/sbin); "+
		"install it (Debian: apt-get install redis-server; .ci/run does) to run the Redis tests")
	return false
}

// Start starts a redis-server for tb and stops it when tb ends. It skips or
// fails tb when the binary is missing (see the package doc).
func Start(tb testing.TB) *Server {
	tb.Helper()
	if !Available(tb) {
		return nil
	}
	dir := tb.TempDir()
	s := &Server{bin: Binary(), p: &proc{dir: dir, args: func(port int) ([]string, error) {
		return []string{
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--protected-mode", "yes",
			"--daemonize", "no",
			"--dir", dir,
			"--logfile", filepath.Join(dir, "redis.log"),
		}, nil
	}}}
	var err error
	for range startTries {
		if s.p.port, err = freePort(); err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		if err = s.p.start(s.bin); err == nil {
			break
		}
	}
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(s.shutdown)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.p.addr() }

// URL is the server's redis:// URL (database 0).
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Options returns client options for the server: context deadlines bound
// every call, and the pool is small.
func (s *Server) Options() *redis.Options {
	return &redis.Options{
		Addr:                  s.Addr(),
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		MaxRetries:            -1, // tests count round trips; a retry would hide a failure
	}
}

// Client returns a client of the server (the same one on every call),
// closed when the server is shut down at the end of the test.
func (s *Server) Client() *redis.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = redis.NewClient(s.Options())
	}
	return s.client
}

// Stop kills the server (SIGTERM, then SIGKILL) and returns once it has
// exited and its port refuses connections. Data is lost (persistence is off).
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if err := s.p.stop(); err != nil {
		tb.Fatalf("redistest: stop: %v", err)
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: %s still accepts connections after the server exited", s.Addr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Start restarts a stopped server on the same port and returns once it
// answers PING. It is a no-op while the server runs.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if s.p.running() {
		return
	}
	if err := s.p.start(s.bin); err != nil {
		tb.Fatalf("redistest: restart: %v", err)
	}
}

// Running reports whether the server process is up.
func (s *Server) Running() bool { return s.p.running() }

// shutdown is the test cleanup: close the client, stop the server.
func (s *Server) shutdown() {
	s.mu.Lock()
	c := s.client
	s.client = nil
	s.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
	if err := s.p.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "redistest: %v\n", err)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ping sends an inline PING and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return errors.New("unexpected PING answer " + strconv.Quote(line))
	}
	return nil
}

// Ping checks the server answers, through a go-redis client, within d.
func (s *Server) Ping(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.Client().Ping(ctx).Err()
}

// tail returns the end of the server's log, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// Counter is a go-redis hook that counts round trips: each command sent
// alone is one, each pipeline is one. The commands go-redis sends to set up
// a new connection (HELLO, AUTH, SELECT, CLIENT ...) are counted apart, as
// handshakes, so that counts show the steady state. Add it with
// client.AddHook.
type Counter struct {
	mu         sync.Mutex
	trips      []string // one entry per round trip: the command name, or "pipeline(a b ...)"
	handshakes int
}

// handshake lists the commands of go-redis's connection set-up.
var handshake = map[string]bool{"hello": true, "auth": true, "select": true, "client": true, "readonly": true}

// DialHook implements redis.Hook.
func (c *Counter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd.Name(), handshake[cmd.Name()])
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		setup := true
		for i, cmd := range cmds {
			names[i] = cmd.Name()
			setup = setup && handshake[names[i]]
		}
		c.add("pipeline("+strings.Join(names, " ")+")", setup)
		return next(ctx, cmds)
	}
}

func (c *Counter) add(name string, setup bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if setup {
		c.handshakes++
		return
	}
	c.trips = append(c.trips, name)
}

// RoundTrips returns the number of round trips since the last Reset, not
// counting connection set-up.
func (c *Counter) RoundTrips() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.trips)
}

// Handshakes returns the number of connection set-up round trips since
// the last Reset.
func (c *Counter) Handshakes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.handshakes
}

// Trips returns the round trips since the last Reset, oldest first.
func (c *Counter) Trips() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.trips...)
}

// Reset starts counting again from zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	c.trips, c.handshakes = nil, 0
	c.mu.Unlock()
}

// NewClient returns a new client of the server (see Options) with hooks,
// closed when tb ends.
func (s *Server) NewClient(tb testing.TB, hooks ...redis.Hook) *redis.Client {
	tb.Helper()
	c := redis.NewClient(s.Options())
	for _, h := range hooks {
		c.AddHook(h)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
