// Package loadkit starts the example app and a redis-server as processes and
// drives the app over HTTP like a browser would, for the load and soak
// commands (internal/cmd/loadtest, internal/cmd/soak). It is not used by the
// library.
package loadkit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is a started process, stopped by Stop.
type Proc struct {
	cmd  *exec.Cmd
	done chan error
	Addr string // the address it listens on
}

// Stop ends the process (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (p *Proc) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return true
	default:
		return false
	}
}

func start(cmd *exec.Cmd, addr string) (*Proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, done: make(chan error, 1), Addr: addr}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// FreeAddr returns a loopback address with a port that was free just now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ModuleRoot is the directory of the go.mod of the current directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the ginauth module: run from its checkout")
	}
	return filepath.Dir(mod), nil
}

// BuildExample builds ./example of the module into dir and returns the
// binary's path.
func BuildExample(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "example")
	cmd := exec.Command("go", "build", "-o", bin, "./example")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./example: %w\n%s", err, out)
	}
	return bin, nil
}

// StartRedis starts a redis-server without persistence on a free loopback
// port, working in dir, and waits until it accepts connections.
func StartRedis(dir string) (*Proc, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	p, err := start(cmd, addr)
	if err != nil {
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	if err := waitTCP(addr, 10*time.Second); err != nil {
		p.Stop()
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	return p, nil
}

// ExampleOptions configure one example process.
type ExampleOptions struct {
	Bin     string            // from BuildExample
	Env     map[string]string // GINAUTH_* variables; GINAUTH_ADDR and GINAUTH_DEBUG_ADDR are set here
	LogPath string            // where its log goes ("": discarded)
}

// Example is a running example app.
type Example struct {
	*Proc
	URL   string // http://<addr>
	Debug string // http://<debug addr>
}

// StartExample starts the example with its debug listener on and waits until
// /healthz answers.
func StartExample(o ExampleOptions) (*Example, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	debug, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.Bin)
	cmd.Env = append(os.Environ(), "GINAUTH_ADDR="+addr, "GINAUTH_DEBUG_ADDR="+debug)
	for k, v := range o.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if o.LogPath != "" {
		f, err := os.Create(o.LogPath)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child keeps its own descriptor
		cmd.Stdout, cmd.Stderr = f, f
	}
	p, err := start(cmd, addr)
	if err != nil {
		return nil, fmt.Errorf("example: %w", err)
	}
	e := &Example{Proc: p, URL: "http://" + addr, Debug: "http://" + debug}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(e.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		if p.Exited() {
			return nil, fmt.Errorf("example exited at start (log: %s)", o.LogPath)
		}
		select {
		case <-ctx.Done():
			p.Stop()
			return nil, errors.New("example: /healthz did not answer 200 within 20 s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitTCP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting connections: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RedisURL is the redis:// URL of a redis-server Proc.
func RedisURL(p *Proc) string { return "redis://" + p.Addr + "/0" }

// itoa is strconv.Itoa, kept short.
func itoa(n int) string { return strconv.Itoa(n) }

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ), 100 on
// every Linux platform Go supports.
const clockTicks = 100

// CPU returns the process's CPU time so far (user and system), read from
// /proc (Linux only).
func (p *Proc) CPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("process CPU time: %w", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// fields 14 and 15 (utime, stime) count from after its ')'.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, errors.New("process CPU time: unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("process CPU time: unexpected /proc stat format")
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
