package server_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/server"
)

// readResponse reads the response a connection gets without sending
// anything.
func readResponse(t *testing.T, c net.Conn) *http.Response {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	_ = resp.Body.Close()
	return resp
}

// TestMaxConnectionsCountsTCP: plain TCP connections that never upgrade
// count against MaxConnections; one past it reads a 503 (and so does a
// websocket dial), and a freed slot lets a websocket in.
func TestMaxConnectionsCountsTCP(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{MaxConnections: 2})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", n.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp := readResponse(t, c); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third connection: %d %v", resp.StatusCode, resp.Header)
	}
	d := websocket.Dialer{HandshakeTimeout: wait}
	if ws, resp, err := d.Dial("ws://"+n.Addr()+"/peer", nil); err == nil {
		_ = ws.Close()
		t.Fatal("a websocket opened past MaxConnections")
	} else if resp != nil && resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("websocket past MaxConnections: %d", resp.StatusCode)
	}
	if got := n.Stats().Refused.Load(); got != 2 {
		t.Fatalf("Refused %d, want 2", got)
	}
	_ = held[0].Close()
	eventually(t, "a websocket in the freed slot", func() bool {
		ws, _, err := d.Dial("ws://"+n.Addr()+"/peer", nil)
		if err == nil {
			_ = ws.Close()
		}
		return err == nil
	})
}

// TestReusePortTwoServers: with ReusePort two servers listen on one port
// and the kernel spreads connections over both.
func TestReusePortTwoServers(t *testing.T) {
	t.Parallel()
	a := start(t, server.Config{ReusePort: true, Loops: 1})
	s := server.New(server.Config{Addr: a.Addr(), ReusePort: true, Loops: 1, Logger: quiet})
	routes(s)
	b := run(t, s)
	if b.Addr() != a.Addr() {
		t.Fatalf("second server on %s, first on %s", b.Addr(), a.Addr())
	}
	for i := 0; a.Stats().Accepted.Load() == 0 || b.Stats().Accepted.Load() == 0; i++ {
		if i == 200 {
			t.Fatalf("200 connections: %d and %d accepted", a.Stats().Accepted.Load(), b.Stats().Accepted.Load())
		}
		if status, body := rawGet(t, a.Addr(), "/healthz"); status != http.StatusOK {
			t.Fatalf("healthz: %d %q", status, body)
		}
	}
}

// TestSignalsAreTheEmbeddersByDefault: without HandleSignals a SIGTERM
// reaches the embedder's handler and the server goes on serving; with it
// the server drains (close 1001) and Run returns.
func TestSignalsAreTheEmbeddersByDefault(t *testing.T) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM) // the embedder's; also keeps the test process alive
	defer signal.Stop(sig)
	term := func() {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sig:
		case <-time.After(wait):
			t.Fatal("SIGTERM not delivered")
		}
	}
	n := start(t, server.Config{})
	term()
	dial(t, n, "/peer").ok(1, "add", 1, 2)
	if len(n.done) != 0 {
		t.Fatal("Run returned on SIGTERM without HandleSignals")
	}

	m := start(t, server.Config{HandleSignals: true})
	c := dial(t, m, "/peer")
	term()
	if code, _ := c.closed(); code != websocket.CloseGoingAway {
		t.Fatalf("close %d after SIGTERM, want 1001", code)
	}
	eventually(t, "Run returns after SIGTERM", func() bool { return len(m.done) == 1 })
	if err := m.stop(); err != nil {
		t.Fatal(err)
	}
	dial(t, n, "/peer").ok(2, "add", 2, 2)
}

// TestListenError: Run on an address in use (no ReusePort) returns the
// listen error at once and leaves nothing running.
func TestListenError(t *testing.T) {
	t.Parallel()
	a := start(t, server.Config{})
	s := server.New(server.Config{Addr: a.Addr(), Logger: quiet, Loops: 1})
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("Run on %s: %v, want EADDRINUSE", a.Addr(), err)
		}
	case <-time.After(wait):
		t.Fatal("Run on an address in use did not return")
	}
}
