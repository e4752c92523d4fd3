package server

import (
	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/codec"
)

// readBatch reads every buffered frame. On inline routes the callbacks'
// writes are staged and flushed once for the whole batch: one write per
// read, not one per message. Loop only, from OnTraffic.
func (c *conn) readBatch() gnet.Action {
	if !c.opened || !c.dc.Route().Inline() {
		return c.readFrames()
	}
	var a gnet.Action
	c.inline(func() { a = c.readFrames() })
	return a
}

// peekWindow is the most input parsed per Peek. With input waiting in
// gnet's buffer (a paused connection), Peek copies what it returns when the
// buffer is not contiguous: a bounded window, consumed whole, keeps that
// copy to once per byte.
const peekWindow = 256 << 10

// readStep is how a window of input ended.
type readStep uint8

const (
	stepWait readStep = iota // more bytes are needed, or c is paused: keep the rest
	stepMore                 // the window is used up: peek again
	stepDrop                 // the connection is done with its input: drop it
)

// readFrames parses every complete frame buffered for c, in place, while
// c may read. Loop only.
func (c *conn) readFrames() gnet.Action {
	for c.state == stateWS || c.state == stateClosing {
		buf, _ := c.gc.Peek(min(c.gc.InboundBuffered(), peekWindow))
		if len(buf) == 0 {
			return gnet.None
		}
		n, step := c.frames(buf)
		if n > 0 {
			_, _ = c.gc.Discard(n) // n > 0: gnet discards everything for n <= 0
		}
		if step == stepWait {
			return gnet.None
		}
		if step == stepDrop {
			break
		}
	}
	_, _ = c.gc.Discard(-1)
	return gnet.None
}

// frames handles the frames in buf, a window of c's input; n is how many
// bytes were consumed. Loop only.
func (c *conn) frames(buf []byte) (n int, step readStep) {
	for n < len(buf) {
		if c.state != stateWS && c.state != stateClosing {
			return n, stepDrop
		}
		if c.state == stateWS && !c.mayRead() {
			return n, stepWait
		}
		ev, k, err := c.dec.Next(buf[n:])
		if err != nil {
			if c.state != stateClosing { // after our close frame, unreadable input is dropped
				c.l.srv.stats.ProtocolErrors.Add(1)
				c.fail(codec.CloseCodeOf(err), err.Error())
			}
			return n, stepDrop
		}
		if ev.Kind != codec.KindNone {
			c.onFrame(&ev)
		}
		if k == 0 { // need more bytes
			if n == 0 {
				return n, stepWait
			}
			return n, stepMore
		}
		n += k
		c.charge(k, ev.Kind != codec.KindNone)
		c.midMessage(ev.Kind)
	}
	return n, stepMore
}

// midMessage notes whether the decoder is inside a data message after an
// event (KindNone: part of one was consumed). Loop only.
func (c *conn) midMessage(k codec.Kind) {
	mid := c.flags.Load()&flagMidMessage != 0
	switch {
	case k == codec.KindNone && !mid:
		c.flags.Or(flagMidMessage)
	case (k == codec.KindText || k == codec.KindBinary) && mid:
		c.flags.And(^flagMidMessage)
	}
}

// onFrame handles one event from the decoder; ev's payload is valid until
// the bytes are discarded. Loop only.
func (c *conn) onFrame(ev *codec.Event) {
	switch ev.Kind {
	case codec.KindText, codec.KindBinary:
		if c.state != stateWS {
			return
		}
		c.l.msgsIn.Add(1)
		c.dc.Receive(ev.Payload, ev.Kind == codec.KindBinary)
	case codec.KindPing:
		if c.state == stateWS {
			c.writeNow(c.l.frame(ws.OpPong, ev.Payload))
			c.checkOutbound() // pongs count toward the cap
		}
	case codec.KindClose:
		c.onClose(ev)
	}
}

// onClose answers the peer's close frame and closes the socket. Loop only.
func (c *conn) onClose(ev *codec.Event) {
	if c.state == stateWS {
		code := ev.CloseCode
		if code == ws.StatusNoStatusRcvd {
			c.writeNow(c.l.frame(ws.OpClose, nil))
		} else {
			c.writeNow(c.l.closeFrame(code, ""))
		}
		c.closed(int(code), string(ev.CloseReason))
	}
	c.state = stateClosed
	c.setGone()
	_ = c.gc.Close()
}
