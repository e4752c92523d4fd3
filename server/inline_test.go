package server_test

import (
	"bytes"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// goid returns the current goroutine's id (from its stack header).
func goid() uint64 {
	var b [64]byte
	s := b[:runtime.Stack(b[:], false)]
	s = bytes.TrimPrefix(s, []byte("goroutine "))
	n, _ := strconv.ParseUint(string(s[:bytes.IndexByte(s, ' ')]), 10, 64)
	return n
}

// Pinned runs on an inline route and reports whether each callback ran on
// the goroutine that ran OnOpen: the connection's event loop.
type Pinned struct {
	dispatch.Socket
	loop uint64 // goroutine of OnOpen
}

func (p *Pinned) OnOpen() {
	p.loop = goid()
	_ = p.Emit("id", p.ID())
}
func (p *Pinned) OnUnicastFailed(id, event string) { _ = p.Emit("ufail", goid() == p.loop) }
func (p *Pinned) OnShutdown()                      { _ = p.Emit("shutdown", goid() == p.loop) }
func (p *Pinned) Ucast(id string) bool             { return p.Unicast(id, "dm") }
func (p *Pinned) Where() bool                      { return goid() == p.loop }

// TestInlineCallbacksOnLoop: callbacks that other goroutines trigger
// (OnUnicastFailed from the broker, OnShutdown from the drain) still run on
// the connection's event loop for inline routes.
func TestInlineCallbacksOnLoop(t *testing.T) {
	t.Parallel()
	mem := cluster.NewMemory()
	n2 := start(t, server.Config{Broker: mem, Loops: 1})
	n1cfg := server.Config{Broker: mem, Loops: 1, Addr: "127.0.0.1:0", Logger: quiet, Workers: 2}
	s1 := server.New(n1cfg)
	if err := s1.Route("/pinned", func() dispatch.Controller { return new(Pinned) }, dispatch.Inline(), dispatch.ClientEvents("ucast", "where")); err != nil {
		t.Fatal(err)
	}
	n1 := run(t, s1)

	gone := dial(t, n2, "/peer")
	_ = gone.ws.Close()
	eventually(t, "closed", func() bool { return n2.Hub().Count() == 0 })

	p := dial(t, n1, "/pinned")
	if m := p.ok(1, "where"); string(m.Data) != "true" {
		t.Fatalf("event method off the loop: %s", m.raw)
	}
	p.emit(2, "ucast", gone.id)
	if r, m := p.both(2, "ufail"); r.Event != "_ack_" || m.arg(0) != "true" {
		t.Fatalf("OnUnicastFailed off the loop: %s, %s", r.raw, m.raw)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- n1.stop() }()
	if m := p.expect("shutdown"); m.arg(0) != "true" {
		t.Fatalf("OnShutdown off the loop: %s", m.raw)
	}
	if code, _ := p.closed(); code != websocket.CloseGoingAway {
		t.Fatalf("close %d", code)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// NewsReader subscribes to "news" in OnOpen, on an inline route: by the
// time its client has the 101, the subscription holds.
type NewsReader struct{ dispatch.Socket }

func (r *NewsReader) OnOpen() { r.Subscribe("news") }

// TestSubscribedWhenUpgraded: a publish made after a client's handshake
// completed reaches it, whichever loop it landed on (a fan-out skips the
// loops it thinks empty, so the connection must count before its 101).
func TestSubscribedWhenUpgraded(t *testing.T) {
	t.Parallel()
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 4})
	if err := s.Route("/sub", func() dispatch.Controller { return new(NewsReader) }, dispatch.Inline()); err != nil {
		t.Fatal(err)
	}
	n := run(t, s)
	for i := range 40 {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+n.Addr()+"/sub", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "m" + strconv.Itoa(i)
		n.Publish("news", want)
		_ = ws.SetReadDeadline(time.Now().Add(wait))
		_, got, err := ws.ReadMessage()
		_ = ws.Close()
		if err != nil || string(got) != want {
			t.Fatalf("connection %d: first message %q, %v; want %q", i, got, err, want)
		}
	}
}
