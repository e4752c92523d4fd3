package dispatch_test

import (
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// RawUser is a raw-protocol controller (no event methods): it registers
// the identity named in ?user=, writes "id:<id>" and echoes messages.
type RawUser struct{ dispatch.Socket }

func (u *RawUser) OnOpen() {
	_ = u.RegisterAs(u.Request().Query("user"))
	_ = u.Write("id:" + u.ID())
}

func (u *RawUser) OnMessage(m dispatch.Message) { _ = u.WriteText(m.Data) }

func rawRoutes(s *server.Server) {
	must(s.Route("/raw", func() dispatch.Controller { return new(RawUser) }))
	must(s.Route("/raw-fwd", func() dispatch.Controller { return new(RawUser) }, dispatch.ForwardEvents(true)))
}

// TestRawRouteDropsEvents: events with no method reaching a raw route —
// Multicast, Broadcast, Unicast and Notify, from this node and from
// another — are dropped and counted, not written as JSON frames its client
// cannot read; with ForwardEvents(true) they are written.
func TestRawRouteDropsEvents(t *testing.T) {
	t.Parallel()
	mem := cluster.NewMemory()
	n1 := startServer(t, server.Config{Broker: mem, Node: "r1"}, rawRoutes)
	n2 := startServer(t, server.Config{Broker: mem, Node: "r2"}, rawRoutes)
	raw, fwd := dialRaw(t, n1, "/raw?user=raw"), dialRaw(t, n1, "/raw-fwd?user=fwd")
	for _, from := range []*server.Server{n1, n2} {
		h := from.Hub()
		h.Multicast("mc", 1)
		dispatch.Broadcast[*RawUser](h, "bc", 2)
		for _, c := range []*client{raw, fwd} {
			if !h.Unicast(c.id, "uc", 3) {
				t.Fatal("unicast refused")
			}
		}
		for _, user := range []string{"raw", "fwd"} {
			if !h.Notify(user, "nt", 4) {
				t.Fatal("notify refused")
			}
		}
	}
	seen := map[string]int{}
	for range 8 {
		_, b := fwd.read()
		for _, ev := range []string{"mc", "bc", "uc", "nt"} {
			if strings.Contains(string(b), `"event":"`+ev+`"`) {
				seen[ev]++
			}
		}
	}
	if seen["mc"] != 2 || seen["bc"] != 2 || seen["uc"] != 2 || seen["nt"] != 2 {
		t.Fatalf("ForwardEvents route got %v, want each event from each node", seen)
	}
	eventually(t, "8 events dropped", func() bool { return n1.Hub().Stats().Dropped.Load() == 8 })
	raw.sendText("after")
	if _, b := raw.read(); string(b) != "after" {
		t.Fatalf("raw route got %q, want only its echo", b)
	}
}

// dialRaw opens a RawUser route and reads its id.
func dialRaw(t *testing.T, s *server.Server, path string) *client {
	t.Helper()
	c := dial(t, s, path)
	op, b := c.read()
	id, ok := strings.CutPrefix(string(b), "id:")
	if op != websocket.TextMessage || !ok {
		t.Fatalf("first frame %q", b)
	}
	c.id = id
	return c
}
