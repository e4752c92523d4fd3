package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/plezigo/plezi/codec"
)

// The server owns its listening socket. gnet's acceptor treats any
// accept(2) error other than EAGAIN, EINTR, ECONNRESET and ECONNABORTED as
// fatal and stops the engine (gnet v2.9.7 acceptor_unix.go returns
// ErrAcceptSocket, which its poller returns from Polling), so a node at
// its open-file limit would drop every connection. Instead gnet runs with
// a listener nobody can reach (see Run) and one goroutine here accepts,
// sheds what it cannot serve, and hands the rest to gnet with
// Engine.Register.

// acceptor is the accept goroutine and the watcher of the registrations
// it hands to gnet. Its fields are owned by the accept goroutine unless
// marked.
type acceptor struct {
	s       *Server
	ln      *net.TCPListener
	spare   int           // reserved fd (a dup of the listener), given up to shed one connection at the fd limit; -1: none
	backoff time.Duration // pause after an accept error that sheds nothing

	pending chan pendingOpen // registrations not yet answered; cap Config.MaxPendingOpens
	stop    chan struct{}    // closed by close: stop pausing
	dead    chan struct{}    // closed when the engine has stopped: stop watching
	done    chan struct{}    // closed when both goroutines have returned

	atLimit  atomic.Bool  // an fd-limit episode is on (logged when it starts)
	lastShed atomic.Int64 // unix nanos of the last fd-limit error
}

// pendingOpen is one connection handed to gnet: the answer to wait for
// and the token OnOpen marks.
type pendingOpen struct {
	res <-chan gnet.RegisteredResult
	h   *handoff
}

// handoff is the gnet context of a connection between Register and
// OnOpen. opened is written by OnOpen on the loop and read by the watcher
// after the registration's answer, which gnet sends after OnOpen returns.
type handoff struct{ opened bool }

// recoverAfter is how long an fd-limit episode must be quiet (no shedding)
// before a successful connection ends it.
const recoverAfter = time.Second

// busyResponse is what a connection shed at accept reads.
var busyResponse = codec.AppendResponse(nil, http.StatusServiceUnavailable,
	"text/plain; charset=utf-8", []byte("server busy\n"), false, "Retry-After: 1")

// fullResponse is what a connection over MaxConnections reads.
var fullResponse = codec.AppendResponse(nil, http.StatusServiceUnavailable,
	"text/plain; charset=utf-8", []byte("too many connections\n"), false, "Retry-After: 1")

// listen opens the TCP listener, with SO_REUSEPORT when asked (Go sets
// SO_REUSEADDR on every listener).
func listen(cfg *Config) (*net.TCPListener, error) {
	lc := net.ListenConfig{}
	if cfg.ReusePort {
		lc.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen: %w", err)
	}
	return ln.(*net.TCPListener), nil
}

// newAcceptor starts accepting on ln for s. s.eng must be running with
// its loops registered.
func newAcceptor(s *Server, ln *net.TCPListener, dead chan struct{}) *acceptor {
	a := &acceptor{
		s: s, ln: ln, pending: make(chan pendingOpen, s.cfg.MaxPendingOpens),
		stop: make(chan struct{}), dead: dead, done: make(chan struct{}), spare: -1,
	}
	a.reserve()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		a.watch()
	}()
	go func() {
		a.run()
		close(a.pending)
		<-watched
		a.release()
		close(a.done)
	}()
	return a
}

// close stops accepting: the listener is closed (new connections are
// refused by the kernel) and close waits until every connection already
// handed to gnet has been answered. Called once, by Run.
func (a *acceptor) close() {
	_ = a.ln.Close()
	close(a.stop)
	<-a.done
}

// reserve takes the spare fd if it is not held and reports whether it
// is. The spare is a dup of the listener: it needs no file system, and
// closing it leaves the listener alone. Accept goroutine only.
func (a *acceptor) reserve() bool {
	if a.spare >= 0 {
		return true
	}
	rc, err := a.ln.SyscallConn()
	if err != nil {
		return false
	}
	_ = rc.Control(func(fd uintptr) {
		if nfd, err := unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0); err == nil {
			a.spare = nfd
		}
	})
	return a.spare >= 0
}

// release gives the spare fd up. Accept goroutine only.
func (a *acceptor) release() {
	if a.spare >= 0 {
		_ = unix.Close(a.spare)
		a.spare = -1
	}
}

// run is the accept loop. Accept goroutine.
func (a *acceptor) run() {
	for {
		c, err := a.ln.AcceptTCP()
		switch {
		case err == nil && !a.reserve():
			// The spare was given up to take this one and cannot be
			// had back: the process is at its fd limit.
			a.shed(c)
			a.reserve()
		case err == nil:
			a.backoff = 0
			a.admit(c)
		case errors.Is(err, net.ErrClosed):
			return
		default:
			a.failed(err)
		}
	}
}

// failed handles an accept error. At the fd limit the spare fd is given
// up so that the next accept takes (and sheds) a connection from the
// backlog; with no spare to give, or on another error, it pauses.
func (a *acceptor) failed(err error) {
	a.s.stats.AcceptErrors.Add(1)
	if isFDLimit(err) {
		a.limitHit()
		if a.spare >= 0 {
			a.release()
			return
		}
	} else {
		a.s.log.Warn("server: accept", "err", err)
	}
	a.pause()
	a.reserve()
}

// pause waits 5 ms, doubling up to 1 s while errors go on, or until close.
func (a *acceptor) pause() {
	a.backoff = min(max(2*a.backoff, 5*time.Millisecond), time.Second)
	t := time.NewTimer(a.backoff)
	defer t.Stop()
	select {
	case <-t.C:
	case <-a.stop:
	}
}

// admit refuses c over MaxConnections, else hands it to a loop.
func (a *acceptor) admit(c *net.TCPConn) {
	s := a.s
	// Only this goroutine adds to tcpCount, so the check holds.
	if m := s.cfg.MaxConnections; m > 0 && s.tcpCount.Load() >= int64(m) {
		s.refuse(http.StatusServiceUnavailable)
		answer(c, fullResponse)
		return
	}
	s.tcpCount.Add(1)
	h := &handoff{}
	ctx := gnet.NewContext(gnet.NewNetConnContext(context.Background(), c), h)
	res, err := s.eng.Register(ctx)
	if err != nil {
		s.tcpCount.Add(-1)
		a.shed(c)
		return
	}
	p := pendingOpen{res: res, h: h}
	select {
	case a.pending <- p:
		return
	default:
	}
	s.stats.AcceptWaits.Add(1)
	select {
	case a.pending <- p:
	case <-a.dead:
	}
}

// watch reads the answers of registrations in order. A registration that
// failed (gnet could not dup the fd: the fd limit again) is a shed
// connection; one that never reached OnOpen gives its count back. Watcher
// goroutine.
func (a *acceptor) watch() {
	for p := range a.pending {
		var r gnet.RegisteredResult
		select {
		case r = <-p.res:
		case <-a.dead:
			return
		}
		if !p.h.opened {
			a.s.tcpCount.Add(-1)
		}
		switch {
		case r.Err == nil:
			a.recovered()
		case isFDLimit(r.Err):
			a.s.stats.Shed.Add(1)
			a.limitHit()
		default:
			a.s.stats.Shed.Add(1)
			a.s.log.Warn("server: registering a connection", "err", r.Err)
		}
	}
}

// shed answers 503 and closes c, at the fd limit.
func (a *acceptor) shed(c *net.TCPConn) {
	a.s.stats.Shed.Add(1)
	a.limitHit()
	answer(c, busyResponse)
}

// answer writes a short response and closes c. The write fits an empty
// socket buffer; the deadline only bounds a pathological peer.
func answer(c *net.TCPConn, resp []byte) {
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = c.Write(resp)
	_ = c.CloseWrite()
	_ = c.Close()
}

// limitHit notes shedding at the fd limit, logging when an episode starts.
// Concurrency-safe.
func (a *acceptor) limitHit() {
	a.lastShed.Store(time.Now().UnixNano())
	if a.atLimit.CompareAndSwap(false, true) {
		a.s.log.Error("server: open-file limit reached; shedding new connections, serving open ones")
	}
}

// recovered ends an fd-limit episode once a connection was opened and
// nothing was shed for recoverAfter. Watcher goroutine.
func (a *acceptor) recovered() {
	if !a.atLimit.Load() || time.Now().UnixNano()-a.lastShed.Load() < int64(recoverAfter) {
		return
	}
	if a.atLimit.CompareAndSwap(true, false) {
		a.s.log.Warn("server: below the open-file limit again; accepting", "shed_total", a.s.stats.Shed.Load())
	}
}

// isFDLimit reports a per-process or system-wide open-file limit error.
func isFDLimit(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
