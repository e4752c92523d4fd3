package dispatch_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/server"
)

// Controllers with mistakes Route must refuse.
type (
	badClose    struct{ dispatch.Socket }
	badOpen     struct{ dispatch.Socket }
	badMessage  struct{ dispatch.Socket }
	badFailed   struct{ dispatch.Socket }
	badChan     struct{ dispatch.Socket }
	badVariadic struct{ dispatch.Socket }
	badMany     struct{ dispatch.Socket }
	goodRoute   struct{ dispatch.Socket }
	ptrSocket   struct{ *dispatch.Socket }
)

func (*badClose) OnClose()                       {}
func (*badOpen) OnOpen(int)                      {}
func (*badMessage) OnMessage(string)             {}
func (*badFailed) OnUnicastFailed(id string)     {}
func (*badChan) Feed(chan int)                   {}
func (*badVariadic) Sum(...int) int              { return 0 }
func (*badMany) OnShutdown(bool)                 {}
func (*badMany) Unknown(string)                  {}
func (*badMany) PreConnect(*dispatch.Request)    {}
func (*badMany) Stream() chan int                { return nil }
func (*goodRoute) OnClose(code int, text string) {}
func (*goodRoute) Say(text string)               {}

// routeErr adds one route on a fresh hub, turning a panic into an error.
func routeErr(h *dispatch.Hub, pattern string, f dispatch.Factory, opts ...dispatch.RouteOption) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("Route panicked: %v", r)
		}
	}()
	_, err = h.Route(pattern, f, opts...)
	return err
}

// TestRouteMistakes: Route refuses, with an error naming the method (or
// pattern) and why, lifecycle methods of the wrong signature, exported
// methods that cannot be events, patterns added twice or empty, nil
// factories and ClientEvents naming no event; a refused route is not added.
func TestRouteMistakes(t *testing.T) {
	t.Parallel()
	ctl := func(c dispatch.Controller) dispatch.Factory { return func() dispatch.Controller { return c } }
	tests := []struct {
		name    string
		pattern string
		f       dispatch.Factory
		opts    []dispatch.RouteOption
		is      error
		says    []string
	}{
		{"OnClose()", "/a", ctl(new(badClose)), nil, dispatch.ErrBadMethod, []string{"badClose.OnClose", "OnClose(code int, reason string)"}},
		{"OnOpen(int)", "/a", ctl(new(badOpen)), nil, dispatch.ErrBadMethod, []string{"badOpen.OnOpen", "func(int)", "OnOpen()"}},
		{"OnMessage(string)", "/a", ctl(new(badMessage)), nil, dispatch.ErrBadMethod, []string{"OnMessage(m dispatch.Message)"}},
		{"OnUnicastFailed(id)", "/a", ctl(new(badFailed)), nil, dispatch.ErrBadMethod, []string{"OnUnicastFailed(id, event string)"}},
		{"chan parameter", "/a", ctl(new(badChan)), nil, dispatch.ErrBadMethod, []string{"badChan.Feed", "chan int"}},
		{"variadic", "/a", ctl(new(badVariadic)), nil, dispatch.ErrBadMethod, []string{"badVariadic.Sum", "variadic"}},
		{"several", "/a", ctl(new(badMany)), nil, dispatch.ErrBadMethod, []string{"OnShutdown", "Unknown(event string, args dispatch.RawArgs)", "PreConnect(r *dispatch.Request) error", "Stream"}},
		{"empty pattern", "", ctl(new(goodRoute)), nil, dispatch.ErrBadPattern, []string{`""`}},
		{"duplicate", "/taken", ctl(new(goodRoute)), nil, dispatch.ErrDuplicateRoute, []string{`"/taken"`}},
		{"same shape", "taken/", ctl(new(goodRoute)), nil, dispatch.ErrDuplicateRoute, []string{`"/taken"`}},
		{"same parameters", "/room/:name", ctl(new(goodRoute)), nil, dispatch.ErrDuplicateRoute, []string{`"/room/:id"`}},
		{"nil factory", "/a", nil, nil, dispatch.ErrNilFactory, nil},
		{"nil controller", "/a", func() dispatch.Controller { return nil }, nil, dispatch.ErrNotController, nil},
		{"typed nil", "/a", func() dispatch.Controller { return (*goodRoute)(nil) }, nil, dispatch.ErrNotController, nil},
		{"nil *Socket", "/a", func() dispatch.Controller { return new(ptrSocket) }, nil, dispatch.ErrNotController, nil},
		{"factory panics", "/a", func() dispatch.Controller { panic("no") }, nil, dispatch.ErrNotController, []string{"no"}},
		{"unknown client event", "/a", ctl(new(goodRoute)), []dispatch.RouteOption{dispatch.ClientEvents("say", "shout", "on_close")}, dispatch.ErrClientEvent, []string{`"shout"`, `"on_close"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := dispatch.NewTestHub(1, nil, quiet)
			for _, p := range []string{"/taken", "/room/:id"} {
				if err := routeErr(h, p, func() dispatch.Controller { return new(goodRoute) }); err != nil {
					t.Fatal(err)
				}
			}
			err := routeErr(h, tt.pattern, tt.f, tt.opts...)
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
			if r, _ := dispatch.MatchRoute(h, "/a"); r != nil {
				t.Errorf("the refused route was added")
			}
		})
	}
}

// TestRouteAccepts: the mistakes' right forms are accepted.
func TestRouteAccepts(t *testing.T) {
	t.Parallel()
	h := dispatch.NewTestHub(1, nil, quiet)
	for i, p := range []string{"/", "/a", "/a/:b", "/a/*", "/b"} {
		opts := []dispatch.RouteOption{dispatch.ClientEvents("say", "Say")}
		if i%2 == 1 {
			opts = nil
		}
		if err := routeErr(h, p, func() dispatch.Controller { return new(goodRoute) }, opts...); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestProtocolsOption: a route's Protocols reach the handshake: the first
// of the client's offers the route accepts is selected, and a route without
// the option selects none.
func TestProtocolsOption(t *testing.T) {
	t.Parallel()
	s := startServer(t, server.Config{}, func(s *server.Server) {
		must(s.Route("/sub", func() dispatch.Controller { return new(Echo) }, dispatch.Protocols("v2.plezi", "v1.plezi")))
		must(s.Route("/plain", func() dispatch.Controller { return new(Echo) }))
	})
	for _, tt := range []struct {
		path  string
		offer []string
		want  string
	}{
		{"/sub", []string{"other", "v1.plezi", "v2.plezi"}, "v1.plezi"},
		{"/sub", []string{"other"}, ""},
		{"/plain", []string{"v1.plezi"}, ""},
	} {
		d := websocket.Dialer{HandshakeTimeout: wait, Subprotocols: tt.offer}
		c, resp, err := d.Dial("ws://"+s.Addr()+tt.path, nil)
		if err != nil {
			t.Fatalf("%s %v: %v", tt.path, tt.offer, err)
		}
		_ = resp.Body.Close()
		if got := c.Subprotocol(); got != tt.want {
			t.Errorf("%s offering %v: subprotocol %q, want %q", tt.path, tt.offer, got, tt.want)
		}
		_ = c.Close()
	}
}
