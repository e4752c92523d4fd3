package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/internal/pool"
)

// events is the server as gnet's event handler, kept off Server so that
// its methods are not the server's API. Every method runs on a gnet loop.
type events struct {
	gnet.BuiltinEventEngine
	s *Server
}

func (e *events) OnBoot(eng gnet.Engine) gnet.Action          { return e.s.onBoot(eng) }
func (e *events) OnOpen(gc gnet.Conn) ([]byte, gnet.Action)   { return e.s.onOpen(gc) }
func (e *events) OnClose(gc gnet.Conn, err error) gnet.Action { return e.s.onClose(gc, err) }
func (e *events) OnTraffic(gc gnet.Conn) gnet.Action          { return e.s.onTraffic(gc) }

// engineRun is a running gnet engine: its result and a channel closed
// when it has stopped.
type engineRun struct {
	errc chan error
	dead chan struct{}
}

// errEngineStopped is what Run returns when gnet stops by itself.
var errEngineStopped = errors.New("server: event loops stopped")

// err is the engine's result, as Run returns it.
func (e *engineRun) err() error {
	if err := <-e.errc; err != nil {
		return fmt.Errorf("%w: %w", errEngineStopped, err)
	}
	return errEngineStopped
}

// startEngine runs gnet's loops. gnet listens on a Unix socket whose name
// is removed once a probe connection has come through it: the loops are
// then up (Register may be called) and nobody can connect there, so
// gnet's own acceptor, which stops the engine on an accept error, never
// runs again. Connections arrive through the acceptor.
func (s *Server) startEngine() (*engineRun, error) {
	dir, err := os.MkdirTemp("", "plezi-")
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gnet.sock")
	e := &engineRun{errc: make(chan error, 1), dead: make(chan struct{})}
	go func() {
		err := gnet.Run(&events{s: s}, "unix://"+path,
			gnet.WithMulticore(true), gnet.WithNumEventLoop(s.cfg.Loops),
			gnet.WithLockOSThread(s.cfg.LockOSThread), gnet.WithLogger(gnetLogger{s.log}),
			gnet.WithTicker(false))
		close(e.dead)
		e.errc <- err
	}()
	if err := s.probe(path, e.dead); err != nil {
		if errors.Is(err, errEngineStopped) {
			return nil, e.err()
		}
		_ = s.eng.Stop(context.Background())
		<-e.dead
		return nil, fmt.Errorf("server: starting event loops: %w", err)
	}
	return e, nil
}

// probe waits for gnet's boot, connects to its socket and waits for the
// connection's OnOpen, which runs after every loop is registered.
func (s *Server) probe(path string, dead <-chan struct{}) error {
	select {
	case <-s.booted:
	case <-dead:
		return errEngineStopped
	}
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-s.loopsUp:
		return nil
	case <-dead:
		return errEngineStopped
	case <-t.C:
		return errors.New("no event loop answered")
	}
}

// onBoot records the engine.
func (s *Server) onBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.booted)
	return gnet.None
}

// loopOf finds (binding on first sight) our loop for a gnet loop.
func (s *Server) loopOf(el gnet.EventLoop) *loop {
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	for _, l := range s.loops {
		if l.el == el {
			return l
		}
	}
	for _, l := range s.loops {
		if l.el == nil {
			l.el = el
			l.bindDone.Store(true)
			return l
		}
	}
	panic("server: more gnet loops than configured")
}

// onOpen sets up a new TCP connection, handed over by the acceptor (which
// counted it). Anything else is Run's probe of gnet's own socket.
func (s *Server) onOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	h, ok := gc.Context().(*handoff)
	if !ok {
		s.probeOnce.Do(func() { close(s.loopsUp) })
		return nil, gnet.Close
	}
	h.opened = true // from here OnClose gives the count back
	if s.draining.Load() {
		return nil, gnet.Close
	}
	s.stats.Accepted.Add(1)
	l := s.loopOf(gc.EventLoop())
	now := time.Now().UnixNano()
	l.now = now
	c := &conn{gc: gc, l: l, http: newHTTPState(s.cfg.MaxHeader), lastRead: now}
	c.deadline = now + int64(s.cfg.HandshakeTimeout)
	gc.SetContext(c)
	l.add(c)
	return nil, gnet.None
}

// onClose tells dispatch and frees the connection's buffers.
func (s *Server) onClose(gc gnet.Conn, _ error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		if _, ok := gc.Context().(*handoff); ok {
			s.tcpCount.Add(-1) // closed by OnOpen while draining
		}
		return gnet.None
	}
	s.tcpCount.Add(-1)
	c.to(stateClosed) // an open websocket ends with 1006
	c.l.del(c)
	if c.l.reading != c { // else readFrames settles the count when it returns
		c.unaccountPartial()
	}
	c.dec.Release()
	c.closeFile()
	if c.l.cb == c { // a failed write inside c's callback closed it
		pool.Put(c.l.swapCallback(c))
	}
	gc.SetContext(nil)
	return gnet.None
}

// onTraffic reads requests or frames.
func (s *Server) onTraffic(gc gnet.Conn) (action gnet.Action) {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	defer func() {
		if r := recover(); r != nil { // a bug: drop this connection, keep serving
			s.stats.Panics.Add(1)
			s.log.Error("server: panic reading a connection", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			action = gnet.Close
		}
	}()
	c.l.paceWork()
	if a, paused := c.gate(); paused {
		return a
	}
	c.lastRead = c.l.now
	for {
		switch c.state {
		case stateHTTP:
			if !c.serveHTTP() {
				return gnet.None
			}
		case stateWS, stateClosing:
			return c.readBatch()
		case stateClosed, stateLinger, stateFlushing:
			_, _ = gc.Discard(-1) // unparsed
			return gnet.None
		case stateStream:
			return c.streamInput()
		default:
			return gnet.None // pending: bytes wait in gnet's buffer
		}
	}
}
