package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The cluster's topology, as the nodes report it, and the faults and
// changes a test makes to it: kill, restart, reshard.

// Nodes returns the cluster's nodes as a live node (the first that
// answers) sees them.
func (c *Cluster) Nodes(tb testing.TB) []Node {
	tb.Helper()
	nodes, err := c.nodesNow()
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return nodes
}

func (c *Cluster) nodesNow() ([]Node, error) {
	var lastErr error
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		cl := nodeClient(n.addr())
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		out, err := cl.ClusterNodes(ctx).Result()
		cancel()
		_ = cl.Close()
		if err != nil {
			lastErr = err
			continue
		}
		return parseNodes(out), nil
	}
	return nil, fmt.Errorf("no node answers CLUSTER NODES: %v", lastErr)
}

// parseNodes reads CLUSTER NODES output.
func parseNodes(out string) []Node {
	var nodes []Node
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		flags := f[2]
		n := Node{ID: f[0], Addr: addr, Master: strings.Contains(flags, "master"),
			Failed: strings.Contains(flags, "fail") || f[7] == "disconnected"}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue // a slot being migrated or imported
			}
			lo, hi, isRange := strings.Cut(s, "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := a, error(nil)
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 == nil && err2 == nil {
				n.Slots = append(n.Slots, [2]int{a, b})
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// MasterOf returns the live master that serves slot.
func (c *Cluster) MasterOf(tb testing.TB, slot int) Node {
	tb.Helper()
	nodes := c.Nodes(tb)
	if n, ok := masterOf(nodes, slot); ok {
		return n
	}
	tb.Fatalf("redistest: no live master serves slot %d: %+v", slot, nodes)
	return Node{}
}

func masterOf(nodes []Node, slot int) (Node, bool) {
	for _, n := range nodes {
		if !n.Master || n.Failed {
			continue
		}
		for _, r := range n.Slots {
			if slot >= r[0] && slot <= r[1] {
				return n, true
			}
		}
	}
	return Node{}, false
}

// WaitPromoted waits until a live master other than old serves slot and
// the cluster is ok again (after a Kill of old), and returns that master.
// It fails tb after timeout.
func (c *Cluster) WaitPromoted(tb testing.TB, slot int, old string, timeout time.Duration) Node {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		nodes, err := c.nodesNow()
		if err == nil {
			if n, ok := masterOf(nodes, slot); ok && n.Addr != old && c.notOK() == "" {
				return n
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: slot %d not served by a new master after %v: %+v, %v", slot, timeout, nodes, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the node at addr (SIGKILL to its PID) and waits for it to
// exit. The cluster promotes its replica after about NodeTimeout.
func (c *Cluster) Kill(tb testing.TB, addr string) {
	tb.Helper()
	for _, n := range c.nodes {
		if n.addr() == addr {
			c.mu.Lock()
			c.killed = true
			c.mu.Unlock()
			n.kill()
			return
		}
	}
	tb.Fatalf("redistest: no node at %s", addr)
}

// WaitOK waits until every running node reports cluster_state:ok with
// every slot served, or fails tb after timeout.
func (c *Cluster) WaitOK(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := c.notOK()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: cluster not ok after %v: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// notOK says why the cluster is not ok yet, or "".
func (c *Cluster) notOK() string {
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		cl := nodeClient(n.addr())
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := cl.ClusterInfo(ctx).Result()
		cancel()
		_ = cl.Close()
		if err != nil {
			return n.addr() + ": " + err.Error()
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
			return n.addr() + " reports " + strings.Join(strings.Fields(info)[:3], " ")
		}
	}
	return ""
}

// Reshard moves n slots from the master with ID from to the master with ID
// to, keys included, with redis-cli --cluster reshard, and returns when it
// is done.
func (c *Cluster) Reshard(tb testing.TB, from, to string, n int) {
	tb.Helper()
	var entry string
	for _, node := range c.nodes {
		if node.running() {
			entry = node.addr()
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.cli, "--cluster", "reshard", entry,
		"--cluster-from", from, "--cluster-to", to, "--cluster-slots", strconv.Itoa(n),
		"--cluster-yes")
	if out, err := cmd.CombinedOutput(); err != nil {
		tail := string(out)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		tb.Fatalf("redistest: redis-cli --cluster reshard: %v\n%s", err, tail)
	}
}

// Admin returns a plain client of the node at addr, for admin commands
// (CLUSTER SETSLOT, MIGRATE ...), closed when tb ends.
func (c *Cluster) Admin(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	cl := nodeClient(addr)
	tb.Cleanup(func() { _ = cl.Close() })
	return cl
}

// Restart starts the killed node at addr again, with its cluster config:
// it rejoins the cluster, as a replica of the master that took over its
// slots. Restart returns once that master counts it as an online replica.
func (c *Cluster) Restart(tb testing.TB, addr string) {
	tb.Helper()
	for _, n := range c.nodes {
		if n.addr() != addr {
			continue
		}
		if n.running() {
			return
		}
		if err := n.start(c.bin); err != nil {
			tb.Fatalf("redistest: restart: %v", err)
		}
		cl := nodeClient(addr)
		defer cl.Close()
		for deadline := time.Now().Add(clusterTimeout); ; time.Sleep(20 * time.Millisecond) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := cl.Info(ctx, "replication").Result()
			cancel()
			if err == nil && strings.Contains(info, "master_link_status:up") {
				if host, port := infoField(info, "master_host"), infoField(info, "master_port"); host != "" {
					m := nodeClient(net.JoinHostPort(host, port))
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					minfo, _ := m.Info(ctx, "replication").Result()
					cancel()
					_ = m.Close()
					if strings.Contains(minfo, "port="+strconv.Itoa(n.port)+",state=online") {
						return
					}
				}
			}
			if time.Now().After(deadline) {
				tb.Fatalf("redistest: %s did not rejoin as an online replica within %v: %v %s", addr, clusterTimeout, err, info)
			}
		}
	}
	tb.Fatalf("redistest: no node at %s", addr)
}

// infoField returns the value of name in an INFO reply, or "".
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}
