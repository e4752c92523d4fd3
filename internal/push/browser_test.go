package push_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/browser"
	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

const blankPage = `<!doctype html><meta charset="utf-8"><title>push</title><script src="/plezi.js"></script>`

// serveBlankPage serves blankPage (which loads /plezi.js) at / on s.
func serveBlankPage(t *testing.T, s *server.Server) {
	t.Helper()
	if err := s.StaticFS("/", fstest.MapFS{"index.html": {Data: []byte(blankPage)}}); err != nil {
		t.Fatal(err)
	}
}

// openPage launches Chromium and opens the page at addr's /, both closed
// when the test ends. Chromium missing fails the test (never a skip:
// scripts/test.sh installs it).
func openPage(t *testing.T, addr string) context.Context {
	t.Helper()
	bctx, cancel, err := browser.Launch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	tab, closeTab, err := browser.Open(bctx, "http://"+addr+"/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeTab)
	return tab
}

// js evaluates expr in tab and decodes its value; an error fails the test.
func js[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := browser.Eval[T](tab, expr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sameJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	b, _ := json.Marshal(got)
	var g, w any
	_ = json.Unmarshal(b, &g)
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s = %s, want %s", what, b, want)
	}
}

// TestBrowserPush: plezi.js in a real Chromium against /push: subscribe,
// a publish made through the HTTP API, register with a token, a
// notification live, subscriptions and registration restored after a
// reconnect, a notification sent while offline delivered (once) to the
// next client, and /api/disconnect final. Chromium missing fails the test.
func TestBrowserPush(t *testing.T) {
	n := startNodeWith(t, push.Config{JWTSecret: []byte(testSecret)}, server.Config{}, func(s *server.Server) {
		serveBlankPage(t, s)
	})
	tab := openPage(t, n.addr)
	tok := token(t, testSecret, claims("ann"))
	first := js[map[string]string](t, tab, fmt.Sprintf(`(async () => {
		window.p = new Plezi('/push', {token: %q});
		p.got = []; p.notes = []; p.all = [];
		p.subscribe('news', (d, ch) => p.got.push([ch, d]));
		p.on('message', (d, ch) => p.all.push([ch, d]));
		p.on('notify', (d, m) => p.notes.push([m.id, m.identity, d]));
		await T.opened(p);
		const r = await p.register();
		return {id: p.id, identity: r.identity};
	})()`, tok))
	if first["identity"] != "ann" || first["id"] == "" {
		t.Fatalf("register: %v", first)
	}
	mustAPI(t, n.addr, "/api/publish", `{"channel":"news","data":{"x":1}}`)
	sameJSON(t, "messages", js[any](t, tab, `T.until(() => p.got.length === 1 && p.all.length === 1).then(() => [p.got, p.all])`),
		`[[["news",{"x":1}]],[["news",{"x":1}]]]`)
	mustAPI(t, n.addr, "/api/notify", `{"identity":"ann","data":"n1"}`)
	sameJSON(t, "notes", js[any](t, tab, `T.until(() => p.notes.length === 1).then(() => p.notes)`), `[["1","ann","n1"]]`)

	// A reconnect (the client closes with 3000, not a final code): the
	// client subscribes and registers again by itself. Its next request is
	// answered after those, in the connection's order.
	js[bool](t, tab, `(async () => {
		const old = p.id;
		p._ws.close(3000);
		await T.until(() => p.state === 'open' && p.id !== old);
		await p.subscribe('other');
		return true;
	})()`)
	mustAPI(t, n.addr, "/api/publish", `{"channel":"news","data":{"x":2}}`)
	mustAPI(t, n.addr, "/api/notify", `{"identity":"ann","data":"n2"}`)
	sameJSON(t, "after a reconnect", js[any](t, tab, `T.until(() => p.got.length === 2 && p.notes.length === 2).then(() => [p.got[1], p.notes])`),
		`[["news",{"x":2}],[["1","ann","n1"],["2","ann","n2"]]]`)

	// Offline: the client closes; a notification waits in the mailbox; the
	// next client (same page, so the same last seen ids) gets only it.
	js[bool](t, tab, `(p.close(), T.until(() => p.state === 'closed').then(() => true))`)
	if m := mustAPI(t, n.addr, "/api/notify", `{"identity":"ann","event":"invoice","data":"n3"}`); m["registered"] != true {
		t.Fatalf("notify while offline: %v", m)
	}
	second := js[any](t, tab, fmt.Sprintf(`(async () => {
		window.q = new Plezi('/push', {token: %q});
		q.notes = [];
		q.on('notify', (d, m) => q.notes.push([m.id, m.name, d]));
		await q.register();
		await q.subscribe('fence');
		return {notes: q.notes, lastSeen: q.lastSeen};
	})()`, tok))
	sameJSON(t, "offline notification", second, `{"notes":[["3","invoice","n3"]],"lastSeen":{"ann":"3"}}`)

	// /api/disconnect closes with 4001, after which plezi.js stays closed.
	id := js[string](t, tab, `(window.qc = T.closed(q), q.id)`)
	mustAPI(t, n.addr, "/api/disconnect", fmt.Sprintf(`{"id":%q}`, id))
	sameJSON(t, "disconnect", js[any](t, tab, `qc`), `{"code":4001,"reason":"disconnected by the server","state":"closed"}`)
}

// TestBrowserTokenRefresh: plezi.js with getToken in a real Chromium
// against /push without leeway, tokens from a /token route of the test.
// a refreshes before its token expires and keeps its connection; b's
// refresh does not extend it (getToken gives a token with the same exp),
// so it is closed with 4010, asks again and reconnects with the new
// token, registered again; c has no getToken and stays closed after 4010.
// A gorilla client with the same exp closes first as the clock.
func TestBrowserTokenRefresh(t *testing.T) {
	n := startNodeWith(t, push.Config{JWTSecret: []byte(testSecret), JWTLeeway: -1}, server.Config{}, func(s *server.Server) {
		err := s.Handle("/token", func(r *dispatch.Request, _ []byte) server.Response {
			exp, err := strconv.ParseInt(r.Query("exp"), 10, 64)
			if err != nil {
				return server.Response{Status: 400}
			}
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": r.Query("sub"), "exp": exp}).SignedString([]byte(testSecret))
			if err != nil {
				return server.Response{Status: 500}
			}
			return server.Response{Body: []byte(tok)}
		})
		if err != nil {
			t.Fatal(err)
		}
		serveBlankPage(t, s)
	})
	tab := openPage(t, n.addr)

	shortClaims, short := expiresIn("ctl", 3*time.Second)
	long := time.Now().Add(time.Hour).Unix()
	tok := func(sub string) string {
		return token(t, testSecret, jwt.MapClaims{"sub": sub, "exp": shortClaims["exp"]})
	}
	clock := connect(t, n.addr, tokenQuery(tok("ctl")), nil)
	first := js[map[string]any](t, tab, fmt.Sprintf(`(async () => {
		const get = (c, sub, exp) => (c.asked++, fetch('/token?sub=' + sub + '&exp=' + exp).then(r => r.text()));
		const track = c => { c.asked = 0; c.closes = []; c.notes = []; c.on('close', code => c.closes.push(code)); c.on('notify', d => c.notes.push(d)); return c; };
		window.a = track(new Plezi('/push', {token: %q, getToken: sub => get(a, sub, %d)}));
		window.b = track(new Plezi('/push', {token: %q, getToken: sub => get(b, sub, b.asked === 0 ? %d : %d)}));
		window.c = track(new Plezi('/push', {token: %q}));
		await Promise.all([T.opened(a), T.opened(b), T.opened(c)]);
		const r = await b.register();
		a.first = a.id; b.first = b.id;
		return {a: a.id, ttl: r.ttl_ms};
	})()`, tok("ann"), long, tok("bob"), short.Unix(), long, tok("cy")))
	if ttl, _ := first["ttl"].(float64); ttl <= 0 || ttl > 3000 {
		t.Fatalf("register ack: %v, want ttl_ms 1 to 3000", first)
	}
	clock.closedAfter(short)
	sameJSON(t, "after the exp", js[any](t, tab, `T.until(() => c.state === 'closed' && b.state === 'open' && b.id !== b.first).then(() => ({
		a: [a.state, a.id === a.first, a.closes, a.asked], b: [b.closes, b.asked], c: [c.state, c.closes]}))`),
		`{"a":["open",true,[],1],"b":[[4010],2],"c":["closed",[4010]]}`)
	st := n.svc.Stats()
	if st.Expired.Load() != 3 || st.Refreshed.Load() != 2 {
		t.Fatalf("Expired %d, Refreshed %d; want 3 (clock, b, c) and 2 (a, b)", st.Expired.Load(), st.Refreshed.Load())
	}
	if m := mustAPI(t, n.addr, "/api/unicast", fmt.Sprintf(`{"id":%q,"event":"still","args":[]}`, first["a"])); m["delivered"] != true {
		t.Fatalf("a's first connection gone: %v", m)
	}
	mustAPI(t, n.addr, "/api/notify", `{"identity":"bob","data":"again"}`)
	sameJSON(t, "b registered again", js[any](t, tab, `T.until(() => b.notes.length === 1).then(() => b.notes)`), `["again"]`)
}
