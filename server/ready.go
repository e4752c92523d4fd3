package server

import (
	"time"

	"github.com/plezigo/plezi/dispatch"
)

// readyz is readiness: 503 while the node shuts down (from the start of
// DrainDelay) or is deaf (see Healthy), so a load balancer stops sending
// new connections before the 1001s go out. /healthz is liveness.
func (s *Server) readyz(*dispatch.Request, []byte) Response {
	if !s.Healthy() {
		return Response{Status: 503, Body: []byte("not ready\n")}
	}
	return Response{Body: []byte("ready\n")}
}

// unready marks the node not ready and waits DrainDelay, serving as
// before, unless the engine dies (dead) first.
func (s *Server) unready(dead <-chan struct{}) {
	s.stopping.Store(true)
	if s.cfg.DrainDelay <= 0 {
		return
	}
	s.log.Info("server: not ready; draining after the delay", "delay", s.cfg.DrainDelay)
	t := time.NewTimer(s.cfg.DrainDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-dead:
	}
}
