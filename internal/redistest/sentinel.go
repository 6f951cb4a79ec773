package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel timing. DownAfter is the sentinel's down-after-milliseconds: a
// master that has not answered for this long is failed over to its
// replica; FailoverTimeout is its failover-timeout.
const (
	DownAfter       = time.Second
	FailoverTimeout = 3 * time.Second
	sentinelTimeout = 30 * time.Second // from exec to a replica acknowledging writes and known to the sentinel
)

// MasterName is the name the sentinel monitors its master under.
const MasterName = "mymaster"

// Sentinel is a master, one replica and one Redis Sentinel monitoring them
// (quorum 1), each a redis-server process on a free loopback port, in a
// temporary directory, without persistence. Every process is stopped by
// PID when the test ends.
type Sentinel struct {
	bin      string
	data     []*proc // the two data nodes: the first master, its replica
	sentinel *proc

	mu      sync.Mutex
	clients []*redis.Client
}

// StartSentinel starts a master, a replica (REPLICAOF) that has
// acknowledged a write, and a sentinel that knows both, for tb; it stops
// them all when tb ends. It skips or fails tb (see the package doc) when
// redis-server is missing.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	if !Available(tb) {
		return nil
	}
	s := &Sentinel{bin: Binary()}
	tb.Cleanup(s.shutdown)
	root := tb.TempDir()
	for i := range 2 {
		dir := filepath.Join(root, "data"+strconv.Itoa(i))
		p := &proc{dir: dir, args: func(port int) ([]string, error) {
			return []string{
				"--port", strconv.Itoa(port),
				"--bind", "127.0.0.1",
				"--save", "",
				"--appendonly", "no",
				"--repl-diskless-sync-delay", "0", // replicas sync at once
				"--daemonize", "no",
				"--dir", dir,
				"--logfile", filepath.Join(dir, "redis.log"),
			}, nil
		}}
		if err := s.launch(p); err != nil {
			tb.Fatalf("redistest: sentinel data node %d: %v", i, err)
		}
		s.data = append(s.data, p)
	}
	master, replica := s.data[0], s.data[1]
	ctx, cancel := context.WithTimeout(context.Background(), sentinelTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rc := nodeClient(replica.addr())
	err := rc.Do(ctx, "REPLICAOF", "127.0.0.1", master.port).Err()
	_ = rc.Close()
	if err != nil {
		tb.Fatalf("redistest: REPLICAOF: %v", err)
	}
	mc := nodeClient(master.addr())
	err = waitAckKey(mc, "redistest-ack-probe", deadline)
	_ = mc.Close()
	if err != nil {
		tb.Fatalf("redistest: master %s: %v\n%s", master.addr(), err, tail(filepath.Join(replica.dir, "redis.log")))
	}

	// The sentinel rewrites its configuration file: one of its own.
	sdir := filepath.Join(root, "sentinel")
	s.sentinel = &proc{dir: sdir, args: func(port int) ([]string, error) {
		conf := filepath.Join(sdir, "sentinel.conf")
		text := strings.Join([]string{
			"port " + strconv.Itoa(port),
			"bind 127.0.0.1",
			"daemonize no",
			"dir " + sdir,
			"logfile " + filepath.Join(sdir, "redis.log"),
			"sentinel resolve-hostnames no",
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1", MasterName, master.port),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", MasterName, DownAfter.Milliseconds()),
			fmt.Sprintf("sentinel failover-timeout %s %d", MasterName, FailoverTimeout.Milliseconds()),
			"sentinel parallel-syncs " + MasterName + " 1",
		}, "\n") + "\n"
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return nil, err
		}
		return []string{conf, "--sentinel"}, nil
	}}
	if err := s.launch(s.sentinel); err != nil {
		tb.Fatalf("redistest: sentinel: %v", err)
	}
	if err := s.waitReplicaKnown(ctx, replica.addr()); err != nil {
		tb.Fatalf("redistest: sentinel %s: %v\n%s", s.sentinel.addr(), err, tail(filepath.Join(sdir, "redis.log")))
	}
	return s
}

// launch starts p on a free port (retrying when another process takes the
// port first) and returns once it answers PING.
func (s *Sentinel) launch(p *proc) error {
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	var err error
	for range startTries {
		if p.port, err = freePort(); err != nil {
			return err
		}
		if err = p.start(s.bin); err == nil {
			return nil
		}
	}
	return err
}

// waitReplicaKnown waits until the sentinel lists addr as a replica of
// the master whose link to it is up: the sentinel then has a replica to
// promote.
func (s *Sentinel) waitReplicaKnown(ctx context.Context, addr string) error {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel.addr(), ContextTimeoutEnabled: true,
		DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer sc.Close()
	var last any
	for {
		replicas, err := sc.Replicas(ctx, MasterName).Result()
		last = err
		if err == nil {
			last = replicas
			for _, r := range replicas {
				if net.JoinHostPort(r["ip"], r["port"]) == addr && r["flags"] == "slave" && r["master-link-status"] == "ok" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replica %s not known up: %v", addr, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitAckKey writes key and WAITs for one replica, in one pipeline (WAIT
// counts the writes of its own connection), until a replica acknowledges
// or deadline passes.
func waitAckKey(cl *redis.Client, key string, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	for {
		pipe := cl.Pipeline()
		pipe.Set(ctx, key, "1", time.Minute)
		wait := pipe.Do(ctx, "WAIT", 1, 100)
		_, err := pipe.Exec(ctx)
		if acks, _ := wait.Int64(); err == nil && acks >= 1 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no replica acknowledged a write: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SentinelAddr is the sentinel's host:port.
func (s *Sentinel) SentinelAddr() string { return s.sentinel.addr() }

// FailoverOptions returns failover client options for the sentinel:
// context deadlines bound every call, timeouts are short, and commands are
// not retried (a test sees every failure).
func (s *Sentinel) FailoverOptions() *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName:            MasterName,
		SentinelAddrs:         []string{s.sentinel.addr()},
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		MaxRetries:            -1,
	}
}

// NewClient returns a new failover client (see FailoverOptions) with
// hooks, closed when tb ends.
func (s *Sentinel) NewClient(tb testing.TB, hooks ...redis.Hook) *redis.Client {
	tb.Helper()
	cl := redis.NewFailoverClient(s.FailoverOptions())
	for _, h := range hooks {
		cl.AddHook(h)
	}
	s.mu.Lock()
	s.clients = append(s.clients, cl)
	s.mu.Unlock()
	tb.Cleanup(func() { _ = cl.Close() })
	return cl
}

// Master returns the master's host:port as the sentinel reports it now,
// or "" when the sentinel does not answer within a second.
func (s *Sentinel) Master() string {
	addr, _ := s.masterAddr()
	return addr
}

func (s *Sentinel) masterAddr() (string, error) {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel.addr(), ContextTimeoutEnabled: true,
		DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer sc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	hp, err := sc.GetMasterAddrByName(ctx, MasterName).Result()
	if err != nil {
		return "", err
	}
	if len(hp) != 2 {
		return "", fmt.Errorf("GET-MASTER-ADDR-BY-NAME answered %q", hp)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// Addrs returns both data nodes' host:port, the first master first,
// killed ones included.
func (s *Sentinel) Addrs() []string {
	return []string{s.data[0].addr(), s.data[1].addr()}
}

// KillMaster kills the current master (SIGKILL to its PID), waits for it
// to exit, and returns its address. The sentinel promotes the replica
// after about DownAfter; see WaitPromoted.
func (s *Sentinel) KillMaster(tb testing.TB) string {
	tb.Helper()
	addr, err := s.masterAddr()
	if err != nil {
		tb.Fatalf("redistest: sentinel: %v", err)
	}
	for _, p := range s.data {
		if p.addr() == addr {
			if !p.running() {
				tb.Fatalf("redistest: the master %s is already down", addr)
			}
			p.kill()
			return addr
		}
	}
	tb.Fatalf("redistest: the sentinel's master %s is none of %v", addr, s.Addrs())
	return ""
}

// Failover asks the sentinel for a failover while the master runs
// (SENTINEL FAILOVER) and returns the master's address then. The old
// master stays up; the sentinel turns it into a replica of the new one
// some seconds after the promotion. See WaitPromoted.
func (s *Sentinel) Failover(tb testing.TB) string {
	tb.Helper()
	old, err := s.masterAddr()
	if err != nil {
		tb.Fatalf("redistest: sentinel: %v", err)
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel.addr(), ContextTimeoutEnabled: true,
		DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer sc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sc.Failover(ctx, MasterName).Err(); err != nil {
		tb.Fatalf("redistest: SENTINEL FAILOVER: %v", err)
	}
	return old
}

// WaitPromoted waits until the sentinel names a master other than old and
// that node reports role:master, and returns its address; it fails tb
// after timeout.
func (s *Sentinel) WaitPromoted(tb testing.TB, old string, timeout time.Duration) string {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		addr, err := s.masterAddr()
		if err == nil && addr != old {
			if err = roleMaster(addr); err == nil {
				return addr
			}
		} else if err == nil {
			err = errors.New("still " + old)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: no new master after %v: %v\n%s", timeout, err, tail(filepath.Join(s.sentinel.dir, "redis.log")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// roleMaster checks that the node at addr is a master.
func roleMaster(addr string) error {
	cl := nodeClient(addr)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := cl.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "role:master") {
		return fmt.Errorf("%s is not a master yet", addr)
	}
	return nil
}

func (s *Sentinel) shutdown() {
	s.mu.Lock()
	clients := s.clients
	s.clients = nil
	s.mu.Unlock()
	for _, cl := range clients {
		_ = cl.Close()
	}
	var wg sync.WaitGroup
	for _, p := range append([]*proc{s.sentinel}, s.data...) {
		if p != nil {
			wg.Go(p.kill) // no persistence: nothing to lose by not asking politely
		}
	}
	wg.Wait()
}
