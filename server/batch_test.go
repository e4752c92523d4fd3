package server_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/server"
)

// TestBatchedWritesKeepOrder: publishes, events and direct writes queued
// faster than the loop drains them are written in batches (one writev per
// connection per drain) and must still arrive complete and in order.
func TestBatchedWritesKeepOrder(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{Loops: 1})
	c, _, err := websocket.DefaultDialer.Dial("ws://"+n.Addr()+"/peer", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, first, err := c.ReadMessage() // {"event":"id",...}
	if err != nil {
		t.Fatal(err)
	}
	id := string(first[len(`{"event":"id","args":["`) : len(first)-len(`"]}`)])
	_ = c.WriteMessage(websocket.TextMessage, []byte(`{"event":"sub","_EID_":1,"args":["b"]}`))
	if _, ack, err := c.ReadMessage(); err != nil || string(ack) != `{"event":"_ack_","_EID_":1}` {
		t.Fatalf("sub ack %s %v", ack, err)
	}
	const total = 3000
	go func() {
		for i := range total {
			switch i % 3 {
			case 0:
				n.Publish("b", strconv.Itoa(i))
			case 1:
				n.Unicast(id, "u", i)
			default:
				n.Multicast("m", i)
			}
		}
	}()
	for i := range total {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		_, m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		var want string
		switch i % 3 {
		case 0:
			want = strconv.Itoa(i)
		case 1:
			want = `{"event":"u","args":[` + strconv.Itoa(i) + `]}`
		default:
			want = `{"event":"m","args":[` + strconv.Itoa(i) + `]}`
		}
		if string(m) != want {
			t.Fatalf("message %d: %s, want %s", i, m, want)
		}
	}
}
