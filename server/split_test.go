package server_test

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/server"
)

// TestSplitFlushKeepsOrder: while a connection waits for its handshake, a
// long flush of fan-out writes is cut short (Stats.FlushSplits) so that the
// loop reads in between; every subscriber still gets every message, once
// and in order, and a websocket opened meanwhile works.
func TestSplitFlushKeepsOrder(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{Loops: 1})
	// A TCP connection that never sends its request: more TCP connections
	// than websockets from here on.
	idle, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()

	const subs, total = 200, 400
	payload := string(make([]byte, 2048)) // long flushes: 200 × 2 KiB per publish
	conns := make([]*websocket.Conn, subs)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+n.Addr()+"/peer", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(wait))
		if _, _, err := c.ReadMessage(); err != nil { // {"event":"id",...}
			t.Fatal(err)
		}
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"event":"sub","_EID_":1,"args":["b"]}`))
		if _, ack, err := c.ReadMessage(); err != nil || string(ack) != `{"event":"_ack_","_EID_":1}` {
			t.Fatalf("sub ack %s %v", ack, err)
		}
		conns[i] = c
	}
	var wg sync.WaitGroup
	errs := make(chan string, subs)
	for _, c := range conns {
		wg.Add(1)
		go func(c *websocket.Conn) {
			defer wg.Done()
			for i := range total {
				_ = c.SetReadDeadline(time.Now().Add(wait))
				_, m, err := c.ReadMessage()
				if err != nil {
					errs <- "message " + strconv.Itoa(i) + ": " + err.Error()
					return
				}
				if want := strconv.Itoa(i) + payload; string(m) != want {
					errs <- "message " + strconv.Itoa(i) + " out of order: got " + string(m[:min(len(m), 8)])
					return
				}
			}
		}(c)
	}
	st := n.Stats()
	for i := range total {
		n.Publish("b", strconv.Itoa(i)+payload)
	}
	// A connection opened while the flushes run gets its 101 and its
	// messages.
	late, _, err := websocket.DefaultDialer.Dial("ws://"+n.Addr()+"/peer", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	_ = late.SetReadDeadline(time.Now().Add(wait))
	if _, _, err := late.ReadMessage(); err != nil {
		t.Fatalf("late connection: %v", err)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if st.FlushSplits.Load() == 0 {
		t.Fatal("no flush was split: the test did not test it")
	}
}
