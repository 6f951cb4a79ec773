package testenv

import (
	"strings"
	"testing"
)

// recorder records Skip and Fatal instead of ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped = args[0].(string) }
func (r *recorder) Fatal(args ...any) { r.failed = args[0].(string) }

func TestSkipOrFail(t *testing.T) {
	for _, tc := range []struct {
		ci       string
		wantSkip bool
	}{
		{ci: "", wantSkip: true},
		{ci: "1", wantSkip: false},
		{ci: "true", wantSkip: false},
	} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		SkipOrFail(r, "thing not found: install it")
		got := r.skipped
		if !tc.wantSkip {
			got = r.failed
		}
		if got == "" || (r.skipped != "") == (r.failed != "") {
			t.Errorf("CI=%q: skipped %q, failed %q; want only a %s", tc.ci, r.skipped, r.failed,
				map[bool]string{true: "skip", false: "failure"}[tc.wantSkip])
			continue
		}
		if !strings.HasPrefix(got, "thing not found: install it; ") {
			t.Errorf("CI=%q: message %q does not start with the caller's", tc.ci, got)
		}
		if tc.wantSkip && !strings.Contains(got, "set CI=1") {
			t.Errorf("skip message %q does not say how to make it a failure", got)
		}
		if !tc.wantSkip && !strings.Contains(got, "CI is set") {
			t.Errorf("failure message %q does not say why it is not a skip", got)
		}
	}
}

func TestLookPath(t *testing.T) {
	t.Setenv("CI", "1")
	t.Setenv("PATH", t.TempDir())
	r := &recorder{TB: t}
	if p := LookPath(r, "no-such-binary-ginauth", "Debian: apt-get install it"); p != "" {
		t.Fatalf("LookPath = %q for a missing binary", p)
	}
	if !strings.Contains(r.failed, "no-such-binary-ginauth not found on PATH: Debian: apt-get install it") {
		t.Errorf("failure message %q", r.failed)
	}
}
