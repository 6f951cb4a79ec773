//go:build unix

package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// NPMInstall installs the packages of src's package.json and
// package-lock.json with npm ci into the user cache directory, once per
// machine and pair of files, and returns that directory. npm's own cache is
// kept beside it and preferred to the registry, so a machine that installed
// once can install again offline.
//
// The install goes into a fresh directory that is renamed into place only
// when ok accepts it, so a half-done install (or a concurrent one) is never
// used; ok also tells whether an earlier install is complete. name starts
// the directory's name. A missing npm or a failed npm ci ends tb with
// SkipOrFail; the install is bounded by limit.
func NPMInstall(tb testing.TB, src, name string, limit time.Duration, ok func(dir string) bool) string {
	tb.Helper()
	pkgJSON, err := os.ReadFile(filepath.Join(src, "package.json"))
	if err != nil {
		tb.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		tb.Fatalf("%v (generate it with npm install --package-lock-only in %s)", err, src)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	parent := filepath.Join(cache, "ginauth-test")
	sum := sha256.Sum256(append(append(pkgJSON, 0), lock...))
	dir := filepath.Join(parent, name+"-"+hex.EncodeToString(sum[:6]))
	if ok(dir) {
		return dir
	}
	npm := LookPath(tb, "npm", "installing "+src+" needs Node.js 20 or later with npm")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		tb.Fatal(err)
	}
	tmp, err := os.MkdirTemp(parent, name+".tmp-")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	for file, data := range map[string][]byte{"package.json": pkgJSON, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, file), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Logf("installing %s into %s (npm ci)", src, dir)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	// npm ci installs exactly the lock file's packages, checked against its
	// integrity hashes, and fails if package.json and the lock disagree.
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--omit=dev",
		"--ignore-scripts", "--loglevel=error", "--prefer-offline",
		"--cache", filepath.Join(parent, "npm-cache"))
	cmd.Dir = tmp
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		if len(out) > 2000 {
			out = out[len(out)-2000:]
		}
		SkipOrFail(tb, fmt.Sprintf("npm ci of %s failed (no registry access, and not in npm's cache?): %v\n%s", src, err, out))
	}
	if !ok(tmp) {
		tb.Fatalf("npm ci of %s did not install what was expected", src)
	}
	if err := os.Rename(tmp, dir); err != nil && !ok(dir) { // not a concurrent install that won
		_ = os.RemoveAll(dir)
		if err := os.Rename(tmp, dir); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}
