package dispatch_test

import (
	"bytes"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

func TestMulticast(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	a, b := dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline")
	o := dialPeer(t, s, "/other")

	a.emit(0, "mcast", "news", "one")
	for _, c := range []*client{b, o} {
		if m := c.expect("news"); m.arg(0) != "one" {
			t.Fatalf("got %s", m.raw)
		}
	}
	a.marker(s, "sender skipped")

	s.Hub().Multicast("news", "two")
	for _, c := range []*client{a, b, o} {
		if m := c.expect("news"); m.arg(0) != "two" {
			t.Fatalf("got %s", m.raw)
		}
	}
}

func TestBroadcast(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	a, b, c := dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline")
	o := dialPeer(t, s, "/other")

	t.Run("forwarded", func(t *testing.T) {
		a.emit(0, "bcast", "news", "x")
		for _, r := range []*client{b, c} {
			if m := r.expect("news"); m.arg(0) != "x" {
				t.Fatalf("got %s", m.raw)
			}
		}
		a.marker(s, "sender skipped")
		o.marker(s, "other type skipped")
	})
	t.Run("method", func(t *testing.T) {
		a.emit(0, "bcast", "hear", "y")
		for _, r := range []*client{b, c} {
			m := r.expect("heard")
			if m.arg(0) != "y" || m.arg(1) != r.id {
				t.Fatalf("got %s, want heard by %s", m.raw, r.id)
			}
		}
		a.marker(s, "sender's method not run")
		o.marker(s, "other type's method not run")
	})
	t.Run("outside", func(t *testing.T) {
		dispatch.Broadcast[*Peer](s.Hub(), "hear", "z")
		for _, r := range []*client{a, b, c} {
			if m := r.expect("heard"); m.arg(0) != "z" || m.arg(1) != r.id {
				t.Fatalf("got %s", m.raw)
			}
		}
		dispatch.Broadcast[*Other](s.Hub(), "hear", "w")
		if m := o.expect("other_heard"); m.arg(0) != "w" {
			t.Fatalf("got %s", m.raw)
		}
		a.marker(s, "other type's broadcast skipped")
		s.Hub().BroadcastTo("Other", "news", "v")
		if m := o.expect("news"); m.arg(0) != "v" {
			t.Fatalf("got %s", m.raw)
		}
	})
}

func TestUnicast(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	a, b := dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline")

	if m := a.ok(1, "ucast", b.id, "dm", "hi"); string(m.Data) != "true" {
		t.Fatalf("unicast to a live id: %s", m.raw)
	}
	if m := b.expect("dm"); m.arg(0) != "hi" {
		t.Fatalf("got %s", m.raw)
	}
	if !s.Hub().Unicast(a.id, "dm", "from outside") {
		t.Fatal("Hub.Unicast to a live id = false")
	}
	if m := a.expect("dm"); m.arg(0) != "from outside" {
		t.Fatalf("got %s", m.raw)
	}

	_ = b.ws.Close()
	eventually(t, "b closed", func() bool { return s.Hub().Count() == 1 })
	if m := a.ok(2, "ucast", b.id, "dm", "late"); string(m.Data) != "false" {
		t.Fatalf("unicast to a closed connection: %s", m.raw)
	}
	if m := a.expect("ufail"); m.arg(0) != b.id || m.arg(1) != "dm" {
		t.Fatalf("OnUnicastFailed for a local miss: %s", m.raw)
	}
	if s.Hub().Unicast(b.id, "dm", "late") {
		t.Fatal("Hub.Unicast to a closed connection = true")
	}
	for _, id := range []string{"", "garbage", s.Hub().Node() + "-zz", s.Hub().Node() + "-ffffffffffffffff"} {
		if s.Hub().Unicast(id, "dm") {
			t.Errorf("Unicast(%q) = true", id)
		}
	}
}

// TestUnicastRecycledSlot: a new connection reusing a freed slot never
// answers to the old connection's id.
func TestUnicastRecycledSlot(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{Loops: 1}, routes)
	keep := dialPeer(t, s, "/peer")
	a := dialPeer(t, s, "/peer")
	old := a.id
	_ = a.ws.Close()
	eventually(t, "a closed", func() bool { return s.Hub().Count() == 1 })
	b := dialPeer(t, s, "/peer")
	if b.id == old {
		t.Fatalf("new connection got the old id %s", old)
	}
	if s.Hub().Unicast(old, "dm", "stale") {
		t.Fatal("Unicast(old id) = true")
	}
	if m := keep.ok(1, "ucast", old, "dm", "stale"); string(m.Data) != "false" {
		t.Fatalf("Socket.Unicast(old id): %s", m.raw)
	}
	b.marker(s, "nothing for the old id")
}

func TestPubSub(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	a, b, c := dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline"), dialPeer(t, s, "/peer")
	a.ok(1, "sub", "room")
	b.ok(1, "sub", "room")
	c.ok(1, "sub", "elsewhere")

	// Text is written as-is, with no callback: the subscriber's Hear does
	// not run although the payload names it.
	const text = `{"event":"hear","args":["raw"]}`
	a.emit(0, "pub", "room", text)
	for _, r := range []*client{a, b} {
		op, p := r.read()
		if op != websocket.TextMessage || string(p) != text {
			t.Fatalf("got %d %q, want text %q", op, p, text)
		}
	}
	c.marker(s, "other channel")

	bin := []byte{0, 1, 2, 0xff, 'x'}
	a.emit(0, "pub_bin", "room", bin)
	for _, r := range []*client{a, b} {
		if op, p := r.read(); op != websocket.BinaryMessage || !bytes.Equal(p, bin) {
			t.Fatalf("got %d %x, want binary %x", op, p, bin)
		}
	}
	s.Hub().PublishBinary("room", bin)
	for _, r := range []*client{a, b} {
		if op, p := r.read(); op != websocket.BinaryMessage || !bytes.Equal(p, bin) {
			t.Fatalf("got %d %x, want binary %x", op, p, bin)
		}
	}

	a.emit(0, "pub_event", "room", "said", "hello")
	for _, r := range []*client{a, b} {
		if m := r.expect("said"); m.arg(0) != "hello" || m.raw != `{"event":"said","args":["hello"]}` {
			t.Fatalf("got %s", m.raw)
		}
	}
	if err := s.Hub().PublishEvent("room", "said", 7); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*client{a, b} {
		if m := r.expect("said"); m.arg(0) != "7" {
			t.Fatalf("got %s", m.raw)
		}
	}

	b.ok(2, "unsub", "room")
	s.Publish("room", "after unsubscribe")
	if _, p := a.read(); string(p) != "after unsubscribe" {
		t.Fatalf("got %q", p)
	}
	b.marker(s, "unsubscribed")
	c.marker(s, "never subscribed")
}

func TestSubscribePattern(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	a, b := dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer")
	a.ok(1, "psub", "news.*")
	b.ok(1, "psub", "h[ae]llo")
	b.ok(2, "sub", "hello") // a channel and two matching patterns: once
	b.ok(3, "psub", "h*")

	tests := []struct {
		channel string
		a, b    bool
	}{
		{"news.sport", true, false},
		{"news.", true, false},
		{"news", false, false},
		{"hello", false, true},
		{"hallo", false, true},
		{"hillo", false, true},
		{"jello", false, false},
	}
	for _, tt := range tests {
		s.Publish(tt.channel, "to "+tt.channel)
		for _, r := range []struct {
			c    *client
			want bool
		}{{a, tt.a}, {b, tt.b}} {
			if !r.want {
				continue
			}
			if _, p := r.c.read(); string(p) != "to "+tt.channel {
				t.Fatalf("%s: got %q", tt.channel, p)
			}
		}
	}
	a.marker(s, "only matching channels")
	b.marker(s, "only matching channels, once each")

	a.ok(2, "unsub", "news.*")
	s.Publish("news.sport", "late")
	a.marker(s, "pattern unsubscribed")
}
