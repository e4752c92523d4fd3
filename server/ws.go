package server

import (
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/plezigo/plezi/codec"
)

// readBatch reads every buffered frame. On inline routes the callbacks'
// writes are staged and flushed once for the whole batch: one write per
// read, not one per message. Loop only, from OnTraffic.
func (c *conn) readBatch() gnet.Action {
	if c.flags.Load()&flagInline == 0 {
		return c.readFrames()
	}
	var a gnet.Action
	c.inCallback(func() { a = c.readFrames() })
	return a
}

// statusTryAgainLater is close code 1013 (IANA registry): the node is
// short of room, the message itself may be fine; a client may retry.
const statusTryAgainLater ws.StatusCode = 1013

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
// c may read, then settles the bytes its partial message holds. Loop only.
func (c *conn) readFrames() gnet.Action {
	held := c.dec.PartialBytes()
	c.l.reading = c
	c.l.bytesIn.Add(int64(c.parseFrames()))
	c.l.reading = nil
	c.trackPartial(held)
	return gnet.None
}

// parseFrames runs the decoder over the buffered input, a window at a
// time, and returns the bytes it parsed. Loop only.
func (c *conn) parseFrames() (parsed int) {
	for c.state == stateWS || c.state == stateClosing {
		buf, _ := c.gc.Peek(min(c.gc.InboundBuffered(), peekWindow))
		if len(buf) == 0 {
			return parsed
		}
		n, step := c.frames(buf)
		if n > 0 {
			_, _ = c.gc.Discard(n) // n > 0: gnet discards everything for n <= 0
			parsed += n
		}
		if step == stepWait {
			return parsed
		}
		if step == stepDrop {
			break
		}
	}
	if c.state != stateClosed {
		_, _ = c.gc.Discard(-1)
	}
	return parsed
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
			if c.state == stateWS {
				c.l.srv.stats.ProtocolErrors.Add(1)
			}
			c.fail(codec.CloseCodeOf(err), err.Error())
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

// trackPartial moves the node-wide count of bytes held by partial
// messages by c's change since held was read, fails c with 1013 when its
// growth passes MaxPartialBytes, and starts or clears the deadline of the
// message in progress (stateWS only: elsewhere deadline is the close's).
// Loop only.
func (c *conn) trackPartial(held int) {
	s := c.l.srv
	if d := int64(c.dec.PartialBytes() - held); d != 0 {
		if s.stats.PartialBytes.Add(d) > s.cfg.MaxPartialBytes && d > 0 {
			s.stats.PartialOverflows.Add(1)
			c.unaccountPartial()
			c.fail(statusTryAgainLater, "server busy: too many partial messages")
			return
		}
	}
	if c.state != stateWS {
		return
	}
	switch in := c.dec.InMessage(); {
	case !in:
		c.deadline = 0
	case c.deadline == 0:
		c.deadline = time.Now().Add(s.cfg.MessageTimeout).UnixNano()
	}
}

// unaccountPartial takes c's partial message out of the node-wide count
// before its decoder lets the buffer go, outside readFrames (which settles
// its own). Loop only.
func (c *conn) unaccountPartial() {
	if n := c.dec.PartialBytes(); n > 0 {
		c.l.srv.stats.PartialBytes.Add(-int64(n))
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
		dsp.Receive(c.sock, ev.Payload, ev.Kind == codec.KindBinary)
	case codec.KindPing:
		if c.state == stateWS {
			c.writeNow(c.l.frame(ws.OpPong, ev.Payload))
			c.checkOutbound() // pongs count toward the cap
		}
	case codec.KindClose:
		c.onClose(ev)
	}
}

// onClose answers the peer's close frame; with both closes exchanged TCP
// closes as soon as ours is flushed. Loop only.
func (c *conn) onClose(ev *codec.Event) {
	if c.state == stateWS {
		code := ev.CloseCode
		if code == ws.StatusNoStatusRcvd {
			c.writeNow(emptyCloseFrame)
		} else {
			c.writeNow(c.l.closeFrame(code, ""))
		}
		c.toEnded(stateFlushing, code, string(ev.CloseReason))
		c.closeAfterFlush(c.l.srv.cfg.CloseTimeout)
		return
	}
	c.closeAfterFlush(c.l.srv.cfg.CloseTimeout)
}
