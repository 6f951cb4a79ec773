package a11ytest

import "github.com/chromedp/chromedp"

// (No build constraint: the example's browser tests, built everywhere, use
// these options too.)

// ChromiumOptions are the allocator options every browser test uses:
// headless, no sandbox (CI containers run as root), and nothing that talks
// to the network on its own (QUIC, background networking, component
// updates, sync), with a fresh profile in userDataDir.
func ChromiumOptions(path, userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(userDataDir),
	}
}
