package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/internal/browser"
	"github.com/plezigo/plezi/internal/ops"
	"github.com/plezigo/plezi/server"
)

// TestStatusJSON: the feed carries the node's figures.
func TestStatusJSON(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{}, ops.Config{Version: "v-test"})
	if _, err := dialFan(t, n.srv.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	var s ops.Status
	// OnOpen subscribes on a worker shard, after the connection counts:
	// wait for both.
	eventually(t, "one connection and its channel in the feed", func() bool {
		resp, body := get(t, "http://"+n.srv.Addr()+"/status.json", "X-API-Key: "+testKey)
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &s) != nil {
			t.Fatalf("status.json: %d %q", resp.StatusCode, body)
		}
		return s.Connections == 1 && s.Channels == 1
	})
	if s.Node != n.srv.Hub().Node() || s.Version != "v-test" || !s.Ready || s.Channels != 1 || s.Broker.Kind != "none" || s.Time == 0 {
		t.Fatalf("status %+v", s)
	}
}

// TestStatusPage: in headless Chromium the page asks for the key, refuses
// a wrong one, and with the right one shows the node's figures, whose
// numbers move while traffic flows. Its screenshot is saved in the test's
// artifacts (go test -artifacts keeps it).
func TestStatusPage(t *testing.T) {
	n := start(t, server.Config{}, ops.Config{Version: "v-test", StatusPaths: []string{"/", "/status"}})
	base := "http://" + n.srv.Addr()
	if resp, body := get(t, base+"/"); resp.StatusCode != http.StatusOK || !bytes.Contains([]byte(body), []byte("/status.json")) {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	bctx, cancel, err := browser.Launch(context.Background())
	if err != nil {
		t.Fatal(err) // never skip: scripts/test.sh installs chromium
	}
	defer cancel()

	tab := open(t, bctx, base+"/status")
	js[bool](t, tab, `T.until(() => !document.getElementById('login').hidden)`)
	tab = open(t, bctx, base+"/status#key=wrong-key-0123456789")
	js[bool](t, tab, `T.until(() => document.getElementById('login-why').textContent.includes('refused'))`)

	tab = open(t, bctx, base+"/#key="+testKey)
	if got := js[string](t, tab, `T.until(() => document.getElementById('state').textContent === 'live').then(() => document.getElementById('node').textContent)`); got != n.srv.Hub().Node() {
		t.Fatalf("node %q, want %q", got, n.srv.Hub().Node())
	}
	if h := js[string](t, tab, `location.hash`); h != "" {
		t.Fatalf("the key stayed in the address bar: %q", h)
	}
	stop := traffic(t, n.srv.Addr())
	defer stop()
	js[bool](t, tab, `T.until(() => document.getElementById('connections').textContent === '2' &&
		parseFloat(document.getElementById('rate-in').textContent) > 0 &&
		parseFloat(document.getElementById('rate-out').textContent) > 0 &&
		document.getElementById('spark-in').getAttribute('points').split(' ').length >= 2, 15000)`)
	seen := js[string](t, tab, `document.getElementById('messages-in').textContent`)
	if got := js[string](t, tab, `T.until(() => {
		const v = document.getElementById('messages-in').textContent;
		return v !== `+strconv.Quote(seen)+` && v; }, 15000)`); got == seen {
		t.Fatal("messages in did not move")
	}
	screenshot(t, tab, "status.png")
}

// traffic opens two /fan clients and sends from one every 20 ms (each
// message reaches both) until the returned stop is called.
func traffic(t *testing.T, addr string) (stop func()) {
	t.Helper()
	a, err := dialFan(t, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dialFan(t, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range []*websocket.Conn{a, b} {
		wg.Go(func() { // read until the connection closes
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		})
	}
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 3000; i++ { // at most a minute
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if a.WriteMessage(websocket.TextMessage, []byte("tick "+strconv.Itoa(i))) != nil {
				return
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			_ = a.Close()
			_ = b.Close()
			wg.Wait()
		})
	}
}

// open opens url in a new tab, closed when the test ends.
func open(t *testing.T, bctx context.Context, url string) context.Context {
	t.Helper()
	tab, closeTab, err := browser.Open(bctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeTab)
	return tab
}

func js[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := browser.Eval[T](tab, expr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// screenshot saves the tab's viewport as a PNG in the test's artifact
// directory and logs where.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browser.EvalTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 760)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	p := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}
