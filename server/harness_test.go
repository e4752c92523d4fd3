package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/testutil"
	"github.com/plezigo/plezi/server"
)

// wait bounds every blocking step of a test: boot, shutdown, one read.
const wait = 10 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Peer drives the primitives from client events.
type Peer struct{ dispatch.Socket }

func (p *Peer) OnOpen()                          { _ = p.Emit("id", p.ID()) }
func (p *Peer) OnShutdown()                      { _ = p.Write("bye " + p.ID()) }
func (p *Peer) OnUnicastFailed(id, event string) { _ = p.Emit("ufail", id, event) }

func (p *Peer) Mcast(event, text string)          { p.Multicast(event, text) }
func (p *Peer) Bcast(event, text string)          { p.Broadcast(event, text) }
func (p *Peer) Ucast(id, event, text string) bool { return p.Unicast(id, event, text) }
func (p *Peer) Hear(text string)                  { _ = p.Emit("heard", text, p.ID()) }
func (p *Peer) Sub(ch string)                     { p.Subscribe(ch) }
func (p *Peer) Psub(pattern string)               { p.SubscribePattern(pattern) }
func (p *Peer) Pub(ch, text string)               { p.Publish(ch, text) }
func (p *Peer) PubBin(ch string, b []byte)        { p.PublishBinary(ch, b) }
func (p *Peer) Reg(identity string, max int) error {
	return p.RegisterAs(identity, dispatch.MaxConnections(max))
}
func (p *Peer) Add(a, b int) int { return a + b }

// Other is a second controller type (a separate broadcast channel).
type Other struct{ dispatch.Socket }

func (o *Other) OnOpen()          { _ = o.Emit("id", o.ID()) }
func (o *Other) Hear(text string) { _ = o.Emit("other_heard", text) }

func routes(s *server.Server) {
	for _, err := range []error{
		s.Route("/peer", func() dispatch.Controller { return new(Peer) }, dispatch.AllClientEvents()),
		s.Route("/peer-inline", func() dispatch.Controller { return new(Peer) }, dispatch.Inline(), dispatch.AllClientEvents()),
		s.Route("/other", func() dispatch.Controller { return new(Other) }),
	} {
		if err != nil {
			panic(err)
		}
	}
}

// node is a running server and the way to stop it.
type node struct {
	*server.Server
	cancel context.CancelFunc
	done   chan error
}

// start boots a server on 127.0.0.1:0; cleanup stops it (if the test did
// not) and checks that Run returned nil.
func start(t testing.TB, cfg server.Config) *node {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = quiet
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	s := server.New(cfg)
	routes(s)
	return run(t, s)
}

// run runs s until the test ends (or stop is called).
func run(t testing.TB, s *server.Server) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{Server: s, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-n.done:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(wait):
		t.Fatal("server not ready")
	}
	t.Cleanup(func() {
		if err := n.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return n
}

// stop cancels Run and waits for it; safe to call twice.
func (n *node) stop() error {
	n.cancel()
	select {
	case err, ok := <-n.done:
		if ok {
			close(n.done)
		}
		return err
	case <-time.After(2 * wait):
		return errors.New("Run did not return after cancel")
	}
}

// eventually polls cond until it holds, for up to wait (testutil.Eventually).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, wait, what, cond)
}

type msg struct {
	Event    string            `json:"event"`
	EID      json.RawMessage   `json:"_EID_"`
	Args     []json.RawMessage `json:"args"`
	Data     json.RawMessage   `json:"data"`
	NID      uint64            `json:"_NID_"`
	Identity string            `json:"_identity"`
	raw      string
}

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

// client is a gorilla/websocket peer of a Peer or Other controller.
type client struct {
	t  testing.TB
	ws *websocket.Conn
	id string
}

func dial(t testing.TB, s *node, path string) *client {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: wait}
	ws, resp, err := d.Dial("ws://"+s.Addr()+path, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	c := &client{t: t, ws: ws}
	c.id = c.expect("id").arg(0)
	return c
}

func (c *client) emit(eid int, name string, args ...any) {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"event": name, "_EID_": eid, "args": args})
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// ok emits and expects the ack as the next message.
func (c *client) ok(eid int, name string, args ...any) msg {
	c.t.Helper()
	c.emit(eid, name, args...)
	m := c.expect("_ack_")
	if b, _ := json.Marshal(eid); string(m.EID) != string(b) {
		c.t.Fatalf("ack %s, want _EID_ %d", m.raw, eid)
	}
	return m
}

func (c *client) read() (int, []byte) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	op, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return op, b
}

func (c *client) expect(name string) msg {
	c.t.Helper()
	_, b := c.read()
	var m msg
	if err := json.Unmarshal(b, &m); err != nil || m.Event != name {
		c.t.Fatalf("got %q, want event %q", b, name)
	}
	m.raw = string(b)
	return m
}

// marker unicasts a marker through s; it must be c's next message.
func (c *client) marker(s *node, tag string) {
	c.t.Helper()
	if !s.Hub().Unicast(c.id, "marker", tag) {
		c.t.Fatalf("marker unicast to %s failed", c.id)
	}
	if m := c.expect("marker"); m.arg(0) != tag {
		c.t.Fatalf("got %s before marker %q", m.raw, tag)
	}
}

// closed reads until the close frame and returns its code and reason.
func (c *client) closed() (int, string) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce.Code, ce.Text
	}
}

// both reads the reply to _EID_ eid and one event name, in either order:
// an event the call caused elsewhere (another node, another goroutine) may
// overtake the call's reply.
func (c *client) both(eid int, name string) (reply, ev msg) {
	c.t.Helper()
	for range 2 {
		_, b := c.read()
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("got %q", b)
		}
		m.raw = string(b)
		switch {
		case (m.Event == "_ack_" || m.Event == "_err_") && string(m.EID) == strconv.Itoa(eid) && reply.raw == "":
			reply = m
		case m.Event == name && ev.raw == "":
			ev = m
		default:
			c.t.Fatalf("got %s, want the reply to %d and %q", m.raw, eid, name)
		}
	}
	return reply, ev
}
