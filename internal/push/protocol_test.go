package push_test

import (
	"net/http"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/internal/push"
	"github.com/plezigo/plezi/server"
)

// TestSubscribePublish: subscribe is acked, a publish arrives as
// {"event":"message","channel","data"} to subscribers only, once each;
// unsubscribe undoes it. Frames are checked byte for byte.
func TestSubscribePublish(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{}, server.Config{})
	a, b, other := connect(t, n.addr, "", nil), connect(t, n.addr, "", nil), connect(t, n.addr, "", nil)
	a.send(`{"event":"subscribe","channel":"news","_EID_":1}`)
	a.expect(`{"event":"_ack_","_EID_":1}`)
	b.send(`{"event":"subscribe","channel":"news","_EID_":"x"}`)
	b.expect(`{"event":"_ack_","_EID_":"x"}`)
	b.send(`{"event":"subscribe","channel":"news"}`) // again, no _EID_: no answer, still one subscription
	other.ok(1, `{"event":"subscribe","channel":"sports"}`)
	mustAPI(t, n.addr, "/api/publish", `{"channel":"news","data":{"title":"hi","n":[1, 2]}}`)
	want := `{"event":"message","channel":"news","data":{"title":"hi","n":[1,2]}}`
	a.expect(want)
	b.expect(want)
	a.marker(n.addr, "a1")
	b.marker(n.addr, "b1")
	other.marker(n.addr, "o1") // sports got nothing
	a.ok(2, `{"event":"unsubscribe","channel":"news"}`)
	mustAPI(t, n.addr, "/api/publish", `{"channel":"news"}`)
	b.expect(`{"event":"message","channel":"news","data":null}`)
	a.marker(n.addr, "a2")
	if got := n.srv.Hub().Channels(); got != 2 {
		t.Fatalf("channels = %d, want 2 (news, sports)", got)
	}
}

// TestServerEvents: multicast, broadcast (controller "push") and unicast
// reach /push clients as {"event":name,"args":[...]}.
func TestServerEvents(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{}, server.Config{})
	a, b := connect(t, n.addr, "", nil), connect(t, n.addr, "", nil)
	mustAPI(t, n.addr, "/api/multicast", `{"event":"hello","args":[1,"two",{"three":3}]}`)
	for _, c := range []*client{a, b} {
		c.expect(`{"event":"hello","args":[1,"two",{"three":3}]}`)
	}
	mustAPI(t, n.addr, "/api/broadcast", `{"controller":"push","event":"news","args":["x"]}`)
	for _, c := range []*client{a, b} {
		c.expect(`{"event":"news","args":["x"]}`)
	}
	mustAPI(t, n.addr, "/api/broadcast", `{"controller":"Chat","event":"nobody","args":[]}`)
	if m := mustAPI(t, n.addr, "/api/unicast", `{"id":"`+b.id+`","event":"only","args":[true]}`); m["delivered"] != true {
		t.Fatalf("unicast: %v", m)
	}
	b.expect(`{"event":"only","args":[true]}`)
	mustAPI(t, n.addr, "/api/multicast", `{"event":"bare"}`)
	a.expect(`{"event":"bare"}`)
	b.expect(`{"event":"bare"}`)
	a.marker(n.addr, "a")
	_ = b.ws.Close()
	eventually(t, "b gone", func() bool { return n.srv.Connections() == 1 })
	if m := mustAPI(t, n.addr, "/api/unicast", `{"id":"`+b.id+`","event":"only"}`); m["delivered"] != false {
		t.Fatalf("unicast to a closed connection: %v, want delivered false", m)
	}
}

// TestBadFrames: unknown events 404, missing fields 400 (the connection
// stays), not JSON → _err_ 400 and close 1007, binary → close 1003.
func TestBadFrames(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{MaxChannels: 2, MaxName: 16}, server.Config{})
	c := connect(t, n.addr, "", nil)
	c.refused(1, `{"event":"dance"}`, 404)
	c.refused(2, `{"event":"subscribe"}`, 400)
	c.refused(3, `{"event":"subscribe","channel":"this-name-is-far-too-long"}`, 400)
	c.refused(4, `{"event":"subscribe","channel":7}`, 400)
	c.refused(5, `{"event":"unsubscribe"}`, 400)
	c.refused(6, `{"event":"register","after":"x"}`, 403) // no JWT key: register refused first
	c.ok(7, `{"event":"subscribe","channel":"a"}`)
	c.ok(8, `{"event":"subscribe","channel":"b"}`)
	c.ok(9, `{"event":"subscribe","channel":"a"}`) // held already: fine
	if f := c.refused(10, `{"event":"subscribe","channel":"c"}`, 429); f.Error == "" {
		t.Fatalf("no error text: %s", f.raw)
	}
	c.send(`{"event":"subscribe"`)
	c.expect(`{"event":"_err_","status":400,"error":"push: frame is not a JSON object with an \"event\" string"}`)
	if code := c.closed(); code != 1007 {
		t.Fatalf("close %d after a frame that is not JSON, want 1007", code)
	}
	d := connect(t, n.addr, "", nil)
	if err := d.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if code := d.closed(); code != push.CloseUnsupported {
		t.Fatalf("close %d after a binary frame, want %d", code, push.CloseUnsupported)
	}
	st := n.svc.Stats()
	if st.BadFrames.Load() < 6 || st.ChannelsFull.Load() != 1 {
		t.Fatalf("BadFrames %d, ChannelsFull %d", st.BadFrames.Load(), st.ChannelsFull.Load())
	}
}

// TestClientPublish: off by default (403); with ClientPublish "chat:*" a
// client may publish to chat:x (every subscriber, itself included) but
// not to news.
func TestClientPublish(t *testing.T) {
	t.Parallel()
	off := startNode(t, push.Config{}, server.Config{})
	c := connect(t, off.addr, "", nil)
	c.ok(1, `{"event":"subscribe","channel":"chat:x"}`)
	c.refused(2, `{"event":"publish","channel":"chat:x","data":1}`, http.StatusForbidden)
	c.marker(off.addr, "nothing published")

	on := startNode(t, push.Config{ClientPublish: []string{"chat:*"}}, server.Config{})
	a, b := connect(t, on.addr, "", nil), connect(t, on.addr, "", nil)
	a.ok(1, `{"event":"subscribe","channel":"chat:x"}`)
	b.ok(1, `{"event":"subscribe","channel":"chat:x"}`)
	b.ok(2, `{"event":"subscribe","channel":"news"}`)
	a.send(`{"event":"publish","channel":"chat:x","data":{"text":"hi"},"_EID_":2}`)
	want := `{"event":"message","channel":"chat:x","data":{"text":"hi"}}`
	// The sender reads its ack and the message in either order.
	got := map[string]bool{a.next().raw: true, a.next().raw: true}
	if !got[want] || !got[`{"event":"_ack_","_EID_":2}`] {
		t.Fatalf("sender got %v", got)
	}
	b.expect(want)
	a.refused(3, `{"event":"publish","channel":"news","data":1}`, http.StatusForbidden)
	b.marker(on.addr, "no news")
	if on.svc.Stats().Denied.Load() != 1 {
		t.Fatalf("Denied = %d, want 1", on.svc.Stats().Denied.Load())
	}
}

// TestDisconnect: /api/disconnect by id and by identity closes with 4001
// (plezi.js does not reconnect on it), other connections stay.
func TestDisconnect(t *testing.T) {
	t.Parallel()
	n := startNode(t, push.Config{JWTSecret: []byte(testSecret)}, server.Config{})
	tok := token(t, testSecret, claims("ann", "max_connections", 5))
	a, b, keep := connect(t, n.addr, tokenQuery(tok), nil), connect(t, n.addr, tokenQuery(tok), nil), connect(t, n.addr, tokenQuery(tok), nil)
	if m := mustAPI(t, n.addr, "/api/disconnect", `{"id":"`+a.id+`"}`); m["delivered"] != true {
		t.Fatalf("disconnect by id: %v", m)
	}
	if code := a.closed(); code != push.CloseDisconnected {
		t.Fatalf("close %d, want %d", code, push.CloseDisconnected)
	}
	c := connect(t, n.addr, tokenQuery(tok), nil)
	b.ok(1, `{"event":"register"}`)
	c.ok(1, `{"event":"register"}`)
	mustAPI(t, n.addr, "/api/disconnect", `{"identity":"ann"}`)
	for _, x := range []*client{b, c} {
		if code := x.closed(); code != push.CloseDisconnected {
			t.Fatalf("close %d, want %d", code, push.CloseDisconnected)
		}
	}
	keep.marker(n.addr, "still here") // never registered ann
	for _, body := range []string{`{}`, `{"id":"x","identity":"y"}`} {
		if status, m := api(t, n.addr, testKey, "POST", "/api/disconnect", body); status != 400 || m["field"] != "id" {
			t.Fatalf("disconnect %s: %d %v, want 400 naming id", body, status, m)
		}
	}
	if status, m := api(t, n.addr, testKey, "POST", "/api/multicast", `{"event":"push_disconnect"}`); status != 400 {
		t.Fatalf("multicast of the disconnect event: %d %v, want 400", status, m)
	}
}
