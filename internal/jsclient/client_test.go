package jsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/plezigo/plezi/internal/browser"
)

// settled is what T.settle resolves to.
type settled struct {
	OK      bool            `json:"ok"`
	Data    json.RawMessage `json:"data"`
	Status  int             `json:"status"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
}

// page opens a tab on the peer's blank page (which loads /plezi.js) with
// browser.Helpers installed; the tab closes when the test ends.
func page(t *testing.T, bctx context.Context, p *peer) context.Context {
	t.Helper()
	tab, closeTab, err := browser.Open(bctx, "http://"+p.addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeTab)
	if ok := js[bool](t, tab, "typeof Plezi === 'function'"); !ok {
		t.Fatal("window.Plezi is not defined after loading /plezi.js")
	}
	return tab
}

// js evaluates expr in the tab (see browser.Eval) and fails the test on error.
func js[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := browser.Eval[T](tab, expr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func equalJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %s is not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}

// TestClient runs plezi.js in headless Chromium against a real websocket
// peer. One browser serves all subtests, each in its own tab and on its own
// path (localStorage is per path).
func TestClient(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"))
	p := newPeer(t)
	defer p.stop()
	bctx, cancel, err := browser.Launch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()

	t.Run("EmitQueuedUntilOpenThenAcked", func(t *testing.T) { testEmitAck(t, page(t, bctx, p), p) })
	t.Run("ServerError", func(t *testing.T) { testServerError(t, page(t, bctx, p)) })
	t.Run("Timeout", func(t *testing.T) { testTimeout(t, page(t, bctx, p)) })
	t.Run("QueueBound", func(t *testing.T) { testQueueBound(t, page(t, bctx, p)) })
	t.Run("Handlers", func(t *testing.T) { testHandlers(t, page(t, bctx, p)) })
	t.Run("Raw", func(t *testing.T) { testRaw(t, page(t, bctx, p)) })
	t.Run("URL", func(t *testing.T) { testURL(t, page(t, bctx, p), p) })
	t.Run("ResumeAndDedup", func(t *testing.T) { testResume(t, bctx, p) })
	t.Run("Gap", func(t *testing.T) { testGap(t, page(t, bctx, p)) })
	t.Run("LateNotification", func(t *testing.T) { testLate(t, page(t, bctx, p), p) })
	t.Run("BigNotificationIDs", func(t *testing.T) { testBigNID(t, page(t, bctx, p), p) })
	t.Run("FinalCloseCodes", func(t *testing.T) { testFinalCodes(t, page(t, bctx, p), p) })
	t.Run("ReconnectCodes", func(t *testing.T) { testReconnectCodes(t, page(t, bctx, p), p) })
	t.Run("Backoff", func(t *testing.T) { testBackoff(t, page(t, bctx, p)) })
	t.Run("Disconnected", func(t *testing.T) { testDisconnected(t, page(t, bctx, p), p) })
	t.Run("Close", func(t *testing.T) { testClose(t, page(t, bctx, p)) })
}

func testEmitAck(t *testing.T, tab context.Context, p *peer) {
	r := js[settled](t, tab, `(async () => {
		window.c = new Plezi('/ws/ack');
		if (c.state !== 'connecting') throw new Error('state ' + c.state);
		return T.settle(c.emit('hello', 1, 'two', {three: 3}));
	})()`)
	if !r.OK {
		t.Fatalf("emit rejected: %+v", r)
	}
	equalJSON(t, "ack data", r.Data, `{"event":"hello","args":[1,"two",{"three":3}]}`)
	if q := p.waitConn(t, "ack"); q != "" {
		t.Fatalf("first connection query = %q, want none", q)
	}
	if s := js[string](t, tab, `c.state`); s != "open" {
		t.Fatalf("state = %q, want open", s)
	}
}

func testServerError(t *testing.T, tab context.Context) {
	r := js[settled](t, tab, `T.settle(new Plezi('/ws/err').emit('fail', 'x'))`)
	want := settled{Status: 422, Code: "server", Message: "failed: x"}
	if r.OK || r.Status != want.Status || r.Code != want.Code || r.Message != want.Message {
		t.Fatalf("got %+v, want rejection %+v", r, want)
	}
}

func testTimeout(t *testing.T, tab context.Context) {
	r := js[settled](t, tab, `(async () => {
		const c = new Plezi('/ws/timeout', {timeout: 200});
		await T.opened(c);
		return T.settle(c.emit('silent'));
	})()`)
	if r.OK || r.Status != 408 || r.Code != "timeout" {
		t.Fatalf("got %+v, want timeout rejection", r)
	}
}

func testQueueBound(t *testing.T, tab context.Context) {
	got := js[[]settled](t, tab, `(async () => {
		const c = new Plezi('/ws/queue', {queue: 2});
		return Promise.all([c.emit('a'), c.emit('b'), c.emit('c')].map(T.settle));
	})()`)
	if len(got) != 3 || !got[0].OK || !got[1].OK || got[2].OK || got[2].Code != "queue_full" {
		t.Fatalf("got %+v, want ok, ok, queue_full", got)
	}
	sends := js[[]bool](t, tab, `(() => { const c = new Plezi('/ws/queue2', {queue: 1}); return [c.send('a'), c.send('b')]; })()`)
	if !reflect.DeepEqual(sends, []bool{true, false}) {
		t.Fatalf("send while connecting = %v, want [true false]", sends)
	}
}

func testHandlers(t *testing.T, tab context.Context) {
	got := js[json.RawMessage](t, tab, `(async () => {
		const c = new Plezi('/ws/handlers');
		const seen = [];
		const dropped = () => seen.push('removed handler ran');
		c.on('note', function (n) { seen.push(['note', n, this._NID_, this._identity]); });
		c.on('note', dropped).off('note', dropped);
		c.on('note', () => { throw new Error('a failing handler must not stop the others'); });
		c.on('note', n => seen.push(['second', n]));
		c.on('noargs', function (m) { seen.push(['noargs', m.x, this === m]); });
		await c.emit('notify', 7);
		c.send(JSON.stringify({event: 'noargs', x: 5}));  // the peer echoes it back
		await T.until(() => seen.length >= 3);
		return seen;
	})()`)
	equalJSON(t, "handler calls", got, `[["note",7,7,"user:t"],["second",7],["noargs",5,true]]`)
}

func testRaw(t *testing.T, tab context.Context) {
	got := js[json.RawMessage](t, tab, `(async () => {
		const c = new Plezi('/ws/raw');
		const seen = [];
		c.on('message', d => seen.push(typeof d === 'string' ? d : Array.from(new Uint8Array(d))));
		c.send('plain text');
		c.send(new Uint8Array([1, 2, 255]).buffer);
		await T.until(() => seen.length >= 2);
		return seen;
	})()`)
	equalJSON(t, "raw frames", got, `["plain text",[1,2,255]]`)
}

func testURL(t *testing.T, tab context.Context, p *peer) {
	got := js[[]string](t, tab, `[
		new Plezi('/ws/u1?a=1&b=x%20y').url,
		new Plezi('http://`+p.addr+`/ws/u2').url,
		new Plezi('ws://`+p.addr+`/ws/u3?_resume=stale').url,
	]`)
	want := []string{
		"ws://" + p.addr + "/ws/u1?a=1&b=x%20y",
		"ws://" + p.addr + "/ws/u2",
		"ws://" + p.addr + "/ws/u3",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("urls = %q, want %q", got, want)
	}
}

// testResume: notifications are de-duplicated by id, the largest id goes to
// localStorage, a reconnect carries _resume, and so does a new page.
func testResume(t *testing.T, bctx context.Context, p *peer) {
	tab := page(t, bctx, p)
	got := js[json.RawMessage](t, tab, `(async () => {
		window.c = new Plezi('/ws/resume?room=a', {backoffCap: 50});
		c.on('note', n => T.log.push(n));
		c.on('reconnecting', (n, ms) => T.log.push('reconnecting ' + n));
		await c.emit('notify', 1, 2, 2, 1, 3);
		return {log: T.log, seen: c.lastSeen, stored: JSON.parse(localStorage.getItem('plezi:lastSeen:/ws/resume'))};
	})()`)
	equalJSON(t, "after notify", got, `{"log":[1,2,3],"seen":{"user:t":"3"},"stored":{"user:t":"3"}}`)
	if q := p.waitConn(t, "resume"); q != "room=a" {
		t.Fatalf("first query = %q", q)
	}

	js[settled](t, tab, `T.settle(c.emit('bye', 1001))`)
	q := p.waitConn(t, "resume")
	if !strings.HasPrefix(q, "room=a&_resume=") || resumeOf(t, q) != `{"user:t":3}` {
		t.Fatalf("reconnect query = %q, want room=a&_resume={\"user:t\":3}", q)
	}
	got = js[json.RawMessage](t, tab, `(async () => {
		await T.until(() => c.state === 'open');
		await c.emit('notify', 3, 4);
		return T.log;
	})()`)
	equalJSON(t, "after reconnect", got, `[1,2,3,"reconnecting 1",4]`)

	// A new page of the same origin starts from what localStorage kept.
	tab2 := page(t, bctx, p)
	js[bool](t, tab2, `(async () => { await T.opened(new Plezi('/ws/resume')); return true; })()`)
	if q := p.waitConn(t, "resume"); resumeOf(t, q) != `{"user:t":4}` {
		t.Fatalf("new page query = %q, want _resume={\"user:t\":4}", q)
	}
}

// testGap: a notification with "_gap_" fires "gap" first, once.
func testGap(t *testing.T, tab context.Context) {
	got := js[json.RawMessage](t, tab, `(async () => {
		const c = new Plezi('/ws/gap');
		const log = [];
		c.on('note', n => log.push(n));
		c.on('gap', function (id, n) { log.push(id + ' missed ' + n + (this === c ? '' : ' (this?)')); });
		await c.emit('notify', 1);
		await c.emit('gapnote', 5, 3);
		await c.emit('gapnote', 5, 3); // seen already: neither fires
		await c.emit('notify', 6);
		return log;
	})()`)
	equalJSON(t, "gap", got, `[1,"user:t missed 3",5,6]`)
}

// testLate: a notification that arrives after a higher id is delivered
// (once); _resume carries the id up to which every one was seen, and
// localStorage keeps the ids seen above it.
func testLate(t *testing.T, tab context.Context, p *peer) {
	got := js[json.RawMessage](t, tab, `(async () => {
		const c = new Plezi('/ws/late');
		c.on('note', n => T.log.push(n));
		await c.emit('notify', 1, 3);
		const stored = () => JSON.parse(localStorage.getItem('plezi:lastSeen:/ws/late'));
		const before = {seen: c.lastSeen, stored: stored(), url: c._socketURL()};
		await c.emit('notify', 3, 2, 2, 1, 4);
		return {before, log: T.log, seen: c.lastSeen, stored: stored()};
	})()`)
	equalJSON(t, "late", got, fmt.Sprintf(`{"before":{"seen":{"user:t":"1"},"stored":{"user:t":["1","3"]},
		"url":"ws://%s/ws/late?_resume=%%7B%%22user%%3At%%22%%3A1%%7D"},
		"log":[1,3,2,4],"seen":{"user:t":"4"},"stored":{"user:t":"4"}}`, p.addr))
	p.waitConn(t, "late")
}

func testBigNID(t *testing.T, tab context.Context, p *peer) {
	got := js[json.RawMessage](t, tab, `(async () => {
		const c = new Plezi('/ws/big');
		let n = 0;
		c.on('note', () => n++);
		await c.emit('notify', '9007199254740992', '9007199254740993', '9007199254740993', '9007199254740992');
		return {n, seen: c.lastSeen, url: c._socketURL()};
	})()`)
	equalJSON(t, "big ids", got, fmt.Sprintf(`{"n":2,"seen":{"user:t":"9007199254740993"},"url":"ws://%s/ws/big?_resume=%%7B%%22user%%3At%%22%%3A9007199254740993%%7D"}`,
		p.addr))
}

// testFinalCodes: after these close codes the client stays closed.
func testFinalCodes(t *testing.T, tab context.Context, p *peer) {
	for _, code := range []int{1008, 4001, 4002, 4003, 4009, 4401, 4403} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			got := js[json.RawMessage](t, tab, fmt.Sprintf(`(async () => {
				const c = new Plezi('/ws/final%[1]d?close=%[1]d', {backoffBase: 1, backoffCap: 1});
				let reconnecting = 0;
				c.on('reconnecting', () => reconnecting++);
				const closed = await T.closed(c);
				const late = await T.settle(c.emit('after'));
				return {code: closed.code, state: closed.state, reconnecting, timer: c._timer, late: late.code};
			})()`, code))
			equalJSON(t, "close", got, fmt.Sprintf(`{"code":%d,"state":"closed","reconnecting":0,"timer":null,"late":"closed"}`, code))
			p.waitConn(t, fmt.Sprint("final", code))
		})
	}
}

// testReconnectCodes: after these close codes the client reconnects.
func testReconnectCodes(t *testing.T, tab context.Context, p *peer) {
	for _, code := range []int{1001, 1011, 4000, 4008} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			name := fmt.Sprint("again", code)
			js[bool](t, tab, fmt.Sprintf(`(() => {
				const c = window.c%[1]d = new Plezi('/ws/%[2]s?close=%[1]d', {backoffCap: 20});
				c.codes = [];
				c.on('close', code => c.codes.push(code));
				return true;
			})()`, code, name))
			p.waitConn(t, name)
			p.waitConn(t, name)
			got := js[json.RawMessage](t, tab, fmt.Sprintf(`(() => { const c = window.c%d; c.close(); return {state: c.state, first: c.codes[0]}; })()`, code))
			equalJSON(t, "after close", got, fmt.Sprintf(`{"state":"closed","first":%d}`, code))
		})
	}
}

// testBackoff: attempts count up and each delay stays inside its window.
func testBackoff(t *testing.T, tab context.Context) {
	got := js[[][2]int](t, tab, `(async () => {
		const c = new Plezi('/ws/backoff?close=4000', {backoffBase: 10, backoffCap: 40});
		const seen = [];
		c.on('reconnecting', (n, ms) => seen.push([n, ms]));
		await T.until(() => seen.length >= 5);
		c.close();
		return seen;
	})()`)
	windows := []int{10, 20, 40, 40, 40}
	for i, w := range windows {
		if got[i][0] != i+1 || got[i][1] < 0 || got[i][1] >= w {
			t.Fatalf("reconnect %d = attempt %d delay %d ms, want attempt %d delay in [0,%d)", i, got[i][0], got[i][1], i+1, w)
		}
	}
}

// testDisconnected: a sent emit fails when its connection drops; one
// queued while reconnecting is sent on the next connection.
func testDisconnected(t *testing.T, tab context.Context, p *peer) {
	got := js[json.RawMessage](t, tab, `(async () => {
		const c = new Plezi('/ws/drop', {backoffCap: 20});
		await T.opened(c);
		const lost = T.settle(c.emit('silent'));
		const queued = new Promise(r => c.on('close', () => r(T.settle(c.emit('later', 'q')))));
		await c.emit('bye', 1001);
		const [a, b] = [await lost, await queued];
		c.close();
		return {lost: a.code, queued: b.ok, data: b.data};
	})()`)
	equalJSON(t, "drop", got, `{"lost":"disconnected","queued":true,"data":{"event":"later","args":["q"]}}`)
	p.waitConn(t, "drop")
	p.waitConn(t, "drop")
}

func testClose(t *testing.T, tab context.Context) {
	got := js[json.RawMessage](t, tab, `(async () => {
		const c = new Plezi('/ws/close');
		await T.opened(c);
		const pending = T.settle(c.emit('silent'));
		const closed = T.closed(c);
		c.close();
		const after = await T.settle(c.emit('x'));
		return {pending: (await pending).code, after: after.code, close: await closed, send: c.send('x')};
	})()`)
	equalJSON(t, "close", got, `{"pending":"closed","after":"closed","close":{"code":1000,"reason":"","state":"closed"},"send":false}`)
}
