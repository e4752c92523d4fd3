package browser

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is where the Debian package "chromium" installs the browser.
const Path = "/usr/bin/chromium"

// EnvPath names an environment variable that, when set, replaces Path.
const EnvPath = "PL_CHROMIUM"

// closeTimeout bounds the graceful Browser.close before the process is killed.
const closeTimeout = 5 * time.Second

// Flags are the command-line switches (without "--") that Launch adds to
// chromedp's headless defaults. They keep the browser quiet on a machine
// with loopback only: no sandbox (tests run as root in containers), no GPU,
// no QUIC, and no background traffic to Google.
var Flags = []string{
	"no-sandbox",
	"disable-gpu",
	"disable-quic",
	"disable-background-networking",
	"disable-component-update",
	"disable-sync",
	"no-first-run",
}

// Find returns the Chromium binary to run: $PL_CHROMIUM when set, else Path.
// It returns an error wrapping ErrNotFound when that file is missing or is
// not an executable regular file. Safe for concurrent use.
func Find() (string, error) {
	p := Path
	if v := os.Getenv(EnvPath); v != "" {
		p = v
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%w: %s is not an executable file", ErrNotFound, p)
	}
	return p, nil
}

// Options returns the chromedp allocator options Launch uses for the binary
// at path: chromedp's headless defaults plus Flags. The slice is new on each
// call, so the caller may append to it.
func Options(path string) []chromedp.ExecAllocatorOption {
	opts := append([]chromedp.ExecAllocatorOption(nil), chromedp.DefaultExecAllocatorOptions[:]...)
	opts = append(opts, chromedp.ExecPath(path))
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	return opts
}

// Launch starts a headless Chromium with a fresh temporary user-data
// directory and returns the chromedp context of its first tab. The browser
// is running when Launch returns; a missing binary or a browser that does
// not start is an error (tests must fail on it, never skip).
//
// cancel closes the browser (gracefully, then by kill after a few seconds),
// waits until its process has exited, kills any child process left behind
// and removes the user-data directory. It is idempotent and safe to call
// from any goroutine. Ending the parent ctx stops the browser too, but only
// cancel waits for the clean-up.
//
// The returned ctx may be used from one goroutine at a time; open more tabs
// with chromedp.NewContext(ctx), one per goroutine.
func Launch(parent context.Context) (ctx context.Context, cancel context.CancelFunc, err error) {
	path, err := Find()
	if err != nil {
		return nil, nil, err
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(parent, Options(path)...)
	tabCtx, tabCancel := chromedp.NewContext(allocCtx)
	cancel = closer(tabCtx, tabCancel, allocCancel)
	if err := chromedp.Do(tabCtx); err != nil { // starts the browser
		cancel()
		return nil, nil, fmt.Errorf("browser: start %s: %w", path, err)
	}
	return tabCtx, cancel, nil
}

// closer builds Launch's cancel func: a graceful close bounded by
// closeTimeout, then the allocator's cancel, which kills what is left,
// waits for the process and removes the temporary profile.
func closer(tabCtx context.Context, tabCancel, allocCancel context.CancelFunc) context.CancelFunc {
	var once sync.Once
	return func() {
		once.Do(func() {
			cctx, stop := context.WithTimeout(tabCtx, closeTimeout)
			_ = chromedp.Cancel(cctx) // best effort; the kill below is not
			stop()
			tabCancel()
			allocCancel()
		})
	}
}
