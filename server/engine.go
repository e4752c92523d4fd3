package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/panjf2000/gnet/v2"
)

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
		err := gnet.Run(s, "unix://"+path,
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
