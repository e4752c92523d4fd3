package browser

import (
	"context"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"
)

// EvalTimeout bounds one Eval, promise included.
const EvalTimeout = 15 * time.Second

// Helpers is JavaScript that Open installs as window.T in each page, so
// tests wait inside the browser instead of sleeping:
//
//	T.log                 an array tests may push to
//	T.until(pred, ms)     a promise of pred()'s first truthy value, polled
//	                      every 5 ms; rejects after ms (default 10000)
//	T.settle(promise)     resolves to {ok:true, data} or to
//	                      {ok:false, status, code, message} (a rejection)
//	T.opened(client)      resolves when a Plezi client is open
//	T.closed(client)      resolves with {code, reason, state} at its next close
//	T.event(client, name) resolves with the args array of the next event
const Helpers = `window.T = {
  log: [],
  until(pred, ms = 10000) {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      (function tick() {
        let v;
        try { v = pred(); } catch (e) { reject(e); return; }
        if (v) { resolve(v); return; }
        if (Date.now() - t0 > ms) { reject(new Error('timed out waiting for ' + pred)); return; }
        setTimeout(tick, 5);
      })();
    });
  },
  settle(p) {
    return p.then(d => ({ok: true, data: d}), e => ({ok: false, status: e.status, code: e.code, message: e.message}));
  },
  opened(c) { return new Promise(r => c.state === 'open' ? r() : c.on('open', r)); },
  closed(c) { return new Promise(r => c.on('close', (code, reason) => r({code, reason, state: c.state}))); },
  event(c, name) {
    return new Promise(r => { const f = (...args) => { c.off(name, f); r(args); }; c.on(name, f); });
  },
};`

// Open opens a new tab of the browser behind ctx (a context from Launch),
// loads url, installs Helpers and returns the tab's context. closeTab closes
// the tab; it is idempotent. Use each tab from one goroutine at a time.
func Open(ctx context.Context, url string) (tab context.Context, closeTab context.CancelFunc, err error) {
	tab, closeTab = chromedp.NewContext(ctx)
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		closeTab()
		return nil, nil, fmt.Errorf("browser: open %s: %w", url, err)
	}
	if _, err := Eval[bool](tab, Helpers+"; true"); err != nil {
		closeTab()
		return nil, nil, err
	}
	return tab, closeTab, nil
}

// Eval evaluates the JavaScript expression expr in the tab, waits for it
// when it is a promise, and decodes the JSON value into T. It gives up after
// EvalTimeout. An exception or a rejected promise is an error.
func Eval[T any](tab context.Context, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(tab, EvalTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("browser: evaluate %.200q: %w", expr, err)
	}
	return v, nil
}
