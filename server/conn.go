package server

import (
	"sync/atomic"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/codec"
	"github.com/plezigo/plezi/dispatch"
	"github.com/plezigo/plezi/internal/bridge"
	"github.com/plezigo/plezi/internal/pool"
)

// conn is one TCP connection and, once upgraded, its websocket: one
// allocation (an idle connection costs what this struct is; keep it within
// the 112-byte size class — TestConnSize; dispatch's record of the
// websocket lives in the controller's Socket, and the decoder's frame
// state is pooled, held only while a message is in progress). Fields
// without a guard are loop-owned; its lifecycle is lifecycle.go's.
type conn struct {
	gc   gnet.Conn
	l    *loop
	http *httpState // while speaking HTTP; nil once upgraded
	dec  codec.Decoder
	sock *dispatch.Socket // once upgraded: dispatch's side of the websocket

	lastRead int64 // unix nanos, coarse
	lastPing int64
	deadline int64 // unix nanos, 0 = none: handshake, stream progress, closing, or (stateWS) the message in progress

	idx   int32 // index in l.conns
	dirty int32 // index+1 in l.dirty while c has deferred writes in this drain (batch.go); 0 = none
	flags atomic.Uint32
	tat   uint32 // inbound rate limit: when the input so far is paid for, loop clock µs (ratelimit.go)

	enc   codec.Encoder
	state state
}

// flags bits.
const (
	flagEnded      uint32 = 1 << iota // the websocket ended (lifecycle.go): Send and Close do nothing
	flagPaused                        // not read from until its loop resumes it (backpressure.go); loop-owned
	flagWatched                       // in its loop's watch list; loop-owned
	flagBacklogged                    // unsent output over the backlog mark; set and cleared by the loop
	flagHeld                          // a fan-out it caused reached a backlogged recipient; set by any goroutine
	flagMidMessage                    // the decoder is inside a data message; loop-owned
	flagInline                        // its route runs callbacks on the loop; set at the upgrade
	// queuedOne counts, in the bits above the flags, the write tasks for
	// the connection in its loop's inbox or in the batch being drained: a
	// write made inside an inline callback may be kept for the end of the
	// callback only while that count is 0, else it would overtake them.
	queuedOne
)

var _ bridge.Transport = (*conn)(nil)

// Send encodes a message for this connection and queues it.
// Concurrency-safe; payload is not retained.
func (c *conn) Send(op ws.OpCode, payload []byte) {
	if !c.Open() {
		return
	}
	b := pool.Get(len(payload) + 14)
	*b = c.enc.AppendMessage(*b, op, payload)
	c.l.msgsOut.Add(1)
	c.queue(b)
}

// SendPrepared queues a shared frame. Concurrency-safe.
func (c *conn) SendPrepared(p *codec.Prepared) {
	if !c.Open() {
		return
	}
	f := p.Frame(&c.enc)
	b := pool.Get(len(f))
	*b = append(*b, f...)
	c.l.msgsOut.Add(1)
	c.queue(b)
}

// queue hands an encoded frame to the loop (loop.queue). Concurrency-safe.
func (c *conn) queue(b *[]byte) { c.l.queue(c, b) }

// QueueCallback queues fn as an inline callback of c (dispatch's
// Transport): it runs on the loop, and what it writes to c is flushed when
// it returns, in the same drain. Concurrency-safe.
func (c *conn) QueueCallback(fn func()) { c.l.submit(task{fn: fn, c: c}) }

// Callback runs fn now as an inline callback of c (dispatch's Transport).
// Loop only.
func (c *conn) Callback(fn func()) { c.inCallback(fn) }

// inCallback runs fn as an inline callback of c: what is written to c
// meanwhile, with nothing queued before it, is staged on the loop and
// written when fn returns (loop.queue). Inside a callback of c already, fn
// just runs; inside another connection's, that one's staged frames are
// written first. Loop only.
func (c *conn) inCallback(fn func()) {
	l := c.l
	prev := l.cb
	if prev == c {
		fn()
		return
	}
	if b := l.swapCallback(c); b != nil {
		prev.write(b)
	}
	fn()
	if b := l.swapCallback(prev); b != nil {
		c.write(b)
	}
}

// write writes a queued frame: deferred to the end of the drain while the
// loop drains its inbox, or behind c's writes a split flush left (batch.go),
// else now. Loop only; b is released after.
func (c *conn) write(b *[]byte) {
	switch {
	case c.state != stateWS:
		pool.Put(b)
	case c.l.batching || c.deferring():
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
	if c.l.batching || c.deferring() {
		c.l.outMsgs++ // bytes are counted when written (writePending)
		c.l.deferWrite(c, p.Frame(&c.enc), nil)
		return
	}
	f := p.Frame(&c.enc)
	_, _ = c.gc.Write(f)
	c.l.countOut(1, len(f))
	c.checkOutbound()
}

// writeNow writes bytes from the loop now (control frames, HTTP
// responses), after anything staged or deferred for c. b may be scratch.
func (c *conn) writeNow(b []byte) {
	if c.l.cb == c {
		if s := c.l.swapCallback(c); s != nil {
			c.write(s)
		}
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
	c.l.srv.log.Debug("server: closing slow consumer", "id", c.sock.ID(), "buffered", c.gc.OutboundBuffered())
	// Nothing more is queued; the close frame follows the backlog, which
	// gnet keeps sending while the peer reads. Past CloseTimeout the socket
	// is dropped, so the memory held is bounded.
	c.closeWith(4008, "slow consumer")
}
