package dispatch_test

import (
	"strconv"
	"testing"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/server"
)

// TestUnicastMalformedID: a crafted id (a slot past int32, a loop past the
// node's loops, bad hex, no node) never panics the sender's callback: the
// Unicast reports failure (false, then OnUnicastFailed), the connection
// stays open and no panic is counted.
func TestUnicastMalformedID(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	node := s.Hub().Node()
	ids := []string{
		node + "-80000000000000", // slot 0x80000000: int32 min
		node + "-ffffffffffffff", // slot 0xffffffff: -1
		node + "-ff00000000000000",
		node + "-ffffffffffffffff",
		node + "-10000000000000000", // 65 bits
		node + "-zz", node + "-", node + "--1", node + "-+1", node + "-0x1",
		node + "-01", node + "-FF", node + "- 1",
		node, "", "-", "-1",
	}
	for _, path := range []string{"/peer", "/peer-inline"} {
		c := dialPeer(t, s, path)
		for i, id := range ids {
			c.emit(i+1, "ucast", id, "hear", "x")
			// An inline route runs OnUnicastFailed at once, before the ack.
			seen := map[string]bool{}
			for range 2 {
				m := c.next()
				if seen[m.Event] {
					t.Fatalf("%s: Unicast to %q: %s twice", path, id, m.raw)
				}
				seen[m.Event] = true
				switch m.Event {
				case "_ack_":
					if string(m.Data) != "false" || string(m.EID) != itoa(i+1) {
						t.Fatalf("%s: Unicast to %q answered %s, want false", path, id, m.raw)
					}
				case "ufail":
					if m.arg(0) != id || m.arg(1) != "hear" {
						t.Fatalf("%s: OnUnicastFailed for %q: %s", path, id, m.raw)
					}
				default:
					t.Fatalf("%s: Unicast to %q: got %s", path, id, m.raw)
				}
			}
		}
		c.ok(99, "add", 1, 2)
	}
	if p := s.Hub().Stats().Panics.Load(); p != 0 {
		t.Errorf("Panics = %d", p)
	}
	if s.Hub().Unicast(node+"-80000000000000", "hear", "x") {
		t.Error("Hub.Unicast to a crafted id returned true")
	}
}

// TestNodeWithDash: a node name with '-' in it (as in "eu-west-1") keeps
// local Unicast and live Notify working; a Unicast to a closed connection
// still fails.
func TestNodeWithDash(t *testing.T) {
	t.Parallel()
	mem := cluster.NewMemory()
	s := startServer(t, server.Config{Node: "eu-west-1", Broker: mem}, routes)
	a, b, c := dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline"), dialPeer(t, s, "/peer")
	for i, to := range []*client{b, c} {
		if m := a.ok(i+1, "ucast", to.id, "news", "hi "+strconv.Itoa(i)); string(m.Data) != "true" {
			t.Fatalf("Unicast to %s: %s", to.id, m.raw)
		}
		if m := to.expect("news"); m.arg(0) != "hi "+strconv.Itoa(i) {
			t.Fatalf("got %s", m.raw)
		}
	}
	b.ok(3, "reg", "dash", 1)
	if !s.Hub().Notify("dash", "alert", "n1") {
		t.Fatal("Notify = false")
	}
	if m := b.expect("alert"); m.NID != 1 || m.arg(0) != "n1" {
		t.Fatalf("got %s", m.raw)
	}
	gone := b.id
	_ = b.ws.Close()
	eventually(t, "b closed", func() bool { return s.Hub().Count() == 2 })
	if m := a.ok(4, "ucast", gone, "news", "late"); string(m.Data) != "false" {
		t.Fatalf("Unicast to a closed connection: %s", m.raw)
	}
	a.expect("ufail")
}
