//go:build unix

package main

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ginauth/ginauth/internal/a11ytest"
)

// TestPagesAccessibility renders the example's pages, and ginauth's pages
// in the example's layout, in Chromium at 1280 and 375 px wide, in the
// light and dark color schemes, checks each with axe-core (no serious or
// critical violation) and saves screenshots (internal/a11ytest:
// $GINAUTH_ARTIFACTS or testdata/artifacts at the module's root).
func TestPagesAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	base, _ := startApp(t, nil)
	b := a11ytest.Start(t)
	const signedOut = `document.querySelector('#js-session[data-state="signed-out"]') !== null`
	const signedIn = `document.querySelector('#js-session[data-state="signed-in"]') !== null`

	b.Check(t, "example-home-signed-out", base+"/", signedOut)
	b.Check(t, "example-signin", base+"/auth/signin", "")
	b.Check(t, "example-signin-error", base+"/auth/signin?error=invalid_state", "")
	b.Check(t, "example-error", base+"/auth/callback/nope", "")

	signIn := func(user string) {
		b.Do(t, "sign in as "+user,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/auth/signin/dev"] button`)),
			chromedp.Click(chromedp.CSS(`form[action="/auth/signin/dev"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`button[name="user"][value="`+user+`"]`)),
			chromedp.Click(chromedp.CSS(`button[name="user"][value="`+user+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#js-session[data-state="signed-in"]`)),
		)
	}
	signIn("alice")
	b.Check(t, "example-home-signed-in", base+"/", signedIn)
	b.Check(t, "example-me", base+"/me", "")
	b.Check(t, "example-admin", base+"/admin", "")
	b.Check(t, "example-signout", base+"/auth/signout", "")

	b.Do(t, "sign out",
		chromedp.Navigate(base+"/auth/signout"),
		chromedp.WaitVisible(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#js-session[data-state="signed-out"]`)),
	)
	signIn("bob")
	b.Check(t, "example-forbidden", base+"/admin", "")
}
