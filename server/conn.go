package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/pool"
)

type state uint8

const (
	stateHTTP    state = iota // reading a request head
	statePending              // a handler or PreConnect runs off the loop
	stateWS                   // websocket open
	stateClosing              // close frame sent, waiting for the peer's
	stateClosed
)

// conn is one TCP connection. Fields without a guard are loop-owned.
type conn struct {
	gc    gnet.Conn
	l     *loop
	idx   int32 // index in l.conns
	state state

	http     *httpState // while speaking HTTP; nil once upgraded
	dec      codec.Decoder
	enc      codec.Encoder
	dc       *dispatch.Conn
	lastRead int64 // unix nanos, coarse
	lastPing int64
	deadline int64 // handshake or closing deadline, unix nanos; 0 = none
	counted  bool  // counted in Server.wsCount

	mu          sync.Mutex
	out         *[]byte // staged frames from other goroutines; guarded by mu
	flushQueued bool    // guarded by mu
	inCB        bool    // guarded by mu: an inline callback runs; the loop flushes after it

	staged atomic.Bool // out != nil; lets the loop skip mu on its own writes
	gone   atomic.Bool // closed: Send and Close do nothing
}

var _ dispatch.Transport = (*conn)(nil)

func putBuf(b *[]byte) { pool.Put(b) }

// Send encodes a message for this connection and stages it.
// Concurrency-safe; payload is not retained.
func (c *conn) Send(op ws.OpCode, payload []byte) {
	if c.gone.Load() {
		return
	}
	c.mu.Lock()
	if c.out == nil {
		c.out = pool.Get(len(payload) + 14)
		c.staged.Store(true)
	}
	*c.out = c.enc.AppendMessage(*c.out, op, payload)
	c.scheduleLocked()
}

// SendPrepared stages a shared frame. Concurrency-safe.
func (c *conn) SendPrepared(p *codec.Prepared) {
	if c.gone.Load() {
		return
	}
	f := p.Frame(&c.enc)
	c.mu.Lock()
	if c.out == nil {
		c.out = pool.Get(len(f))
		c.staged.Store(true)
	}
	*c.out = append(*c.out, f...)
	c.scheduleLocked()
}

// scheduleLocked queues a flush unless one is queued, and unlocks mu.
func (c *conn) scheduleLocked() {
	queue := !c.flushQueued && !c.inCB
	c.flushQueued = c.flushQueued || queue
	c.mu.Unlock()
	if queue {
		c.l.submit(task{flush: c})
	}
}

// inline runs an inline callback; its writes are flushed once after it.
// Loop only.
func (c *conn) inline(fn func()) {
	c.mu.Lock()
	c.inCB = true
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	c.inCB = false
	c.mu.Unlock()
	if c.staged.Load() {
		c.flush()
	}
}

// flush writes the staged frames. Loop only.
func (c *conn) flush() {
	c.mu.Lock()
	b := c.out
	c.out = nil
	c.staged.Store(false)
	c.flushQueued = false
	c.mu.Unlock()
	if b == nil {
		return
	}
	if c.state == stateWS {
		_, _ = c.gc.Write(*b)
		c.checkOutbound()
	}
	pool.Put(b)
}

// SendOnLoop writes a shared frame now, after anything staged. Loop only.
func (c *conn) SendOnLoop(p *codec.Prepared) {
	if c.state != stateWS {
		return
	}
	if c.hasStaged() {
		c.flush()
	}
	_, _ = c.gc.Write(p.Frame(&c.enc))
	c.checkOutbound()
}

func (c *conn) hasStaged() bool { return c.staged.Load() }

// writeNow writes bytes from the loop (control frames, HTTP responses).
func (c *conn) writeNow(b []byte) {
	if c.hasStaged() {
		c.flush()
	}
	_, _ = c.gc.Write(b)
}

// checkOutbound closes a slow consumer whose unsent bytes pass the cap.
// Loop only.
func (c *conn) checkOutbound() {
	if c.gc.OutboundBuffered() <= c.l.srv.maxOutbound || c.state != stateWS {
		return
	}
	c.l.srv.stats.SlowConsumers.Add(1)
	c.l.srv.log.Debug("server: closing slow consumer", "id", c.dc.ID(), "buffered", c.gc.OutboundBuffered())
	// Nothing more is queued; the close frame follows the backlog, which
	// gnet keeps sending while the peer reads. Past CloseTimeout the socket
	// is dropped, so the memory held is bounded.
	c.closeWith(4008, "slow consumer")
}

// Close sends a close frame and closes. Concurrency-safe, idempotent.
func (c *conn) Close(code ws.StatusCode, reason string) {
	if c.gone.Load() {
		return
	}
	c.l.submit(task{fn: func() { c.closeWith(code, reason) }})
}

// closeWith starts the closing handshake: close frame out, wait for the
// peer's close until CloseTimeout. Loop only.
func (c *conn) closeWith(code ws.StatusCode, reason string) {
	if c.state != stateWS {
		return
	}
	c.writeNow(c.l.closeFrame(code, reason))
	c.state = stateClosing
	c.deadline = time.Now().Add(c.l.srv.cfg.CloseTimeout).UnixNano()
	c.closed(int(code), reason)
}

// fail answers a protocol error: close frame out, then a lingering close —
// input is read and dropped until the peer closes or CloseTimeout — so the
// peer reads our close frame instead of a reset. Loop only.
func (c *conn) fail(code ws.StatusCode, reason string) {
	if c.state != stateWS {
		return
	}
	c.dec.Release()
	c.dec = codec.Decoder{MaxMessage: c.l.srv.cfg.MaxMessage}
	c.closeWith(code, reason)
	c.deadline = c.l.now + int64(min(c.l.srv.cfg.CloseTimeout, time.Second))
}

// terminate sends a close frame and drops the connection without waiting
// (protocol errors, slow consumers). Loop only.
func (c *conn) terminate(code ws.StatusCode, reason string) {
	if c.state == stateWS {
		c.writeNow(c.l.closeFrame(code, reason))
		c.closed(int(code), reason)
	}
	c.state = stateClosed
	c.gone.Store(true)
	_ = c.gc.Close()
}

// closed tells dispatch once. Loop only.
func (c *conn) closed(code int, reason string) {
	if c.dc != nil {
		c.dc.Closed(code, reason)
	}
	if c.counted {
		c.counted = false
		c.l.srv.wsCount.Add(-1)
	}
}
