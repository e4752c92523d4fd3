package dispatch

import (
	"errors"
	"fmt"

	"github.com/plezigo/plezi/internal/bridge"
)

// serverSide is package server's way into dispatch: the hub's and the
// connections' operations that only the server calls. It is handed over
// through internal/bridge, so none of it is in this package's API. Each
// method says which goroutine may call it.
type serverSide struct{}

func init() { bridge.Dispatch = serverSide{} }

// errInUse refuses an upgrade whose factory returned a controller that
// holds a connection already (its Socket is that connection's record).
var errInUse = errors.New("dispatch: the factory returned a controller already in use")

// NewHub makes the server's hub. Before serving.
func (serverSide) NewHub(cfg bridge.HubConfig, b Broker, ids Identities) *Hub {
	return newHub(hubConfig{HubConfig: cfg, Broker: b, Identities: ids})
}

// Start starts the hub's workers and cluster subscriptions. Once.
func (serverSide) Start(h *Hub) error { return h.start() }

// Stop ends the hub's cluster subscriptions and waits for queued callbacks.
func (serverSide) Stop(h *Hub) { h.shutdown() }

// ShutdownAll runs OnShutdown on every connection, then closes each with
// 1001. Concurrency-safe.
func (serverSide) ShutdownAll(h *Hub) { h.shutdownAll() }

// Go runs fn on the worker chosen by key (HTTP handlers, PreConnect).
// Concurrency-safe.
func (serverSide) Go(h *Hub, key uint64, fn func()) { h.goWork(key, fn) }

// Match finds the websocket route for path. Concurrency-safe once routes
// are fixed (the server runs).
func (serverSide) Match(h *Hub, path string) (*Route, Params) { return h.router.Match(path) }

// NewController makes a controller for route, for PreConnect before the
// connection exists. Concurrency-safe.
func (serverSide) NewController(route *Route) Controller { return route.factory() }

// PreConnect runs the controller's PreConnect (if any) with req. It returns
// the HTTP status to refuse with, or 0 to upgrade. A panic refuses with
// 500. On the controller's worker, or the loop for an inline route.
func (serverSide) PreConnect(ctrl Controller, req *Request) (status int, msg string) {
	p, ok := ctrl.(PreConnecter)
	if !ok {
		return 0, ""
	}
	defer func() {
		if r := recover(); r != nil {
			status, msg = 500, "internal error"
		}
	}()
	err := p.PreConnect(req)
	if err == nil {
		return 0, ""
	}
	if he, ok := err.(*HTTPError); ok {
		return he.Status, he.Msg
	}
	return 403, err.Error()
}

// HasPreConnect reports whether ctrl has a PreConnect to run (off the loop
// on a worker route). Concurrency-safe.
func (serverSide) HasPreConnect(ctrl Controller) bool {
	_, ok := ctrl.(PreConnecter)
	return ok
}

// Open registers a new connection of route on event loop loop, bound to t,
// with ctrl (from route's factory) and req, and returns its socket; the
// connection is reached by fan-out and its id from here on. It fails when
// ctrl's socket is in use (a factory that does not make a new controller).
// Loop only, before the 101 is written.
func (serverSide) Open(ctrl Controller, t bridge.Transport, route *Route, req *Request, loop int) (*Socket, error) {
	s := ctrl.socket()
	if s.c.opened() {
		return nil, fmt.Errorf("%w (route %q)", errInUse, route.pattern)
	}
	c := &s.c
	*c = conn{t: t, route: route, ctrl: ctrl}
	c.req.Store(req)
	slot, gen := route.hub.tables[loop].add(c)
	c.slot, c.lg = slot, uint32(loop)<<24|gen
	route.typ.conns.Add(1)
	return s, nil
}

// Opened runs OnOpen (on the loop for an inline route, as an inline
// callback). Loop only, once, after the 101 is written.
func (serverSide) Opened(s *Socket) { s.c.schedule(job{kind: jobOpen}, true) }

// Receive hands one complete message to the controller; data is valid
// until Receive returns. Loop only.
func (serverSide) Receive(s *Socket, data []byte, binary bool) { s.c.receive(data, binary) }

// End tells dispatch that the websocket is closing (t.Open is false by
// now): the connection leaves its loop's table and channels, then OnClose
// runs with code and reason. Loop only, once.
func (serverSide) End(s *Socket, code int, reason string) {
	c := &s.c
	h := c.hub()
	c.route.typ.conns.Add(-1)
	for _, ch := range h.tables[c.loop()].del(c) {
		h.unrefChannel(ch)
	}
	c.schedule(job{kind: jobClose, code: code, reason: reason}, true)
}

// Inline reports whether route runs its callbacks on the event loop.
// Concurrency-safe.
func (serverSide) Inline(route *Route) bool { return route.inline }
