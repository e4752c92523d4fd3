package dispatch_test

import (
	"testing"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Req reports what its request says in OnOpen and, later, in an event.
type Req struct {
	dispatch.Socket
	room string
}

func (r *Req) OnOpen() {
	r.room = r.Params("room")
	_ = r.Emit("open", r.room, r.Request().Query("q"), r.Request().Header("X-Test"))
}

// Later answers what the request says after OnOpen (the room copied in
// OnOpen stays).
func (r *Req) Later() []string {
	q := r.Request()
	return []string{r.room, r.Params("room"), q.Query("q"), q.Header("X-Test"), q.Path(), q.Cookie("c")}
}

// TestRequestLifetime: the request answers in OnOpen on every route; after
// OnOpen the path parameters remain, the rest only on a route with
// KeepRequest (or for a client resuming mailboxes), and what was dropped
// answers "" rather than panicking.
func TestRequestLifetime(t *testing.T) {
	s := startServer(t, server.Config{}, func(s *server.Server) {
		later := dispatch.ClientEvents("later")
		must(s.Route("/drop/:room", func() dispatch.Controller { return new(Req) }, later))
		must(s.Route("/inline/:room", func() dispatch.Controller { return new(Req) }, dispatch.Inline(), later))
		must(s.Route("/keep/:room", func() dispatch.Controller { return new(Req) }, dispatch.KeepRequest(), later))
	})
	for _, tc := range []struct {
		path string
		want string
	}{
		{"/drop/r1?q=v", `["r1","r1","","","",""]`},
		{"/inline/r2?q=v", `["r2","r2","","","",""]`},
		{"/keep/r3?q=v", `["r3","r3","v","","/keep/r3",""]`},
		{"/drop/r4?q=v&_resume=%7B%7D", `["r4","r4","v","","/drop/r4",""]`},
	} {
		c := dial(t, s, tc.path)
		if m := c.expect("open"); m.arg(0) == "" || m.arg(1) != "v" {
			t.Fatalf("%s: OnOpen saw %s", tc.path, m.raw)
		}
		if m := c.ok(1, "later"); string(m.Data) != tc.want {
			t.Fatalf("%s: after OnOpen %s, want %s", tc.path, m.Data, tc.want)
		}
	}
}

// Plain has no path parameters: after OnOpen its request is nil, and every
// accessor of a nil request answers the zero value.
type Plain struct{ dispatch.Socket }

func (p *Plain) Later() []any {
	q := p.Request()
	return []any{q == nil, p.Params("x"), q.Query("q"), q.Header("Host"), q.Path(), q.Cookie("c"), q.RemoteAddr() == nil, q.Raw() == nil, len(q.QueryValues())}
}

func TestRequestWithoutParams(t *testing.T) {
	s := startServer(t, server.Config{}, func(s *server.Server) {
		must(s.Route("/plain", func() dispatch.Controller { return new(Plain) }, dispatch.ClientEvents("later")))
	})
	c := dial(t, s, "/plain?q=v")
	if m := c.ok(1, "later"); string(m.Data) != `[true,"","","","","",true,true,0]` {
		t.Fatalf("after OnOpen: %s", m.Data)
	}
}
