package server

import (
	"log/slog"
	"runtime"
	"time"

	"github.com/plezigo/plezi/dispatch"
)

// Config configures a Server. Zero values get the documented defaults,
// filled in by New.
type Config struct {
	Addr        string // listen address; default ":3000"
	MaxMessage  int64  // largest inbound message; default 1 MiB (→ close 1009)
	MaxHeader   int    // largest request head; default 16 KiB (→ 431)
	MaxBody     int64  // largest HTTP request body; default 1 MiB (→ 413)
	MaxOutbound int    // bytes queued for one connection before close 4008; default 4 MiB, at least 2 × MaxMessage
	// MaxConnections caps the node's TCP connections, websockets and plain
	// HTTP alike; one past it reads a 503 and is closed at accept (counted
	// in Stats.Refused). Default 0 = unlimited.
	MaxConnections int
	// MaxPendingOpens bounds connections accepted and handed to an event
	// loop whose OnOpen has not run yet; when it is reached accepting waits
	// for the loops (Stats.AcceptWaits). Default 1024 (16 B each).
	MaxPendingOpens int
	// MaxInbound bounds the unread input held for one connection while it
	// is not read from (paused, or waiting for a handler); past it the
	// connection is closed (websocket 1008) and counted. Default 2 MiB, at
	// least MaxHeader + MaxBody + 64 KiB (one whole request and a read).
	MaxInbound int
	// InboundMessages and InboundBytes are the rates a websocket
	// connection may send at (frames and bytes per second, control frames
	// included), and InboundBurst how far ahead of them it may run. A
	// connection over its rate is not read until it is back within them.
	// Defaults 10,000 frames/s, 4 MiB/s, 250 ms; -1 turns a rate off.
	InboundMessages int
	InboundBytes    int
	InboundBurst    time.Duration
	BacklogTimeout  time.Duration // unsent output over a quarter of MaxOutbound this long → close 4008; default 5 s
	// MaxHandlers bounds the plain HTTP handlers running at once (each on
	// a goroutine of its own, off the loops and the worker shards); one
	// more is answered 503 with Retry-After (Stats.HandlersBusy). The
	// built-in /healthz, /readyz, /plezi.js and /plezi.d.ts are answered on
	// the loop, outside it. Default 1024.
	MaxHandlers      int
	HandshakeTimeout time.Duration // until the upgrade request is complete; default 10 s
	PingInterval     time.Duration // ping a connection quiet for this long; default 30 s
	IdleTimeout      time.Duration // close a connection quiet for this long; default 75 s
	CloseTimeout     time.Duration // wait for the peer's close frame, or its TCP close after a failure; default 3 s
	// MessageTimeout bounds the time from a message's first frame header
	// to its last byte (fragmented, or one frame whose payload is still
	// arriving); past it the connection fails with 1008 (Stats.
	// MessageTimeouts). Traffic does not extend it. Default 30 s.
	MessageTimeout time.Duration
	// MaxPartialBytes caps the bytes held, node-wide, by messages still
	// arriving (Stats.PartialBytes); a connection whose message growth
	// passes it fails with 1013 (Stats.PartialOverflows). Default 64 MiB,
	// at least 4 × MaxMessage.
	MaxPartialBytes int64
	// StaticBuffer bounds the bytes a static file response keeps queued
	// ahead of its client: the file is read in chunks as the client drains
	// them (Stats.StaticWaits counts the waits). Default 256 KiB, at least
	// 64 KiB (one chunk).
	StaticBuffer    int
	ShutdownTimeout time.Duration // bound on draining at shutdown; default 10 s
	Compress        bool          // permessage-deflate when the client offers it
	Origins         []string      // allowed Origin values; empty allows all ("*" too)
	Loops           int           // event loops; default GOMAXPROCS, at most 256 (a connection id holds the loop in 8 bits)
	Workers         int           // dispatch worker shards; default 4 × GOMAXPROCS
	NoteWindow      int           // dispatch.HubConfig.NoteWindow: note ids a connection remembers per identity; default 256
	LockOSThread    bool          // pin each event loop to an OS thread
	// Procs is GOMAXPROCS while serving. 0 raises it, when lower, to Loops+1:
	// an event loop waits in epoll_wait inside a system call and keeps its P,
	// so with no spare P every goroutine (workers, Redis, timers) waits for
	// the runtime to take one back (20 µs to 10 ms, with a monitor thread
	// waking every 20 µs to do it). -1 leaves GOMAXPROCS alone. It is a
	// process-wide setting: Run sets it when it starts and puts the previous
	// value back when it returns.
	Procs int
	// DrainDelay is how long shutdown waits, still serving and accepting,
	// between /readyz turning 503 and the drain (listener closed, 1001
	// sent): time for a load balancer's probe to take the node out first.
	// Default 0.
	DrainDelay time.Duration
	// HandleSignals makes Run drain and return on SIGTERM or SIGINT (as
	// cmd/plezi does). Off by default: an embedder owns its process's
	// signals and stops Run by cancelling its context.
	HandleSignals bool
	ReusePort     bool   // SO_REUSEPORT, for several processes on one port
	Node          string // node id; random by default
	// Broker carries fan-out to the other nodes of a cluster; nil runs one
	// node alone. cluster.FromURL builds one from a URL (PL_REDIS_URL in
	// cmd/plezi): in process for "", Redis for redis://. The server never
	// closes it: its owner does, after Run returns.
	Broker        dispatch.Broker
	Identities    dispatch.Identities // default: Broker if it is one, else the hub's own in-process store
	ClusterSecret string              // signs and checks cluster envelopes (HMAC-SHA256)
	Logger        *slog.Logger
}

func (c *Config) fill() {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Addr == "" {
		c.Addr = ":3000"
	}
	if c.MaxMessage <= 0 {
		c.MaxMessage = 1 << 20
	}
	if c.MaxHeader <= 0 {
		c.MaxHeader = 16 << 10
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.MaxPendingOpens <= 0 {
		c.MaxPendingOpens = 1024
	}
	if c.MaxHandlers <= 0 {
		c.MaxHandlers = 1024
	}
	if c.MaxOutbound <= 0 {
		c.MaxOutbound = 4 << 20
	}
	c.fillInbound()
	def(&c.HandshakeTimeout, 10*time.Second)
	def(&c.PingInterval, 30*time.Second)
	def(&c.IdleTimeout, 75*time.Second)
	def(&c.CloseTimeout, 3*time.Second)
	def(&c.MessageTimeout, 30*time.Second)
	if c.MaxPartialBytes <= 0 {
		c.MaxPartialBytes = max(64<<20, 4*c.MaxMessage)
	}
	if c.StaticBuffer <= 0 {
		c.StaticBuffer = 256 << 10
	}
	c.StaticBuffer = max(c.StaticBuffer, staticChunk)
	def(&c.ShutdownTimeout, 10*time.Second)
	def(&c.BacklogTimeout, 5*time.Second)
	if c.Loops <= 0 {
		c.Loops = runtime.GOMAXPROCS(0)
	}
	c.Loops = min(c.Loops, 256)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// fillInbound fills the inbound limits (after MaxHeader and MaxBody).
func (c *Config) fillInbound() {
	least := c.MaxHeader + int(c.MaxBody) + 64<<10
	if c.MaxInbound <= 0 {
		c.MaxInbound = 2 << 20
	}
	c.MaxInbound = max(c.MaxInbound, least)
	if c.InboundMessages == 0 {
		c.InboundMessages = 10_000
	}
	if c.InboundBytes == 0 {
		c.InboundBytes = 4 << 20
	}
	if c.InboundBurst <= 0 {
		c.InboundBurst = 250 * time.Millisecond
	}
	c.InboundBurst = min(c.InboundBurst, maxBurst)
}

// procs is the GOMAXPROCS Run sets, or 0 to leave it.
func (c *Config) procs() int {
	switch {
	case c.Procs > 0:
		return c.Procs
	case c.Procs < 0:
		return 0
	}
	return max(runtime.GOMAXPROCS(0), c.Loops+1)
}

// tick is the sweep period: a quarter of the shortest timer, 10 ms..1 s.
func (c *Config) tick() time.Duration {
	t := min(c.HandshakeTimeout, c.PingInterval, c.IdleTimeout, c.CloseTimeout, c.MessageTimeout) / 4
	return max(10*time.Millisecond, min(t, time.Second))
}
