package server

import (
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// A connection's life is one state machine, here: c.state, owned by its
// loop and changed only by to and toEnded. The loop reads c.state as a
// field; other goroutines learn only whether the websocket has ended
// (flagEnded, published by the transition): Send and Close do nothing
// after it, and dispatch's Transport.Open says false. Leaving stateWS is
// the websocket's end, handled once, in toEnded: it leaves the websocket
// count and dispatch hears the close code (dispatch.End takes it out of
// the loop's table, then OnClose runs).
//
//	HTTP ⇄ Pending (a handler or PreConnect off the loop), HTTP → Stream → HTTP,
//	HTTP → WS → Closing | Linger | Flushing | Closed,
//	Closing → Linger | Flushing | Closed, Linger | Flushing → Closed,
//	any → Flushing (a response's last bytes) | Closed (dropped, or gnet's OnClose)

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

// to moves c to state s. Loop only. Leaving stateWS this way ends the
// websocket with 1006 (no close frame): use toEnded for a known close.
func (c *conn) to(s state) { c.toEnded(s, ws.StatusAbnormalClosure, "") }

// toEnded moves c to state s; when that leaves stateWS, the websocket
// ends with code and reason: the end is published (flagEnded), the
// websocket count drops and dispatch is told. Loop only.
func (c *conn) toEnded(s state, code ws.StatusCode, reason string) {
	was := c.state
	c.state = s
	if s <= stateWS {
		return
	}
	c.flags.Or(flagEnded)
	if was == stateWS {
		c.l.srv.wsCount.Add(-1)
		dsp.End(c.sock, int(code), reason)
	}
}

// gone reports whether c is done: failed, flushing its last bytes or
// closed. Loop only.
func (c *conn) gone() bool { return c.state >= stateLinger }

// Open reports whether the websocket is still open (dispatch's
// Transport). Concurrency-safe.
func (c *conn) Open() bool { return c.flags.Load()&flagEnded == 0 }

// Close sends a close frame and closes (dispatch's Transport).
// Concurrency-safe, idempotent.
func (c *conn) Close(code ws.StatusCode, reason string) {
	if !c.Open() {
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
	c.toEnded(stateClosing, code, reason)
	c.deadline = time.Now().Add(c.l.srv.cfg.CloseTimeout).UnixNano()
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
		c.toEnded(stateLinger, code, reason)
		c.linger()
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
	c.to(stateLinger)
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
	if c.gc.OutboundBuffered() == 0 {
		c.drop()
		return
	}
	c.to(stateFlushing)
	c.deadline = time.Now().Add(timeout).UnixNano()
	c.l.waitDrain(c)
}

// drop closes TCP at once, whatever is queued: the one way the server
// closes a connection (gnet's OnClose follows). Loop only.
func (c *conn) drop() {
	c.to(stateClosed)
	_ = c.gc.Close()
}

// closeIdleHTTP closes the connections waiting for a request (the server
// drains). Loop only.
func (l *loop) closeIdleHTTP() {
	for i := len(l.conns) - 1; i >= 0; i-- {
		if c := l.conns[i]; c.state == stateHTTP {
			c.drop()
		}
	}
}
