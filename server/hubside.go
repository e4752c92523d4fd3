package server

import (
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/bridge"
)

// dispatchSide is what the server calls in package dispatch that
// applications never do; dispatch implements it with an unexported type
// handed over through internal/bridge (see the goroutine rules there, in
// dispatch/serverside.go).
type dispatchSide interface {
	NewHub(cfg bridge.HubConfig, b dispatch.Broker, ids dispatch.Identities) *dispatch.Hub
	Start(h *dispatch.Hub) error
	Stop(h *dispatch.Hub)
	ShutdownAll(h *dispatch.Hub)
	Go(h *dispatch.Hub, key uint64, fn func())
	Match(h *dispatch.Hub, path string) (*dispatch.Route, dispatch.Params)
	NewController(route *dispatch.Route) dispatch.Controller
	HasPreConnect(ctrl dispatch.Controller) bool
	PreConnect(ctrl dispatch.Controller, req *dispatch.Request) (status int, msg string)
	Open(ctrl dispatch.Controller, t bridge.Transport, route *dispatch.Route, req *dispatch.Request, loop int) (*dispatch.Socket, error)
	Opened(s *dispatch.Socket)
	Receive(s *dispatch.Socket, data []byte, binary bool)
	End(s *dispatch.Socket, code int, reason string)
	Inline(route *dispatch.Route) bool
}

// dsp is dispatch's server side (set by dispatch's init, which runs first).
var dsp = bridge.Dispatch.(dispatchSide)

// hubLoops is the server's loops as dispatch sees them (bridge.Loops).
type hubLoops struct{ s *Server }

// Submit queues fn on loop i (not before the loop is bound: a loop with no
// connection yet has nothing to run it for). Concurrency-safe.
func (h hubLoops) Submit(i int, fn func()) {
	if l := h.s.loops[i]; l.bound() {
		l.submit(task{fn: fn})
	}
}
