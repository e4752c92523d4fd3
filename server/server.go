package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/plezigo/plezi/cluster"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/jsclient"
)

// Stats are the server's counters, safe for concurrent reads.
type Stats struct {
	Accepted, Upgrades, Refused, ProtocolErrors            atomic.Int64
	SlowConsumers, HandshakeTimeouts, IdleTimeouts, Panics atomic.Int64
	// Read gating (backpressure.go): pauses because a connection's own
	// unsent output passed half its cap, because it ran past its inbound
	// rates, because its fan-out reached a backlogged recipient; and
	// connections closed because their unread input passed MaxInbound.
	ReadPauses, Throttled, Held, InboundOverflows atomic.Int64
}

// Server is one node: a gnet engine, its loops, and a dispatch hub.
type Server struct {
	gnet.BuiltinEventEngine

	cfg   Config
	log   *slog.Logger
	hub   *dispatch.Hub
	stats Stats

	loops  []*loop
	bindMu sync.Mutex // guards binding gnet loops to loops[i]

	handlers []httpRoute // set before Run
	started  atomic.Bool // Run was called: routes and handlers are fixed

	eng      gnet.Engine
	addr     string
	ready    chan struct{}
	draining atomic.Bool
	wsCount  atomic.Int64
	tcpCount atomic.Int64 // TCP connections between OnOpen and OnClose
	healthy  atomic.Bool

	maxOutbound int          // MaxOutbound, at least two maximal messages
	bp          backpressure // read gating
	closeBroker func() error // the broker New made, if any
}

// ErrStarted is returned by Route after Run was called, and by a second Run:
// routes are fixed once the server runs.
var ErrStarted = errors.New("server: already running; add routes before Run")

// New makes a server from cfg, filling in defaults. With RedisURL set and
// no Broker, Run connects to Redis (see cluster.NewRedis) before serving.
func New(cfg Config) *Server {
	cfg.fill()
	s := &Server{cfg: cfg, log: cfg.Logger, ready: make(chan struct{})}
	s.maxOutbound = int(max(int64(cfg.MaxOutbound), 2*cfg.MaxMessage))
	s.bp = newBackpressure(&s.cfg, s.maxOutbound)
	s.healthy.Store(true)
	ids := identitiesOf(cfg)
	for i := 0; i < cfg.Loops; i++ {
		s.loops = append(s.loops, newLoop(s, i))
	}
	s.hub = dispatch.NewHub(dispatch.HubConfig{
		Node: cfg.Node, Loops: cfg.Loops, Runner: dispatch.LoopsFunc(s.runOn),
		Broker: cfg.Broker, Identities: ids, Workers: cfg.Workers, Logger: cfg.Logger,
		Secret: secretOf(cfg.ClusterSecret),
	})
	s.Handle("/healthz", s.healthz)
	s.Handle("/plezi.js", func(*dispatch.Request, []byte) Response {
		return Response{ContentType: "text/javascript; charset=utf-8", Body: jsclient.Source}
	})
	return s
}

func secretOf(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// identitiesOf picks the identity store: configured, the broker's, or a
// new in-memory one.
func identitiesOf(cfg Config) dispatch.Identities {
	if cfg.Identities != nil {
		return cfg.Identities
	}
	if i, ok := cfg.Broker.(dispatch.Identities); ok {
		return i
	}
	return cluster.NewMemory()
}

// connectRedis makes the Redis broker when RedisURL is set without Broker.
func (s *Server) connectRedis() error {
	if s.cfg.RedisURL == "" || s.cfg.Broker != nil {
		return nil
	}
	r, err := cluster.NewRedis(cluster.RedisConfig{URL: s.cfg.RedisURL, Logger: s.log})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.cfg.Broker, s.closeBroker = r, r.Close
	if s.cfg.Identities == nil {
		s.cfg.Identities = r
	}
	s.hub.SetCluster(r, s.cfg.Identities)
	return nil
}

// Hub returns the server's dispatch hub (Multicast, Unicast, Notify, ...).
func (s *Server) Hub() *dispatch.Hub { return s.hub }

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Route adds a websocket route (see dispatch.Hub.Route). Call before Run:
// after it Route returns ErrStarted.
func (s *Server) Route(pattern string, f dispatch.Factory, opts ...dispatch.RouteOption) error {
	if s.started.Load() {
		return ErrStarted
	}
	_, err := s.hub.Route(pattern, f, opts...)
	return err
}

// Handle adds a plain HTTP handler for path, or for every path under a
// pattern ending in "*". Handlers added first win. Call before Run: after
// it Handle panics (the handler table is read without a lock).
func (s *Server) Handle(pattern string, h Handler) {
	if s.started.Load() {
		panic("server: Handle " + pattern + " after Run")
	}
	r := httpRoute{prefix: pattern, exact: true, h: h}
	if strings.HasSuffix(pattern, "*") {
		r.prefix, r.exact = strings.TrimSuffix(pattern, "*"), false
	}
	s.handlers = append(s.handlers, r)
}

// Static serves the files of dir under prefix. Paths cannot escape dir
// (symbolic links included). Call before Run.
func (s *Server) Static(prefix, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("server: static: %w", err)
	}
	s.StaticFS(prefix, root.FS())
	return nil
}

// StaticFS serves fsys under prefix. Call before Run.
func (s *Server) StaticFS(prefix string, fsys fs.FS) {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	s.Handle(prefix+"*", staticHandler(prefix, fsys))
}

// Multicast delivers event to every connection of the app.
func (s *Server) Multicast(event string, args ...any) { s.hub.Multicast(event, args...) }

// Unicast delivers event to one connection by id.
func (s *Server) Unicast(id, event string, args ...any) bool {
	return s.hub.Unicast(id, event, args...)
}

// Notify delivers event to identity (mailbox + live connections).
func (s *Server) Notify(identity, event string, args ...any) bool {
	return s.hub.Notify(identity, event, args...)
}

// Publish writes text to every subscriber of channel.
func (s *Server) Publish(channel, text string) { s.hub.Publish(channel, text) }

// PublishBinary writes b to every subscriber of channel.
func (s *Server) PublishBinary(channel string, b []byte) { s.hub.PublishBinary(channel, b) }

// Ready is closed once the server accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the bound address once Ready is closed.
func (s *Server) Addr() string { return s.addr }

// MessagesIn returns the number of websocket messages received.
func (s *Server) MessagesIn() int64 {
	var n int64
	for _, l := range s.loops {
		n += l.msgsIn.Load()
	}
	return n
}

// Connections returns the number of open websocket connections.
func (s *Server) Connections() int { return int(s.wsCount.Load()) }

// Healthy reports whether the node serves and hears its cluster.
func (s *Server) Healthy() bool {
	if h, ok := s.cfg.Broker.(interface{ Healthy() bool }); ok && !h.Healthy() {
		return false
	}
	return s.healthy.Load() && !s.draining.Load()
}

func (s *Server) healthz(*dispatch.Request, []byte) Response {
	if !s.Healthy() {
		return Response{Status: 503, Body: []byte("unhealthy\n")}
	}
	return Response{Body: []byte("ok\n")}
}

// Run serves until ctx ends, SIGTERM or SIGINT; then it drains: new
// connections are refused, every controller gets OnShutdown, every
// websocket is closed with 1001 and flushed (bounded by ShutdownTimeout).
func (s *Server) Run(ctx context.Context) error {
	if s.started.Swap(true) {
		return ErrStarted
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := s.connectRedis(); err != nil {
		return err
	}
	if s.closeBroker != nil {
		defer s.closeBroker()
	}
	if p := s.cfg.procs(); p > 0 && p != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(p)
	}
	if err := s.hub.Start(ctx); err != nil {
		return err
	}
	defer s.hub.Stop()
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(s, "tcp://"+s.cfg.Addr,
			gnet.WithMulticore(true), gnet.WithNumEventLoop(s.cfg.Loops),
			gnet.WithLockOSThread(s.cfg.LockOSThread), gnet.WithReusePort(s.cfg.ReusePort), gnet.WithReuseAddr(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay), gnet.WithLogger(gnetLogger{s.log}),
			gnet.WithTicker(false))
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-s.ready:
	}
	// The sweep runs through the drain: closing handshakes time out by it.
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	sweepDone := make(chan struct{})
	go s.sweeper(sweepCtx, sweepDone)
	select {
	case err := <-errc:
		stopSweep()
		<-sweepDone
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.drain()
	stopSweep()
	<-sweepDone
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.eng.Stop(stopCtx); err != nil {
		s.log.Warn("server: stop", "err", err)
	}
	<-errc
	return nil
}

// drain closes every websocket gracefully and waits, bounded.
func (s *Server) drain() {
	s.draining.Store(true)
	s.log.Info("server: draining", "connections", s.wsCount.Load())
	s.hub.ShutdownAll()
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

// sweeper runs the timer sweep on every loop until ctx ends.
// It owns nothing else; Run stops it after draining.
func (s *Server) sweeper(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(s.cfg.tick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, l := range s.loops {
				if l.bound() {
					l.submit(task{fn: l.sweep})
				}
			}
		}
	}
}

// runOn runs fn on loop i (dispatch.Loops).
func (s *Server) runOn(i int, fn func()) {
	if l := s.loops[i]; l.bound() {
		l.submit(task{fn: fn})
	}
}

// OnBoot records the engine and the bound address.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	s.addr = s.cfg.Addr
	if fd, err := eng.Dup(); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			s.addr = sockaddrString(sa)
		}
		_ = unix.Close(fd)
	}
	s.log.Info("server: listening", "addr", s.addr, "loops", s.cfg.Loops, "node", s.hub.Node())
	close(s.ready)
	return gnet.None
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	}
	return ""
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

// OnOpen sets up a new TCP connection.
func (s *Server) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	s.tcpCount.Add(1) // gnet calls OnClose for every opened conn, refused ones too
	if s.draining.Load() {
		return nil, gnet.Close
	}
	s.stats.Accepted.Add(1)
	l := s.loopOf(gc.EventLoop())
	now := time.Now().UnixNano()
	l.now = now
	c := &conn{gc: gc, l: l, http: &httpState{}, lastRead: now}
	c.http.parser.Max = s.cfg.MaxHeader
	c.deadline = now + int64(s.cfg.HandshakeTimeout)
	gc.SetContext(c)
	l.add(c)
	return nil, gnet.None
}

// OnClose tells dispatch and frees the connection's buffers.
func (s *Server) OnClose(gc gnet.Conn, _ error) gnet.Action {
	s.tcpCount.Add(-1)
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None
	}
	c.setGone()
	if c.state == stateWS {
		c.closed(1006, "")
	} else if c.counted {
		c.closed(0, "")
	}
	c.state = stateClosed
	c.l.del(c)
	c.dec.Release()
	c.mu.Lock()
	if c.out != nil {
		putBuf(c.out)
		c.out = nil
		c.setStaged(false)
	}
	c.mu.Unlock()
	gc.SetContext(nil)
	return gnet.None
}

// OnTraffic reads requests or frames.
func (s *Server) OnTraffic(gc gnet.Conn) (action gnet.Action) {
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
		case stateClosed:
			_, _ = gc.Discard(-1)
			return gnet.None
		default:
			return gnet.None // pending: bytes wait in gnet's buffer
		}
	}
}

// closeIdleHTTP closes connections waiting for a request. Loop only.
func (l *loop) closeIdleHTTP() {
	for i := len(l.conns) - 1; i >= 0; i-- {
		if c := l.conns[i]; c.state == stateHTTP {
			c.state = stateClosed
			c.setGone()
			_ = c.gc.Close()
		}
	}
}

// sweep runs the connection timers of the loop. Loop only.
func (l *loop) sweep() {
	cfg := &l.srv.cfg
	now := time.Now().UnixNano()
	l.now = now
	ping, idle := int64(cfg.PingInterval), int64(cfg.IdleTimeout)
	for i := len(l.conns) - 1; i >= 0; i-- {
		c := l.conns[i]
		switch c.state {
		case stateHTTP, statePending:
			if c.deadline != 0 && now > c.deadline {
				l.srv.stats.HandshakeTimeouts.Add(1)
				c.state = stateClosed
				c.setGone()
				_ = c.gc.Close()
			}
		case stateWS:
			switch quiet := now - c.lastRead; {
			case quiet > idle:
				l.srv.stats.IdleTimeouts.Add(1)
				c.terminate(1001, "idle timeout")
			case quiet >= ping && now-c.lastPing >= ping:
				c.lastPing = now
				c.writeNow(l.frame(0x9, nil))
			}
		case stateClosing:
			if now > c.deadline {
				c.state = stateClosed
				c.setGone()
				_ = c.gc.Close()
			}
		}
	}
}

// gnetLogger sends gnet's logs to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...)) }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...)) }

// heapStats is the body of /debug/heap.
func heapStats() []byte {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b, _ := json.Marshal(map[string]uint64{
		"heap_inuse": m.HeapInuse, "heap_alloc": m.HeapAlloc, "num_gc": uint64(m.NumGC),
		"goroutines": uint64(runtime.NumGoroutine()), "sys": m.Sys,
	})
	return b
}

// DebugHeap is an HTTP handler answering runtime memory figures as JSON.
func DebugHeap(*dispatch.Request, []byte) Response {
	return Response{ContentType: "application/json", Body: heapStats()}
}

// DebugStats is an HTTP handler answering the server's and its hub's
// counters as JSON (snake_case names), for dashboards and benchmarks.
func (s *Server) DebugStats(*dispatch.Request, []byte) Response {
	st, h := &s.stats, s.hub.Stats()
	b, _ := json.Marshal(map[string]int64{
		"accepted": st.Accepted.Load(), "upgrades": st.Upgrades.Load(), "refused": st.Refused.Load(),
		"protocol_errors": st.ProtocolErrors.Load(), "slow_consumers": st.SlowConsumers.Load(),
		"handshake_timeouts": st.HandshakeTimeouts.Load(), "idle_timeouts": st.IdleTimeouts.Load(),
		"panics": st.Panics.Load() + h.Panics.Load(), "messages_in": s.MessagesIn(),
		"delivered": h.Delivered.Load(), "dropped": h.Dropped.Load(), "bad_events": h.BadEvents.Load(),
		"bad_args": h.BadArgs.Load(), "unknown_events": h.UnknownEvents.Load(),
		"unicast_failed": h.UnicastFailed.Load(), "publish_errors": h.PublishErrors.Load(),
		"remote_in": h.RemoteIn.Load(), "bad_envelopes": h.BadEnvelopes.Load(),
		"cluster_envelopes": h.ClusterEnvelopes.Load(), "cluster_messages": h.ClusterMessages.Load(),
		"cluster_round_trips": h.ClusterRoundTrips.Load(),
		"read_pauses":         st.ReadPauses.Load(), "throttled": st.Throttled.Load(), "held": st.Held.Load(),
		"inbound_overflows": st.InboundOverflows.Load(),
	})
	return Response{ContentType: "application/json", Body: b}
}
