package browser_test

import (
	"context"
	"fmt"
	"log"

	"github.com/chromedp/chromedp"

	"github.com/plezigo/plezi/internal/browser"
)

// Launch a browser, open a page in a second tab and evaluate a promise in it.
// (No Output comment: the example needs a server to point the tab at.)
func ExampleLaunch() {
	ctx, cancel, err := browser.Launch(context.Background())
	if err != nil {
		log.Fatal(err) // in a test: t.Fatal, never t.Skip
	}
	defer cancel() // closes Chromium and removes its temporary profile

	tab, closeTab, err := browser.Open(ctx, "http://127.0.0.1:3000/")
	if err != nil {
		log.Fatal(err)
	}
	defer closeTab()
	n, err := browser.Eval[int](tab, `new Promise(r => setTimeout(() => r(42), 10))`)
	fmt.Println(n, err)

	title, err := chromedp.Run(tab, chromedp.Title())
	fmt.Println(title, err)
}
