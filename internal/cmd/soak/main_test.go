package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"testing"

	"github.com/ginauth/ginauth/internal/testenv"
)

// TestSmoke runs a few seconds of the soak: two instances on one
// redis-server, every kind of operation at least once, no error.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts two examples and a redis-server")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.SkipOrFail(t, "redis-server is not on PATH (apt-get install redis-server)")
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"-duration", "4s", "-workers", "1", "-journey", "1s", "-token-ttl", "61s"}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, kind := range []string{"sign-in", "protected", "token", "sign-out", "ended", "back-channel"} {
		re := regexp.MustCompile(`(?m)^  ` + kind + ` +[1-9][0-9]* +0 `)
		if !re.MatchString(out.String()) {
			t.Errorf("no %s line with a count and 0 errors in:\n%s", kind, out.String())
		}
	}
	for _, label := range []string{"start", "end"} {
		if !regexp.MustCompile(`(?m)^  ` + label + ` +A: heap`).MatchString(out.String()) {
			t.Errorf("no %s figures in:\n%s", label, out.String())
		}
	}
}
