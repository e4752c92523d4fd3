package main

// Tests of the /unicast route (the S4 benchmark's contract, mounted by
// -unicast only) through
// gorilla/websocket clients: one node, and two nodes sharing the real Redis
// at 127.0.0.1:6379 (it must answer: these tests fail, never skip, without
// it; scripts/test.sh starts it).

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/server"
)

// dialUnicast connects to /unicast and returns the connection with the id
// the server sent as its first message.
func dialUnicast(t *testing.T, addr string) (*websocket.Conn, string) {
	t.Helper()
	c := gorillaDial(t, nil, addr, "/unicast", nil)
	_ = c.SetReadDeadline(time.Now().Add(echoWait))
	mt, id, err := c.ReadMessage()
	if err != nil || mt != websocket.TextMessage || len(id) == 0 || strings.ContainsRune(string(id), ' ') {
		t.Fatalf("first message: type %d %q, err %v; want the connection id as text", mt, id, err)
	}
	return c, string(id)
}

// readText reads one text message (within echoWait).
func readText(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(echoWait))
	mt, p, err := c.ReadMessage()
	if err != nil || mt != websocket.TextMessage {
		t.Fatalf("read: type %d %q, err %v; want a text message", mt, p, err)
	}
	return string(p)
}

// inbox reads c's text messages into a channel until c closes (the test's
// cleanup closes it), so a caller can wait for one with a deadline and
// still read after that: a gorilla read that timed out cannot be retried.
func inbox(t *testing.T, c *websocket.Conn) <-chan string {
	t.Helper()
	ch := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_ = c.SetReadDeadline(time.Time{})
			_, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			select {
			case ch <- string(p):
			default: // nobody waits for more: drop
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return ch
}

// sendUntil sends "<to> <payload>" from c until in yields payload or the
// deadline passes: a node's Redis subscription may still be on its way just
// after it started, and an envelope published before it is lost.
func sendUntil(t *testing.T, c *websocket.Conn, to string, in <-chan string, payload string) {
	t.Helper()
	deadline := time.After(echoWait)
	retry := time.NewTicker(200 * time.Millisecond)
	defer retry.Stop()
	for {
		if err := c.WriteMessage(websocket.TextMessage, []byte(to+" "+payload)); err != nil {
			t.Fatalf("write: %v", err)
		}
		select {
		case got := <-in:
			if got != payload {
				t.Fatalf("got %q, want %q", got, payload)
			}
			return
		case <-retry.C:
		case <-deadline:
			t.Fatalf("%q never reached %s", payload, to)
		}
	}
}

// TestUnicastOffByDefault: without -unicast, an upgrade to /unicast is
// refused with 404 like any unknown path.
func TestUnicastOffByDefault(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t).addr
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(addr, "/unicast"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("upgrade to /unicast without -unicast: %v (response %v), want 404", err, resp)
	}
	resp.Body.Close()
}

func TestUnicastOneNode(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-unicast").addr
	a, idA := dialUnicast(t, addr)
	b, idB := dialUnicast(t, addr)
	if idA == idB {
		t.Fatalf("two connections with id %q", idA)
	}
	for _, tt := range []struct {
		name          string
		from          *websocket.Conn
		to            string
		dst           *websocket.Conn
		payload, want string
	}{
		{"a to b", a, idB, b, "hello", "hello"},
		{"b to a", b, idA, a, "hé llo wörld", "hé llo wörld"},
		{"to itself", a, idA, a, "me", "me"},
		{"empty payload", a, idB, b, "", ""},
	} {
		if err := tt.from.WriteMessage(websocket.TextMessage, []byte(tt.to+" "+tt.payload)); err != nil {
			t.Fatalf("%s: write: %v", tt.name, err)
		}
		if got := readText(t, tt.dst); got != tt.want {
			t.Fatalf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestUnicastCloses(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-unicast").addr
	for _, tt := range []struct {
		name string
		mt   int
		msg  string
		code int
	}{
		{"binary", websocket.BinaryMessage, "x hello", 1003},
		{"no space", websocket.TextMessage, "hello", 1007},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := dialUnicast(t, addr)
			if err := c.WriteMessage(tt.mt, []byte(tt.msg)); err != nil {
				t.Fatal(err)
			}
			if got := gorillaCloseCode(t, c); got != tt.code {
				t.Fatalf("close code %d, want %d", got, tt.code)
			}
		})
	}
}

// TestUnicastGoneTarget: a unicast to an id that is gone writes nothing and
// keeps the sender open.
func TestUnicastGoneTarget(t *testing.T) {
	t.Parallel()
	addr := bootPlezi(t, "-unicast").addr
	a, idA := dialUnicast(t, addr)
	b, idB := dialUnicast(t, addr)
	gone, idGone := dialUnicast(t, addr)
	gone.Close()
	for _, to := range []string{idGone, "nonode-1", "garbage"} {
		if err := b.WriteMessage(websocket.TextMessage, []byte(to+" lost")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.WriteMessage(websocket.TextMessage, []byte(idA+" after")); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, a); got != "after" {
		t.Fatalf("got %q, want \"after\" (and nothing before it)", got)
	}
	if err := a.WriteMessage(websocket.TextMessage, []byte(idB+" still open")); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, b); got != "still open" {
		t.Fatalf("got %q from b after its failed unicasts", got)
	}
}

// redisNode starts the demo app on a Redis broker under prefix.
func redisNode(t *testing.T, prefix string) string {
	t.Helper()
	rb, err := cluster.NewRedis(cluster.RedisConfig{URL: "redis://127.0.0.1:6379/0", Prefix: prefix})
	if err != nil {
		t.Fatalf("Redis at 127.0.0.1:6379 (scripts/test.sh starts it): %v", err)
	}
	t.Cleanup(func() { _ = rb.Close() }) // runs after the server's shutdown
	srv := newApp(server.Config{Addr: "127.0.0.1:0", Broker: rb,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mountUnicast(srv)
	return runApp(t, srv).addr
}

// TestUnicastTwoNodes: A on node 1 reaches B on node 2 through Redis, and
// back.
func TestUnicastTwoNodes(t *testing.T) {
	t.Parallel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "plezitest-" + hex.EncodeToString(b[:])
	n1, n2 := redisNode(t, prefix), redisNode(t, prefix)
	a, idA := dialUnicast(t, n1)
	z, idZ := dialUnicast(t, n2)
	if nodeOf(idA) == nodeOf(idZ) {
		t.Fatalf("ids %s and %s name the same node", idA, idZ)
	}
	inA, inZ := inbox(t, a), inbox(t, z)
	sendUntil(t, a, idZ, inZ, "hello from node 1")
	sendUntil(t, z, idA, inA, "hello from node 2")
}

// nodeOf is the node part of a connection id "<node>-<conn>".
func nodeOf(id string) string { n, _, _ := strings.Cut(id, "-"); return n }
