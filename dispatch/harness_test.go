package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/internal/testutil"
	"github.com/plezigo/plezi/server"
)

// wait bounds every blocking step of a test: boot, shutdown, one read.
const wait = 10 * time.Second

// quiet is a logger for test servers (panics are logged at Error on purpose).
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startServer boots a server on 127.0.0.1:0 with cfg, adds routes, and
// registers its shutdown as cleanup (Run must return nil).
func startServer(t testing.TB, cfg server.Config, routes func(s *server.Server)) *server.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	s := server.New(cfg)
	routes(s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(wait):
		cancel()
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(2 * wait):
			t.Errorf("Run did not return after cancel")
		}
	})
	return s
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, wait, what, cond)
}

// msg is one server message of the JSON protocol.
type msg struct {
	Event    string            `json:"event"`
	EID      json.RawMessage   `json:"_EID_"`
	Args     []json.RawMessage `json:"args"`
	Data     json.RawMessage   `json:"data"`
	Status   int               `json:"status"`
	Error    string            `json:"error"`
	Ref      string            `json:"ref"`
	NID      uint64            `json:"_NID_"`
	Identity string            `json:"_identity"`
	raw      string
}

// arg returns args[i] decoded as a string (or its raw JSON when it is not
// a string).
func (m msg) arg(i int) string {
	if i >= len(m.Args) {
		return ""
	}
	var s string
	if json.Unmarshal(m.Args[i], &s) == nil {
		return s
	}
	return string(m.Args[i])
}

// client is a gorilla/websocket peer. Not safe for concurrent use.
type client struct {
	t  testing.TB
	ws *websocket.Conn
	id string // the connection id, for controllers that announce it
}

// dial opens path (with query) on s.
func dial(t testing.TB, s *server.Server, path string) *client {
	t.Helper()
	c, err := tryDial(s, path)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, ws: c}
}

func tryDial(s *server.Server, path string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: wait}
	c, resp, err := d.Dial("ws://"+s.Addr()+path, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return c, err
}

// dialPeer opens path and reads the "id" event its controller sends first.
func dialPeer(t testing.TB, s *server.Server, path string) *client {
	t.Helper()
	c := dial(t, s, path)
	m := c.expect("id")
	c.id = m.arg(0)
	if c.id == "" {
		t.Fatalf("no id in %s", m.raw)
	}
	return c
}

// resumeQuery returns "?_resume=..." for identity → last seen id.
func resumeQuery(last map[string]uint64) string {
	b, _ := json.Marshal(last)
	return "?_resume=" + url.QueryEscape(string(b))
}

func (c *client) sendText(s string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// emit sends {"event":name,"args":args}, with "_EID_" when eid > 0.
func (c *client) emit(eid int, name string, args ...any) {
	c.t.Helper()
	m := map[string]any{"event": name, "args": args}
	if eid > 0 {
		m["_EID_"] = eid
	}
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendText(string(b))
}

// call emits with an _EID_ and returns the reply (ack or error), which must
// be the next message.
func (c *client) call(eid int, name string, args ...any) msg {
	c.t.Helper()
	c.emit(eid, name, args...)
	m := c.next()
	if (m.Event != "_ack_" && m.Event != "_err_") || string(m.EID) != itoa(eid) {
		c.t.Fatalf("call %s: got %s, want a reply to _EID_ %d", name, m.raw, eid)
	}
	return m
}

// ok is call that must be acked.
func (c *client) ok(eid int, name string, args ...any) msg {
	c.t.Helper()
	m := c.call(eid, name, args...)
	if m.Event != "_ack_" {
		c.t.Fatalf("call %s: %s", name, m.raw)
	}
	return m
}

// read returns the next frame.
func (c *client) read() (int, []byte) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	op, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return op, b
}

// next returns the next message, which must be JSON text.
func (c *client) next() msg {
	c.t.Helper()
	op, b := c.read()
	if op != websocket.TextMessage {
		c.t.Fatalf("got frame type %d, want text", op)
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("not JSON: %q", b)
	}
	m.raw = string(b)
	return m
}

// expect returns the next message, which must be event name.
func (c *client) expect(name string) msg {
	c.t.Helper()
	m := c.next()
	if m.Event != name {
		c.t.Fatalf("got %s, want event %q", m.raw, name)
	}
	return m
}

// closed reads until the connection ends and returns the close code and
// reason the server sent.
func (c *client) closed() (int, string) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, b, err := c.ws.ReadMessage()
		if err == nil {
			c.t.Logf("before close: %q", b)
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce.Code, ce.Text
	}
}

// marker proves that nothing arrived before it: the server Unicasts a
// marker to c, which must be the next message.
func (c *client) marker(s *server.Server, tag string) {
	c.t.Helper()
	if !s.Hub().Unicast(c.id, "marker", tag) {
		c.t.Fatalf("marker unicast to %s failed", c.id)
	}
	if m := c.next(); m.Event != "marker" || m.arg(0) != tag {
		c.t.Fatalf("got %s before marker %q", m.raw, tag)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
