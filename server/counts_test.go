package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// traffic is a snapshot of the node's traffic counters.
type traffic struct{ msgsIn, bytesIn, msgsOut, bytesOut int64 }

func trafficOf(n *node) traffic {
	return traffic{n.MessagesIn(), n.BytesIn(), n.MessagesOut(), n.BytesOut()}
}

// TestTrafficCounters: one client frame and its ack move the message and
// byte counters by exactly what crossed the socket (frame headers
// included: 6 bytes masked from the client, 2 from the server).
func TestTrafficCounters(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{})
	c := dial(t, n, "/peer")
	eventually(t, "the id message counted", func() bool { return n.MessagesOut() == 1 && n.BytesOut() > 2 })
	before := trafficOf(n)
	req := `{"event":"add","_EID_":1,"args":[2,3]}`
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(req)); err != nil {
		t.Fatal(err)
	}
	_, ack := c.read()
	want := traffic{before.msgsIn + 1, before.bytesIn + int64(6+len(req)), before.msgsOut + 1, before.bytesOut + int64(2+len(ack))}
	eventually(t, "the counters to settle", func() bool { return trafficOf(n) == want })
}

// TestFanoutCounters: a publish to three subscribers is one fan-out
// observation of size 3 (not one per recipient), at least one latency
// observation, and three messages out; connections are counted by
// controller type.
func TestFanoutCounters(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{})
	var cs []*client
	for i := range 3 {
		c := dial(t, n, "/peer")
		c.ok(i+1, "sub", "news")
		cs = append(cs, c)
	}
	eventually(t, "three Peer connections", func() bool { return conns(n.Hub())["Peer"] == 3 && n.Hub().Channels() == 1 })
	h := n.Hub().Stats()
	sizes, sum := h.FanoutSize.Snapshot()
	lat, _ := h.DeliveryLatency.Snapshot()
	n.Publish("news", "hello")
	for _, c := range cs {
		if _, b := c.read(); string(b) != "hello" {
			t.Fatalf("got %q, want hello", b)
		}
	}
	eventually(t, "one fan-out of 3", func() bool {
		s2, sum2 := h.FanoutSize.Snapshot()
		return total(s2)-total(sizes) == 1 && s2[2]-sizes[2] == 1 && sum2-sum == 3
	})
	if l2, _ := h.DeliveryLatency.Snapshot(); total(l2) <= total(lat) {
		t.Fatal("no delivery latency observed")
	}
	_ = cs[0].ws.Close()
	eventually(t, "two Peer connections", func() bool { return conns(n.Hub())["Peer"] == 2 })
}

func conns(h *dispatch.Hub) map[string]int64 {
	m := map[string]int64{}
	h.Controllers(func(name string, n int64) { m[name] = n })
	return m
}

func total(b [dispatch.HistogramBuckets]int64) int64 {
	var n int64
	for _, v := range b {
		n += v
	}
	return n
}

// TestHistogramBuckets: bucket i holds (2^(i-1), 2^i]; 0 and 1 are in
// bucket 0, huge values in the last.
func TestHistogramBuckets(t *testing.T) {
	t.Parallel()
	var h dispatch.Histogram
	for _, v := range []int64{-5, 0, 1, 2, 3, 4, 5, 1 << 40} {
		h.Observe(v)
	}
	b, sum := h.Snapshot()
	want := map[int]int64{0: 3, 1: 1, 2: 2, 3: 1, dispatch.HistogramBuckets - 1: 1}
	for i, v := range b {
		if v != want[i] {
			t.Fatalf("bucket %d (le %d) = %d, want %d (all %v)", i, dispatch.HistogramBound(i), v, want[i], b)
		}
	}
	if sum != 15+1<<40 {
		t.Fatalf("sum %d", sum)
	}
}

// Blocker holds its worker shard in OnMessage until released.
type Blocker struct{ dispatch.Socket }

var (
	entered = make(chan struct{}, 8)
	release = make(chan struct{})
)

func (b *Blocker) OnMessage(dispatch.Message) {
	entered <- struct{}{}
	<-release
}

// TestQueueDepth: jobs behind a blocked callback show in QueueDepth and
// leave it once the shard runs them.
func TestQueueDepth(t *testing.T) {
	s := server.New(server.Config{Addr: "127.0.0.1:0", Logger: quiet, Loops: 1, Workers: 1})
	if err := s.Route("/block", func() dispatch.Controller { return new(Blocker) }); err != nil {
		t.Fatal(err)
	}
	n := run(t, s)
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: wait}).Dial("ws://"+n.Addr()+"/block", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send := func() {
		if err := ws.WriteMessage(websocket.TextMessage, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	send()
	select { // the shard runs the first message and blocks
	case <-entered:
	case <-time.After(wait):
		t.Fatal("OnMessage not called")
	}
	send()
	send()
	eventually(t, "two jobs queued behind the blocked one", func() bool { return n.Hub().QueueDepth() == 2 })
	for range 3 {
		release <- struct{}{}
	}
	eventually(t, "an empty queue", func() bool { return n.Hub().QueueDepth() == 0 })
}

// TestRefusedByStatus: refusals are counted by the status they answered,
// and the counts add up to Refused.
func TestRefusedByStatus(t *testing.T) {
	t.Parallel()
	n := start(t, server.Config{Origins: []string{"http://ok.example"}, MaxConnections: 1})
	d := websocket.Dialer{HandshakeTimeout: wait}
	if ws, _, err := d.Dial("ws://"+n.Addr()+"/peer", http.Header{"Origin": {"http://evil.example"}}); err == nil {
		_ = ws.Close()
		t.Fatal("a bad origin upgraded")
	}
	// The refused connection may still count against MaxConnections until
	// its close is seen: wait for a free slot.
	var ok *websocket.Conn
	eventually(t, "an upgrade from the good origin", func() bool {
		ws, _, err := d.Dial("ws://"+n.Addr()+"/peer", http.Header{"Origin": {"http://ok.example"}})
		ok = ws
		return err == nil
	})
	defer ok.Close()
	if ws, _, err := d.Dial("ws://"+n.Addr()+"/peer", http.Header{"Origin": {"http://ok.example"}}); err == nil {
		_ = ws.Close()
		t.Fatal("upgraded past MaxConnections")
	}
	got := map[int]int64{}
	var sum int64
	n.Stats().RefusedStatus.Each(func(status int, c int64) { got[status] = c; sum += c })
	if got[http.StatusForbidden] != 1 || got[http.StatusServiceUnavailable] < 1 || sum != n.Stats().Refused.Load() {
		t.Fatalf("by status %v (sum %d), Refused %d", got, sum, n.Stats().Refused.Load())
	}
}
