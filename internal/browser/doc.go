// Package browser starts a headless Chromium for the project's browser tests.
//
// The tests of the JavaScript client drive a real browser over the Chrome
// DevTools protocol with github.com/chromedp/chromedp. Launch finds the
// Debian "chromium" binary, starts it headless with a fresh temporary
// profile, and hands back a chromedp context for its first tab:
//
//	ctx, cancel, err := browser.Launch(context.Background())
//	if err != nil {
//		t.Fatal(err) // a missing browser fails the test; it never skips
//	}
//	defer cancel() // closes the browser, waits for it, removes the profile
//	title, err := chromedp.Run(ctx, chromedp.Title())
//
// More tabs of the same browser come from chromedp.NewContext(ctx); they
// share the profile, so they share cookies and localStorage, as tabs do.
//
// scripts/test.sh installs the "chromium" package when /usr/bin/chromium is
// missing.
package browser
