package redistest

import (
	"strings"
	"testing"
)

// recorder records Skip and Fatal instead of ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()              {}
func (r *recorder) Skip(args ...any)     { r.skipped = args[0].(string) }
func (r *recorder) Fatal(args ...any)    { r.failed = args[0].(string) }
func (r *recorder) Skipf(string, ...any) { panic("unexpected Skipf") }

func TestMissingBinary(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	if available(r, "") || r.skipped == "" || r.failed != "" {
		t.Errorf("CI unset: skipped %q, failed %q; want a skip", r.skipped, r.failed)
	}
	if !strings.Contains(r.skipped, "redis-server not found") || !strings.Contains(r.skipped, "apt-get install redis-server") {
		t.Errorf("skip message is not clear: %q", r.skipped)
	}
	t.Setenv("CI", "1")
	r = &recorder{TB: t}
	if available(r, "") || r.failed == "" || r.skipped != "" {
		t.Errorf("CI set: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
	r = &recorder{TB: t}
	if !available(r, "/usr/bin/redis-server") || r.failed != "" || r.skipped != "" {
		t.Error("a binary is there: want no skip and no failure")
	}
}
