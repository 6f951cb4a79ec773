// Package testenv decides, in one place, what a test does when something
// outside the Go toolchain that it needs is missing: an external binary
// (redis-server, chromium, node, npm) or a package registry.
//
// The rule is the same for every test of the repository:
//
//   - with the environment variable CI unset (or empty), the test skips, and
//     says what is missing and how to get it;
//   - with CI set to any non-empty value, as .ci/run does, the test fails
//     with the same message, so that a machine missing a dependency cannot
//     pass by skipping.
//
// Tests only: nothing outside _test.go files and test helpers imports it.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the environment variable CI is set to a non-empty
// value: then missing dependencies are failures, not skips.
func CI() bool { return os.Getenv("CI") != "" }

// SkipOrFail ends tb because something it needs is missing: it skips tb
// when CI is unset and fails it when CI is set. msg says what is missing and
// how to install it.
func SkipOrFail(tb testing.TB, msg string) {
	tb.Helper()
	if CI() {
		tb.Fatal(msg + "; CI is set, so this is a failure, not a skip")
		return // tb.Fatal does not return, except in tests of this package
	}
	tb.Skip(msg + "; skipping (set CI=1 to make this a failure)")
}

// LookPath returns the path of the executable named file on PATH. When
// there is none it calls SkipOrFail with a message naming file and hint (how
// to install it), and returns "".
func LookPath(tb testing.TB, file, hint string) string {
	tb.Helper()
	p, err := exec.LookPath(file)
	if err == nil {
		return p
	}
	msg := file + " not found on PATH"
	if hint != "" {
		msg += ": " + hint
	}
	SkipOrFail(tb, msg)
	return ""
}
