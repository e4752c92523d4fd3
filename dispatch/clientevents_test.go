package dispatch_test

import (
	"testing"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Guarded has an event for its clients (Say) and one for the server only
// (Kick), which a client must not reach.
type Guarded struct{ dispatch.Socket }

func (g *Guarded) OnOpen()                { _ = g.Emit("id", g.ID()) }
func (g *Guarded) Say(text string) string { return "said " + text }
func (g *Guarded) Kick(reason string)     { g.CloseWith(4000, reason) }

func guardedRoutes(s *server.Server) {
	must(s.Route("/guarded", func() dispatch.Controller { return new(Guarded) }, dispatch.ClientEvents("say")))
	must(s.Route("/guarded-inline", func() dispatch.Controller { return new(Guarded) }, dispatch.Inline(), dispatch.ClientEvents("Say")))
	must(s.Route("/guarded-default", func() dispatch.Controller { return new(Guarded) }))
	must(s.Route("/guarded-all", func() dispatch.Controller { return new(Guarded) }, dispatch.AllClientEvents()))
}

// TestClientEvents: clients call only the events their route allows (by
// default none); a call to any other method answers exactly like an
// unknown event (404, counted), while server-side deliveries (Unicast,
// Broadcast, Notify) still reach every event method.
func TestClientEvents(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, guardedRoutes)
	for _, tt := range []struct {
		path string
		say  bool // the client may call say
		kick bool // the client may call kick
	}{
		{"/guarded", true, false},
		{"/guarded-inline", true, false},
		{"/guarded-default", false, false},
		{"/guarded-all", true, true},
	} {
		c := dialPeer(t, s, tt.path)
		for i, name := range []string{"say", "Say", "kick", "Kick", "nope"} {
			allowed := (name == "say" || name == "Say") && tt.say || (name == "kick" || name == "Kick") && tt.kick
			if allowed && (name == "kick" || name == "Kick") {
				continue // would close; checked below
			}
			m := c.call(i+1, name, "x")
			switch {
			case allowed && (m.Event != "_ack_" || string(m.Data) != `"said x"`):
				t.Fatalf("%s %s: %s", tt.path, name, m.raw)
			case !allowed && (m.Event != "_err_" || m.Status != 404 || m.Error != "unknown event "+name):
				t.Fatalf("%s %s: %s, want the unknown-event reply", tt.path, name, m.raw)
			}
		}
		if tt.kick {
			c.emit(9, "kick", "by client")
			if code, reason := c.closed(); code != 4000 || reason != "by client" {
				t.Fatalf("%s: kick by client closed %d %q", tt.path, code, reason)
			}
			continue
		}
		if !s.Hub().Unicast(c.id, "kick", "by server") {
			t.Fatalf("%s: Unicast(kick) = false", tt.path)
		}
		if code, reason := c.closed(); code != 4000 || reason != "by server" {
			t.Fatalf("%s: kick by server closed %d %q", tt.path, code, reason)
		}
	}
	if n := s.Hub().Stats().DeniedEvents.Load(); n != 8 {
		t.Errorf("DeniedEvents = %d, want 8", n)
	}
}
