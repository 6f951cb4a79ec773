//go:build unix

// Package a11ytest renders pages in headless Chromium, checks them with
// axe-core and saves their screenshots: the accessibility test of
// ginauth's built-in pages and of the example's pages.
//
// Chromium is Debian's chromium package; axe-core is installed with npm ci
// from testdata/axe/package-lock.json into the user cache directory (once
// per machine and lock file). Without either, a test skips, or fails with
// CI set (internal/testenv).
//
// Tests only: nothing outside _test.go files imports it.
package a11ytest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/ginauth/ginauth/internal/testenv"
)

const (
	browserLimit = 5 * time.Minute  // the whole browser session
	stepLimit    = 20 * time.Second // one page in one viewport and scheme
	installLimit = 3 * time.Minute  // npm ci
)

// Viewport is a window size the pages are checked at.
type Viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

// Viewports: a desktop window and a phone.
var Viewports = []Viewport{
	{Name: "1280", Width: 1280, Height: 800},
	{Name: "375", Width: 375, Height: 740, Mobile: true},
}

// Schemes are the emulated prefers-color-scheme values.
var Schemes = []string{"light", "dark"}

// Browser is a headless Chromium with axe-core at hand.
type Browser struct {
	t         *testing.T
	ctx       context.Context
	axe       string
	artifacts string
}

// Start starts Chromium for t (stopped by t's cleanup) and loads axe-core.
func Start(t *testing.T) *Browser {
	t.Helper()
	path := chromium(t)
	axe := installAxe(t)
	profile := t.TempDir()
	testCtx, cancelTest := context.WithTimeout(context.Background(), browserLimit)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(testCtx,
		append(ChromiumOptions(path, profile), chromedp.Flag("hide-scrollbars", true))...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		cancelTest()
	})
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return &Browser{t: t, ctx: tabCtx, axe: axe, artifacts: Artifacts(t)}
}

// Check opens url in every viewport and color scheme, runs axe-core and
// reports each violation of impact serious or critical as an error of t,
// and saves a full-page screenshot as <artifacts>/<name>-<width>-<scheme>.png.
// ready, when not empty, is a JavaScript expression the page must make
// true before it is checked (for pages that script themselves).
func (b *Browser) Check(t *testing.T, name, url, ready string) {
	t.Helper()
	for _, vp := range Viewports {
		for _, scheme := range Schemes {
			b.check(t, name, url, ready, vp, scheme)
		}
	}
}

func (b *Browser) check(t *testing.T, name, url, ready string, vp Viewport, scheme string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepLimit)
	defer cancel()
	what := fmt.Sprintf("%s at %s px, %s", name, vp.Name, scheme)
	var opts []chromedp.EmulateViewportOption
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.Width, vp.Height, opts...)); err != nil {
		t.Fatalf("%s: viewport: %v", what, err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		t.Fatalf("%s: color scheme: %v", what, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: open %s: %v", what, url, err)
	}
	if ready != "" {
		if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](ready)); err != nil {
			t.Fatalf("%s: waiting for %s: %v", what, ready, err)
		}
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.matchMedia("(prefers-color-scheme: `+scheme+`)").matches ? "yes" : "no"`))
	if err != nil || got != "yes" {
		t.Fatalf("%s: the page does not see prefers-color-scheme %s (%q, %v)", what, scheme, got, err)
	}
	// Runtime.evaluate is no script of the page: the page's CSP does not
	// apply to it, so the pages need not allow anything for the check.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
		t.Fatalf("%s: loading axe-core: %v", what, err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", what, err)
	}
	var violations []struct {
		ID, Impact, Help string
		Nodes            []struct {
			Target         []any  `json:"target"`
			FailureSummary string `json:"failureSummary"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		t.Fatalf("%s: axe result %q: %v", what, out, err)
	}
	for _, v := range violations {
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, fmt.Sprintf("%v: %s", n.Target, strings.ReplaceAll(n.FailureSummary, "\n", " ")))
		}
		msg := fmt.Sprintf("%s: axe %s (%s): %s\n\t%s", what, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n\t"))
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", what, err)
	}
	file := filepath.Join(b.artifacts, fmt.Sprintf("%s-%s-%s.png", name, vp.Name, scheme))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Artifacts returns the directory the screenshots go to, made if needed:
// $GINAUTH_ARTIFACTS, or testdata/artifacts at the module's root (ignored
// by git). It logs the path.
func Artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GINAUTH_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(moduleRoot(t), "testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	t.Logf("screenshots in %s", abs)
	fmt.Fprintf(os.Stderr, "a11ytest: screenshots of %s in %s\n", t.Name(), abs)
	return abs
}

// moduleRoot is the directory of go.mod, above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// chromium returns Chromium's executable, or skips (fails with CI) t.
func chromium(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return "/usr/bin/chromium"
	}
	return testenv.LookPath(t, "chromium", "the page accessibility test needs Debian's chromium package, which .ci/run installs")
}

var axeInstall struct {
	sync.Mutex
	src string
}

// installAxe installs testdata/axe's lock file with npm ci into the user
// cache directory, once per machine and lock file (npm's own cache beside
// it, preferred to the registry), and returns axe.min.js.
func installAxe(t *testing.T) string {
	t.Helper()
	axeInstall.Lock()
	defer axeInstall.Unlock()
	if axeInstall.src != "" {
		return axeInstall.src
	}
	script := filepath.Join("node_modules", "axe-core", "axe.min.js")
	dir := testenv.NPMInstall(t, filepath.Join(moduleRoot(t), "testdata", "axe"), "axe", installLimit, func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, script))
		return err == nil
	})
	js, err := os.ReadFile(filepath.Join(dir, script))
	if err != nil {
		t.Fatal(err)
	}
	axeInstall.src = string(js)
	return axeInstall.src
}

// Do runs steps in the browser's tab (to sign in between checks, say),
// within the time of one check, at the desktop viewport.
func (b *Browser) Do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepLimit)
	defer cancel()
	vp := Viewports[0]
	steps = append([]chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(vp.Width, vp.Height)}, steps...)
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
