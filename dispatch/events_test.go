package dispatch_test

import (
	"strconv"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/server"
)

func TestEventCalls(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	for _, path := range []string{"/peer", "/peer-inline"} {
		t.Run(path, func(t *testing.T) {
			c := dialPeer(t, s, path)
			tests := []struct {
				event  string
				args   []any
				reply  string // "_ack_" or "_err_"
				data   string // ack data, raw JSON
				status int
			}{
				{"add", []any{2, 3}, "_ack_", "5", 0},
				{"Add", []any{-1, 1}, "_ack_", "0", 0},
				{"set_name", []any{"ann"}, "_ack_", `"hi ann"`, 0},
				{"SetName", []any{"bob"}, "_ack_", `"hi bob"`, 0},
				{"setName", []any{"cy"}, "_ack_", `"hi cy"`, 0},
				{"sub", []any{"x"}, "_ack_", "", 0},
				{"add", []any{"x", 1}, "_err_", "", 400},
				{"add", []any{1.5, 1}, "_err_", "", 400},
				{"add", []any{1, 2, 3}, "_err_", "", 400},
				{"no_such_event", nil, "_err_", "", 404},
				{"on_open", nil, "_err_", "", 404}, // lifecycle callbacks are not events
				{"Write", []any{"x"}, "_err_", "", 404},
				{"fail", []any{418}, "_err_", "", 418},
				{"fail", []any{0}, "_err_", "", 500},
			}
			for i, tt := range tests {
				m := c.call(i+1, tt.event, tt.args...)
				if m.Event != tt.reply || string(m.Data) != tt.data || m.Status != tt.status {
					t.Errorf("%s%v: got %s, want %s data=%s status=%d", tt.event, tt.args, m.raw, tt.reply, tt.data, tt.status)
				}
				if tt.reply == "_err_" && m.Error == "" {
					t.Errorf("%s: error reply without text: %s", tt.event, m.raw)
				}
			}
			// Events without _EID_ get no reply, even when they fail.
			c.emit(0, "add", "x")
			c.emit(0, "nope")
			c.emit(0, "fail", 500)
			c.ok(99, "add", 1, 1)
		})
	}
	st := s.Hub().Stats()
	if st.BadArgs.Load() < 6 || st.UnknownEvents.Load() < 8 {
		t.Errorf("BadArgs = %d, UnknownEvents = %d", st.BadArgs.Load(), st.UnknownEvents.Load())
	}
}

func TestEventEIDEchoedRaw(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	c := dialPeer(t, s, "/peer")
	for _, eid := range []string{`"abc"`, `7.5`, `{"k":[1]}`} {
		c.sendText(`{"event":"add","_EID_":` + eid + `,"args":[1,2]}`)
		if m := c.expect("_ack_"); string(m.EID) != eid || string(m.Data) != "3" {
			t.Fatalf("got %s for _EID_ %s", m.raw, eid)
		}
	}
}

func TestUnknownHandler(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	c := dialPeer(t, s, "/unk")
	c.sendText(`{"event":"whatever","_EID_":5,"args":[1,"two"]}`)
	if m := c.expect("unknown"); m.arg(0) != "whatever" || m.arg(1) != `[1,"two"]` {
		t.Fatalf("got %s", m.raw)
	}
	if m := c.expect("_ack_"); string(m.EID) != "5" {
		t.Fatalf("got %s", m.raw)
	}
	c.sendText(`{"event":"objecty","x":1}`)
	if m := c.expect("unknown"); m.arg(0) != "objecty" || m.arg(1) != `{"event":"objecty","x":1}` {
		t.Fatalf("got %s", m.raw)
	}
	// Unknown also takes fan-out events the type has no method for.
	s.Hub().Multicast("elsewhere", 1)
	if m := c.expect("unknown"); m.arg(0) != "elsewhere" || m.arg(1) != "[1]" {
		t.Fatalf("got %s", m.raw)
	}
	if n := s.Hub().Stats().UnknownEvents.Load(); n != 0 {
		t.Errorf("UnknownEvents = %d with an Unknown handler", n)
	}
}

// TestRawArgsParam: a lone dispatch.RawArgs parameter gets the arguments'
// raw JSON, untouched, however many there are: from a client (the "args"
// array, else the whole object) and from a server-side delivery (the array
// a remote node would see).
func TestRawArgsParam(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	c := dialPeer(t, s, "/take")
	for i, tt := range []struct{ in, want string }{
		{`{"event":"take","_EID_":1,"args":[1, "two",{"x":3}]}`, `[1, "two",{"x":3}]`},
		{`{"event":"take","_EID_":2,"args":[]}`, `[]`},
		{`{"event":"take","_EID_":3,"x":1}`, `{"event":"take","_EID_":3,"x":1}`},
	} {
		c.sendText(tt.in)
		if m := c.expect("took"); m.arg(0) != tt.want {
			t.Fatalf("%s: took %s, want %s", tt.in, m.raw, tt.want)
		}
		if m := c.expect("_ack_"); string(m.EID) != itoa(i+1) {
			t.Fatalf("%s: got %s", tt.in, m.raw)
		}
	}
	s.Hub().Multicast("take", 1, "two", 3)
	if m := c.expect("took"); m.arg(0) != `[1,"two",3]` {
		t.Fatalf("multicast: took %s", m.raw)
	}
}

func TestNotJSON(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	for i, text := range []string{"hello", `{"event":1}`, `{"event":"add"`, `[1,2]`} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := dialPeer(t, s, "/peer")
			c.sendText(text)
			if m := c.expect("_err_"); m.Status != 400 {
				t.Fatalf("got %s", m.raw)
			}
			if code, _ := c.closed(); code != websocket.CloseInvalidFramePayloadData {
				t.Fatalf("close code %d, want 1007", code)
			}
		})
	}
	// Binary messages on a JSON route are not events: a controller without
	// OnMessage drops them and stays open.
	c := dialPeer(t, s, "/peer")
	if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte("bin")); err != nil {
		t.Fatal(err)
	}
	c.ok(1, "add", 1, 1)
	if n := s.Hub().Stats().BadEvents.Load(); n != 4 {
		t.Errorf("BadEvents = %d, want 4", n)
	}
}

// TestOrderPerSender: one sender multicasts 1000 numbered events; each
// receiver, worker or inline, gets all of them in order.
func TestOrderPerSender(t *testing.T) {
	t.Parallel()
	const n = 1000
	s := startServer(t, server.Config{}, routes)
	for _, from := range []string{"/peer", "/peer-inline"} {
		t.Run(from, func(t *testing.T) {
			a := dialPeer(t, s, from)
			rs := []*client{dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline"), dialPeer(t, s, "/other")}
			for i := 0; i < n; i++ {
				a.emit(0, "number", i)
			}
			for _, r := range rs {
				for i := 0; i < n; i++ {
					m := r.expect("seq")
					if m.arg(0) != strconv.Itoa(i) {
						t.Fatalf("receiver %s: got %s, want seq %d", r.id, m.raw, i)
					}
				}
			}
			for _, r := range rs {
				_ = r.ws.Close()
			}
			_ = a.ws.Close()
			eventually(t, "closed", func() bool { return s.Hub().Count() == 0 })
		})
	}
}

// TestOrderPerConnection: worker and inline routes hand messages to the
// controller in the order they arrived.
func TestOrderPerConnection(t *testing.T) {
	t.Parallel()
	const n = 2000
	s := startServer(t, server.Config{}, routes)
	for _, path := range []string{"/echo", "/echo-inline"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			c := dial(t, s, path)
			done := make(chan error, 1)
			go func() {
				for i := 0; i < n; i++ {
					op := websocket.TextMessage
					if i%3 == 0 {
						op = websocket.BinaryMessage
					}
					if err := c.ws.WriteMessage(op, []byte(strconv.Itoa(i))); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for i := 0; i < n; i++ {
				op, p := c.read()
				want := websocket.TextMessage
				if i%3 == 0 {
					want = websocket.BinaryMessage
				}
				if op != want || string(p) != strconv.Itoa(i) {
					t.Fatalf("message %d: got %d %q", i, op, p)
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPanic: a panic in a callback closes that connection with 1011 and the
// server goes on serving the others.
func TestPanic(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	other := dialPeer(t, s, "/peer")
	for _, path := range []string{"/peer", "/peer-inline"} {
		c := dialPeer(t, s, path)
		c.emit(1, "boom")
		if code, _ := c.closed(); code != websocket.CloseInternalServerErr {
			t.Fatalf("%s: close code %d, want 1011", path, code)
		}
		if m := other.ok(1, "add", 20, 22); string(m.Data) != "42" {
			t.Fatalf("after panic: %s", m.raw)
		}
	}
	if p := s.Hub().Stats().Panics.Load(); p != 2 {
		t.Errorf("Panics = %d", p)
	}
	fresh := dialPeer(t, s, "/peer-inline")
	fresh.ok(1, "add", 1, 2)
}
