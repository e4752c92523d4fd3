package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/pool"
)

type state uint8

const (
	stateHTTP     state = iota // reading a request head
	statePending               // a handler or PreConnect runs off the loop
	stateStream                // a static file streams out as the client drains it (static.go)
	stateWS                    // websocket open
	stateClosing               // our close frame sent, waiting for the peer's
	stateLinger                // failed: our close frame flushes, then the write side shuts; input dropped unparsed until the peer closes or CloseTimeout
	stateFlushing              // done: TCP closes once the queued bytes are out (or at the deadline)
	stateClosed
)

// conn is one TCP connection and, once upgraded, its websocket: one
// allocation with dispatch's record inside (an idle connection costs what
// this struct is; keep it at 224 bytes, a size class — TestConnSize).
// Fields without a guard are loop-owned.
type conn struct {
	gc   gnet.Conn
	l    *loop
	http *httpState // while speaking HTTP; nil once upgraded
	dec  codec.Decoder

	lastRead int64 // unix nanos, coarse
	lastPing int64
	deadline int64 // unix nanos, 0 = none: handshake, stream progress, closing, or (stateWS) the message in progress

	mu  sync.Mutex
	out *[]byte // frames written inside an inline callback, flushed after it; guarded by mu

	idx   int32 // index in l.conns
	dirty int32 // index+1 in l.dirty while c has deferred writes in this drain (batch.go); 0 = none
	flags atomic.Uint32
	tat   uint32 // inbound rate limit: when the input so far is paid for, loop clock µs (ratelimit.go)

	enc     codec.Encoder
	state   state
	counted bool // counted in Server.wsCount
	inCB    bool // guarded by mu: an inline callback runs on the loop
	opened  bool // dc is registered (upgraded)

	dc dispatch.Conn // dispatch's record
}

// flags bits.
const (
	flagStaged     uint32 = 1 << iota // out != nil; lets the loop skip mu on its own writes
	flagGone                          // closed: Send and Close do nothing
	flagPaused                        // not read from until its loop resumes it (backpressure.go); loop-owned
	flagWatched                       // in its loop's watch list; loop-owned
	flagBacklogged                    // unsent output over the backlog mark; set and cleared by the loop
	flagHeld                          // a fan-out it caused reached a backlogged recipient; set by any goroutine
	flagMidMessage                    // the decoder is inside a data message; loop-owned
	// queuedOne counts, in the bits above the flags, the write tasks for
	// the connection in its loop's inbox or in the batch being drained: a
	// write made inside an inline callback may be kept for the end of the
	// callback only while that count is 0, else it would overtake them.
	queuedOne
)

func (c *conn) isGone() bool { return c.flags.Load()&flagGone != 0 }
func (c *conn) setGone()     { c.flags.Or(flagGone) }

func (c *conn) setStaged(on bool) {
	if on {
		c.flags.Or(flagStaged)
	} else {
		c.flags.And(^flagStaged)
	}
}

var _ dispatch.Transport = (*conn)(nil)

func putBuf(b *[]byte) { pool.Put(b) }

// Send encodes a message for this connection and queues it.
// Concurrency-safe; payload is not retained.
func (c *conn) Send(op ws.OpCode, payload []byte) {
	if c.isGone() {
		return
	}
	b := pool.Get(len(payload) + 14)
	*b = c.enc.AppendMessage(*b, op, payload)
	c.l.msgsOut.Add(1)
	c.queue(b)
}

// SendPrepared queues a shared frame. Concurrency-safe.
func (c *conn) SendPrepared(p *codec.Prepared) {
	if c.isGone() {
		return
	}
	f := p.Frame(&c.enc)
	b := pool.Get(len(f))
	*b = append(*b, f...)
	c.l.msgsOut.Add(1)
	c.queue(b)
}

// queue hands an encoded frame to the loop. Writes reach a connection in
// the order they entered the loop's inbox, whatever primitive made them
// (fan-out tasks, unicasts, direct writes). Inside an inline callback, with
// nothing queued before it (no write task of c waiting, in the inbox or
// later in the batch the loop drains), the frame is kept on the connection
// and written when the callback returns, with no task and no wake-up.
func (c *conn) queue(b *[]byte) {
	c.mu.Lock() // lock order: conn.mu, then loop.mu (in idle)
	if c.inCB && c.flags.Load() < queuedOne && c.l.idle() {
		if c.out == nil {
			c.out = b
		} else {
			*c.out = append(*c.out, *b...)
			pool.Put(b)
		}
		c.setStaged(true)
		c.mu.Unlock()
		return
	}
	c.flags.Add(queuedOne)
	c.mu.Unlock()
	c.l.submit(task{c: c, buf: b})
}

// Run queues fn as an inline callback of c (dispatch.Transport): it runs
// on the loop, and what it writes to c is flushed when it returns, in the
// same drain. Concurrency-safe.
func (c *conn) Run(fn func()) { c.l.submit(task{fn: fn, c: c}) }

// inline runs an inline callback; what it wrote is flushed after it.
// Loop only.
func (c *conn) inline(fn func()) {
	c.mu.Lock()
	c.inCB = true
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	c.inCB = false
	c.mu.Unlock()
	if c.hasStaged() {
		c.flush()
	}
}

// flush writes the frames kept during an inline callback. Loop only.
func (c *conn) flush() {
	c.mu.Lock()
	b := c.out
	c.out = nil
	c.setStaged(false)
	c.mu.Unlock()
	if b != nil {
		c.write(b)
	}
}

// write writes a queued frame: deferred to the end of the drain while the
// loop drains its inbox, else now. Loop only; b is released after.
func (c *conn) write(b *[]byte) {
	switch {
	case c.state != stateWS:
		pool.Put(b)
	case c.l.batching:
		c.l.deferWrite(c, *b, b)
	default:
		_, _ = c.gc.Write(*b)
		c.l.countOut(0, len(*b))
		c.checkOutbound()
		pool.Put(b)
	}
}

// SendOnLoop writes a shared frame from the loop (fan-out tasks): deferred
// to the end of the drain, like every write made while draining. Loop only.
func (c *conn) SendOnLoop(p *codec.Prepared) {
	if c.state != stateWS {
		return
	}
	if c.l.batching {
		c.l.outMsgs++ // bytes are counted when written (writePending)
		c.l.deferWrite(c, p.Frame(&c.enc), nil)
		return
	}
	f := p.Frame(&c.enc)
	_, _ = c.gc.Write(f)
	c.l.countOut(1, len(f))
	c.checkOutbound()
}

func (c *conn) hasStaged() bool { return c.flags.Load()&flagStaged != 0 }

// writeNow writes bytes from the loop now (control frames, HTTP
// responses), after anything staged or deferred for c. b may be scratch.
func (c *conn) writeNow(b []byte) {
	if c.hasStaged() {
		c.flush()
	}
	c.writePending()
	_, _ = c.gc.Write(b)
	c.l.countOut(0, len(b))
}

// checkOutbound marks a websocket whose unsent bytes pass the backlog mark
// as backlogged, and closes a slow consumer whose unsent bytes pass the
// cap. Loop only.
func (c *conn) checkOutbound() {
	n := c.gc.OutboundBuffered()
	if n <= c.l.srv.bp.backlogMark || c.state != stateWS {
		return
	}
	c.backlog()
	if n <= c.l.srv.maxOutbound {
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
	if c.isGone() {
		return
	}
	c.l.submit(task{fn: func() { c.closeWith(code, reason) }})
}

// closeWith starts the closing handshake: close frame out, wait for the
// peer's close until CloseTimeout, then close TCP as soon as it comes.
// Loop only.
func (c *conn) closeWith(code ws.StatusCode, reason string) {
	if c.state != stateWS {
		return
	}
	c.writeNow(c.l.closeFrame(code, reason))
	c.state = stateClosing
	c.deadline = time.Now().Add(c.l.srv.cfg.CloseTimeout).UnixNano()
	c.closed(int(code), reason)
}

// fail fails the connection (protocol error, message deadline, partial
// cap): the decoder stops parsing for good, our close frame goes out
// (unless one already did), then a lingering close. In stateClosing
// (unreadable input after our close) only the linger follows. The caller
// settles the partial-message accounting (readFrames does). Loop only.
func (c *conn) fail(code ws.StatusCode, reason string) {
	switch c.state {
	case stateWS:
		c.dec.Abort()
		c.writeNow(c.l.closeFrame(code, reason))
		c.linger()
		c.closed(int(code), reason)
	case stateClosing:
		c.dec.Abort()
		c.linger()
	}
}

// linger shuts our write side once the close frame is flushed and drops
// input unparsed until the peer closes TCP or CloseTimeout: the peer reads
// our close frame and then EOF at once, never a reset (closing with
// unread input would send one), and the rest of a bad frame is never read
// as frames. Loop only.
func (c *conn) linger() {
	c.state = stateLinger
	c.setGone()
	c.deadline = time.Now().Add(c.l.srv.cfg.CloseTimeout).UnixNano()
	if !c.shutWrite() {
		c.l.waitDrain(c)
	}
}

// shutWrite half-closes the socket (our FIN) when gnet has nothing left
// to send; false while bytes are queued. Loop only.
func (c *conn) shutWrite() bool {
	if c.gc.OutboundBuffered() > 0 {
		return false
	}
	_ = unix.Shutdown(c.gc.Fd(), unix.SHUT_WR)
	return true
}

// closeAfterFlush closes TCP now when nothing is queued, else once gnet
// has sent the queue (gnet's own close sends only what the socket takes at
// once), bounded by timeout. Input meanwhile is dropped. Loop only.
func (c *conn) closeAfterFlush(timeout time.Duration) {
	c.setGone()
	if c.gc.OutboundBuffered() == 0 {
		c.state = stateClosed
		_ = c.gc.Close()
		return
	}
	c.state = stateFlushing
	c.deadline = time.Now().Add(timeout).UnixNano()
	c.l.waitDrain(c)
}

// drop closes TCP at once, whatever is queued. Loop only.
func (c *conn) drop() {
	c.state = stateClosed
	c.setGone()
	_ = c.gc.Close()
}

// closed tells dispatch once. Loop only.
func (c *conn) closed(code int, reason string) {
	if c.opened {
		c.dc.Closed(code, reason)
	}
	if c.counted {
		c.counted = false
		c.l.srv.wsCount.Add(-1)
	}
}
