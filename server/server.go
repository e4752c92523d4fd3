package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/bridge"
	"github.com/plezigo/plezi/internal/jsclient"
)

// Stats are the server's counters, safe for concurrent reads.
//
// Accepted counts TCP connections opened on a loop; Refused, upgrades
// refused (Origin, PreConnect) and connections refused over
// MaxConnections. At the open-file limit: AcceptErrors counts failed
// accept(2) calls (EMFILE, ENFILE and others) and Shed the connections
// closed at accept, with a 503 when there was an fd to write it. AcceptWaits
// counts times accepting waited for the loops (MaxPendingOpens reached).
type Stats struct {
	Accepted, Upgrades, Refused, ProtocolErrors            atomic.Int64
	SlowConsumers, HandshakeTimeouts, IdleTimeouts, Panics atomic.Int64
	AcceptErrors, Shed, AcceptWaits                        atomic.Int64
	// MessageTimeouts counts connections failed (1008) because a message
	// took longer than MessageTimeout to arrive.
	MessageTimeouts atomic.Int64
	// PartialBytes is a gauge: bytes held node-wide by messages still
	// arriving (capped by MaxPartialBytes); PartialOverflows counts the
	// connections failed (1013) for passing the cap.
	PartialBytes, PartialOverflows atomic.Int64
	// StaticWaits counts the times a static file response found
	// StaticBuffer bytes queued and waited for its client to drain them;
	// StaticHeldMax is the most bytes any one of them held queued
	// (high-water gauge, at most StaticBuffer).
	StaticWaits, StaticHeldMax atomic.Int64
	// Read gating (backpressure.go): pauses because a connection's own
	// unsent output passed half its cap, because it ran past its inbound
	// rates, because its fan-out reached a backlogged recipient; and
	// connections closed because their unread input passed MaxInbound.
	ReadPauses, Throttled, Held, InboundOverflows atomic.Int64
	// RefusedStatus counts what Refused counts by the HTTP status the
	// refusal answered (403 Origin, PreConnect's status, 503 over
	// MaxConnections); the counts add up to Refused.
	RefusedStatus StatusCounts
	// Handlers is a gauge: plain HTTP handlers running (at most
	// MaxHandlers); HandlersBusy counts the requests answered 503 because
	// MaxHandlers were.
	Handlers, HandlersBusy atomic.Int64
	// LoopYields counts the times an event loop, busy for 7 ms without a
	// pause, let the Go scheduler run (see NOTES.md, "The event loop and
	// the Go scheduler").
	LoopYields atomic.Int64
	// FlushSplits counts the times an event loop cut a long flush of
	// fan-out writes short to read what waited (handshakes first) while
	// connections waited for their handshake (NOTES.md, "Accepts during
	// fan-out").
	FlushSplits atomic.Int64
}

// Server is one node: a gnet engine, its loops, and a dispatch hub.
type Server struct {
	cfg   Config
	log   *slog.Logger
	hub   *dispatch.Hub
	stats Stats

	loops  []*loop
	bindMu sync.Mutex // guards binding gnet loops to loops[i]

	handlers []httpRoute // set before Run
	started  atomic.Bool // Run was called: routes and handlers are fixed
	stopped  atomic.Bool // Run returned: the server cannot run again

	eng      gnet.Engine
	addr     string
	ready    chan struct{}
	draining atomic.Bool
	stopping atomic.Bool // shutdown began: not ready (DrainDelay, then draining)
	wsCount  atomic.Int64
	tcpCount atomic.Int64 // TCP connections from the acceptor's hand-off to OnClose
	healthy  atomic.Bool

	booted    chan struct{} // closed by OnBoot: eng is set
	loopsUp   chan struct{} // closed by the probe's OnOpen: every loop is registered
	probeOnce sync.Once

	maxOutbound int          // MaxOutbound, at least two maximal messages
	bp          backpressure // read gating
}

// Errors of Route, Handle, StaticFS and Run.
var (
	// ErrStarted is returned by Route and Handle after Run was called, and
	// by a second Run while the first serves: routes are fixed once the
	// server runs.
	ErrStarted = errors.New("server: already running; add routes before Run")
	// ErrStopped is returned by Run, Route and Handle once Run has
	// returned: a Server runs once; make a new one to serve again.
	ErrStopped = errors.New("server: stopped; a Server runs once")
	// ErrBadHandler is returned by Handle and StaticFS for an empty
	// pattern, a nil handler or file system, or a pattern added before.
	ErrBadHandler = errors.New("server: bad HTTP handler")
)

// New makes a server from cfg, filling in defaults. Its hub is built once,
// with cfg's Broker and Identities (see Config): with neither, one node
// runs on its own, everything in process. To share a Redis with other
// nodes, build the broker with cluster.FromURL and set Config.Broker; the
// caller owns it and closes it after Run returns. Concurrency-safe.
func New(cfg Config) *Server {
	cfg.fill()
	s := &Server{cfg: cfg, log: cfg.Logger, ready: make(chan struct{}),
		booted: make(chan struct{}), loopsUp: make(chan struct{})}
	s.maxOutbound = int(max(int64(cfg.MaxOutbound), 2*cfg.MaxMessage))
	s.bp = newBackpressure(&s.cfg, s.maxOutbound)
	s.healthy.Store(true)
	ids := identitiesOf(cfg)
	for i := 0; i < cfg.Loops; i++ {
		s.loops = append(s.loops, newLoop(s, i))
	}
	s.hub = dsp.NewHub(bridge.HubConfig{
		Node: cfg.Node, Loops: cfg.Loops, Runner: hubLoops{s},
		Workers: cfg.Workers, Logger: cfg.Logger, Secret: secretOf(cfg.ClusterSecret),
		NoteWindow: cfg.NoteWindow,
	}, cfg.Broker, ids)
	_ = s.Handle("/healthz", getOnly(s.healthz)) // cannot fail: a new server, three patterns
	_ = s.Handle("/readyz", getOnly(s.readyz))
	_ = s.Handle("/plezi.js", getOnly(func(*dispatch.Request, []byte) Response {
		return Response{ContentType: "text/javascript; charset=utf-8", Body: jsclient.Source}
	}))
	_ = s.Handle("/plezi.d.ts", getOnly(func(*dispatch.Request, []byte) Response {
		return Response{ContentType: jsclient.DeclarationsType, Body: jsclient.Declarations}
	}))
	return s
}

func secretOf(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// identitiesOf picks the identity store: configured, else the broker's
// when it is one, else nil (the hub then keeps its own, in process).
func identitiesOf(cfg Config) dispatch.Identities {
	if cfg.Identities != nil {
		return cfg.Identities
	}
	if i, ok := cfg.Broker.(dispatch.Identities); ok {
		return i
	}
	return nil
}

// Hub returns the server's dispatch hub (Multicast, Unicast, Notify, ...).
// Concurrency-safe.
func (s *Server) Hub() *dispatch.Hub { return s.hub }

// Broker returns the node's broker, Config.Broker (nil on a single node
// without one). Concurrency-safe.
func (s *Server) Broker() dispatch.Broker { return s.cfg.Broker }

// Stats returns the server's counters. Concurrency-safe.
func (s *Server) Stats() *Stats { return &s.stats }

// fixed reports why routes and handlers can no longer change: ErrStopped,
// ErrStarted, or nil before Run.
func (s *Server) fixed() error {
	switch {
	case s.stopped.Load():
		return ErrStopped
	case s.started.Load():
		return ErrStarted
	}
	return nil
}

// Route adds a websocket route (see dispatch.Hub.Route for the mistakes it
// refuses). Call before Run: after it Route returns ErrStarted (ErrStopped
// once Run returned). Not safe for concurrent use.
func (s *Server) Route(pattern string, f dispatch.Factory, opts ...dispatch.RouteOption) error {
	if err := s.fixed(); err != nil {
		return err
	}
	_, err := s.hub.Route(pattern, f, opts...)
	return err
}

// Handle adds a plain HTTP handler for path, or for every path under a
// pattern ending in "*". Handlers added first win. An empty pattern, a nil
// handler or a pattern added before is ErrBadHandler. Call before Run (the
// handler table is read without a lock): after it Handle returns
// ErrStarted (ErrStopped once Run returned). Not safe for concurrent use.
func (s *Server) Handle(pattern string, h Handler) error {
	if err := s.fixed(); err != nil {
		return err
	}
	if pattern == "" || h == nil {
		return fmt.Errorf("%w: %q: empty pattern or nil handler", ErrBadHandler, pattern)
	}
	r := httpRoute{prefix: pattern, exact: true, h: h}
	if strings.HasSuffix(pattern, "*") {
		r.prefix, r.exact = strings.TrimSuffix(pattern, "*"), false
	}
	for _, old := range s.handlers {
		if old.prefix == r.prefix && old.exact == r.exact {
			return fmt.Errorf("%w: %q was added before", ErrBadHandler, pattern)
		}
	}
	s.handlers = append(s.handlers, r)
	return nil
}

// Static serves the files of dir under prefix. Paths cannot escape dir
// (symbolic links included). Errors as for StaticFS, or dir cannot be
// opened. Call before Run.
func (s *Server) Static(prefix, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("server: static: %w", err)
	}
	return s.StaticFS(prefix, root.FS())
}

// StaticFS serves fsys under prefix. Errors as for Handle (a nil fsys is
// ErrBadHandler). Call before Run.
func (s *Server) StaticFS(prefix string, fsys fs.FS) error {
	if fsys == nil {
		return fmt.Errorf("%w: static %q: nil file system", ErrBadHandler, prefix)
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return s.Handle(prefix+"*", staticHandler(prefix, fsys))
}

// Multicast delivers event to every connection of the app. Concurrency-safe.
func (s *Server) Multicast(event string, args ...any) { s.hub.Multicast(event, args...) }

// Unicast delivers event to one connection by id. Concurrency-safe.
func (s *Server) Unicast(id, event string, args ...any) bool {
	return s.hub.Unicast(id, event, args...)
}

// Notify delivers event to identity (mailbox + live connections).
// Concurrency-safe; it waits for the identity store.
func (s *Server) Notify(identity, event string, args ...any) bool {
	return s.hub.Notify(identity, event, args...)
}

// Publish writes text to every subscriber of channel. Concurrency-safe.
func (s *Server) Publish(channel, text string) { s.hub.Publish(channel, text) }

// PublishBinary writes b to every subscriber of channel.
// Concurrency-safe; b is not retained.
func (s *Server) PublishBinary(channel string, b []byte) { s.hub.PublishBinary(channel, b) }

// Ready is closed once the server accepts connections. Concurrency-safe.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the bound address once Ready is closed.
// Concurrency-safe once Ready is closed.
func (s *Server) Addr() string { return s.addr }

// MessagesIn returns the number of websocket messages received.
// Concurrency-safe.
func (s *Server) MessagesIn() int64 {
	var n int64
	for _, l := range s.loops {
		n += l.msgsIn.Load()
	}
	return n
}

// Connections returns the number of open websocket connections.
// Concurrency-safe.
func (s *Server) Connections() int { return int(s.wsCount.Load()) }

// Healthy reports whether the node serves and hears its cluster: false
// from the start of shutdown (DrainDelay included) and while the broker
// reports itself unhealthy (a deaf Redis subscription). Concurrency-safe.
func (s *Server) Healthy() bool {
	if h, ok := s.cfg.Broker.(interface{ Healthy() bool }); ok && !h.Healthy() {
		return false
	}
	return s.healthy.Load() && !s.draining.Load() && !s.stopping.Load()
}

// healthz is liveness: the node answers HTTP (readiness is readyz).
func (s *Server) healthz(*dispatch.Request, []byte) Response {
	return Response{Body: []byte("ok\n")}
}

// Run serves until ctx ends (or, with Config.HandleSignals, SIGTERM or
// SIGINT); then it drains: the listener is closed, every controller gets
// OnShutdown, every websocket is closed with 1001 and flushed (bounded by
// ShutdownTimeout). GOMAXPROCS (Config.Procs) is put back when it returns.
// A Server runs once: Run while it runs is ErrStarted, after it returned
// ErrStopped. Call it from one goroutine, which it blocks; the other
// methods may be called from any goroutine meanwhile.
func (s *Server) Run(ctx context.Context) error {
	if s.started.Swap(true) {
		return s.fixed()
	}
	defer s.stopped.Store(true)
	if s.cfg.HandleSignals {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
		defer stop()
	}
	defer s.setProcs()()
	if err := dsp.Start(s.hub); err != nil {
		return err
	}
	defer dsp.Stop(s.hub)
	ln, err := listen(&s.cfg)
	if err != nil {
		return err
	}
	e, err := s.startEngine()
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.addr = ln.Addr().String()
	acc := newAcceptor(s, ln, e.dead)
	s.log.Info("server: listening", "addr", s.addr, "loops", s.cfg.Loops, "node", s.hub.Node())
	close(s.ready)
	return s.serve(ctx, e, acc)
}

// serve runs the sweeper until ctx ends or the engine stops, then stops
// accepting, drains and stops the engine.
func (s *Server) serve(ctx context.Context, e *engineRun, acc *acceptor) error {
	// The sweep runs through the drain: closing handshakes time out by it.
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	sweepDone := make(chan struct{})
	go s.sweeper(sweepCtx, sweepDone)
	defer func() {
		stopSweep()
		<-sweepDone
	}()
	select {
	case <-e.dead:
		acc.close()
		return e.err()
	case <-ctx.Done():
	}
	s.unready(e.dead)
	acc.close()
	s.drain()
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.eng.Stop(stopCtx); err != nil {
		s.log.Warn("server: stop", "err", err)
	}
	<-e.errc
	return nil
}

// setProcs applies Config.Procs and returns what restores GOMAXPROCS.
func (s *Server) setProcs() (restore func()) {
	prev := runtime.GOMAXPROCS(0)
	p := s.cfg.procs()
	if p <= 0 || p == prev {
		return func() {}
	}
	runtime.GOMAXPROCS(p)
	return func() {
		if os.Getenv("GOMAXPROCS") == "" {
			runtime.SetDefaultGOMAXPROCS() // keep the runtime's own updates when prev was its default
		}
		if runtime.GOMAXPROCS(0) != prev {
			runtime.GOMAXPROCS(prev)
		}
	}
}

// drain closes every websocket gracefully and waits, bounded.
func (s *Server) drain() {
	s.draining.Store(true)
	s.log.Info("server: draining", "connections", s.wsCount.Load())
	dsp.ShutdownAll(s.hub)
	for _, l := range s.loops {
		if l.bound() {
			l.submit(task{fn: l.closeIdleHTTP})
		}
	}
	deadline := time.Now().Add(s.cfg.ShutdownTimeout)
	// Not eng.CountConnections: gnet registers its loops after OnBoot
	// (which closes Ready), so reading them may race with a quick cancel.
	for s.tcpCount.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// gnetLogger sends gnet's logs to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...)) }
