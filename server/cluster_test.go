package server_test

import (
	"bytes"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// twoNodes boots two servers sharing one in-memory broker and identity
// store: two nodes of one cluster, in one process.
func twoNodes(t *testing.T) (*node, *node, *cluster.Memory) {
	mem := cluster.NewMemory()
	n1 := start(t, server.Config{Broker: mem, Node: "n1"})
	n2 := start(t, server.Config{Broker: mem, Node: "n2"})
	return n1, n2, mem
}

func TestClusterFanout(t *testing.T) {
	t.Parallel()
	n1, n2, _ := twoNodes(t)
	for _, path := range []string{"/peer", "/peer-inline"} {
		t.Run(path, func(t *testing.T) {
			a := dial(t, n1, path)
			b, c := dial(t, n2, "/peer"), dial(t, n2, "/peer-inline")
			o := dial(t, n2, "/other")

			a.emit(1, "mcast", "news", "m1")
			a.expect("_ack_")
			for _, r := range []*client{b, c, o} {
				if m := r.expect("news"); m.arg(0) != "m1" {
					t.Fatalf("multicast: got %s", m.raw)
				}
			}
			a.marker(n1, "multicast skips the sender")

			a.ok(2, "bcast", "news", "b1")
			for _, r := range []*client{b, c} {
				if m := r.expect("news"); m.arg(0) != "b1" {
					t.Fatalf("broadcast: got %s", m.raw)
				}
			}
			o.marker(n2, "broadcast skips other types")
			a.marker(n1, "broadcast skips the sender")

			a.ok(3, "bcast", "hear", "b2")
			for _, r := range []*client{b, c} {
				if m := r.expect("heard"); m.arg(0) != "b2" || m.arg(1) != r.id {
					t.Fatalf("broadcast to a method: got %s", m.raw)
				}
			}

			dispatch.Broadcast[*Other](n1.Hub(), "hear", "b3")
			if m := o.expect("other_heard"); m.arg(0) != "b3" {
				t.Fatalf("got %s", m.raw)
			}
			n1.Hub().Multicast("news", "m2")
			for _, r := range []*client{a, b, c, o} {
				if m := r.expect("news"); m.arg(0) != "m2" {
					t.Fatalf("Hub.Multicast: got %s", m.raw)
				}
			}
			for _, r := range []*client{a, b, c, o} {
				_ = r.ws.Close()
			}
			eventually(t, "connections closed", func() bool { return n1.Hub().Count()+n2.Hub().Count() == 0 })
		})
	}
}

func TestClusterPublish(t *testing.T) {
	t.Parallel()
	n1, n2, _ := twoNodes(t)
	a := dial(t, n1, "/peer")
	b, c := dial(t, n2, "/peer"), dial(t, n2, "/peer-inline")
	e := dial(t, n2, "/peer")
	b.ok(1, "sub", "room")
	c.ok(1, "psub", "room*")
	// Several subscriptions of one connection match: it gets each publish
	// once although its node gets it through each subscription.
	e.ok(1, "psub", "r*")
	e.ok(2, "psub", "ro??")
	e.ok(3, "sub", "roomy")

	a.ok(1, "pub", "room", "hello")
	for _, r := range []*client{b, c, e} {
		if op, p := r.read(); op != websocket.TextMessage || string(p) != "hello" {
			t.Fatalf("got %d %q", op, p)
		}
	}
	bin := []byte{0xde, 0xad, 0, 1}
	a.ok(2, "pub_bin", "room", bin)
	for _, r := range []*client{b, c, e} {
		if op, p := r.read(); op != websocket.BinaryMessage || !bytes.Equal(p, bin) {
			t.Fatalf("got %d %x", op, p)
		}
	}
	n1.Publish("roomy", "pattern only")
	for _, r := range []*client{c, e} {
		if _, p := r.read(); string(p) != "pattern only" {
			t.Fatalf("got %q", p)
		}
	}
	n2.Publish("roomy", "local")
	for _, r := range []*client{c, e} {
		if _, p := r.read(); string(p) != "local" {
			t.Fatalf("got %q", p)
		}
	}
	for _, r := range []*client{b, c, e} {
		r.marker(n2, "once each")
	}
}

func TestClusterUnicast(t *testing.T) {
	t.Parallel()
	n1, n2, _ := twoNodes(t)
	for _, path := range []string{"/peer", "/peer-inline"} {
		t.Run(path, func(t *testing.T) {
			a := dial(t, n1, path)
			b := dial(t, n2, "/peer-inline")
			if m := a.ok(1, "ucast", b.id, "dm", "hi"); string(m.Data) != "true" {
				t.Fatalf("got %s", m.raw)
			}
			if m := b.expect("dm"); m.arg(0) != "hi" {
				t.Fatalf("got %s", m.raw)
			}
			if !n2.Hub().Unicast(a.id, "dm", "back") {
				t.Fatal("Hub.Unicast to the other node = false")
			}
			if m := a.expect("dm"); m.arg(0) != "back" {
				t.Fatalf("got %s", m.raw)
			}

			_ = b.ws.Close()
			eventually(t, "b closed", func() bool { return n2.Hub().Count() == 0 })
			// The sender's node cannot know: true now, OnUnicastFailed
			// later — from the other node, so it may reach the client
			// before or after the call's reply.
			a.emit(2, "ucast", b.id, "dm", "late")
			if r, m := a.both(2, "ufail"); string(r.Data) != "true" || m.arg(0) != b.id || m.arg(1) != "dm" {
				t.Fatalf("got %s and %s, want true and ufail for %s", r.raw, m.raw, b.id)
			}
			_ = a.ws.Close()
			eventually(t, "a closed", func() bool { return n1.Hub().Count() == 0 })
		})
	}
}

func TestClusterNotify(t *testing.T) {
	t.Parallel()
	n1, n2, _ := twoNodes(t)
	b := dial(t, n2, "/peer")
	b.ok(1, "reg", "frank", 2)
	a := dial(t, n1, "/peer-inline")
	a.ok(1, "reg", "frank", 2)
	if !n1.Hub().Notify("frank", "alert", "x") {
		t.Fatal("Notify = false")
	}
	for _, r := range []*client{a, b} {
		if m := r.expect("alert"); m.Identity != "frank" || m.NID != 1 || m.arg(0) != "x" {
			t.Fatalf("got %s", m.raw)
		}
	}
	// A third connection, on n2, replaces the oldest (b, on n2 too) ...
	c := dial(t, n2, "/peer")
	c.emit(1, "reg", "frank", 2)
	if m := c.expect("alert"); m.NID != 1 {
		t.Fatalf("backlog: got %s", m.raw)
	}
	c.expect("_ack_")
	if code, reason := b.closed(); code != 4009 || reason != "replaced" {
		t.Fatalf("b closed with %d %q", code, reason)
	}
	// ... and a fourth on n2 replaces a, on n1: the close crosses nodes.
	d := dial(t, n2, "/peer-inline")
	d.emit(1, "reg", "frank", 2)
	d.expect("alert")
	d.expect("_ack_")
	if code, reason := a.closed(); code != 4009 || reason != "replaced" {
		t.Fatalf("a closed with %d %q", code, reason)
	}
	if !n2.Hub().Notify("frank", "alert", "y") {
		t.Fatal("Notify = false")
	}
	for _, r := range []*client{c, d} {
		if m := r.expect("alert"); m.NID != 2 {
			t.Fatalf("got %s", m.raw)
		}
	}
}
