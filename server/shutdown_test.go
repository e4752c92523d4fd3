package server_test

import (
	"context"
	"errors"
	"testing"

	cws "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/server"
)

// TestGracefulShutdown: cancelling Run's context runs OnShutdown on every
// connection, each client gets what OnShutdown wrote and then close 1001,
// and Run returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{})
	var gs []*client
	for _, path := range []string{"/peer", "/peer-inline", "/peer", "/peer-inline"} {
		gs = append(gs, dial(t, n, path))
	}

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cc, resp, err := cws.Dial(ctx, "ws://"+n.Addr()+"/peer-inline", nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	defer cc.CloseNow()
	if _, b, err := cc.Read(ctx); err != nil || !hasEvent(b, "id") {
		t.Fatalf("coder client: %q %v", b, err)
	}
	eventually(t, "all open", func() bool { return n.Connections() == 5 })

	stopped := make(chan error, 1)
	go func() { stopped <- n.stop() }()

	for _, c := range gs {
		if op, b := c.read(); op != websocket.TextMessage || string(b) != "bye "+c.id {
			t.Fatalf("got %d %q, want bye", op, b)
		}
		if code, _ := c.closed(); code != websocket.CloseGoingAway {
			t.Fatalf("close code %d, want 1001", code)
		}
	}
	if typ, b, err := cc.Read(ctx); err != nil || typ != cws.MessageText || len(b) < 4 || string(b[:4]) != "bye " {
		t.Fatalf("coder client: %v %q %v", typ, b, err)
	}
	if _, _, err := cc.Read(ctx); cws.CloseStatus(err) != cws.StatusGoingAway {
		t.Fatalf("coder client: %v, want close 1001", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, _, err := (&websocket.Dialer{}).Dial("ws://"+n.Addr()+"/peer", nil); err == nil {
		t.Fatal("dial succeeded after Run returned")
	}
}

// TestShutdownIdle: Run returns promptly with no connections at all.
func TestShutdownIdle(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{})
	if err := n.stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func hasEvent(b []byte, name string) bool {
	return len(b) > 10 && string(b[:10+len(name)]) == `{"event":"`+name
}
