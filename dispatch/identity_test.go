package dispatch_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/server"
)

// idServer boots a single node whose identities live in mem.
func idServer(t *testing.T) (*server.Server, *cluster.Memory) {
	mem := cluster.NewMemory()
	return startServer(t, server.Config{Identities: mem}, routes), mem
}

// expectNotes reads notifications for identity with ids want, in order.
func expectNotes(t *testing.T, c *client, identity string, want ...uint64) {
	t.Helper()
	for _, id := range want {
		m := c.expect("alert")
		if m.Identity != identity || m.NID != id || m.arg(0) != "n"+strconv.FormatUint(id, 10) {
			t.Fatalf("got %s, want %s note %d", m.raw, identity, id)
		}
	}
}

func TestNotifyLive(t *testing.T) {
	t.Parallel()
	s, _ := idServer(t)
	if s.Hub().Notify("alice", "alert", "n0") || s.Hub().Registered("alice") {
		t.Fatal("Notify/Registered true before any RegisterAs")
	}
	cs := []*client{dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline"), dialPeer(t, s, "/peer")}
	for _, c := range cs {
		c.ok(1, "reg", "alice", 5)
	}
	if !s.Hub().Registered("alice") {
		t.Fatal("Registered(alice) = false")
	}
	for i := uint64(1); i <= 3; i++ {
		if !s.Hub().Notify("alice", "alert", "n"+strconv.FormatUint(i, 10)) {
			t.Fatalf("Notify %d = false", i)
		}
	}
	for _, c := range cs {
		expectNotes(t, c, "alice", 1, 2, 3)
	}
	// A note whose event the controller has as a method runs the method.
	if !s.Hub().Notify("alice", "hear", "via note") {
		t.Fatal("Notify(hear) = false")
	}
	for _, c := range cs {
		if m := c.expect("heard"); m.arg(0) != "via note" || m.arg(1) != c.id {
			t.Fatalf("got %s", m.raw)
		}
	}
}

func TestNotifyMailbox(t *testing.T) {
	t.Parallel()
	s, _ := idServer(t)
	a := dialPeer(t, s, "/peer")
	a.ok(1, "reg", "bob", 1)
	_ = a.ws.Close()
	eventually(t, "a closed", func() bool { return s.Hub().Count() == 0 })
	for i := 1; i <= 4; i++ {
		if !s.Hub().Notify("bob", "alert", "n"+strconv.Itoa(i)) {
			t.Fatalf("Notify %d while offline = false", i)
		}
	}

	t.Run("all", func(t *testing.T) {
		c := dialPeer(t, s, "/peer")
		c.emit(1, "reg", "bob", 3)
		expectNotes(t, c, "bob", 1, 2, 3, 4)
		c.expect("_ack_")
		// Registering again, or a note it has seen, delivers nothing twice.
		c.ok(2, "reg", "bob", 3)
		s.Hub().Notify("bob", "alert", "n5")
		expectNotes(t, c, "bob", 5)
		c.marker(s, "no duplicates")
	})
	t.Run("resume", func(t *testing.T) {
		c := dialPeer(t, s, "/peer"+resumeQuery(map[string]uint64{"bob": 3}))
		c.emit(1, "reg", "bob", 3)
		expectNotes(t, c, "bob", 4, 5)
		c.expect("_ack_")
		c.marker(s, "only newer than the resume point")
	})
	t.Run("resume other identity", func(t *testing.T) {
		c := dialPeer(t, s, "/peer"+resumeQuery(map[string]uint64{"nobody": 9}))
		c.emit(1, "reg", "bob", 3)
		expectNotes(t, c, "bob", 1, 2, 3, 4, 5)
		c.expect("_ack_")
	})
}

func TestMaxConnections(t *testing.T) {
	t.Parallel()
	s, _ := idServer(t)
	a, b, c := dialPeer(t, s, "/peer"), dialPeer(t, s, "/peer-inline"), dialPeer(t, s, "/peer")
	a.ok(1, "reg", "carol", 2)
	b.ok(1, "reg", "carol", 2)
	c.ok(1, "reg", "carol", 2)
	if code, reason := a.closed(); code != 4009 || reason != "replaced" {
		t.Fatalf("oldest closed with %d %q, want 4009 replaced", code, reason)
	}
	s.Hub().Notify("carol", "alert", "n1")
	expectNotes(t, b, "carol", 1)
	expectNotes(t, c, "carol", 1)
	// The default cap is one connection.
	d := dialPeer(t, s, "/peer")
	d.ok(2, "reg_for", "dan", 60)
	e := dialPeer(t, s, "/peer")
	e.emit(2, "reg", "dan", 0)
	if code, _ := d.closed(); code != 4009 {
		t.Fatalf("close code %d, want 4009", code)
	}
}

func TestIdentityExpiry(t *testing.T) {
	t.Parallel()
	s, mem := idServer(t)
	var skew atomic.Int64
	mem.SetClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	c := dialPeer(t, s, "/peer")
	c.ok(1, "reg_for", "erin", 20) // 20 minutes
	c.ok(2, "reg_for", "fred", 1)  // below the 10 minute minimum
	skew.Store(int64(15 * time.Minute))
	if !s.Hub().Notify("erin", "alert", "n1") { // renews erin for 20 minutes
		t.Fatal("Notify(erin) = false before expiry")
	}
	expectNotes(t, c, "erin", 1)
	if s.Hub().Registered("fred") || s.Hub().Notify("fred", "alert", "x") {
		t.Fatal("fred alive past the 10 minute minimum")
	}
	skew.Store(int64(30 * time.Minute))
	if !s.Hub().Registered("erin") {
		t.Fatal("erin expired although a delivery renewed it")
	}
	skew.Store(int64(36 * time.Minute))
	if s.Hub().Registered("erin") || s.Hub().Notify("erin", "alert", "n2") {
		t.Fatal("erin alive past its lifetime")
	}
	c.marker(s, "nothing after expiry")
}

func TestTwoIdentitiesOneConnection(t *testing.T) {
	t.Parallel()
	s, _ := idServer(t)
	c := dialPeer(t, s, "/peer-inline")
	c.ok(1, "reg", "gus", 1)
	c.ok(2, "reg", "hal", 1)
	s.Hub().Notify("gus", "alert", "n1")
	s.Hub().Notify("hal", "alert", "n1")
	s.Hub().Notify("hal", "alert", "n2")
	expectNotes(t, c, "gus", 1)
	expectNotes(t, c, "hal", 1, 2)
	_ = c.ws.Close()
	eventually(t, "closed", func() bool { return s.Hub().Count() == 0 })
	// Both identities outlive the connection and keep their mailboxes.
	s.Hub().Notify("gus", "alert", "n2")
	d := dialPeer(t, s, "/peer"+resumeQuery(map[string]uint64{"gus": 1, "hal": 2}))
	d.ok(1, "reg", "hal", 1)
	d.emit(2, "reg", "gus", 1)
	expectNotes(t, d, "gus", 2)
	d.expect("_ack_")
}

// TestBareServerIdentities: a server with no Broker and no Identities (the
// hub keeps its own in-process store) offers the whole identity API on its
// one node, resume included.
func TestBareServerIdentities(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, routes)
	c := dialPeer(t, s, "/peer")
	c.ok(1, "reg", "dora", 2)
	if !s.Hub().Registered("dora") || !s.Hub().Notify("dora", "alert", "n1") {
		t.Fatal("RegisterAs or Notify failed on a bare server")
	}
	expectNotes(t, c, "dora", 1)
	if !s.Hub().Notify("dora", "alert", "n2") {
		t.Fatal("second Notify failed")
	}
	expectNotes(t, c, "dora", 2)
	again := dialPeer(t, s, "/peer"+resumeQuery(map[string]uint64{"dora": 1}))
	again.emit(1, "reg", "dora", 2)
	expectNotes(t, again, "dora", 2) // the backlog after the resume point, then the ack
	if m := again.expect("_ack_"); string(m.EID) != "1" {
		t.Fatalf("got %s", m.raw)
	}
}
