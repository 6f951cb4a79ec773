package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginauth/ginauth/internal/redistest"
	"github.com/ginauth/ginauth/internal/testenv"
)

// The test of GINAUTH_REVOCATION_REDIS_URL: two processes of the
// example binary, built with go build, on one real redis-server, with the
// cookie store and the same secret. A cookie captured on A is refused on B
// within the bound once signed out on A; also after B restarts, and after
// Redis restarts.

// revocationBound is the delay within which a sign-out on A must be
// refused on B (measured delays are a few milliseconds; see the log).
const revocationBound = time.Second

// process is one running example binary.
type process struct {
	t    *testing.T
	bin  string
	env  []string
	addr string
	base string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs *syncBuffer
}

// buildExample builds the example binary into a temporary directory.
func buildExample(t *testing.T) string {
	t.Helper()
	goBin := testenv.LookPath(t, "go", "the Go toolchain builds the example binary")
	bin := filepath.Join(t.TempDir(), "example")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// baseEnv is the test process's environment without any of the example's
// variables.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GINAUTH_") || strings.HasPrefix(name, "OIDC_") || strings.HasPrefix(name, "GOOGLE_") ||
			strings.HasPrefix(name, "GITHUB_") || strings.HasPrefix(name, "MICROSOFT_") || name == "GIN_MODE" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startProcess runs bin with the variables vars on addr and waits until it
// answers /healthz; the test's cleanup stops it.
func startProcess(t *testing.T, bin string, vars map[string]string) *process {
	t.Helper()
	p := &process{t: t, bin: bin, env: baseEnv()}
	for k, v := range vars {
		p.env = append(p.env, k+"="+v)
	}
	p.start()
	t.Cleanup(p.stop)
	return p
}

// start starts the process on a free address (again on another one when
// something else took the address first) and waits until it answers.
func (p *process) start() {
	p.t.Helper()
	for try := 1; ; try++ {
		p.addr = freeAddr(p.t)
		p.base = "http://" + p.addr
		err := p.startOn()
		if err == nil {
			return
		}
		if try == 3 {
			p.t.Fatal(err)
		}
	}
}

func (p *process) startOn() error {
	p.t.Helper()
	p.logs = &syncBuffer{}
	cmd := exec.Command(p.bin)
	cmd.Env = append(append([]string(nil), p.env...), "GINAUTH_ADDR="+p.addr)
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			p.mu.Lock()
			p.cmd = nil
			p.mu.Unlock()
			return fmt.Errorf("the example exited at start:\n%s", p.logs.String())
		default:
		}
		if resp, err := client.Get(p.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the example did not answer /healthz:\n%s", p.logs.String())
		}
	}
}

// stop ends the process by its PID: an interrupt (a graceful shutdown),
// then a kill.
func (p *process) stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		_ = cmd.Process.Kill()
	}
	select {
	case <-done:
		return
	case <-time.After(10 * time.Second):
	}
	_ = cmd.Process.Kill()
	<-done
}

// restart stops the process and starts it again (on a new address: the
// instances share A's public URL, so B's own address does not matter).
func (p *process) restart() {
	p.t.Helper()
	p.stop()
	p.start()
}

// meOn is /api/me's status on base with a copy of the cookies of b.
func meOn(t *testing.T, base string, b *browser) int {
	t.Helper()
	u, _ := url.Parse(base)
	c := newBrowser(t, base)
	c.c.Jar.SetCookies(u, b.c.Jar.Cookies(u))
	resp, _ := c.get("/api/me")
	return resp.StatusCode
}

// waitMe polls /api/me on base with b's cookies until it answers want, and
// returns how long that took; it fails after d.
func waitMe(t *testing.T, base string, b *browser, want int, d time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		got := meOn(t, base, b)
		if got == want {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: /api/me = %d after %v; want %d", what, got, d, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// signOut signs b out through the home page's form.
func signOut(t *testing.T, b *browser) {
	t.Helper()
	_, home := b.get("/")
	f := findForm(t, home, "/auth/signout", "Sign out")
	resp, page := b.post(f.action, f.fields)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "You are signed out") {
		t.Fatalf("sign-out ended with %d at %s", resp.StatusCode, resp.Request.URL)
	}
}

func TestRevocationsTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example binary")
	}
	srv := redistest.Start(t)
	began := time.Now()
	bin := buildExample(t)
	t.Logf("go build: %v", time.Since(began))

	vars := map[string]string{"GINAUTH_SECRET": testSecret, "GINAUTH_REVOCATION_REDIS_URL": srv.URL()}
	a := startProcess(t, bin, vars)
	baseA := a.base
	// B serves the same public URL (behind one load balancer), hence A's
	// development provider (see TestEndToEndRedis).
	varsB := map[string]string{"GINAUTH_URL": baseA}
	for k, v := range vars {
		varsB[k] = v
	}
	b := startProcess(t, bin, varsB)
	if !strings.Contains(a.logs.String(), `store="cookie, revocations shared via redis `+srv.URL()+`"`) {
		t.Errorf("A's start-up log does not name the revocation Redis:\n%s", a.logs.String())
	}

	var delays []time.Duration
	// signOutAndWait signs who out on A and waits until B refuses the
	// copied cookie.
	signOutAndWait := func(who *browser, what string) {
		t.Helper()
		if got := meOn(t, b.base, who); got != http.StatusOK {
			t.Fatalf("%s: B refuses the session before the sign-out (%d)", what, got)
		}
		copied := newBrowser(t, b.base)
		u, _ := url.Parse(baseA)
		copied.c.Jar.SetCookies(u, who.c.Jar.Cookies(u))
		signOut(t, who)
		delays = append(delays, waitMe(t, b.base, copied, http.StatusUnauthorized, revocationBound, what))
		who.c.Jar.SetCookies(u, copied.c.Jar.Cookies(u)) // keep the captured cookie for later checks
	}

	alice := newBrowser(t, baseA)
	alice.signInWithLink("alice")
	signOutAndWait(alice, "sign-out on A, refused on B")

	// B restarted: it loads the revocation from Redis before serving a
	// session (fail closed until then: 503, never 200).
	bob := newBrowser(t, baseA)
	bob.signInWithLink("bob")
	b.restart()
	waitMe(t, b.base, bob, http.StatusOK, 5*time.Second, "B in step after its restart")
	if got := meOn(t, b.base, alice); got != http.StatusUnauthorized {
		t.Errorf("B after its restart: alice's signed-out cookie = %d; want 401", got)
	}
	signOutAndWait(bob, "sign-out on A after B's restart, refused on B")

	// Redis restarted (empty: no persistence). Both instances re-sync and
	// publish their lists again; revocations hold on both, a sign-out made
	// now reaches B, and B restarted once more still refuses them all.
	carol := newBrowser(t, baseA)
	carol.signInWithLink("carol")
	srv.Stop(t)
	waitMe(t, b.base, carol, http.StatusServiceUnavailable, revocationBound, "B with Redis down (fail closed)")
	srv.Start(t)
	waitMe(t, b.base, carol, http.StatusOK, 5*time.Second, "B in step after Redis's restart")
	waitMe(t, baseA, carol, http.StatusOK, 5*time.Second, "A in step after Redis's restart")
	for _, who := range []*browser{alice, bob} {
		for _, base := range []string{baseA, b.base} {
			if got := meOn(t, base, who); got != http.StatusUnauthorized {
				t.Errorf("after Redis's restart: a signed-out cookie on %s = %d; want 401", base, got)
			}
		}
	}
	signOutAndWait(carol, "sign-out on A after Redis's restart, refused on B")
	b.restart()
	dave := newBrowser(t, baseA)
	dave.signInWithLink("alice") // a new session of alice's
	waitMe(t, b.base, dave, http.StatusOK, 5*time.Second, "B in step after its second restart")
	for i, who := range []*browser{alice, bob, carol} {
		if got := meOn(t, b.base, who); got != http.StatusUnauthorized {
			t.Errorf("B restarted after Redis's restart: signed-out cookie %d = %d; want 401", i, got)
		}
	}

	slices.Sort(delays)
	t.Logf("sign-out on A -> refused on B over HTTP (2 ms polling): %v; whole test %v", delays, time.Since(began))
	for _, p := range []*process{a, b} {
		if s := p.logs.String(); strings.Contains(s, "panic") {
			t.Errorf("a panic was logged on %s:\n%s", p.base, s)
		}
	}
}
