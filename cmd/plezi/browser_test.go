package main

// Browser tests: the demo app served by the real server, driven from a
// headless Chromium through /plezi.js (internal/jsclient) and the demo page.
// TestBrowser launches one Chromium with a fresh profile and closes it,
// with all its processes, before it returns.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/browser"
	"github.com/plezigo/plezi/server"
)

// browserBoot bounds a test server's start-up and shutdown.
const browserBoot = 15 * time.Second

// chatJS is installed in each page: join(nick, room, opts, base) connects
// to the chat route (base, default "/chat/") and resolves with the client once "welcome" arrived; the
// client's .id is its connection id and .log records every chat event.
const chatJS = `window.join = (nick, room, opts, base = '/chat/') => new Promise((resolve, reject) => {
  const c = new Plezi(base + encodeURIComponent(room) + '?nick=' + encodeURIComponent(nick), opts);
  c.log = [];
  c.welcomes = 0;
  for (const ev of ['joined', 'left', 'said', 'private']) c.on(ev, (...args) => c.log.push([ev, ...args]));
  c.on('welcome', id => { c.id = id; c.welcomes++; resolve(c); });
  c.on('close', code => reject(new Error(nick + ' closed with ' + code + ' before welcome')));
  setTimeout(() => reject(new Error(nick + ': no welcome within 10s')), 10000);
});
window.entry = (c, ...want) => c.log.find(e => want.every((w, i) => e[i] === w));
true`

// appServer is one demo app on a real port, run by newApp + Run or by run.
type appServer struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// newPageApp builds the demo app on cfg with the demo page at "/", as run
// does.
func newPageApp(cfg server.Config) *server.Server {
	srv := newApp(cfg)
	must(srv.StaticFS("/", publicFS()))
	return srv
}

// startApp builds the demo app with its page on cfg and runs it (see runApp).
func startApp(t *testing.T, cfg server.Config) *appServer {
	t.Helper()
	return runApp(t, newPageApp(cfg))
}

// startRun starts the binary's entry point run with "-addr 127.0.0.1:0".
func startRun(t testing.TB) *appServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &appServer{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		a.done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-demo"}, func(addr string) { ready <- addr })
	}()
	select {
	case a.addr = <-ready:
	case err := <-a.done:
		cancel()
		t.Fatalf("run returned before ready: %v", err)
	case <-time.After(browserBoot):
		cancel()
		t.Fatalf("run not ready after %v", browserBoot)
	}
	t.Cleanup(func() {
		if err := a.stop(); err != nil {
			t.Errorf("run shutdown: %v", err)
		}
	})
	return a
}

// stop ends the server and waits for Run (or run) to return; idempotent.
func (a *appServer) stop() error {
	a.once.Do(func() {
		a.cancel()
		select {
		case err := <-a.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				a.err = err
			}
		case <-time.After(browserBoot):
			a.err = errors.New("server did not stop within " + browserBoot.String())
		}
	})
	return a.err
}

// launchBrowser starts Chromium for this test. Its cleanup closes it and
// checks that the browser process is gone.
func launchBrowser(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel, err := browser.Launch(context.Background())
	if err != nil {
		t.Fatal(err) // never skip: scripts/test.sh installs chromium
	}
	proc := chromedp.FromContext(ctx).Browser.Process()
	t.Cleanup(func() {
		cancel()
		if proc != nil && proc.Signal(syscall.Signal(0)) == nil {
			t.Errorf("chromium pid %d still running after cancel", proc.Pid)
		}
	})
	return ctx
}

// openPage opens the demo page of the server at addr in a new tab, with
// browser.Helpers and chatJS installed.
func openPage(t testing.TB, bctx context.Context, addr string) context.Context {
	t.Helper()
	tab, closeTab, err := browser.Open(bctx, "http://"+addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeTab)
	if !eval[bool](t, tab, `typeof Plezi === 'function'`) || !eval[bool](t, tab, chatJS) {
		t.Fatal("the demo page did not load /plezi.js")
	}
	return tab
}

func eval[T any](t testing.TB, tab context.Context, expr string) T {
	t.Helper()
	v, err := browser.Eval[T](tab, expr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// evalJSON evaluates expr and compares its JSON value with want.
func evalJSON(t *testing.T, tab context.Context, expr, want string) {
	t.Helper()
	got := eval[json.RawMessage](t, tab, expr)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: result %s: %v", expr, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s\n got %s\nwant %s", expr, got, want)
	}
}

// settled is what T.settle resolves to.
type settled struct {
	OK      bool            `json:"ok"`
	Data    json.RawMessage `json:"data"`
	Status  int             `json:"status"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
}

// TestBrowser runs the browser stories against the demo app. One Chromium
// serves them all; each story runs its own server, so its pages have their
// own origin (and localStorage).
func TestBrowser(t *testing.T) {
	bctx := launchBrowser(t)
	t.Run("Chat", func(t *testing.T) { testChat(t, bctx) })
	t.Run("EmitTimeout", func(t *testing.T) { testEmitTimeout(t, bctx) })
	t.Run("Raw", func(t *testing.T) { testRaw(t, bctx) })
	t.Run("DemoPage", func(t *testing.T) { testDemoPage(t, bctx) })
	t.Run("ReconnectMailbox", func(t *testing.T) { testReconnectMailbox(t, bctx) })
	t.Run("ReplacedNoReconnect", func(t *testing.T) { testReplacedNoReconnect(t, bctx) })
}

// testChat: three pages chat in one room through /plezi.js.
func testChat(t *testing.T, bctx context.Context) {
	app := startRun(t)
	alice, bob := openPage(t, bctx, app.addr), openPage(t, bctx, app.addr)

	aliceID := eval[string](t, alice, `join('alice', 'r1').then(c => (window.me = c).id)`)
	bobID := eval[string](t, bob, `join('bob', 'r1').then(c => (window.me = c).id)`)
	if aliceID == "" || bobID == "" || aliceID == bobID {
		t.Fatalf("connection ids %q, %q", aliceID, bobID)
	}
	evalJSON(t, alice, `T.until(() => entry(me, 'joined', 'bob'))`, fmt.Sprintf(`["joined","bob",%q]`, bobID))

	// say: acked with true, delivered to the whole room, sender included.
	evalJSON(t, alice, `me.emit('say', 'hi bob')`, `true`)
	evalJSON(t, bob, `T.until(() => entry(me, 'said'))`, `["said","alice","hi bob"]`)
	evalJSON(t, alice, `T.until(() => entry(me, 'said'))`, `["said","alice","hi bob"]`)

	// whisper by connection id.
	evalJSON(t, bob, fmt.Sprintf(`me.emit('whisper', %q, 'psst')`, aliceID), `true`)
	evalJSON(t, alice, `T.until(() => entry(me, 'private'))`, fmt.Sprintf(`["private","bob",%q,"psst"]`, bobID))

	// an event no handler takes is rejected with the server's 404.
	r := eval[settled](t, bob, `T.settle(me.emit('no_such_event', 1))`)
	if r.OK || r.Status != 404 || r.Code != "server" {
		t.Fatalf("unknown event: %+v, want a 404 rejection", r)
	}

	// a newcomer is announced to both.
	carol := openPage(t, bctx, app.addr)
	carolID := eval[string](t, carol, `join('carol', 'r1').then(c => (window.me = c).id)`)
	for _, tab := range []context.Context{alice, bob} {
		evalJSON(t, tab, `T.until(() => entry(me, 'joined', 'carol'))`, fmt.Sprintf(`["joined","carol",%q]`, carolID))
	}

	// bob leaves: the others see it, and whispers to him fail with 404.
	eval[bool](t, bob, `(me.close(), true)`)
	evalJSON(t, alice, `T.until(() => entry(me, 'left', 'bob'))`, fmt.Sprintf(`["left","bob",%q]`, bobID))
	r = eval[settled](t, alice, fmt.Sprintf(`T.settle(me.emit('whisper', %q, 'gone?'))`, bobID))
	if r.OK || r.Status != 404 {
		t.Fatalf("whisper to a closed connection: %+v, want a 404 rejection", r)
	}
}

// testEmitTimeout: /demo/push sends every message back as-is and never
// acks, so an emit there rejects after its timeout, while the echo proves
// the server got it.
func testEmitTimeout(t *testing.T, bctx context.Context) {
	app := startRun(t)
	tab := openPage(t, bctx, app.addr)
	evalJSON(t, tab, `(async () => {
		const c = new Plezi('/demo/push', {timeout: 300});
		const echoed = T.event(c, 'no_ack_here');
		const r = await T.settle(c.emit('no_ack_here', 1, 'two'));
		const out = {ok: r.ok, status: r.status, code: r.code, echoed: await echoed};
		c.close();
		return out;
	})()`, `{"ok":false,"status":408,"code":"timeout","echoed":[1,"two"]}`)
}

// testRaw: /echo returns text as text and binary as binary; a text
// frame that is not JSON on an event route gets _err_ 400 then close 1007.
func testRaw(t *testing.T, bctx context.Context) {
	app := startRun(t)
	tab := openPage(t, bctx, app.addr)
	evalJSON(t, tab, `(async () => {
		const c = new Plezi('/echo');
		const got = [];
		c.on('message', d => got.push(typeof d === 'string' ? d : Array.from(new Uint8Array(d))));
		c.send('hello, échо ✓');
		c.send(new Uint8Array([0, 1, 254, 255]).buffer);
		await T.until(() => got.length >= 2);
		c.close();
		return got;
	})()`, `["hello, échо ✓",[0,1,254,255]]`)

	evalJSON(t, tab, `(async () => {
		const c = await join('mallory', 'raw', {reconnect: false});
		const err = T.event(c, '_err_');
		const closed = T.closed(c);
		c.send('this is not json');
		const [e] = await err;
		const cl = await closed;
		return {status: e.status, code: cl.code, state: cl.state};
	})()`, `{"status":400,"code":1007,"state":"closed"}`)
}

// testDemoPage drives the demo page's own UI: join, say, whisper by
// clicking a user, and the echo tester.
func testDemoPage(t *testing.T, bctx context.Context) {
	app := startRun(t)
	alice, bob := openPage(t, bctx, app.addr), openPage(t, bctx, app.addr)
	uiJoin := func(tab context.Context, nick string) {
		t.Helper()
		err := chromedp.Do(tab,
			chromedp.SetValue(chromedp.CSS("#nick"), nick),
			chromedp.SetValue(chromedp.CSS("#room"), "ui"),
			chromedp.Click(chromedp.CSS("#join-btn")),
			chromedp.WaitVisible(chromedp.CSS("#chat")),
		)
		if err != nil {
			t.Fatal(err)
		}
		eval[bool](t, tab, `T.until(() => document.querySelector('#messages').textContent.includes('welcome to ui'))`)
	}
	uiJoin(alice, "alice")
	uiJoin(bob, "bob")

	// a third page cannot take alice's nickname: the page says so and
	// offers the join form again.
	mallory := openPage(t, bctx, app.addr)
	wait, cancel := context.WithTimeout(mallory, browserBoot)
	defer cancel()
	err := chromedp.Do(wait,
		chromedp.SetValue(chromedp.CSS("#nick"), "alice"),
		chromedp.SetValue(chromedp.CSS("#room"), "ui"),
		chromedp.Click(chromedp.CSS("#join-btn")),
		chromedp.WaitVisible(chromedp.CSS("#join-error")),
	)
	if err != nil {
		t.Fatalf("a second alice: no #join-error: %v", err)
	}
	evalJSON(t, mallory, `[document.querySelector('#join-error').textContent.includes('in use'),
		document.querySelector('#join-box').hidden, document.querySelector('#chat').hidden]`, `[true,false,true]`)

	// alice's user list shows bob; a click on him whispers.
	eval[bool](t, alice, `T.until(() => [...document.querySelectorAll('#users li')].some(li => li.textContent === 'bob'))`)
	say := func(tab context.Context, text string) {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.SetValue(chromedp.CSS("#text"), text), chromedp.Click(chromedp.CSS("#send"))); err != nil {
			t.Fatal(err)
		}
	}
	say(alice, "hello from the page")
	eval[bool](t, bob, `T.until(() => [...document.querySelectorAll('#messages li.said')].some(li => li.textContent === 'alice: hello from the page'))`)

	eval[bool](t, alice, `([...document.querySelectorAll('#users li')].find(li => li.textContent === 'bob').click(), true)`)
	say(alice, "just for you")
	eval[bool](t, bob, `T.until(() => [...document.querySelectorAll('#messages li.private')].some(li => li.textContent === 'alice (private): just for you'))`)

	// the echo tester.
	err = chromedp.Do(alice,
		chromedp.SetValue(chromedp.CSS("#echo-text"), "ping!"),
		chromedp.Click(chromedp.CSS("#echo-send")),
		chromedp.Click(chromedp.CSS("#echo-bin")),
	)
	if err != nil {
		t.Fatal(err)
	}
	evalJSON(t, alice, `T.until(() => document.querySelectorAll('#echo-log li').length >= 2).then(() =>
		[...document.querySelectorAll('#echo-log li')].map(li => li.textContent))`,
		`["text: ping!","binary: 16 bytes [0 17 34 51 68 85 102 119 136 153 170 187 204 221 238 255]"]`)
}

// testReconnectMailbox: bob's page outlives its server. Server 2
// takes the same address and the same in-memory broker, notifies bob while
// he is away, and bob's page reconnects by itself (with _resume) and gets
// the message exactly once, after the one he had already seen.
func testReconnectMailbox(t *testing.T, bctx context.Context) {
	broker := cluster.NewMemory()
	app1 := startApp(t, server.Config{Addr: "127.0.0.1:0", Broker: broker})
	alice, bob := openPage(t, bctx, app1.addr), openPage(t, bctx, app1.addr)

	eval[string](t, bob, `join('bob', 'lobby', {backoffCap: 1000}).then(c => {
		window.me = c;
		c.closes = [];
		c.on('close', code => c.closes.push(code));
		return c.id;
	})`)
	aliceID := eval[string](t, alice, `join('alice', 'lobby', {backoffCap: 1000}).then(c => (window.me = c).id)`)

	// a live notification first: it carries an id that bob remembers.
	evalJSON(t, alice, `me.emit('tell', 'bob', 'before the restart')`, `true`)
	evalJSON(t, bob, `T.until(() => entry(me, 'private')).then(() => me.log.filter(e => e[0] === 'private'))`,
		fmt.Sprintf(`[["private","alice",%q,"before the restart"]]`, aliceID))
	seen := eval[map[string]string](t, bob, `me.lastSeen`)
	if seen["user:bob"] == "" {
		t.Fatalf("lastSeen after a notification = %v, want an id for user:bob", seen)
	}

	if err := app1.stop(); err != nil {
		t.Fatal(err)
	}
	evalJSON(t, bob, `T.until(() => me.closes.length > 0).then(() => [me.closes[0], me.state !== 'closed'])`, `[1001,true]`)

	// server 2: same address, same broker; bob is told while he is away.
	srv2 := newPageApp(server.Config{Addr: app1.addr, Broker: broker})
	if !srv2.Notify("user:bob", "private", "alice", "x", "hello while away") {
		t.Fatal("Notify(user:bob) = false before server 2 runs; the identity should live in the shared broker")
	}
	app2 := runApp(t, srv2)
	if app2.addr != app1.addr {
		t.Fatalf("server 2 on %s, want %s", app2.addr, app1.addr)
	}

	evalJSON(t, bob, `T.until(() => me.welcomes >= 2 && entry(me, 'private', 'alice', 'x')).then(() =>
		me.log.filter(e => e[0] === 'private').map(e => e[3]))`,
		`["before the restart","hello while away"]`)
	u, err := url.Parse(eval[string](t, bob, `me.url`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Query().Get("_resume"), fmt.Sprintf(`{"user:bob":%s}`, seen["user:bob"]); got != want {
		t.Fatalf("reconnect url %s: _resume = %q, want %q", u, got, want)
	}
	// and the room works on server 2.
	evalJSON(t, bob, `me.emit('say', 'back again')`, `true`)
}

// runApp runs an already built server until the test ends.
func runApp(t testing.TB, srv *server.Server) *appServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &appServer{cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
		a.addr = srv.Addr()
	case err := <-a.done:
		cancel()
		hint := ""
		if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(fmt.Sprint(err), "address already in use") {
			hint = " (a server restarted on the port of one that had connections needs SO_REUSEADDR on its listener: gnet.WithReuseAddr(true))"
		}
		t.Fatalf("Run returned before ready: %v%s", err, hint)
	case <-time.After(browserBoot):
		cancel()
		t.Fatalf("server not ready after %v", browserBoot)
	}
	t.Cleanup(func() {
		if err := a.stop(); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	return a
}

// crowd is a test route like the chat without its nickname hold: each
// connection registers as "user:"+nick with at most 5 connections, so the
// sixth closes the oldest with 4009 "replaced".
type crowd struct {
	dispatch.Socket
	nick string
}

// OnOpen greets the connection and registers it.
func (c *crowd) OnOpen() {
	c.nick = c.Request().Query("nick")
	_ = c.Emit("welcome", c.ID(), c.nick, c.Params("room"))
	c.Subscribe("crowd")
	_ = c.RegisterAs("user:"+c.nick, dispatch.MaxConnections(5))
}

// Say sends text to every crowd connection.
func (c *crowd) Say(text string) bool { _ = c.PublishEvent("crowd", "said", c.nick, text); return true }

// testReplacedNoReconnect: an identity keeps at most 5 connections;
// the sixth closes the oldest with 4009, and that client stays closed.
func testReplacedNoReconnect(t *testing.T, bctx context.Context) {
	srv := newPageApp(server.Config{Addr: "127.0.0.1:0"})
	must(srv.Route("/crowd/:room", func() dispatch.Controller { return new(crowd) }, dispatch.ClientEvents("say")))
	app := runApp(t, srv)
	tab := openPage(t, bctx, app.addr)
	evalJSON(t, tab, `(async () => {
		const first = await join('dora', 'crowd', {backoffBase: 1, backoffCap: 5}, '/crowd/');
		let reconnecting = 0;
		first.on('reconnecting', () => reconnecting++);
		const closed = T.closed(first);
		const others = [];
		for (let i = 0; i < 5; i++) others.push(await join('dora', 'crowd', {}, '/crowd/'));
		const cl = await closed;
		// a round trip on a live connection after the close: had the
		// client scheduled a reconnect, its timer (≤ 5 ms) would have run.
		await others[4].emit('say', 'still here');
		await T.until(() => entry(others[4], 'said', 'dora', 'still here'));
		return {code: cl.code, state: first.state, reconnecting, timer: first._timer,
			open: others.map(c => c.state), welcomes: first.welcomes};
	})()`, `{"code":4009,"state":"closed","reconnecting":0,"timer":null,"open":["open","open","open","open","open"],"welcomes":1}`)
}

// BenchmarkBrowserEmit measures emit → ack round trips of /plezi.js in
// Chromium through the real server's /chat route ("say" is acked and also
// fanned out to the room, the sender included): one emit at a time, and 64
// in flight. The Go side only starts each batch, so ns/op is the cost of
// one emit in the browser plus the server.
func BenchmarkBrowserEmit(b *testing.B) {
	app := startRun(b)
	bctx := launchBrowser(b)
	tab := openPage(b, bctx, app.addr)
	eval[string](b, tab, `join('bench', 'bench').then(c => (window.me = c).id)`)
	for _, bc := range []struct {
		name     string
		inFlight int
	}{{"sequential", 1}, {"inflight64", 64}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			expr := fmt.Sprintf(`(async (n, k) => {
				me.log.length = 0;
				for (let i = 0; i < n; i += k) {
					const batch = [];
					for (let j = i; j < Math.min(n, i + k); j++) batch.push(me.emit('say', 'm'));
					await Promise.all(batch);
				}
				return true;
			})(%d, %d)`, b.N, bc.inFlight)
			b.ResetTimer()
			eval[bool](b, tab, expr)
		})
	}
}

// BenchmarkBrowserEcho is the raw baseline of BenchmarkBrowserEmit: text
// round trips through /echo (inline on the event loop, no JSON, no ack).
func BenchmarkBrowserEcho(b *testing.B) {
	app := startRun(b)
	tab := openPage(b, launchBrowser(b), app.addr)
	eval[bool](b, tab, `(async () => {
		window.echo = new Plezi('/echo');
		echo.got = 0;
		echo.on('message', () => { echo.got++; if (echo.wake && echo.got >= echo.want) echo.wake(); });
		await T.opened(echo);
		return true;
	})()`)
	for _, bc := range []struct {
		name     string
		inFlight int
	}{{"sequential", 1}, {"inflight64", 64}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			expr := fmt.Sprintf(`(async (n, k) => {
				for (let i = 0; i < n; i += k) {
					const m = Math.min(n, i + k) - i;
					const done = new Promise(r => { echo.got = 0; echo.want = m; echo.wake = r; });
					for (let j = 0; j < m; j++) echo.send('m');
					await done;
				}
				return true;
			})(%d, %d)`, b.N, bc.inFlight)
			b.ResetTimer()
			eval[bool](b, tab, expr)
		})
	}
}
