package redistest

import (
	"context"
	"fmt"
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

// Cluster timing. NodeTimeout is the cluster-node-timeout: a master that
// has not answered for this long is failed over to its replica.
const (
	NodeTimeout    = time.Second
	clusterTimeout = 30 * time.Second // from exec to cluster_state:ok everywhere
)

// Cluster is a Redis Cluster of three masters and three replicas, each a
// redis-server process on free loopback ports, in a temporary directory,
// without persistence. Its nodes are stopped by PID when the test ends.
type Cluster struct {
	bin, cli string
	nodes    []*clusterNode

	mu      sync.Mutex
	clients []*redis.ClusterClient
	killed  bool // a node was killed while the cluster ran
}

// clusterNode is one redis-server of a cluster.
type clusterNode struct {
	*proc   // see sentinel.go
	busPort int
}

// Node describes a cluster node as CLUSTER NODES reports it.
type Node struct {
	ID     string
	Addr   string // host:port
	Master bool
	Failed bool     // flagged fail or pfail, or disconnected
	Slots  [][2]int // ranges served by a master, inclusive
}

// CLIBinary returns the redis-cli binary's path ($REDIS_CLI, beside the
// server binary, or on PATH), or "".
func CLIBinary() string {
	if p := os.Getenv("REDIS_CLI"); p != "" {
		return p
	}
	if bin := Binary(); bin != "" {
		p := filepath.Join(filepath.Dir(bin), "redis-cli")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("redis-cli"); err == nil {
		return p
	}
	return ""
}

// StartCluster starts a cluster of six nodes (three masters with one
// replica each) for tb, waits until every node reports cluster_state:ok,
// and stops every node when tb ends. It skips or fails tb (see the package
// doc) when redis-server or redis-cli is missing.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if !Available(tb) {
		return nil
	}
	c := &Cluster{bin: Binary(), cli: CLIBinary()}
	if c.cli == "" {
		testenv.SkipOrFail(tb, "redistest: redis-cli not found ($REDIS_CLI, beside redis-server, PATH); "+
			"it comes with redis-server (Debian: apt-get install redis-server)")
		return nil
	}
	tb.Cleanup(c.shutdown)
	root := tb.TempDir()
	for i := range 6 {
		n := &clusterNode{proc: &proc{dir: filepath.Join(root, strconv.Itoa(i))}}
		n.args = n.clusterArgs
		if err := os.Mkdir(n.dir, 0o700); err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		var err error
		for range startTries {
			if n.port, err = freePort(); err != nil {
				break
			}
			if n.busPort, err = freePort(); err != nil {
				break
			}
			if err = n.start(c.bin); err == nil {
				break
			}
		}
		if err != nil {
			tb.Fatalf("redistest: cluster node %d: %v", i, err)
		}
		c.nodes = append(c.nodes, n)
	}
	args := []string{"--cluster", "create"}
	for _, n := range c.nodes {
		args = append(args, n.addr())
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, c.cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitOK(tb, clusterTimeout)
	c.waitReplicas(tb, clusterTimeout)
	c.waitAcks(tb, clusterTimeout)
	return c
}

// waitReplicas waits until every master sees its replica online and every
// replica's link is up, so that writes replicate (and WAIT counts them)
// from the start.
func (c *Cluster) waitReplicas(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for _, n := range c.nodes {
		cl := nodeClient(n.addr())
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := cl.Info(ctx, "replication").Result()
			cancel()
			// A master counts a replica (for WAIT) once it is online.
			if err == nil && (strings.Contains(info, "role:master") && strings.Contains(info, "state=online") ||
				strings.Contains(info, "master_link_status:up")) {
				break
			}
			if time.Now().After(deadline) {
				_ = cl.Close()
				tb.Fatalf("redistest: %s: replication not up after %v: %v %s", n.addr(), timeout, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = cl.Close()
	}
}

// waitAcks waits until each master's replica acknowledges a write (WAIT
// 1): a replica counts as online before its first acknowledgement, which
// can take a second on a busy machine, and a store with WaitReplicas would
// fail its first writes meanwhile.
func (c *Cluster) waitAcks(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for _, n := range c.nodes {
		cl := nodeClient(n.addr())
		err := waitAck(cl, deadline)
		_ = cl.Close()
		if err != nil {
			tb.Fatalf("redistest: %s: %v", n.addr(), err)
		}
	}
}

// waitAck writes a key of one of cl's own slots and WAITs for one replica,
// until it acknowledges or deadline passes. A replica node returns nil.
func waitAck(cl *redis.Client, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	nodes, err := cl.ClusterNodes(ctx).Result()
	if err != nil {
		return err
	}
	var ranges [][2]int64
	for _, line := range strings.Split(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || !strings.Contains(f[2], "myself") {
			continue
		}
		if !strings.Contains(f[2], "master") {
			return nil
		}
		for _, r := range f[8:] {
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, err1 := strconv.ParseInt(lo, 10, 64)
			b, err2 := strconv.ParseInt(hi, 10, 64)
			if err1 == nil && err2 == nil {
				ranges = append(ranges, [2]int64{a, b})
			}
		}
	}
	key := ""
	for i := 0; key == "" && i < 100_000; i++ {
		k := "redistest-ack-probe-" + strconv.Itoa(i)
		slot, err := cl.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			return err
		}
		for _, r := range ranges {
			if slot >= r[0] && slot <= r[1] {
				key = k
			}
		}
	}
	if key == "" {
		return fmt.Errorf("no slot of its own among %v", ranges)
	}
	return waitAckKey(cl, key, deadline)
}

// clusterArgs is a cluster node's command line for port.
func (n *clusterNode) clusterArgs(port int) ([]string, error) {
	logPath := filepath.Join(n.dir, "redis.log")
	return []string{
		"--port", strconv.Itoa(port),
		"--cluster-port", strconv.Itoa(n.busPort),
		"--bind", "127.0.0.1",
		"--cluster-enabled", "yes",
		"--cluster-config-file", filepath.Join(n.dir, "nodes.conf"),
		"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout / time.Millisecond)),
		"--cluster-replica-validity-factor", "0", // a replica always takes over
		"--cluster-require-full-coverage", "no", // healthy shards keep serving
		"--save", "",
		"--appendonly", "no",
		"--repl-diskless-sync-delay", "0", // replicas sync at once
		"--daemonize", "no",
		"--dir", n.dir,
		"--logfile", logPath,
	}, nil
}

func (c *Cluster) shutdown() {
	c.mu.Lock()
	clients := c.clients
	c.clients = nil
	c.mu.Unlock()
	for _, cl := range clients {
		_ = cl.Close()
	}
	if c.killed && len(clients) > 0 {
		// go-redis probes an unreachable node once a second until its pool
		// is closed: let those goroutines see the close and exit before
		// the test's leak check.
		time.Sleep(1100 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Go(n.kill) // no persistence: nothing to lose by not asking politely
	}
	wg.Wait()
}

// Addrs returns every node's host:port, killed ones included.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr()
	}
	return out
}

// ClusterOptions returns client options for the cluster, as docs/stores.md
// recommends them: context deadlines bound every call, and the client
// reloads the slot map every 2 s, so that it finds a promoted replica
// within seconds of a failover. Commands are not retried on network errors
// (a test sees every failure).
func (c *Cluster) ClusterOptions() *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                      c.Addrs(),
		ContextTimeoutEnabled:      true,
		ClusterStateReloadInterval: 2 * time.Second,
		DialTimeout:                time.Second,
		ReadTimeout:                time.Second,
		WriteTimeout:               time.Second,
		// MaintNotificationsConfig stays go-redis's default ("auto"), as
		// a user's would: the store must work with it (see acked).
	}
}

// NewClient returns a new cluster client (see ClusterOptions, adjusted by
// edit when it is not nil) with hooks, closed when the cluster stops.
func (c *Cluster) NewClient(edit func(*redis.ClusterOptions), hooks ...redis.Hook) *redis.ClusterClient {
	o := c.ClusterOptions()
	if edit != nil {
		edit(o)
	}
	cl := redis.NewClusterClient(o)
	for _, h := range hooks {
		cl.AddHook(h)
	}
	c.mu.Lock()
	c.clients = append(c.clients, cl)
	c.mu.Unlock()
	return cl
}

// nodeClient is a plain client of one node, for admin commands.
func nodeClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second, MaxRetries: -1})
}
