package dispatch_test

import (
	"testing"
	"time"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Stall is a controller whose Wait event blocks until the test releases it.
type Stall struct {
	dispatch.Socket
	release chan struct{}
}

func (s *Stall) OnOpen()          { _ = s.Emit("id", s.ID()) }
func (s *Stall) Wait()            { <-s.release }
func (s *Stall) Add(a, b int) int { return a + b }

// TestSlowCallbackStallsOnlyItsShard: one connection's callback blocks its
// worker shard; connections on other shards keep being served, and the
// blocked shard's connections are served, in order, once it returns.
func TestSlowCallbackStallsOnlyItsShard(t *testing.T) {
	t.Parallel()
	const workers = 4
	release := make(chan struct{})
	s := startServer(t, server.Config{Workers: workers, Loops: 1}, func(s *server.Server) {
		must(s.Route("/stall", func() dispatch.Controller { return &Stall{release: release} }, dispatch.ClientEvents("wait", "add")))
	})
	stuck := dialPeer(t, s, "/stall")
	// More connections than shards: most land on other shards.
	var others []*client
	for range 3 * workers {
		others = append(others, dialPeer(t, s, "/stall"))
	}
	stuck.emit(1, "wait")
	answered := make(chan int, len(others))
	for i, c := range others {
		c.emit(2, "add", i, 1)
		go func(i int, c *client) {
			_ = c.ws.SetReadDeadline(time.Now().Add(wait))
			_, b, err := c.ws.ReadMessage() // stalls for clients on the stuck shard
			if err == nil && string(b) == `{"event":"_ack_","_EID_":2,"data":`+itoa(i+1)+`}` {
				answered <- i
				return
			}
			answered <- -1
		}(i, c)
	}
	// The connections of the other shards answer while one shard is stuck.
	for range 2 {
		if i := <-answered; i < 0 {
			t.Fatal("a connection got no answer while another shard was stuck")
		}
	}
	close(release)
	if m := stuck.next(); m.Event != "_ack_" || string(m.EID) != "1" {
		t.Fatalf("stuck call: %s", m.raw)
	}
	for range len(others) - 2 {
		if i := <-answered; i < 0 {
			t.Fatal("a connection of the stuck shard got no answer after it was released")
		}
	}
}
