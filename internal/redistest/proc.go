package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// proc is one redis-server process, started with fixed arguments.
type proc struct {
	port int
	dir  string
	args func(port int) ([]string, error) // command line, for a port

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

func (p *proc) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

func (p *proc) start(bin string) error {
	logPath := filepath.Join(p.dir, "redis.log")
	args, err := p.args(p.port)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = p.dir
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	for deadline := time.Now().Add(readyTimeout); ; time.Sleep(10 * time.Millisecond) {
		select {
		case <-exited:
			p.mu.Lock()
			p.cmd = nil
			p.mu.Unlock()
			return fmt.Errorf("redis-server on port %d exited at start:\n%s", p.port, tail(logPath))
		default:
		}
		if ping(p.addr()) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("redis-server on port %d did not answer PING within %v:\n%s", p.port, readyTimeout, tail(logPath))
		}
	}
}

// running reports whether the process is up.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// kill sends SIGKILL to the process (its group) and waits for it to exit.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	kill(cmd)
	select {
	case <-exited:
	case <-time.After(termTimeout):
		fmt.Fprintf(os.Stderr, "redistest: redis-server (pid %d) did not exit after SIGKILL\n", cmd.Process.Pid)
	}
}

// stop ends the process by its PID: SIGTERM, then SIGKILL to its process
// group if it has not exited after termTimeout (on systems without signals,
// a plain kill).
func (p *proc) stop() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pid := cmd.Process.Pid
	terminate(cmd)
	select {
	case <-exited:
		return nil
	case <-time.After(termTimeout):
	}
	kill(cmd)
	select {
	case <-exited:
		return nil
	case <-time.After(termTimeout):
		return fmt.Errorf("redis-server (pid %d) did not exit after SIGKILL", pid)
	}
}
