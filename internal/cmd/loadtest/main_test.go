package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"testing"

	"github.com/ginauth/ginauth/internal/testenv"
)

// TestSmoke runs a very short measurement of both stores: it builds and
// starts the example, signs in over HTTP, and drives both routes without a
// failed request. It checks the tool works, not the figures.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the example")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.SkipOrFail(t, "redis-server is not on PATH (apt-get install redis-server)")
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"-slices", "2", "-slice", "150ms", "-warmup", "0", "-conns", "2"}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, store := range []string{"cookie", "redis"} {
		re := regexp.MustCompile(`(?m)^` + store + ` +public /healthz +[0-9]+ req/s +protected /api/me +[0-9]+ req/s +ratio [0-9.]+ +errors 0 `)
		if !re.MatchString(out.String()) {
			t.Errorf("no %s result line with 0 errors in:\n%s", store, out.String())
		}
	}
}

// TestFlags checks that a bad -store or -env is refused before any work.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-store", "memcached"}, {"-env", "NOEQUALS"}} {
		if err := run(context.Background(), args, &bytes.Buffer{}); err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}
