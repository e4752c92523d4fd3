package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// start runs peer name on a free port until the test ends.
func start(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- servers[name](options{addr: addr, maxMessage: 1 << 20, outLimit: 4 << 20}, stop) }()
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("%s stopped with %v", name, err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never listened: %v", name, err)
		}
		time.Sleep(10 * time.Millisecond) // polling a starting server, with a deadline
	}
}

func dial(t *testing.T, addr, path string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return c
}

// wsPeers are the websocket peers tested here; peers_norace_test.go adds
// nbio when the race detector is off.
var wsPeers = []string{"gorilla", "gws", "gnetws"}

func TestWebsocketPeers(t *testing.T) {
	for _, name := range wsPeers {
		t.Run(name, func(t *testing.T) {
			addr := start(t, name)
			echo := dial(t, addr, "/echo")
			for _, m := range []struct {
				mt int
				p  []byte
			}{{websocket.TextMessage, []byte("héllo")}, {websocket.BinaryMessage, bytes.Repeat([]byte{0, 1}, 40000)}} {
				if err := echo.WriteMessage(m.mt, m.p); err != nil {
					t.Fatal(err)
				}
				mt, p, err := echo.ReadMessage()
				if err != nil || mt != m.mt || !bytes.Equal(p, m.p) {
					t.Fatalf("echo: type %d len %d err %v", mt, len(p), err)
				}
			}
			subs := []*websocket.Conn{dial(t, addr, "/push"), dial(t, addr, "/push"), dial(t, addr, "/push")}
			waitSubscribed(t, subs)
			if err := subs[1].WriteMessage(websocket.BinaryMessage, []byte("fan-out")); err != nil {
				t.Fatal(err)
			}
			for i, c := range subs {
				if mt, p, err := c.ReadMessage(); err != nil || mt != websocket.BinaryMessage || string(p) != "fan-out" {
					t.Fatalf("subscriber %d: %q %v", i, p, err)
				}
			}
			checkHTTP(t, addr)
		})
	}
}

// waitSubscribed pings through /push until every subscriber hears it: the
// servers register a subscriber after the upgrade response is written.
func waitSubscribed(t *testing.T, subs []*websocket.Conn) {
	t.Helper()
	if err := subs[0].WriteMessage(websocket.TextMessage, []byte("ready?")); err != nil {
		t.Fatal(err)
	}
	for i, c := range subs {
		if _, p, err := c.ReadMessage(); err != nil || string(p) != "ready?" {
			t.Fatalf("subscriber %d: %q %v", i, p, err)
		}
	}
}

func checkHTTP(t *testing.T, addr string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/debug/heap")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]uint64
	err = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if err != nil || h["heap_inuse"] == 0 || h["goroutines"] == 0 {
		t.Fatalf("/debug/heap: %v %v", h, err)
	}
	resp, err = http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestRawPeers(t *testing.T) {
	t.Run("gnetraw echoes bytes", func(t *testing.T) {
		addr := start(t, "gnetraw")
		c := tcp(t, addr)
		msg := []byte("\x82\x85abcdhello")
		c.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%q %v", got, err)
		}
		checkHTTP(t, addr)
	})
	t.Run("rawloop writes to every socket", func(t *testing.T) {
		addr := start(t, "rawloop")
		conns := []net.Conn{tcp(t, addr), tcp(t, addr), tcp(t, addr)}
		// rawloop learns of a connection when it accepts it: retry until all hear.
		deadline := time.Now().Add(10 * time.Second)
		for heard := 0; heard < len(conns); {
			if time.Now().After(deadline) {
				t.Fatal("not every socket heard the sender")
			}
			conns[0].Write([]byte("x"))
			heard = 0
			for _, c := range conns {
				_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				var b [64]byte
				if n, _ := c.Read(b[:]); n > 0 {
					heard++
				}
			}
		}
		checkHTTP(t, addr)
	})
}

func tcp(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}
